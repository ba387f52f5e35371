"""The web framework alone: a Flask app that answers every GET with a constant, served by
granian as `kg serve` serves kg (WSGI, the same blocking threads). The throughput stage runs
wrk against it beside kg and Oxigraph's server: what any response Flask computes per request
can reach on this machine, whatever kg's own code does."""

from __future__ import annotations

import subprocess
import sys

from flask import Flask, Response

from bench.soak import ROOT, _free_port, _wait

BODY = b"ok\n"


def create_floor_app() -> Flask:
    """One route answering "ok": routing, a request context and a response, nothing else."""
    app = Flask(__name__)

    @app.get("/<path:anything>")
    def constant(anything: str) -> Response:
        return Response(BODY, mimetype="text/plain")

    return app


def serve_floor(workers: int, threads: int) -> tuple[subprocess.Popen[bytes], str]:
    """granian serving create_floor_app on a free port on 127.0.0.1: (process, URL)."""
    port = _free_port()
    command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--factory", "--no-ws"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    command += ["--blocking-threads", str(threads), "--log-level", "error", "bench.framework_floor:create_floor_app"]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    _wait(url + "/health")
    return server, url
