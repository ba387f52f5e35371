"""N-Triples text written by kg itself (the mention fast path) must be what pyoxigraph writes."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import rdflib

from kg.iris import ENTITY_KINDS, Minter, key_for_file
from kg.mapping.annotation import mention_nquads
from kg.terms import nt_string, nt_unescape

SUBJECT, PREDICATE = ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p")


def test_nt_string_matches_pyoxigraph_for_every_code_point() -> None:
    points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    for i in range(0, len(points), 50_000):
        chunk = points[i : i + 50_000]
        texts = [f"a{chr(c)}b" for c in chunk]
        written = ox.serialize(
            [ox.Triple(SUBJECT, PREDICATE, ox.Literal(t)) for t in texts], format=ox.RdfFormat.N_TRIPLES
        )
        ours = "".join(f"<http://example.org/s> <http://example.org/p> {nt_string(t)} .\n" for t in texts)
        assert ours.encode("utf-8") == written, f"code points from U+{chunk[0]:04X}"
        assert [nt_unescape(nt_string(t)[1:-1]) for t in texts] == texts, f"read back, from U+{chunk[0]:04X}"


def test_nt_unescape_reads_every_n_triples_escape_and_refuses_others() -> None:
    assert nt_unescape(r"a\tb\n\r\b\f\"\'\\") == "a\tb\n\r\b\f\"'\\"
    assert nt_unescape(r"\u00E9\U0001F600\u0000") == "\u00e9\U0001f600\x00"
    assert nt_unescape("no escapes") == "no escapes"
    with pytest.raises(ValueError, match="not an N-Triples escape"):
        nt_unescape(r"a\qb")


def test_mention_nquads_is_canonical_and_parses_as_the_annotation_model() -> None:
    minter = Minter("http://example.org/")
    body = 'He said "Zürich\\n" —\tthen\r\nleft.'
    text = mention_nquads(
        minter,
        "a-1",
        body,
        [(9, 15, "http://example.org/place/zurich")],
        build="http://example.org/build/1",
        extractor="http://example.org/agent/spacy",
    )
    quads = list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_QUADS))
    assert len(quads) == 17
    # written exactly as pyoxigraph writes the same quads, in any order
    canonical = ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""
    assert sorted(text.encode("utf-8").splitlines()) == sorted(canonical.splitlines())
    # and read by rdflib (another parser) as the Web Annotation of the mention
    ds = rdflib.Dataset()
    ds.parse(data=text, format="nquads")
    graph = ds.graph(rdflib.URIRef("http://example.org/graph/article/a-1"))
    oa = rdflib.Namespace("http://www.w3.org/ns/oa#")
    quote = rdflib.URIRef("http://example.org/article/a-1/mention/9-15/quote")
    assert str(graph.value(quote, oa.exact)) == "Zürich"
    assert str(graph.value(quote, oa.prefix)) == body[:9]
    assert str(graph.value(quote, oa.suffix)) == body[15:]
    position = rdflib.URIRef("http://example.org/article/a-1/mention/9-15/position")
    assert graph.value(position, oa.start) == rdflib.Literal(9)
    annotation = rdflib.URIRef("http://example.org/article/a-1/mention/9-15")
    assert graph.value(annotation, oa.hasBody) == rdflib.URIRef("http://example.org/place/zurich")


def test_article_and_source_nquads_are_canonical_and_the_same_statements_as_rdflib_terms() -> None:
    """The article's and its raw file's statements, written as text, are what pyoxigraph
    writes for the same quads, and what rdflib reads as the article the README describes."""
    import datetime as dt
    from pathlib import Path

    from kg.extract.metadata import ArticleMetadata
    from kg.mapping.article import article_nquads
    from kg.mapping.provenance import source_nquads
    from kg.sources import RawSource

    minter = Minter("http://example.org/")
    meta = ArticleMetadata(
        headline='A "quoted"\theadline',
        body="Line one.\nZürich \\ line two.",
        authors=("Ann",),
        date_published=dt.date(2018, 8, 6),
        dateline="ZÜRICH",
        publisher="Trib",
        captions=("Caption\r\none",),
        word_count=6,
    )
    graph = str(minter.article_graph("a-1"))
    text = article_nquads(
        minter,
        "a-1",
        meta,
        source=str(minter.source("a-1.txt")),
        build="http://example.org/build/1",
        language="en",
        authors=[minter.entity("person", "Ann")],  # URIRefs work as the strings they are
        publisher=str(minter.entity("organization", "Trib")),
        mentioned=["http://example.org/place/zurich"],
        about=["http://example.org/place/zurich"],
    )
    source = RawSource(Path("a-1.txt"), "a-1.txt", 42, "ab" * 32, "utf-8", "")
    text += source_nquads(str(minter.source("a-1.txt")), source, graph)
    quads = list(ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_QUADS))
    assert len(quads) == len(text.splitlines()) == 25
    canonical = ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""
    assert sorted(text.encode("utf-8").splitlines()) == sorted(canonical.splitlines())
    ds = rdflib.Dataset()
    ds.parse(data=text, format="nquads")
    g = ds.graph(rdflib.URIRef(graph))
    schema = rdflib.Namespace("http://schema.org/")
    article = minter.article("a-1")
    assert g.value(article, schema.headline) == rdflib.Literal(meta.headline)
    assert g.value(article, schema.articleBody) == rdflib.Literal(meta.body)
    assert g.value(article, schema.datePublished) == rdflib.Literal(dt.date(2018, 8, 6))
    assert g.value(article, schema.wordCount) == rdflib.Literal(6)
    assert g.value(minter.image("a-1", 1), schema.caption) == rdflib.Literal("Caption\r\none")
    assert g.value(minter.source("a-1.txt"), schema.contentSize) == rdflib.Literal(42)


@pytest.mark.parametrize("base", ["http://x/%zz/", "http://x/a\x01/", "http://[::1/"])
def test_minter_refuses_a_base_that_is_not_an_iri(base: str) -> None:
    with pytest.raises(ValueError, match=r"base IRI is not a valid IRI \(Invalid"):
        Minter(base)


def test_every_iri_minted_from_hostile_names_is_one_a_strict_parser_takes() -> None:
    """The dumps read the build's lines leniently (kg.dumps._parsed): the IRIs written as
    text are minted, and minted IRIs are valid whatever the file and entity names."""
    minter = Minter("http://example.org/kg/é/")
    names = ["a b{c}|d^`", "Ünïcödé ☃", "..", "%zz", "<x>", "中文 新闻", "", "a/b\\c", "\x00\x01\x7f", '"q"', "#?&="]
    for name in names:
        key = key_for_file(f"{name}.txt")
        iris = [
            minter.article(key),
            minter.article_graph(key),
            minter.image(key, 1),
            minter.source(f"{name}.txt"),
            *minter.mention_iris(key, 0, 3),
            *(minter.entity(kind, name) for kind in ENTITY_KINDS),
        ]
        line = "".join(f"<{iri}> <{iri}> <{iri}> .\n" for iri in iris)
        assert len(list(ox.parse(line, format=ox.RdfFormat.N_TRIPLES))) == len(iris), name  # strict
