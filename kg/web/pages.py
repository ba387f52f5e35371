"""Pages: the home page, /health, and every resource of the graph by content negotiation."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for

from kg.formats import BY_NAME, serialize_triples
from kg.iris import Minter
from kg.namespaces import DCTERMS, OA, RDF, SCHEMA
from kg.store import RemoteStoreError
from kg.summaries import PAGE_SIZE, PAGED, UNLISTED, Count, co_mentioned, incoming, paged_subjects, timeline
from kg.web.describe import (
    LABELLED,
    Description,
    Evidence,
    describe,
    evidence_for,
    evidence_in,
    label_quads,
    labels_of,
)
from kg.web.dumps import downloads, void_response
from kg.web.negotiation import HOME, HTML, RESOURCE, negotiate, split_twin
from kg.web.rdf import rdf_response
from kg.web.response_cache import cached_view
from kg.web.site import Site, current_site, local_href, site_responses
from kg.web.views import Linker, highlight

bp = Blueprint("pages", __name__)

#: How many of a list a page shows before saying "and N more".
MENTIONED_IN_CAP = PAGE_SIZE
REFERENCED_BY_CAP = 20
SNIPPETS = 3
KINDS = {"person": "People", "organization": "Organizations", "place": "Places", "event": "Events"}
_MENTIONS, _HAS_BODY, _BODY = str(SCHEMA.mentions), str(OA.hasBody), str(SCHEMA.articleBody)


@bp.route("/health")
def health() -> Response:
    """Liveness and which build is served, as JSON."""
    site = current_site()
    try:
        ok = bool(site.store.query("ASK { ?s ?p ?o }"))
    except (OSError, ValueError, RuntimeError, RemoteStoreError):
        ok = False
    intact = not site.integrity  # None (still checking) or [] count as intact
    body = {
        "status": "ok" if ok and intact else "error",
        "build": site.manifest.get("build"),
        "finished": site.manifest.get("finished"),
        "base_iri": site.base,
        "checksums": "pending" if site.integrity is None else site.integrity or "ok",
        "kept": site.responses.stats(),
    }
    response = jsonify(body)
    response.status_code = 200 if ok and intact else 503
    return response


@bp.route("/")
@cached_view(site_responses)
def home() -> Any:
    """The dataset at a glance (HTML), or its VoID description by negotiation."""
    offer = negotiate(HOME)
    if offer is not HTML:
        return void_response(offer)
    site = current_site()
    dataset = {
        q.predicate.value: q.object.value
        for q in site.store.match(ox.NamedNode(site.iri("dataset")))
        if isinstance(q.object, ox.Literal)
    }
    build = site.manifest.get("build")
    linker = Linker(site.base, local_href("").rstrip("/"), _labels(site, {build} if build else set()))
    articles, groups = _listing(site, linker)
    return render_template(
        "home.html",
        title=dataset.get(str(DCTERMS.title), "kg news knowledge graph"),
        description=dataset.get(str(DCTERMS.description), ""),
        manifest=site.manifest,
        build=linker.iri(build) if build else None,
        articles=articles,
        groups=groups,
        dumps=[f for f in downloads(site).values() if f.triples is not None],
        alternates=_alternates(url_for("dumps.void"), extension=False),
    )


def _listing(site: Site, linker: Linker) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The home page's newest articles and entity groups (the build's lists when it kept them)."""
    listing = site.home_listing()
    articles = {
        "items": [{"link": linker.iri(a.iri, a.headline), "date": a.date} for a in listing.articles],
        "more": listing.more_articles,
    }
    groups = [
        {
            "name": KINDS.get(g.kind, "Other"),
            "items": [{"link": linker.iri(e.iri, e.name), "articles": e.articles} for e in g.entities],
            "total": g.total,
        }
        for g in listing.groups
    ]
    return articles, groups


@bp.route("/<path:path>")
@cached_view(site_responses)
def resource(path: str) -> Any:
    """Any path P names the IRI base + P; `P.ttl` etc. are its twins in one format."""
    site = current_site()
    asked = site.iri(path)
    description = describe(site.store, asked)
    extension = None
    if description is None and (twin := split_twin(path)) is not None:
        description = describe(site.store, site.iri(twin[0]))
        if description is not None:
            path, extension = twin
    if description is None:
        abort(404, f"There is no resource <{asked}> in this dataset.")
    offer = negotiate(RESOURCE, extension)
    if offer.rdf is not None:
        return rdf_response(description.quads(), offer.rdf)
    return _resource_page(site, path, description)


def _alternates(href: str, *, extension: bool = True) -> list[dict[str, str]]:
    """The machine twins of a page: `href.ext` (or `href?format=name`)."""
    return [
        {
            "media_type": o.media_type,
            "label": o.label,
            "href": f"{href}.{o.extension}" if extension else f"{href}?format={o.name}",
        }
        for o in RESOURCE
        if o.rdf is not None
    ]


def _resource_page(site: Site, path: str, description: Description) -> Response:
    iri = description.iri
    page_number = _page_number()
    offset = (page_number - 1) * MENTIONED_IN_CAP
    summary = site.summary(iri) if not description.parts else None
    if summary is not None and page_number == 1:  # worked out by the build: many articles name it
        links_in = summary.incoming
    elif summary is not None:  # a later page: which articles it lists comes from the build too
        listed = site.summary_pages.page(summary, page_number)
        if listed is None:  # the build's page list cannot say: ask the store
            listed = paged_subjects(site.store, iri, PAGED, offset, MENTIONED_IN_CAP)
        links_in = [dataclasses.replace(g, subjects=listed) if g.predicate == PAGED else g for g in summary.incoming]
    else:
        links_in = incoming(
            site.store,
            iri,
            cap=MENTIONED_IN_CAP,
            offset=offset,
            skip=UNLISTED,
            parts=description.parts,
            paged=PAGED,
        )
    evidence = evidence_in(description)
    mentioned_in = next((g for g in links_in if g.predicate == _MENTIONS), None)
    about: dict[str, tuple[int, list[Evidence]]] = {}
    if mentioned_in is not None and any(g.predicate == _HAS_BODY for g in links_in):
        graphs = {a: _article_graph(site, a) for a in mentioned_in.subjects}
        shown = {a: g for a, g in graphs.items() if g}
        about = evidence_for(site.store, iri, shown, SNIPPETS, Minter(site.base))
    others = [
        dataclasses.replace(g, subjects=g.subjects[:REFERENCED_BY_CAP])
        for g in links_in
        if g.predicate not in (_MENTIONS, _HAS_BODY)
    ]
    together: list[Count] = []
    months: list[Count] = []
    if summary is not None:
        together, months = summary.co_mentioned, summary.timeline
    elif mentioned_in is not None:
        together, months = co_mentioned(site.store, iri), timeline(site.store, iri)
    extra = {s for g in links_in for s in g.subjects} | {c.key for c in together}  # what the page shows
    labels = description.labels()
    labels.update(_labels(site, extra - labels.keys()))
    linker = Linker(site.base, local_href("").rstrip("/"), labels)

    body = next(
        (q.object.value for q in description.own if q.predicate.value == _BODY and isinstance(q.object, ox.Literal)),
        None,
    )
    segments = highlight(body, evidence, linker) if body is not None and evidence else []
    evidence_iris = {e.annotation for e in evidence}
    parts = [
        {"link": linker.iri(part), "rows": linker.rows(quads)}
        for part, quads in sorted(description.parts.items())
        if not _within(part, evidence_iris)
    ]
    mentioned = []
    if mentioned_in is not None:
        for article in sorted(mentioned_in.subjects, key=lambda a: ((labels.get(a) or a).lower(), a)):
            count, quotes = about.get(article, (0, []))
            mentioned.append({"link": linker.iri(article), "count": count, "quotes": quotes})
    news_with = [{"link": linker.iri(c.key), "count": c.count} for c in together]
    types = [
        linker.vocabulary(q.object.value)
        for q in description.own
        if q.predicate.value == str(RDF.type) and isinstance(q.object, ox.NamedNode)
    ]
    page = render_template(
        "resource.html",
        title=labels.get(iri) or path,
        iri=iri,
        types=types,
        rows=linker.rows(description.own, skip=(_BODY,) if segments else ()),
        segments=segments,
        evidence=[{"e": e, "entity": linker.iri(e.entity), "annotation": linker.href(e.annotation)} for e in evidence],
        parts=parts,
        mentioned=mentioned,
        mentioned_total=mentioned_in.total if mentioned_in else 0,
        mentioned_first=(page_number - 1) * MENTIONED_IN_CAP + 1,
        pages=_pager(path, page_number, mentioned_in.total if mentioned_in else 0),
        co_mentioned=news_with,
        timeline=months,
        timeline_max=max((m.count for m in months), default=0),
        referenced=[
            {
                "predicate": linker.vocabulary(g.predicate),
                "links": [linker.iri(s) for s in g.subjects],
                "total": g.total,
            }
            for g in others
        ],
        linker=linker,
        alternates=_alternates(local_href(path)),
        jsonld=embedded_jsonld(description.own),
    )
    return Response(page, mimetype="text/html")


def _within(iri: str, resources: set[str]) -> bool:
    """Whether iri is one of the resources or under one's path (IRI + "/...")."""
    cut = iri.find("/")
    while cut != -1:
        if iri[:cut] in resources:
            return True
        cut = iri.find("/", cut + 1)
    return iri in resources


def embedded_jsonld(quads: list[ox.Quad]) -> str:
    """The resource's own statements as schema.org JSON-LD for a <script type=
    "application/ld+json"> block (search engines read it); `<` is escaped so no string in
    the data can close the script element. A property with more values than a page shows
    (LABELLED) is left out: the data twins have it."""
    per_predicate = Counter(q.predicate for q in quads)
    triples = list(
        dict.fromkeys(
            ox.Triple(q.subject, q.predicate, q.object) for q in quads if per_predicate[q.predicate] <= LABELLED
        )
    )
    text = serialize_triples(triples, BY_NAME["jsonld"]).decode("utf-8")
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _article_graph(site: Site, article: str) -> str | None:
    """The named graph of an article of this build (graph/article/KEY for article/KEY)."""
    path = site.path_of(article)
    return site.graph(path) if path is not None and path.startswith("article/") else None


def _page_number() -> int:
    """?page=N (from 1) of the "mentioned in" list; anything else is a 400."""
    raw = request.args.get("page", "1")
    if not raw.isdigit() or int(raw) < 1 or len(raw) > 9:
        abort(400, f"page must be a whole number from 1, not {raw!r}")
    return int(raw)


def _pager(path: str, page: int, total: int) -> dict[str, Any]:
    """Links to the previous and next pages of the "mentioned in" list."""
    last = max(1, -(-total // MENTIONED_IN_CAP))
    if page > last:
        abort(404, f"page {page} is past the last page ({last}) of this list")

    def link(number: int) -> str:
        return local_href(path) + (f"?page={number}" if number > 1 else "")

    return {
        "page": page,
        "last": last,
        "previous": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < last else None,
    }


def _labels(site: Site, iris: set[str]) -> dict[str, str]:
    return labels_of(label_quads(site.store, iris)) if iris else {}
