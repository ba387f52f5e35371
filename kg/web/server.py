"""Running the app: the waitress production WSGI server, or one request without any server."""

from __future__ import annotations

import gc
import logging
import sys
import threading
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

from kg.build import MANIFEST_FILE
from kg.dumps import check_sizes
from kg.settings import Settings, load_settings
from kg.web.app import create_app
from kg.web.site import EXTENSION_KEY, read_manifest


def make_server(settings: Settings) -> Any:
    """A bound (not yet running) waitress server for the app on settings.host:settings.port,
    with its SPARQL query workers started. A build whose files are missing or of the wrong
    size is refused; their SHA-256 is then checked in the background (a mismatch turns
    /health to 503), so a large build starts in seconds."""
    manifest = read_manifest(settings.out_dir / MANIFEST_FILE)
    sizes = {d["name"]: d["size"] for d in manifest.get("dumps", []) if isinstance(d, dict) and "size" in d}
    problems = check_sizes(settings.out_dir, sizes)
    if problems:
        raise OSError(
            f"{settings.out_dir} does not match its SHA256SUMS: {'; '.join(problems)} (rebuild with kg build)"
        )
    app = create_app(settings)
    site = app.extensions[EXTENSION_KEY].site
    site.queries.start()
    site.verify_in_background()
    # what was made at start (modules, templates, the summaries) stays for the server's life:
    # moved out of the collector's way, full collections stop walking it during requests
    # (p99 of the page of an entity 100,000 articles mention: 38-41 ms -> 29-32 ms)
    gc.collect()
    gc.freeze()
    return create_server(app, host=settings.host, port=settings.port, threads=settings.threads, ident="kg")


def urls(server: Any) -> list[str]:
    """The URLs a server listens on (port 0 resolved to the real port)."""
    listening = getattr(server, "effective_listen", None) or [(server.effective_host, server.effective_port)]
    return [
        f"http://[{host}]:{port}/" if ":" in str(host) else f"http://{host}:{port}/" for host, port, *_ in listening
    ]


def stop(server: Any, thread: threading.Thread | None = None, timeout: float = 10.0) -> None:
    """Stop a server whose run() loop is in another thread: the loop closes every socket and
    returns; then the worker threads are shut down."""
    server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
    if thread is not None:
        thread.join(timeout)
    server.task_dispatcher.shutdown()


def serve(settings: Settings) -> None:
    """Serve until interrupted (Ctrl-C), printing the URL."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    server = make_server(settings)
    for url in urls(server):
        print(f"serving on {url}", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.task_dispatcher.shutdown()


def get(settings: Settings, path: str, accept: str = "text/html") -> tuple[int, dict[str, str], bytes]:
    """One GET of path (with its query string) through the app, without a server."""
    app = create_app(settings)
    with app.test_client() as client:
        response = client.get(path, headers={"Accept": accept})
        return response.status_code, dict(response.headers), response.get_data()


if __name__ == "__main__":  # python -m kg.web.server: serve with kg.toml / KG_* settings
    try:
        serve(load_settings())
    except (FileNotFoundError, OSError) as exc:
        print(f"kg.web.server: error: {exc}", file=sys.stderr)
        sys.exit(2)
