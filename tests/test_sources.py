"""Reading raw files: encodings, BOM, line endings, empty and binary files."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from kg.sources import SourceError, decode, find_raw_files, read_source

TEXT = "Café talks\n\nBy Ana Núñez\n\nAugust 6, 2018\n\nPARIS — Talks “began” today.\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("cp1252"), "cp1252"),
        (TEXT.replace("\n", "\r\n").encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16"),
    ],
    ids=["utf8", "utf8-bom", "cp1252", "crlf", "utf16"],
)
def test_decodings_give_the_same_text(tmp_path: Path, data: bytes, encoding: str) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(data)
    source = read_source(path)
    assert source.text == TEXT
    assert source.encoding == encoding
    assert source.size == len(data)
    assert len(source.sha256) == 64


def test_nfc_normalisation_makes_one_spelling(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Cafe\u0301\n\nbody", encoding="utf-8")
    assert read_source(path).text.startswith("Café")


@pytest.mark.parametrize("content", [b"", b"   \n\r\n\t", codecs.BOM_UTF8])
def test_empty_file_is_an_error_naming_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=r"empty\.txt: empty file"):
        read_source(path)


def test_binary_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "img.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    with pytest.raises(SourceError, match="binary"):
        read_source(path)


def test_cp1252_fallback_keeps_smart_quotes() -> None:
    text, encoding = decode("“quoted” – dash".encode("cp1252"))
    assert (text, encoding) == ("“quoted” – dash", "cp1252")


def test_find_raw_files_sorted_and_skips_hidden(tmp_path: Path) -> None:
    for name in ["b.txt", "a.txt", ".hidden.txt", "notes.md"]:
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.txt").write_text("x", encoding="utf-8")
    assert [p.name for p in find_raw_files(tmp_path)] == ["a.txt", "b.txt", "c.txt"]


def test_missing_raw_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        find_raw_files(tmp_path / "nope")
