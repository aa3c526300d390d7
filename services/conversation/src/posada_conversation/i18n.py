"""Reply templates per language, and locale formatting of money, dates and counts.

Templates live in YAML files (`templates/{es,en,pt}.yml`) that non-programmers can edit:
plain sentences with `{placeholders}`. Every language must define the same keys (checked at
load time and by a test), so a missing translation fails the service at start-up, not in
front of a guest.
"""

from __future__ import annotations

import datetime as dt
import os
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("es", "en", "pt")
DEFAULT_LANGUAGE = "es"

# ISO 4217 minor-unit exponents that are not 2 (the default).
_EXPONENTS = {"JPY": 0, "CLP": 0, "KRW": 0, "PYG": 0, "ISK": 0, "VND": 0, "BHD": 3, "KWD": 3}
# Symbols shown before/after the amount; unknown currencies show their ISO code.
_SYMBOLS = {"EUR": "€", "USD": "US$", "BRL": "R$", "GBP": "£", "ARS": "ARS", "MXN": "MX$"}


class TemplateError(ValueError):
    """A template file is missing, malformed, or not in step with the others."""


def templates_dir() -> Path:
    """Where the YAML files are: TEMPLATES_DIR, the installed package, or the source tree."""
    env = os.environ.get("CONVERSATION_TEMPLATES_DIR")
    if env:
        return Path(env)
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "templates"


def _flatten(prefix: str, node: Any, out: dict[str, Any]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                # YAML reads unquoted yes/no/on/off keys as booleans: ask for quotes.
                raise TemplateError(f"key {key!r} under {prefix!r} must be text; put it in quotes")
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = node


class _SafeDict(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass
class Catalog:
    """One language's templates, flattened to dotted keys (`messages.greeting`)."""

    language: str
    entries: dict[str, Any]

    def raw(self, key: str) -> Any:
        if key not in self.entries:
            raise KeyError(f"template {self.language}:{key} is missing")
        return self.entries[key]

    def text(self, key: str, **values: Any) -> str:
        template = self.raw(key)
        if not isinstance(template, str):
            raise TypeError(f"template {self.language}:{key} is not text")
        return template.format_map(_SafeDict(values)).strip()

    def name(self, group: str, value: str) -> str:
        """Display name of a catalogue value (room type, amenity, status); the value if unknown."""
        return str(self.entries.get(f"names.{group}.{value}", value.replace("_", " ")))

    def plural(self, key: str, count: int, **values: Any) -> str:
        form = "one" if count == 1 else "other"
        return self.text(f"{key}.{form}", n=count, **values)

    # -- formatting -------------------------------------------------------------------

    def money(self, amount_minor: int, currency: str) -> str:
        return format_money(amount_minor, currency, self.language)

    def date(self, day: dt.date) -> str:
        months = self.raw("names.months")
        weekdays = self.raw("names.weekdays")
        pattern = self.raw("formats.date")
        return pattern.format(
            weekday=weekdays[day.weekday()], day=day.day, month=months[day.month - 1], year=day.year
        )

    def nights(self, count: int) -> str:
        return self.plural("counts.nights", count)

    def guests(self, adults: int, children: int) -> str:
        text = self.plural("counts.adults", adults)
        if children:
            text = self.text(
                "counts.adults_and_children",
                adults=text,
                children=self.plural("counts.children", children),
            )
        return text


def format_money(amount_minor: int, currency: str, language: str) -> str:
    """Integer minor units → '1.234,50 €' (es), '€1,234.50' (en), 'R$ 1.234,50' (pt)."""
    currency = (currency or "").upper()
    exponent = _EXPONENTS.get(currency, 2)
    negative = amount_minor < 0
    units, minor = divmod(abs(int(amount_minor)), 10**exponent)
    thousands, decimal = (",", ".") if language == "en" else (".", ",")
    grouped = f"{units:,}".replace(",", thousands)
    number = grouped + (f"{decimal}{minor:0{exponent}d}" if exponent else "")
    if negative:
        number = "-" + number
    symbol = _SYMBOLS.get(currency, currency)
    if language == "en":
        return f"{symbol}{number}" if len(symbol) == 1 else f"{symbol} {number}"
    if language == "pt" and currency != "EUR":
        return f"{symbol} {number}"
    return f"{number} {symbol}"


class Templates:
    """All languages. `get(lang)` falls back to the default language for unknown codes."""

    def __init__(self, catalogs: dict[str, Catalog]):
        self.catalogs = catalogs

    @classmethod
    def load(cls, directory: Path | None = None) -> Templates:
        directory = directory or templates_dir()
        catalogs: dict[str, Catalog] = {}
        for language in LANGUAGES:
            path = directory / f"{language}.yml"
            if not path.is_file():
                raise TemplateError(f"missing template file {path}")
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                raise TemplateError(f"{path}: not valid YAML: {exc}") from exc
            if not isinstance(data, dict):
                raise TemplateError(f"{path}: expected a mapping at the top level")
            entries: dict[str, Any] = {}
            _flatten("", data, entries)
            catalogs[language] = Catalog(language, entries)
        reference = set(catalogs[DEFAULT_LANGUAGE].entries)
        for language, catalog in catalogs.items():
            keys = set(catalog.entries)
            missing, extra = reference - keys, keys - reference
            if missing or extra:
                raise TemplateError(
                    f"{language}.yml is not in step with {DEFAULT_LANGUAGE}.yml: "
                    f"missing {sorted(missing)}, extra {sorted(extra)}"
                )
            for key, value in catalog.entries.items():
                if isinstance(value, str):
                    try:
                        list(string.Formatter().parse(value))
                    except ValueError as exc:
                        raise TemplateError(f"{language}:{key}: bad placeholder: {exc}") from exc
        return cls(catalogs)

    def get(self, language: str) -> Catalog:
        return self.catalogs.get(language) or self.catalogs[DEFAULT_LANGUAGE]
