"""The build's page lists of summarised entities (kg.summaries.SummaryPages) and its home listing."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

import kg.summaries
from bench.generate import generate
from kg.build import build
from kg.extract.entities import SpacyExtractor
from kg.iris import Minter
from kg.namespaces import RDF, SCHEMA
from kg.settings import Settings
from kg.store.oxigraph import OxigraphStore
from kg.summaries import SUMMARIES_FILE, EntitySummary, SummaryPages, home_listing, read_home


def test_summary_pages_read_each_page_of_an_entity(tmp_path: Path) -> None:
    path = tmp_path / "summary-pages.txt"
    path.write_bytes(b"http://x/a/1\nhttp://x/a/2\nhttp://x/a/3\nhttp://x/b/1\n")
    entity = EntitySummary([], pages=[0, 26, 39])  # two a page: a/1 a/2 | a/3
    other = EntitySummary([], pages=[39, 52])
    pages = SummaryPages(path)
    try:
        assert pages.page(entity, 1) == ["http://x/a/1", "http://x/a/2"]
        assert pages.page(entity, 2) == ["http://x/a/3"]
        assert pages.page(entity, 3) == []  # past the last page
        assert pages.page(other, 1) == ["http://x/b/1"]
        assert pages.page(EntitySummary([]), 1) is None  # a summary without page lists
        path.unlink()  # a rebuild replaced the folder: reads stay with the file that was opened
        assert pages.page(entity, 2) == ["http://x/a/3"]
    finally:
        pages.close()


def test_summary_pages_cannot_say_when_the_file_is_missing_or_short(tmp_path: Path) -> None:
    entity = EntitySummary([], pages=[0, 13, 26])
    missing = SummaryPages(tmp_path / "missing.txt")
    assert missing.page(entity, 1) is None
    short = tmp_path / "short.txt"
    short.write_bytes(b"http://x/a/1\n")
    pages = SummaryPages(short)
    try:
        assert pages.page(entity, 1) == ["http://x/a/1"]
        assert pages.page(entity, 2) is None  # the file ends before the page: ask the store
    finally:
        pages.close()


@pytest.mark.parametrize("cap", [4, 100])
def test_the_build_s_home_listing_is_the_one_the_store_gives(
    tmp_path: Path, extractor: SpacyExtractor, monkeypatch: pytest.MonkeyPatch, cap: int
) -> None:
    """The home page's lists that the build gathers as it maps (HomeCollector) are those
    home_listing asks of the store, in the same order: with two articles of the same date
    and headline, one without a date, entities of equal counts, and lists longer than the
    cap (4) or not (100)."""
    raw = tmp_path / "raw"
    generate(12, raw)
    text = (raw / "bench-000003.txt").read_text(encoding="utf-8")
    (raw / "twin-a.txt").write_text(text, encoding="utf-8")  # the same headline and date
    (raw / "twin-b.txt").write_text(text, encoding="utf-8")
    lines = text.split("\n")
    del lines[7]  # its date line
    (raw / "undated.txt").write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.setattr(kg.summaries, "HOME_CAP", cap)
    out = tmp_path / "out"
    built = build(Settings(raw_dir=raw, out_dir=out), extractor=extractor, allow_invalid=True)
    assert built.validation is not None and built.validation["violations"] == 1  # the article without a date
    kept = read_home(out / SUMMARIES_FILE)
    assert kept is not None
    store = OxigraphStore(out / "store", read_only=True)
    try:
        live = home_listing(store, Minter(Settings().base_iri))
    finally:
        store.close()
    assert kept == live
    assert len(kept.articles) == min(cap, 15) and kept.more_articles == (cap < 15)
    if cap < 15:
        assert all(len(group.entities) <= cap for group in kept.groups)
        assert any(group.total > cap for group in kept.groups)
    else:
        assert kept.articles[-1].date == "" and all(article.date for article in kept.articles[:-1])
        twins = [a for a in kept.articles if a.iri.endswith(("twin-a", "twin-b"))]
        assert len(twins) == 2 and twins[0].date == twins[1].date and twins[0].headline == twins[1].headline
    counts = [(e.articles, e.name) for group in kept.groups for e in group.entities]
    assert len(counts) > len(set(c for c, _ in counts))  # entities of equal counts, ordered by name


@pytest.mark.parametrize("cap", [2, 3, 100])
def test_home_collector_orders_its_lists_as_the_store_s_queries(tmp_path: Path, cap: int) -> None:
    """HomeCollector.listing() against home_listing() over a store of the same statements,
    chosen so that every tie-break decides: articles of one date whose IRIs sort against
    their headlines (and headlines that differ in case and accents), one undated; entities
    of equal counts whose IRIs (slugs) sort against their names, one that nothing mentions."""
    from kg.namespaces import XSD  # (at module level pytest's collection trips over rdflib's closed namespace)

    minter = Minter("http://x.test/")
    articles = [  # key, headline, date, mentioned (entity names)
        ("a1", "Zebra crossing", "2020-05-01", ["Zed Xu", "Émile Roy"]),
        ("a2", "Éclair sales", "2020-05-01", ["Zed Xu"]),
        ("a3", "apple harvest", "2020-05-01", ["Émile Roy"]),
        ("a4", "Apple harvest", "2021-01-31", []),
        ("a5", "Undated", "", ["Acme"]),
        ("a6", "Zebra crossing", "2019-12-31", ["Paris"]),
    ]
    kinds = {"Zed Xu": "person", "Émile Roy": "person", "Acme": "organization", "Paris": "place", "Nobody": "person"}
    iris = minter.entity_iris((kind, name) for name, kind in kinds.items())
    assert str(iris[("person", "Émile Roy")]) < str(iris[("person", "Zed Xu")]) and "Zed Xu" < "Émile Roy"
    collector = kg.summaries.HomeCollector()
    lines = []
    for key, headline, date, mentioned in articles:
        iri, graph = minter.article(key), minter.article_graph(key)
        lines += [
            f"<{iri}> <{RDF.type}> <{SCHEMA.NewsArticle}> <{graph}> .",
            f'<{iri}> <{SCHEMA.headline}> "{headline}" <{graph}> .',
        ]
        if date:
            lines.append(f'<{iri}> <{SCHEMA.datePublished}> "{date}"^^<{XSD.date}> <{graph}> .')
        entities = [str(iris[(kinds[name], name)]) for name in mentioned]
        lines += [f"<{iri}> <{SCHEMA.mentions}> <{entity}> <{graph}> ." for entity in entities]
        collector.add_article(str(iri), headline, date, entities)
    for name, kind in kinds.items():
        entity = iris[(kind, name)]
        lines.append(f'<{entity}> <{SCHEMA.name}> "{name}" <{minter.entity_graph()}> .')
        collector.add_entity(str(entity), name)
    store = OxigraphStore(tmp_path / "store", read_only=False)
    try:
        store.load_nquads("\n".join(lines).encode("utf-8"))
        live = home_listing(store, minter, cap)
    finally:
        store.close()
    kept = collector.listing(minter, cap)
    assert kept == live
    if cap == 100:
        assert [a.headline for a in kept.articles] == [
            "Apple harvest", "Zebra crossing", "apple harvest", "Éclair sales", "Zebra crossing", "Undated"
        ]  # fmt: skip
        people = next(group for group in kept.groups if group.kind == "person")
        assert [(e.name, e.articles) for e in people.entities] == [("Zed Xu", 2), ("Émile Roy", 2), ("Nobody", 0)]


def test_co_mentioned_counts_shared_articles_most_first_then_by_iri(tmp_path: Path) -> None:
    """Entities that share articles with one: how many each, most first, ties by IRI (not
    by the order the store keeps them in), the entity itself left out, cut at the limit."""
    ex = "http://example.org/"
    mentions = {  # article -> the entities it mentions
        "a1": ["ada", "zed", "bob", "cy"],
        "a2": ["ada", "zed", "bob"],
        "a3": ["ada", "cy", "abe"],
        "a4": ["zed", "bob", "eve"],  # not with ada: does not count
    }
    store = OxigraphStore(tmp_path / "store", read_only=False)
    store.load(
        ox.Quad(ox.NamedNode(ex + a), ox.NamedNode(str(SCHEMA.mentions)), ox.NamedNode(ex + e), ox.NamedNode(ex + "g"))
        for a, entities in mentions.items()
        for e in entities
    )
    found = [(c.key.removeprefix(ex), c.count) for c in kg.summaries.co_mentioned(store, ex + "ada")]
    assert found == [("bob", 2), ("cy", 2), ("zed", 2), ("abe", 1)]
    assert [c.key for c in kg.summaries.co_mentioned(store, ex + "ada", limit=2)] == [ex + "bob", ex + "cy"]
    assert kg.summaries.co_mentioned(store, ex + "ada", limit=0) == []
