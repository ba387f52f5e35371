"""The only module that spells namespace IRIs."""

from collections.abc import Mapping

from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, OWL, RDF, RDFS, SH, VOID, XSD

SCHEMA = Namespace("http://schema.org/")
PROV = Namespace("http://www.w3.org/ns/prov#")
OA = Namespace("http://www.w3.org/ns/oa#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
IANA_MEDIA = Namespace("https://www.iana.org/assignments/media-types/")

#: Prefixes written into every serialisation and offered to SPARQL queries.
PREFIXES: dict[str, str] = {
    "schema": str(SCHEMA),
    "prov": str(PROV),
    "oa": str(OA),
    "void": str(VOID),
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "spdx": str(SPDX),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
    "owl": str(OWL),
    "sh": str(SH),
}


def curie(iri: str, prefixes: Mapping[str, str] = PREFIXES) -> str | None:
    """'http://schema.org/name' -> 'schema:name' (longest matching namespace), or None."""
    best = max((ns for ns in prefixes.values() if iri.startswith(ns) and len(iri) > len(ns)), key=len, default=None)
    if best is None:
        return None
    prefix = next(p for p, ns in prefixes.items() if ns == best)
    return f"{prefix}:{iri[len(best) :]}"


__all__ = [
    "curie",
    "DCAT",
    "DCTERMS",
    "IANA_MEDIA",
    "OA",
    "OWL",
    "PREFIXES",
    "PROV",
    "RDF",
    "RDFS",
    "SCHEMA",
    "SD",
    "SH",
    "SPDX",
    "VOID",
    "XSD",
]
