"""What a build is made from, as one digest: when raw/ and everything else a build reads
are unchanged since the build in out/, a rebuild has nothing to do.

The digest covers each raw file's path and SHA-256 (bytes only: nothing is decoded or
parsed), kg's own code, the spaCy and model versions, the settings that shape the graph,
the authority file, the shapes and ontology, and SOURCE_DATE_EPOCH."""

from __future__ import annotations

import hashlib
import json
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import kg
from kg.dumps import file_sha256, read_checksums
from kg.settings import Settings
from kg.sources import SourceError, find_raw_files
from kg.store.oxigraph import STORE_DIR

#: Settings that change what a build writes (serving settings do not).
BUILD_SETTINGS = (
    "base_iri",
    "language",
    "license",
    "spacy_model",
    "max_raw_bytes",
    "summary_from",
    "store",
    "sparql_endpoint",
    "sparql_update_endpoint",
    "sparql_gsp",
)
#: Packages whose code is not kg's but whose version changes the graph.
PACKAGES = ("spacy", "pyshacl", "pyshacl-turbo", "pyoxigraph", "rdflib")


def _tree(folder: Path, pattern: str = "*") -> list[tuple[str, str]]:
    """(relative path, sha256) of the files under folder, sorted; [] when it is missing."""
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.rglob(pattern) if p.is_file() and "__pycache__" not in p.parts)
    return [(p.relative_to(folder).as_posix(), file_sha256(p)) for p in files]


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "missing"


def _code() -> list[tuple[str, str]]:
    """kg's own modules but the web layer and the CLI, which do not shape the graph."""
    root = Path(kg.__file__).parent
    return [(name, digest) for name, digest in _tree(root, "*.py") if not name.startswith(("web/", "cli.py"))]


def inputs_digest(settings: Settings, *, validate: bool, allow_invalid: bool) -> str:
    """One SHA-256 over everything a build of settings.raw_dir reads and decides by."""
    raw: list[tuple[str, str]] = []
    try:
        files = find_raw_files(settings.raw_dir)
    except SourceError:  # no raw folder: the build itself reports it
        files = []
    for path in files:
        try:
            raw.append((path.relative_to(settings.raw_dir).as_posix(), file_sha256(path)))
        except OSError as exc:
            raw.append((path.relative_to(settings.raw_dir).as_posix(), f"unreadable: {exc}"))
    parts: dict[str, Any] = {
        "kg": kg.__version__,
        "code": _code(),
        "packages": {name: _version(name) for name in (*PACKAGES, settings.spacy_model)},
        "settings": {name: str(getattr(settings, name)) for name in BUILD_SETTINGS},
        "authority": file_sha256(settings.authority_file) if settings.authority_file.is_file() else None,
        "shapes": _tree(settings.shapes_dir),
        "ontology": _tree(settings.ontology_dir),
        "source_date_epoch": os.environ.get("SOURCE_DATE_EPOCH"),
        "validate": validate,
        "allow_invalid": allow_invalid,
        "raw": raw,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def unchanged_build(out_dir: Path, digest: str, manifest_file: str, local_store: bool = True) -> dict[str, Any] | None:
    """The manifest of the build in out_dir when it was made from exactly these inputs
    and every file its checksums list (and its embedded store, when local_store) are
    still there; else None."""
    try:
        manifest: dict[str, Any] = json.loads((out_dir / manifest_file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("inputs") != digest:
        return None
    listed = read_checksums(out_dir)
    if not listed or not all((out_dir / name).is_file() for name in listed):
        return None
    if local_store and not (out_dir / STORE_DIR).is_dir():
        return None
    return manifest
