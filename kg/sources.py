"""Find raw article files, read them, hash them and decode them to clean Unicode text."""

from __future__ import annotations

import codecs
import hashlib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kg.settings import Settings

#: File suffixes read as plain-text news pages.
TEXT_SUFFIXES = (".txt", ".text")


class SourceError(Exception):
    """A raw file that cannot become an article; str() names the file and the reason."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class RawSource:
    """One raw file: its name, bytes facts and decoded text (NFC, LF line ends, no BOM)."""

    path: Path
    name: str
    size: int
    sha256: str
    encoding: str
    text: str
    media_type: str = "text/plain"


def find_raw_files(raw_dir: Path) -> list[Path]:
    """Article files under raw_dir, sorted by relative path; hidden files are skipped."""
    if not raw_dir.is_dir():
        raise SourceError(raw_dir, "raw folder does not exist")
    files = [
        p
        for p in raw_dir.rglob("*")
        if p.is_file()
        and p.suffix.lower() in TEXT_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(raw_dir).parts)
    ]
    return sorted(files, key=lambda p: p.relative_to(raw_dir).as_posix())


def _cp1252_for_bad_bytes(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: bytes that are not UTF-8 are read as CP1252."""
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.end].decode("cp1252", errors="replace"), error.end


codecs.register_error("kg-cp1252", _cp1252_for_bad_bytes)


def decode(data: bytes) -> tuple[str, str]:
    """Decode bytes as UTF-8 (with or without BOM) or UTF-16 (with BOM); bytes that are not
    UTF-8 are read as CP1252, so a file mixing both keeps both. Return (text, encoding):
    "utf-8", "utf-8-sig", "utf-16", "cp1252" or "utf-8+cp1252" (mixed)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8) :] if bom else data
    try:
        return body.decode("utf-8"), "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError:
        mixed = body.decode("utf-8", errors="kg-cp1252")
        return mixed, "cp1252" if mixed == body.decode("cp1252", errors="replace") else "utf-8+cp1252"


def normalise_text(text: str) -> str:
    """NFC, LF line endings, no stray NUL or other C0 controls but tab and newline."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\t\n" or unicodedata.category(ch) != "Cc")
    return unicodedata.normalize("NFC", text)


#: Largest raw file read, in bytes: the max_raw_bytes setting's default.
MAX_RAW_BYTES: int = Settings.max_raw_bytes


def read_source(path: Path, max_bytes: int = MAX_RAW_BYTES) -> RawSource:
    """Read one raw file; raise SourceError for an unreadable, oversized, binary or empty one."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(
                path, f"file is {size:,} bytes; the limit is {max_bytes:,} (setting max_raw_bytes): not an article?"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from exc
    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SourceError(path, "binary file (NUL bytes), not a text article")
    text, encoding = decode(data)
    text = normalise_text(text)
    if not text.strip():
        raise SourceError(path, "empty file: no text to build an article from")
    return RawSource(
        path=path,
        name=path.name,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=encoding,
        text=text,
    )


def iter_sources(raw_dir: Path, max_bytes: int = MAX_RAW_BYTES) -> Iterator[RawSource | SourceError]:
    """Each raw file as a RawSource, or the SourceError saying why it cannot be one."""
    for path in find_raw_files(raw_dir):
        try:
            yield read_source(path, max_bytes)
        except SourceError as exc:
            yield exc
