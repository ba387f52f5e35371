"""Entity summaries: what an entity page says about the articles that link to an entity (how
many link with each predicate and the first of them, who else appears in them, when it was in
the news). Pages ask the store; for an entity that many articles mention the build works the
summary out once (summaries.json in out/), with the whole list of articles that mention it
(summary-pages.txt), so that any of its pages costs what a page of any other entity does.
Co-mentions are counted over the most recent RECENT articles; the timeline counts them all."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.iris import ENTITY_KINDS, Minter
from kg.namespaces import OA, RDF, SCHEMA
from kg.store.base import GraphStore

SUMMARIES_FILE = "summaries.json"
#: Every summarised entity's PAGED subjects (IRI order, one a line), entity after entity.
PAGES_FILE = "summary-pages.txt"
#: How many articles an entity page lists at a time.
PAGE_SIZE = 100
#: Links an entity page counts but does not list, and the one it lists page by page.
UNLISTED, PAGED = (str(OA.hasBody),), str(SCHEMA.mentions)


def term_int(term: object) -> int:
    """An integer literal's value, or -1."""
    try:
        return int(term.value) if isinstance(term, ox.Literal) else -1
    except ValueError:
        return -1


@dataclass
class Incoming:
    """Resources linking to an IRI with one predicate: the first `cap` of them and how many."""

    predicate: str
    subjects: list[str]
    total: int


def incoming(
    store: GraphStore,
    iri: str,
    cap: int = 100,
    offset: int = 0,
    skip: Sequence[str] = (),
    parts: Mapping[str, list[ox.Quad]] | None = None,
    paged: str | None = None,
    paged_all: Sequence[str] | None = None,
) -> list[Incoming]:
    """Incoming links grouped by predicate, without the resource's own sub-resources (parts,
    from describe()), each with its total. The paged predicate lists `cap` subjects in IRI
    order from `offset` on (an index scan sorted here: Oxigraph's ORDER BY over 10,000 IRIs
    took 0.3 s, the scan and sort 0.06 s); other predicates list their first `cap` subjects
    in store order, sorted; predicates in skip list none. paged_all, when the caller has it,
    is every paged subject in IRI order (paged_subjects from 0), so it is not scanned again."""
    target = ox.NamedNode(iri)
    own: dict[str, set[str]] = defaultdict(set)  # predicate -> parts linking in with it
    for quads in (parts or {}).values():
        for q in quads:
            if q.object == target and isinstance(q.subject, ox.NamedNode):
                own[q.predicate.value].add(q.subject.value)
    counts = store.query(f"SELECT ?p (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p {target} }} GROUP BY ?p")
    groups = []
    for row in counts:
        predicate, total = row["p"].value, term_int(row["n"]) - len(own[row["p"].value])
        if total <= 0:
            continue
        subjects: list[str] = []
        if predicate == paged and paged_all is not None and not own[predicate]:
            subjects = list(paged_all[offset : offset + cap])
        elif predicate == paged:
            subjects = paged_subjects(store, iri, predicate, offset, cap, own[predicate])
        elif predicate not in skip:
            linking = store.match(None, row["p"], target)
            found = (q.subject.value for q in linking if isinstance(q.subject, ox.NamedNode))
            subjects = sorted(set(islice((s for s in found if s not in own[predicate]), cap)))
        groups.append(Incoming(predicate, subjects, total))
    return sorted(groups, key=lambda g: g.predicate)


def paged_subjects(
    store: GraphStore, iri: str, predicate: str, offset: int, cap: int, leave_out: set[str] | None = None
) -> list[str]:
    """The IRIs linking to iri with predicate (in any graph), in IRI order, cap of them from
    offset on. A query, not a match: only the subjects are read from disk, not the
    predicate, object and graph of each statement (16,667 subjects: 256 -> 97 ms)."""
    pattern = f"?s {ox.NamedNode(predicate)} {ox.NamedNode(iri)}"
    rows = store.query(
        f"SELECT ?s WHERE {{ {{ {pattern} }} UNION {{ GRAPH ?g {{ {pattern} }} }} }}", dataset_in_query=True
    )
    found = {row[0].value for row in rows if isinstance(row[0], ox.NamedNode)}
    return sorted(found - (leave_out or set()))[offset : offset + cap]


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
    """Entities mentioned in the same articles, with how many articles they share (most
    first, then by IRI). Sorted here: Oxigraph's ORDER BY reads an IRI from disk at each
    comparison (9 of 14 ms for 360 entities), this reads each once."""
    query = (
        f"SELECT ?other (COUNT(DISTINCT ?article) AS ?n) WHERE {{ {_recent_articles(entity)} "
        f"?article <{SCHEMA.mentions}> ?other . FILTER (?other != <{entity}>) }} GROUP BY ?other"
    )
    counts = sorted((-int(n.value), other.value) for other, n in store.query(query))
    return [Count(other, -negative) for negative, other in counts[: max(0, int(limit))]]


def timeline(store: GraphStore, entity: str) -> list[Count]:
    """Articles mentioning the entity per month of publication, oldest first (all of them:
    grouping needs no sort, so this is cheaper than picking the recent ones)."""
    query = (
        f"SELECT ?month (COUNT(DISTINCT ?article) AS ?n) WHERE {{ ?article <{SCHEMA.mentions}> <{entity}> ; "
        f"<{SCHEMA.datePublished}> ?date . BIND (SUBSTR(STR(?date), 1, 7) AS ?month) }} "
        "GROUP BY ?month ORDER BY ?month"
    )
    return [Count(row[0].value, int(row[1].value)) for row in store.query(query)]


@dataclass
class EntitySummary:
    """The first page of what links to an entity, who else appears with it and when."""

    incoming: list[Incoming]
    co_mentioned: list[Count] = field(default_factory=list)
    timeline: list[Count] = field(default_factory=list)
    #: Where in PAGES_FILE each page of PAGED subjects starts (PAGE_SIZE lines a page), then
    #: where the entity's lines end: page n (from 1) is bytes pages[n-1]:pages[n].
    pages: list[int] = field(default_factory=list)


def summarize(store: GraphStore, iri: str, paged_all: Sequence[str] | None = None) -> EntitySummary:
    """An entity's summary as its first page shows it (live from the store; an entity has
    no sub-resources, kg mints none under its IRI); paged_all as for incoming()."""
    links = incoming(store, iri, cap=PAGE_SIZE, skip=UNLISTED, paged=PAGED, paged_all=paged_all)
    if not any(group.predicate == PAGED for group in links):
        return EntitySummary(links)
    return EntitySummary(links, co_mentioned(store, iri), timeline(store, iri))


#: How many articles, and entities of each kind, the home page lists.
HOME_CAP = 500
#: The home page's entity group for kinds kg does not mint.
OTHER_KIND = "other"


@dataclass(frozen=True)
class ListedArticle:
    iri: str
    headline: str
    date: str  # "" when the article has none


@dataclass(frozen=True)
class ListedEntity:
    iri: str
    name: str
    articles: int  # how many articles mention it


@dataclass
class EntityGroup:
    """The entities of one kind (ENTITY_KINDS or OTHER_KIND), most mentioned first."""

    kind: str
    entities: list[ListedEntity]
    total: int


@dataclass
class HomeListing:
    """What the home page lists: the newest articles and the entities of each kind."""

    articles: list[ListedArticle]
    more_articles: bool
    groups: list[EntityGroup]


def home_listing(store: GraphStore, minter: Minter, cap: int | None = None) -> HomeListing:
    """The home page's lists, from the store (seconds at 100,000 articles: the build works
    them out once into summaries.json). Ties are broken by IRI, so the same store gives the
    same lists."""
    cap = HOME_CAP if cap is None else cap
    articles = store.query(
        f"SELECT ?article (MIN(?h) AS ?headline) (MAX(?d) AS ?date) WHERE {{ ?article <{RDF.type}> "
        f"<{SCHEMA.NewsArticle}> ; <{SCHEMA.headline}> ?h . OPTIONAL {{ ?article <{SCHEMA.datePublished}> ?d }} }} "
        f"GROUP BY ?article ORDER BY DESC(?date) ?headline ?article LIMIT {int(cap) + 1}"
    )
    listed = [
        ListedArticle(row["article"].value, row["headline"].value, row["date"].value if row["date"] else "")
        for row in articles
    ]
    entities = store.query(
        f"SELECT ?entity (MIN(?n) AS ?name) (COUNT(DISTINCT ?article) AS ?articles) WHERE {{ "
        f"GRAPH <{minter.entity_graph()}> {{ ?entity <{SCHEMA.name}> ?n }} "
        f"OPTIONAL {{ ?article <{SCHEMA.mentions}> ?entity }} }} "
        "GROUP BY ?entity ORDER BY DESC(?articles) ?name ?entity"
    )
    found = (ListedEntity(row["entity"].value, row["name"].value, term_int(row["articles"])) for row in entities)
    return _listing(listed, found, minter, cap)


def _listing(articles: list[ListedArticle], entities: Iterable[ListedEntity], minter: Minter, cap: int) -> HomeListing:
    """The home listing of articles and entities given in the order the page lists them
    (the first cap + 1 articles will do: the one past the cap says there are more)."""
    kinds: dict[str, list[ListedEntity]] = defaultdict(list)
    for entity in entities:
        kind = (minter.path_of(entity.iri) or "").split("/", 1)[0]
        kinds[kind if kind in ENTITY_KINDS else OTHER_KIND].append(entity)
    groups = [
        EntityGroup(kind, kinds[kind][:cap], len(kinds[kind])) for kind in (*ENTITY_KINDS, OTHER_KIND) if kinds[kind]
    ]
    return HomeListing(articles[:cap], len(articles) > cap, groups)


class HomeCollector:
    """home_listing's lists gathered from what a build maps, not asked of its store (whose
    two queries take 15 s at 100,000 articles): each article's IRI, headline, date and the
    entities it mentions (schema:mentions), each entity's IRI and name (in the entity
    graph). listing() orders them as the queries do: newest first, undated last, then by
    headline, then IRI (code point order, as Oxigraph compares strings; the dates are
    xsd:date, YYYY-MM-DD); entities by how many articles mention them, most first, then
    by name, then IRI."""

    def __init__(self) -> None:
        self._articles: list[ListedArticle] = []
        self._mentioned: Counter[str] = Counter()
        self._names: dict[str, str] = {}

    def add_article(self, iri: str, headline: str, date: str, mentioned: Iterable[str]) -> None:
        """An article; mentioned: the entities it mentions, each once; date "" when none."""
        self._articles.append(ListedArticle(iri, headline, date))
        self._mentioned.update(mentioned)

    def add_entity(self, iri: str, name: str) -> None:
        self._names[iri] = min(name, self._names.get(iri, name))

    def listing(self, minter: Minter, cap: int | None = None) -> HomeListing:
        cap = HOME_CAP if cap is None else cap
        articles = sorted(self._articles, key=lambda a: (a.headline, a.iri))
        articles.sort(key=lambda a: a.date, reverse=True)  # stable: equal dates keep that order
        entities = [ListedEntity(iri, name, self._mentioned[iri]) for iri, name in self._names.items()]
        entities.sort(key=lambda e: (-e.articles, e.name, e.iri))
        return _listing(articles[: cap + 1], entities, minter, cap)


def read_home(path: Path) -> HomeListing | None:
    """The home listing a build kept in its summaries (None when it kept none)."""
    try:
        home: Any = json.loads(path.read_text(encoding="utf-8"))["home"]
        return HomeListing(
            [ListedArticle(**a) for a in home["articles"]],
            bool(home["more_articles"]),
            [
                EntityGroup(g["kind"], [ListedEntity(**e) for e in g["entities"]], int(g["total"]))
                for g in home["groups"]
            ],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_summaries(store: GraphStore, path: Path, least: int, home: HomeListing | None = None) -> int:
    """Summarise every entity at least `least` articles mention into path (JSON, keys
    sorted, so the same store gives the same bytes), their PAGED subjects into PAGES_FILE
    beside it, and the home page's lists when given (the build gathers them: HomeCollector);
    returns how many entities."""
    query = f"SELECT ?e WHERE {{ ?a <{SCHEMA.mentions}> ?e }} GROUP BY ?e HAVING (COUNT(?a) >= {int(least)})"
    famous = sorted(row["e"].value for row in store.query(query) if isinstance(row["e"], ox.NamedNode))
    summaries = {}
    with (path.parent / PAGES_FILE).open("wb") as lines:
        for iri in famous:
            subjects = paged_subjects(store, iri, PAGED, 0, sys.maxsize)
            summary = summarize(store, iri, subjects)
            summary.pages = [lines.tell()]
            for start in range(0, len(subjects), PAGE_SIZE):
                lines.write("".join(f"{s}\n" for s in subjects[start : start + PAGE_SIZE]).encode("utf-8"))
                summary.pages.append(lines.tell())
            summaries[iri] = asdict(summary)
    kept: dict[str, Any] = {"least": least, "entities": summaries}
    if home is not None:
        kept["home"] = asdict(home)
    text = json.dumps(kept, ensure_ascii=False, sort_keys=True, indent=1)
    path.write_text(text + "\n", encoding="utf-8")
    return len(summaries)


def read_summaries(path: Path) -> dict[str, EntitySummary]:
    """The summaries a build wrote ({} when it wrote none or the file is unreadable)."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        return {
            iri: EntitySummary(
                [Incoming(**group) for group in summary["incoming"]],
                [Count(**c) for c in summary["co_mentioned"]],
                [Count(**c) for c in summary["timeline"]],
                [int(offset) for offset in summary["pages"]],
            )
            for iri, summary in data["entities"].items()
        }
    except (OSError, ValueError, KeyError, TypeError):
        return {}


class SummaryPages:
    """The PAGES_FILE of one build, opened once: reads go to that file even after a rebuild
    has put another build in its place."""

    def __init__(self, path: Path) -> None:
        try:
            self._fd: int | None = os.open(path, os.O_RDONLY)
        except OSError:
            self._fd = None

    def page(self, summary: EntitySummary, number: int) -> list[str] | None:
        """The PAGED subjects on page `number` (from 1) of a summarised entity ([] past its
        last page), or None when this build's file cannot say (then ask the store)."""
        if self._fd is None or len(summary.pages) < 2:
            return None
        if number >= len(summary.pages):
            return []
        start, end = summary.pages[number - 1], summary.pages[number]
        try:
            data = os.pread(self._fd, end - start, start)
        except OSError:
            return None
        lines = data.decode("utf-8").splitlines()
        return lines if len(data) == end - start else None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
