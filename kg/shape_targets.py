"""Narrowed targets for class-targeted SPARQL constraints: a node shape whose only
constraint is a simple SPARQL SELECT runs that query once per instance of its class; the
same query run once over the whole data graph, as a SHACL-AF SPARQL target, finds the few
instances it can report on, and the constraint then runs on those alone. Same results (the
constraint still decides every node it is given), a fraction of the engine's work: kg's
two mention checks were a third of pyshacl-turbo's time, evaluated once per mention.

The shapes files keep their class targets (any SHACL-SPARQL processor reads them as
written); only the graph handed to kg's engines is rewritten."""

from __future__ import annotations

import re

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH

#: What a shape may say besides its class target and its one SPARQL constraint: nothing
#: that constrains, so restricting its focus nodes cannot hide a result.
_PASSIVE = frozenset(
    {RDF.type, SH.targetClass, SH.sparql, SH.name, SH.description, SH.message, SH.severity}
    | {SH.order, SH.group, RDFS.label, RDFS.comment}
)
#: A SELECT of $this (and other variables) over one group of triple patterns, FILTERs and
#: BINDs: no nested group, so no OPTIONAL, MINUS, UNION, EXISTS, GRAPH, SERVICE or
#: subquery; its first pattern's subject is $this, so every solution binds it.
_SIMPLE_SELECT = re.compile(
    r"\s*SELECT\s+(?:DISTINCT\s+)?[$?]this\b[^{}]*?\bWHERE\s*\{(?P<where>\s*[$?]this\s[^{}]*)\}\s*",
    re.IGNORECASE | re.DOTALL,
)
#: Variables the engine pre-binds in constraints but not in targets, and functions whose
#: value may differ between the target's run and the constraint's.
_NOT_REPEATABLE = re.compile(r"[$?](?:shapesGraph|currentShape|PATH)\b|(?i:\b(?:NOW|RAND|UUID|STRUUID|BNODE)\s*\()")
_INSTANCE_OF = f"<{RDF.type}>/<{RDFS.subClassOf}>*"


def _narrowing_query(select: str, target_class: URIRef) -> str | None:
    """The SPARQL target query for a constraint's SELECT on instances of target_class, or
    None when the SELECT is not of the simple kind whose solutions, with $this unbound,
    are those of every pre-bound run together."""
    match = _SIMPLE_SELECT.fullmatch(select)
    if match is None or _NOT_REPEATABLE.search(match["where"]):
        return None
    return f"SELECT DISTINCT $this WHERE {{ $this {_INSTANCE_OF} <{target_class}> . {match['where']} }}"


def narrowed_targets(shapes: Graph) -> Graph:
    """A copy of shapes in which every node shape that has one class target, one active
    SPARQL constraint with a simple SELECT and nothing else that constrains gets a SPARQL
    target instead: the constraint's own query over the instances of that class."""
    out = Graph()
    out += shapes
    for prefix, namespace in shapes.namespaces():
        out.bind(prefix, namespace)
    for shape in set(shapes.subjects(SH.sparql, None)):
        if not isinstance(shape, URIRef | BNode) or set(shapes.predicates(shape)) - _PASSIVE:
            continue
        classes, constraints = list(shapes.objects(shape, SH.targetClass)), list(shapes.objects(shape, SH.sparql))
        implicit = any((shape, RDF.type, cls) in shapes for cls in (RDFS.Class, OWL.Class))  # its own class target
        if len(classes) != 1 or len(constraints) != 1 or implicit:
            continue
        constraint, target_class = constraints[0], classes[0]
        select = shapes.value(constraint, SH.select)
        if not isinstance(target_class, URIRef) or not isinstance(select, Literal):
            continue
        if shapes.value(constraint, SH.deactivated) not in (None, Literal(False)):
            continue
        query = _narrowing_query(str(select), target_class)
        if query is None:
            continue
        target = BNode()
        out.remove((shape, SH.targetClass, target_class))
        out.add((shape, SH.target, target))
        out.add((target, RDF.type, SH.SPARQLTarget))
        out.add((target, SH.select, Literal(query)))
        for prefixes in shapes.objects(constraint, SH.prefixes):
            out.add((target, SH.prefixes, prefixes))
    return out
