"""Dump files (Turtle, N-Triples, JSON-LD, TriG), their VoID/DCAT description and SHA256SUMS."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
from collections import Counter
from collections.abc import Sequence
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


def sorted_ntriples(triples: Sequence[ox.Triple]) -> list[bytes]:
    """Unique N-Triples lines in byte order: the canonical, diffable form of the graph."""
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    assert data is not None
    return sorted(set(data.splitlines()))


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def write_dumps(quads: Sequence[ox.Quad], out_dir: Path) -> list[DumpFile]:
    """Write every dump of the quads into out_dir; union graph for triple formats."""
    union = {ox.Triple(q.subject, q.predicate, q.object) for q in quads}
    lines = sorted_ntriples(list(union))
    triples = list(ox.parse(b"\n".join(lines), format=ox.RdfFormat.N_TRIPLES))
    ordered_quads = sorted(quads, key=lambda q: (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object)))
    contents = {
        "kg.nt": b"".join(line + b"\n" for line in lines),
        "kg.ttl": ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES) or b"",
        "kg.jsonld": dumps_jsonld(triples, PREFIXES),
        "kg.trig": ox.serialize(ordered_quads, format=ox.RdfFormat.TRIG, prefixes=PREFIXES) or b"",
    }
    written = []
    for name, format_name in DUMP_FILES.items():
        data = contents[name]
        count = len(quads) if format_name == "trig" else len(lines)
        variants = [(name, data, False)]
        if name in GZIPPED:
            variants.append((f"{name}.gz", gzip.compress(data, compresslevel=6, mtime=0), True))
        for file_name, payload, compressed in variants:
            _write(out_dir / file_name, payload)
            written.append(
                DumpFile(
                    name=file_name,
                    media_type=BY_NAME[format_name].media_type,
                    size=len(payload),
                    sha256=hashlib.sha256(payload).hexdigest(),
                    triples=count,
                    compressed=compressed,
                )
            )
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
