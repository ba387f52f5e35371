"""/sparql: the SPARQL 1.1 Protocol (query only) over the read-only store, plus an HTML form."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request, url_for

from kg.budget import ClientBudgets, OverBudget
from kg.namespaces import PREFIXES, RDF, SD
from kg.query import QueryError, QueryOutcome, same_answer_every_time
from kg.web.app import SPARQL_PAGE_CSP
from kg.web.negotiation import (
    DATA,
    FORMAT_PARAMETERS,
    GRAPH_RESULTS,
    HTML,
    SOLUTIONS,
    NotAcceptableError,
    Offer,
    negotiate,
    prefers_html,
)
from kg.web.rdf import rdf_response
from kg.web.response_cache import cached_view, do_not_keep
from kg.web.site import BUDGETS_KEY, Site, current_site, local_href, site_responses
from kg.web.views import Linker

bp = Blueprint("sparql", __name__)

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
#: What /sparql answers with no query: the form (HTML) or a service description (RDF).
SERVICE = (HTML, *(o for o in DATA if o is not HTML))


def examples(entities: str) -> list[tuple[str, str]]:
    """(title, query) pairs about a build whose entities are in the named graph entities,
    shown as links on the form (and timed by bench/run.py's http stage)."""
    return [
        (
            "Articles, newest first",
            "SELECT ?article ?headline ?date WHERE {\n  ?article a schema:NewsArticle ; schema:headline ?headline .\n"
            "  OPTIONAL { ?article schema:datePublished ?date }\n} ORDER BY DESC(?date) ?headline",
        ),
        (
            "Most mentioned entities",
            "SELECT ?entity ?name (COUNT(DISTINCT ?article) AS ?articles) WHERE {\n"
            "  ?article schema:mentions ?entity . ?entity schema:name ?name\n"
            "} GROUP BY ?entity ?name ORDER BY DESC(?articles) ?name LIMIT 20",
        ),
        (
            "People and the words that mention them (Web Annotation evidence)",
            "SELECT ?name ?exact ?article WHERE {\n  ?annotation oa:hasBody ?person ; oa:hasTarget ?target .\n"
            "  ?person a schema:Person ; schema:name ?name .\n"
            "  ?target oa:hasSource ?article ; oa:hasSelector ?quote . ?quote oa:exact ?exact\n"
            "} ORDER BY ?name ?article LIMIT 100",
        ),
        (
            "Entities per type",
            f"SELECT ?type (COUNT(?entity) AS ?entities) WHERE {{\n  GRAPH <{entities}> {{ ?entity a ?type }}\n"
            "} GROUP BY ?type ORDER BY DESC(?entities)",
        ),
        (
            "Statements per named graph",
            "SELECT ?graph (COUNT(*) AS ?statements) WHERE { GRAPH ?graph { ?s ?p ?o } }\n"
            "GROUP BY ?graph ORDER BY DESC(?statements)",
        ),
        (
            "Provenance of the build",
            "SELECT ?build ?started ?ended ?agent ?name ?version WHERE {\n"
            "  ?build a prov:Activity ; prov:startedAtTime ?started ; prov:endedAtTime ?ended ;\n"
            "         prov:wasAssociatedWith ?agent .\n  ?agent schema:name ?name ; schema:softwareVersion ?version\n}",
        ),
        (
            "Articles per month",
            "SELECT ?month (COUNT(?article) AS ?articles) WHERE {\n"
            "  ?article a schema:NewsArticle ; schema:datePublished ?date .\n"
            "  BIND (SUBSTR(STR(?date), 1, 7) AS ?month)\n} GROUP BY ?month ORDER BY ?month",
        ),
        (
            "What each article is mainly about",
            "SELECT ?headline ?name WHERE {\n  ?article schema:headline ?headline ; schema:about ?entity .\n"
            "  ?entity schema:name ?name\n} ORDER BY ?headline ?name",
        ),
        (
            "People who appear together, by shared articles",
            "SELECT ?a ?b (COUNT(DISTINCT ?article) AS ?articles) WHERE {\n"
            "  ?article schema:mentions ?x , ?y .\n  ?x a schema:Person ; schema:name ?a .\n"
            "  ?y a schema:Person ; schema:name ?b .\n  FILTER (STR(?a) < STR(?b))\n"
            "} GROUP BY ?a ?b ORDER BY DESC(?articles) ?a ?b LIMIT 20",
        ),
        (
            "Authors, publishers and their articles",
            "SELECT ?author ?publisher ?headline WHERE {\n  ?article schema:headline ?headline .\n"
            "  OPTIONAL { ?article schema:author/schema:name ?author }\n"
            "  OPTIONAL { ?article schema:publisher/schema:name ?publisher }\n} ORDER BY ?author ?headline",
        ),
        (
            "Entities linked to Wikidata, GeoNames or Wikipedia (sameAs)",
            "SELECT ?name ?type ?same WHERE {\n  ?entity schema:sameAs ?same ; schema:name ?name ; a ?type .\n"
            "} ORDER BY ?name ?same",
        ),
        (
            "ASK: does any article mention Moscow?",
            'ASK {\n  ?article schema:mentions ?place .\n  ?place schema:name "Moscow"\n}',
        ),
        (
            "CONSTRUCT: articles and the people they mention",
            "CONSTRUCT { ?article schema:mentions ?person . ?person schema:name ?name } WHERE {\n"
            "  ?article schema:mentions ?person . ?person a schema:Person ; schema:name ?name\n}",
        ),
    ]


def _plain(status: int, message: str) -> Response:
    return Response(message.rstrip("\n") + "\n", status=status, mimetype="text/plain")


#: The parameters /sparql takes; anything else is a 400 (a typo should not pass silently).
PARAMETERS = ("query", "default-graph-uri", "named-graph-uri", *FORMAT_PARAMETERS)


def _check_parameters(raw: bytes, where: str) -> None:
    """Refuse a query string or form body that is not UTF-8 once percent-decoded (Werkzeug
    would quietly put U+FFFD in its place) or that has a parameter /sparql does not take."""
    try:
        names = {name for name, _ in parse_qsl(raw.decode("ascii"), keep_blank_values=True, errors="strict")}
    except UnicodeDecodeError as exc:
        raise QueryError(400, f"the {where} is not UTF-8 after percent-decoding ({exc.reason})") from exc
    unknown = sorted(names - set(PARAMETERS))
    if unknown:
        raise QueryError(400, f"unknown parameter {unknown[0]!r} in the {where}; /sparql takes {', '.join(PARAMETERS)}")


def _protocol_request() -> tuple[str | None, list[str], list[str]]:
    """(query, default-graph-uri values, named-graph-uri values) as the protocol passes them."""
    params = request.args
    _check_parameters(request.query_string, "query string")
    if request.method == "POST":
        if request.mimetype in _FORM_TYPES:
            if request.mimetype == "application/x-www-form-urlencoded":
                _check_parameters(request.get_data(cache=True), "form body")
            params = request.form
        elif request.mimetype == "application/sparql-query":
            charset = request.mimetype_params.get("charset", "utf-8").lower()
            if charset not in ("utf-8", "utf8"):
                raise QueryError(415, f"a SPARQL query body must be UTF-8, not {charset}")
            try:
                body = request.get_data().decode("utf-8")
            except UnicodeDecodeError as exc:
                raise QueryError(400, f"the query body is not readable text: {exc}") from exc
            return body, request.args.getlist("default-graph-uri"), request.args.getlist("named-graph-uri")
        else:
            raise QueryError(
                415, "POST a query as application/sparql-query or as a form (application/x-www-form-urlencoded)"
            )
    queries = params.getlist("query")
    if len(queries) > 1:
        raise QueryError(400, "give exactly one query parameter")
    return (queries[0] if queries else None), params.getlist("default-graph-uri"), params.getlist("named-graph-uri")


@bp.route("/sparql", methods=["GET", "POST"])
@cached_view(site_responses)
def endpoint() -> Any:
    """SELECT/ASK as SPARQL results (JSON, XML, CSV, TSV), CONSTRUCT/DESCRIBE as RDF, or HTML.
    The answer to a GET is kept (kg.web.response_cache) unless the query may answer
    differently next time; a kept answer costs no query budget."""
    site = current_site()
    if request.mimetype == "application/x-www-form-urlencoded":
        request.get_data(cache=True)  # keep the raw body for _check_parameters; .form parses the cached copy
    if "update" in request.args or "update" in request.form or request.mimetype == "application/sparql-update":
        return _failure(QueryError(403, "this endpoint is read-only: SPARQL Update is refused"), None)
    try:
        query, defaults, named = _protocol_request()
    except QueryError as exc:
        return _failure(exc, None)
    if query is None:
        offer = negotiate(SERVICE)
        if offer is HTML:
            return _page(site, None, None, None)
        assert offer.rdf is not None
        return rdf_response(service_description(site), offer.rdf)
    if not query.strip():
        return _failure(QueryError(400, "the query is empty"), query)
    if not same_answer_every_time(query):
        do_not_keep()
    budgets: ClientBudgets = current_app.extensions[BUDGETS_KEY]
    client = request.remote_addr or "unknown"
    try:
        budgets.admit(client)
    except OverBudget as exc:
        response = _failure(QueryError(429, exc.message), query)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    solutions, graph = _acceptable(SOLUTIONS), _acceptable(GRAPH_RESULTS)
    formats = {
        "results_format": solutions.name if solutions is not None and solutions is not HTML else None,
        "graph_format": graph.rdf.name if graph is not None and graph.rdf is not None else None,
    }
    started = time.monotonic()
    try:
        outcome = site.queries.run(query, default_graphs=defaults, named_graphs=named, **formats)
    except QueryError as exc:
        return _failure(exc, query)
    finally:
        budgets.release(client, time.monotonic() - started)
    # negotiated before the query ran (a 406 now when nothing was acceptable for its kind)
    if outcome.kind == "graph":
        offer = graph if graph is not None else negotiate(GRAPH_RESULTS)
    else:
        offer = solutions if solutions is not None else negotiate(SOLUTIONS)
    if offer is HTML:
        response = _page(site, query, outcome, None)
    elif offer.rdf is not None:
        response = Response(outcome.graph(offer.rdf), mimetype=offer.rdf.media_type)
    else:
        response = Response(outcome.results(offer.name), mimetype=offer.media_type)
    if outcome.truncated:
        response.headers["X-KG-Truncated"] = "true"
    return response


def _acceptable(offers: tuple[Offer, ...]) -> Offer | None:
    """What this request gets if the query's answer is of the kind offers are for (SOLUTIONS
    for a SELECT or ASK, GRAPH_RESULTS for a CONSTRUCT or DESCRIBE): a format the query worker
    then writes, or the HTML page; None when nothing there is acceptable (the request may
    be for the other kind)."""
    try:
        return negotiate(offers)
    except NotAcceptableError:
        return None


def _failure(exc: QueryError, query: str | None) -> Response:
    """The error as plain text (its status), or on the form for a browser."""
    if prefers_html():
        return _page(current_site(), query, None, exc)
    return _plain(exc.status, exc.message)


def _query_url(query: str, *, external: bool = False, **extra: str) -> str:
    """A GET link to run query (with this request's dataset parameters)."""
    params: list[tuple[str, str]] = [("query", query)]
    for name in ("default-graph-uri", "named-graph-uri"):
        params += [(name, value) for value in request.values.getlist(name)]
    params += list(extra.items())
    return url_for("sparql.endpoint", _external=external) + "?" + urlencode(params)


def _links(query: str) -> dict[str, Any]:
    return {
        "share": _query_url(query, external=True),
        "downloads": {
            kind: [(o.label, _query_url(query, format=o.name)) for o in offers]
            for kind, offers in (("select", SOLUTIONS[:-1]), ("graph", GRAPH_RESULTS[:4]))
        },
    }


def _page(site: Site, query: str | None, outcome: QueryOutcome | None, error: QueryError | None) -> Response:
    linker = Linker(site.base, local_href("").rstrip("/"))
    table: list[list[Any]] = []
    if outcome is not None and outcome.kind == "select":
        table = [[linker.term(t) if t is not None else None for t in row] for row in outcome.rows]
    elif outcome is not None and outcome.kind == "graph":
        table = [[linker.term(t.subject), linker.term(t.predicate), linker.term(t.object)] for t in outcome.triples]
    listed = examples(site.graph("entities"))
    body = render_template(
        "sparql.html",
        title="SPARQL",
        query=query if query is not None else listed[0][1],
        outcome=outcome,
        table=table,
        error=error,
        limit=site.settings.result_limit,
        examples=[(title, url_for("sparql.endpoint", query=text)) for title, text in listed],
        links=_links(query) if query and outcome is not None else None,
        prefixes=PREFIXES,  # the editor's prefix completion (static/kg-sparql.js)
    )
    response = Response(body, status=error.status if error else 200, mimetype="text/html")
    response.headers["Content-Security-Policy"] = SPARQL_PAGE_CSP  # this page runs the query editor
    return response


def service_description(site: Site) -> list[ox.Quad]:
    """A SPARQL 1.1 Service Description of this endpoint."""
    service = ox.NamedNode(request.base_url)

    def sd(local: str) -> ox.NamedNode:
        return ox.NamedNode(str(SD) + local)

    triples = [
        (service, ox.NamedNode(str(RDF.type)), sd("Service")),
        (service, sd("endpoint"), service),
        (service, sd("supportedLanguage"), sd("SPARQL11Query")),
        (service, sd("feature"), sd("UnionDefaultGraph")),
    ]
    if site.settings.service_allowlist.split():
        triples.append((service, sd("feature"), sd("BasicFederatedQuery")))
    return [ox.Quad(s, p, o) for s, p, o in triples]
