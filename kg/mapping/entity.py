"""Entities as schema:Person / Organization / Place / Event."""

from __future__ import annotations

from rdflib import Literal, URIRef

from kg.extract.resolve import Entity
from kg.mapping import Triple
from kg.namespaces import PROV, RDF, SCHEMA


def entity_triples(iri: URIRef, entity: Entity, *, build: URIRef) -> list[Triple]:
    """Type, name and aliases of one entity."""
    triples: list[Triple] = [
        (iri, RDF.type, SCHEMA[entity.schema_type]),
        (iri, SCHEMA.name, Literal(entity.name)),
        (iri, PROV.wasGeneratedBy, build),
    ]
    triples.extend((iri, SCHEMA.alternateName, Literal(alias)) for alias in sorted(entity.aliases))
    triples.extend((iri, SCHEMA.jobTitle, Literal(title)) for title in sorted(entity.job_titles))
    triples.extend((iri, SCHEMA.sameAs, URIRef(same)) for same in sorted(entity.same_as))
    return triples
