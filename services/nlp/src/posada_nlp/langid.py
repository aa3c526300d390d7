"""Language identification for es/en/pt, built for two-word WhatsApp messages.

A multinomial naive Bayes over character 1-4-grams of each word (with word boundaries) and
whole words, trained on the training examples plus a built-in lexicon of everyday words of
each language. Letters only one language uses (ñ, ¿, ¡ for Spanish; ã, õ, ç for Portuguese)
are strong cues. Messages with no evidence (numbers, "ok") fall back to a default language.
Offline, pure Python, a few hundred KB of counts stored in the model artifact.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

from .textnorm import fold, squeeze_repeats

LANGS = ("es", "en", "pt")

# Everyday words by language (folded). Words that two languages share are left out.
LEXICON: dict[str, str] = {
    "es": (
        "hola buenas buenos dias tardes noches gracias muchas muchisimas quiero quisiera queria "
        "necesito tienen tenes tiene hay habitacion habitaciones cuarto cuanto cuesta cuestan "
        "precio precios reservar reserva reservacion cancelar cambiar fecha fechas noche "
        "manana pasado hoy semana finde fin viernes sabado lunes martes miercoles jueves "
        "donde esta estan queda llegar hotel desayuno piscina estacionamiento aparcamiento "
        "toallas limpieza ayuda persona hablar con alguien si claro vale dale perfecto genial "
        "chao chau chaito adios hasta luego nos vemos saludos porfa favor puedo pueden podria "
        "usted ustedes vosotros nosotros somos estamos llegamos salimos salida entrada "
        "mascotas perro fumar tarjeta efectivo pago cuando cual cuales que tal bien "
        "mi mis su sus el la los las del al y o pero tambien muy mucho poco ahora despues "
        "antes aqui alli nada algo todo vez hacer tengo tenemos dos tres cuatro cinco "
        "llave aire acondicionado cama camas matrimonial individual doble familiar "
        "mismo oye bueno buen dia listo okey chevere genial ya nop nel neta mande "
        "che boludo tenes queres podes sabes vos habia sera seria estoy soy es son "
        "gustaria una uno unos unas ese esa este esto eso ninos nino adultos salir entrar "
        "tarde temprano hora horas cerca lejos calle direccion ubicacion aeropuerto "
        "pedir traer limpiar sabanas almohada ducha agua caliente roto rota funciona"
    ),
    "en": (
        "hi hello hey good morning afternoon evening night thanks thank you much want would "
        "like need have has do does is are there any room rooms how much cost price prices "
        "rate rates book booking reservation cancel change date dates night nights tomorrow "
        "today week weekend friday saturday monday tuesday wednesday thursday sunday where "
        "is located get to hotel breakfast pool parking towels cleaning help person talk "
        "speak someone human agent yes yeah yep sure great perfect bye goodbye see "
        "later cheers please can could may we our my your the a an of and or but also very "
        "now then before here there nothing something all time make two three four five "
        "key air conditioning bed beds double single twin family what which when who why "
        "available availability free left stay staying check out late leave arrive arriving "
        "pets dog smoking card cash pay payment kids children adults people guests near far "
        "street address airport bring clean sheets pillow shower hot water broken working "
        "not no nope don't doesn't can't won't i'm it's that's what's there's let me"
    ),
    "pt": (
        "ola oi bom dia boa tarde noite obrigado obrigada muito quero queria gostaria preciso "
        "tem voces voce quarto quartos quanto custa custam preco precos reservar reserva "
        "cancelar mudar alterar data datas noite noites amanha depois hoje semana fim sexta "
        "sabado segunda terca quarta quinta domingo onde fica ficam chegar hotel cafe manha "
        "piscina estacionamento toalhas limpeza ajuda pessoa falar com alguem sim claro "
        "beleza perfeito otimo tchau ate logo abraco abracos favor posso podem poderia "
        "senhor senhora nos somos estamos chegamos saimos saida entrada animais cachorro "
        "fumar cartao dinheiro pagamento quando qual quais que tudo bem meu minha seus suas "
        "o a os as do da dos das no na nos nas e ou mas tambem muito pouco agora depois antes "
        "aqui ali nada algo tudo vez fazer tenho temos dois duas tres quatro cinco chave "
        "ar condicionado cama camas casal solteiro familia nao entao pra pro voce vc vcs "
        "eh ta tá valeu blz tbm hoje dessa desse essa esse isso este esta disponivel "
        "disponibilidade vaga vagas hospedagem diaria diarias criancas adultos sair entrar "
        "cedo hora horas perto longe rua endereco localizacao aeroporto pedir trazer limpar "
        "lencol travesseiro chuveiro agua quente quebrado quebrada funciona gente legal"
    ),
}  # type: ignore[assignment]

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_ES_MARK = re.compile(r"[ñ¿¡]")
_PT_MARK = re.compile(r"[ãõçâêô]")
_EN_MARK = re.compile(r"\b(?:the|you|your|is|are|thanks|please|i'm|what|how)\b", re.I)


_NOISE = re.compile(r"__\w+|\S+@\S+|https?://\S+|www\.\S+|[#+]?\d[\d\-/.]*|\b[A-Z]{2,}-?\d+\b")


def _features(text: str) -> list[str]:
    f = squeeze_repeats(fold(_NOISE.sub(" ", text)))
    feats: list[str] = []
    for w in _WORD.findall(f):
        feats.append("w:" + w)
        padded = f" {w} "
        for n in (1, 2, 3, 4):
            if len(padded) < n:
                break
            feats.extend("c:" + padded[i : i + n] for i in range(len(padded) - n + 1))
    return feats


class LanguageIdentifier:
    def __init__(
        self,
        counts: dict[str, dict[str, float]] | None = None,
        default: str = "es",
        priors: dict[str, float] | None = None,
    ):
        self.counts: dict[str, dict[str, float]] = counts or {lang: {} for lang in LANGS}
        self.default = default
        self.priors = priors or {lang: 1.0 / len(LANGS) for lang in LANGS}
        self._finalise()

    def _finalise(self) -> None:
        self.totals = {lang: sum(c.values()) for lang, c in self.counts.items()}
        vocab: set[str] = set()
        for c in self.counts.values():
            vocab.update(c)
        self.vocab_size = max(1, len(vocab))
        # Precomputed log-probabilities: one dict lookup per feature at run time.
        denom = {lang: math.log(self.totals.get(lang, 0) + 0.5 * self.vocab_size) for lang in LANGS}
        self._unseen = tuple(math.log(0.5) - denom[lang] for lang in LANGS)
        self._logp = {
            ft: tuple(
                math.log(self.counts.get(lang, {}).get(ft, 0.0) + 0.5) - denom[lang]
                for lang in LANGS
            )
            for ft in vocab
        }

    @classmethod
    def train(cls, texts: Iterable[tuple[str, str]], default: str = "es") -> LanguageIdentifier:
        counts: dict[str, Counter[str]] = {lang: Counter() for lang in LANGS}
        for lang, words in LEXICON.items():
            for w in words.split():
                # The lexicon counts a few times over: it is the prior knowledge of the language.
                for _ in range(3):
                    counts[lang].update(_features(w))
        n_docs: Counter[str] = Counter()
        for lang, text in texts:
            if lang in counts:
                counts[lang].update(_features(text))
                n_docs[lang] += 1
        total = sum(n_docs.values()) + len(LANGS)
        priors = {lang: (n_docs[lang] + 1) / total for lang in LANGS}
        return cls({k: dict(v) for k, v in counts.items()}, default, priors)

    def scores(self, text: str, feats: list[str] | None = None) -> dict[str, float]:
        feats = _features(text) if feats is None else feats
        acc = [2.0 * math.log(self.priors.get(lang, 1e-3)) for lang in LANGS]
        logp, unseen = self._logp, self._unseen
        for ft in feats:
            # Whole words weigh as much as their character n-grams together.
            weight = 3.0 if ft[0] == "w" else 1.0
            lp = logp.get(ft, unseen)
            for i in range(len(LANGS)):
                acc[i] += weight * lp[i]
        out = dict(zip(LANGS, acc, strict=True))
        if _ES_MARK.search(text):
            out["es"] += 8.0
        if _PT_MARK.search(text):
            out["pt"] += 8.0
        return out

    def predict(self, text: str) -> tuple[str, float]:
        """Best language and a 0..1 confidence (softmax over per-word averaged scores)."""
        feats = _features(text)
        n = sum(1 for ft in feats if ft.startswith("w:"))
        if n == 0:
            return self.default, 0.0
        sc = self.scores(text, feats)
        best = max(sc, key=lambda k: sc[k])
        m = max(sc.values())
        exps = {k: math.exp((v - m) / n) for k, v in sc.items()}
        conf = exps[best] / sum(exps.values())
        # Only evidence shared by all three languages ("ok", "no", "hotel"): use the default.
        if conf < 0.40:
            return self.default, conf
        return best, conf

    def to_dict(self) -> dict[str, object]:
        return {"counts": self.counts, "default": self.default, "priors": self.priors}

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> LanguageIdentifier:
        return cls(d["counts"], str(d.get("default", "es")), d.get("priors"))  # type: ignore[arg-type]
