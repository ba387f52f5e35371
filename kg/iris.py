"""Minting of stable IRIs from the base IRI and stable keys.

Keys never depend on processing order: an article's key is its source file stem, an
entity's is its kind and normalised canonical name.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import URIRef

ENTITY_KINDS = ("person", "organization", "place", "event")

_SLUG_STRIP = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Lower-case ASCII slug: 'Sergey Kislyak' -> 'sergey-kislyak'.

    Text with no ASCII letters or digits (e.g. Cyrillic) falls back to a short hash so
    distinct names never share a slug.
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_STRIP.sub("-", folded.lower()).strip("-")
    if not slug:
        slug = "x-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return slug[:120]


_KEY_STRIP = re.compile(r"[^A-Za-z0-9._~-]+")
_MENTION_PATH = re.compile(r"article/[^/]+/mention/(?P<start>[0-9]+)-(?P<end>[0-9]+)")


def key_for_file(file_name: str) -> str:
    """Stable article key from a raw file name: its stem with IRI-unsafe runs as '-'."""
    stem = file_name.rsplit(".", 1)[0] if "." in file_name else file_name
    key = _KEY_STRIP.sub("-", unicodedata.normalize("NFC", stem)).strip("-.")
    return key[:120] if key else slugify(stem)


@dataclass(frozen=True)
class Minter:
    """Mints every IRI of a build from one base IRI (ending in '/')."""

    base: str

    def __post_init__(self) -> None:
        if not re.match(r"^https?://[^\s<>\"{}|\\^`]+/$", self.base):
            raise ValueError(f"base IRI must be an absolute http(s) IRI ending in '/': {self.base!r}")
        try:  # every IRI minted is the base and a path of safe characters: valid when the base is
            ox.NamedNode(self.base)
        except ValueError as exc:
            raise ValueError(f"base IRI is not a valid IRI ({exc}): {self.base!r}") from exc

    def _iri(self, path: str) -> URIRef:
        return URIRef(self.base + path)

    # articles and what hangs off them
    def article(self, key: str) -> URIRef:
        return self._iri(f"article/{key}")

    def article_graph(self, key: str) -> URIRef:
        return self._iri(f"graph/article/{key}")

    def image(self, key: str, index: int) -> URIRef:
        return self._iri(f"article/{key}/image/{index}")

    def mention(self, key: str, start: int, end: int) -> URIRef:
        return self._iri(self._mention_path(key, start, end))

    def mention_part(self, key: str, start: int, end: int, part: str) -> URIRef:
        """Target and selectors of a mention: part is 'target', 'position' or 'quote'."""
        return self._iri(f"{self._mention_path(key, start, end)}/{part}")

    def mention_iris(self, key: str, start: int, end: int) -> tuple[str, str, str, str]:
        """The IRIs of a mention and of its target, position and quote, as plain strings
        (for the mapping's fast path, which writes N-Quads text itself)."""
        mention = self.base + self._mention_path(key, start, end)
        return mention, *self._mention_parts(mention)

    @staticmethod
    def _mention_parts(mention: str) -> tuple[str, str, str]:
        return f"{mention}/target", f"{mention}/position", f"{mention}/quote"

    def mention_selectors(self, iri: str) -> tuple[str, str] | None:
        """The position and quote selector IRIs of a mention IRI minted by mention(), else None."""
        return self._mention_parts(iri)[1:] if self.mention_span(iri) is not None else None

    @staticmethod
    def _mention_path(key: str, start: int, end: int) -> str:
        return f"article/{key}/mention/{start}-{end}"

    def mention_span(self, iri: str) -> tuple[int, int] | None:
        """(start, end) of the mention an IRI minted by mention() names, else None."""
        match = _MENTION_PATH.fullmatch(iri[len(self.base) :]) if iri.startswith(self.base) else None
        return (int(match["start"]), int(match["end"])) if match else None

    def source(self, file_name: str) -> URIRef:
        return self._iri(f"source/{key_for_file(file_name)}")

    # entities
    def entity(self, kind: str, name: str) -> URIRef:
        if kind not in ENTITY_KINDS:
            raise ValueError(f"unknown entity kind {kind!r}")
        return self._iri(f"{kind}/{slugify(name)}")

    def entity_iris(self, entities: Iterable[tuple[str, str]]) -> dict[tuple[str, str], URIRef]:
        """IRIs for (kind, name) pairs, unique even when two names share a slug ("Tomás
        Petrov", "Tomas Petrov"): the first name in sorted order keeps the plain slug, the
        others get a short hash of the name appended."""
        by_iri: dict[URIRef, list[tuple[str, str]]] = defaultdict(list)
        for kind, name in entities:
            by_iri[self.entity(kind, name)].append((kind, name))
        iris: dict[tuple[str, str], URIRef] = {}
        for iri, pairs in by_iri.items():
            first, *others = sorted(set(pairs))
            iris[first] = iri
            for kind, name in others:
                digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:6]
                iris[(kind, name)] = URIRef(f"{iri}-{digest}")
        return iris

    def graph_space(self) -> str:
        """The IRI every named graph of the build starts with."""
        return str(self._iri("graph/"))

    def entity_graph(self) -> URIRef:
        return self._iri("graph/entities")

    # build provenance
    def build(self, build_id: str) -> URIRef:
        return self._iri(f"build/{build_id}")

    def provenance_graph(self) -> URIRef:
        return self._iri("graph/provenance")

    def agent(self, name: str) -> URIRef:
        return self._iri(f"agent/{slugify(name)}")

    # dataset description
    def dataset(self) -> URIRef:
        return self._iri("dataset")

    def void_graph(self) -> URIRef:
        return self._iri("graph/void")

    def distribution(self, file_name: str) -> URIRef:
        return self._iri(f"dataset/distribution/{file_name}")

    def dump(self, file_name: str) -> URIRef:
        return self._iri(f"dumps/{file_name}")

    def class_partition(self, class_name: str) -> URIRef:
        return self._iri(f"dataset/class/{slugify(class_name)}")

    def sparql_endpoint(self) -> URIRef:
        return self._iri("sparql")

    def license_placeholder(self) -> URIRef:
        return self._iri("license")

    def path_of(self, iri: str) -> str | None:
        """The local path ('article/x') of an IRI under this base, or None."""
        return iri[len(self.base) :] if iri.startswith(self.base) else None
