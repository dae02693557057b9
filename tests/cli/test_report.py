"""``imu report`` and ``imu analyze --report``: one self-contained page, rendered in a real
headless Chromium at a phone-sized and a desktop-sized viewport; the layout is measured in the
page and the screenshots are checked where the charts and tables are."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from cdp import Browser
from history_factory import simulate
from matplotlib.image import imread

from imu.cli import main

PHONE = (390, 844)  # an iPhone-sized viewport, CSS pixels
DESKTOP = (1280, 900)
#: set to a folder to keep the screenshots there (report_phone.png, report_desktop.png)
SCREENSHOTS_ENV = "IMU_SCREENSHOTS_DIR"

# the page's layout once loaded, in page coordinates
_MEASURE = """(() => {
  const box = e => { const r = e.getBoundingClientRect();
    return {x: r.left, y: r.top + scrollY, w: r.width, h: r.height}; };
  return {
    width: innerWidth, scroll_width: document.documentElement.scrollWidth,
    images: [...document.images].map(i => ({...box(i), ok: i.complete && i.naturalWidth > 0,
      scroller: box(i.parentElement)})),
    tables: [...document.querySelectorAll("table")].map(t => ({...box(t),
      scroller: box(t.parentElement), rows: t.rows.length})),
  };
})()"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium here (Debian: apt-get install chromium; .ci/run installs it)")


def _busy(image: np.ndarray, box: dict[str, float]) -> tuple[float, int]:
    """Share of non-white pixels in ``box``, and how many distinct colours it holds."""
    x0, y0 = int(box["x"]), int(box["y"])
    region = image[y0 : y0 + int(box["h"]), x0 : x0 + int(box["w"])]
    assert region.size, box
    ink = float((region.min(axis=2) < 0.9).mean())
    colours = len(np.unique((region * 15).round().reshape(-1, 3), axis=0))
    return ink, colours


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sessions of the same exercise; the second analysed with --report."""
    folder = tmp_path_factory.mktemp("report")
    db = ["--db", str(folder / "history.sqlite")]
    first = simulate(folder / "mon.csv", seed=41, start="2026-11-16", reps=5)
    second = simulate(folder / "wed.csv", seed=42, start="2026-11-18", reps=6)
    assert main(["analyze", str(first), "--out", str(folder / "o1"), "--no-plots", *db]) == 0
    assert (
        main(["analyze", str(second), "--out", str(folder / "o2"), "--no-plots", "--report", *db])
        == 0
    )
    return folder / "o2" / "report.html"


def test_report_is_self_contained(report: Path) -> None:
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'name="viewport"' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing from a network
    assert "<script" not in page
    assert page.count('src="data:image/svg+xml;base64,') >= 2 * 2 + 1  # 2 sets × 2, the trend
    assert "Trend: the last 2 reverse-hyper sessions" in page
    assert "flags" in page and "Notes" in page
    assert 'class="evidence"' in page  # the simulated sessions have faulty reps


def test_report_command_from_session_and_file(
    report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    out = tmp_path / "r.html"
    db = ["--db", str(report.parents[1] / "history.sqlite")]
    assert main(["report", "wed.csv", "--out", str(out), *db]) == 0  # by file name in the history
    assert "session 2" in capsys.readouterr().out
    assert out.read_text().count("<h3 ") == report.read_text().count("<h3 ")
    assert main(["report", "no-such-session", "--out", str(out), *db]) == 1
    assert "no session 'no-such-session'" in capsys.readouterr().err
    (tmp_path / "a-file").write_text("x")  # an --out that cannot be made: one line, before work
    assert main(["report", "wed.csv", "--out", str(tmp_path / "a-file" / "r.html"), *db]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "--out" in line and "a-file is a file" in line


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_report_in_chromium(report: Path, size: tuple[int, int], tmp_path: Path) -> None:
    width, height = size
    png = tmp_path / f"report_{width}.png"
    with Browser(_chromium()) as browser:
        browser.open(report.as_uri(), width=width, height=height, mobile=size == PHONE)
        layout = browser.evaluate(_MEASURE)
        # scroll the first chart into view and shoot the screen it is on
        images = layout["images"]
        top = max(0, int(images[0]["y"]) - 40) if size == PHONE else 0
        browser.evaluate(f"scrollTo(0, {top})")
        browser.screenshot(png)
    assert layout["width"] == width
    assert layout["scroll_width"] <= width + 1, "the page scrolls sideways"
    tables = layout["tables"]
    assert len(images) == 5 and all(i["ok"] for i in images), images  # every chart decoded
    for img in images:  # each chart fills the column (on a phone: scrolls inside its box)
        box = img["scroller"]
        assert box["x"] >= 0 and box["x"] + box["w"] <= width + 1
        assert img["w"] >= min(width - 40, 960) and img["h"] > 100
        assert (img["w"] >= 700) if size == PHONE else (img["w"] <= box["w"] + 1)
    assert len(tables) == 1 + 2 + 1  # sets, the reps of each set, the trend
    for t in tables:  # wide tables scroll inside their box, the page does not
        assert t["scroller"]["x"] + t["scroller"]["w"] <= width + 1
    image = imread(png)[:, :, :3]
    assert image.shape[:2] == (height, width)
    if size == DESKTOP:  # the sets table and the first chart are on the first screen
        ink, _ = _busy(image, tables[0])
        assert ink > 0.05, "the sets table is not drawn"
    chart = {**images[0], "y": images[0]["y"] - top}
    chart["h"] = min(chart["h"], height - chart["y"])
    chart["w"] = min(chart["w"], width - chart["x"])
    ink, colours = _busy(image, chart)
    assert ink > 0.15 and colours >= 8, (ink, colours)  # a chart: lines, shaded phases, text
    keep = os.environ.get(SCREENSHOTS_ENV)
    if keep:
        name = "report_phone.png" if size == PHONE else "report_desktop.png"
        shutil.copyfile(png, Path(keep) / name)
