"""What the web app shows for one IRI, read from the store: its outgoing statements, those of
the IRIs under its own path (an article's images and mention evidence), labels of what they
link to, incoming links, and the mention evidence (Web Annotations) about it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.iris import Minter
from kg.namespaces import DCTERMS, OA, RDF, RDFS, SCHEMA
from kg.store.base import GraphStore
from kg.summaries import term_int

#: Predicates that name a resource, most preferred first.
LABEL_PREDICATES = tuple(str(p) for p in (SCHEMA.name, SCHEMA.headline, RDFS.label, DCTERMS.title))
#: Most sub-resources gathered for one page.
MAX_PARTS = 5000
#: Most objects of one predicate whose labels a description carries (a page shows 500 of a
#: property's values; the build's prov:used links 100,000 files).
LABELLED = 500
_OA = str(OA)
_RDF_TYPE, _ANNOTATION = str(RDF.type), ox.NamedNode(_OA + "Annotation")
#: Resources, graphs or selectors one query of a page asks about (VALUES rows).
_BATCH = 200


@dataclass
class Description:
    """A resource's statements (own, of its sub-resources, labels of linked resources)."""

    iri: str
    own: list[ox.Quad]
    parts: dict[str, list[ox.Quad]] = field(default_factory=dict)
    label_quads: list[ox.Quad] = field(default_factory=list)

    def quads(self) -> list[ox.Quad]:
        """Everything to serialise, the resource first."""
        out = list(self.own)
        for iri in sorted(self.parts):
            out += self.parts[iri]
        return out + self.label_quads

    def labels(self) -> dict[str, str]:
        """IRI -> best label, from every statement gathered."""
        return labels_of(self.quads())


@dataclass(frozen=True)
class Evidence:
    """One mention: an annotation saying article text [start, end) identifies entity."""

    annotation: str
    entity: str
    article: str
    start: int
    end: int
    exact: str
    prefix: str = ""
    suffix: str = ""


def labels_of(quads: Iterable[ox.Quad]) -> dict[str, str]:
    """IRI -> label, preferring schema:name, then headline, rdfs:label, dct:title."""
    best: dict[str, tuple[int, str]] = {}
    for q in quads:
        predicate = q.predicate.value
        if predicate in LABEL_PREDICATES and isinstance(q.object, ox.Literal) and isinstance(q.subject, ox.NamedNode):
            rank = LABEL_PREDICATES.index(predicate)
            key = q.subject.value
            if key not in best or (rank, q.object.value) < best[key]:
                best[key] = (rank, q.object.value)
    return {iri: text for iri, (_, text) in best.items()}


def label_quads(store: GraphStore, iris: Iterable[str]) -> list[ox.Quad]:
    """The label statements (with their graphs) of the given IRIs."""
    subjects = []
    for iri in iris:
        try:
            subjects.append(ox.NamedNode(iri))
        except ValueError:
            continue
    return store.match_many(subjects, [ox.NamedNode(p) for p in LABEL_PREDICATES])


def _parts(store: GraphStore, iri: str, own: list[ox.Quad]) -> dict[str, list[ox.Quad]]:
    """IRIs under iri's path reachable from it (either direction), with their outgoing quads
    (at most MAX_PARTS, nearest first). A sub-resource is written with its parent, so links
    in are looked for in the named graphs of the parent's own statements only: an entity
    linked from 10,000 articles costs nothing here. One step of the walk at a time: a query
    for what links in to all of a step's resources, one match_many for their statements
    (an article's 500 mention parts: four steps, not 500 queries)."""
    prefix = iri + "/"
    parts: dict[str, list[ox.Quad]] = {}
    frontier = {iri: own}
    while frontier and len(parts) < MAX_PARTS:
        neighbours: list[object] = [q.object for quads in frontier.values() for q in quads]
        neighbours += _linking_in(store, frontier, prefix)
        new: list[ox.NamedNode] = []
        for term in neighbours:
            if isinstance(term, ox.NamedNode) and term.value.startswith(prefix) and term.value not in parts:
                parts[term.value] = []
                new.append(term)
                if len(parts) >= MAX_PARTS:
                    break
        frontier = {term.value: [] for term in new}
        for q in store.match_many(new):
            frontier[q.subject.value].append(q)  # type: ignore[union-attr]
        parts.update(frontier)
    return parts


def _linking_in(store: GraphStore, resources: dict[str, list[ox.Quad]], prefix: str) -> list[ox.NamedNode]:
    """IRIs starting with prefix that link to one of the resources (IRI -> its own quads)
    in a named graph of that resource's own quads, _BATCH (graph, resource) pairs a query."""
    pairs = sorted(
        f"({graph} <{node}>)"  # node is a NamedNode's value: written as it is
        for node, quads in resources.items()
        for graph in {q.graph_name for q in quads if isinstance(q.graph_name, ox.NamedNode)}
    )
    found: list[ox.NamedNode] = []
    for first in range(0, len(pairs), _BATCH):
        rows = store.query(  # no isIRI(?s): STR() of a blank node is an error, which fails the filter too
            f"SELECT DISTINCT ?s WHERE {{ VALUES (?g ?o) {{ {' '.join(pairs[first : first + _BATCH])} }} "
            f'GRAPH ?g {{ ?s ?p ?o }} FILTER (STRSTARTS(STR(?s), "{_sparql_string(prefix)}")) }}',
            dataset_in_query=True,
        )
        found += [row[0] for row in rows]
    return found


def describe(store: GraphStore, iri: str) -> Description | None:
    """The description of iri, or None when the store has no statement about it (or iri is
    not a valid IRI, e.g. a request path with a space or '<')."""
    try:
        node = ox.NamedNode(iri)
    except ValueError:
        return None
    own = list(store.match(node))
    if not own:
        return None
    description = Description(iri, own, _parts(store, iri, own))
    by_predicate: dict[str, set[str]] = defaultdict(set)
    for q in description.quads():
        if isinstance(q.object, ox.NamedNode):
            by_predicate[q.predicate.value].add(q.object.value)
    linked: set[str] = set()
    for objects in by_predicate.values():  # labels for what a page can show (VALUES_SHOWN)
        linked.update(objects if len(objects) <= LABELLED else sorted(objects)[:LABELLED])
    linked -= {iri, *description.parts}
    description.label_quads = label_quads(store, linked)
    return description


def _sparql_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def evidence_for(
    store: GraphStore,
    entity: str,
    graphs: dict[str, str],
    per_article: int,
    minter: Minter | None = None,
) -> dict[str, tuple[int, list[Evidence]]]:
    """For each article (-> its named graph): how many annotations say it mentions entity,
    and the first per_article of them in text order. Lookups inside each article's graph
    only, so the cost follows the articles shown, not the entity's fame. With the build's
    minter, the text order and the selectors are read from the annotation IRIs kg minted,
    so only the quotes shown are looked up, in one query for all articles (anything else
    is found by following oa:hasTarget and oa:hasSelector, an annotation at a time)."""
    articles = list(graphs)
    out: dict[str, tuple[int, list[Evidence]]] = {}
    shown: list[tuple[str, str, tuple[int, int], str]] = []  # (article, annotation, span, quote selector)
    for article, iris in zip(articles, _annotations_of(store, entity, [graphs[a] for a in articles]), strict=True):
        spans = [minter.mention_span(a) if minter else None for a in iris]
        found: list[Evidence] = []
        out[article] = (len(iris), found)
        if minter is not None and None not in spans:  # the first ones in text order are known without looking
            for span, annotation in sorted(zip(spans, iris, strict=True))[:per_article]:
                selectors = minter.mention_selectors(annotation)
                if span is not None and selectors is not None:
                    shown.append((article, annotation, span, selectors[1]))
            continue
        graph = ox.NamedNode(graphs[article])
        found += [_evidence(store, ox.NamedNode(a), graph, entity, article, minter) for a in iris]
        found.sort(key=lambda e: (e.start, e.end, e.annotation))
        del found[per_article:]
    quotes = _quotes(store, [(graphs[article], quote) for article, _, _, quote in shown]) if shown else []
    for (article, annotation, (start, end), _), quote in zip(shown, quotes, strict=True):
        if "exact" in quote:
            text = (_text(quote.get(k)) for k in _QUOTE)
            out[article][1].append(Evidence(annotation, entity, article, start, end, *text))
        else:  # not where kg puts it
            graph = ox.NamedNode(graphs[article])
            out[article][1].append(_evidence(store, ox.NamedNode(annotation), graph, entity, article, None))
    for _, found in out.values():
        found.sort(key=lambda e: (e.start, e.end, e.annotation))
    return out


#: The quote selector's properties an Evidence carries, in its field order.
_QUOTE = ("exact", "prefix", "suffix")


def _annotations_of(store: GraphStore, entity: str, graphs: list[str]) -> list[list[str]]:
    """For each graph: the IRIs of the annotations in it whose body is entity (one query per
    _BATCH graphs; the engine writes the IRIs out, no term objects for them)."""
    found: list[list[str]] = [[] for _ in graphs]
    for first in range(0, len(graphs), _BATCH):
        batch = enumerate(graphs[first : first + _BATCH], start=first)
        values = " ".join(f"({i} {ox.NamedNode(g)})" for i, g in batch)
        rows = store.query(  # COALESCE: STR() of a blank node is an error, which would void the group
            f'SELECT ?i (GROUP_CONCAT(COALESCE(STR(?a), ""); SEPARATOR=" ") AS ?all) WHERE {{ VALUES (?i ?g) '
            f"{{ {values} }} GRAPH ?g {{ ?a <{_OA}hasBody> {ox.NamedNode(entity)} }} }} GROUP BY ?i",
            dataset_in_query=True,
        )
        for i, iris in rows:
            found[term_int(i)] = iris.value.split()  # IRIs have no spaces; a blank node adds ""
    return found


def _quotes(store: GraphStore, selectors: list[tuple[str, str]]) -> list[dict[str, object]]:
    """For each (graph, quote selector IRI): its oa:exact, oa:prefix and oa:suffix there
    (the first of each), by local name; one query per _BATCH selectors."""
    found: list[dict[str, object]] = [{} for _ in selectors]
    kinds = ", ".join(f"<{_OA}{k}>" for k in _QUOTE)
    which = f"IF(?p = <{_OA}exact>, 0, IF(?p = <{_OA}prefix>, 1, 2))"
    for first in range(0, len(selectors), _BATCH):
        batch = enumerate(selectors[first : first + _BATCH], start=first)
        values = " ".join(f"({i} {ox.NamedNode(g)} {ox.NamedNode(q)})" for i, (g, q) in batch)
        rows = store.query(
            f"SELECT ?i ?kind ?x WHERE {{ VALUES (?i ?g ?q) {{ {values} }} GRAPH ?g {{ ?q ?p ?x }} "
            f"FILTER (?p IN ({kinds})) BIND ({which} AS ?kind) }}",
            dataset_in_query=True,
        )
        for i, kind, value in rows:  # by position: by name costs more than a microsecond a value
            found[term_int(i)].setdefault(_QUOTE[term_int(kind)], value)
    return found


def _evidence(
    store: GraphStore, annotation: ox.NamedNode, graph: ox.NamedNode, entity: str, article: str, minter: Minter | None
) -> Evidence:
    """One annotation's position and quote selectors, read inside its article graph. For an
    annotation kg minted, the position is the one its IRI names (kg mints the IRI from the
    position selector's offsets) and only the quote selector is looked up."""
    values: dict[str, object] = {}
    minted = minter.mention_selectors(annotation.value) if minter else None
    span = minter.mention_span(annotation.value) if minter and minted else None
    selectors = [ox.NamedNode(minted[1])] if minted else _selectors(store, annotation, graph)
    for selector in selectors:
        for q in store.match(selector, None, None, graph):
            values.setdefault(q.predicate.value.removeprefix(_OA), q.object)
    if minted and "exact" not in values:  # not where kg puts it
        return _evidence(store, annotation, graph, entity, article, None)
    start, end = span or (term_int(values.get("start")), term_int(values.get("end")))
    return Evidence(
        annotation.value,
        entity,
        article,
        start,
        end,
        _text(values.get("exact")),
        _text(values.get("prefix")),
        _text(values.get("suffix")),
    )


def _selectors(store: GraphStore, annotation: ox.NamedNode, graph: ox.NamedNode) -> list[ox.NamedNode]:
    """The selectors of an annotation's targets (oa:hasTarget, then oa:hasSelector)."""
    target_p, selector_p = ox.NamedNode(_OA + "hasTarget"), ox.NamedNode(_OA + "hasSelector")
    return [
        s.object
        for t in store.match(annotation, target_p, None, graph)
        if isinstance(t.object, ox.NamedNode)
        for s in store.match(t.object, selector_p, None, graph)
        if isinstance(s.object, ox.NamedNode)
    ]


def evidence_in(description: Description) -> list[Evidence]:
    """The mention annotations among a description's sub-resources, in text order."""
    values: dict[tuple[str, str], list[object]] = defaultdict(list)
    for quads in description.parts.values():
        for q in quads:
            if isinstance(q.subject, ox.NamedNode):
                values[(q.subject.value, q.predicate.value)].append(q.object)

    def one(subject: str, local: str) -> object:
        found = values.get((subject, _OA + local))
        return found[0] if found else None

    out = []
    for (subject, predicate), objects in values.items():
        if predicate != _RDF_TYPE or _ANNOTATION not in objects:
            continue
        body, target = one(subject, "hasBody"), one(subject, "hasTarget")
        if not isinstance(body, ox.NamedNode) or not isinstance(target, ox.NamedNode):
            continue
        source = one(target.value, "hasSource")
        selectors = [s for s in values.get((target.value, _OA + "hasSelector"), []) if isinstance(s, ox.NamedNode)]
        start = end = -1
        exact = prefix = suffix = ""
        for selector in selectors:
            if one(selector.value, "start") is not None:
                start, end = term_int(one(selector.value, "start")), term_int(one(selector.value, "end"))
            if one(selector.value, "exact") is not None:
                exact, prefix, suffix = (_text(one(selector.value, k)) for k in ("exact", "prefix", "suffix"))
        article = source.value if isinstance(source, ox.NamedNode) else description.iri
        out.append(Evidence(subject, body.value, article, start, end, exact, prefix, suffix))
    return sorted(out, key=lambda e: (e.start, e.end, e.annotation))


def _text(term: object) -> str:
    return term.value if isinstance(term, ox.Literal) else ""
