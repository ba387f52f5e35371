"""Find and parse the dates news pages print ('August 6, 2018', 'Monday, Aug. 6, 2018')."""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+)"
_MDY = _WEEKDAY + r"?" + _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})"
_DMY = _WEEKDAY + r"?(?P<day>\d{1,2})\s+" + _MONTH + r",?\s+(?P<year>\d{4})"
_ISO = r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"

_PATTERNS = [re.compile(p, re.IGNORECASE) for p in (_MDY, _DMY)]
_ISO_RE = re.compile(_ISO)
#: A date phrase inside a sentence that names the weekday, as wire photo captions do
#: ("... in Moscow, Russia, Monday, Aug. 6, 2018.").
CAPTION_DATE = re.compile(
    r",\s+(?:mon|tues|wednes|thurs|fri|satur|sun)day,\s+" + _MONTH + r"\s+\d{1,2},\s+\d{4}",
    re.IGNORECASE,
)


def _build(year: str, month: str, day: str) -> dt.date | None:
    m = int(month) if month.isdigit() else _MONTHS[month.lower().rstrip(".")]
    try:
        return dt.date(int(year), m, int(day))
    except ValueError:
        return None


def parse_date_line(line: str) -> dt.date | None:
    """The date if the whole line is a date (optionally with a weekday), else None."""
    text = line.strip().rstrip(".")
    for pattern in (*_PATTERNS, _ISO_RE):
        match = pattern.fullmatch(text)
        if match:
            return _build(match["year"], match["month"], match["day"])
    return None


def is_date_line(line: str) -> bool:
    """True when the line is only a date, valid or not ('February 30, 2018' included)."""
    text = line.strip().rstrip(".")
    return any(p.fullmatch(text) for p in (*_PATTERNS, _ISO_RE))


def find_date(text: str) -> dt.date | None:
    """The first valid date written anywhere in text."""
    hits: list[re.Match[str]] = []
    for pattern in _PATTERNS:
        hits.extend(pattern.finditer(text))
    for match in sorted(hits, key=lambda m: m.start()):
        found = _build(match["year"], match["month"], match["day"])
        if found:
            return found
    return None
