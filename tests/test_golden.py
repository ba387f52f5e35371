"""Golden folders: each input page maps to exactly the expected metadata graph."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from rdflib import Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from kg.build import build
from kg.extract.entities import SpacyExtractor
from kg.iris import Minter, key_for_file
from kg.settings import Settings
from tests.conftest import SEED_EPOCH
from tests.golden_cases import cases, metadata_subgraph


def _build_case(case: Path, tmp_path: Path, extractor: SpacyExtractor) -> Graph:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(case / "input.txt", raw / f"{case.name}.txt")
    os.environ["SOURCE_DATE_EPOCH"] = SEED_EPOCH
    try:
        build(Settings(raw_dir=raw, out_dir=tmp_path / "out"), extractor=extractor)
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]
    report = json.loads((tmp_path / "out" / "validation.json").read_text(encoding="utf-8"))
    assert report["conforms"], report["results"]  # every golden case is a valid build
    graph = Graph()
    graph.parse(tmp_path / "out" / "kg.nt", format="nt")
    return graph


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.name)
def test_golden_metadata(case: Path, tmp_path: Path, extractor: SpacyExtractor) -> None:
    graph = _build_case(case, tmp_path, extractor)
    article = Minter(Settings().base_iri).article(key_for_file(f"{case.name}.txt"))
    got = metadata_subgraph(graph, article)
    expected = Graph().parse(case / "expected.ttl", format="turtle")
    if not isomorphic(got, expected):
        _, only_got, only_expected = graph_diff(to_isomorphic(got), to_isomorphic(expected))
        pytest.fail(
            "metadata differs from golden\n--- only in build:\n"
            + only_got.serialize(format="nt")
            + "--- only in expected:\n"
            + only_expected.serialize(format="nt")
        )


@pytest.mark.parametrize("case", cases(), ids=lambda p: p.name)
def test_golden_body(case: Path, tmp_path: Path, extractor: SpacyExtractor) -> None:
    """articleBody is exactly body.txt: markup and web boilerplate removed."""
    from kg.namespaces import SCHEMA

    graph = _build_case(case, tmp_path, extractor)
    article = Minter(Settings().base_iri).article(key_for_file(f"{case.name}.txt"))
    body = str(graph.value(article, SCHEMA.articleBody))
    assert body == (case / "body.txt").read_text(encoding="utf-8")
