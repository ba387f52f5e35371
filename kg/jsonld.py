"""Compacted JSON-LD written directly from triples: one @context of prefixes, one node
object per subject, compact IRIs. No remote context is ever referenced."""

from __future__ import annotations

import itertools
import json
import operator
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pyoxigraph as ox

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_SUBJECT = operator.attrgetter("subject")


class _Compactor:
    """Compact IRIs ('schema:name') with a cache: the same IRIs recur on every node. Only
    IRIs in a prefix's namespace are cached (the vocabulary's); the cache is emptied when
    it holds LIMIT of them, and the ones that recur are soon back in it. (Caching every
    IRI, kg's own too, took 80 MB per 1,000 dense articles; testing them prefix by prefix
    was a fifth of the JSON-LD dump's time.)"""

    LIMIT = 50_000

    def __init__(self, prefixes: Mapping[str, str]) -> None:
        self.prefixes = sorted(prefixes.items(), key=lambda kv: -len(kv[1]))
        # one C-level test for the IRIs no namespace starts (kg's own, most of a dump's):
        # they are neither looked for prefix by prefix nor cached
        self.any_namespace = re.compile("|".join(re.escape(ns) for _, ns in self.prefixes) or "(?!)")
        self.cache: dict[str, str] = {}

    def __call__(self, iri: str) -> str:
        found = self.cache.get(iri)
        if found is None:
            if self.any_namespace.match(iri) is None:
                return iri
            if len(self.cache) >= self.LIMIT:
                self.cache.clear()
            found = iri
            for prefix, namespace in self.prefixes:
                local = iri[len(namespace) :]
                if iri.startswith(namespace) and local and not local.startswith("/") and ":" not in local:
                    found = f"{prefix}:{local}"
                    break
            self.cache[iri] = found
        return found


def _value(term: object, compact: _Compactor) -> Any:
    if isinstance(term, ox.NamedNode):
        return {"@id": compact(term.value)}
    if isinstance(term, ox.BlankNode):
        return {"@id": f"_:{term.value}"}
    assert isinstance(term, ox.Literal)
    if term.language:
        return {"@value": term.value, "@language": term.language}
    datatype = term.datatype.value
    if datatype == _XSD_STRING:
        return term.value
    return {"@value": term.value, "@type": compact(datatype)}


def _id(term: object) -> str:
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    assert isinstance(term, ox.NamedNode)
    return term.value


def _nodes(triples: Iterable[ox.Triple], compact: _Compactor) -> list[dict[str, Any]]:
    """Node objects of triples in any order: one per subject, in the order first seen."""
    by_subject: dict[object, list[ox.Triple]] = {}
    for triple in triples:
        by_subject.setdefault(triple.subject, []).append(triple)
    return [_node(subject, batch, compact) for subject, batch in by_subject.items()]


def to_jsonld(triples: Iterable[ox.Triple], prefixes: Mapping[str, str]) -> dict[str, Any]:
    """A compacted JSON-LD document for the triples (given in the order to keep)."""
    return {"@context": dict(sorted(prefixes.items())), "@graph": _nodes(triples, _Compactor(prefixes))}


def _runs(triples: Iterable[ox.Triple], compact: _Compactor) -> Iterator[dict[str, Any]]:
    """Node objects for triples already grouped by subject (sorted N-Triples are): one node
    in memory at a time."""
    for subject, batch in itertools.groupby(triples, key=_SUBJECT):
        yield _node(subject, list(batch), compact)


def _node(subject: object, triples: list[ox.Triple], compact: _Compactor) -> dict[str, Any]:
    """The node object of one subject's triples (what _nodes makes for them, faster)."""
    node: dict[str, Any] = {"@id": compact(_id(subject))}
    values: dict[str, list[Any]] = {}
    for triple in triples:
        obj = triple.object
        predicate = triple.predicate.value
        if predicate == _RDF_TYPE and isinstance(obj, ox.NamedNode):
            node.setdefault("@type", []).append(compact(obj.value))
            continue
        key = compact(predicate)
        found = values.get(key)
        if found is None:
            values[key] = [_value(obj, compact)]
        else:
            found.append(_value(obj, compact))
    for key, items in values.items():
        node[key] = items[0] if len(items) == 1 else items
    return node


def jsonld_chunks(
    triples: Iterable[ox.Triple], prefixes: Mapping[str, str], *, grouped: bool = True
) -> Iterator[bytes]:
    """The document as UTF-8 pieces, one node object a line (fast C encoder, still
    diffable). grouped: the triples come grouped by subject (sorted N-Triples are), so nodes
    are made and encoded one at a time."""
    context = json.dumps(dict(sorted(prefixes.items())), ensure_ascii=False)
    compact = _Compactor(prefixes)
    yield f'{{"@context": {context},\n"@graph": [\n'.encode()
    first = True
    for node in _runs(triples, compact) if grouped else _nodes(triples, compact):
        yield (("" if first else ",\n") + json.dumps(node, ensure_ascii=False)).encode()
        first = False
    yield b"\n]}\n"


def dumps_jsonld(triples: Iterable[ox.Triple], prefixes: Mapping[str, str], *, grouped: bool = False) -> bytes:
    """The whole document as one bytes object (small graphs: query results, pages)."""
    return b"".join(jsonld_chunks(triples, prefixes, grouped=grouped))
