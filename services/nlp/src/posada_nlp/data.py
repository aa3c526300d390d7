"""Loading Rasa NLU YAML training data (``version: "3.1"``, ``nlu:`` intent blocks).

Supports the annotation forms Rasa documents: ``[text](entity)``, ``[text](entity:value)``
(Rasa 1/2 short form), ``[text]{"entity": "...", "value": "..."}`` (plus ``role``/``group``
keys, which are ignored), and ``- synonym:`` blocks that map annotated texts to values.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from hotel.nlp.v1.vocabulary import IntentName

# The intent catalogue comes from the contracts (hotel/nlp/v1/vocabulary.proto), the one place
# every service reads intent names from; docs/nlp-catalogue.md says what each one means.
INTENTS: tuple[str, ...] = tuple(name.value for name in IntentName)
LANGUAGES = ("es", "en", "pt")

_ANNOT = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]+)\)|(?P<json>\{[^}]*\}))")


@dataclass
class GoldEntity:
    type: str
    value: str
    text: str
    start: int
    end: int


@dataclass
class Example:
    text: str
    intent: str
    language: str
    entities: list[GoldEntity] = field(default_factory=list)
    source: str = ""


class DataError(ValueError):
    pass


def parse_example(raw: str, synonyms: dict[str, str] | None = None) -> tuple[str, list[GoldEntity]]:
    """Strip Rasa entity markup from one example; return plain text and its entities."""
    synonyms = synonyms or {}
    out: list[str] = []
    ents: list[GoldEntity] = []
    pos = 0
    length = 0
    for m in _ANNOT.finditer(raw):
        before = raw[pos : m.start()]
        out.append(before)
        length += len(before)
        surface = m.group("text")
        if m.group("json"):
            try:
                spec = json.loads(m.group("json"))
            except json.JSONDecodeError as e:
                raise DataError(f"bad entity JSON in {raw!r}: {e}") from e
            etype = str(spec["entity"])
            value = spec.get("value", surface)
        else:
            short = m.group("short")
            etype, _, value = short.partition(":")
            value = value or surface
        value = synonyms.get(str(value), value)
        ents.append(GoldEntity(etype.strip(), str(value), surface, length, length + len(surface)))
        out.append(surface)
        length += len(surface)
        pos = m.end()
    out.append(raw[pos:])
    return "".join(out), ents


def _examples_block(block: object) -> list[str]:
    if isinstance(block, str):
        lines = [ln.strip() for ln in block.splitlines()]
        return [
            ln[2:].strip() if ln.startswith("- ") else ln[1:].strip()
            for ln in lines
            if ln.startswith("-")
        ]
    if isinstance(block, list):  # Rasa also accepts a list of {text: ...}
        return [str(x["text"] if isinstance(x, dict) else x).strip() for x in block]
    return []


def load_file(path: Path, language: str | None = None) -> list[Example]:
    language = language or path.stem.split(".")[0]
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = doc.get("nlu") or []
    synonyms: dict[str, str] = {}
    for item in items:
        if isinstance(item, dict) and "synonym" in item:
            for s in _examples_block(item.get("examples")):
                synonyms[s] = str(item["synonym"])
    out: list[Example] = []
    for item in items:
        if not isinstance(item, dict) or "intent" not in item:
            continue
        intent = str(item["intent"])
        for raw in _examples_block(item.get("examples")):
            if not raw:
                continue
            text, ents = parse_example(raw, synonyms)
            out.append(Example(text, intent, language, ents, f"{path.name}"))
    return out


def load_dir(directory: Path) -> list[Example]:
    """All ``<lang>.yml`` files in a directory (es.yml, en.yml, pt.yml, or nlu*.yml)."""
    out: list[Example] = []
    for path in sorted(directory.glob("*.yml")) + sorted(directory.glob("*.yaml")):
        lang = path.stem.split(".")[0].split("_")[0]
        out.extend(load_file(path, lang if lang in LANGUAGES else None))
    return out


def data_hash(paths: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()
