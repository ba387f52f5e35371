"""Orchestrates a build: raw/ -> extract -> resolve -> map -> dumps + store, written atomically."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import hashlib
import itertools
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pyoxigraph as ox
from rdflib import URIRef

import kg
from kg.dumps import TRIG_FILE, VOID_FILE, DumpFile, DumpSorter, void_triples, write_checksums
from kg.executor import ExecutorError, executor_for
from kg.extract.authority import AuthorityError, load_authority
from kg.extract.cache import MentionCache, extractor_fingerprint
from kg.extract.entities import Mention, SpacyExtractor
from kg.extract.metadata import ArticleMetadata, MetadataError, extract_metadata
from kg.extract.resolve import Entity, Resolution, resolve_corpus
from kg.extract.salience import salient
from kg.fileio import exchange, exclusive_lock
from kg.inputs import inputs_digest, unchanged_build
from kg.iris import Minter, key_for_file
from kg.mapping import Triple
from kg.mapping.annotation import mention_nquads
from kg.mapping.article import article_nquads
from kg.mapping.entity import entity_triples
from kg.mapping.provenance import Agent, build_triples, source_nquads
from kg.namespaces import PREFIXES
from kg.progress import ProgressCallback, StageCallback
from kg.settings import Settings
from kg.sources import RawSource, SourceError, iter_sources
from kg.spill import Picked, TextSpill
from kg.store.loader import StoreLoader, StoreLoadError
from kg.store.oxigraph import STORE_DIR, OxigraphStore
from kg.summaries import PAGES_FILE, SUMMARIES_FILE, HomeCollector, write_summaries
from kg.terms import quads_to_ox

MANIFEST_FILE = "build.json"


class BuildError(Exception):
    """The build produced nothing publishable; out/ was left as it was."""


@dataclass(frozen=True)
class Problem:
    """A raw file that was left out of the graph, and why."""

    file: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


@dataclass
class BuildResult:
    """What a build wrote and what it left out."""

    out_dir: Path
    build_iri: str
    articles: int
    entities: int
    mentions: int
    quads: int
    dumps: list[DumpFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    validation: dict[str, Any] = field(default_factory=dict)
    reused: int = 0  # articles whose mentions came from the extraction cache
    unchanged: bool = False  # nothing was built: out/ already held a build of the same inputs
    dropped: list[str] = field(default_factory=list)  # graphs of deleted raw files removed from a remote store


class InvalidBuildError(BuildError):
    """The new build has SHACL violations; the previous out/ was kept."""

    def __init__(self, message: str, report: str) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class _Article:
    """One article of the build; its body is kept on disk (bodies[body]), not in meta."""

    key: str
    source: RawSource
    meta: ArticleMetadata  # with an empty body
    body: int  # position in the build's TextSpill of bodies

    def full_meta(self, bodies: Sequence[str]) -> ArticleMetadata:
        """The metadata with the body read back."""
        return dataclasses.replace(self.meta, body=bodies[self.body])


def build_times() -> Callable[[], dt.datetime]:
    """A clock for the build: fixed at SOURCE_DATE_EPOCH when it is set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            fixed = dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
        except ValueError as exc:
            raise BuildError(f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds") from exc
        return lambda: fixed
    return lambda: dt.datetime.now(dt.UTC).replace(microsecond=0)


#: Days an article's date may lie after the build date (time zones, embargoed stories).
FUTURE_DATE_GRACE = dt.timedelta(days=1)


def read_articles(
    settings: Settings, bodies: TextSpill, today: dt.date | None = None
) -> tuple[list[_Article], list[Problem]]:
    """Every readable article of raw/ (its body appended to bodies), and a Problem for each
    file that is not one (including a page dated after today, the build date, by more
    than a day)."""
    articles: list[_Article] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    items = iter_sources(settings.raw_dir, settings.max_raw_bytes)
    try:
        first = list(itertools.islice(items, 1))  # lists raw/, which may fail
    except SourceError as exc:
        raise BuildError(str(exc)) from exc
    for item in itertools.chain(first, items):  # one file's text in memory at a time
        if isinstance(item, SourceError):
            problems.append(Problem(str(item.path), item.reason))
            continue
        key = key_for_file(item.name)
        if key in seen:
            problems.append(Problem(str(item.path), f"same article key {key!r} as {seen[key]}"))
            continue
        try:
            meta = extract_metadata(item.text)
        except MetadataError as exc:
            problems.append(Problem(str(item.path), str(exc)))
            continue
        if today is not None and meta.date_published and meta.date_published > today + FUTURE_DATE_GRACE:
            problems.append(
                Problem(str(item.path), f"dated {meta.date_published}, after the build date {today}: a wrong date?")
            )
            continue
        seen[key] = str(item.path)
        # the raw text is not needed again; the body (what is extracted and mapped) waits on disk
        body = bodies.append(meta.body)
        articles.append(_Article(key, dataclasses.replace(item, text=""), dataclasses.replace(meta, body=""), body))
    return articles, problems


def map_graph(
    minter: Minter,
    articles: list[_Article],
    bodies: Sequence[str],
    resolution: Resolution,
    *,
    build: URIRef,
    software: Agent,
    extractor: Agent,
    started: dt.datetime,
    ended: dt.datetime,
    language: str,
    progress: ProgressCallback | None = None,
    home: HomeCollector | None = None,
) -> Iterator[MappedGraph]:
    """All statements of the build, article by article (so the caller never holds them
    all): each article's triples with the named graph they belong to, and its mention
    annotations as N-Quads text, the articles in the order of their graph IRIs (kg.trig's
    order); then the entities' and the build's triples. progress, when given, hears how
    many articles are mapped, every MAP_PROGRESS_EVERY and at the end; home, when given,
    gets the articles and entities the home page lists."""
    entity_iris = minter.entity_iris((e.kind, e.name) for e in resolution.entities.values())

    def _iri(entity: Entity) -> URIRef:
        return entity_iris[(entity.kind, entity.name)]

    def iri_of(eid: tuple[str, str]) -> URIRef:
        return _iri(resolution.entity(eid))

    graph_of = {a.key: minter.article_graph(a.key) for a in articles}
    total = len(articles)
    in_order = sorted(articles, key=lambda a: f"{graph_of[a.key]}>")  # "<graph>" order, as TriG's
    for done, article in enumerate(in_order, 1):
        meta = article.full_meta(bodies)
        graph = graph_of[article.key]
        source = minter.source(article.source.name)
        linked = resolution.mentions.get(article.key, [])
        mentioned = sorted({iri_of(m.entity) for m in linked})
        about = [iri_of(eid) for eid in salient(linked, meta.headline, lambda e: resolution.entity(e).names())]
        authors = [_iri(resolution.find("person", name)) for name in meta.authors]
        publisher = _iri(resolution.find("organization", meta.publisher)) if meta.publisher else None
        statements = article_nquads(
            minter,
            article.key,
            meta,
            source=source,
            build=build,
            language=language,
            authors=authors,
            publisher=publisher,
            mentioned=mentioned,
            about=about,
        )
        statements += source_nquads(source, article.source, graph)
        statements += mention_nquads(
            minter,
            article.key,
            meta.body,
            ((m.start, m.end, iri_of(m.entity)) for m in linked),
            build=build,
            extractor=extractor.iri,
        )
        yield MappedGraph([], statements, whole=True)
        if home is not None:
            date = meta.date_published.isoformat() if meta.date_published is not None else ""
            home.add_article(str(minter.article(article.key)), meta.headline, date, map(str, mentioned))
        if progress is not None and (done % MAP_PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    entity_graph = minter.entity_graph()
    for entity in resolution.entities.values():
        yield MappedGraph([(t, entity_graph) for t in entity_triples(_iri(entity), entity, build=build)])
        if home is not None:
            home.add_entity(str(_iri(entity)), entity.name)
    prov_graph = minter.provenance_graph()
    used = [minter.source(a.source.name) for a in articles]
    provenance = build_triples(build, started=started, ended=ended, used=used, software=software, extractor=extractor)
    yield MappedGraph([(t, prov_graph) for t in provenance])


#: Articles mapped between two calls of map_graph's progress callback.
MAP_PROGRESS_EVERY = 500


class MappedGraph(NamedTuple):
    """Mapped statements: triples with the named graph each belongs to, and N-Quads text;
    whole: they are the whole of one named graph (an article's)."""

    quads: list[tuple[Triple, URIRef]]
    nquads: str = ""
    whole: bool = False


#: Statements mapped before they go to the sorter (bounds the memory of mapping).
SORT_BATCH = 50_000


def sort_mapped(sorter: DumpSorter, mapped: Iterable[MappedGraph]) -> None:
    """Hand the mapped statements to the sorter, a batch of articles at a time."""
    batch: list[MappedGraph] = []
    statements = 0
    for item in mapped:
        batch.append(item)
        statements += len(item.quads) + item.nquads.count("\n")
        if statements >= SORT_BATCH:
            _sort_batch(sorter, batch)
            batch, statements = [], 0
    _sort_batch(sorter, batch)


def _sort_batch(sorter: DumpSorter, batch: list[MappedGraph]) -> None:
    """Serialise a batch's quads at once (one N-Quads line each, in order), then give the
    sorter each whole graph's lines apart (DumpSorter.add_graph) and the rest together."""
    quads = quads_to_ox((s, p, o, g) for item in batch for (s, p, o), g in item.quads)
    lines = (ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"").splitlines()
    loose: list[bytes] = []
    at = 0
    for item in batch:
        own = lines[at : at + len(item.quads)] + item.nquads.encode("utf-8").splitlines()
        at += len(item.quads)
        if item.whole:
            sorter.add_graph(own)
        else:
            loose += own
    sorter.add_lines(loose)


def cache_folder(settings: Settings) -> Path:
    """Where extraction results are kept between builds."""
    if str(settings.cache_dir) not in ("", "."):
        return settings.cache_dir
    out_dir = settings.out_dir.absolute()
    return out_dir.with_name(f".{out_dir.name}.cache")


class _CachedMentions(MutableMapping[str, list[Mention]]):
    """Each article's raw mentions, read from the extraction cache only when asked for, so
    that the corpus's mentions are never all in memory; an entry found damaged is
    extracted again here."""

    def __init__(
        self, cache: MentionCache, extractor: SpacyExtractor, bodies: Sequence[str], at: dict[str, int]
    ) -> None:
        self._cache = cache
        self._extractor = extractor
        self._bodies = bodies
        self._at = at  # article key -> position of its body
        self.extracted = 0  # entries found damaged and extracted again

    def __getitem__(self, key: str) -> list[Mention]:
        body = self._bodies[self._at[key]]
        found = self._cache.get(body)
        if found is None:
            found = self._extractor.extract_many([body], jobs=1)[0]
            self._cache.put(body, found)
            self.extracted += 1
        return found

    def __setitem__(self, key: str, value: list[Mention]) -> None:
        raise TypeError("mentions are added by extraction, not by assignment")

    def __delitem__(self, key: str) -> None:
        del self._at[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._at)

    def __len__(self) -> int:
        return len(self._at)


def _extract(
    settings: Settings,
    extractor: SpacyExtractor,
    articles: list[_Article],
    bodies: Sequence[str],
    progress: ProgressCallback | None,
) -> tuple[_CachedMentions, int]:
    """Extract the mentions of every body the cache does not hold (a body and extractor
    unchanged since a build are not extracted again), on the settings' executor, each
    cached as it comes. Returns (the mentions of each article by key, read from the cache
    when asked for; how many articles were found in the cache)."""
    cache = MentionCache(cache_folder(settings), extractor_fingerprint(extractor.model, extractor.version))
    todo = [a.body for a in articles if not cache.has(bodies[a.body])]
    if todo:
        try:
            with executor_for(settings) as executor:
                fresh = extractor.iter_extract(Picked(bodies, todo), progress=progress, executor=executor)
                for position, mentions in zip(todo, fresh, strict=True):
                    cache.put(bodies[position], mentions)
        except ExecutorError as exc:
            raise BuildError(f"extraction failed: {exc}; {settings.out_dir} left unchanged") from exc
    at = {a.key: a.body for a in articles}
    return _CachedMentions(cache, extractor, bodies, at), len(articles) - len(todo)


def _build_id(settings: Settings, articles: list[_Article], extractor_version: str) -> str:
    digest = hashlib.sha256()
    for part in (kg.__version__, extractor_version, settings.base_iri, settings.language):
        digest.update(part.encode() + b"\0")
    for article in articles:
        digest.update(f"{article.key}:{article.source.sha256}\n".encode())
    return digest.hexdigest()[:16]


def publish(staging: Path, out_dir: Path) -> None:
    """Replace out_dir by staging so that out_dir is always a complete build, old or new:
    one atomic exchange of the two directories where the system can (Linux), else two
    renames (a reader may then briefly find no out_dir)."""
    out_dir = out_dir.absolute()
    if not out_dir.exists():
        os.rename(staging, out_dir)
        return
    if exchange(staging, out_dir):
        shutil.rmtree(staging, ignore_errors=True)  # staging now holds the old build
        return
    old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
    os.rename(out_dir, old)
    try:
        os.rename(staging, out_dir)
    except OSError:
        os.rename(old, out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def remove_leftovers(out_dir: Path) -> list[Path]:
    """Delete staging and old directories that a killed build left beside out_dir (call
    with the build lock held, so no running build owns them)."""
    out_dir = out_dir.absolute()
    leftovers = [
        p
        for pattern in (f".{out_dir.name}.tmp-*", f".{out_dir.name}.old-*")
        for p in out_dir.parent.glob(pattern)
        if p.is_dir()
    ]
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)
    return leftovers


def build(
    settings: Settings,
    extractor: SpacyExtractor | None = None,
    *,
    validate: bool = True,
    allow_invalid: bool = False,
    progress: ProgressCallback | None = None,
    force: bool = False,
    stages: StageCallback | None = None,
    progress_for: Callable[[str], ProgressCallback] | None = None,
) -> BuildResult:
    """Build out_dir from raw_dir. Bad files become problems; the rest is validated and
    published. A build with SHACL violations is not published (InvalidBuildError) unless
    allow_invalid; the validation report is written into out/ either way it is published.
    One build at a time per out_dir (a lock file beside it); leftovers of a killed build
    are removed first. When out_dir already holds a build of the same inputs (raw files by
    SHA-256, code, settings, shapes: kg.inputs) nothing is done unless force. progress
    hears how many articles are extracted; progress_for, when given, makes the callback
    for the later long stages, "mapping" (articles) and "validating" (parts: one per
    article, and one for the other graphs), when each begins."""
    out_dir = settings.out_dir.absolute()
    lock = out_dir.with_name(f".{out_dir.name}.lock")
    try:
        with exclusive_lock(lock):
            remove_leftovers(out_dir)
            if validate:  # a missing or broken shapes folder fails now, not after the extraction
                _check_validation_inputs(settings)
            digest = inputs_digest(settings, validate=validate, allow_invalid=allow_invalid)
            previous = None if force else unchanged_build(out_dir, digest, MANIFEST_FILE, settings.store == "oxigraph")
            if previous is not None:
                return _unchanged_result(settings, previous)
            return _build(
                settings,
                extractor,
                validate=validate,
                allow_invalid=allow_invalid,
                progress=progress,
                inputs=digest,
                stages=stages or (lambda stage: None),
                progress_for=progress_for,
            )
    except BlockingIOError:
        raise BuildError(f"another kg build is writing {settings.out_dir} (it holds {lock})") from None


def _unchanged_result(settings: Settings, manifest: dict[str, Any]) -> BuildResult:
    """The result of the build already in out/ (from its build.json)."""
    return BuildResult(
        out_dir=settings.out_dir,
        build_iri=manifest["build"],
        articles=manifest["articles"],
        entities=manifest["entities"],
        mentions=manifest["mentions"],
        quads=manifest["quads"],
        dumps=[DumpFile(**d) for d in manifest.get("dumps", [])],
        problems=[Problem(**p) for p in manifest.get("problems", [])],
        validation=manifest.get("validation", {}),
        unchanged=True,
    )


def _build(
    settings: Settings,
    extractor: SpacyExtractor | None,
    *,
    validate: bool,
    allow_invalid: bool,
    progress: ProgressCallback | None,
    inputs: str,
    stages: StageCallback,
    progress_for: Callable[[str], ProgressCallback] | None = None,
) -> BuildResult:
    settings.out_dir.absolute().parent.mkdir(parents=True, exist_ok=True)
    # the article bodies wait in a temporary file beside out/ until they are mapped
    with TextSpill(settings.out_dir.absolute().parent) as bodies:
        return _build_from(
            settings,
            extractor,
            bodies,
            validate=validate,
            allow_invalid=allow_invalid,
            progress=progress,
            inputs=inputs,
            stages=stages,
            progress_for=progress_for,
        )


def _build_from(
    settings: Settings,
    extractor: SpacyExtractor | None,
    bodies: TextSpill,
    *,
    validate: bool,
    allow_invalid: bool,
    progress: ProgressCallback | None,
    inputs: str,
    stages: StageCallback,
    progress_for: Callable[[str], ProgressCallback] | None = None,
) -> BuildResult:
    clock = build_times()
    started = clock()
    minter = Minter(settings.base_iri)
    articles, problems = read_articles(settings, bodies, today=started.date())
    if not articles:
        detail = "; ".join(str(p) for p in problems) or f"no .txt files in {settings.raw_dir}"
        raise BuildError(f"no article could be built, {settings.out_dir} left unchanged ({detail})")

    try:
        authority = load_authority(settings.authority_file)
    except AuthorityError as exc:
        raise BuildError(str(exc)) from exc
    extractor = extractor or SpacyExtractor(settings.spacy_model)
    stages(f"read {len(articles)} articles; extracting their entities")
    mentions, cached = _extract(settings, extractor, articles, bodies, progress)
    resolution = resolve_corpus(
        mentions,  # read from the cache and let go of article by article
        authors={a.key: list(a.meta.authors) for a in articles},
        publishers={a.key: a.meta.publisher for a in articles},
        authority=authority,
        consume=True,
    )
    reused = cached - mentions.extracted
    stages(f"resolved {resolution.mentions.count()} mentions to {len(resolution.entities)} entities; mapping")
    extractor_version = extractor.version
    build_iri = minter.build(_build_id(settings, articles, extractor_version))
    software = Agent(minter.agent("kg"), "kg", kg.__version__)
    extractor_agent = Agent(minter.agent(f"spacy-{extractor.model}"), extractor.name, extractor_version)
    ended = clock()
    home = HomeCollector()
    mapped = map_graph(
        minter,
        articles,
        bodies,
        resolution,
        build=build_iri,
        software=software,
        extractor=extractor_agent,
        started=started,
        ended=ended,
        language=settings.language,
        progress=progress_for("mapping") if progress_for else None,
        home=home,
    )

    out_dir = settings.out_dir
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.absolute().parent))
    # the articles and the resolution live to the end of the build: frozen, the collections
    # that millions of new statements trigger no longer walk them (9% of a 10k build)
    gc.collect()
    gc.freeze()
    loader = None
    sorter = None
    validation = None
    try:
        if settings.store == "oxigraph":  # loaded on a second thread as the quads are mapped
            loader = StoreLoader(OxigraphStore(staging / STORE_DIR, read_only=False))
        # the mapped quads go to sorted run files in staging as they are made, article by
        # article (and to the store); from here on they are read back from the dumps (and
        # the article graphs, for validation, from the sorter's file of them in order)
        keep = validate and loader is not None  # validated with the store's other statements
        sorter = DumpSorter(staging, tee=loader.add_lines if loader else None, keep_whole_graphs=keep)
        sort_mapped(sorter, mapped)
        if loader is not None:  # compacted as soon as it is loaded, beside the dumps and the validation
            loader.compact_when_loaded()
        quad_count = sorter.quads
        parts = len(articles) + 1  # validated: each article graph, then the other graphs together

        def validated() -> Callable[[int], None] | None:
            """The validation's progress callback (made when it begins)."""
            checked = progress_for("validating") if progress_for else None
            return (lambda done: checked(min(done, parts), parts)) if checked else None

        if validate and _kept_whole(sorter):
            stages(f"mapped {quad_count} quads; validating them and writing the dumps")
            validation = _BackgroundValidation(staging, settings, allow_invalid, sorter, validated())
        else:
            stages(f"mapped {quad_count} quads; writing the dumps")
        dumps, stats = sorter.write(staging)
        void = void_triples(minter, stats, dumps, modified=ended, license_iri=settings.license)
        void_quads = list(quads_to_ox((s, p, o, minter.void_graph()) for s, p, o in void))
        void_ttl = ox.serialize(
            [ox.Triple(q.subject, q.predicate, q.object) for q in void_quads],
            format=ox.RdfFormat.TURTLE,
            prefixes=dict(_void_prefixes()),
        )
        (staging / VOID_FILE).write_bytes(void_ttl or b"")
        if validation is not None:
            validation.add_late(void_quads)
        gc.collect()
        checked: dict[str, str | None] = {**{d.name: d.sha256 for d in dumps}, VOID_FILE: None}
        if loader is not None:  # a remote store gets no summaries
            stages("finishing the store load")
            store, loader = loader.finish(), None
            try:  # the dataset description, made after the compaction: a small file the reads look at first
                store.load(void_quads, optimize=False)
                stages(f"summarising the entities at least {settings.summary_from} articles mention")
                write_summaries(store, staging / SUMMARIES_FILE, settings.summary_from, home=home.listing(minter))
            finally:
                store.close()
            checked[SUMMARIES_FILE] = checked[PAGES_FILE] = None
        write_checksums(staging, checked)
        result = BuildResult(
            out_dir=out_dir,
            build_iri=str(build_iri),
            articles=len(articles),
            entities=len(resolution.entities),
            mentions=resolution.mentions.count(),
            quads=quad_count,
            dumps=dumps,
            problems=problems,
            reused=reused,
        )
        if validation is not None:
            stages("finishing the validation")
            running, validation = validation, None
            result.validation = running.finish()
        elif validate:
            stages("validating")
            result.validation = _validate_staging(staging, settings, allow_invalid, validated(), sorter)
        sorter.close()
        if settings.store == "sparql":
            stages(f"loading the remote store {settings.sparql_gsp or settings.sparql_update_endpoint}")
            dumped = ox.parse(path=str(staging / TRIG_FILE), format=ox.RdfFormat.TRIG)
            result.dropped = _load_remote(settings, itertools.chain(dumped, void_quads), minter)
        _write_manifest(staging / MANIFEST_FILE, result, ended, settings, inputs)
        staging.chmod(0o755)
        publish(staging, out_dir)
    except BaseException as exc:
        if validation is not None:
            validation.abandon()
        if loader is not None:
            loader.abandon()
        if sorter is not None:
            sorter.close()
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, StoreLoadError):
            raise BuildError(f"{exc}; {out_dir} left unchanged") from exc
        raise
    finally:
        gc.unfreeze()
    return result


def _load_remote(settings: Settings, quads: Iterable[ox.Quad], minter: Minter) -> list[str]:
    """Put every graph of the build into the remote SPARQL store (each replaces the graph
    of the same name) and drop the store's other kg graphs (deleted raw files); graphs
    outside this base IRI's graph/ space are never touched. Returns the dropped graphs."""
    from kg.store import RemoteStoreError, sparql_store

    ours = minter.graph_space()
    store = sparql_store(settings, timeout=300)  # a PUT of a large graph takes a while
    try:
        return store.replace_graphs(quads, keep=lambda graph: not graph.startswith(ours))
    except (RemoteStoreError, SyntaxError) as exc:
        raise BuildError(f"loading the remote store failed: {exc}; out/ left unchanged") from exc


VALIDATION_FILES = ("validation.ttl", "validation.json")


def _check_validation_inputs(settings: Settings) -> None:
    """Read the shapes and ontology the build will validate with (small files), or raise
    the BuildError validation would raise at the end of the build."""
    from kg.validate import ValidationInputError, load_ontology, load_shapes

    try:
        load_shapes(settings.shapes_dir)
        load_ontology(settings.ontology_dir)
    except ValidationInputError as exc:
        raise BuildError(f"cannot validate the build: {exc} (settings shapes_dir, ontology_dir)") from exc


def _kept_whole(sorter: DumpSorter | None) -> bool:
    """Whether the sorter kept its in-order file of article graphs, each of them whole in it."""
    from kg.validate import is_article_graph_nt

    return (
        sorter is not None
        and sorter.keep_whole_graphs
        and not any(is_article_graph_nt(graph) for graph in sorter.side_graphs)
    )


def _validate_staging(
    staging: Path,
    settings: Settings,
    allow_invalid: bool,
    validated: Callable[[int], None] | None = None,
    sorter: DumpSorter | None = None,
    late: Future[list[ox.Quad]] | None = None,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Validate the staged build; write validation.ttl and validation.json into it
    (validated: as in kg.validate.validate_quads). When the sorter kept every article
    graph whole (_kept_whole), they and the other statements come from it
    (DumpSorter.side_quads), late giving the rest once done (the dataset description:
    see kg.validate._text_parts), and stop, once set, ends the work; otherwise from
    kg.trig and void.ttl, with the statements outside article graphs from the build's
    store when it has one."""
    from kg.reports import format_text, write_json, write_turtle
    from kg.validate import ValidationInputError, run_validation, store_others, validate_article_text

    try:
        with executor_for(settings) as executor:
            if sorter is not None and _kept_whole(sorter):
                outcome = validate_article_text(
                    _until(stop, sorter.whole_graphs()),
                    sorter.side_quads,
                    settings.shapes_dir,
                    settings.ontology_dir,
                    executor=executor,
                    validated=validated,
                    late=late,
                )
            else:
                outcome = run_validation(
                    [staging / TRIG_FILE, staging / VOID_FILE],
                    settings.shapes_dir,
                    settings.ontology_dir,
                    executor=executor,
                    others=store_others(staging / STORE_DIR) if settings.store == "oxigraph" else None,
                    validated=validated,
                )
    except ValidationInputError as exc:
        raise BuildError(f"cannot validate the build: {exc} (settings shapes_dir, ontology_dir)") from exc
    except ExecutorError as exc:
        raise BuildError(f"validation failed: {exc}; {settings.out_dir} left unchanged") from exc
    with (staging / VALIDATION_FILES[0]).open("wb") as turtle:
        write_turtle(outcome, turtle)
    with (staging / VALIDATION_FILES[1]).open("w", encoding="utf-8") as report:
        write_json(outcome, report)
    if not outcome.conforms and not allow_invalid:
        raise InvalidBuildError(
            f"the new build has {outcome.count('Violation')} SHACL violation(s); {settings.out_dir} left unchanged "
            "(use --allow-invalid to publish it anyway)",
            format_text(outcome),
        )
    return {
        "conforms": outcome.conforms,
        "violations": outcome.count("Violation"),
        "warnings": outcome.count("Warning"),
        "infos": outcome.count("Info"),
        "engine": outcome.engine,
    }


class _Stopped(Exception):
    """The build stopped before its validation was done."""


def _until(stop: threading.Event | None, items: Iterable[bytes]) -> Iterator[bytes]:
    """items, until stop is set (then _Stopped)."""
    for item in items:
        if stop is not None and stop.is_set():
            raise _Stopped
        yield item


class _BackgroundValidation:
    """_validate_staging on a thread, from the sorter's whole article graphs (_kept_whole),
    begun as soon as the articles are mapped: its workers take the cores the dumps and the
    summaries leave idle, and its tasks are made meanwhile. add_late() hands it what was
    made after the mapping (the dataset description: it is validated with the other
    statements outside article graphs, in a task begun right then, before the article
    graphs left), finish() waits for its result (or its error); abandon() stops it when
    the build fails."""

    def __init__(
        self,
        staging: Path,
        settings: Settings,
        allow_invalid: bool,
        sorter: DumpSorter,
        validated: Callable[[int], None] | None,
    ) -> None:
        self._late: Future[list[ox.Quad]] = Future()
        self._stop = threading.Event()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="kg-validate")
        self._result = self._thread.submit(
            _validate_staging, staging, settings, allow_invalid, validated, sorter, self._late, self._stop
        )

    def add_late(self, late: list[ox.Quad]) -> None:
        """The statements made after the mapping, to validate with the others."""
        self._late.set_result(late)

    def finish(self) -> dict[str, Any]:
        """The validation's summary (as _validate_staging's), once done (add_late first)."""
        try:
            return self._result.result()
        finally:
            self._thread.shutdown()

    def abandon(self) -> None:
        """Stop the validation and wait until it has (its workers are stopped, not waited for)."""
        self._stop.set()
        if not self._late.done():
            self._late.set_exception(_Stopped())
        self._thread.shutdown()  # whatever it raised (_Stopped, most likely) is of no use now


def _void_prefixes() -> dict[str, str]:
    wanted = {"void", "dcat", "dct", "spdx", "xsd", "schema", "prov", "oa", "rdf"}
    return {k: v for k, v in PREFIXES.items() if k in wanted}


def _write_manifest(path: Path, result: BuildResult, ended: dt.datetime, settings: Settings, inputs: str) -> None:
    manifest = {
        "inputs": inputs,
        "build": result.build_iri,
        "base_iri": settings.base_iri,
        "kg_version": kg.__version__,
        "finished": ended.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "articles": result.articles,
        "entities": result.entities,
        "mentions": result.mentions,
        "quads": result.quads,
        "dumps": [d.__dict__ for d in result.dumps],
        "problems": [p.__dict__ for p in result.problems],
        "validation": result.validation,
    }
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
