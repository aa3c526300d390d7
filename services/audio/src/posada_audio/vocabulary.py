"""Hotel vocabulary per language, fed to Whisper as the decoding prompt.

Whisper conditions on "previous text"; a short phrase that uses the domain words
("check-in", "reserva", room types) makes it spell them the way the rest of Posada (nlp)
expects, instead of e.g. "chequin" or "check in". It must stay *short*: in our round-trip grid
(docs/adr-0001) a two-sentence prompt was no more accurate than this one-line glossary, and on
badly articulated audio Whisper sometimes replaced the speech with the long prompt's own words.
VAD removes silence first, which is where prompt echoes usually appear.
"""

from __future__ import annotations

SUPPORTED_LANGUAGES = ("es", "en", "pt")

HOTEL_PROMPTS: dict[str, str] = {
    "es": "Reserva de hotel, habitación doble o suite, check-in y check-out.",
    "en": "Hotel booking, double room or suite, check-in and check-out.",
    "pt": "Reserva de hotel, quarto duplo ou suíte, check-in e check-out.",
}


def prompt_for(language: str | None) -> str | None:
    if not language:
        return None
    return HOTEL_PROMPTS.get(language.split("-")[0].lower())
