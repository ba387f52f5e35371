"""The Flask application factory."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from kg.settings import Settings
from kg.store.oxigraph import STORE_DIR, OxigraphStore

log = logging.getLogger("kg.web")

#: Largest request body accepted (a SPARQL query by POST), in bytes.
MAX_CONTENT_LENGTH = 1_000_000
CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"


def create_app(settings: Settings) -> Flask:
    """A Flask app serving the build in settings.out_dir (its store is opened read-only)."""
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH, JSON_SORT_KEYS=False)
    out = Path(settings.out_dir)
    app.extensions["kg.settings"] = settings
    app.extensions["kg.store"] = OxigraphStore(out / STORE_DIR)
    manifest_path = out / "build.json"
    app.extensions["kg.manifest"] = (
        json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    )

    from kg.web import dumps, pages, sparql

    app.register_blueprint(sparql.bp)
    app.register_blueprint(dumps.bp)
    app.register_blueprint(pages.bp)  # last: its catch-all resource route

    @app.before_request
    def _start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", CSP)
        duration = 1000 * (time.perf_counter() - g.get("started", time.perf_counter()))
        log.info(
            "%s %s %s %d %.1fms",
            request.remote_addr,
            request.method,
            request.full_path.rstrip("?"),
            response.status_code,
            duration,
        )
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        return pages.error_response(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        log.exception("unexpected error")
        return pages.error_response(500, "internal error (see the server log)")

    return app


def settings_of(app: Flask) -> Settings:
    return app.extensions["kg.settings"]


def store_of(app: Flask) -> OxigraphStore:
    return app.extensions["kg.store"]


def manifest_of(app: Flask) -> dict[str, Any]:
    return app.extensions["kg.manifest"]
