"""An article as schema:NewsArticle (and prov:Entity)."""

from __future__ import annotations

from rdflib import Literal, URIRef

from kg.extract.metadata import ArticleMetadata
from kg.iris import Minter
from kg.mapping import Triple
from kg.namespaces import PROV, RDF, SCHEMA, XSD


def article_triples(
    minter: Minter,
    key: str,
    meta: ArticleMetadata,
    *,
    source: URIRef,
    build: URIRef,
    language: str,
    authors: list[URIRef],
    publisher: URIRef | None,
    mentioned: list[URIRef],
    about: list[URIRef] = (),  # type: ignore[assignment]
) -> list[Triple]:
    """Triples describing one article, its images, and links to what it mentions."""
    article = minter.article(key)
    triples: list[Triple] = [
        (article, RDF.type, SCHEMA.NewsArticle),
        (article, RDF.type, PROV.Entity),
        (article, SCHEMA.identifier, Literal(key)),
        (article, SCHEMA.headline, Literal(meta.headline)),
        (article, SCHEMA.articleBody, Literal(meta.body)),
        (article, SCHEMA.wordCount, Literal(meta.word_count, datatype=XSD.integer)),
        (article, SCHEMA.inLanguage, Literal(language)),
        (article, PROV.wasDerivedFrom, source),
        (article, PROV.wasGeneratedBy, build),
    ]
    if meta.date_published is not None:
        triples.append((article, SCHEMA.datePublished, Literal(meta.date_published.isoformat(), datatype=XSD.date)))
    if meta.dateline:
        triples.append((article, SCHEMA.dateline, Literal(meta.dateline)))
    triples.extend((article, SCHEMA.author, author) for author in authors)
    if publisher is not None:
        triples.append((article, SCHEMA.publisher, publisher))
    for index, caption in enumerate(meta.captions, start=1):
        image = minter.image(key, index)
        triples += [
            (article, SCHEMA.image, image),
            (image, RDF.type, SCHEMA.ImageObject),
            (image, SCHEMA.caption, Literal(caption)),
            (image, SCHEMA.position, Literal(index, datatype=XSD.integer)),
        ]
    triples.extend((article, SCHEMA.mentions, entity) for entity in mentioned)
    triples.extend((article, SCHEMA.about, entity) for entity in about)
    return triples
