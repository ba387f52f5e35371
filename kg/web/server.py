"""Running the app: a production WSGI server (waitress), or one request without a server."""

from __future__ import annotations

import logging

from kg.settings import Settings
from kg.web.app import create_app


def serve(settings: Settings) -> None:
    """Serve until interrupted, with waitress on settings.host:settings.port."""
    from waitress import serve as waitress_serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app(settings)
    print(f"serving {settings.out_dir}/ on http://{settings.host}:{settings.port}/", flush=True)
    waitress_serve(app, host=settings.host, port=settings.port, threads=settings.threads, ident="kg")


def get(settings: Settings, path: str, accept: str = "text/html") -> tuple[int, dict[str, str], bytes]:
    """One GET through the app without a server (for `kg serve --get`)."""
    app = create_app(settings)
    with app.test_client() as client:
        response = client.get(path, headers={"Accept": accept})
        return response.status_code, dict(response.headers), response.get_data()
