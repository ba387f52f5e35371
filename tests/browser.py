"""Headless Chromium (Debian package `chromium`) for page tests and screenshots.

`python -m tests.browser OUT_DIR` (or `make screenshots`) serves OUT_DIR with a real
`kg serve` and saves desktop and phone screenshots of the main pages under
OUT_DIR/screenshots/."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path

#: (name, path) of the pages every build has; the article and entity come from the seeds.
PAGES = [
    ("home", "/"),
    ("article", "/article/000_45883e71d61e1347"),
    ("entity", "/person/rand-paul"),
    ("search", "/search?q=mos"),
    ("sparql", "/sparql"),
]
SIZES = {"desktop": (1280, 1000), "phone": (390, 844)}


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _run(arguments: list[str]) -> subprocess.CompletedProcess[bytes]:
    binary = chromium()
    if binary is None:
        raise RuntimeError("no chromium on PATH (Debian: apt-get install chromium)")
    common = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run"]
    return subprocess.run([binary, *common, *arguments], capture_output=True, timeout=90, check=False)


def screenshot(url: str, path: Path, width: int, height: int) -> None:
    """A PNG of the page as Chromium renders it at width x height."""
    path.parent.mkdir(parents=True, exist_ok=True)
    run = _run([f"--window-size={width},{height}", f"--screenshot={path}", url])
    if not path.is_file():
        raise RuntimeError(f"chromium wrote no screenshot of {url}: {run.stderr.decode(errors='replace')[-500:]}")


def dump_dom(url: str) -> str:
    """The DOM after Chromium has loaded the page, as HTML."""
    return _run(["--dump-dom", url]).stdout.decode("utf-8", errors="replace")


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    data = path.read_bytes()[:24]
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def main() -> None:
    from tests.conftest import kg_serve

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "out")
    folder = out / "screenshots"
    with kg_serve(out) as url:
        for name, path in PAGES:
            for size, (width, height) in SIZES.items():
                target = folder / f"{name}-{size}.png"
                screenshot(url + path, target, width, height)
                print(target)


if __name__ == "__main__":
    main()
