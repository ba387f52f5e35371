"""The external sort behind the dumps: runs on disk merged give the bytes one in-memory
sort gives, for the line sorter alone, for the dumps, and for a whole build."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pyoxigraph as ox
import pytest

import kg.dumps
import kg.sorting
from kg.build import build
from kg.dumps import CHECKSUM_FILE, DUMP_FILES, GZIPPED, VOID_FILE, dump_names, write_dumps
from kg.extract.entities import SpacyExtractor
from kg.settings import Settings
from kg.sorting import LineSorter
from tests.conftest import RAW, SEED_EPOCH


def _lines(n: int, seed: int = 7) -> list[bytes]:
    rng = random.Random(seed)
    # short lines over a small alphabet: many repeats and many lines that prefix others
    return [bytes(rng.choice(b"ab <>_:") for _ in range(rng.randint(0, 6))) for _ in range(n)]


@pytest.mark.parametrize("unique", [True, False])
@pytest.mark.parametrize(("run_lines", "fan_in"), [(10_000, 2), (7, 2), (7, 3), (1, 50)])
def test_line_sorter_matches_sorted(tmp_path: Path, unique: bool, run_lines: int, fan_in: int) -> None:
    lines = _lines(500)
    sorter = LineSorter(tmp_path, unique=unique, run_lines=run_lines, fan_in=fan_in)
    sorter.add(lines[:100])
    sorter.extend(lines[100:])
    assert sorter.added == len(lines)
    assert list(sorter.sorted()) == (sorted(set(lines)) if unique else sorted(lines))
    assert list(tmp_path.iterdir()) == [], "the run files are removed once merged"


def test_line_sorter_spills_runs_to_disk(tmp_path: Path) -> None:
    sorter = LineSorter(tmp_path, run_lines=10)
    sorter.extend(_lines(95))
    assert len(sorter.runs) == 9 and len(sorter.buffer) == 5
    assert all(run.is_file() for run in sorter.runs)
    sorter.close()
    assert list(tmp_path.iterdir()) == []


def test_line_sorter_empty(tmp_path: Path) -> None:
    assert list(LineSorter(tmp_path, unique=True, run_lines=3).sorted()) == []


def _blocks(lines: list[bytes], rng: random.Random) -> list[list[bytes]]:
    """lines cut into lists of 0 to 6 lines."""
    blocks, at = [], 0
    while at < len(lines):
        size = rng.randint(0, 6)
        blocks.append(lines[at : at + size])
        at += size
    return blocks


@pytest.mark.parametrize("unique", [True, False])
@pytest.mark.parametrize("runs", [1, 2, 5, 40])
def test_merge_blocks_matches_sorted(unique: bool, runs: int) -> None:
    """Runs (each sorted, unique within itself when unique) cut into lists of any length,
    empty ones included, merge to the sorted lines; with unique, lines in several runs come
    out once. The runs overlap in every way: equal lines, prefixes, interleaving, ranges."""
    rng = random.Random(runs)
    lines = _lines(600, seed=runs)
    given = [sorted(set(lines[k::runs]) if unique else lines[k::runs]) for k in range(runs)]
    given.append(sorted(set(lines[:40])) if unique else sorted(lines[:40]))  # repeats of other runs' lines
    merged = list(kg.sorting.merge_blocks([_blocks(run, rng) for run in given], unique))
    assert all(merged), "no empty list comes out"
    flat = [line for block in merged for line in block]
    everything = [line for run in given for line in run]
    assert flat == (sorted(set(everything)) if unique else sorted(everything))


def test_merge_blocks_takes_a_run_s_range_at_once() -> None:
    """Runs that cover different ranges come out a slice at a time, not a line at a time."""
    first = [b"a%04d" % i for i in range(1000)] + [b"c%04d" % i for i in range(1000)]
    second = [b"b%04d" % i for i in range(1000)] + [b"d%04d" % i for i in range(1000)]
    merged = list(kg.sorting.merge_blocks([[first], [second]]))
    assert [len(block) for block in merged] == [1000, 1000, 1000, 1000]
    assert [line for block in merged for line in block] == sorted(first + second)


@pytest.mark.parametrize("size", [1, 3, 7, 1 << 20])
def test_read_blocks_gives_the_lines_of_a_file(tmp_path: Path, size: int) -> None:
    """A file's lines without their newlines, empty and long lines included, and a last
    line without a newline, whatever the read size."""
    path = tmp_path / "lines"
    path.write_bytes(b"\nab\nlonger line than the size\n\n\nx\nlast")
    blocks = list(kg.sorting.read_blocks(path, size))
    assert all(blocks)
    expected = [b"", b"ab", b"longer line than the size", b"", b"", b"x", b"last"]
    assert [line for block in blocks for line in block] == expected


def _stats_line_by_line(lines: list[bytes]) -> kg.dumps.GraphStats:
    """The VoID statistics of sorted, unique N-Triples lines, worked out one line at a time."""
    stats = kg.dumps.GraphStats()
    subjects, properties = set(), set()
    rdf_type = b"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    for line in lines:
        subject, predicate, rest = line.split(b" ", 2)
        stats.triples += 1
        subjects.add(subject)
        properties.add(predicate)
        if predicate == rdf_type and rest.startswith(b"<"):
            stats.classes[rest[1 : rest.rindex(b">")].decode()] += 1
    stats.subjects, stats.properties = len(subjects), len(properties)
    stats.entities = sum(1 for subject in subjects if subject.startswith(b"<"))
    return stats


@pytest.mark.parametrize("least", [1, 4, 10_000])
def test_graph_stats_of_lists_of_lines_match_a_line_by_line_count(
    built: Path, monkeypatch: pytest.MonkeyPatch, least: int
) -> None:
    """The statistics counted on lists of a build's sorted lines, cut anywhere (a subject's
    lines split between lists), with blank-node subjects, a literal that reads like an
    rdf:type line and an rdf:type with a blank-node object, are those of a count line by
    line, and the text passed through is the lines'."""
    lines = (built / "kg.nt").read_bytes().splitlines()
    lines += [
        b'<http://x/s> <http://x/p> " <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://x/C> ." .',
        b"<http://x/s> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> _:b1 .",
        b"_:b1 <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://x/C> .",
        b"_:b1 <http://x/q> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> .",
    ]
    lines = sorted(set(lines))
    monkeypatch.setattr(kg.dumps.GraphStats, "LINES_AT_ONCE", least)
    stats = kg.dumps.GraphStats()
    text = b"".join(stats.counting(_blocks(lines, random.Random(least))))
    assert text == b"".join(line + b"\n" for line in lines)
    assert stats == _stats_line_by_line(lines) == kg.dumps.GraphStats.of_lines(lines)
    assert stats.classes["http://x/C"] == 1 and stats.entities < stats.subjects


def _dump_bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in dump_names()}


@pytest.mark.parametrize(("run_lines", "fan_in"), [(97, 2), (211, 3), (2_000, 128)])
def test_many_runs_give_the_dumps_of_one(built: Path, tmp_path: Path, run_lines: int, fan_in: int) -> None:
    """The seeds' quads (and a few in the default graph, and repeats) written with runs of a
    few lines, merged a few at a time, give the same dumps, statistics and counts as one
    in-memory run."""
    quads = list(ox.parse(path=str(built / "kg.trig"), format=ox.RdfFormat.TRIG))
    default = [ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in quads[:300]]
    given = [*quads[::-1], *default, *quads[:50]]
    assert len(given) > run_lines
    one, many = tmp_path / "one", tmp_path / "many"
    one.mkdir()
    many.mkdir()
    one_files, one_stats = write_dumps(given, one, run_lines=10 * len(given))
    many_files, many_stats = write_dumps(given, many, run_lines=run_lines, fan_in=fan_in)
    assert sorted(p.name for p in many.iterdir()) == sorted(dump_names()), "no run files are left"
    assert _dump_bytes(many) == _dump_bytes(one)
    assert many_files == one_files
    assert many_stats == one_stats
    assert {f.name: f.triples for f in one_files}["kg.trig"] == len(given)
    nt = (one / "kg.nt").read_bytes().splitlines()
    assert nt == sorted(set(nt)) and one_stats.triples == len(nt)


def _graph_lines(quads: list[ox.Quad]) -> dict[str, list[bytes]]:
    """Each named graph's N-Quads lines."""
    graphs: dict[str, list[bytes]] = {}
    for quad in quads:
        line = (ox.serialize([quad], format=ox.RdfFormat.N_QUADS) or b"").rstrip(b"\n")
        graphs.setdefault(quad.graph_name.value, []).append(line)
    return graphs


@pytest.mark.parametrize("order", ["trig", "reversed", "shuffled", "others-first", "interleaved"])
def test_whole_graphs_given_apart_give_the_dumps_of_sorted_lines(built: Path, tmp_path: Path, order: str) -> None:
    """Whole graphs handed over with add_graph (written straight out when they come in TriG
    order, sorted otherwise), with the other graphs' lines given loose, before, after or
    between them, and a graph repeated: the same dumps, statistics and counts as all the
    lines sorted on disk."""
    quads = list(ox.parse(path=str(built / "kg.trig"), format=ox.RdfFormat.TRIG))
    graphs = _graph_lines(quads)
    articles = sorted((g for g in graphs if "/graph/article/" in g), key=lambda g: f"<{g}>")
    assert len(articles) == 2
    others = [line for g in graphs if g not in articles for line in graphs[g]]
    wholes = [graphs[g] for g in articles]
    if order == "reversed":
        wholes.reverse()
    elif order == "shuffled":
        wholes = [random.Random(3).sample(lines, len(lines)) for lines in wholes]
    # lines of the first graph again, loose: they sort among that graph's (as do the lines
    # of a graph that came too late, reversed): the general merge; else the others follow
    repeat = wholes[0][:5] if order == "interleaved" else []
    one, apart = tmp_path / "one", tmp_path / "apart"
    one.mkdir()
    apart.mkdir()
    again = ox.parse(b"".join(line + b"\n" for line in repeat), format=ox.RdfFormat.N_QUADS)
    one_files, one_stats = write_dumps([*quads, *again], one)
    sorter = kg.dumps.DumpSorter(apart, run_lines=50)
    if order == "others-first":
        sorter.add_lines(others)
    for number, lines in enumerate(wholes):
        sorter.add_graph(lines)
        if order == "interleaved" and number == 0:
            sorter.add_lines(others)
    if order != "others-first" and order != "interleaved":
        sorter.add_lines(others)
    sorter.add_lines(repeat)
    if order in ("trig", "shuffled", "others-first"):
        assert sorter.by_graph.added == len(others), "the whole graphs in TriG order were not sorted on disk"
    apart_files, apart_stats = sorter.write(apart)
    assert sorted(p.name for p in apart.iterdir()) == sorted(dump_names()), "no run or order files are left"
    assert _dump_bytes(apart) == _dump_bytes(one)
    assert apart_files == one_files
    assert apart_stats == one_stats


def test_a_graph_not_whole_or_out_of_order_is_sorted_like_any_lines(tmp_path: Path) -> None:
    """add_graph writes a graph straight out only when every line is in that graph and the
    graph comes after those before it; lines of two graphs, or a graph again, are sorted."""
    line = b"<http://x/s> <http://x/p> <http://x/o%d> <http://x/g%d> ."
    sorter = kg.dumps.DumpSorter(tmp_path)
    sorter.add_graph([line % (1, 2), line % (2, 2)])
    sorter.add_graph([line % (1, 1)])  # before g2: sorted
    sorter.add_graph([line % (1, 3), line % (1, 4)])  # two graphs: sorted
    sorter.add_graph([line % (3, 2)])  # g2 again: sorted
    sorter.add_graph([])
    assert sorter.quads == 6
    sorter.write(tmp_path)
    trig = list(ox.parse(path=str(tmp_path / "kg.trig"), format=ox.RdfFormat.TRIG))
    assert [(q.object.value[-1], q.graph_name.value[-1]) for q in trig] == [
        ("1", "1"),
        ("1", "2"),
        ("2", "2"),
        ("3", "2"),
        ("1", "3"),
        ("1", "4"),
    ]


def test_build_with_tiny_runs_is_byte_identical(
    built: Path, tmp_path: Path, extractor: SpacyExtractor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole build whose sort spills runs of 100 lines, merged three at a time (so in
    several passes), and whose kg.jsonld is written by another process (as large builds'
    are), publishes the bytes of the session's build and leaves no run files."""
    monkeypatch.setattr(kg.dumps, "JSONLD_APART_FROM", 0)
    monkeypatch.setattr(kg.sorting, "RUN_LINES", 100)
    monkeypatch.setattr(kg.sorting, "FAN_IN", 3)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", SEED_EPOCH)
    out = tmp_path / "out"
    result = build(Settings(raw_dir=RAW, out_dir=out), extractor=extractor)
    assert result.quads > 100 * 3 * 3
    for name in [*DUMP_FILES, *(f"{n}.gz" for n in GZIPPED), VOID_FILE, CHECKSUM_FILE]:
        assert (out / name).read_bytes() == (built / name).read_bytes(), name
    assert not [p for p in out.rglob("*") if p.name.startswith(("sort-", "run-", "trig-order-"))]
    assert sorted(os.listdir(tmp_path)) == [".out.cache", ".out.lock", "out"]


@pytest.mark.parametrize("limit", [3, 50_000])
def test_jsonld_with_a_small_iri_cache_writes_the_same_bytes(
    built: Path, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """kg.jsonld's IRI cache is bounded (emptied when full); the output does not change."""
    from kg.jsonld import _Compactor, jsonld_chunks, ntriples_jsonld_chunks
    from kg.namespaces import PREFIXES

    nt = str(built / "kg.nt")
    theirs = b"".join(jsonld_chunks(ox.parse(path=nt, format=ox.RdfFormat.N_TRIPLES), PREFIXES))
    monkeypatch.setattr(_Compactor, "LIMIT", limit)
    ours = b"".join(jsonld_chunks(ox.parse(path=nt, format=ox.RdfFormat.N_TRIPLES), PREFIXES))
    with open(nt, encoding="utf-8", newline="\n") as lines:
        from_lines = b"".join(ntriples_jsonld_chunks(lines, PREFIXES))
    assert ours == theirs == from_lines == (built / "kg.jsonld").read_bytes()


def _random_term(rng: random.Random, kind: str) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """A term with text that exercises N-Triples escapes: control characters, quotes,
    backslashes, DEL, noncharacters, astral characters, and a few IRIs in prefixes' namespaces."""
    alphabet = ["a", "Z", " ", '"', "'", "\\", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f", "é", "\u2028",
                "\ufffe", "\uffff", "\U0001f600", "<", ">", "{", "}", "@", "^", ":", "#"]  # fmt: skip
    text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
    namespaces = ["http://schema.org/", "http://www.w3.org/ns/oa#", "http://127.0.0.1:8000/person/", "urn:x:"]
    iri = ox.NamedNode(rng.choice(namespaces) + rng.choice(["a", "b", "name", "ex-1", "c/d", "e:f", ""]))
    if kind == "iri" or (kind == "object" and rng.random() < 0.3):
        return iri
    if kind == "subject" or rng.random() < 0.1:
        return ox.BlankNode(rng.choice(["b0", "b1", "x"]))
    roll = rng.random()
    if roll < 0.3:
        return ox.Literal(text, language=rng.choice(["en", "en-gb", "fr"]))
    if roll < 0.6:
        return ox.Literal(text)
    datatype = rng.choice(["http://www.w3.org/2001/XMLSchema#integer", "http://schema.org/Date", "urn:dt"])
    return ox.Literal(text, datatype=ox.NamedNode(datatype))


@pytest.mark.parametrize("known", [None, (5, 2)], ids=["default", "small-term-cache"])
@pytest.mark.parametrize("seed", range(5))
def test_jsonld_from_ntriples_lines_equals_the_one_from_terms(
    seed: int, known: tuple[int, int] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dump's writer, which reads kg.nt's lines as text, gives the bytes of the writer
    that takes parsed terms, for sorted N-Triples written by pyoxigraph with every kind of
    term and escape (and subjects that are IRIs or blank nodes, rdf:type with IRI,
    literal and blank-node objects, repeated predicates); also when the JSON of recurring
    object terms it keeps is limited to short terms and a few at a time."""
    from kg import jsonld
    from kg.jsonld import jsonld_chunks, ntriples_jsonld_chunks
    from kg.namespaces import PREFIXES

    if known is not None:
        monkeypatch.setattr(jsonld, "_KNOWN_LENGTH", known[0])
        monkeypatch.setattr(jsonld, "_KNOWN_TERMS", known[1])

    rng = random.Random(seed)
    predicates = [ox.NamedNode(p) for p in ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "http://schema.org/name",
                                            "urn:p", "http://schema.org/mentions")]  # fmt: skip
    triples = [
        ox.Triple(
            _random_term(rng, "subject" if rng.random() < 0.2 else "iri"),
            rng.choice(predicates),
            _random_term(rng, "object"),
        )
        for _ in range(2_000)
    ]
    text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    lines = sorted(set(text.decode("utf-8").split("\n")) - {""})
    sorted_text = "".join(line + "\n" for line in lines)
    parsed = ox.parse(sorted_text.encode(), format=ox.RdfFormat.N_TRIPLES)
    expected = b"".join(jsonld_chunks(parsed, PREFIXES))
    assert b"".join(ntriples_jsonld_chunks([line + "\n" for line in lines], PREFIXES)) == expected
    assert b"".join(ntriples_jsonld_chunks(lines, PREFIXES)) == expected, "lines without their newline"


@pytest.mark.parametrize(
    "line",
    [
        "<http://x.org/s> <http://x.org/p> <http://x.org/o>\n",  # no " ."
        "<http://x.org/s>\t<http://x.org/p> <http://x.org/o> .\n",  # a tab between terms
        "http://x.org/s <http://x.org/p> <http://x.org/o> .\n",  # not a term
        '<http://x.org/s> <http://x.org/p> "a"^^xsd:string .\n',  # a prefixed name
        '<http://x.org/s> <http://x.org/p> "a\\q" .\n',  # no such escape
        "# a comment\n",
    ],
)
def test_jsonld_from_ntriples_lines_refuses_lines_kg_does_not_write(line: str) -> None:
    from kg.jsonld import NTriplesLineError, ntriples_jsonld_chunks

    with pytest.raises(NTriplesLineError, match="not an N-Triples"):
        b"".join(ntriples_jsonld_chunks(["<http://x.org/a> <http://x.org/p> <http://x.org/o> .\n", line], {}))


def test_compact_iris_take_the_longest_namespace_that_leaves_a_usable_local_name() -> None:
    """IRIs outside every namespace stay whole (and are not cached); inside, the longest
    namespace whose local name is non-empty, has no ':' and does not start with '/' wins,
    as a prefix-by-prefix search finds it."""
    from kg.jsonld import _Compactor

    prefixes = {"ex": "http://x.org/", "exa": "http://x.org/a/", "h": "http://x.org/h#"}
    compact = _Compactor(prefixes)
    expected = {
        "http://x.org/a/b": "exa:b",
        "http://x.org/a/": "ex:a/",  # empty local name under exa
        "http://x.org/a//b": "ex:a//b",  # local name under exa starts with '/'
        "http://x.org/a/b:c": "http://x.org/a/b:c",  # ':' in every local name
        "http://x.org/h#t": "h:t",
        "http://x.org/": "http://x.org/",
        "http://127.0.0.1:8000/article/a": "http://127.0.0.1:8000/article/a",
        "https://x.org/a": "https://x.org/a",
    }
    for _ in range(2):  # again, from the cache
        assert {iri: compact(iri) for iri in expected} == expected
    assert "http://127.0.0.1:8000/article/a" not in compact.cache
    assert _Compactor({})("http://x.org/a") == "http://x.org/a"


def test_side_quads_are_every_quad_not_in_a_whole_graph_once(tmp_path: Path) -> None:
    """With keep_whole_graphs, side_quads() gives the quads of add_lines() and
    add_default_lines() (a graph out of order included), each once, while write() runs on
    the same sorter (the build validates from it on a thread beside the dumps); without
    keep_whole_graphs it refuses."""
    line = b"<http://x/s> <http://x/p> <http://x/o%d> <http://x/g%d> ."
    sorter = kg.dumps.DumpSorter(tmp_path / "sorted", keep_whole_graphs=True, run_lines=2)
    sorter.add_graph([line % (1, 1)])
    sorter.add_lines([line % (2, 5), line % (1, 5), line % (2, 5)])
    sorter.add_graph([line % (3, 0)])  # out of order: sorted with the loose lines
    sorter.add_default_lines([b"<http://x/s> <http://x/p> <http://x/d> ."] * 2)
    side = sorter.side_quads()
    first = next(side)
    sorter.write(tmp_path)
    s, p = ox.NamedNode("http://x/s"), ox.NamedNode("http://x/p")

    def quad(o: str, g: str | None) -> ox.Quad:
        return ox.Quad(s, p, ox.NamedNode(f"http://x/{o}"), ox.NamedNode(f"http://x/{g}") if g else ox.DefaultGraph())

    assert [first, *side] == [quad("d", None), quad("o1", "g5"), quad("o2", "g5"), quad("o3", "g0")]
    sorter.close()
    with pytest.raises(ValueError, match="keep_whole_graphs"):
        next(kg.dumps.DumpSorter(tmp_path / "other").side_quads())


def test_whole_graphs_are_kept_for_validation_until_close(tmp_path: Path) -> None:
    """With keep_whole_graphs, the graphs add_graph wrote in order are read back after the
    dumps, each as its sorted lines; graphs given loose (or out of order) are named in
    side_graphs; close() removes the file. Without it, write() removes it."""
    line = b"<http://x/s> <http://x/p> <http://x/o%d> <http://x/g%d> ."
    for keep in (True, False):
        folder = tmp_path / str(keep)
        sorter = kg.dumps.DumpSorter(folder, keep_whole_graphs=keep)
        sorter.add_graph([line % (2, 1), line % (1, 1)])
        sorter.add_graph([line % (1, 3)])
        sorter.add_graph([line % (1, 2)])  # before g3: sorted with the loose lines
        sorter.add_lines([line % (1, 5)])
        sorter.write(folder)
        assert sorter.side_graphs == {b"<http://x/g2>", b"<http://x/g5>"}
        kept = list(sorter.whole_graphs())
        if keep:
            assert kept == [line % (1, 1) + b"\n" + line % (2, 1) + b"\n", line % (1, 3) + b"\n"]
        else:
            assert kept == []
        sorter.close()
        assert sorted(p.name for p in folder.iterdir()) == sorted(kg.dumps.dump_names())
