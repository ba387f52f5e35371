"""The build: determinism, dumps that other parsers read, checksums, VoID, bad files, atomicity."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from kg.build import BuildError, BuildResult, _BackgroundValidation, build
from kg.dumps import DUMP_FILES, GZIPPED, DumpSorter, dump_names
from kg.extract.entities import SpacyExtractor
from kg.namespaces import DCAT, OA, PROV, SCHEMA, SPDX, VOID
from kg.settings import Settings
from kg.terms import graph_of_quad_line
from tests.conftest import RAW, ROOT, SEED_EPOCH

BASE = "http://127.0.0.1:8000/"


def _build(
    raw: Path, out: Path, extractor: SpacyExtractor, epoch: str | None = SEED_EPOCH, *, force: bool = False
) -> BuildResult:
    old = os.environ.pop("SOURCE_DATE_EPOCH", None)
    if epoch:
        os.environ["SOURCE_DATE_EPOCH"] = epoch
    try:
        return build(Settings(raw_dir=raw, out_dir=out), extractor=extractor, force=force)
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)
        if old is not None:
            os.environ["SOURCE_DATE_EPOCH"] = old


def test_out_has_every_file(built: Path) -> None:
    names = {p.name for p in built.iterdir()}
    assert names == {
        *dump_names(),
        "void.ttl",
        "SHA256SUMS",
        "build.json",
        "store",
        "validation.ttl",
        "validation.json",
        "summaries.json",
        "summary-pages.txt",
    }


def test_same_raw_gives_byte_identical_sorted_ntriples(built: Path, tmp_path: Path, extractor: SpacyExtractor) -> None:
    _build(RAW, tmp_path / "again", extractor)
    first = (built / "kg.nt").read_bytes()
    assert (tmp_path / "again" / "kg.nt").read_bytes() == first
    lines = first.splitlines()
    assert lines == sorted(set(lines)), "kg.nt is sorted, one unique triple a line"
    for name in DUMP_FILES:
        assert (tmp_path / "again" / name).read_bytes() == (built / name).read_bytes(), name


def test_build_times_come_from_source_date_epoch(built: Path) -> None:
    g = Graph().parse(built / "kg.nt", format="nt")
    times = {o.toPython().isoformat() for o in g.objects(None, PROV.startedAtTime)}
    times |= {o.toPython().isoformat() for o in g.objects(None, PROV.endedAtTime)}
    assert times == {"2018-08-06T00:00:00+00:00"}


def test_dumps_parse_with_a_second_parser_to_the_same_graph(built: Path) -> None:
    """pyoxigraph reads what kg wrote; rdflib reads it too; all four dumps agree."""
    reference = Graph().parse(built / "kg.nt", format="nt")
    ox_formats = {
        "kg.ttl": ox.RdfFormat.TURTLE,
        "kg.nt": ox.RdfFormat.N_TRIPLES,
        "kg.jsonld": ox.RdfFormat.JSON_LD,
        "kg.trig": ox.RdfFormat.TRIG,
    }
    for name, fmt in ox_formats.items():
        quads = list(ox.parse(path=str(built / name), format=fmt))
        triples = {(q.subject, q.predicate, q.object) for q in quads}
        assert len(triples) == len(reference), name
    for name, fmt in {"kg.ttl": "turtle", "kg.jsonld": "json-ld"}.items():
        assert isomorphic(Graph().parse(built / name, format=fmt), reference), name
    dataset = Dataset()
    dataset.parse(built / "kg.trig", format="trig")
    union = Graph()
    for s, p, o, _g in dataset.quads((None, None, None, None)):
        union.add((s, p, o))
    assert isomorphic(union, reference)


def test_trig_keeps_one_named_graph_per_article(built: Path) -> None:
    quads = list(ox.parse(path=str(built / "kg.trig"), format=ox.RdfFormat.TRIG))
    graphs = {q.graph_name.value for q in quads}
    assert graphs == {
        BASE + "graph/article/000_45883e71d61e1347",
        BASE + "graph/article/003_aa63f568c318a167",
        BASE + "graph/entities",
        BASE + "graph/provenance",
    }


@pytest.mark.skipif(
    shutil.which("rapper") is None and not os.environ.get("CI"),
    reason="needs rapper (Debian raptor2-utils); .ci/run installs it",
)
def test_rapper_reads_turtle_and_ntriples_to_the_same_count(built: Path) -> None:
    counts = {}
    for name, syntax in (("kg.ttl", "turtle"), ("kg.nt", "ntriples")):
        run = subprocess.run(
            ["rapper", "-i", syntax, "-c", str(built / name)],
            capture_output=True,
            text=True,
            check=True,
        )
        counts[name] = int(run.stderr.split("returned")[1].split()[0])
    assert counts["kg.ttl"] == counts["kg.nt"] == len((built / "kg.nt").read_bytes().splitlines())


def test_sha256sums_match_files(built: Path) -> None:
    lines = (built / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(dump_names()) + 3  # and void.ttl, summaries.json, summary-pages.txt
    for line in lines:
        digest, name = line.split("  ")
        assert hashlib.sha256((built / name).read_bytes()).hexdigest() == digest


def test_void_describes_each_dump_with_size_and_checksum(built: Path) -> None:
    void = Graph().parse(built / "void.ttl", format="turtle")
    dataset = URIRef(BASE + "dataset")
    triples = len((built / "kg.nt").read_bytes().splitlines())
    assert int(void.value(dataset, VOID.triples)) == triples
    assert void.value(dataset, URIRef("http://purl.org/dc/terms/license")) is not None
    distributions = list(void.objects(dataset, DCAT.distribution))
    assert len(distributions) == len(dump_names())
    for dist in distributions:
        name = str(dist).rsplit("/", 1)[-1]
        data = (built / name).read_bytes()
        assert int(void.value(dist, DCAT.byteSize)) == len(data)
        checksum = void.value(dist, SPDX.checksum)
        assert str(void.value(checksum, SPDX.checksumValue)) == hashlib.sha256(data).hexdigest()
        assert str(void.value(dist, DCAT.downloadURL)) == BASE + "dumps/" + name


def test_seed_articles_mentions_have_evidence_inside_the_body(built: Path) -> None:
    g = Graph().parse(built / "kg.nt", format="nt")
    articles = set(g.subjects(None, SCHEMA.NewsArticle))
    assert len(articles) == 2
    annotations = list(g.subjects(None, OA.Annotation))
    assert len(annotations) > 50
    for ann in annotations:
        target = g.value(ann, OA.hasTarget)
        article = g.value(target, OA.hasSource)
        body = str(g.value(article, SCHEMA.articleBody))
        selectors = list(g.objects(target, OA.hasSelector))
        start = next(int(g.value(s, OA.start)) for s in selectors if g.value(s, OA.start) is not None)
        end = next(int(g.value(s, OA.end)) for s in selectors if g.value(s, OA.end) is not None)
        exact = next(str(g.value(s, OA.exact)) for s in selectors if g.value(s, OA.exact) is not None)
        assert body[start:end] == exact
        assert (article, SCHEMA.mentions, g.value(ann, OA.hasBody)) in g


def test_entities_merge_within_and_across_articles(built: Path) -> None:
    g = Graph().parse(built / "kg.nt", format="nt")
    rand_paul = URIRef(BASE + "person/rand-paul")
    assert str(g.value(rand_paul, SCHEMA.name)) == "Rand Paul"
    assert "Paul" in {str(a) for a in g.objects(rand_paul, SCHEMA.alternateName)}
    mentioning = set(g.subjects(SCHEMA.mentions, rand_paul))
    assert len(mentioning) == 2, "one IRI for Rand Paul in both articles"
    assert not list(g.subjects(None, URIRef(BASE + "person/paul")))


def test_build_provenance(built: Path) -> None:
    g = Graph().parse(built / "kg.nt", format="nt")
    builds = list(g.subjects(None, PROV.Activity))
    assert len(builds) == 1
    used = {str(g.value(s, SCHEMA.name)) for s in g.objects(builds[0], PROV.used)}
    assert used == {"000_45883e71d61e1347.txt", "003_aa63f568c318a167.txt"}
    agents = {str(g.value(a, SCHEMA.name)) for a in g.objects(builds[0], PROV.wasAssociatedWith)}
    assert agents == {"kg", "spaCy NER"}


def test_bad_file_is_reported_and_the_rest_is_built(tmp_path: Path, extractor: SpacyExtractor) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    (raw / "empty.txt").write_bytes(b"")
    (raw / "boiler.txt").write_text("ShareThis Page\n", encoding="utf-8")
    result = _build(raw, tmp_path / "out", extractor)
    assert result.articles == 2  # type: ignore[attr-defined]
    assert sorted((Path(p.file).name, p.reason) for p in result.problems) == [  # type: ignore[attr-defined]
        ("boiler.txt", "no headline: the page has no text after removing boilerplate"),
        ("empty.txt", "empty file: no text to build an article from"),
    ]
    manifest = json.loads((tmp_path / "out" / "build.json").read_text(encoding="utf-8"))
    assert len(manifest["problems"]) == 2


def test_failed_build_leaves_previous_out_intact(tmp_path: Path, built: Path, extractor: SpacyExtractor) -> None:
    out = tmp_path / "out"
    shutil.copytree(built, out)
    before = (out / "kg.nt").read_bytes()
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "empty.txt").write_bytes(b"")
    with pytest.raises(BuildError, match="no article could be built"):
        _build(raw, out, extractor)
    assert (out / "kg.nt").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")) == [".out.lock"], "no staging left"


def test_rebuild_replaces_out_and_leaves_no_staging(tmp_path: Path, extractor: SpacyExtractor) -> None:
    out = tmp_path / "out"
    _build(RAW, out, extractor)
    (out / "stale.txt").write_text("old", encoding="utf-8")
    _build(RAW, out, extractor, force=True)
    assert not (out / "stale.txt").exists()
    assert gc.get_freeze_count() == 0, "the build froze its heap while it ran and thaws it at the end"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.cache", ".out.lock", "out"]


def test_store_answers_sparql(built: Path) -> None:
    store = ox.Store.read_only(str(built / "store"))
    rows = list(
        store.query(
            "SELECT ?h WHERE { ?a a <http://schema.org/NewsArticle> ; <http://schema.org/headline> ?h }",
            use_default_graph_as_union=True,
        )
    )
    assert len(rows) == 2


def test_store_holds_exactly_the_dumped_quads(built: Path) -> None:
    """The store, which the web app and /sparql serve, keeps literals in canonical form
    (xsd:nonNegativeInteger becomes xsd:integer, "+00:00" becomes "Z"); kg writes them
    that way, so what a user downloads and what they query are the same quads."""
    dumped = set(ox.parse(path=str(built / "kg.trig"), format=ox.RdfFormat.TRIG))
    void_graph = ox.NamedNode(BASE + "graph/void")
    dumped |= {
        ox.Quad(t.subject, t.predicate, t.object, void_graph)
        for t in ox.parse(path=str(built / "void.ttl"), format=ox.RdfFormat.TURTLE)
    }
    stored = set(ox.Store.read_only(str(built / "store")))
    assert stored == dumped


def test_gzip_variants_hold_the_same_bytes(built: Path) -> None:
    """kg.nt.gz and kg.trig.gz decompress to kg.nt and kg.trig; VoID says they are gzip."""
    import gzip

    for name in GZIPPED:
        assert gzip.decompress((built / f"{name}.gz").read_bytes()) == (built / name).read_bytes()
    void = Graph().parse(built / "void.ttl", format="turtle")
    compressed = {str(t) for t in void.objects(None, DCAT.compressFormat)}
    assert compressed == {"https://www.iana.org/assignments/media-types/application/gzip"}
    assert len(list(void.subjects(DCAT.compressFormat, None))) == len(GZIPPED)


def test_rebuild_reuses_extraction_for_unchanged_articles(tmp_path: Path, extractor: SpacyExtractor) -> None:
    """The second build runs NER on nothing and writes the same bytes; a changed article is
    extracted again; a damaged cache entry is a miss, not an error."""
    from kg.extract.cache import MentionCache, extractor_fingerprint
    from kg.extract.metadata import extract_metadata
    from kg.sources import read_source

    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(RAW, raw)
    first = _build(raw, out, extractor)
    before = (out / "kg.nt").read_bytes()
    second = _build(raw, out, extractor, force=True)
    assert (first.reused, second.reused) == (0, 2)
    assert (out / "kg.nt").read_bytes() == before
    cache = MentionCache(tmp_path / ".out.cache", extractor_fingerprint(extractor.model, extractor.version))
    unchanged = next(raw.glob("000_*.txt"))
    entry = cache._path(extract_metadata(read_source(unchanged).text).body)
    assert entry.is_file()
    entry.write_text("not json", encoding="utf-8")
    changed = next(raw.glob("003_*.txt"))
    text = changed.read_text(encoding="utf-8")
    changed.write_text(text.replace("WASHINGTON —", "WASHINGTON, D.C. —", 1), encoding="utf-8")
    assert _build(raw, out, extractor).reused == 0
    assert _build(raw, out, extractor, force=True).reused == 2


def test_no_change_rebuild_does_nothing(tmp_path: Path, extractor: SpacyExtractor) -> None:
    """Same raw files, code and settings: out/ is left exactly as it is (not even rewritten)."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(RAW, raw)
    first = _build(raw, out, extractor)
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = _build(raw, out, extractor)
    assert again.unchanged and not first.unchanged
    assert (again.build_iri, again.articles, again.quads) == (first.build_iri, first.articles, first.quads)
    assert [d.sha256 for d in again.dumps] == [d.sha256 for d in first.dumps]
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps
    (raw / "000_45883e71d61e1347.txt").touch()  # a new mtime with the same bytes changes nothing
    assert _build(raw, out, extractor).unchanged


@pytest.mark.parametrize("change", ["edit a raw file", "other SOURCE_DATE_EPOCH", "dump deleted", "shape edited"])
def test_a_changed_input_builds_again(tmp_path: Path, extractor: SpacyExtractor, change: str) -> None:
    raw, out, shapes = tmp_path / "raw", tmp_path / "out", tmp_path / "shapes"
    shutil.copytree(RAW, raw)
    shutil.copytree(Path("shapes"), shapes)
    settings = Settings(raw_dir=raw, out_dir=out, shapes_dir=shapes)
    os.environ["SOURCE_DATE_EPOCH"] = SEED_EPOCH
    try:
        build(settings, extractor=extractor)
        if change == "edit a raw file":
            page = raw / "003_aa63f568c318a167.txt"
            page.write_text(page.read_text(encoding="utf-8") + "\nMore text.\n", encoding="utf-8")
        elif change == "other SOURCE_DATE_EPOCH":
            os.environ["SOURCE_DATE_EPOCH"] = str(int(SEED_EPOCH) + 60)
        elif change == "dump deleted":
            (out / "kg.jsonld").unlink()
        else:
            with (shapes / "article.ttl").open("a", encoding="utf-8") as handle:
                handle.write("\n# edited\n")
        again = build(settings, extractor=extractor)
    finally:
        os.environ.pop("SOURCE_DATE_EPOCH", None)
    assert not again.unchanged
    assert (out / "kg.jsonld").is_file()


def test_deleted_raw_file_leaves_the_graph(tmp_path: Path, extractor: SpacyExtractor) -> None:
    """Removing a raw file removes its article graph from every dump and from the store."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    shutil.copytree(RAW, raw)
    _build(raw, out, extractor)
    gone = "http://127.0.0.1:8000/graph/article/003_aa63f568c318a167"
    assert gone in (out / "kg.trig").read_text(encoding="utf-8")
    (raw / "003_aa63f568c318a167.txt").unlink()
    result = _build(raw, out, extractor)
    assert not result.unchanged and result.articles == 1
    assert "003_aa63f568c318a167" not in (out / "kg.nt").read_text(encoding="utf-8")
    store = ox.Store.read_only(str(out / "store"))
    assert ox.NamedNode(gone) not in set(store.named_graphs())
    assert not list(store.quads_for_pattern(None, None, None, ox.NamedNode(gone)))


class _NoExtraction:
    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the build reached the extractor ({name}) before checking its shapes")


@pytest.mark.parametrize("missing", ["shapes_dir", "ontology_dir"])
def test_missing_shapes_fail_the_build_before_any_extraction(tmp_path: Path, missing: str) -> None:
    """A shapes or ontology folder that is not there fails at once (exit 1 from the CLI),
    not after the extraction of the whole corpus, and out/ is left as it was."""
    out = tmp_path / "out"
    settings = Settings(raw_dir=RAW, out_dir=out).replace(**{missing: tmp_path / "nowhere"})
    extractor: SpacyExtractor = _NoExtraction()  # type: ignore[assignment]
    expected = f"cannot validate the build: {tmp_path / 'nowhere'}: .* folder does not exist"
    with pytest.raises(BuildError, match=expected):
        build(settings, extractor=extractor)
    assert not out.exists()


def test_build_validation_report_is_that_of_its_dumps(built: Path) -> None:
    """The build validates the article graphs it mapped (kept in order beside the dumps):
    its reports are byte for byte what validating its kg.trig and void.ttl afterwards gives."""
    import io

    from kg.reports import format_json, write_turtle
    from kg.validate import run_validation

    outcome = run_validation([built / "kg.trig", built / "void.ttl"], ROOT / "shapes", ROOT / "ontology", jobs=1)
    turtle = io.BytesIO()
    write_turtle(outcome, turtle)
    assert turtle.getvalue() == (built / "validation.ttl").read_bytes()
    assert format_json(outcome) == (built / "validation.json").read_text(encoding="utf-8")
    assert not list(built.glob("trig-order-*")), "the article graphs kept for validation are removed"


def _sorter_of(built: Path, folder: Path) -> tuple[DumpSorter, list[ox.Quad]]:
    """A sorter given a build's quads as the build gives them (article graphs whole and in
    order, the other graphs loose) but for the dataset description, returned apart."""
    from kg.validate import is_article_graph_nt

    sorter = DumpSorter(folder, keep_whole_graphs=True)
    by_graph: dict[bytes, list[bytes]] = {}
    for line in (ox.serialize(ox.parse(path=str(built / "kg.trig")), format=ox.RdfFormat.N_QUADS) or b"").splitlines():
        by_graph.setdefault(graph_of_quad_line(line), []).append(line)
    for graph in sorted(by_graph, key=lambda g: g + b" "):
        (sorter.add_graph if is_article_graph_nt(graph) else sorter.add_lines)(by_graph[graph])
    void = list(ox.parse(path=str(built / "void.ttl"), format=ox.RdfFormat.TURTLE))
    return sorter, [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(f"{BASE}graph/void")) for t in void]


def test_validation_beside_the_dumps_gives_the_build_s_report(built: Path, tmp_path: Path) -> None:
    """The build's validation on its thread (begun before the dumps are written, handed the
    dataset description once made) writes the report validating the files gives; asked
    to stop before that, it stops at once and writes nothing."""
    staging = tmp_path / "staging"
    staging.mkdir()
    settings = Settings(raw_dir=RAW, out_dir=tmp_path / "out")
    sorter, void = _sorter_of(built, staging)
    done: list[int] = []
    running = _BackgroundValidation(staging, settings, False, sorter, done.append)
    sorter.write(staging)
    running.add_late(void)
    assert running.finish()["violations"] == 0
    for name in ("validation.ttl", "validation.json"):
        assert (staging / name).read_bytes() == (built / name).read_bytes()
    assert done[-1] == 3, "two article graphs and the other graphs"
    sorter.close()

    sorter, void = _sorter_of(built, tmp_path / "again")
    stopped = _BackgroundValidation(tmp_path / "again", settings, False, sorter, None)
    stopped.abandon()  # while it waits for the dataset description, or before
    assert not [t for t in threading.enumerate() if t.name.startswith("kg-validate")]
    assert not list((tmp_path / "again").glob("validation.*"))
    sorter.close()


def test_a_build_stopped_beside_its_validation_stops_it_and_keeps_out(
    tmp_path: Path, built: Path, extractor: SpacyExtractor
) -> None:
    """Ctrl-C (here from the stage callback) while the validation runs beside the later
    stages: the validation's thread ends, no staging is left, the old out/ is kept."""
    out = tmp_path / "out"
    shutil.copytree(built, out)
    before = (out / "kg.nt").read_bytes()

    def stages(stage: str) -> None:
        if stage == "finishing the store load":
            assert [t for t in threading.enumerate() if t.name.startswith("kg-validate")]
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build(Settings(raw_dir=RAW, out_dir=out), extractor=extractor, force=True, stages=stages)
    assert not [t for t in threading.enumerate() if t.name.startswith("kg-validate")]
    assert (out / "kg.nt").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")) == [".out.cache", ".out.lock"]
    assert gc.get_freeze_count() == 0
