"""The application factory: one Flask app per published build."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from pathlib import Path

from flask import Flask, Response, current_app, g, render_template, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from kg.budget import ClientBudgets
from kg.settings import Settings
from kg.store import RemoteStoreError
from kg.web.access_log import AccessLog
from kg.web.caching import cache_and_compress, compress_static
from kg.web.negotiation import NotAcceptableError, prefers_html
from kg.web.response_cache import KeptAnswers, compress, remember
from kg.web.site import BUDGETS_KEY, EXTENSION_KEY, LiveSite, current_site

log = logging.getLogger("kg.web")
#: app.extensions key of the app's AccessLog (None when access_log is off).
ACCESS_LOG_KEY = "kg.access_log"

#: Largest request body accepted (a SPARQL query by POST), in bytes.
MAX_BODY = 2_000_000
#: Pages need no script, no frames and nothing from other hosts.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
#: The /sparql page alone also runs scripts: the vendored query editor (static/yasgui/) and
#: static/kg-sparql.js, from this host only; nothing inline, no eval, and still no connections.
SPARQL_PAGE_CSP = CSP + "; script-src 'self'"


def create_app(settings: Settings) -> Flask:
    """A Flask app serving the build in settings.out_dir (its store opened read-only), and
    the next build published there once it is complete."""
    live = LiveSite(settings, settings.out_dir.absolute())

    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=max(MAX_BODY, 4 * settings.max_query_length))
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION_KEY] = live
    app.extensions[BUDGETS_KEY] = ClientBudgets(settings.client_queries, settings.client_query_seconds)

    from kg.web import dumps, pages, search, sparql

    app.register_blueprint(sparql.bp)
    app.register_blueprint(dumps.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(pages.bp)  # its catch-all resource route ranks below every other rule
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(RemoteStoreError, _store_unavailable)
    app.register_error_handler(Exception, _unexpected_error)
    _compress_static_files(app)
    app.before_request(_start_timer)
    app.after_request(_common_headers)
    access_log = AccessLog(log) if settings.access_log else None
    app.extensions[ACCESS_LOG_KEY] = access_log
    app.wsgi_app = KeptAnswers(app.wsgi_app, lambda environ: live.for_request(environ).responses, access_log)  # type: ignore[method-assign]
    return app


def _compress_static_files(app: Flask) -> None:
    """Wrap Flask's static view so large text files go out gzipped (kg.web.caching)."""
    serve_static = app.view_functions["static"]
    folder = Path(app.static_folder or "")

    def static(filename: str) -> Response:
        response = serve_static(filename=filename)
        assert isinstance(response, Response)
        return compress_static(response, request, folder / filename)

    app.view_functions["static"] = static


def _start_timer() -> None:
    g.kg_started = time.perf_counter()


def _store_unavailable(exc: RemoteStoreError) -> Response:
    """The remote SPARQL store failed a page's query: 502, details in the log only."""
    log.warning("the remote store failed on %s %s: %s", request.method, request.path, exc)
    return error_page(502, "Bad Gateway", "the SPARQL store behind this site did not answer (see the server log)")


def _unexpected_error(exc: Exception) -> Response:
    """A bug or a broken build file: logged with its traceback, never shown to the client."""
    log.exception("unexpected error on %s %s", request.method, request.path)
    return error_page(500, "Internal Server Error", "internal error (the server log has the details)")


def _common_headers(response: Response) -> Response:
    """Vary: Accept on every response; open CORS (a public read-only dataset); page hardening;
    validators, 304 and gzip (kg.web.caching); answers kept (kg.web.response_cache)."""
    response.vary.add("Accept")
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
    response = cache_and_compress(response, request, _build_time(), keep=remember, compress=compress)
    access_log = current_app.extensions[ACCESS_LOG_KEY]
    if access_log is not None:
        elapsed = 1000 * (time.perf_counter() - g.get("kg_started", time.perf_counter()))
        access_log(f"{request.method} {request.full_path.rstrip('?')} {response.status_code} {elapsed:.1f}ms")
    return response


def _build_time() -> datetime | None:
    """When the served build finished (build.json), for Last-Modified."""
    finished = current_site().manifest.get("finished")
    try:
        return datetime.fromisoformat(str(finished).replace("Z", "+00:00")) if finished else None
    except ValueError:
        return None


def error_page(status: int, title: str, message: str) -> Response:
    """An error as a small HTML page for browsers, as plain text otherwise."""
    if prefers_html():
        body = render_template("error.html", status=status, title=title, message=message)
        return Response(body, status=status, mimetype="text/html")
    return Response(f"{status} {title}: {message}\n", status=status, mimetype="text/plain")


def _http_error(exc: HTTPException) -> Response:
    if isinstance(exc, NotAcceptableError):
        return exc.get_response()
    response = error_page(exc.code or 500, exc.name, exc.description or exc.name)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response
