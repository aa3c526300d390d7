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
    for candidate_year in (ref.year, ref.year + 1, ref.year + 2):
        try:
            candidate = date(candidate_year, month, day)
        except ValueError:
            continue
        if candidate >= ref:
            return candidate
    return None


def _next_day_number(ref: date, day: int) -> date | None:
    year, month = ref.year, ref.month
    for _ in range(13):
        if day <= calendar.monthrange(year, month)[1]:
            candidate = date(year, month, day)
            if candidate >= ref:
                return candidate
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return None


def _free(taken: list[tuple[int, int]], start: int, end: int) -> bool:
    return all(end <= a or start >= b for a, b in taken)


def find_date_mentions(folded: str, ref: date) -> list[DateMention]:
    out: list[DateMention] = []
    taken: list[tuple[int, int]] = []

    def add(mention: DateMention) -> None:
        out.append(mention)
        taken.append((mention.start, mention.end))

    # Day ranges sharing one month: "del 15 al 17 de agosto", "August 15-17".
    for rx in (_DAY_RANGE_DM, _DAY_RANGE_MD):
        for match in rx.finditer(folded):
            if not _free(taken, match.start(), match.end()):
                continue
            mon = MONTHS[match.group("m")]
            year = int(match.group("y")) if match.group("y") else None
            d1, d2 = day_to_int(match.group("d1")) or 0, day_to_int(match.group("d2")) or 0
            if rx is _DAY_RANGE_DM:
                first = DateMention(
                    match.start("d1"), match.end("d1"), day=d1, month=mon, year=year
                )
                second = DateMention(match.start("d2"), match.end(), day=d2, month=mon, year=year)
            else:
                first = DateMention(match.start(), match.end("d1"), day=d1, month=mon, year=year)
                second = DateMention(match.start("d2"), match.end(), day=d2, month=mon, year=year)
            first.role, second.role = "check_in", "check_out"
            first.linked_to = 2
            add(first)
            add(second)
    for rx in (_DM, _MD):
        for match in rx.finditer(folded):
            if not _free(taken, match.start(), match.end()):
                continue
            day = day_to_int(match.group("d")) or 0
            if not 1 <= day <= 31:
                continue
            year = int(match.group("y")) if match.group("y") else None
            add(
                DateMention(
                    match.start(), match.end(), day=day, month=MONTHS[match.group("m")], year=year
                )
            )
    for match in _ISO.finditer(folded):
        try:
            iso = date(int(match.group("y")), int(match.group("m")), int(match.group("d")))
        except ValueError:
            continue
        add(DateMention(match.start(), match.end(), value=iso))
    for match in _NUMERIC.finditer(folded):
        if not _free(taken, match.start(), match.end()):
            continue
        day, mo = int(match.group("d")), int(match.group("m"))
        if match.group("sep") == "." and not match.group("y"):
            continue
        if mo > 12 and day <= 12:  # a US-style date slipped in: keep it a valid date
            day, mo = mo, day
        if not (1 <= day <= 31 and 1 <= mo <= 12):
            continue
        year = int(match.group("y")) if match.group("y") else None
        add(DateMention(match.start(), match.end(), day=day, month=mo, year=year))
    for match in _PASADO.finditer(folded):
        if _free(taken, match.start(), match.end()):
            add(DateMention(match.start(), match.end(), value=ref + timedelta(days=2)))
    for match in _MANANA.finditer(folded):
        if not _free(taken, match.start(), match.end()):
            continue
        before = folded[max(0, match.start() - 8) : match.start()]
        if match.group(0) == "manana" and re.search(r"(?:\bla|\besta|\blas)\s+$", before):
            continue  # "por la mañana" = in the morning
        add(DateMention(match.start(), match.end(), value=ref + timedelta(days=1)))
    for match in _HOY.finditer(folded):
        if _free(taken, match.start(), match.end()):
            add(DateMention(match.start(), match.end(), value=ref))
    for rx in (_IN_N_DAYS, _N_DAYS_FROM_NOW):
        for match in rx.finditer(folded):
            if not _free(taken, match.start(), match.end()):
                continue
            days = 1 if match.group("n") in ("un", "a") else to_int(match.group("n"))
            if days is None:
                continue
            if match.group("u").startswith(("sem", "week")):
                days *= 7
            add(DateMention(match.start(), match.end(), value=ref + timedelta(days=days)))
    for match in _WEEKEND.finditer(folded):
        if not _free(taken, match.start(), match.end()):
            continue
        fri = ref + timedelta(days=(4 - ref.weekday()) % 7)
        add(DateMention(match.start(), match.end(), value=fri, weekend=True))
    for match in _WEEKDAY.finditer(folded):
        if not _free(taken, match.start(), match.end()):
            continue
        wd = match.group("wd")
        pre = (match.group("pre") or "").strip()
        if (
            wd in _AMBIGUOUS_WD
            and not (
                match.group("feira")
                or pre in ("na", "nesta", "proxima", "a", "ate", "de")
                # "chegamos sábado e saímos segunda": after arriving/leaving it is the weekday.
                or re.search(
                    r"(?:\bsai\w*|\bsaida|\bcheg\w*|\bvolt\w*|\bentrada|check-?(?:in|out))\s*$",
                    folded[: match.start("wd")],
                )
            )
        ):
            continue
        after = folded[match.end() :]
        if re.match(r"\s*(?:el\s+|the\s+|dia\s+)?\d", after) or re.match(
            rf"\s*,\s*(?:el\s+|the\s+)?\d{{1,2}}(?:st|nd|rd|th|\s+(?:de\s+|of\s+)?(?:{_MONTH_RE}))",
            after,
        ):
            continue  # "viernes 15", "Friday, 15 March": the day number is the date
        start = (
            match.start("pre")
            if pre and pre not in ("ate", "de", "desde el", "on", "a")
            else match.start("wd")
        )
        target = ref + timedelta(days=(WEEKDAYS[wd] - ref.weekday()) % 7)
        add(DateMention(start, match.end(), value=target))
    for rx in (_BARE_DAY, _ORDINAL_DAY):
        for match in rx.finditer(folded):
            day_start, end = match.start("d"), match.end()
            if not _free(taken, day_start, end):
                continue
            day = int(match.group("d"))
            if 1 <= day <= 31:
                add(DateMention(day_start, end, day=day))
    out.sort(key=lambda m: m.start)
    return out


def _link_and_resolve(folded: str, mentions: list[DateMention], ref: date) -> None:
    # Ranges: "del 5 al 8", "10/03 - 15/03", "from the 10th to the 15th of March".
    for first, second in pairwise(mentions):
        if (
            _RANGE_CONNECTOR.match(folded[first.end : second.start])
            and not first.weekend
            and not second.weekend
        ):
            if first.linked_to is None:
                first.linked_to = 1
            if first.role is None:
                first.role = "check_in"
            second.role = "check_out"
            if first.value is None and first.month is None and second.month is not None:
                first.month, first.year = second.month, second.year
                first.linked_to = 2  # inherited month from b
            if second.value is None and second.month is None and first.month is not None:
                second.month, second.year = first.month, first.year
    for mention in mentions:
        if mention.value is not None:
            continue
        if mention.month is not None and mention.day is not None:
            mention.value = _next_occurrence(ref, mention.month, mention.day, mention.year)
        elif mention.day is not None:
            mention.value = _next_day_number(ref, mention.day)
    for first, second in pairwise(mentions):
        if (
            first.role == "check_in"
            and second.role == "check_out"
            and first.value
            and second.value
            and second.value <= first.value
        ):
            if first.linked_to == 2:  # "del 30 al 2 de agosto": a is in the month before
                year, mo = (
                    (second.value.year, second.value.month - 1)
                    if second.value.month > 1
                    else (second.value.year - 1, 12)
                )
                with contextlib.suppress(ValueError):
                    first.value = date(year, mo, first.value.day)
            elif second.day is not None and second.year is None:
                nxt = _next_day_number(first.value + timedelta(days=1), second.value.day)
                if nxt is not None and (second.month is None or second.month == first.value.month):
                    second.value = nxt
                elif second.month is not None:
                    second.value = _next_occurrence(
                        first.value, second.month, second.value.day, None
                    )


def extract_dates(folded: str, ref: date) -> list[DateEntity]:
    """check_in / check_out entities from folded text ``folded``."""
    mentions = find_date_mentions(folded, ref)
    if not mentions:
        return []
    _link_and_resolve(folded, mentions, ref)
    prev_end = 0
    for mention in mentions:
        if mention.role is None:
            window = folded[max(prev_end, mention.start - 30) : mention.start]
            if _CHECKOUT_CUE.search(window):
                mention.role = "check_out"
            elif _CHECKIN_CUE.search(window):
                mention.role = "check_in"
        prev_end = mention.end
    out: list[DateEntity] = []
    have_in = any(m.role == "check_in" for m in mentions if m.value)
    have_out = any(m.role == "check_out" for m in mentions if m.value)
    for mention in mentions:
        if mention.value is None:
            continue
        role = mention.role
        if role is None:
            if not have_in:
                role, have_in = "check_in", True
            elif not have_out:
                role, have_out = "check_out", True
            else:
                continue
        out.append(DateEntity(role, mention.value, mention.start, mention.end))
        if mention.weekend and role == "check_in" and not have_out:
            out.append(
                DateEntity(
                    "check_out", mention.value + timedelta(days=2), mention.start, mention.end
                )
            )
            have_out = True
    # A check-out before its check-in is a misreading; drop the check-out.
    ins = [e for e in out if e.type == "check_in"]
    if ins:
        out = [e for e in out if not (e.type == "check_out" and e.value <= ins[0].value)]
    return out
