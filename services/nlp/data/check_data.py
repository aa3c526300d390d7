"""Validate the Posada NLU data (Rasa NLU YAML) in train/, test/ and challenge/.

Checks:
  * every file parses, has ``version: "3.1"`` and an ``nlu:`` list of intent blocks;
  * intent names belong to the catalogue; every intent appears at most once per file;
  * counts per intent and language reach the minimums (train / test / challenge);
  * every annotation is well-formed Rasa syntax (``[text](entity)`` or
    ``[text]{"entity": ..., "value": ...}``), uses a known entity type and a normalised value
    (ISO dates, integers, catalogue values, lower-case e-mails, digit-only phones);
  * date values agree with an independent resolver of the surface text (reference date
    2026-03-04, a Wednesday) whenever the resolver understands the text;
  * check_out is after check_in inside one example;
  * no duplicate examples inside a split, no test example equals a training example, and no
    challenge example equals a training or test example (exact or near; case-, accent- and
    punctuation-insensitive).

Usage: .venv/bin/python services/nlp/data/check_data.py [--quiet]
Exit status 0 when everything passes, 1 otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import yaml
from hotel.nlp.v1.vocabulary import EntityType, IntentName

DATA_DIR = Path(__file__).resolve().parent
REFERENCE_DATE = dt.date(2026, 3, 4)
LANGUAGES = ("es", "en", "pt")
# Intent and entity names: the contracts' vocabulary (hotel/nlp/v1/vocabulary.proto).
INTENTS = tuple(name.value for name in IntentName)
SPLITS = ("train", "test", "challenge")
MINIMUMS = {
    "train": {"es": 45, "en": 18, "pt": 18},
    "test": {"es": 12, "en": 6, "pt": 6},
    "challenge": {"es": 8, "en": 4, "pt": 4},
}
ENTITY_TYPES = {entity.value for entity in EntityType}
ROOM_TYPES = {"single", "double", "twin", "suite", "family"}
AMENITIES = {
    "wifi",
    "parking",
    "pool",
    "breakfast",
    "gym",
    "spa",
    "restaurant",
    "airport_shuttle",
    "air_conditioning",
}

# [text](entity)  or  [text]{"entity": ..., "value": ...}
ANNOTATION = re.compile(r"\[(?P<text>[^\[\]]+)\](?:\((?P<short>[^()]+)\)|(?P<json>\{[^{}]*\}))")

MONTHS = {
    # es
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12,
    # pt
    "janeiro": 1, "fevereiro": 2, "marco": 3, "maio": 5, "junho": 6, "julho": 7,
    "setembro": 9, "outubro": 10, "novembro": 11, "dezembro": 12,
    # en
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    # abbreviations
    "ene": 1, "jan": 1, "feb": 2, "fev": 2, "mar": 3, "abr": 4, "apr": 4, "jun": 6,
    "jul": 7, "ago": 8, "aug": 8, "sep": 9, "sept": 9, "set": 9, "oct": 10, "out": 10,
    "nov": 11, "dic": 12, "dez": 12, "dec": 12,
}  # fmt: skip
WEEKDAYS = {
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5,
    "domingo": 6,
    "segunda": 0, "terca": 1, "quarta": 2, "quinta": 3, "sexta": 4,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
}  # fmt: skip
RELATIVE = [
    (r"\b(pasado manana|day after tomorrow|depois de amanha|dps de amanha)\b", 2),
    (r"\b(dentro de (2|dos) dias|en (2|dos) dias|in (2|two) days|daqui a (2|dois) dias)\b", 2),
    (r"\b(manana|tomorrow|amanha|tmrw|tmr)\b", 1),
    (r"\b(hoy|today|hoje|esta noche|tonight|hoje a noite)\b", 0),
]
WEEKEND = re.compile(r"\b(finde|fin de semana|weekend|fim de semana|fds|fin de)\b")


def fold(text: str) -> str:
    """Lower-case, strip accents."""
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def dedup_key(text: str) -> str:
    """Key used for duplicate detection: folded, punctuation/emoji-free, spaces collapsed."""
    return " ".join(re.findall(r"[a-z0-9@.+#-]+", fold(text))).strip(" .")


def next_on_or_after(month: int, day: int) -> dt.date | None:
    for year in (REFERENCE_DATE.year, REFERENCE_DATE.year + 1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if candidate >= REFERENCE_DATE:
            return candidate
    return None


def resolve_date(text: str, context_month: int | None) -> dt.date | None:
    """Independent resolver used only to cross-check annotated values (None = not understood)."""
    t = fold(text)
    for pattern, offset in RELATIVE:
        if re.search(pattern, t):
            return REFERENCE_DATE + dt.timedelta(days=offset)
    if WEEKEND.search(t):
        return REFERENCE_DATE + dt.timedelta(days=(4 - REFERENCE_DATE.weekday()) % 7)
    m = re.search(r"\b(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{2,4}))?\b", t)
    if m:
        day, month = int(m.group(1)), int(m.group(2))
        if m.group(3):
            year = int(m.group(3))
            year = year + 2000 if year < 100 else year
            try:
                return dt.date(year, month, day)
            except ValueError:
                return None
        return next_on_or_after(month, day)
    words = re.findall(r"[a-z]+|\d{1,2}", t)
    month = next((MONTHS[w] for w in words if w in MONTHS), None)
    days = [int(w) for w in words if w.isdigit()]
    if month and days:
        return next_on_or_after(month, days[0])
    weekday = next((WEEKDAYS[w] for w in words if w in WEEKDAYS), None)
    if weekday is not None and not days:
        return REFERENCE_DATE + dt.timedelta(days=(weekday - REFERENCE_DATE.weekday()) % 7)
    if days and not month and weekday is None and len(days) == 1:
        if context_month is not None:
            return next_on_or_after(context_month, days[0])
        day = days[0]
        for k in range(0, 62):
            candidate = REFERENCE_DATE + dt.timedelta(days=k)
            if candidate.day == day:
                return candidate
    if weekday is not None and len(days) == 1:  # "jueves 12"
        return next_on_or_after(REFERENCE_DATE.month, days[0])
    return None


def check_value(etype: str, text: str, value: str) -> str | None:
    """Return an error message when value is not normalised for etype."""
    if etype in ("check_in", "check_out"):
        try:
            date = dt.date.fromisoformat(value)
        except ValueError:
            return f"{etype} value {value!r} is not an ISO date"
        if not REFERENCE_DATE <= date <= REFERENCE_DATE + dt.timedelta(days=366):
            return f"{etype} value {value} is not within a year after the reference date"
    elif etype in ("nights", "adults", "children"):
        if not re.fullmatch(r"[1-9]\d?", value):
            return f"{etype} value {value!r} is not a positive integer"
    elif etype == "room_type":
        if value not in ROOM_TYPES:
            return f"room_type value {value!r} not in {sorted(ROOM_TYPES)}"
    elif etype == "amenity":
        if value not in AMENITIES:
            return f"amenity value {value!r} not in {sorted(AMENITIES)}"
    elif etype == "email":
        if value != text.lower() or not re.fullmatch(
            r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}", value
        ):
            return f"email value {value!r} must be the lower-cased address"
    elif etype == "phone":
        digits = ("+" if text.strip().startswith("+") else "") + re.sub(r"\D", "", text)
        if value != digits or not re.fullmatch(r"\+?\d{7,15}", value):
            return f"phone value {value!r} must be {digits!r}"
    elif etype == "booking_ref":
        if value not in (text, text.lstrip("#")) or not re.fullmatch(r"[A-Za-z0-9-]+", value):
            return f"booking_ref value {value!r} must be the reference as written"
    elif etype == "person_name" and value != text:
        return f"person_name value {value!r} must be the name as written"
    return None


def parse_example(raw: str) -> tuple[str, list[dict], list[str]]:
    """Strip annotations; return plain text, entities and errors."""
    errors: list[str] = []
    entities: list[dict] = []
    plain: list[str] = []
    pos = 0
    for m in ANNOTATION.finditer(raw):
        plain.append(raw[pos : m.start()])
        text = m.group("text")
        if m.group("short") is not None:
            etype, value = m.group("short").strip(), text
        else:
            try:
                payload = json.loads(m.group("json"))
            except json.JSONDecodeError:
                errors.append(f"bad JSON in annotation {m.group(0)!r}")
                payload = {}
            etype = payload.get("entity", "")
            value = payload.get("value", text)
            extra = set(payload) - {"entity", "value", "role", "group"}
            if extra:
                errors.append(f"unknown annotation keys {sorted(extra)}")
            if not isinstance(value, str):
                errors.append(f"value {value!r} must be a JSON string")
                value = str(value)
        start = sum(len(p) for p in plain)
        plain.append(text)
        entities.append({"type": etype, "value": value, "text": text, "start": start})
        pos = m.end()
    plain.append(raw[pos:])
    plain_text = "".join(plain)
    if any(c in plain_text for c in "[]{}"):
        errors.append("stray bracket or brace (malformed annotation?)")
    if re.search(r"\]\s*\(", raw) and not entities:
        errors.append("looks like an annotation but did not parse")
    for ent in entities:
        if ent["type"] not in ENTITY_TYPES:
            errors.append(f"unknown entity type {ent['type']!r}")
            continue
        if ent["text"] != ent["text"].strip():
            errors.append(f"annotated text {ent['text']!r} has surrounding spaces")
        problem = check_value(ent["type"], ent["text"], ent["value"])
        if problem:
            errors.append(problem)
    # Cross-check dates with the independent resolver.
    dated = [e for e in entities if e["type"] in ("check_in", "check_out")]
    context_month = None
    for e in dated:
        words = re.findall(r"[a-z]+", fold(e["text"]))
        mm = re.search(r"\d{1,2}\s*[/-]\s*(\d{1,2})", e["text"])
        found = next((MONTHS[w] for w in words if w in MONTHS), None) or (
            int(mm.group(1)) if mm else None
        )
        if found:
            context_month = found
            break
    for e in dated:
        expected = resolve_date(e["text"], context_month)
        if expected is not None and expected.isoformat() != e["value"]:
            # A bare day before a later month-carrying day may belong to the previous month.
            errors.append(f"{e['type']} {e['text']!r} = {e['value']} but resolver says {expected}")
    ins = [e["value"] for e in dated if e["type"] == "check_in"]
    outs = [e["value"] for e in dated if e["type"] == "check_out"]
    if ins and outs and min(outs) <= max(ins):
        errors.append(f"check_out {outs} not after check_in {ins}")
    return plain_text, entities, errors


SUSPECT_WORDS = re.compile(
    r"\b(wifi|wi-fi|piscinas?|pileta|alberca|pool|desayuno|breakfast|cafe da manha|pequeno-almoco|"
    r"estacionamiento|estacionamento|parking|aparcamiento|cochera|gimnasio|gym|spa|restaurante?|"
    r"aire acondicionado|ar-condicionado|air conditioning|shuttle|hoy|hoje|today|tomorrow|amanha|"
    r"pasado manana|lunes|martes|jueves|viernes|sabado|domingo|monday|tuesday|thursday|friday|"
    r"saturday|sunday|sexta|finde|fin de semana|weekend|fim de semana|\d{1,2}/\d{1,2}|"
    r"doble|matrimonial|suite|individual|single|double|twin|casal|solteiro|familiar|"
    r"\d+ noches|\d+ nights|\d+ noites|[a-z0-9._-]+@[a-z0-9.-]+)\b"
)


def suspicious_unannotated(raw: str) -> list[str]:
    """Entity-looking words left outside annotations (warnings, reviewed by hand)."""
    outside = fold(ANNOTATION.sub(" _ ", raw))
    return [m.group(0) for m in SUSPECT_WORDS.finditer(outside)]


def load_file(path: Path) -> tuple[dict[str, list[str]], list[str]]:
    errors: list[str] = []
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        return {}, [f"{path}: YAML error: {exc}"]
    if (
        not isinstance(doc, dict)
        or str(doc.get("version")) != "3.1"
        or not isinstance(doc.get("nlu") or [], list)
    ):
        return {}, [f'{path}: expected version: "3.1" and an nlu: list']
    out: dict[str, list[str]] = {}
    for block in doc["nlu"] or []:
        if not isinstance(block, dict):
            errors.append(f"{path}: nlu entry is not a mapping")
            continue
        if "intent" not in block:
            continue  # regex / synonym / lookup blocks are allowed
        name = block["intent"]
        if name not in INTENTS:
            errors.append(f"{path}: unknown intent {name!r}")
        if name in out:
            errors.append(f"{path}: intent {name!r} appears twice")
        examples = block.get("examples", "")
        lines = []
        for line in str(examples).splitlines():
            line = line.strip()
            if not line:
                continue
            if not line.startswith("- "):
                errors.append(f"{path}: {name}: example line without '- ': {line!r}")
                continue
            lines.append(line[2:].strip())
        out.setdefault(name, []).extend(lines)
    return out, errors


def cross_duplicates(
    split_keys: dict[str, tuple[str, str]],
    other_keys: dict[str, tuple[str, str]],
    split: str,
    other: str,
) -> list[str]:
    """Examples of `split` equal or near-equal to an example of `other`."""
    errors: list[str] = []
    other_sets = [(set(k.split()), k) for k in other_keys]
    for key, (intent, lang) in split_keys.items():
        if key in other_keys:
            errors.append(f"{split}/{lang}.yml [{intent}] also in {other} data: {key!r}")
            continue
        # Near-duplicates: same words give or take one (token Jaccard >= 0.75 on 3+ words).
        # Same word set ("no no, asi no" ~ "no, asi no") counts as a near-duplicate at any length.
        words = set(key.split())
        if not words:
            continue
        for other_words, other_key in other_sets:
            union = len(words | other_words)
            if words == other_words or (
                len(words) >= 3 and len(words & other_words) / union >= 0.75
            ):
                errors.append(
                    f"{split}/{lang}.yml [{intent}] near-duplicate of {other} {other_key!r}: {key!r}"
                )
                break
    return errors


def main(argv: list[str]) -> int:
    quiet = "--quiet" in argv
    errors: list[str] = []
    counts: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    entity_counts: Counter[tuple[str, str]] = Counter()
    keys: dict[str, dict[str, tuple[str, str]]] = {s: {} for s in SPLITS}
    unverified_dates = 0
    warnings: list[str] = []
    for split in SPLITS:
        for lang in LANGUAGES:
            path = DATA_DIR / split / f"{lang}.yml"
            if not path.exists():
                errors.append(f"missing file {path}")
                continue
            data, file_errors = load_file(path)
            errors.extend(file_errors)
            for intent, examples in data.items():
                counts[intent][(split, lang)] = len(examples)
                for raw in examples:
                    plain, entities, ex_errors = parse_example(raw)
                    for word in suspicious_unannotated(raw):
                        warnings.append(
                            f"{split}/{lang}.yml [{intent}] unannotated {word!r}: {plain!r}"
                        )
                    for err in ex_errors:
                        errors.append(f"{split}/{lang}.yml [{intent}] {raw!r}: {err}")
                    for ent in entities:
                        entity_counts[(split, ent["type"])] += 1
                        if (
                            ent["type"] in ("check_in", "check_out")
                            and resolve_date(ent["text"], None) is None
                        ):
                            unverified_dates += 1
                    key = dedup_key(plain)
                    if not key:
                        key = plain.strip()
                    # Same text twice in one language, or with two different intents, is an error;
                    # the same short form in two languages with the same intent ("ok") is allowed.
                    seen = keys[split].get(key)
                    if seen is not None and (seen[1] == lang or seen[0] != intent):
                        errors.append(
                            f"{split}/{lang}.yml [{intent}] duplicate of {seen[1]}/{seen[0]} example: {plain!r}"
                        )
                    keys[split][key] = (intent, lang)
    # test must not (nearly) repeat train; challenge must not (nearly) repeat train or test.
    for split, against in (("test", ("train",)), ("challenge", ("train", "test"))):
        for other_split in against:
            errors.extend(cross_duplicates(keys[split], keys[other_split], split, other_split))

    header = f"{'intent':<20}" + "".join(f"{s}-{lg:>3}" + " " for s in SPLITS for lg in LANGUAGES)
    lines = [header, "-" * len(header)]
    totals: Counter[tuple[str, str]] = Counter()
    for intent in INTENTS:
        row = f"{intent:<20}"
        for split in SPLITS:
            for lang in LANGUAGES:
                n = counts.get(intent, {}).get((split, lang), 0)
                totals[(split, lang)] += n
                flag = "*" if n < MINIMUMS[split][lang] else " "
                row += f"{n:>{len(split) + 4}}{flag}"
                if n < MINIMUMS[split][lang]:
                    errors.append(
                        f"{split}/{lang}: {intent} has {n} examples (< {MINIMUMS[split][lang]})"
                    )
        lines.append(row)
    lines.append("-" * len(header))
    lines.append(
        f"{'total':<20}"
        + "".join(f"{totals[(s, lg)]:>{len(s) + 4}} " for s in SPLITS for lg in LANGUAGES)
    )
    print("\n".join(lines))
    print()
    print(
        "entities (train/test/challenge): "
        + ", ".join(
            f"{t} {entity_counts[('train', t)]}/{entity_counts[('test', t)]}"
            f"/{entity_counts[('challenge', t)]}"
            for t in sorted(ENTITY_TYPES)
        )
    )
    print(f"dates not cross-checked by the resolver: {unverified_dates}")
    if warnings and "--warnings" in argv:
        print(
            f"\n{len(warnings)} warning(s) (entity-like words left unannotated; fine when not an entity):"
        )
        for warning in warnings:
            print("  ~", warning)
    if errors:
        print(f"\n{len(errors)} problem(s):")
        for err in errors if not quiet else errors[:50]:
            print("  -", err)
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
