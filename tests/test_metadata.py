"""Metadata of plain-text news pages."""

from __future__ import annotations

import datetime as dt

import pytest

from kg.extract.dates import find_date, parse_date_line
from kg.extract.metadata import MetadataError, extract_metadata


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("August 6, 2018", dt.date(2018, 8, 6)),
        ("Aug. 6, 2018", dt.date(2018, 8, 6)),
        ("Monday, Aug. 6, 2018", dt.date(2018, 8, 6)),
        ("Sept. 30, 2019", dt.date(2019, 9, 30)),
        ("6 August 2018", dt.date(2018, 8, 6)),
        ("2018-08-06", dt.date(2018, 8, 6)),
        ("February 30, 2018", None),
        ("August 2018 was hot", None),
    ],
)
def test_date_lines(line: str, expected: dt.date | None) -> None:
    assert parse_date_line(line) == expected


def test_find_date_in_caption() -> None:
    caption = "Sen. Rand Paul speaks in Moscow, Russia, Monday, Aug. 6, 2018. More text."
    assert find_date(caption) == dt.date(2018, 8, 6)


def test_repeated_headline_with_bar_is_one_headline() -> None:
    page = "ShareThis Page\nBig news today |\n\nBig news today\n\nLONDON — Body text here.\n"
    meta = extract_metadata(page)
    assert meta.headline == "Big news today"
    assert meta.body == "LONDON — Body text here."
    assert meta.dateline == "LONDON"


def test_byline_and_date_and_markup() -> None:
    page = "Headline here\n\nBy Jane Doe and John Roe\n\nMarch 3, 2020\n\nA <u>very</u> &amp; fine body.\n"
    meta = extract_metadata(page)
    assert meta.authors == ("Jane Doe", "John Roe")
    assert meta.date_published == dt.date(2020, 3, 3)
    assert meta.body == "A very & fine body."
    assert meta.word_count == 4


def test_footer_names_publisher_and_is_cut() -> None:
    page = "Head\n\nBody one.\n\nTribLIVE commenting policy\n\nYou are solely responsible.\n"
    meta = extract_metadata(page)
    assert meta.publisher == "TribLIVE"
    assert meta.body == "Body one."


def test_invalid_date_line_is_noted_not_guessed() -> None:
    meta = extract_metadata("Head\n\nFebruary 30, 2018\n\nBody.\n")
    assert meta.date_published is None
    assert any("not a valid date" in n for n in meta.notes)


@pytest.mark.parametrize("page", ["ShareThis Page\n", "Only a headline\n"])
def test_pages_without_headline_or_body_are_errors(page: str) -> None:
    with pytest.raises(MetadataError):
        extract_metadata(page)


def test_a_body_that_opens_with_a_date_is_not_a_caption() -> None:
    page = (
        "Flag vote\n\nMay 7, 2015\n\nThursday, May 7, 2015 On Tuesday, the government announced "
        "the start of a public process to suggest designs.\n\nSecond paragraph.\n"
    )
    meta = extract_metadata(page)
    assert meta.captions == ()
    assert meta.body.startswith("Thursday, May 7, 2015 On Tuesday")
