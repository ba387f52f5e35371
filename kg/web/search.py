"""/search: entities and articles by name or alias, as a page or as JSON for autocomplete."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template, request

from kg.search import MAX_QUERY_CHARS, Hit
from kg.web.site import current_site, local_href
from kg.web.views import Linker

bp = Blueprint("search", __name__)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def _limit() -> int:
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValueError(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {raw!r}")
    return int(raw)


def _hit_json(hit: Hit, linker: Linker) -> dict[str, Any]:
    return {
        "iri": hit.iri,
        "label": hit.label,
        "type": hit.type,
        "mentions": hit.mentions,
        "matched": hit.matched,
        "href": linker.href(hit.iri),
    }


@bp.route("/search")
@bp.route("/search.json", endpoint="search_json")
def search() -> Response:
    """Prefix search on names, aliases and headlines; JSON for /search.json or Accept: application/json."""
    site = current_site()
    query = request.args.get("q", "")
    wants_json = request.path.endswith(".json") or (
        request.accept_mimetypes.best_match(["text/html", "application/json"], default="text/html")
        == "application/json"
    )
    error = None
    hits: list[Hit] = []
    try:
        limit = _limit()
        if len(query) > MAX_QUERY_CHARS:
            raise ValueError(f"q is {len(query)} characters; the limit is {MAX_QUERY_CHARS}")
        hits = site.search_index().search(query, limit)
    except ValueError as exc:
        error = str(exc)
    linker = Linker(site.base, local_href("").rstrip("/"))
    if wants_json:
        if error:
            response = jsonify({"error": error})
            response.status_code = 400
            return response
        response = jsonify({"query": query, "results": [_hit_json(h, linker) for h in hits]})
        response.vary.add("Accept")
        return response
    json_twin = local_href("search.json") + "?" + urlencode({"q": query})
    body = render_template(
        "search.html",
        title=f"Search: {query}" if query else "Search",
        query=query,
        error=error,
        hits=[(linker.href(h.iri), h) for h in hits],
        alternates=[{"media_type": "application/json", "href": json_twin, "label": "JSON"}],
    )
    return Response(body, status=400 if error else 200, mimetype="text/html")
