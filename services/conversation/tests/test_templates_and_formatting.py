"""Templates are editable YAML in step across languages; money and dates follow the locale."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from posada_conversation.i18n import LANGUAGES, TemplateError, Templates, format_money
from posada_conversation.policy import Understanding, merge_stay, same_phone

SRC = Path(__file__).resolve().parents[1] / "src" / "posada_conversation"


def test_every_language_has_every_key_and_buttons_fit_whatsapp():
    templates = Templates.load()
    for lang in LANGUAGES:
        catalog = templates.get(lang)
        for key, value in catalog.entries.items():
            if key.startswith("buttons."):
                assert len(value) <= 20, (lang, key, value)


def test_every_template_the_code_uses_exists():
    code = "\n".join(p.read_text() for p in SRC.glob("*.py"))
    used = set(re.findall(r'"(messages\.[a-z_]+)"', code)) | {
        f"buttons.{b}" for b in re.findall(r'\("[a-z]+:[^"]*", "([a-z_]+)"\)', code)
    }
    templates = Templates.load()
    for lang in LANGUAGES:
        missing = [k for k in used if k not in templates.get(lang).entries]
        assert not missing, (lang, missing)


def test_a_template_file_out_of_step_fails_loading(tmp_path):
    src = SRC.parents[1] / "templates"
    for lang in LANGUAGES:
        (tmp_path / f"{lang}.yml").write_text((src / f"{lang}.yml").read_text())
    (tmp_path / "pt.yml").write_text(
        (src / "pt.yml").read_text().replace("  goodbye:", "  goodby:")
    )
    with pytest.raises(TemplateError, match=r"pt\.yml"):
        Templates.load(tmp_path)


@pytest.mark.parametrize(
    ("minor", "currency", "lang", "expected"),
    [
        (123450, "EUR", "es", "1.234,50 €"),
        (123450, "EUR", "en", "€1,234.50"),
        (123450, "EUR", "pt", "1.234,50 €"),
        (9990, "BRL", "pt", "R$ 99,90"),
        (9990, "USD", "en", "US$ 99.90"),
        (15000, "CLP", "es", "15.000 CLP"),
        (5, "EUR", "es", "0,05 €"),
    ],
)
def test_money_is_formatted_from_minor_units(minor, currency, lang, expected):
    assert format_money(minor, currency, lang) == expected


def test_dates_and_counts_read_naturally():
    t = Templates.load()
    day = dt.date(2027, 3, 12)
    assert t.get("es").date(day) == "vie 12 de marzo"
    assert t.get("en").date(day) == "Fri 12 March"
    assert t.get("pt").guests(1, 2) == "1 adulto e 2 crianças"


def test_follow_up_updates_the_last_query():
    base = {"check_in": "2027-03-12", "check_out": "2027-03-14", "adults": 2}
    three = merge_stay(base, Understanding("¿y para 3 personas?", "es", entities={"adults": ["3"]}))
    assert three == {**base, "adults": 3}
    moved = merge_stay(
        base, Understanding("¿y del 20?", "es", entities={"check_in": ["2027-03-20"]})
    )
    assert moved["check_in"] == "2027-03-20" and moved["check_out"] == "2027-03-22"  # same length
    nights = merge_stay(
        {"check_in": "2027-03-12"}, Understanding("3 noches", "es", entities={"nights": ["3"]})
    )
    assert nights["check_out"] == "2027-03-15"


def test_phone_verification_allows_a_missing_country_code_only():
    assert same_phone("34600111222", "+34 600 111 222")
    assert same_phone("34600111222", "600111222")
    assert not same_phone("34600111222", "34600111223")
    assert not same_phone("34600111222", "")
