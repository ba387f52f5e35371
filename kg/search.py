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

_NAMES = f"""
SELECT ?thing ?name ?type ?label (COUNT(DISTINCT ?article) AS ?mentions) WHERE {{
  {{ ?thing <{SCHEMA.name}> ?name }} UNION {{ ?thing <{SCHEMA.alternateName}> ?name }}
  UNION {{ ?thing <{SCHEMA.headline}> ?name }}
  ?thing a ?type .
  OPTIONAL {{ ?thing <{SCHEMA.name}>|<{SCHEMA.headline}> ?label }}
  OPTIONAL {{ ?article <{SCHEMA.mentions}> ?thing }}
  FILTER (STRSTARTS(STR(?type), "{SCHEMA}"))
  FILTER (?type = <{SCHEMA.NewsArticle}>
          || EXISTS {{ ?any <{SCHEMA.mentions}>|<{SCHEMA.author}>|<{SCHEMA.publisher}> ?thing }})
}} GROUP BY ?thing ?name ?type ?label
"""


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
        """Names, aliases and headlines of the store's people, organisations, places,
        events and articles, with their mention counts."""
        best: dict[tuple[str, str], Hit] = {}
        for row in store.query(_NAMES):
            iri, name, type_, label, mentions = (row[v] for v in ("thing", "name", "type", "label", "mentions"))
            type_name = type_.value.rsplit("/", 1)[-1]
            hit = Hit(iri.value, (label or name).value, type_name, name.value, int(mentions.value))
            key = (hit.iri, hit.matched)
            if key not in best or _specificity(type_name) > _specificity(best[key].type):
                best[key] = hit
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
