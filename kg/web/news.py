"""What a news reader wants on an entity page: who else appears with it, and when it was in
the news. Co-mentions are counted over the most recent RECENT articles, so an entity
mentioned by thousands of articles still answers quickly; the timeline counts them all."""

from __future__ import annotations

from dataclasses import dataclass

from kg.namespaces import SCHEMA
from kg.store.base import GraphStore

RECENT = 2000
CO_MENTIONED = 15


@dataclass(frozen=True)
class Count:
    key: str  # an entity IRI, or a month "YYYY-MM"
    count: int


def _recent_articles(entity: str) -> str:
    return (
        f"{{ SELECT ?article WHERE {{ ?article <{SCHEMA.mentions}> <{entity}> . "
        f"OPTIONAL {{ ?article <{SCHEMA.datePublished}> ?published }} }} "
        f"ORDER BY DESC(?published) LIMIT {RECENT} }}"  # no tie-break by IRI: it doubled the time
    )


def co_mentioned(store: GraphStore, entity: str, limit: int = CO_MENTIONED) -> list[Count]:
    """Entities mentioned in the same articles, with how many articles they share."""
    query = (
        f"SELECT ?other (COUNT(DISTINCT ?article) AS ?n) WHERE {{ {_recent_articles(entity)} "
        f"?article <{SCHEMA.mentions}> ?other . FILTER (?other != <{entity}>) }} "
        f"GROUP BY ?other ORDER BY DESC(?n) ?other LIMIT {int(limit)}"
    )
    return [Count(row[0].value, int(row[1].value)) for row in store.query(query)]


def timeline(store: GraphStore, entity: str) -> list[Count]:
    """Articles mentioning the entity per month of publication, oldest first (all of them:
    grouping needs no sort, so this is cheaper than picking the recent ones)."""
    query = (
        f"SELECT ?month (COUNT(DISTINCT ?article) AS ?n) WHERE {{ ?article <{SCHEMA.mentions}> <{entity}> ; "
        f"<{SCHEMA.datePublished}> ?date . BIND (SUBSTR(STR(?date), 1, 7) AS ?month) }} "
        "GROUP BY ?month ORDER BY ?month"
    )
    return [Count(row[0].value, int(row[1].value)) for row in store.query(query)]
