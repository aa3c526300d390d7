"""Text normalisation.

Two forms are used:

* ``fold(text)`` keeps the length of the text (one output character per input character):
  lower-case, accents removed. Entity rules run on it, so their offsets are offsets in the
  guest's original text.
* ``normalise_for_intent(text, language)`` is free to change the length: it folds, squeezes
  letters repeated for emphasis ("holaaa"), and expands common WhatsApp abbreviations
  ("xfa", "q", "finde", "vc", "pls"). The intent classifier and the language identifier see it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_KEEP = {"ñ": "n", "Ñ": "n", "ç": "c", "Ç": "c"}


@lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    if c in _KEEP:
        return _KEEP[c]
    if c.isascii():
        return c.lower()
    base = "".join(ch for ch in unicodedata.normalize("NFD", c) if not unicodedata.combining(ch))
    low = base.lower() if base else c.lower()
    if len(low) != 1:
        low = low[:1] if low else " "
    if low in "¿¡":
        return " "
    # Typographic quotes/dashes to ASCII so rules see one form.
    return {"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "º": "o", "ª": "a"}.get(
        low, low
    )


def fold(text: str) -> str:
    """Lower-case and strip accents, keeping exactly one character per input character."""
    return "".join(_fold_char(c) for c in text)


# Abbreviations seen in WhatsApp messages. Keys are folded tokens.
_ABBREV_COMMON = {
    "pls": "please",
    "plz": "please",
    "plis": "please",
    "thx": "thanks",
    "thnx": "thanks",
    "thks": "thanks",
    "tks": "thanks",
    "ty": "thank you",
    "u": "you",
    "ur": "your",
    "r": "are",
    "wanna": "want to",
    "gonna": "going to",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tomorow": "tomorrow",
    "rm": "room",
    "info": "informacion",
    "hab": "habitacion",
    "habs": "habitaciones",
    "hbt": "habitacion",
    "q": "que",
    "ke": "que",
    "xq": "porque",
    "pq": "porque",
    "porq": "porque",
    "xk": "porque",
    "x": "por",
    "xfa": "por favor",
    "xfavor": "por favor",
    "porfa": "por favor",
    "porfis": "por favor",
    "pf": "por favor",
    "pfv": "por favor",
    "pfvr": "por favor",
    "tb": "tambien",
    "tmb": "tambien",
    "tmbn": "tambien",
    "tbn": "tambien",
    "finde": "fin de semana",
    "fds": "fim de semana",
    "d": "de",
    "dnd": "donde",
    "cdo": "cuando",
    "cuanto": "cuanto",
    "qto": "cuanto",
    "qnto": "cuanto",
    "cuant": "cuanto",
    "bn": "bien",
    "grax": "gracias",
    "grcs": "gracias",
    "grs": "gracias",
    "grasias": "gracias",
    "graciass": "gracias",
    "msj": "mensaje",
    "msg": "mensaje",
    "tel": "telefono",
    "cel": "celular",
    "nro": "numero",
    "num": "numero",
    "vc": "voce",
    "vcs": "voces",
    "tbm": "tambem",
    "obg": "obrigado",
    "obgd": "obrigado",
    "obgda": "obrigada",
    "brigado": "obrigado",
    "vlw": "valeu",
    "blz": "beleza",
    "pra": "para",
    "pro": "para o",
    "td": "tudo",
    "tdb": "tudo bem",
    "hj": "hoje",
    "qdo": "quando",
    "qnd": "quando",
    "n": "nao",
    "nn": "nao",
    "s": "sim",
    "ss": "sim",
    "mto": "muito",
    "mt": "muito",
    "oq": "o que",
    "cmg": "comigo",
    "aki": "aqui",
    "ok": "ok",
    "okey": "ok",
    "okk": "ok",
    "oka": "ok",
    "okis": "ok",
    "okas": "ok",
    "oks": "ok",
    "okok": "ok",
    "k": "ok",
    "kk": "ok",
    "dale": "dale",
    "okay": "ok",
    "oki": "ok",
    "hrs": "horas",
    "hr": "hora",
    "min": "minutos",
    "wifi": "wifi",
    "wi": "wi",
    "flw": "falou",
    "noup": "no",
    "nop": "no",
    "nopes": "no",
    "sip": "si",
    "sipo": "si",
    "namaste": "hello",
    "wena": "buena",
    "wenas": "buenas",
    "hla": "hola",
    "bno": "bueno",
    "ud": "usted",
    "uds": "ustedes",
    "dsp": "despues",
    "pal": "para el",
    "pa": "para",
    "xd": "",
    "recamara": "habitacion",
    "pieza": "habitacion",
    "cuarto": "habitacion",
    "checkin": "check in",
    "checkout": "check out",
    "check-in": "check in",
    "check-out": "check out",
}

_TOKEN = re.compile(r"[a-z0-9@#+_'\-]+|[^\sa-z0-9]", re.UNICODE)
_REPEAT = re.compile(r"([a-z])\1{2,}")


def squeeze_repeats(text: str) -> str:
    """'holaaaa' -> 'hola', 'siiii' -> 'si' (runs of 3+ of the same letter become one)."""
    return _REPEAT.sub(r"\1", text)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def normalise_for_intent(text: str) -> str:
    """Folded, squeezed, abbreviation-expanded text as a space-separated token string."""
    t = squeeze_repeats(fold(text))
    out: list[str] = []
    for tok in tokens(t):
        # Numbers carry little intent signal but their shape does ("10452" vs "2").
        if tok.isdigit():
            out.append("qqnum" if len(tok) <= 2 else "qqlongnum")
            continue
        norm = _ABBREV_COMMON.get(tok, tok)
        if norm:
            out.append(norm)
    words = " ".join(out)
    extra = concept_tokens(words.split())
    return f"{words} {' '.join(extra)}" if extra else words


# Concept tokens: words of one meaning across es/en/pt (and regional variants) add a shared
# token, so what the classifier learns from one language's examples helps the others, and
# an unseen synonym ("apartar", "trocar") still lands on its intent.
_CONCEPTS: dict[str, str] = {}
for _concept, _words in {
    "price": "precio precios cuesta cuestan costo costos cuanto cuanta cobran cobra cobrais tarifa "
    "tarifas price prices pricing cost costs rate rates charge charges quanto custa custam valor "
    "valores preco precos diaria diarias cotizacion quote presupuesto orcamento sale salen "
    "expensive caro cara barato cheap descuento descuentos desconto descontos discount discounts "
    "promo promocion promocao oferta ofertas deal deals tariff plata",
    "avail": "disponibilidad disponible disponibles libre libres lugar cupo vacancy vacancies "
    "available availability free disponivel disponiveis disponibilidade vaga vagas espacio",
    "book": "reservar reservame reservarme reservemos apartar apartame book reserve fechar "
    "reservo reservamos reservem resérvame agendar separar separen separame marcar bloquear "
    "reservala reservamela",
    "cancel": "cancelar cancela cancelen cancelo cancelacion cancelamento anular anulen anula "
    "borrar borren cancel cancelled canceled cancellation cancelling desistir desmarcar cancelem",
    "modify": "cambiar cambio cambien modificar modifica mover muevan correr adelantar atrasar "
    "agregar anadir sumar change modify move reschedule alterar alteracao mudar trocar adicionar "
    "extender prolongar extend postpone posponer adiar upgrade acrescentar adelantar push "
    "ajustar",
    "status": "confirmada confirmado confirmacion confirmacao estado status confirmed "
    "confirmation pendiente pendente pending registrada registrado resumen comprobante voucher "
    "recibi recebi received llego llega chegou chega reenviar reenvien resend acredito",
    "where": "donde ubicacion ubicados ubicado direccion queda quedan where address location "
    "located directions onde fica ficam endereco localizacao mapa map cerca perto near distancia "
    "distance lejos longe llegar chegar whereabouts bairro barrio",
    "policy": "mascotas mascota perro perros gato pets pet dog dogs fumar smoking smoke animais "
    "animal cachorro politica politicas policy policies tarjeta efectivo card cash cartao "
    "dinheiro pix horario horarios deposito",
    "late": "late later tarde tardio tardia",
    "service": "toallas toalla limpieza limpiar sabanas almohada almohadas taxi roto rota "
    "arreglar towels towel cleaning clean sheets pillow pillows broken fix toalhas toalha limpeza "
    "limpar lencol lencois travesseiro quebrado quebrada conserto consertar despertar acordar "
    "housekeeping papel jabon shampoo sabonete",
    "human": "humano humana persona alguien agente asesor recepcion recepcionista operador "
    "human person someone agent representative staff reception atendente pessoa alguem gerente "
    "manager encargado real transfiera transfierame transfere transferir transfer comunica "
    "comunicame comuniqueme comunique",
    "amen": "wifi piscina pileta alberca pool desayuno breakfast gimnasio gym academia spa "
    "estacionamiento parking estacionamento cochera garaje restaurante restaurant carro coche "
    "estacionar aparcar",
}.items():
    for _w in _words.split():
        _CONCEPTS[_w] = _concept


def concept_tokens(tokens_: list[str]) -> list[str]:
    seen: list[str] = []
    for t in tokens_:
        c = _CONCEPTS.get(t)
        if c and c not in seen:
            seen.append(c)
    return [f"__c_{c}" for c in seen]
