"""Comunica (`@comunica/query-sparql` from the npm registry), a real SPARQL client of the
JavaScript ecosystem, queries a live `kg serve` as a SPARQL endpoint source."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, kg_serve

#: Where .ci/run installs Comunica (npm install --prefix .ci/node); or set KG_COMUNICA.
COMUNICA = Path(os.environ.get("KG_COMUNICA", ROOT / ".ci" / "node" / "node_modules" / ".bin" / "comunica-sparql"))

pytestmark = pytest.mark.skipif(
    not COMUNICA.exists() and not os.environ.get("CI"),
    reason="needs Comunica: npm install --prefix .ci/node @comunica/query-sparql@4.5.0 (.ci/run does)",
)


@pytest.fixture(scope="module")
def endpoint(built: Path) -> Iterator[str]:
    with kg_serve(built) as url:
        yield url + "/sparql"


def _comunica(endpoint: str, query: str, media_type: str) -> str:
    assert shutil.which("node"), "Comunica needs Node.js"
    run = subprocess.run(
        [str(COMUNICA), f"sparql@{endpoint}", query, "-t", media_type],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


def test_select(endpoint: str) -> None:
    query = "SELECT ?h WHERE { ?a a <http://schema.org/NewsArticle> ; <http://schema.org/headline> ?h } ORDER BY ?h"
    answer = json.loads(_comunica(endpoint, query, "application/sparql-results+json"))
    headlines = [b["h"]["value"] for b in answer["results"]["bindings"]]
    assert headlines == [
        "Sen. Rand Paul goes to Moscow and invites Russians to Washington in unofficial bid to boost ties",
        "Sen. Rand Paul invites top Russians to U.S. as they claim no election interference",
    ]


def test_ask(endpoint: str) -> None:
    query = 'ASK { ?p <http://schema.org/name> "Rand Paul" }'
    assert json.loads(_comunica(endpoint, query, "application/sparql-results+json"))["boolean"] is True


def test_construct(endpoint: str) -> None:
    query = (
        "CONSTRUCT { ?p <http://schema.org/name> ?n } WHERE { ?p a <http://schema.org/Person> ; "
        "<http://schema.org/name> ?n } "
    )
    turtle = _comunica(endpoint, query, "text/turtle")
    assert '"Rand Paul"' in turtle and "<http://127.0.0.1:8000/person/rand-paul>" in turtle
