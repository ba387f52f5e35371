"""Golden mapping cases: tests/golden/<case>/input.txt -> expected.ttl (metadata triples).

The expected graph holds what the page says about itself: the article's type, headline,
dates, byline, dateline, publisher, word count, language, images and captions, and the
source file facts. Entity mentions are checked elsewhere (they depend on the model).
"""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph, URIRef

from kg.namespaces import PROV, RDF, SCHEMA

GOLDEN = Path(__file__).resolve().parent / "golden"
#: Predicates of an article that are metadata (not entity mentions or provenance).
ARTICLE_PREDICATES = {
    RDF.type,
    SCHEMA.headline,
    SCHEMA.datePublished,
    SCHEMA.dateline,
    SCHEMA.wordCount,
    SCHEMA.inLanguage,
    SCHEMA.identifier,
    SCHEMA.author,
    SCHEMA.publisher,
    SCHEMA.image,
    PROV.wasDerivedFrom,
}


def cases() -> list[Path]:
    return sorted(p for p in GOLDEN.iterdir() if (p / "input.txt").is_file())


def metadata_subgraph(graph: Graph, article: URIRef) -> Graph:
    """The article's metadata triples plus its images, source, author and publisher names."""
    out = Graph()
    for p, o in graph.predicate_objects(article):
        if p in ARTICLE_PREDICATES:
            out.add((article, p, o))
            if p in (SCHEMA.image, PROV.wasDerivedFrom):
                for p2, o2 in graph.predicate_objects(o):
                    out.add((o, p2, o2))
            if p in (SCHEMA.author, SCHEMA.publisher):
                out.add((o, SCHEMA.name, graph.value(o, SCHEMA.name)))
                for t in graph.objects(o, RDF.type):
                    out.add((o, RDF.type, t))
    return out
