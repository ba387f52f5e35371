"""HTML and RDF pages: the home page and every resource by content negotiation."""

from __future__ import annotations

from collections import defaultdict

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request

from kg.describe import resource
from kg.namespaces import RDF, SCHEMA
from kg.web.app import manifest_of, settings_of, store_of
from kg.web.negotiation import HTML, RESOURCE_TYPES, TWIN_EXTENSIONS, negotiate, split_extension
from kg.web.rendering import curie, display, serialize

bp = Blueprint("pages", __name__)

_HOME_QUERY = """
SELECT ?a ?h ?d WHERE { ?a a schema:NewsArticle ; schema:headline ?h . OPTIONAL { ?a schema:datePublished ?d } }
ORDER BY DESC(?d) ?h LIMIT 50"""
_TOP_ENTITIES = """
SELECT ?e ?n ?t (COUNT(DISTINCT ?a) AS ?c) WHERE {
  ?a schema:mentions ?e . ?e schema:name ?n ; a ?t }
GROUP BY ?e ?n ?t ORDER BY DESC(?c) ?n LIMIT 200"""


def error_response(status: int, message: str) -> Response:
    """An error as a small HTML page for browsers, plain text otherwise."""
    if request.accept_mimetypes.best_match(["text/plain", HTML]) == HTML:
        return Response(render_template("error.html", status=status, message=message), status, mimetype=HTML)
    return Response(f"{status}: {message}\n", status, mimetype="text/plain")


def _alternates(path: str) -> list[tuple[str, str]]:
    """(media type, href) of the machine-readable twins of a page."""
    return [(media, f"/{path}.{ext}") for media, ext in TWIN_EXTENSIONS.items()]


def _rdf_response(triples: list[ox.Triple], media_type: str, path: str) -> Response:
    response = Response(serialize(triples, media_type), mimetype=media_type)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Content-Location"] = f"/{path}.{TWIN_EXTENSIONS[media_type]}"
    return response


def _finish(response: Response, path: str) -> Response:
    response.headers["Vary"] = "Accept"
    response.headers["Link"] = ", ".join(
        f'<{href}>; rel="alternate"; type="{media}"' for media, href in _alternates(path)
    )
    return response


@bp.route("/")
def home() -> Response:
    """The dataset at a glance: counts, articles, most-mentioned entities, links."""
    choice = negotiate(request.accept_mimetypes, RESOURCE_TYPES, request.args.get("format"))
    if choice.media_type is None:
        return _not_acceptable(choice.error)
    store = store_of(current_app)
    settings = settings_of(current_app)
    if choice.media_type != HTML:
        triples = [
            ox.Triple(q.subject, q.predicate, q.object)
            for q in store.quads_for(None, ox.NamedNode(settings.base_iri + "graph/void"))
        ]
        return _finish(_rdf_response(triples, choice.media_type, "dataset"), "dataset")
    articles = [
        (display(r["a"], {}, settings.base_iri).href, r["h"].value, r["d"].value if r["d"] else "")
        for r in store.query(_HOME_QUERY)
    ]
    groups: dict[str, list[tuple[str | None, str, int]]] = defaultdict(list)
    for row in store.query(_TOP_ENTITIES):
        kind = curie(row["t"].value).removeprefix("schema:")
        groups[kind].append((display(row["e"], {}, settings.base_iri).href, row["n"].value, int(row["c"].value)))
    html = render_template(
        "home.html",
        manifest=manifest_of(current_app),
        articles=articles,
        groups=sorted(groups.items()),
        alternates=_alternates("dataset"),
    )
    return _finish(Response(html, mimetype=HTML), "dataset")


def _not_acceptable(reason: str | None) -> Response:
    offered = ", ".join(RESOURCE_TYPES)
    response = Response(f"406: {reason}. Offered: {offered}\n", 406, mimetype="text/plain")
    response.headers["Vary"] = "Accept"
    return response


@bp.route("/<path:path>", methods=["GET", "HEAD"])
def resource_page(path: str) -> Response:
    """Any IRI under the base, by its path, in HTML or RDF."""
    settings = settings_of(current_app)
    store = store_of(current_app)
    description = resource(store, settings.base_iri + path)
    explicit = request.args.get("format")
    if description is None:
        stem, media_type = split_extension(path)
        if media_type is None or stem == path:
            return error_response(404, f"nothing is known about /{path}")
        description = resource(store, settings.base_iri + stem)
        if description is None:
            return error_response(404, f"nothing is known about /{stem}")
        path, explicit = stem, explicit or media_type
    choice = negotiate(request.accept_mimetypes, RESOURCE_TYPES, explicit)
    if choice.media_type is None:
        return _not_acceptable(choice.error)
    if choice.media_type != HTML:
        return _finish(_rdf_response(description.triples, choice.media_type, path), path)
    base = settings.base_iri
    labels = description.labels
    rows: dict[str, list[object]] = defaultdict(list)
    types = []
    sub: dict[str, dict[str, list[object]]] = defaultdict(lambda: defaultdict(list))
    for t in description.triples:
        subject = str(getattr(t.subject, "value", t.subject))
        if subject != description.iri:
            sub[subject][curie(t.predicate.value)].append(display(t.object, labels, base))
        elif t.predicate.value == str(RDF.type):
            types.append(curie(str(getattr(t.object, "value", t.object))))
        else:
            rows[curie(t.predicate.value)].append(display(t.object, labels, base))
    title = labels.get(description.iri) or path
    body = rows.pop("schema:articleBody", [])
    incoming = [(curie(t.predicate.value), display(t.subject, labels, base)) for t in description.incoming]
    html = render_template(
        "resource.html",
        title=title,
        iri=description.iri,
        types=types,
        rows=sorted(rows.items()),
        body=[getattr(v, "text", "") for v in body],
        sub=sorted((k, sorted(v.items())) for k, v in sub.items()),
        incoming=incoming,
        incoming_total=description.incoming_total,
        alternates=_alternates(path),
        is_article=any(t.endswith("Article") for t in types),
        schema_mentions=str(SCHEMA.mentions),
    )
    return _finish(Response(html, mimetype=HTML), path)
