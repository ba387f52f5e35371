"""The dumps: a listing, downloads of the known files only, and the VoID description."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, send_from_directory

from kg.dumps import CHECKSUM_FILE, GZIP_MEDIA_TYPE, VOID_FILE, file_sha256, read_checksums
from kg.web.negotiation import DATA, HTML, LISTING, Offer, negotiate
from kg.web.rdf import rdf_response
from kg.web.response_cache import cached_view
from kg.web.site import Site, current_site, local_href, site_responses

bp = Blueprint("dumps", __name__)

#: Files served besides the dumps listed in build.json, with their media types.
EXTRA_FILES = {
    VOID_FILE: "text/turtle",
    CHECKSUM_FILE: "text/plain",
    "validation.ttl": "text/turtle",
    "validation.json": "application/json",
}


@dataclass(frozen=True)
class Download:
    """A file of the build offered for download."""

    name: str
    media_type: str
    size: int
    sha256: str
    triples: int | None
    href: str


def downloads(site: Site) -> dict[str, Download]:
    """name -> Download for the dumps of build.json, void.ttl and SHA256SUMS that exist."""
    sums = read_checksums(site.out_dir)
    out: dict[str, Download] = {}
    listed = [
        (d["name"], GZIP_MEDIA_TYPE if d.get("compressed") else d["media_type"], d.get("triples"))
        for d in site.manifest.get("dumps", [])
    ]
    for name, media_type, triples in [*listed, *((n, m, None) for n, m in EXTRA_FILES.items())]:
        path = site.out_dir / name
        if "/" in name or "\\" in name or not path.is_file():
            continue
        sha = sums.get(name) or file_sha256(path)
        out[name] = Download(name, media_type, path.stat().st_size, sha, triples, local_href(f"dumps/{name}"))
    return out


@bp.route("/dumps/")
def listing() -> Any:
    """The downloadable files with size, SHA-256 and media type (HTML or JSON)."""
    site = current_site()
    files = list(downloads(site).values())
    if negotiate(LISTING) is HTML:
        return render_template("dumps.html", title="Dumps", files=files, manifest=site.manifest)
    return jsonify({"build": site.manifest.get("build"), "files": [asdict(f) for f in files]})


@bp.route("/dumps/<name>")
def download(name: str) -> Response:
    """One known file of the build; any other name (or path trick) is a 404."""
    site = current_site()
    known = downloads(site).get(name)
    if known is None:
        abort(404, f"No dump file named {name!r}; see /dumps/.")
    return send_from_directory(site.out_dir, known.name, mimetype=known.media_type)


@bp.route("/.well-known/void")
def void() -> Any:
    """The VoID description: the Turtle file, other formats from the store, HTML as /dataset."""
    return void_response(negotiate(DATA))


def void_response(offer: Offer) -> Any:
    """The dataset description in offer's format (HTML: a redirect to the /dataset page)."""
    site = current_site()
    if offer is HTML:
        return redirect(local_href("dataset"), code=303)
    assert offer.rdf is not None
    if offer.name == "turtle" and (site.out_dir / VOID_FILE).is_file():
        return send_from_directory(site.out_dir, VOID_FILE, mimetype=offer.media_type)
    quads = site.store.match(graph=ox.NamedNode(site.graph("void")))
    return rdf_response(quads, offer.rdf)


#: Results the validation page lists (violations first); the reports have them all.
VALIDATION_CAP = 1000
#: Distinct messages the page counts.
MESSAGES_CAP = 50


@bp.route("/validation")
@cached_view(site_responses)
def validation() -> Any:
    """The SHACL report of the served build: a page, Turtle (sh:ValidationReport) or JSON."""
    site = current_site()
    wanted = request.args.get("format", "").lower()
    choice = {"turtle": "text/turtle", "ttl": "text/turtle", "json": "application/json", "html": "text/html"}.get(
        wanted
    ) or request.accept_mimetypes.best_match(["text/html", "text/turtle", "application/json"], default="text/html")
    if wanted and wanted not in ("turtle", "ttl", "json", "html"):
        abort(406, f"format={wanted} is not offered here; use html, turtle or json")
    name = {"text/turtle": "validation.ttl", "application/json": "validation.json"}.get(choice or "")
    path = site.out_dir / (name or "validation.json")
    if not path.is_file():
        abort(404, "This build has no validation report (it was built without validation).")
    if name is not None:
        response = send_from_directory(site.out_dir, name, mimetype=choice)
        response.vary.add("Accept")
        return response
    report = json.loads(path.read_text(encoding="utf-8"))
    results: list[dict[str, Any]] = report.get("results", [])
    rank = {"violation": 0, "warning": 1, "info": 2}
    shown = sorted(results, key=lambda r: rank.get(r.get("severity", ""), 3))[:VALIDATION_CAP]
    by_file: dict[str, list[dict[str, Any]]] = {}
    for result in shown:
        by_file.setdefault(result.get("file") or "(not from a raw file)", []).append(result)
    said = Counter((r.get("severity", ""), r.get("message", "")) for r in results)
    messages = sorted(said.items(), key=lambda item: (rank.get(item[0][0], 3), -item[1], item[0][1]))
    return render_template(
        "validation.html",
        title="Validation",
        report=report,
        by_file=sorted(by_file.items()),
        messages=messages[:MESSAGES_CAP],
        more_messages=max(0, len(messages) - MESSAGES_CAP),
        shown=len(shown),
        hidden=len(results) - len(shown),
        alternates=[
            {"media_type": "text/turtle", "href": local_href("validation") + "?format=turtle", "label": "Turtle"},
            {"media_type": "application/json", "href": local_href("validation") + "?format=json", "label": "JSON"},
        ],
    )
