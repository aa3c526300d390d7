"""Date expressions in Spanish, English and Portuguese, resolved against a reference date.

Rules run on the folded text (lower-case, no accents, same length as the original), so the
spans are spans of the guest's text. Conventions (see docs): numeric dates are day/month;
dates without a year are the next occurrence on or after the reference date; a weekday is the
next such day on or after the reference date; "el finde"/"this weekend" is the coming Friday
to Sunday; "hasta el 15"/"until the 15th"/"até dia 15" is a check-out date; a range gives
check_in and check_out; otherwise the first date is the check-in and the second the check-out.
"""

from __future__ import annotations

import calendar
import contextlib
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise

from .numbers import DAY_RE, NUM_RE, day_to_int, to_int

MONTHS: dict[str, int] = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12,
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "janeiro": 1, "fevereiro": 2, "marco": 3, "maio": 5, "junho": 6, "julho": 7,
    "setembro": 9, "outubro": 10, "novembro": 11, "dezembro": 12,
    "ene": 1, "jan": 1, "feb": 2, "fev": 2, "mar": 3, "abr": 4, "apr": 4, "mai": 5, "jun": 6,
    "jul": 7, "ago": 8, "aug": 8, "sep": 9, "sept": 9, "set": 9, "oct": 10, "out": 10,
    "nov": 11, "dic": 12, "dec": 12, "dez": 12,
}  # fmt: skip

WEEKDAYS: dict[str, int] = {
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5,
    "domingo": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
    "segunda": 0, "terca": 1, "quarta": 2, "quinta": 3, "sexta": 4,
}  # fmt: skip
# Portuguese weekday names that are also ordinary words need a cue ("na quinta", "quinta-feira").
_AMBIGUOUS_WD = {"segunda", "quarta", "quinta"}

_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_WD_RE = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th|ro|ero|er|do|to|vo|mo|no|o|a)?"
_YEAR = r"(?:(?:\s*,?\s*(?:de|del|of)?\s*)(?P<y>(?:19|20)\d\d))?"
_AFTER_NUMBER_NOT_DATE = (
    r"(?!\s*(?:noches?|nights?|noites?|nts?\b|personas?|adult|people|persons?|pessoas?|"
    r"ninos?|ninas?|kids?|child|crianc|hijos?|filhos?|horas?|hours?|hrs?\b|h\b|:|dias?\b|"
    r"days?\b|am\b|pm\b|euros?|eur\b|usd|dolares|dollars|reais|%|habitacion|rooms?\b|quartos?|"
    r"camas?|beds?|huesped|guests?|hosped|pax\b|min|semanas?|weeks?|mes(?:es)?\b|months?|"
    r"anos?\b|years?|estrellas|stars?|estrelas|[.,]\d))"
)

_MD_MONTH_RE = "|".join(
    sorted(
        (
            k
            for k in MONTHS
            if k not in {"out", "set", "ago", "dez", "mai", "fev", "dic", "ene", "abr"}
        ),
        key=len,
        reverse=True,
    )
)
_DAY_RANGE_DM = re.compile(
    rf"\b(?P<d1>{DAY_RE}){_ORD}\s*(?:-|al|a|to|ao|y|e|and|hasta el|hasta|till|until|ate)\s*"
    rf"(?:el\s+|the\s+|o\s+|dia\s+)?(?P<d2>{DAY_RE}){_ORD}(?:\s*(?:de|of)\s*|\s+)"
    rf"(?P<m>{_MONTH_RE})\b\.?{_YEAR}"
)
_DAY_RANGE_MD = re.compile(
    rf"\b(?P<m>{_MD_MONTH_RE})\.?\s+(?:the\s+)?(?P<d1>{DAY_RE}){_ORD}\s*"
    rf"(?:-|to|through|thru|till|until|and)\s*(?:the\s+)?(?P<d2>{DAY_RE}){_ORD}\b{_YEAR}"
)
_DM = re.compile(
    rf"\b(?P<d>{DAY_RE}){_ORD}(?:\s*(?:de|of|del)\s*|\s+|\s*/\s*)(?:the\s+month\s+of\s+)?"
    rf"(?P<m>{_MONTH_RE})\b\.?{_YEAR}"
)
_MD = re.compile(rf"\b(?P<m>{_MD_MONTH_RE})\.?\s+(?:the\s+)?(?P<d>{DAY_RE}){_ORD}\b{_YEAR}")
_NUMERIC = re.compile(
    r"(?<![\d/.\-+])(?P<d>\d{1,2})(?P<sep>[/\-.])(?P<m>\d{1,2})(?:(?P=sep)(?P<y>\d{4}|\d{2}))?"
    r"(?![\d/]|\.\d|-\d)"
)
_ISO = re.compile(r"\b(?P<y>(?:19|20)\d\d)-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b")
_PASADO = re.compile(
    r"\b(?:pasado\s+manana|(?:the\s+)?day\s+after\s+tomorrow|depois\s+de\s+amanha)\b"
)
_MANANA = re.compile(r"\b(?:manana|tomorrow|tomorow|tmrw|tmr|amanha)\b")
_HOY = re.compile(r"\b(?:hoy|today|hoje|tonight|esta\s+noche|hoje\s+a\s+noite|esta\s+noite)\b")
_IN_N_DAYS = re.compile(
    rf"\b(?:dentro\s+de|en|in|daqui\s+a|em|within)\s+(?P<n>{NUM_RE}|un|a)\s+"
    r"(?P<u>dias?|days?|semanas?|weeks?)\b"
)
_N_DAYS_FROM_NOW = re.compile(rf"\b(?P<n>{NUM_RE})\s+(?P<u>days?|weeks?)\s+from\s+(?:now|today)\b")
_WEEKEND = re.compile(
    r"\b(?:(?:el|este|ese|proximo|el\s+proximo|this|next|the|this\s+coming|o|neste|nesse|no|"
    r"proximo)\s+)?(?:finde(?:\s+semana)?|fin\s+de\s+semana|fin\s+de\s+semana\s+largo|"
    r"week-?end|fim\s+de\s+semana|fds|"
    r"fin\s+de(?!\s+(?:mes|ano|anyo|temporada|semestre|curso|verano|invierno|year|month)\b))(?:\s+(?:que\s+viene|que\s+vem|proximo))?\b"
)
_WEEKDAY = re.compile(
    r"\b(?P<pre>(?:el\s+proximo|el|este|esta|proximo|proxima|next|this\s+coming|this|coming|"
    r"on|na|no|nesta|neste|o|a|ate|de|desde\s+el)\s+)?"
    rf"(?P<wd>{_WD_RE})(?P<feira>\s*-?\s*feira)?\b(?:\s+(?:que\s+viene|que\s+vem))?"
)
_BARE_DAY = re.compile(
    r"\b(?:el|del|al|dia|day|the|o\s+dia|ao\s+dia|do\s+dia|from|to|till|until|through|"
    r"hasta(?:\s+el)?|desde(?:\s+el)?|entre(?:\s+el|\s+o)?|para\s+el|pro\s+dia|no\s+dia|"
    r"a\s+partir\s+del?|a\s+partir\s+do\s+dia|ate(?:\s+o)?(?:\s+dia)?|on\s+the|y\s+el|"
    rf"and\s+the|e\s+o|{_WD_RE})\s+(?P<d>\d{{1,2}})(?P<ord>{_ORD})\b" + _AFTER_NUMBER_NOT_DATE
)
_ORDINAL_DAY = re.compile(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)\b" + _AFTER_NUMBER_NOT_DATE)

_RANGE_CONNECTOR = re.compile(
    r"^\s*(?:,\s*)?(?:-|al|a|a el|hasta|hasta el|to|to the|till|until|through|thru|and|and the|"
    r"y|y el|e|e o|ao|ao dia|ate|ate o|ate o dia|ate dia|a o)\s*(?:dia\s+)?$"
)
_CHECKOUT_CUE = re.compile(
    r"(?:hasta|until|till|\bate\b|salida|salgo|salimos|saldr|check\s*-?\s*out|leaving|leave|"
    r"departure|depart|saida|saio|saimos|vamos\s+embora|me\s+voy|nos\s+vamos|regreso|volvemos|"
    r"out\s+on|out\s+the)[^.!?]{0,14}$"
)
_CHECKIN_CUE = re.compile(
    r"(?:llegada|llego|llegamos|llegaremos|check\s*-?\s*in|arrive|arriving|arrival|chegada|chego|"
    r"chegamos|chegaremos|entrada|entramos|desde|from|a\s+partir)[^.!?]{0,14}$"
)


@dataclass
class DateMention:
    start: int
    end: int
    value: date | None = None
    day: int | None = None  # day-only mention, month/year to be inferred
    month: int | None = None
    year: int | None = None
    role: str | None = None
    weekend: bool = False
    linked_to: int | None = field(default=None)


@dataclass
class DateEntity:
    type: str  # check_in / check_out
    value: date
    start: int
    end: int


def _next_occurrence(ref: date, month: int, day: int, year: int | None) -> date | None:
    if year is not None:
        if year < 100:
            year += 2000
        try:
            return date(year, month, day)
        except ValueError:
            return None
    for y in (ref.year, ref.year + 1, ref.year + 2):
        try:
            d = date(y, month, day)
        except ValueError:
            continue
        if d >= ref:
            return d
    return None


def _next_day_number(ref: date, day: int) -> date | None:
    y, m = ref.year, ref.month
    for _ in range(13):
        if day <= calendar.monthrange(y, m)[1]:
            d = date(y, m, day)
            if d >= ref:
                return d
        m += 1
        if m > 12:
            y, m = y + 1, 1
    return None


def _free(taken: list[tuple[int, int]], s: int, e: int) -> bool:
    return all(e <= a or s >= b for a, b in taken)


def find_date_mentions(f: str, ref: date) -> list[DateMention]:
    out: list[DateMention] = []
    taken: list[tuple[int, int]] = []

    def add(m: DateMention) -> None:
        out.append(m)
        taken.append((m.start, m.end))

    # Day ranges sharing one month: "del 15 al 17 de agosto", "August 15-17".
    for rx in (_DAY_RANGE_DM, _DAY_RANGE_MD):
        for mt in rx.finditer(f):
            if not _free(taken, mt.start(), mt.end()):
                continue
            mon = MONTHS[mt.group("m")]
            y = int(mt.group("y")) if mt.group("y") else None
            d1, d2 = day_to_int(mt.group("d1")) or 0, day_to_int(mt.group("d2")) or 0
            if rx is _DAY_RANGE_DM:
                a = DateMention(mt.start("d1"), mt.end("d1"), day=d1, month=mon, year=y)
                b = DateMention(mt.start("d2"), mt.end(), day=d2, month=mon, year=y)
            else:
                a = DateMention(mt.start(), mt.end("d1"), day=d1, month=mon, year=y)
                b = DateMention(mt.start("d2"), mt.end(), day=d2, month=mon, year=y)
            a.role, b.role = "check_in", "check_out"
            a.linked_to = 2
            add(a)
            add(b)
    for rx in (_DM, _MD):
        for mt in rx.finditer(f):
            if not _free(taken, mt.start(), mt.end()):
                continue
            d = day_to_int(mt.group("d")) or 0
            if not 1 <= d <= 31:
                continue
            y = int(mt.group("y")) if mt.group("y") else None
            add(DateMention(mt.start(), mt.end(), day=d, month=MONTHS[mt.group("m")], year=y))
    for mt in _ISO.finditer(f):
        try:
            iso = date(int(mt.group("y")), int(mt.group("m")), int(mt.group("d")))
        except ValueError:
            continue
        add(DateMention(mt.start(), mt.end(), value=iso))
    for mt in _NUMERIC.finditer(f):
        if not _free(taken, mt.start(), mt.end()):
            continue
        d, mo = int(mt.group("d")), int(mt.group("m"))
        if mt.group("sep") == "." and not mt.group("y"):
            continue
        if mo > 12 and d <= 12:  # a US-style date slipped in: keep it a valid date
            d, mo = mo, d
        if not (1 <= d <= 31 and 1 <= mo <= 12):
            continue
        y = int(mt.group("y")) if mt.group("y") else None
        add(DateMention(mt.start(), mt.end(), day=d, month=mo, year=y))
    for mt in _PASADO.finditer(f):
        if _free(taken, mt.start(), mt.end()):
            add(DateMention(mt.start(), mt.end(), value=ref + timedelta(days=2)))
    for mt in _MANANA.finditer(f):
        if not _free(taken, mt.start(), mt.end()):
            continue
        before = f[max(0, mt.start() - 8) : mt.start()]
        if mt.group(0) == "manana" and re.search(r"(?:\bla|\besta|\blas)\s+$", before):
            continue  # "por la mañana" = in the morning
        add(DateMention(mt.start(), mt.end(), value=ref + timedelta(days=1)))
    for mt in _HOY.finditer(f):
        if _free(taken, mt.start(), mt.end()):
            add(DateMention(mt.start(), mt.end(), value=ref))
    for rx in (_IN_N_DAYS, _N_DAYS_FROM_NOW):
        for mt in rx.finditer(f):
            if not _free(taken, mt.start(), mt.end()):
                continue
            n = 1 if mt.group("n") in ("un", "a") else to_int(mt.group("n"))
            if n is None:
                continue
            if mt.group("u").startswith(("sem", "week")):
                n *= 7
            add(DateMention(mt.start(), mt.end(), value=ref + timedelta(days=n)))
    for mt in _WEEKEND.finditer(f):
        if not _free(taken, mt.start(), mt.end()):
            continue
        fri = ref + timedelta(days=(4 - ref.weekday()) % 7)
        add(DateMention(mt.start(), mt.end(), value=fri, weekend=True))
    for mt in _WEEKDAY.finditer(f):
        if not _free(taken, mt.start(), mt.end()):
            continue
        wd = mt.group("wd")
        pre = (mt.group("pre") or "").strip()
        if (
            wd in _AMBIGUOUS_WD
            and not (
                mt.group("feira")
                or pre in ("na", "nesta", "proxima", "a", "ate", "de")
                # "chegamos sábado e saímos segunda": after arriving/leaving it is the weekday.
                or re.search(
                    r"(?:\bsai\w*|\bsaida|\bcheg\w*|\bvolt\w*|\bentrada|check-?(?:in|out))\s*$",
                    f[: mt.start("wd")],
                )
            )
        ):
            continue
        after = f[mt.end() :]
        if re.match(r"\s*(?:el\s+|the\s+|dia\s+)?\d", after) or re.match(
            rf"\s*,\s*(?:el\s+|the\s+)?\d{{1,2}}(?:st|nd|rd|th|\s+(?:de\s+|of\s+)?(?:{_MONTH_RE}))",
            after,
        ):
            continue  # "viernes 15", "Friday, 15 March": the day number is the date
        start = (
            mt.start("pre")
            if pre and pre not in ("ate", "de", "desde el", "on", "a")
            else mt.start("wd")
        )
        target = ref + timedelta(days=(WEEKDAYS[wd] - ref.weekday()) % 7)
        add(DateMention(start, mt.end(), value=target))
    for rx in (_BARE_DAY, _ORDINAL_DAY):
        for mt in rx.finditer(f):
            s, e = mt.start("d"), mt.end()
            if not _free(taken, s, e):
                continue
            d = int(mt.group("d"))
            if 1 <= d <= 31:
                add(DateMention(s, e, day=d))
    out.sort(key=lambda m: m.start)
    return out


def _link_and_resolve(f: str, ms: list[DateMention], ref: date) -> None:
    # Ranges: "del 5 al 8", "10/03 - 15/03", "from the 10th to the 15th of March".
    for a, b in pairwise(ms):
        if _RANGE_CONNECTOR.match(f[a.end : b.start]) and not a.weekend and not b.weekend:
            if a.linked_to is None:
                a.linked_to = 1
            if a.role is None:
                a.role = "check_in"
            b.role = "check_out"
            if a.value is None and a.month is None and b.month is not None:
                a.month, a.year = b.month, b.year
                a.linked_to = 2  # inherited month from b
            if b.value is None and b.month is None and a.month is not None:
                b.month, b.year = a.month, a.year
    for m in ms:
        if m.value is not None:
            continue
        if m.month is not None and m.day is not None:
            m.value = _next_occurrence(ref, m.month, m.day, m.year)
        elif m.day is not None:
            m.value = _next_day_number(ref, m.day)
    for a, b in pairwise(ms):
        if (
            a.role == "check_in"
            and b.role == "check_out"
            and a.value
            and b.value
            and b.value <= a.value
        ):
            if a.linked_to == 2:  # "del 30 al 2 de agosto": a is in the month before
                y, mo = (
                    (b.value.year, b.value.month - 1)
                    if b.value.month > 1
                    else (b.value.year - 1, 12)
                )
                with contextlib.suppress(ValueError):
                    a.value = date(y, mo, a.value.day)
            elif b.day is not None and b.year is None:
                nxt = _next_day_number(a.value + timedelta(days=1), b.value.day)
                if nxt is not None and (b.month is None or b.month == a.value.month):
                    b.value = nxt
                elif b.month is not None:
                    b.value = _next_occurrence(a.value, b.month, b.value.day, None)


def extract_dates(f: str, ref: date) -> list[DateEntity]:
    """check_in / check_out entities from folded text ``f``."""
    ms = find_date_mentions(f, ref)
    if not ms:
        return []
    _link_and_resolve(f, ms, ref)
    prev_end = 0
    for m in ms:
        if m.role is None:
            window = f[max(prev_end, m.start - 30) : m.start]
            if _CHECKOUT_CUE.search(window):
                m.role = "check_out"
            elif _CHECKIN_CUE.search(window):
                m.role = "check_in"
        prev_end = m.end
    out: list[DateEntity] = []
    have_in = any(m.role == "check_in" for m in ms if m.value)
    have_out = any(m.role == "check_out" for m in ms if m.value)
    for m in ms:
        if m.value is None:
            continue
        role = m.role
        if role is None:
            if not have_in:
                role, have_in = "check_in", True
            elif not have_out:
                role, have_out = "check_out", True
            else:
                continue
        out.append(DateEntity(role, m.value, m.start, m.end))
        if m.weekend and role == "check_in" and not have_out:
            out.append(DateEntity("check_out", m.value + timedelta(days=2), m.start, m.end))
            have_out = True
    # A check-out before its check-in is a misreading; drop the check-out.
    ins = [e for e in out if e.type == "check_in"]
    if ins:
        out = [e for e in out if not (e.type == "check_out" and e.value <= ins[0].value)]
    return out
