"""Texts kept on disk instead of in memory: a build appends every article body once and
reads each back when it needs it, so its memory does not grow with the bodies of the corpus."""

from __future__ import annotations

import os
import tempfile
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import overload


class TextSpill(Sequence[str]):
    """An append-only list of texts in an unnamed temporary file (gone when closed or when
    the process ends); spill[i] reads text i back, spill[i:j] a list of them."""

    def __init__(self, folder: Path | None = None) -> None:
        self._file = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 (closed by close())
        self._ends = array("q")

    def append(self, text: str) -> int:
        """Keep text; return its index."""
        self._file.seek(0, os.SEEK_END)
        self._file.write(text.encode("utf-8"))
        self._ends.append(self._file.tell())
        return len(self._ends) - 1

    def _read(self, index: int) -> str:
        start = self._ends[index - 1] if index > 0 else 0
        self._file.flush()
        return os.pread(self._file.fileno(), self._ends[index] - start, start).decode("utf-8")

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._read(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._read(index)

    def __len__(self) -> int:
        return len(self._ends)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> TextSpill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Picked(Sequence[str]):
    """The texts of a sequence at the given positions, read only when asked for."""

    def __init__(self, texts: Sequence[str], positions: Sequence[int]) -> None:
        self._texts = texts
        self._positions = positions

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._texts[p] for p in self._positions[index]]
        return self._texts[self._positions[index]]

    def __len__(self) -> int:
        return len(self._positions)
