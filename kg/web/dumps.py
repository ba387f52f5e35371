"""Dump downloads, the dump listing, the VoID description and the health check."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, jsonify, render_template, request, send_from_directory

from kg.dumps import CHECKSUM_FILE, DUMP_FILES, VOID_FILE
from kg.formats import BY_NAME
from kg.web.app import manifest_of, settings_of
from kg.web.negotiation import HTML, RESOURCE_TYPES, negotiate
from kg.web.rendering import serialize

bp = Blueprint("dumps", __name__)

#: The only files /dumps/ serves, with their media types.
SERVED = {
    **{name: BY_NAME[fmt].media_type for name, fmt in DUMP_FILES.items()},
    VOID_FILE: "text/turtle",
    CHECKSUM_FILE: "text/plain",
}


@bp.route("/dumps/")
def listing() -> Response:
    """Each dump with media type, size, sha256 and triple count (HTML or JSON)."""
    dumps = manifest_of(current_app).get("dumps", [])
    if request.accept_mimetypes.best_match([HTML, "application/json"]) == "application/json":
        response = jsonify(dumps)
    else:
        response = Response(render_template("dumps.html", dumps=dumps), mimetype=HTML)
    response.headers["Vary"] = "Accept"
    return response


@bp.route("/dumps/<name>", methods=["GET", "HEAD"])
def download(name: str) -> Response:
    """One dump file; anything not in the fixed list is 404 (no path is ever joined)."""
    if name not in SERVED:
        return Response(f"404: no dump called {name!r}\n", 404, mimetype="text/plain")
    out = Path(settings_of(current_app).out_dir).absolute()
    response = send_from_directory(out, name, mimetype=SERVED[name], conditional=True, etag=True, as_attachment=False)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/.well-known/void")
def void() -> Response:
    """The VoID + DCAT description, Turtle by default, other RDF formats by negotiation."""
    offered = tuple(t for t in RESOURCE_TYPES if t != HTML)
    choice = negotiate(request.accept_mimetypes, offered, request.args.get("format"))
    if choice.media_type is None:
        return Response(f"406: {choice.error}. Offered: {', '.join(offered)}\n", 406, mimetype="text/plain")
    path = Path(settings_of(current_app).out_dir) / VOID_FILE
    triples = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    response = Response(serialize(triples, choice.media_type), mimetype=choice.media_type)
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/health")
def health() -> Response:
    """Liveness: the build the server is serving."""
    manifest = manifest_of(current_app)
    return jsonify({"status": "ok", "build": manifest.get("build"), "articles": manifest.get("articles")})
