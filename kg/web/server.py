"""Running the app: a production WSGI server (waitress, pure Python in one process, or
granian, Rust HTTP in one or more worker processes), or one request without any server."""

from __future__ import annotations

import gc
import logging
import os
import signal
import socket
import sys
import threading
from typing import Any

from flask import Flask
from waitress import wasyncore
from waitress.server import create_server

from kg.build import MANIFEST_FILE
from kg.dumps import check_sizes
from kg.settings import Settings, load_settings, settings_from_json, settings_to_json
from kg.store import open_store
from kg.web.app import ACCESS_LOG_KEY, create_app
from kg.web.site import EXTENSION_KEY, read_manifest

LOG_FORMAT = "%(asctime)s %(name)s %(message)s"


#: Largest request head (request line and headers) granian accepts, in bytes.
MAX_HEADER_BYTES = 65_536
#: Seconds a granian worker has to finish its requests when kg serve stops; then it is killed.
WORKER_STOP_SECONDS = 5
#: The variable that hands the resolved settings to granian's worker processes.
SETTINGS_VARIABLE = "KG_SERVE_SETTINGS"


def check_build(settings: Settings) -> None:
    """Refuse a build whose files are missing or of the wrong size (OSError); their SHA-256
    is checked later, in the background, so a large build starts in seconds."""
    manifest = read_manifest(settings.out_dir / MANIFEST_FILE)
    sizes = {d["name"]: d["size"] for d in manifest.get("dumps", []) if isinstance(d, dict) and "size" in d}
    problems = check_sizes(settings.out_dir, sizes)
    if problems:
        raise OSError(
            f"{settings.out_dir} does not match its SHA256SUMS: {'; '.join(problems)} (rebuild with kg build)"
        )


def serving_app(settings: Settings) -> Flask:
    """The app with its SPARQL query workers started, its checksums being verified in the
    background (a mismatch turns /health to 503) and its search index being made."""
    app = create_app(settings)
    access_log = app.extensions[ACCESS_LOG_KEY]
    if access_log is not None:
        access_log.write_to(sys.stderr)  # in batches: a line through logging costs more than a kept answer
    site = app.extensions[EXTENSION_KEY].site
    site.queries.start()
    site.verify_in_background()
    site.index_in_background()
    # what was made at start (modules, templates, the summaries) stays for the server's life:
    # moved out of the collector's way, full collections stop walking it during requests
    # (p99 of the page of an entity 100,000 articles mention: 38-41 ms -> 29-32 ms)
    gc.collect()
    gc.freeze()
    return app


def make_server(settings: Settings) -> Any:
    """A bound (not yet running) waitress server for the app on settings.host:settings.port.
    A build whose files are missing or of the wrong size is refused."""
    check_build(settings)
    app = serving_app(settings)
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
    """Serve until interrupted (Ctrl-C or SIGTERM), printing the URL."""
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    if settings.server == "granian":
        serve_granian(settings)
        return
    server = make_server(settings)
    for url in urls(server):
        print(f"serving on {url}", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.task_dispatcher.shutdown()


def serve_granian(settings: Settings) -> None:
    """Serve with granian: settings.workers processes, each running the app (its own query
    workers, response cache and client budgets) with settings.threads threads."""
    try:
        from granian.constants import Interfaces
        from granian.http import HTTP1Settings
        from granian.log import LogLevels
        from granian.server import Server
    except ImportError as exc:
        raise OSError(
            "server granian needs the granian package (pip install granian), or use --server waitress"
        ) from exc
    check_build(settings)
    open_store(settings, settings.out_dir).close()  # a build without a store is reported here, not by a worker
    port = _port_to_listen_on(settings.host, settings.port)
    settings = settings.replace(port=port)
    os.environ[SETTINGS_VARIABLE] = settings_to_json(settings)
    server = Server(
        "kg.web.server:granian_app",
        address=settings.host,
        port=port,
        interface=Interfaces.WSGI,
        workers=settings.workers,
        blocking_threads=settings.threads,
        factory=True,
        websockets=False,
        http1_settings=HTTP1Settings(max_buffer_size=MAX_HEADER_BYTES),  # larger request heads: 431
        log_level=LogLevels.warning,
        workers_kill_timeout=WORKER_STOP_SECONDS,
    )
    logging.getLogger("_granian").addFilter(_not_the_thread_count_warning)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(f"serving on http://{host}:{port}/ (granian, {settings.workers} worker process(es))", flush=True)
    server.serve()


def _not_the_thread_count_warning(record: logging.LogRecord) -> bool:
    """Drop granian's warning that more threads than cores is "quite high": kg's threads
    mostly wait (on the store, on a query worker), as waitress's do."""
    return "Python threads, which seems quite high" not in record.getMessage()


def granian_app() -> Flask:
    """The app in a granian worker process, from the settings kg serve resolved. Until the
    worker serves, a SIGTERM or SIGINT stops it at once: the handlers it inherited from the
    main process would only set a flag in this copy of it, and the worker would then serve
    and wait for a stop that had already come (kg serve stopped during start-up hung)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    return serving_app(settings_from_json(os.environ[SETTINGS_VARIABLE]))


def _port_to_listen_on(host: str, port: int) -> int:
    """port (a free one for 0), refused with OSError when something already listens there:
    granian's workers bind with SO_REUSEPORT, so a second kg serve on a port would
    otherwise quietly share it with the first."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port in TIME_WAIT is free
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
        return int(sock.getsockname()[1])


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
