"""What the gateway itself tells a guest, in es/en/pt: it never leaves a guest in silence.

* `truncated` — the guest's text was longer than conversation reads; the answer covers the
  first part only.
* `dead_letter` — the message could not be handled at all (after every retry, or refused
  for good); a person from the hotel has been asked to answer.

When the guest's language is unknown, the three languages go in one message (Spanish first:
Posada's hotels are Spanish-speaking first).
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "truncated": {
        "es": "Tu mensaje era muy largo; he leído solo la primera parte.",
        "en": "Your message was very long; I have only read the first part.",
        "pt": "A sua mensagem era muito longa; li apenas a primeira parte.",
    },
    "dead_letter": {
        "es": (
            "Lo siento, no he podido procesar tu mensaje por un problema técnico. "
            "He avisado al equipo del hotel y una persona te responderá lo antes posible."
        ),
        "en": (
            "Sorry, I could not process your message because of a technical problem. "
            "I have told the hotel team and a person will answer you as soon as possible."
        ),
        "pt": (
            "Desculpe, não consegui processar a sua mensagem por um problema técnico. "
            "Avisei a equipa do hotel e uma pessoa vai responder-lhe o mais rápido possível."
        ),
    },
}


def notice(name: str, language: str) -> str:
    table = TEXTS[name]
    lang = (language or "")[:2].lower()
    if lang in table:
        return table[lang]
    return "\n\n".join(table[x] for x in ("es", "en", "pt"))
