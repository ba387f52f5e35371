"""The build's page lists of summarised entities (kg.summaries.SummaryPages)."""

from __future__ import annotations

from pathlib import Path

from kg.summaries import EntitySummary, SummaryPages


def test_summary_pages_read_each_page_of_an_entity(tmp_path: Path) -> None:
    path = tmp_path / "summary-pages.txt"
    path.write_bytes(b"http://x/a/1\nhttp://x/a/2\nhttp://x/a/3\nhttp://x/b/1\n")
    entity = EntitySummary([], pages=[0, 26, 39])  # two a page: a/1 a/2 | a/3
    other = EntitySummary([], pages=[39, 52])
    pages = SummaryPages(path)
    try:
        assert pages.page(entity, 1) == ["http://x/a/1", "http://x/a/2"]
        assert pages.page(entity, 2) == ["http://x/a/3"]
        assert pages.page(entity, 3) == []  # past the last page
        assert pages.page(other, 1) == ["http://x/b/1"]
        assert pages.page(EntitySummary([]), 1) is None  # a summary without page lists
        path.unlink()  # a rebuild replaced the folder: reads stay with the file that was opened
        assert pages.page(entity, 2) == ["http://x/a/3"]
    finally:
        pages.close()


def test_summary_pages_cannot_say_when_the_file_is_missing_or_short(tmp_path: Path) -> None:
    entity = EntitySummary([], pages=[0, 13, 26])
    missing = SummaryPages(tmp_path / "missing.txt")
    assert missing.page(entity, 1) is None
    short = tmp_path / "short.txt"
    short.write_bytes(b"http://x/a/1\n")
    pages = SummaryPages(short)
    try:
        assert pages.page(entity, 1) == ["http://x/a/1"]
        assert pages.page(entity, 2) is None  # the file ends before the page: ask the store
    finally:
        pages.close()
