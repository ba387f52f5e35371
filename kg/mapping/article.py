"""An article as schema:NewsArticle (and prov:Entity).

Written straight as N-Quads text in the canonical form pyoxigraph writes (as the mention
annotations are, kg.mapping.annotation): through rdflib and pyoxigraph term objects, the
article's few dozen statements took a third of the mapping thread's CPU (py-spy, 10,000
short articles).
"""

from __future__ import annotations

from collections.abc import Sequence

from kg.extract.metadata import ArticleMetadata
from kg.iris import Minter
from kg.namespaces import PROV, RDF, SCHEMA, XSD
from kg.terms import nquads, nt_iri, nt_string, nt_typed

_TYPE = nt_iri(RDF.type)
_INTEGER, _DATE = str(XSD.integer), str(XSD.date)
_S = {name: nt_iri(SCHEMA[name]) for name in (
    "NewsArticle", "identifier", "headline", "articleBody", "wordCount", "inLanguage", "datePublished",
    "dateline", "author", "publisher", "image", "ImageObject", "caption", "position", "mentions", "about",
)}  # fmt: skip
_PROV_ENTITY, _DERIVED, _GENERATED = (nt_iri(PROV[n]) for n in ("Entity", "wasDerivedFrom", "wasGeneratedBy"))


def article_nquads(
    minter: Minter,
    key: str,
    meta: ArticleMetadata,
    *,
    source: str,
    build: str,
    language: str,
    authors: Sequence[str],
    publisher: str | None,
    mentioned: Sequence[str],
    about: Sequence[str] = (),
) -> str:
    """N-Quads, in the article's graph, describing one article, its images, and links to
    what it mentions (the IRIs given as strings)."""
    article, graph = nt_iri(minter.article(key)), nt_iri(minter.article_graph(key))
    statements: list[tuple[str, str, str]] = [
        (article, _TYPE, _S["NewsArticle"]),
        (article, _TYPE, _PROV_ENTITY),
        (article, _S["identifier"], nt_string(key)),
        (article, _S["headline"], nt_string(meta.headline)),
        (article, _S["articleBody"], nt_string(meta.body)),
        (article, _S["wordCount"], nt_typed(str(meta.word_count), _INTEGER)),
        (article, _S["inLanguage"], nt_string(language)),
        (article, _DERIVED, nt_iri(source)),
        (article, _GENERATED, nt_iri(build)),
    ]
    if meta.date_published is not None:
        statements.append((article, _S["datePublished"], nt_typed(meta.date_published.isoformat(), _DATE)))
    if meta.dateline:
        statements.append((article, _S["dateline"], nt_string(meta.dateline)))
    statements.extend((article, _S["author"], nt_iri(author)) for author in authors)
    if publisher is not None:
        statements.append((article, _S["publisher"], nt_iri(publisher)))
    for index, caption in enumerate(meta.captions, start=1):
        image = nt_iri(minter.image(key, index))
        statements += [
            (article, _S["image"], image),
            (image, _TYPE, _S["ImageObject"]),
            (image, _S["caption"], nt_string(caption)),
            (image, _S["position"], nt_typed(str(index), _INTEGER)),
        ]
    statements.extend((article, _S["mentions"], nt_iri(entity)) for entity in mentioned)
    statements.extend((article, _S["about"], nt_iri(entity)) for entity in about)
    return nquads(statements, graph)
