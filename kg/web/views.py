"""Turning RDF terms into what an HTML page shows: labels rather than IRIs, every IRI linked,
local IRIs linked by their path so the site works on any host."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from kg.namespaces import RDF, curie
from kg.web.describe import LABEL_PREDICATES, LABELLED, Evidence

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_TYPE = str(RDF.type)
#: Literals longer than this are shown as a block of text.
LONG_TEXT = 200


@dataclass(frozen=True)
class Shown:
    """A term as shown: text, optional link, tooltip (the full IRI), note (language/datatype)."""

    text: str
    href: str | None = None
    title: str = ""
    note: str = ""
    kind: str = "literal"  # iri | literal | bnode
    long: bool = False


#: Most values a page shows for one property (the build's prov:used can have 100,000); the
#: data twins have them all. The description carries the labels of these.
VALUES_SHOWN = LABELLED


@dataclass(frozen=True)
class Row:
    """One property of a resource with its values (at most VALUES_SHOWN, `total` in all) and
    the named graphs that state them."""

    predicate: Shown
    values: list[Shown]
    graphs: list[str]
    total: int = 0

    @property
    def more(self) -> int:
        """How many values the page leaves out."""
        return max(0, self.total - len(self.values))


@dataclass(frozen=True)
class Segment:
    """A piece of an article's text, linked to the entity when it is a mention."""

    text: str
    href: str | None = None
    title: str = ""
    annotation: str | None = None


class Linker:
    """Shows terms for one page: base IRI, the app's mount point, and known labels."""

    def __init__(self, base: str, root: str = "", labels: Mapping[str, str] | None = None) -> None:
        self.base = base
        self.root = root
        self.labels = dict(labels or {})

    def path(self, iri: str) -> str | None:
        return iri[len(self.base) :] if iri.startswith(self.base) else None

    def href(self, iri: str) -> str | None:
        """Local IRIs by path; other http(s) IRIs as they are; other schemes not linked."""
        local = self.path(iri)
        if local is not None:
            return f"{self.root}/{local}"
        return iri if iri.startswith(("http://", "https://")) else None

    def short(self, iri: str) -> str:
        """A compact spelling: local path, CURIE, or the IRI."""
        local = self.path(iri)
        if local is not None:
            return local or "/"
        return curie(iri) or iri

    def iri(self, iri: str, label: str | None = None) -> Shown:
        text = label or self.labels.get(iri) or self.short(iri)
        return Shown(text, self.href(iri), iri, "", "iri")

    def vocabulary(self, iri: str) -> Shown:
        """A class or property: its local name, the CURIE as note."""
        name = curie(iri)
        local = name.split(":", 1)[1] if name else iri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
        return Shown(local or iri, self.href(iri), iri, name.split(":", 1)[0] if name else "", "iri")

    def term(self, term: object) -> Shown:
        if isinstance(term, ox.NamedNode):
            return self.iri(term.value)
        if isinstance(term, ox.BlankNode):
            return Shown(f"_:{term.value}", kind="bnode")
        if isinstance(term, ox.Literal):
            datatype = term.datatype.value
            note = f"@{term.language}" if term.language else "" if datatype == _XSD_STRING else self.short(datatype)
            return Shown(term.value, None, "", note, "literal", len(term.value) > LONG_TEXT or "\n" in term.value)
        return Shown("" if term is None else str(term))

    def graph(self, term: object) -> str:
        if isinstance(term, ox.NamedNode):
            short = self.short(term.value)
            return short.removeprefix("graph/")
        return "default"

    def rows(self, quads: Iterable[ox.Quad], skip: Sequence[str] = ()) -> list[Row]:
        """A property table: rdf:type first, then labels, then the rest by name."""
        values: dict[str, dict[object, None]] = defaultdict(dict)
        graphs: dict[str, dict[str, None]] = defaultdict(dict)
        for q in quads:
            if q.predicate.value in skip:
                continue
            values[q.predicate.value][q.object] = None
            graphs[q.predicate.value][self.graph(q.graph_name)] = None

        def order(predicate: str) -> tuple[int, str]:
            if predicate == _RDF_TYPE:
                return (0, "")
            if predicate in LABEL_PREDICATES:
                return (1, predicate)
            return (2, (curie(predicate) or predicate).split(":")[-1].lower())

        rows = []
        for predicate in sorted(values, key=order):
            objects = list(values[predicate])
            if len(objects) > VALUES_SHOWN:  # the first in term order (cheap), then shown by text
                objects = sorted(objects, key=_term_key)[:VALUES_SHOWN]
            if predicate == _RDF_TYPE:
                shown = [self.vocabulary(o.value) if isinstance(o, ox.NamedNode) else self.term(o) for o in objects]
            else:
                shown = sorted((self.term(o) for o in objects), key=lambda s: (s.text.lower(), s.title))
            rows.append(Row(self.vocabulary(predicate), shown, list(graphs[predicate]), len(values[predicate])))
        return rows


def _term_key(term: object) -> str:
    """A term's IRI or lexical form: the order describe() picks the labelled values in."""
    return str(getattr(term, "value", term))


def highlight(text: str, evidence: Sequence[Evidence], linker: Linker) -> list[Segment]:
    """The article text cut into plain and mention segments (overlaps: the first wins)."""
    segments: list[Segment] = []
    position = 0
    for e in sorted(evidence, key=lambda e: (e.start, -e.end)):
        if e.start < position or e.end > len(text) or e.start >= e.end or text[e.start : e.end] != e.exact:
            continue
        if e.start > position:
            segments.append(Segment(text[position : e.start]))
        label = linker.labels.get(e.entity) or linker.short(e.entity)
        segments.append(Segment(text[e.start : e.end], linker.href(e.entity), label, linker.href(e.annotation)))
        position = e.end
    if position < len(text):
        segments.append(Segment(text[position:]))
    return segments
