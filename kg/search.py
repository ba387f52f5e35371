"""Finding entities and articles by name: prefix match on any word of a name, alias or
headline, accents and case ignored, ranked by how many articles mention the thing."""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from kg.namespaces import SCHEMA

_WORD_START = re.compile(r"(?:^|(?<=[\s\-–—/(\"'“‘]))\w", re.UNICODE)
MAX_QUERY_CHARS = 200

_NAMED = f"""SELECT ?thing ?name ?type WHERE {{
  VALUES ?p {{ <{SCHEMA.name}> <{SCHEMA.alternateName}> <{SCHEMA.headline}> }} ?thing ?p ?name . ?thing a ?type
}}"""
_LABELS = f"SELECT ?thing ?label WHERE {{ VALUES ?p {{ <{SCHEMA.name}> <{SCHEMA.headline}> }} ?thing ?p ?label }}"
_MENTIONS = f"SELECT ?thing (COUNT(DISTINCT ?a) AS ?n) WHERE {{ ?a <{SCHEMA.mentions}> ?thing }} GROUP BY ?thing"
_LINKED = f"SELECT DISTINCT ?thing WHERE {{ ?any <{SCHEMA.mentions}>|<{SCHEMA.author}>|<{SCHEMA.publisher}> ?thing }}"


def fold(text: str) -> str:
    """Lower case without accents: "José" and "jose" are the same key."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


@dataclass(frozen=True)
class Hit:
    """One thing found: its IRI, label, schema.org type name, matched name and mentions."""

    iri: str
    label: str
    type: str
    matched: str
    mentions: int


class SearchIndex:
    """Every word-start suffix of every name, sorted, for prefix search by bisection."""

    def __init__(self, hits: list[Hit]) -> None:
        keys: list[tuple[str, int]] = []
        self._hits = hits
        for number, hit in enumerate(hits):
            folded = fold(hit.matched)
            starts = {m.start() for m in _WORD_START.finditer(folded)} | {0}
            keys += [(folded[start:], number) for start in sorted(starts)]
        keys.sort()
        self._keys = [k for k, _ in keys]
        self._numbers = [n for _, n in keys]

    @classmethod
    def from_store(cls, store: Any) -> SearchIndex:
        """Names, aliases and headlines of the store's articles and of the people,
        organisations, places and events something mentions, authors or publishes, with
        how many articles mention each. Four simple queries joined here: one query doing it
        all took 30 s at 100,000 articles, mostly filtering types by their IRI's start."""
        labels: dict[str, str] = {}
        for row in store.query(_LABELS):
            thing, label = row["thing"].value, row["label"].value
            labels[thing] = min(label, labels.get(thing, label))
        mentions = {row["thing"].value: int(row["n"].value) for row in store.query(_MENTIONS)}
        linked = {row["thing"].value for row in store.query(_LINKED)}
        article = str(SCHEMA.NewsArticle)
        best: dict[tuple[str, str], Hit] = {}
        for row in store.query(_NAMED):
            iri, name, type_iri = row["thing"].value, row["name"].value, row["type"].value
            if not type_iri.startswith(str(SCHEMA)) or (type_iri != article and iri not in linked):
                continue
            type_name = type_iri.rsplit("/", 1)[-1]
            hit = Hit(iri, labels.get(iri, name), type_name, name, mentions.get(iri, 0))
            key = (iri, name)
            kept = best.get(key)
            if kept is None or (_specificity(type_name), kept.type) > (_specificity(kept.type), type_name):
                best[key] = hit  # the most specific type; of two as specific, the first by name
        return cls(sorted(best.values(), key=lambda h: (h.iri, h.matched)))

    def search(self, query: str, limit: int = 20) -> list[Hit]:
        """Things with a name word starting with query, most mentioned first, one per thing."""
        folded = fold(" ".join(query.split()))[:MAX_QUERY_CHARS]
        if not folded:
            return []
        found: dict[str, Hit] = {}
        start = bisect.bisect_left(self._keys, folded)
        for index in range(start, len(self._keys)):
            if not self._keys[index].startswith(folded):
                break
            hit = self._hits[self._numbers[index]]
            current = found.get(hit.iri)
            if current is None or (hit.matched == hit.label and current.matched != current.label):
                found[hit.iri] = hit
        ranked = sorted(found.values(), key=lambda h: (-h.mentions, fold(h.label), h.iri))
        return ranked[:limit]


_GENERAL = {"Thing", "Organization", "Place", "CreativeWork", "Article"}


def _specificity(type_name: str) -> int:
    """Prefer schema:City over schema:Place, schema:NewsArticle over schema:Article."""
    return 0 if type_name in _GENERAL else 1
