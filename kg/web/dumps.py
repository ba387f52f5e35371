"""The dumps: a listing, downloads of the known files only, and the VoID description."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, abort, jsonify, redirect, render_template, send_from_directory

from kg.dumps import CHECKSUM_FILE, VOID_FILE
from kg.web.negotiation import DATA, HTML, LISTING, Offer, negotiate
from kg.web.rdf import rdf_response
from kg.web.site import Site, current_site, local_href

bp = Blueprint("dumps", __name__)

#: Files served besides the dumps listed in build.json, with their media types.
EXTRA_FILES = {VOID_FILE: "text/turtle", CHECKSUM_FILE: "text/plain"}


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
    sums = _checksums(site)
    out: dict[str, Download] = {}
    listed = [(d["name"], d["media_type"], d.get("triples")) for d in site.manifest.get("dumps", [])]
    for name, media_type, triples in [*listed, *((n, m, None) for n, m in EXTRA_FILES.items())]:
        path = site.out_dir / name
        if "/" in name or "\\" in name or not path.is_file():
            continue
        sha = sums.get(name) or hashlib.sha256(path.read_bytes()).hexdigest()
        out[name] = Download(name, media_type, path.stat().st_size, sha, triples, local_href(f"dumps/{name}"))
    return out


def _checksums(site: Site) -> dict[str, str]:
    path = site.out_dir / CHECKSUM_FILE
    if not path.is_file():
        return {}
    pairs = (line.split(None, 1) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {name.strip().lstrip("*"): digest for digest, name in pairs}


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
    quads = site.store.quads_for(None, ox.NamedNode(site.graph("void")))
    return rdf_response(quads, offer.rdf)
