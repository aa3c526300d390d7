"""Rule-based entity extraction and normalisation (es/en/pt).

All rules run on ``fold(text)`` (same length as the text), so spans index the original text.
Values follow docs/nlp-catalogue.md: ISO dates, integers for counts, lower-case catalogue values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from .dates import extract_dates
from .numbers import NUM_RE, to_int
from .textnorm import fold


@dataclass
class Entity:
    type: str
    value: str | int
    text: str
    start: int
    end: int
    confidence: float = 1.0

    def as_dict(self) -> dict[str, object]:
        return {
            "type": self.type,
            "value": self.value,
            "text": self.text,
            "start": self.start,
            "end": self.end,
        }


ROOM_TYPES: dict[str, str] = {
    "individual": "single", "sencilla": "single", "sencillo": "single", "simple": "single",
    "single": "single", "solteiro": "single", "singel": "single", "individuales": "single",
    "doble": "double", "dobles": "double", "matrimonial": "double", "matrimonio": "double",
    "double": "double", "casal": "double", "de casal": "double", "king": "double",
    "queen": "double", "king size": "double", "queen size": "double", "duplo": "double",
    "cama grande": "double", "double bed": "double", "cama de casal": "double",
    "twin": "twin", "dos camas": "twin", "camas separadas": "twin", "duas camas": "twin",
    "two beds": "twin", "2 camas": "twin", "2 beds": "twin", "two single beds": "twin",
    "two twin beds": "twin", "camas de solteiro": "twin", "dos camas individuales": "twin",
    "2 camas individuales": "twin", "twin beds": "twin", "separate beds": "twin",
    "suite": "suite", "suites": "suite", "suit": "suite", "junior suite": "suite",
    "familiar": "family", "family": "family", "familia": "family", "cuadruple": "family",
    "quadruple": "family", "family room": "family", "habitacion familiar": "family",
    "quarto familia": "family", "quarto familiar": "family", "triple": "family",
}  # fmt: skip

AMENITIES: dict[str, str] = {
    "wifi": "wifi", "wi-fi": "wifi", "wi fi": "wifi", "wify": "wifi", "wiffi": "wifi",
    "internet": "wifi", "wireless": "wifi", "wlan": "wifi",
    "estacionamiento": "parking", "aparcamiento": "parking", "cochera": "parking",
    "garaje": "parking", "garage": "parking", "parking": "parking", "estacionamento": "parking",
    "parqueadero": "parking", "parqueo": "parking", "garagem": "parking", "car park": "parking",
    "parqueamento": "parking", "aparcar": "parking", "estacionar": "parking",
    "park the car": "parking", "park my car": "parking", "vaga de garagem": "parking",
    "piscina": "pool", "pileta": "pool", "alberca": "pool", "pool": "pool",
    "swimming pool": "pool", "picina": "pool",
    "desayuno": "breakfast", "desayunos": "breakfast", "breakfast": "breakfast",
    "cafe da manha": "breakfast", "pequeno-almoco": "breakfast", "pequeno almoco": "breakfast",
    "desayuno incluido": "breakfast", "breakfast included": "breakfast", "desalluno": "breakfast",
    "gimnasio": "gym", "gym": "gym", "academia": "gym", "gimnacio": "gym",
    "fitness": "gym", "fitness center": "gym", "gimnasia": "gym",
    "spa": "spa", "masajes": "spa", "masaje": "spa", "massagem": "spa", "massagens": "spa",
    "massage": "spa", "sauna": "spa", "jacuzzi": "spa",
    "restaurante": "restaurant", "restaurant": "restaurant", "restorante": "restaurant",
    "traslado al aeropuerto": "airport_shuttle", "traslado": "airport_shuttle",
    "transfer": "airport_shuttle", "shuttle": "airport_shuttle",
    "transfer do aeroporto": "airport_shuttle", "airport shuttle": "airport_shuttle",
    "airport transfer": "airport_shuttle", "traslado desde el aeropuerto": "airport_shuttle",
    "transporte al aeropuerto": "airport_shuttle", "transfer al aeropuerto": "airport_shuttle",
    "transfer ao aeroporto": "airport_shuttle", "traslados": "airport_shuttle",
    "aire acondicionado": "air_conditioning", "air conditioning": "air_conditioning",
    "ar-condicionado": "air_conditioning", "ar condicionado": "air_conditioning",
    "aire": "air_conditioning", "a/c": "air_conditioning", "air conditioner": "air_conditioning",
    "air-conditioning": "air_conditioning", "climatizacion": "air_conditioning",
    "minisplit": "air_conditioning",
}  # fmt: skip


def _alternation(words: dict[str, str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_ROOM_RE = re.compile(rf"(?<![\w-])(?:{_alternation(ROOM_TYPES)})(?![\w-])")
_AMENITY_RE = re.compile(rf"(?<![\w-])(?:{_alternation(AMENITIES)})(?![\w-])")
# "AC" only in capitals in the original text.
_AC_RE = re.compile(r"\b(?:AC|A\.C\.)(?!\w)")

# Typo-tolerant single-word lookups (edit distance 1 for words of 6+ letters).
_FUZZY_ROOM = {w: v for w, v in ROOM_TYPES.items() if " " not in w and len(w) >= 6}
_FUZZY_AMENITY = {w: v for w, v in AMENITIES.items() if " " not in w and len(w) >= 6}
_FUZZY_STOP = {
    "simples", "familia", "familias", "singles", "parking", "traslado", "doble",
    # verbs one letter away from an amenity: "apartar" (reserve) ~ "aparcar",
    # "transfere"/"transferi" (put me through) ~ "transfer".
    "apartar", "apartas", "aparta", "transfer", "transfere", "transferi", "transfers", "transferir",
}  # fmt: skip
# "transfer me to reservations" / "transfiera la llamada" is about a person, not the shuttle.
_TRANSFER_TO_PERSON_RE = re.compile(
    r"\s+(?:me|us|my\s+call|the\s+call|this\s+call|you)\b|"
    r"[^.!?\n]{0,30}\b(?:human|person|agent|recep|reserva|front\s+desk|someone|somebody|staff|"
    r"manager|operator|atendente|humano|persona|pessoa|alguien|alguem)"
)


def _edit1(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion, substitution or transposition."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


_WORD = re.compile(r"[a-z]+")


@lru_cache(maxsize=8192)
def _fuzzy_lookup(word: str) -> tuple[str, str] | None:
    for table, etype in ((_FUZZY_ROOM, "room_type"), (_FUZZY_AMENITY, "amenity")):
        for k, v in table.items():
            if abs(len(k) - len(word)) <= 1 and _edit1(word, k):
                return etype, v
    return None


_NIGHTS_RE = re.compile(
    rf"\b(?P<n>{NUM_RE}|un\s+par\s+de|a\s+couple\s+of|couple\s+of)\s+(?:solas?\s+|single\s+|sola\s+)?(?:noches|noche|nights?|"
    r"noites?|nts|nites?|noxes)\b"
)
_ADULTS_NOUN_RE = re.compile(
    rf"\b(?P<n>{NUM_RE})\s+(?:adultos?|adults?|personas?|people|persons?|pax|huespedes|"
    r"huespedes|guests?|pessoas?|hospedes|gente|peoples|adultas?|mayores|grown-?ups)\b"
)
_CHILDREN_RE = re.compile(
    rf"\b(?P<n>{NUM_RE})\s+(?:ninos|nino|ninas|nina|nenes|nene|hijos|hijo|hijas|chicos|"
    r"kids?|children|child|criancas|crianca|filhos|filho|menores|menor|bebes|bebe|babies|baby|"
    r"peques|chamacos|pibes|infants?|toddlers?|crios|crio|criaturas|nenas|nena|chiquitos|"
    r"chicas|hijitos|teens?|teenagers?|adolescentes|menininos|meninos|meninas|bebezinhos)\b"
)
_TOTAL_CUE_RE = re.compile(
    rf"\b(?:somos|seremos|seriamos|vamos\s+a\s+ser|agora\s+somos|ahora\s+somos|we\s+are|"
    rf"we're|we\s+will\s+be|we'll\s+be|we\s+would\s+be|there\s+are|there\s+will\s+be|"
    rf"seremos|seriam|seremos\s+em|somos\s+em|now\s+we\s+are)\s+(?P<n>{NUM_RE})\b"
    r"(?!\s*(?:noches?|nights?|noites?|dias?|days?|ninos?|kids?|children|criancas?|hijos?|"
    r"filhos?|menores|bebes?|crios|pareja|couple|casal))"
)
_ALONE_AFTER_ONE = re.compile(r"\s*(?:$|[^\w\s]|(?:y|e|and|solo|sola|only)\b)")
_OF_US_RE = re.compile(rf"\b(?P<n>{NUM_RE})\s+(?:of\s+us|de\s+nosotros|de\s+nos)\b")
_ADULTS_CUE_RE = re.compile(
    rf"\b(?:para|pra|for|somos|seremos|vamos|we\s+are|we're|were|we\s+will\s+be|"
    rf"we'll\s+be|seriamos|seremos|estamos|party\s+of|table\s+for)\s+(?P<n>{NUM_RE})\b"
    r"(?!\s*(?:noches?|nights?|noites?|dias?|days?|semanas?|weeks?|horas?|hours?|de\s|"
    r"del\s|of\s|/|-\d|:|am\b|pm\b|euros?|habitacion|rooms?|quartos?|camas?|beds?|ninos?|"
    r"kids?|children|criancas?|hijos?|filhos?|menores|bebes?))"
)
_COUPLE_RE = re.compile(
    r"\b(?:una\s+pareja|a\s+couple|um\s+casal|mi\s+pareja\s+y\s+yo|mi\s+esposa\s+y\s+yo|"
    r"mi\s+esposo\s+y\s+yo|mi\s+mujer\s+y\s+yo|mi\s+marido\s+y\s+yo|my\s+wife\s+and\s+i|"
    r"my\s+husband\s+and\s+i|my\s+partner\s+and\s+i|eu\s+e\s+minha\s+esposa|"
    r"eu\s+e\s+meu\s+marido|eu\s+e\s+minha\s+mulher|eu\s+e\s+meu\s+namorado|"
    r"eu\s+e\s+minha\s+namorada|mi\s+novia\s+y\s+yo|mi\s+novio\s+y\s+yo|"
    r"(?:me|myself)\s+and\s+my\s+(?:wife|husband|partner|girlfriend|boyfriend|fiancee?)|"
    r"my\s+(?:wife|husband|partner|girlfriend|boyfriend|fiancee?)\s+and\s+(?:me|myself)|"
    r"(?:yo|para\s+mi)\s+y\s+mi\s+(?:esposa|esposo|mujer|marido|pareja|novia|novio)|"
    r"(?:mim|eu)\s+e\s+(?:a\s+|o\s+)?(?:minha|meu)\s+(?:esposa|esposo|mulher|marido|"
    r"namorada|namorado|companheira|companheiro|noiva|noivo))\b"
    r"(?!\s+(?:de|of)\s)"
)

# One guest: "just me", "solo yo", "só eu", "viajo sola", "I'm travelling alone".
_SOLO_RE = re.compile(
    r"\b(?:just\s+me|only\s+me|me\s+alone|just\s+myself|(?:i\s+am|i'm|im)\s+(?:travell?ing\s+)?"
    r"alone|travell?ing\s+alone|by\s+myself|solo\s+yo|yo\s+solo|yo\s+sola|solamente\s+yo|"
    r"viajo\s+sol[oa]|voy\s+sol[oa]|estoy\s+sol[oa]|para\s+mi\s+sol[oa]|para\s+una\s+sola\s+"
    r"persona|so\s+eu|somente\s+eu|apenas\s+eu|eu\s+sozinh[oa]|viajo\s+sozinh[oa]|"
    r"vou\s+sozinh[oa]|estou\s+sozinh[oa]|para\s+mim\s+sozinh[oa])\b"
)
# A complaint, by what the guest wants put right: charged twice, a refund, or a bad experience.
_COMPLAINT_RES = (
    (
        "double_charge",
        re.compile(
            r"\b(?:charged\s+(?:me\s+|my\s+card\s+|us\s+)?twice|double[\s-]?charged?|"
            r"charged\s+two\s+times|cobr\w*\s+(?:\w+\s+){0,3}(?:dos|duas)\s+veces|"
            r"cobr\w*\s+(?:\w+\s+){0,3}(?:dos|duas)\s+vezes|cobr\w*\s+(?:\w+\s+){0,2}doble|"
            r"doble\s+cobro|cobro\s+doble|cobranca\s+duplicada|cobrado\s+em\s+dobro|"
            r"cobraram\s+em\s+dobro|cargo\s+duplicado|twice\s+on\s+my\s+card)\b"
        ),
    ),
    (
        "refund",
        re.compile(
            r"\b(?:refund|money\s+back|reembols\w*|devuelv\w*\s+(?:el\s+|la\s+|mi\s+)?"
            r"(?:dinero|plata|importe|pago)|devolucion|devolver\s+(?:el\s+|la\s+|mi\s+)?"
            r"(?:dinero|plata)|estorno|dinheiro\s+de\s+volta|devolv\w*\s+(?:o\s+|meu\s+)?dinheiro)\b"
        ),
    ),
    (
        "complaint",
        re.compile(
            r"\b(?:complain\w*|complaint|unacceptable|disgusting|terrible\s+(?:stay|service|room)|"
            r"queja|quejarme|reclamacion|reclamo|inaceptable|pesimo|una\s+verguenza|"
            r"reclamacao|inaceitavel|pessimo|uma\s+vergonha|vergonhoso)\b"
        ),
    ),
)
# Asking for a person anywhere in a message: to be called back, or to talk to someone.
_PERSON_RES = (
    (
        "call_back",
        re.compile(
            r"\b(?:(?:someone|somebody|anyone|anybody|you)\s+(?:could\s+|can\s+|please\s+)?"
            r"(?:call|ring|phone)\s+me|call\s+me\s+back|give\s+me\s+a\s+call|"
            r"(?:me\s+)?(?:puede|podria|pueden|podrian)\s+llamar|llam\w*me|que\s+me\s+llame\w*|"
            r"me\s+llame\w*|me\s+llamen|pode\w*\s+me\s+ligar|me\s+lig\w+|ligar\s+pra\s+mim|"
            r"ligar\s+para\s+mim)\b"
        ),
    ),
    (
        "person",
        re.compile(
            r"\b(?:(?:talk|speak|chat)\s+(?:to|with)\s+(?:a\s+|an\s+|some)?(?:person|human|"
            r"someone|somebody|agent|manager|staff|receptionist|real\s+person)|a\s+human|"
            r"real\s+person|(?:hablar|comunicarme|contactar)\s+con\s+(?:una\s+persona|alguien|"
            r"un\s+humano|un\s+agente|el\s+encargado|el\s+gerente|recepcion|una\s+persona\s+real)|"
            r"(?:con\s+)?una\s+persona\s+real|un\s+humano|(?:falar|conversar)\s+com\s+"
            r"(?:uma\s+pessoa|alguem|um\s+humano|um\s+atendente|atendente|o\s+gerente|a\s+recepcao)|"
            r"um\s+atendente|uma\s+pessoa\s+de\s+verdade|put\s+me\s+through|transfer\s+me|"
            r"(?:me\s+)?pas(?:as|a|e|en|ame|ar)\s+con\s+(?:una\s+persona|alguien|un\s+humano|"
            r"un\s+agente|recepcion)|me\s+(?:transfere|passa|passe)\s+(?:pra|para)\s+"
            r"(?:uma\s+pessoa|alguem|um\s+atendente|atendente|um\s+humano))\b"
        ),
    ),
)
# Tonight: a one-night stay starting today ("for tonight", "para esta noche", "hoje à noite").
_TONIGHT_RE = re.compile(
    r"\b(?:tonight|esta\s+noche|esta\s+noite|hoje\s+a\s+noite|(?:for\s+)?the\s+night\s+of|"
    r"(?:para\s+|por\s+)?la\s+noche\s+del?|(?:para\s+|pra\s+)?a\s+noite\s+d[eo]|"
    r"na\s+noite\s+d[eo])\b"
)
# Adding children to a stay: "add a child", "añadir un niño", "incluir uma criança".
_ADD_CHILD_RE = re.compile(
    rf"\b(?:add|adding|include|anadir|agregar|sumar|incluir|adicionar|acrescentar)\s+"
    rf"(?P<n>{NUM_RE}|a|an)\s+(?:more\s+)?(?:child|children|kids?|ninos?|ninas?|nenes?|"
    rf"criancas?|filhos?|bebes?|baby)\b"
)
# A past stay described badly is a complaint, not a maintenance request for now.
_PAST_STAY_RE = re.compile(
    r"\b(?:estuve|estuvimos|me\s+aloje|nos\s+alojamos|me\s+hospede|nos\s+hospedamos|"
    r"(?:i|we)\s+stayed|during\s+(?:my|our)\s+stay|fiquei|ficamos|me\s+hospedei|"
    r"nos\s+hospedamos|durante\s+(?:mi|nuestra|minha|nossa)\s+estadia)\b"
)
_BAD_RE = re.compile(
    r"\b(?:suci[oa]s?|dirty|filthy|sujo|suja|rot[oa]|broken|quebrad[oa]|no\s+funcionaba|"
    r"didn'?t\s+work|did\s+not\s+work|nao\s+funcionava|ruido|noisy|noise|barulho|"
    r"horrible|terrible|awful|pesim[oa]|pessim[oa]|mal\s+atendid[oa]|rude|maleducad[oa]|"
    r"grosser[oa]|cucarachas?|cockroach\w*|baratas?|chinches|bed\s*bugs?)\b"
)
# Extending a stay: "one more night", "una noche más", "mais uma noite", "two extra nights".
_EXTRA_NIGHTS_RE = re.compile(
    rf"\b(?:(?P<a>{NUM_RE})\s+(?:more|extra|additional)\s+nights?|an\s+extra\s+night|"
    rf"another\s+night|(?P<b>{NUM_RE})\s+noches?\s+mas|otra\s+noche|"
    rf"(?:mais|outra)\s+(?P<c>{NUM_RE})?\s*noites?|(?P<d>{NUM_RE})\s+noites?\s+a\s+mais|"
    rf"uma\s+noite\s+a\s+mais|noche\s+extra|noite\s+extra)\b"
)

_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PHONE_RE = re.compile(r"(?<![\w+])(?:\+|00)?\d[\d ().\-]{6,18}\d(?!\w)")
_REF_CODE_RE = re.compile(r"(?<![\w-])[A-Za-z]{1,4}-?\d{3,10}(?![\w-])")
_REF_HASH_RE = re.compile(r"#\s?(?P<d>[A-Za-z0-9-]{3,12})\b")
_REF_LETTERS_RE = re.compile(r"(?<![\w-])[A-Z]{9}(?![\w-])")
_REF_NUM_RE = re.compile(r"(?<![\w+#/.\-])\d{4,10}(?![\w/.\-])")
_REF_CUE_RE = re.compile(
    r"(?:reserva|reservacion|reservation|booking|book|ref|referencia|reference|localizador|"
    r"codigo|code|numero|number|num|nro|no\.?|n[o°]|confirmacion|confirmation|confirmacao|"
    r"pedido|order|orden|id|reserve|locator|conf)\b[^.!?\n]{0,20}$"
)
_PHONE_CUE_RE = re.compile(
    r"(?:telefono|tel|phone|movil|celular|cel|whatsapp|wsp|wpp|llamar|call|mobile|contacto|"
    r"contact|numero\s+de\s+(?:telefono|celular|contacto)|telemovel|fone)\b[^.!?\n]{0,20}$"
)

_NAME_CUE_RE = re.compile(
    r"\b(?:me\s+llamo|mi\s+nombre\s+es|nombre\s*:|a\s+nombre\s+de|al\s+nombre\s+de|"
    r"my\s+name\s+is|my\s+name's|name\s*:|under\s+the\s+name(?:\s+of)?|in\s+the\s+name\s+of|"
    r"under|me\s+chamo|meu\s+nome\s+e|nome\s*:|em\s+nome\s+de|no\s+nome\s+de|a\s+nome\s+de|"
    r"soy|i\s+am|i'm|im|this\s+is|aqui\s+(?:es|e)|sou\s+(?:o|a)|sou|habla|les\s+escribe|"
    r"te\s+escribe|name\s+is|nombre\s+de|reserva\s+de|booking\s+for|reserva\s+para|"
    r"reserva\s+em\s+nome\s+de|se\s+llama|is\s+named|chamado|chamada|reservation\s+for|"
    r"booked\s+for|reserva\s+de|reserva\s+do|reserva\s+da|booking\s+under|reserva\s+a)\s+"
)
_STRONG_NAME_CUES = (
    "llamo",
    "nombre",
    "name",
    "chamo",
    "nome",
    "escribe",
    "habla",
    "llama",
    "named",
    "chamad",
)
_NAME_STOP = {
    "de", "del", "la", "el", "y", "e", "and", "a", "o", "the", "en", "in", "from", "para",
    "por", "con", "with", "quiero", "quisiera", "want", "would", "need", "necesito", "tengo",
    "have", "gostaria", "quero", "preciso", "tenho", "vou", "voy", "will", "going", "looking",
    "buscando", "interesado", "interesada", "interested", "here", "aqui", "un", "una", "um",
    "uma", "an", "muy", "very", "mto", "nuevo", "nueva", "new", "novo", "cliente", "guest",
    "huesped", "hospede", "tambien", "also", "writing", "escribiendo", "so", "tan", "bien",
    "mal", "good", "fine", "ok", "not", "no", "nao", "sorry", "perdon", "desculpe", "calling",
    "staying", "hospedado", "hospedada", "alojado", "alojada", "trying", "ready", "listo",
    "lista", "sure", "seguro", "just", "solo", "only", "da", "do", "dos", "das",
    "habitacion", "room", "quarto", "favor", "please", "at", "on", "your", "su",
    "tu", "vosso", "seu", "sua", "me", "my", "mi", "meu", "minha", "que", "q", "if", "si", "se",
    "estoy", "estou", "am", "is", "es", "son", "sao", "are", "was", "era", "fui", "ha", "he",
    "has", "been", "sido", "pra", "como", "how", "what", "cual", "qual", "when",
    "cuando", "quando", "where", "donde", "onde", "who", "quien", "quem", "todo", "all", "tudo",
    "hola", "hello", "hi", "ola", "oi", "buenas", "buenos", "bom", "boa", "gracias", "thanks",
    "obrigado", "obrigada", "reserva", "reservation", "booking", "sr", "sra", "mr", "mrs", "ms",
}  # fmt: skip
_PARTICLES = {"de", "da", "do", "dos", "das", "del", "la", "las", "los", "van", "von", "der", "di"}
_HONORIFIC = re.compile(r"(?:sr|sra|srta|mr|mrs|ms|dr|dra|don|dona|dona)\.?\s+", re.I)
_NAME_TOKEN = re.compile(r"[^\W\d_][^\W\d_'\-]*(?:[-'][^\W\d_]+)*", re.UNICODE)


def _num_value(tok: str) -> int | None:
    stripped = tok.strip()
    if re.match(r"(?:un\s+par\s+de|a\s+couple\s+of|couple\s+of)$", stripped):
        return 2
    return to_int(stripped)


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(not (end <= a or start >= b) for a, b in spans)


def _extract_names(text: str, folded_text: str, taken: list[tuple[int, int]]) -> list[Entity]:
    out: list[Entity] = []
    for match in _NAME_CUE_RE.finditer(folded_text):
        cue = match.group(0)
        strong = any(c in cue for c in _STRONG_NAME_CUES) or "nombre de" in cue
        pos = match.end()
        honorific = _HONORIFIC.match(text, pos)
        if honorific:
            pos = honorific.end()
        words: list[tuple[int, int]] = []
        while len(words) < 4:
            spaces = re.compile(r"[ \t]*").match(text, pos)
            token_start = spaces.end() if spaces else pos
            token = _NAME_TOKEN.match(text, token_start)
            if not token or (words and token_start == pos):
                break
            word = token.group(0)
            low = fold(word)
            capital = word[:1].isupper()
            if low in _PARTICLES and words:
                # "María de la Cruz", "João da Silva": particles then a capitalised word
                after_particles = token.end()
                parts = [(token.start(), token.end())]
                while True:
                    nxt = re.compile(r"[ \t]+").match(text, after_particles)
                    if not nxt:
                        break
                    next_token = _NAME_TOKEN.match(text, nxt.end())
                    if not next_token:
                        break
                    if fold(next_token.group(0)) in _PARTICLES:
                        parts.append((next_token.start(), next_token.end()))
                        after_particles = next_token.end()
                        continue
                    if next_token.group(0)[:1].isupper():
                        parts.append((next_token.start(), next_token.end()))
                        after_particles = next_token.end()
                    break
                if text[parts[-1][0]].isupper() and len(parts) > 1:
                    words.extend(parts)
                    pos = after_particles
                    continue
                break
            if low in _NAME_STOP:
                break
            if not capital and not strong:
                break
            if not capital and len(words) >= 2:
                break
            words.append((token.start(), token.end()))
            pos = token.end()
        # drop a trailing particle
        while words and fold(text[words[-1][0] : words[-1][1]]) in (
            "de",
            "da",
            "do",
            "dos",
            "del",
            "la",
        ):
            words.pop()
        if not words:
            continue
        start, end = words[0][0], words[-1][1]
        if _overlaps(taken, start, end):
            continue
        if not strong:
            if not all(text[a].isupper() for a, _ in words):
                continue
            global _COMMON
            if not _COMMON:
                _COMMON = _common_words()
            from .dates import MONTHS, WEEKDAYS

            folded = [fold(text[a:b]) for a, b in words]
            if any(
                w in _COMMON or w in MONTHS or w in WEEKDAYS or w in ROOM_TYPES or w in AMENITIES
                for w in folded
            ):
                continue
        out.append(Entity("person_name", text[start:end], text[start:end], start, end, 0.9))
        taken.append((start, end))
    return out


_BARE_NAME = re.compile(
    r"^\s*((?:[^\W\d_][^\W\d_'\-]+\s+){1,3}[^\W\d_][^\W\d_'\-]+)\s*(?:[.,;:!]|$)"
)


def _common_words() -> set[str]:
    from .langid import LEXICON

    words = set(_NAME_STOP)
    for ws in LEXICON.values():
        words.update(ws.split())
    return words


_COMMON: set[str] = set()


def _bare_name(text: str, ents: list[Entity]) -> Entity | None:
    """A message that is only a name ("Robert Miller"), or a name before contact details
    ("Sarah Johnson, sarah@x.com, +44 ...")."""
    global _COMMON
    match = _BARE_NAME.match(text)
    if not match:
        return None
    rest = text[match.end(1) :].strip(" .,;:!")
    if rest and not any(e.type in ("email", "phone") and e.start >= match.end(1) for e in ents):
        return None
    words = match.group(1).split()
    if not all(w[:1].isupper() for w in words):
        return None
    if not _COMMON:
        _COMMON = _common_words()
    from .dates import MONTHS, WEEKDAYS

    if any(fold(w) in _COMMON or fold(w) in MONTHS or fold(w) in WEEKDAYS for w in words):
        return None
    start, end = match.start(1), match.end(1)
    return Entity("person_name", text[start:end], text[start:end], start, end, 0.7)


def extract_entities(text: str, reference: date, *, bare_ref_ok: bool = False) -> list[Entity]:
    """All entities in ``text``; ``bare_ref_ok`` accepts a lone number as a booking reference."""
    folded = fold(text)
    ents: list[Entity] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, value: str | int, start: int, end: int, conf: float = 1.0) -> None:
        ents.append(Entity(kind, value, text[start:end], start, end, conf))
        taken.append((start, end))

    for match in _EMAIL_RE.finditer(text):
        add("email", match.group(0).lower(), match.start(), match.end())

    # Booking references before phones and dates: "HB-4821", "#10452", "XKBKNABJK".
    for match in _REF_CODE_RE.finditer(text):
        if _overlaps(taken, match.start(), match.end()):
            continue
        tok = match.group(0)
        letters = re.match(r"[A-Za-z]+", tok)
        if letters is None:
            continue
        # Codes need a dash or upper-case letters: "HB-4821", "HB4821"; not "h2", "t-5".
        if "-" not in tok and not letters.group(0).isupper():
            continue
        if fold(letters.group(0)) in (
            "de",
            "del",
            "al",
            "el",
            "la",
            "to",
            "a",
            "e",
            "y",
            "n",
            "no",
            "nr",
        ):
            continue
        add("booking_ref", tok.upper() if tok[0].isupper() else tok, match.start(), match.end())
    for match in _REF_HASH_RE.finditer(text):
        if _overlaps(taken, match.start(), match.end()):
            continue
        add("booking_ref", match.group("d"), match.start(), match.end())
    upper_words = re.findall(r"\b[A-Z]{3,}\b", text)
    shouting = len(upper_words) >= 3
    for match in _REF_LETTERS_RE.finditer(text):
        if _overlaps(taken, match.start(), match.end()):
            continue
        cue = _REF_CUE_RE.search(folded[max(0, match.start() - 40) : match.start()])
        if shouting and not cue:
            continue
        if not re.search(r"[^AEIOU]{4}", match.group(0)) and not cue:
            continue  # an ordinary shouted word ("HABITACAO") rather than a code
        add("booking_ref", match.group(0), match.start(), match.end())
    phone_like = [
        (m.start(), m.end())
        for m in _PHONE_RE.finditer(text)
        if 9 <= len(re.sub(r"\D", "", m.group(0))) <= 15 and re.search(r"[ ().\-]", m.group(0))
    ]
    for match in _REF_NUM_RE.finditer(text):
        if _overlaps(taken, match.start(), match.end()):
            continue
        if any(
            ps <= match.start() and match.end() <= pe and pe - ps > match.end() - match.start()
            for ps, pe in phone_like
        ):
            continue  # a group of a phone number written with spaces or dashes
        before = folded[max(0, match.start() - 40) : match.start()]
        number = match.group(0)
        if (1900 <= int(number) <= 2100 and len(number) == 4) and not _REF_CUE_RE.search(before):
            continue  # a year
        if _PHONE_CUE_RE.search(before) and len(number) >= 7:
            continue
        if _REF_CUE_RE.search(before) or (bare_ref_ok and folded.strip(" .#!?") == number):
            add("booking_ref", number, match.start(), match.end())

    for match in _PHONE_RE.finditer(text):
        start, end = match.start(), match.end()
        if _overlaps(taken, start, end):
            continue
        raw = match.group(0)
        digits = re.sub(r"\D", "", raw)
        if len(digits) < 9 or len(digits) > 15:
            continue
        if re.fullmatch(r"\d{1,2}[/\-.]\d{1,2}(?:[/\-.]\d{2,4})?", raw.strip()):
            continue
        value = (
            ("+" + digits[2:] if raw.startswith("00") else "+" + digits)
            if raw.startswith(("+", "00"))
            else digits
        )
        add("phone", value, start, end)

    try:
        dates = extract_dates(folded, reference)
    except OverflowError:
        # A reference date or a stay at the end of the calendar (year 9999): no bookable date.
        dates = []
    for date_entity in dates:
        if _overlaps(taken, date_entity.start, date_entity.end) and not (
            date_entity.type == "check_out"
            and any(x.type == "check_in" and x.start == date_entity.start for x in ents)
        ):
            continue
        ents.append(
            Entity(
                date_entity.type,
                date_entity.value.isoformat(),
                text[date_entity.start : date_entity.end],
                date_entity.start,
                date_entity.end,
            )
        )
        taken.append((date_entity.start, date_entity.end))

    for match in _NIGHTS_RE.finditer(folded):
        start, end = match.start("n"), match.end("n")
        if _overlaps(taken, start, end):
            continue
        amount = _num_value(match.group("n"))
        if amount:
            add("nights", amount, start, end)
    for match in _CHILDREN_RE.finditer(folded):
        start, end = match.start("n"), match.end("n")
        if _overlaps(taken, start, end):
            continue
        amount = _num_value(match.group("n"))
        if amount is not None:
            add("children", amount, start, end)
    if not any(x.type == "adults" for x in ents):
        for match in _COUPLE_RE.finditer(folded):
            if not _overlaps(taken, match.start(), match.end()):
                add("adults", 2, match.start(), match.end())
                break
    # A total ("somos 3", "we are 4", "3 of us") wins over a count of added people.
    for rx in (_TOTAL_CUE_RE, _OF_US_RE):
        for match in rx.finditer(folded):
            start, end = match.start("n"), match.end("n")
            if _overlaps(taken, start, end) or any(x.type == "adults" for x in ents):
                continue
            amount = _num_value(match.group("n"))
            if amount and amount <= 30:
                add("adults", amount, start, end)
    for match in _ADULTS_NOUN_RE.finditer(folded):
        start, end = match.start("n"), match.end("n")
        if _overlaps(taken, start, end) or any(x.type == "adults" for x in ents):
            continue
        amount = _num_value(match.group("n"))
        if amount == 1 and not match.group("n").isdigit():
            # "una persona" counts guests only after "para"/"for"/"somos" or alone, not in
            # "hablar con una persona" / "talk to a person".
            before = folded[:start].rstrip()
            if before and not re.search(
                r"(?:\bpara|\bpra|\bfor|\bsolo|\bjust|\bonly|\bsomos)$", before
            ):
                continue
        if amount:
            add("adults", amount, start, end)
    if not any(x.type == "adults" for x in ents):
        for match in _ADULTS_CUE_RE.finditer(folded):
            start, end = match.start("n"), match.end("n")
            if _overlaps(taken, start, end):
                continue
            amount = _num_value(match.group("n"))
            if (
                amount == 1
                and not match.group("n").isdigit()
                and not _ALONE_AFTER_ONE.match(folded[end:])
            ):
                continue  # "pra um atendente", "for a moment": an article, not a count
            if amount and amount <= 30:
                add("adults", amount, start, end)
                break

    if not any(x.type == "adults" for x in ents):
        for match in _SOLO_RE.finditer(folded):
            if not _overlaps(taken, match.start(), match.end()):
                add("adults", 1, match.start(), match.end())
                break
    for match in _EXTRA_NIGHTS_RE.finditer(folded):
        # "una noche más" is an extension, not a one-night stay: it replaces the nights read.
        ents[:] = [
            x
            for x in ents
            if not (x.type == "nights" and x.start < match.end() and match.start() < x.end)
        ]
        extra = next((g for g in match.group("a", "b", "c", "d") if g), "")
        extra_n = _num_value(extra) if extra else 1
        if extra_n:
            add("extra_nights", extra_n, match.start(), match.end())
            break
    tonight = _TONIGHT_RE.search(folded)
    if tonight and not any(x.type == "nights" for x in ents):
        start, end = tonight.start(), tonight.end()
        ents.append(Entity("nights", 1, text[start:end], start, end, 0.9))
    mt_child = _ADD_CHILD_RE.search(folded)
    if mt_child:
        count = mt_child.group("n")
        added = 1 if count in ("a", "an") else _num_value(count)
        if added:
            ents[:] = [x for x in ents if x.type != "children"]
            ents.append(
                Entity(
                    "add_children",
                    added,
                    text[mt_child.start() : mt_child.end()],
                    mt_child.start(),
                    mt_child.end(),
                    1.0,
                )
            )
    for kind, rx in _PERSON_RES:
        asked = rx.search(folded)
        if asked:
            ents.append(
                Entity("person", kind, text[asked.start() : asked.end()], *asked.span(), 1.0)
            )
            break
    past, bad = _PAST_STAY_RE.search(folded), _BAD_RE.search(folded)
    if past and bad:
        start, end = min(past.start(), bad.start()), max(past.end(), bad.end())
        ents.append(Entity("complaint", "complaint", text[start:end], start, end, 0.9))
    for kind, rx in _COMPLAINT_RES:
        grief = rx.search(folded)
        if grief:
            ents.append(
                Entity("complaint", kind, text[grief.start() : grief.end()], *grief.span(), 1.0)
            )

    for match in _ROOM_RE.finditer(folded):
        if _overlaps(taken, match.start(), match.end()):
            continue
        add("room_type", ROOM_TYPES[match.group(0)], match.start(), match.end())
    for match in _AMENITY_RE.finditer(folded):
        if _overlaps(taken, match.start(), match.end()):
            continue
        word = match.group(0)
        if word == "aire" and re.match(r"\s+(?:libre|fresco)", folded[match.end() :]):
            continue
        if word == "transfer" and _TRANSFER_TO_PERSON_RE.match(folded[match.end() :]):
            continue
        add("amenity", AMENITIES[word], match.start(), match.end())
    for match in _AC_RE.finditer(text):
        if not _overlaps(taken, match.start(), match.end()):
            add("amenity", "air_conditioning", match.start(), match.end())
    # Typos: "matrimonal", "individul", "estacionamento", "desayuo".
    for match in _WORD.finditer(folded):
        candidate = match.group(0)
        if (
            len(candidate) < 6
            or candidate in _FUZZY_STOP
            or _overlaps(taken, match.start(), match.end())
        ):
            continue
        hit = _fuzzy_lookup(candidate)
        if hit:
            add(hit[0], hit[1], match.start(), match.end(), 0.8)

    # One entity per catalogue value: "estacionar? osea cochera" is one parking question.
    seen: set[tuple[str, str | int]] = set()
    deduped = []
    for x in sorted(ents, key=lambda x: x.start):
        if x.type in ("amenity", "room_type"):
            if (x.type, x.value) in seen:
                continue
            seen.add((x.type, x.value))
        deduped.append(x)
    ents[:] = deduped
    ents.extend(_extract_names(text, folded, taken))
    if not any(x.type == "person_name" for x in ents):
        bare = _bare_name(text, ents)
        if bare:
            ents.append(bare)
    ents.sort(key=lambda x: (x.start, x.type))
    return ents
