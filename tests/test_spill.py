"""Bodies kept on disk during a build (kg.spill)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.spill import Picked, TextSpill


def test_spill_reads_back_each_text_and_slices(tmp_path: Path) -> None:
    texts = ["first body", "", "Zürich — naïve ☃", "x" * 100_000]
    with TextSpill(tmp_path) as spill:
        assert [spill.append(t) for t in texts] == [0, 1, 2, 3]
        assert list(spill) == texts
        assert spill[2] == "Zürich — naïve ☃"
        assert spill[-1] == texts[-1]
        assert spill[1:3] == texts[1:3]
        assert len(spill) == 4
        with pytest.raises(IndexError):
            spill[4]
    assert list(tmp_path.iterdir()) == []  # an unnamed file: nothing left behind


def test_picked_reads_the_chosen_positions_lazily(tmp_path: Path) -> None:
    with TextSpill(tmp_path) as spill:
        for t in ("a", "b", "c", "d"):
            spill.append(t)
        picked = Picked(spill, [3, 1])
        assert len(picked) == 2
        assert picked[0] == "d"
        assert picked[0:2] == ["d", "b"]
