"""PROV-O: raw files as entities, the build as an activity, kg and the extractor as agents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from rdflib import Literal, URIRef

from kg.mapping import Triple
from kg.namespaces import PROV, RDF, RDFS, SCHEMA, XSD
from kg.sources import RawSource
from kg.terms import datetime_literal, nquads, nt_iri, nt_string, nt_typed


@dataclass(frozen=True)
class Agent:
    """A piece of software that took part in a build."""

    iri: URIRef
    name: str
    version: str


_TYPE, _PROV_ENTITY, _MEDIA_OBJECT = nt_iri(RDF.type), nt_iri(PROV.Entity), nt_iri(SCHEMA.MediaObject)
_NAME, _SHA256, _SIZE, _FORMAT = (nt_iri(SCHEMA[n]) for n in ("name", "sha256", "contentSize", "encodingFormat"))


def source_nquads(iri: str, source: RawSource, graph: str) -> str:
    """The raw file (name, sha256 of its bytes, size and media type) as N-Quads in graph
    (an article's: written as text, as the article is, kg.mapping.article)."""
    subject = nt_iri(iri)
    statements = [
        (subject, _TYPE, _PROV_ENTITY),
        (subject, _TYPE, _MEDIA_OBJECT),
        (subject, _NAME, nt_string(source.name)),
        (subject, _SHA256, nt_string(source.sha256)),
        (subject, _SIZE, nt_typed(str(source.size), str(XSD.integer))),
        (subject, _FORMAT, nt_string(source.media_type)),
    ]
    return nquads(statements, nt_iri(graph))


def build_triples(
    build: URIRef,
    *,
    started: dt.datetime,
    ended: dt.datetime,
    used: Sequence[URIRef],
    software: Agent,
    extractor: Agent,
) -> list[Triple]:
    """The build activity, what it used, when it ran, and the agents it ran with."""
    triples: list[Triple] = [
        (build, RDF.type, PROV.Activity),
        (build, RDFS.label, Literal(f"kg build {build.rsplit('/', 1)[-1]}")),
        (build, PROV.startedAtTime, datetime_literal(started)),
        (build, PROV.endedAtTime, datetime_literal(ended)),
    ]
    triples.extend((build, PROV.used, iri) for iri in used)
    for agent in (software, extractor):
        triples += [
            (build, PROV.wasAssociatedWith, agent.iri),
            (agent.iri, RDF.type, PROV.SoftwareAgent),
            (agent.iri, SCHEMA.name, Literal(agent.name)),
            (agent.iri, SCHEMA.softwareVersion, Literal(agent.version)),
        ]
    return triples
