"""The SPARQL 1.1 Protocol endpoint (read-only) and its HTML query form."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request

from kg.query import RESULT_TYPES, QueryError, QueryOutcome, run_query, serialize_results
from kg.web.app import settings_of, store_of
from kg.web.negotiation import HTML, negotiate
from kg.web.rendering import display, serialize

bp = Blueprint("sparql", __name__)

RESULT_MEDIA = tuple(RESULT_TYPES.values())
GRAPH_MEDIA = ("text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml")
_KIND_OF_MEDIA = {v: k for k, v in RESULT_TYPES.items()}
_FORMAT_ALIASES = {
    "json": RESULT_TYPES["json"],
    "xml": RESULT_TYPES["xml"],
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}

EXAMPLES = {
    "Articles, newest first": "SELECT ?article ?headline ?date WHERE {\n  ?article a schema:NewsArticle ;"
    " schema:headline ?headline .\n  OPTIONAL { ?article schema:datePublished ?date }\n} ORDER BY DESC(?date)",
    "Most mentioned entities": "SELECT ?entity ?name (COUNT(DISTINCT ?article) AS ?articles) WHERE {\n"
    "  ?article schema:mentions ?entity . ?entity schema:name ?name\n}"
    " GROUP BY ?entity ?name ORDER BY DESC(?articles) LIMIT 20",
    "People and the articles naming them": "SELECT ?name ?headline WHERE {\n  ?article schema:mentions ?p ;"
    " schema:headline ?headline .\n  ?p a schema:Person ; schema:name ?name\n} ORDER BY ?name",
    "Evidence for each mention of Rand Paul": "SELECT ?exact ?start ?end ?headline WHERE {\n"
    '  ?ann oa:hasBody ?e ; oa:hasTarget ?t . ?e schema:name "Rand Paul" .\n'
    "  ?t oa:hasSource ?a ; oa:hasSelector ?pos, ?q .\n  ?pos oa:start ?start ; oa:end ?end . ?q oa:exact ?exact .\n"
    "  ?a schema:headline ?headline\n} ORDER BY ?headline ?start",
    "Where each article came from": "SELECT ?headline ?file ?sha256 WHERE {\n  ?a schema:headline ?headline ;"
    " prov:wasDerivedFrom ?s .\n  ?s schema:name ?file ; schema:sha256 ?sha256\n}",
    "The build and its software": "SELECT ?build ?started ?agent ?version WHERE {\n  ?build a prov:Activity ;"
    " prov:startedAtTime ?started ; prov:wasAssociatedWith ?a .\n"
    "  ?a schema:name ?agent ; schema:softwareVersion ?version\n}",
}


def _error(exc: QueryError) -> Response:
    response = Response(f"{exc.status}: {exc.message}\n", exc.status, mimetype="text/plain")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _query_text() -> str | None:
    """The query from GET ?query=, a POST sparql-query body or a POST form; refuse updates."""
    if "update" in request.values or request.mimetype == "application/sparql-update":
        raise QueryError(403, "this endpoint is read-only: SPARQL Update is refused")
    if request.method == "POST" and request.mimetype == "application/sparql-query":
        try:
            return request.get_data(as_text=False).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise QueryError(400, "the query body is not valid UTF-8") from exc
    if request.method == "POST" and request.mimetype not in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "",
    ):
        raise QueryError(415, f"unsupported content type {request.mimetype!r} for a SPARQL query")
    queries = request.form.getlist("query") if request.method == "POST" else request.args.getlist("query")
    if len(queries) > 1:
        raise QueryError(400, "more than one 'query' parameter")
    return queries[0] if queries else None


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    """SPARQL 1.1 Protocol: SELECT/ASK as JSON, XML, CSV, TSV; CONSTRUCT/DESCRIBE as RDF."""
    settings = settings_of(current_app)
    try:
        text = _query_text()
    except QueryError as exc:
        return _error(exc)
    wants_html = request.accept_mimetypes.best_match(
        [HTML, *RESULT_MEDIA, *GRAPH_MEDIA]
    ) == HTML and not request.args.get("format")
    if text is None:
        if wants_html:
            return Response(
                render_template(
                    "sparql.html",
                    query=next(iter(EXAMPLES.values())),
                    examples=EXAMPLES,
                    outcome=None,
                    error=None,
                    base=settings.base_iri,
                ),
                mimetype=HTML,
            )
        return _error(QueryError(400, "missing 'query' parameter"))
    defaults = request.values.getlist("default-graph-uri")
    named = request.values.getlist("named-graph-uri")
    try:
        outcome = run_query(store_of(current_app), text, settings, default_graphs=defaults, named_graphs=named)
    except QueryError as exc:
        if wants_html:
            html = render_template(
                "sparql.html", query=text, examples=EXAMPLES, outcome=None, error=exc.message, base=settings.base_iri
            )
            return Response(html, exc.status, mimetype=HTML)
        return _error(exc)
    response = Response(_html(outcome, text, settings.base_iri), mimetype=HTML) if wants_html else _machine(outcome)
    if outcome.truncated:
        response.headers["X-KG-Truncated"] = "true"
        response.headers["X-KG-Result-Limit"] = str(settings.result_limit)
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _machine(outcome: QueryOutcome) -> Response:
    explicit = request.args.get("format")
    explicit = _FORMAT_ALIASES.get(explicit, explicit) if explicit else None
    offered = GRAPH_MEDIA if outcome.kind == "graph" else RESULT_MEDIA
    choice = negotiate(request.accept_mimetypes, offered, explicit)
    if choice.media_type is None:
        return Response(f"406: {choice.error}. Offered: {', '.join(offered)}\n", 406, mimetype="text/plain")
    if outcome.kind == "graph":
        return Response(serialize(outcome.triples, choice.media_type), mimetype=choice.media_type)
    body = serialize_results(outcome, _KIND_OF_MEDIA[choice.media_type])
    mimetype = choice.media_type
    return Response(body, content_type=f"{mimetype}; charset=utf-8")


def _html(outcome: QueryOutcome, text: str, base: str) -> str:
    rows = [[display(term, {}, base) if term is not None else None for term in row] for row in outcome.rows]
    triples = [
        [display(t.subject, {}, base), display(t.predicate, {}, base), display(t.object, {}, base)]
        for t in outcome.triples
    ]
    return render_template(
        "sparql.html",
        query=text,
        examples=EXAMPLES,
        outcome=outcome,
        rows=rows,
        triples=triples,
        error=None,
        base=base,
        limit=current_app.extensions["kg.settings"].result_limit,
    )
