"""Word error rate, for the round-trip tests and the benchmark.

Both texts are normalised the way speech-recognition evaluations usually do: lower case,
no punctuation, no diacritics, and small numbers written as words in the text's language
(Whisper writes "2 adultos" where the reference says "dos adultos"; that is not an error).
"""

from __future__ import annotations

import re
import unicodedata

_NUMBER_WORDS: dict[str, list[str]] = {
    "es": [
        "cero",
        "uno",
        "dos",
        "tres",
        "cuatro",
        "cinco",
        "seis",
        "siete",
        "ocho",
        "nueve",
        "diez",
        "once",
        "doce",
        "trece",
        "catorce",
        "quince",
        "dieciseis",
        "diecisiete",
        "dieciocho",
        "diecinueve",
        "veinte",
    ],
    "en": [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ],
    "pt": [
        "zero",
        "um",
        "dois",
        "tres",
        "quatro",
        "cinco",
        "seis",
        "sete",
        "oito",
        "nove",
        "dez",
        "onze",
        "doze",
        "treze",
        "catorze",
        "quinze",
        "dezesseis",
        "dezessete",
        "dezoito",
        "dezenove",
        "vinte",
    ],
}
_EN_ORDINALS = [
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
]


def normalise(text: str, language: str = "es") -> list[str]:
    lang = language.split("-")[0].lower()
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("-", " ")
    words = re.findall(r"[a-z0-9]+", text)
    numbers = _NUMBER_WORDS.get(lang, [])
    out: list[str] = []
    for word in words:
        ordinal = re.fullmatch(r"(\d+)(st|nd|rd|th)", word)
        if lang == "en" and ordinal and int(ordinal.group(1)) < len(_EN_ORDINALS):
            out.append(_EN_ORDINALS[int(ordinal.group(1))])
        elif word.isdigit() and int(word) < len(numbers):
            out.append(numbers[int(word)])
        else:
            out.append(word)
    return out


def word_error_rate(reference: str, hypothesis: str, language: str = "es") -> float:
    """(substitutions + deletions + insertions) / reference words, by edit distance."""
    ref = normalise(reference, language)
    hyp = normalise(hypothesis, language)
    if not ref:
        return 0.0 if not hyp else 1.0
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / len(ref)
