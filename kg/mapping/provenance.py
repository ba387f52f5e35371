"""PROV-O: raw files as entities, the build as an activity, kg and the extractor as agents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from rdflib import Literal, URIRef

from kg.mapping import Triple
from kg.namespaces import PROV, RDF, RDFS, SCHEMA, XSD
from kg.sources import RawSource
from kg.terms import datetime_literal


@dataclass(frozen=True)
class Agent:
    """A piece of software that took part in a build."""

    iri: URIRef
    name: str
    version: str


def source_triples(iri: URIRef, source: RawSource) -> list[Triple]:
    """The raw file: name, sha256 of its bytes, size and media type."""
    return [
        (iri, RDF.type, PROV.Entity),
        (iri, RDF.type, SCHEMA.MediaObject),
        (iri, SCHEMA.name, Literal(source.name)),
        (iri, SCHEMA.sha256, Literal(source.sha256)),
        (iri, SCHEMA.contentSize, Literal(source.size, datatype=XSD.integer)),
        (iri, SCHEMA.encodingFormat, Literal(source.media_type)),
    ]


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
