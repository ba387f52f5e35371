"""Compacted JSON-LD written directly from triples: one @context of prefixes, one node
object per subject, compact IRIs. No remote context is ever referenced."""

from __future__ import annotations

import itertools
import json
import operator
import re
from collections.abc import Iterable, Iterator, Mapping
from json.encoder import encode_basestring  # the C encoder json.dumps(ensure_ascii=False) uses
from typing import Any

import pyoxigraph as ox

from kg.terms import nt_unescape

_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_RDF_TYPE_NT = f"<{_RDF_TYPE}>"
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


# --- the dump, from sorted N-Triples lines ----------------------------------------------


#: The JSON of object terms up to this long is kept, this many at a time (then forgotten).
_KNOWN_LENGTH, _KNOWN_TERMS = 200, 100_000


class NTriplesLineError(ValueError):
    """A line the dump's JSON-LD writer does not read (not one term per field)."""


def _value_json(term: str, compact: _Compactor) -> str:
    """An N-Triples object term as the JSON text _value() gives json.dumps."""
    first = term[:1]
    if first == "<" and term[-1] == ">":
        return '{"@id": ' + encode_basestring(compact(term[1:-1])) + "}"
    if first == "_" and term.startswith("_:"):
        return '{"@id": ' + encode_basestring(term) + "}"
    end = term.rfind('"')
    if first != '"' or end < 1:
        raise NTriplesLineError(f"not an N-Triples term: {term!r}")
    try:
        value = encode_basestring(nt_unescape(term[1:end]))
    except ValueError as exc:
        raise NTriplesLineError(f"not an N-Triples literal: {term!r} ({exc})") from None
    tail = term[end + 1 :]
    if not tail:
        return value
    if tail[0] == "@":
        return '{"@value": ' + value + ', "@language": ' + encode_basestring(tail[1:]) + "}"
    if not (tail.startswith("^^<") and tail[-1] == ">"):
        raise NTriplesLineError(f"not an N-Triples literal: {term!r}")
    datatype = tail[3:-1]
    if datatype == _XSD_STRING:
        return value
    return '{"@value": ' + value + ', "@type": ' + encode_basestring(compact(datatype)) + "}"


def _line_error(line: str) -> NTriplesLineError:
    return NTriplesLineError(f"not an N-Triples line as kg writes them: {line!r}")


def ntriples_jsonld_chunks(lines: Iterable[str], prefixes: Mapping[str, str]) -> Iterator[bytes]:
    """jsonld_chunks() of N-Triples lines sorted by subject (kg.nt as written), byte for
    byte, without making term objects: the JSON text of each node is put together from the
    line's terms (one space between them, " ." at the end, as kg and pyoxigraph write
    them), its strings encoded by json's own C encoder, and the JSON of a recurring object
    term (an entity, a number, a date) kept for its next time. 1.75-1.8x faster than parsing
    the file and encoding nodes with json.dumps (0.87 against 1.52 s for 242,251 triples, 8.2
    against 14.7 s for 2.3 million), before the kept terms took a further 15% off (20,000
    articles: 8.3 -> 7.0 s). Raises NTriplesLineError for a line written another way."""
    context = json.dumps(dict(sorted(prefixes.items())), ensure_ascii=False)
    compact = _Compactor(prefixes)
    yield f'{{"@context": {context},\n"@graph": [\n'.encode()
    keys: dict[str, str] = {}  # predicate as written -> its JSON key, encoded ('"schema:name"')
    known: dict[str, str] = {}  # object term as written -> its JSON (7 in 10 recur: entities, numbers, dates)
    separator = ""
    subject = ""
    node: list[str] = []  # the node's '"@id": ...' and '"@type": [...]'
    types: list[str] = []
    values: dict[str, list[str]] = {}

    def node_json() -> bytes:
        if types:
            node.append('"@type": [' + ", ".join(types) + "]")
        node.extend(
            key + ": " + (items[0] if len(items) == 1 else "[" + ", ".join(items) + "]")
            for key, items in values.items()
        )
        return (separator + "{" + ", ".join(node) + "}").encode()

    for line in lines:
        fields = line.split(" ", 2)
        if len(fields) != 3:
            raise _line_error(line)
        this, predicate, term = fields
        if term.endswith(" .\n"):
            term = term[:-3]
        elif term.endswith(" ."):
            term = term[:-2]
        else:
            raise _line_error(line)
        if this != subject:
            if subject:
                yield node_json()
                separator = ",\n"
            if this[:1] == "<" and this[-1:] == ">":
                node = ['"@id": ' + encode_basestring(compact(this[1:-1]))]
            elif this.startswith("_:"):
                node = ['"@id": ' + encode_basestring(this)]
            else:
                raise _line_error(line)
            subject, types, values = this, [], {}
        if predicate == _RDF_TYPE_NT and term[:1] == "<":
            types.append(encode_basestring(compact(term[1:-1])))
            continue
        key = keys.get(predicate)
        if key is None:
            if predicate[:1] != "<" or predicate[-1:] != ">":
                raise _line_error(line)
            key = keys[predicate] = encode_basestring(compact(predicate[1:-1]))
        value = known.get(term)
        if value is None:
            value = _value_json(term, compact)
            if len(term) <= _KNOWN_LENGTH:  # not article bodies
                if len(known) >= _KNOWN_TERMS:
                    known.clear()
                known[term] = value
        found = values.get(key)
        if found is None:
            values[key] = [value]
        else:
            found.append(value)
    if subject:
        yield node_json()
    yield b"\n]}\n"
