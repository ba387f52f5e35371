"""Compacted JSON-LD written directly from triples: one @context of prefixes, one node
object per subject, compact IRIs. No remote context is ever referenced."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import pyoxigraph as ox

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _compact(iri: str, prefixes: Mapping[str, str]) -> str:
    best = ""
    for prefix, namespace in prefixes.items():
        if iri.startswith(namespace) and len(namespace) > len(prefixes.get(best, "")):
            local = iri[len(namespace):]
            if local and not local.startswith("/") and ":" not in local:
                best = prefix
    return f"{best}:{iri[len(prefixes[best]):]}" if best else iri


def _value(term: object, prefixes: Mapping[str, str]) -> Any:
    if isinstance(term, ox.NamedNode):
        return {"@id": _compact(term.value, prefixes)}
    if isinstance(term, ox.BlankNode):
        return {"@id": f"_:{term.value}"}
    assert isinstance(term, ox.Literal)
    if term.language:
        return {"@value": term.value, "@language": term.language}
    if term.datatype.value == _XSD_STRING:
        return term.value
    return {"@value": term.value, "@type": _compact(term.datatype.value, prefixes)}


def _id(term: object) -> str:
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    assert isinstance(term, ox.NamedNode)
    return term.value


def to_jsonld(triples: Iterable[ox.Triple], prefixes: Mapping[str, str]) -> dict[str, Any]:
    """A compacted JSON-LD document for the triples (given in the order to keep)."""
    nodes: dict[str, dict[str, Any]] = {}
    values: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for triple in triples:
        subject = _id(triple.subject)
        node = nodes.setdefault(subject, {"@id": _compact(subject, prefixes)})
        if triple.predicate.value == _RDF_TYPE and isinstance(triple.object, ox.NamedNode):
            node.setdefault("@type", []).append(_compact(triple.object.value, prefixes))
            continue
        key = _compact(triple.predicate.value, prefixes)
        values[subject][key].append(_value(triple.object, prefixes))
    graph = []
    for subject, node in nodes.items():
        for key, items in values[subject].items():
            node[key] = items[0] if len(items) == 1 else items
        graph.append(node)
    return {"@context": dict(sorted(prefixes.items())), "@graph": graph}


def dumps_jsonld(triples: Iterable[ox.Triple], prefixes: Mapping[str, str]) -> bytes:
    return json.dumps(to_jsonld(triples, prefixes), ensure_ascii=False, indent=1).encode("utf-8")
