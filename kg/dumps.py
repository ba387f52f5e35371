"""Dump files (Turtle, N-Triples, JSON-LD, TriG), their VoID/DCAT description and SHA256SUMS."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Literal, URIRef

from kg.formats import BY_NAME
from kg.iris import Minter
from kg.jsonld import dumps_jsonld
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
from kg.terms import datetime_literal

#: Dump file name -> format name, in the order they are listed.
DUMP_FILES = {
    "kg.ttl": "turtle",
    "kg.nt": "ntriples",
    "kg.jsonld": "jsonld",
    "kg.trig": "trig",
}
VOID_FILE = "void.ttl"
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


def dump_names() -> list[str]:
    """Every dump file a build writes, the gzip variants included."""
    return [*DUMP_FILES, *(f"{name}.gz" for name in GZIPPED)]


def _triple_line(quad_line: bytes) -> bytes:
    """The N-Triples line of an N-Quads line of a named graph (its graph IRI, the last
    term, has no space in it)."""
    return quad_line[: quad_line.rindex(b" <")] + b" ."


def _graph_of(quad_line: bytes) -> bytes:
    return quad_line[quad_line.rindex(b" <") + 1 : -2]


def sorted_ntriples(triples: Sequence[ox.Triple]) -> list[bytes]:
    """Unique N-Triples lines in byte order: the canonical, diffable form of the graph."""
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    assert data is not None
    return sorted(set(data.splitlines()))


def _sorted_lines(quads: Sequence[ox.Quad]) -> tuple[list[bytes], list[bytes]]:
    """(the union graph's unique N-Triples lines in byte order, the N-Quads lines ordered by
    graph then line), worked out on serialised bytes: Python term objects for millions of
    quads cost seconds and gigabytes."""
    default = [ox.Triple(q.subject, q.predicate, q.object) for q in quads if isinstance(q.graph_name, ox.DefaultGraph)]
    in_graphs = [q for q in quads if not isinstance(q.graph_name, ox.DefaultGraph)]
    named = ox.serialize(in_graphs, format=ox.RdfFormat.N_QUADS)
    del in_graphs
    quad_lines = (named or b"").splitlines()
    triple_lines = {_triple_line(line) for line in quad_lines}
    triple_lines.update(sorted_ntriples(default) if default else ())
    by_graph = sorted(quad_lines, key=lambda line: (_graph_of(line), line))
    if default:
        plain = (ox.serialize(default, format=ox.RdfFormat.N_QUADS) or b"").splitlines()
        by_graph = sorted(plain) + by_graph
    return sorted(triple_lines), by_graph


class _Sink:
    """A dump file being written: its bytes go to disk (and to a gzip twin) and are hashed."""

    def __init__(self, path: Path, gzipped: bool) -> None:
        self.path = path
        self.file = path.open("wb")
        self.sha = hashlib.sha256()
        self.size = 0
        self.gz_path = path.with_name(path.name + ".gz")
        self.gz_file = self.gz_path.open("wb") if gzipped else None
        self.gz_sha = hashlib.sha256()
        self.gz = gzip.GzipFile(fileobj=self, mode="wb", compresslevel=3, mtime=0) if gzipped else None

    def write(self, data: bytes) -> int:
        """Called by the gzip writer with compressed bytes."""
        assert self.gz_file is not None
        self.gz_file.write(data)
        self.gz_sha.update(data)
        return len(data)

    def flush(self) -> None:
        """The gzip writer flushes its target; the file is flushed when closed."""

    def add(self, data: bytes) -> None:
        self.file.write(data)
        self.sha.update(data)
        self.size += len(data)
        if self.gz is not None:
            self.gz.write(data)

    def close(self) -> None:
        self.file.close()
        if self.gz is not None and self.gz_file is not None:
            self.gz.close()
            self.gz_file.close()


def write_dumps(quads: Sequence[ox.Quad], out_dir: Path) -> list[DumpFile]:
    """Write every dump of the quads into out_dir (the union graph for the triple formats,
    in byte order of N-Triples; TriG by graph), one file at a time, hashed as written."""
    lines, by_graph = _sorted_lines(quads)
    ntriples = b"".join(line + b"\n" for line in lines)
    del lines

    def triples() -> Iterator[ox.Triple]:
        return ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES)

    def trig() -> bytes:
        ordered = ox.parse(b"\n".join(by_graph), format=ox.RdfFormat.N_QUADS)
        return ox.serialize(ordered, format=ox.RdfFormat.TRIG, prefixes=PREFIXES) or b""

    makers = {
        "kg.nt": lambda: ntriples,
        "kg.ttl": lambda: ox.serialize(triples(), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES) or b"",
        "kg.jsonld": lambda: dumps_jsonld(triples(), PREFIXES, grouped=True),
        "kg.trig": trig,
    }
    counts = {"kg.trig": len(by_graph)}
    written = []
    for name, format_name in DUMP_FILES.items():
        sink = _Sink(out_dir / name, gzipped=name in GZIPPED)
        try:
            sink.add(makers[name]())
        finally:
            sink.close()
        count = counts.get(name) or ntriples.count(b"\n")
        media_type = BY_NAME[format_name].media_type
        written.append(DumpFile(name, media_type, sink.size, sink.sha.hexdigest(), count))
        if sink.gz is not None:
            size = sink.gz_path.stat().st_size
            written.append(DumpFile(sink.gz_path.name, media_type, size, sink.gz_sha.hexdigest(), count, True))
    return written


def void_triples(
    minter: Minter,
    quads: Sequence[ox.Quad],
    dumps: Sequence[DumpFile],
    *,
    modified: dt.datetime,
    license_iri: str,
    title: str = "kg news knowledge graph",
) -> list[Triple]:
    """VoID + DCAT description of the dataset and its dumps."""
    dataset = minter.dataset()
    union = {(q.subject, q.predicate, q.object) for q in quads}
    subjects = {s for s, _, _ in union}
    properties = {p for _, p, _ in union}
    classes: Counter[str] = Counter(
        o.value for s, p, o in union if p.value == str(RDF.type) and isinstance(o, ox.NamedNode)
    )
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
        (dataset, VOID.triples, Literal(len(union), datatype=XSD.integer)),
        (dataset, VOID.entities, Literal(sum(isinstance(s, ox.NamedNode) for s in subjects), datatype=XSD.integer)),
        (dataset, VOID.distinctSubjects, Literal(len(subjects), datatype=XSD.integer)),
        (dataset, VOID.properties, Literal(len(properties), datatype=XSD.integer)),
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
