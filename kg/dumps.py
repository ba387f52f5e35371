"""Dump files (Turtle, N-Triples, JSON-LD, TriG), their VoID/DCAT description and SHA256SUMS."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import heapq
import itertools
import multiprocessing
import os
import re
import tempfile
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, ClassVar, cast

import pyoxigraph as ox
from rdflib import Literal, URIRef

from kg.formats import BY_NAME
from kg.iris import Minter
from kg.jsonld import ntriples_jsonld_chunks
from kg.mapping import Triple
from kg.namespaces import (
    DCAT,
    DCTERMS,
    IANA_MEDIA,
    OA,
    PREFIXES,
    PROV,
    RDF,
    SCHEMA,
    SPDX,
    VOID,
    XSD,
)
from kg.sorting import LineSorter, read_lines
from kg.terms import datetime_literal, graph_of_quad_line

#: Dump file name -> format name, in the order they are listed.
DUMP_FILES = {
    "kg.ttl": "turtle",
    "kg.nt": "ntriples",
    "kg.jsonld": "jsonld",
    "kg.trig": "trig",
}
VOID_FILE = "void.ttl"
#: The dump that keeps the named graphs (the store is loaded from it).
TRIG_FILE = "kg.trig"
CHECKSUM_FILE = "SHA256SUMS"
#: The large dumps also written gzip-compressed, as NAME.gz (deterministic: no timestamp).
GZIPPED = ("kg.nt", "kg.trig")
GZIP_MEDIA_TYPE = "application/gzip"


@dataclass(frozen=True)
class DumpFile:
    """A written dump: name, media type, bytes and checksum."""

    name: str
    media_type: str
    size: int
    sha256: str
    triples: int
    compressed: bool = False  # gzip of the format media_type names


@dataclass
class GraphStats:
    """VoID statistics of the union graph, counted on its sorted N-Triples lines."""

    triples: int = 0
    entities: int = 0  # distinct IRI subjects
    subjects: int = 0
    properties: int = 0
    classes: Counter[str] = field(default_factory=Counter)  # class IRI -> instances

    #: counting() gathers short lists into one of at least this many lines.
    LINES_AT_ONCE: ClassVar[int] = 10_000

    @classmethod
    def of_lines(cls, lines: Iterable[bytes]) -> GraphStats:
        """The statistics of sorted, unique N-Triples lines."""
        stats = cls()
        for _ in stats.counting([list(lines)]):
            pass
        return stats

    def counting(self, blocks: Iterable[list[bytes]]) -> Iterator[bytes]:
        """The text (newline-ended lines) of lists of sorted, unique N-Triples lines (in
        order: each list's lines come after the lists before), at least LINES_AT_ONCE lines
        at a time, counted into these statistics (complete once the lists are exhausted).
        Subjects and predicates are the first two terms of a line (IRIs or blank nodes, no
        spaces); a class is the IRI object of an rdf:type line. The work per line is done in
        C (partition, set, a regular expression over the text)."""
        properties: set[bytes] = set()
        classes: Counter[bytes] = Counter()
        previous = b""
        for block in _gathered(blocks, self.LINES_AT_ONCE):
            self.triples += len(block)
            parts = [line.partition(b" ") for line in block]
            subjects = {subject for subject, _, _ in parts}
            self.subjects += len(subjects)
            self.entities += sum(1 for subject in subjects if subject.startswith(b"<"))
            if parts[0][0] == previous:  # the lines are sorted: a subject's lines are together
                self.subjects -= 1
                self.entities -= previous.startswith(b"<")
            previous = parts[-1][0]
            properties.update(rest.partition(b" ")[0] for _, _, rest in parts)
            text = b"\n".join(block) + b"\n"
            if _RDF_TYPE_BETWEEN in text:
                classes.update(_CLASS_LINE.findall(text))
            yield text
        self.properties = len(properties)
        for class_iri, count in classes.items():
            self.classes[class_iri.decode()] += count


def _gathered(blocks: Iterable[list[bytes]], least: int) -> Iterator[list[bytes]]:
    """The lines of blocks in lists of at least least lines (the last may be shorter; none empty)."""
    gathered: list[bytes] = []
    for block in blocks:
        gathered += block  # a list of its own: the blocks given are never changed
        if len(gathered) >= least:
            yield gathered
            gathered = []
    if gathered:
        yield gathered


#: rdf:type as the predicate of an N-Triples line (a subject has no space before it), and
#: the IRI object after it at the end of a line (a literal cannot hold a raw newline).
_RDF_TYPE_BETWEEN = b" <" + str(RDF.type).encode() + b"> "
_CLASS_LINE = re.compile(re.escape(_RDF_TYPE_BETWEEN) + rb"<([^>\n]*)> \.\n")


def dump_names() -> list[str]:
    """Every dump file a build writes, the gzip variants included."""
    return [*DUMP_FILES, *(f"{name}.gz" for name in GZIPPED)]


def _triple_line(quad_line: bytes) -> bytes:
    """The N-Triples line of an N-Quads line of a named graph (its graph IRI, the last
    term, has no space in it)."""
    return quad_line[: quad_line.rindex(b" <")] + b" ."


class _Sink:
    """A dump file being written: its bytes go to disk (and to a gzip twin) and are hashed.
    write() takes the file's bytes, so serialisers can write into it directly."""

    def __init__(self, path: Path, gzipped: bool) -> None:
        self.path = path
        self.file = path.open("wb")
        self.sha = hashlib.sha256()
        self.size = 0
        self.gz_path = path.with_name(path.name + ".gz")
        self.gz_sha = hashlib.sha256()
        self.gz_file = _Hashed(self.gz_path.open("wb"), self.gz_sha) if gzipped else None
        self.gz = gzip.GzipFile(fileobj=self.gz_file, mode="wb", compresslevel=3, mtime=0) if self.gz_file else None

    def write(self, data: bytes) -> int:
        self.file.write(data)
        self.sha.update(data)
        self.size += len(data)
        if self.gz is not None:
            self.gz.write(data)
        return len(data)

    def flush(self) -> None:
        """Serialisers flush their output; the file is flushed when closed."""

    def close(self) -> None:
        self.file.close()
        if self.gz is not None and self.gz_file is not None:
            self.gz.close()
            self.gz_file.file.close()

    def dump_files(self, media_type: str, count: int) -> list[DumpFile]:
        files = [DumpFile(self.path.name, media_type, self.size, self.sha.hexdigest(), count)]
        if self.gz is not None:
            size = self.gz_path.stat().st_size
            files.append(DumpFile(self.gz_path.name, media_type, size, self.gz_sha.hexdigest(), count, True))
        return files


class _Hashed:
    """A binary file that hashes what is written to it (the gzip twin)."""

    def __init__(self, file: BinaryIO, sha: Any) -> None:
        self.file, self.sha = file, sha

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        return self.file.write(data)

    def flush(self) -> None:
        self.file.flush()


def _batched(items: Iterable[ox.Quad], size: int) -> Iterator[list[ox.Quad]]:
    batch: list[ox.Quad] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class DumpSorter:
    """The quads of a build, gathered as N-Quads lines while they are mapped and sorted on
    disk (kg.sorting) the two ways the dumps need: the union graph's N-Triples lines in byte
    order, each once (kg.nt, kg.ttl, kg.jsonld and the VoID statistics), and the quads by
    graph then line, repeats kept (kg.trig). Memory holds a run of lines of each, whatever
    the size of the corpus; the run files go in a folder made in `folder` and are removed
    when the dumps are written (or on close()). tee, when given, gets every line added as
    well (the build's background store load). keep_whole_graphs: the graphs given whole
    and in order (add_graph) stay readable with whole_graphs(), and every other statement
    with side_quads(), while the dumps are written and after, until close() (the build
    validates its article graphs from them, beside the dumps)."""

    def __init__(
        self,
        folder: Path,
        *,
        run_lines: int | None = None,
        fan_in: int | None = None,
        tee: Callable[[list[bytes]], None] | None = None,
        keep_whole_graphs: bool = False,
    ) -> None:
        self.tee = tee
        self.folder = folder
        self.keep_whole_graphs = keep_whole_graphs
        self.union = LineSorter(folder, unique=True, run_lines=run_lines, fan_in=fan_in)
        # TriG's order, (graph, line), is the byte order of "<graph> line": a graph IRI has
        # no space or ">" inside it, so no graph's key is a prefix of another's. Triples in
        # the default graph get an empty graph and so come first, as in a TriG file.
        self.by_graph = LineSorter(folder, run_lines=run_lines, fan_in=fan_in)
        self.quads = 0  # quads added in named graphs, repeats included
        # whole graphs given in TriG order (add_graph) skip the sort: their lines go, each
        # graph's sorted, straight to this N-Quads file, already in the order kg.trig needs
        self._ordered: BinaryIO | None = None
        self._ordered_path: Path | None = None
        self._ordered_lines = 0
        self._ordered_sizes = array("Q")  # bytes of each graph in the ordered file, in order
        self._last_graph = b""
        #: The named graphs that got lines by add_lines() (sorted on disk, not in the ordered file).
        self.side_graphs: set[bytes] = set()
        # those lines and the default graph's once more, each once, for side_quads()
        self._side = LineSorter(folder, unique=True, run_lines=run_lines, fan_in=fan_in) if keep_whole_graphs else None

    def add_lines(self, quad_lines: list[bytes]) -> None:
        """N-Quads lines of quads in named graphs."""
        self._add_to_union(quad_lines)
        graphs = [graph_of_quad_line(line) for line in quad_lines]
        self.side_graphs.update(graphs)
        if self._side is not None:
            self._side.extend(quad_lines)
        self.by_graph.extend([graph + b" " + line for graph, line in zip(graphs, quad_lines, strict=True)])

    def _add_to_union(self, quad_lines: list[bytes]) -> None:
        """Count N-Quads lines of named graphs, tee them, and sort their triples for kg.nt."""
        self.quads += len(quad_lines)
        if self.tee is not None:
            self.tee(quad_lines)
        self.union.extend([_triple_line(line) for line in quad_lines])

    def add_graph(self, quad_lines: list[bytes]) -> None:
        """N-Quads lines that make up the whole of one named graph. A graph that comes after
        every graph given so far in TriG order (as a build's article graphs do, mapped in
        that order) is written out in order at once, with no sorting on disk; any other
        graph is sorted as add_lines() would."""
        if not quad_lines:
            return
        graph = graph_of_quad_line(quad_lines[0])
        tail = b" " + graph + b" ."
        if graph <= self._last_graph or not all(line.endswith(tail) for line in quad_lines):
            self.add_lines(quad_lines)
            return
        self._add_to_union(quad_lines)
        if self._ordered is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix="trig-order-", suffix=".nq", dir=self.folder)
            self._ordered, self._ordered_path = os.fdopen(handle, "wb"), Path(name)
        block = b"\n".join(sorted(quad_lines)) + b"\n"
        self._ordered.write(block)
        self._ordered_sizes.append(len(block))
        self._ordered_lines += len(quad_lines)
        self._last_graph = graph

    def whole_graphs(self) -> Iterator[bytes]:
        """The graphs add_graph() wrote in order, each as its N-Quads lines (sorted, newline
        ended), read back from disk: after write() when the sorter keeps them
        (keep_whole_graphs), until close(). A graph that also got lines by add_lines() (see
        side_graphs) has only those add_graph() gave here."""
        if self._ordered_path is None:
            return
        if self._ordered is not None:
            self._ordered.close()  # (closing twice, here and for kg.trig, is harmless)
        with self._ordered_path.open("rb") as handle:
            for size in self._ordered_sizes:
                yield handle.read(size)

    def side_quads(self) -> Iterator[ox.Quad]:
        """Every quad given by add_lines() and add_default_lines() (not the whole graphs),
        each once, in N-Quads line order; once, when the sorter keeps its whole graphs."""
        if self._side is None:
            raise ValueError("side_quads() needs a sorter made with keep_whole_graphs")
        yield from _parsed(self._side.sorted())

    def _trig_quads(self) -> Iterator[ox.Quad]:
        """Every quad in TriG order (by graph, then N-Quads line; repeats kept): the graphs
        written in order, then the sorted others, or both merged when they interleave."""
        if self._ordered is not None:
            self._ordered.close()
        side = self.by_graph.sorted()
        first = next(side, None)
        rest = itertools.chain([] if first is None else [first], side)
        ordered = self._ordered_path
        if ordered is None:
            keyed: Iterator[bytes] = rest
        elif first is None or first[: first.index(b" ")] > self._last_graph:  # the others all come after
            yield from ox.parse(path=str(ordered), format=ox.RdfFormat.N_QUADS, lenient=True)
            keyed = rest
        else:
            keyed = heapq.merge((graph_of_quad_line(line) + b" " + line for line in read_lines(ordered)), rest)
        yield from _parsed(key[key.index(b" ") + 1 :] for key in keyed)

    def add_default_lines(self, lines: list[bytes]) -> None:
        """N-Triples lines of triples in the default graph."""
        if self.tee is not None:
            self.tee(lines)
        self.union.extend(lines)
        self.by_graph.extend([b" " + line for line in lines])
        if self._side is not None:
            self._side.extend(lines)

    def add_quads(self, quads: Iterable[ox.Quad], batch: int = 50_000) -> None:
        """Quads as objects, serialised a batch at a time, so a build never holds more than
        a batch of Python term objects."""
        for chunk in _batched(quads, batch):
            default = [
                ox.Triple(q.subject, q.predicate, q.object) for q in chunk if isinstance(q.graph_name, ox.DefaultGraph)
            ]
            named = [q for q in chunk if not isinstance(q.graph_name, ox.DefaultGraph)] if default else chunk
            self.add_lines((ox.serialize(named, format=ox.RdfFormat.N_QUADS) or b"").splitlines())
            if default:
                self.add_default_lines((ox.serialize(default, format=ox.RdfFormat.N_TRIPLES) or b"").splitlines())

    def write(self, out_dir: Path) -> tuple[list[DumpFile], GraphStats]:
        """Write every dump into out_dir: the union graph for the triple formats, in byte
        order of N-Triples (Turtle and JSON-LD are made from kg.nt as written, streaming);
        TriG by graph, then line. Each file is hashed and gzipped as it is written, and no
        file's content is ever held whole in memory. Also returns the union graph's
        statistics. The sorter is used up (but for its whole graphs, when it keeps them)."""
        made: dict[str, list[DumpFile]] = {}

        def dump(name: str, fill: Callable[[_Sink], int]) -> None:
            made[name] = _dump(out_dir / name, fill)

        try:
            stats = GraphStats()
            dump("kg.nt", lambda sink: _write_all(sink, stats.counting(self.union.sorted_blocks())))
            self.union.close()
            triples = stats.triples
            nt_path = str(out_dir / "kg.nt")

            def turtle(sink: _Sink) -> int:
                parsed = ox.parse(path=nt_path, format=ox.RdfFormat.N_TRIPLES, lenient=True)
                ox.serialize(parsed, cast(IO[bytes], sink), ox.RdfFormat.TURTLE, prefixes=PREFIXES)
                return triples

            count = self.by_graph.added + self._ordered_lines

            def trig(sink: _Sink) -> int:
                ox.serialize(self._trig_quads(), cast(IO[bytes], sink), ox.RdfFormat.TRIG, prefixes=PREFIXES)
                return count

            if triples < JSONLD_APART_FROM:
                made["kg.jsonld"] = jsonld_dump(out_dir, triples)
                dump("kg.ttl", turtle)
                dump("kg.trig", trig)
            else:  # the JSON-LD writer is Python: it runs on another core meanwhile
                with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                    pending = pool.submit(jsonld_dump, out_dir, triples)
                    dump("kg.ttl", turtle)
                    dump("kg.trig", trig)
                    made["kg.jsonld"] = pending.result()
        finally:
            if self.keep_whole_graphs:
                self.union.close()
                self.by_graph.close()
            else:
                self.close()
        return [file for name in DUMP_FILES for file in made[name]], stats

    def close(self) -> None:
        """Remove the run files (the dumps written are kept)."""
        self.union.close()
        self.by_graph.close()
        if self._side is not None:
            self._side.close()
        if self._ordered is not None:
            self._ordered.close()
        if self._ordered_path is not None:
            self._ordered_path.unlink(missing_ok=True)
            self._ordered_path = None


def write_dumps(
    quads: Iterable[ox.Quad], out_dir: Path, *, run_lines: int | None = None, fan_in: int | None = None
) -> tuple[list[DumpFile], GraphStats]:
    """Every dump of quads (in any graphs) written into out_dir, with the union graph's
    statistics (DumpSorter.write); run_lines and fan_in as in kg.sorting.LineSorter."""
    sorter = DumpSorter(out_dir, run_lines=run_lines, fan_in=fan_in)
    try:
        sorter.add_quads(quads)
    except BaseException:
        sorter.close()
        raise
    return sorter.write(out_dir)


#: From this many triples on, kg.jsonld is written by another process while this one
#: writes kg.ttl and kg.trig (below it, starting the process costs more than it saves).
JSONLD_APART_FROM = 200_000


def jsonld_dump(out_dir: Path, triples: int) -> list[DumpFile]:
    """Write out_dir/kg.jsonld from out_dir/kg.nt as written (sorted, so each subject's
    triples are together and one node object at a time is in memory)."""

    def fill(sink: _Sink) -> int:
        with (out_dir / "kg.nt").open(encoding="utf-8", newline="\n") as lines:
            for chunk in ntriples_jsonld_chunks(lines, PREFIXES):
                sink.write(chunk)
        return triples

    return _dump(out_dir / "kg.jsonld", fill)


def _write_all(sink: _Sink, texts: Iterable[bytes]) -> int:
    """Write texts of newline-ended lines into sink; return how many lines."""
    lines = 0
    for text in texts:
        sink.write(text)
        lines += text.count(b"\n")
    return lines


def _dump(path: Path, fill: Callable[[_Sink], int]) -> list[DumpFile]:
    """Write one dump (and its gzip twin) with fill, which returns how many statements."""
    sink = _Sink(path, gzipped=path.name in GZIPPED)
    try:
        count = fill(sink)
    finally:
        sink.close()
    return sink.dump_files(BY_NAME[DUMP_FILES[path.name]].media_type, count)


def _parsed(lines: Iterable[bytes]) -> Iterator[ox.Quad]:
    """The quads of N-Quads lines (without their newlines), parsed as a stream, leniently
    (without checking IRIs and language tags again: TriG is written in 3.7 s of CPU instead
    of 6.9 for 3,000,000 quads, Turtle in 3.3 instead of 5.6). The lines are the build's
    own: made from pyoxigraph terms, which check their IRIs when made, or written as text
    from IRIs kg.iris mints (valid whenever the base IRI is, which Minter checks) and
    literals kg.terms escapes."""
    return ox.parse(cast(IO[bytes], _LinesReader(lines)), format=ox.RdfFormat.N_QUADS, lenient=True)


class _LinesReader:
    """Lines as a readable binary stream (for a streaming parser), a chunk at a time."""

    def __init__(self, lines: Iterable[bytes], chunk: int = 10_000) -> None:
        self.lines, self.chunk, self.buffer, self.at = iter(lines), chunk, b"", 0

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.buffer) - self.at < size:
            batch = list(itertools.islice(self.lines, self.chunk))
            if not batch:
                break
            self.buffer = self.buffer[self.at :] + b"\n".join(batch) + b"\n"
            self.at = 0
        end = len(self.buffer) if size < 0 else self.at + size
        out, self.at = self.buffer[self.at : end], min(end, len(self.buffer))
        return out


def void_triples(
    minter: Minter,
    stats: GraphStats,
    dumps: Sequence[DumpFile],
    *,
    modified: dt.datetime,
    license_iri: str,
    title: str = "kg news knowledge graph",
) -> list[Triple]:
    """VoID + DCAT description of the dataset and its dumps."""
    dataset = minter.dataset()
    classes = stats.classes
    stamp = datetime_literal(modified)
    license_ref = URIRef(license_iri) if license_iri else minter.license_placeholder()
    triples: list[Triple] = [
        (dataset, RDF.type, VOID.Dataset),
        (dataset, RDF.type, DCAT.Dataset),
        (dataset, DCTERMS.title, Literal(title, lang="en")),
        (
            dataset,
            DCTERMS.description,
            Literal(
                "News articles as schema.org NewsArticles with the people, organisations, places and "
                "events they mention, W3C Web Annotation evidence for each mention and PROV-O "
                "provenance for every statement.",
                lang="en",
            ),
        ),
        (dataset, DCTERMS.license, license_ref),
        (dataset, DCTERMS.modified, stamp),
        (dataset, VOID.triples, Literal(stats.triples, datatype=XSD.integer)),
        (dataset, VOID.entities, Literal(stats.entities, datatype=XSD.integer)),
        (dataset, VOID.distinctSubjects, Literal(stats.subjects, datatype=XSD.integer)),
        (dataset, VOID.properties, Literal(stats.properties, datatype=XSD.integer)),
        (dataset, VOID.classes, Literal(len(classes), datatype=XSD.integer)),
        (dataset, VOID.uriSpace, Literal(minter.base)),
        (dataset, VOID.sparqlEndpoint, minter.sparql_endpoint()),
    ]
    if not license_iri:
        triples.append((license_ref, RDF.type, DCTERMS.LicenseDocument))
        note = Literal("Licence not set: configure the 'license' setting", lang="en")
        triples.append((license_ref, DCTERMS.title, note))
    for vocabulary in (SCHEMA, PROV, OA):
        triples.append((dataset, VOID.vocabulary, URIRef(str(vocabulary))))
    for class_iri, count in sorted(classes.items()):
        partition = minter.class_partition(class_iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1])
        triples += [
            (dataset, VOID.classPartition, partition),
            (partition, VOID["class"], URIRef(class_iri)),
            (partition, VOID.entities, Literal(count, datatype=XSD.integer)),
        ]
    for dump in dumps:
        url = minter.dump(dump.name)
        dist = minter.distribution(dump.name)
        checksum = URIRef(str(dist) + "/checksum")
        triples += [
            (dataset, VOID.dataDump, url),
            (dataset, DCAT.distribution, dist),
            (dist, RDF.type, DCAT.Distribution),
            (dist, DCTERMS.title, Literal(dump.name)),
            (dist, DCAT.downloadURL, url),
            (dist, DCAT.accessURL, url),
            (dist, DCAT.mediaType, IANA_MEDIA[dump.media_type]),
            *([(dist, DCAT.compressFormat, IANA_MEDIA[GZIP_MEDIA_TYPE])] if dump.compressed else []),
            (dist, DCAT.byteSize, Literal(dump.size, datatype=XSD.integer)),
            (dist, VOID.triples, Literal(dump.triples, datatype=XSD.integer)),
            (dist, SPDX.checksum, checksum),
            (checksum, RDF.type, SPDX.Checksum),
            (checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256),
            (checksum, SPDX.checksumValue, Literal(dump.sha256, datatype=XSD.hexBinary)),
        ]
    return triples


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MB blocks (dumps can be large)."""
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def write_checksums(out_dir: Path, files: dict[str, str | None]) -> None:
    """SHA256SUMS in the format `sha256sum -c` reads, for name -> digest (None: hash the
    file; dumps pass the digest they were written with instead of reading it back)."""
    lines = [f"{digest or file_sha256(out_dir / name)}  {name}\n" for name, digest in sorted(files.items())]
    (out_dir / CHECKSUM_FILE).write_text("".join(lines), encoding="utf-8")


def read_checksums(out_dir: Path) -> dict[str, str]:
    """name -> digest from out_dir's SHA256SUMS (empty when there is none)."""
    path = out_dir / CHECKSUM_FILE
    if not path.is_file():
        return {}
    pairs = (line.split(None, 1) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {name.strip().lstrip("*"): digest for digest, name in pairs}


def check_sizes(out_dir: Path, sizes: dict[str, int]) -> list[str]:
    """The quick check: each file SHA256SUMS lists exists, and has the byte size given
    (from build.json) where one is given: 'NAME: missing' or 'NAME: N bytes, not M'."""
    problems = []
    for name in read_checksums(out_dir):
        path = out_dir / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif name in sizes and path.stat().st_size != sizes[name]:
            problems.append(f"{name}: {path.stat().st_size} bytes, not the {sizes[name]} the build wrote")
    return problems


def verify_checksums(out_dir: Path) -> list[str]:
    """What in out_dir disagrees with its SHA256SUMS: 'NAME: missing' or 'NAME: checksum
    differs' (empty when all agree, or when there is no SHA256SUMS to check)."""
    problems = []
    for name, digest in read_checksums(out_dir).items():
        path = out_dir / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif file_sha256(path) != digest:
            problems.append(f"{name}: checksum differs")
    return problems
