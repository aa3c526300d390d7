"""Number words in Spanish, English and Portuguese (folded: lower-case, no accents)."""

from __future__ import annotations

NUMBER_WORDS: dict[str, int] = {
    # es
    "un": 1, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13,
    "catorce": 14, "quince": 15, "dieciseis": 16, "veinte": 20, "treinta": 30,
    # en
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "twenty": 20, "thirty": 30,
    # pt
    "um": 1, "uma": 1, "dois": 2, "duas": 2, "quatro": 4, "sete": 7, "oito": 8, "nove": 9,
    "dez": 10, "onze": 11, "doze": 12, "treze": 13, "catorze": 14, "quatorze": 14,
    "quinze": 15, "vinte": 20, "trinta": 30,
}  # fmt: skip

# Alternation for regexes, longest first so "dieciseis" wins over "dies".
NUMBER_WORD_RE = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
NUM_RE = rf"(?:\d{{1,2}}|{NUMBER_WORD_RE})"


def to_int(token: str) -> int | None:
    token = token.strip().lower()
    if token.isdigit():
        return int(token)
    return NUMBER_WORDS.get(token)


def _spanish_days() -> dict[str, int]:
    units = ["", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]
    words = {
        "primero": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
        "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13,
        "catorce": 14, "quince": 15, "dieciseis": 16, "diecisiete": 17, "dieciocho": 18,
        "diecinueve": 19, "veinte": 20, "treinta": 30, "treinta y uno": 31, "treintaiuno": 31,
    }  # fmt: skip
    for i in range(1, 10):
        words["veinti" + units[i]] = 20 + i
        words["veinte y " + units[i]] = 20 + i
    return words


def _portuguese_days() -> dict[str, int]:
    units = ["", "um", "dois", "tres", "quatro", "cinco", "seis", "sete", "oito", "nove"]
    words = {
        "primeiro": 1, "um": 1, "dois": 2, "tres": 3, "quatro": 4, "cinco": 5, "seis": 6,
        "sete": 7, "oito": 8, "nove": 9, "dez": 10, "onze": 11, "doze": 12, "treze": 13,
        "catorze": 14, "quatorze": 14, "quinze": 15, "dezesseis": 16, "dezasseis": 16,
        "dezessete": 17, "dezassete": 17, "dezoito": 18, "dezenove": 19, "dezanove": 19,
        "vinte": 20, "trinta": 30, "trinta e um": 31,
    }  # fmt: skip
    for i in range(1, 10):
        words["vinte e " + units[i]] = 20 + i
    return words


def _english_days() -> dict[str, int]:
    cardinals = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    ordinals = [
        "",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
    ]
    words: dict[str, int] = {}
    for i in range(1, 10):
        words[cardinals[i]] = i
        words[ordinals[i]] = i
        words[f"twenty {cardinals[i]}"] = words[f"twenty-{cardinals[i]}"] = 20 + i
        words[f"twenty {ordinals[i]}"] = words[f"twenty-{ordinals[i]}"] = 20 + i
    teens = {
        "ten": 10, "tenth": 10, "eleven": 11, "eleventh": 11, "twelve": 12, "twelfth": 12,
        "thirteen": 13, "thirteenth": 13, "fourteen": 14, "fourteenth": 14, "fifteen": 15,
        "fifteenth": 15, "sixteen": 16, "sixteenth": 16, "seventeen": 17, "seventeenth": 17,
        "eighteen": 18, "eighteenth": 18, "nineteen": 19, "nineteenth": 19, "twenty": 20,
        "twentieth": 20, "thirty": 30, "thirtieth": 30, "thirty one": 31, "thirty-one": 31,
        "thirty first": 31, "thirty-first": 31,
    }  # fmt: skip
    words.update(teens)
    return words


# Days of the month written (or transcribed from a voice note) as words: "el quince de junio",
# "June twentieth", "dia vinte e dois de maio". Folded like the rest (no accents).
DAY_WORDS: dict[str, int] = {**_english_days(), **_portuguese_days(), **_spanish_days()}
DAY_WORD_RE = "|".join(sorted((w.replace(" ", r"\s+") for w in DAY_WORDS), key=len, reverse=True))
DAY_RE = rf"(?:\d{{1,2}}|{DAY_WORD_RE})"


def day_to_int(token: str) -> int | None:
    """'15' -> 15, 'quince' -> 15, 'twenty second' -> 22; None when it is no day of a month."""
    token = " ".join(token.strip().lower().split())
    if token.isdigit():
        return int(token)
    return DAY_WORDS.get(token) or DAY_WORDS.get(token.replace(" ", "-"))
