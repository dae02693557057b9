"""Charts: files per format, the zero-set page, and what is drawn (legend, flags, no overlaps)."""

from __future__ import annotations

import dataclasses
import itertools
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from chart_factory import RepSpec, make_session, uniform_set
from matplotlib.backend_bases import RendererBase
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from imu import charts
from imu.charts import (
    PHASE_LABELS,
    overview_figure,
    set_angle_figure,
    set_tempo_figure,
    write_charts,
)
from imu.errors import ConfigError
from imu.results import SessionResult

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def session() -> SessionResult:
    return make_session()


@pytest.fixture(scope="module")
def small_session() -> SessionResult:
    return make_session([uniform_set(3, seed=1)], rest_s=5.0, lead_s=3.0)


def _texts(fig: Figure) -> Iterator[Text]:
    yield from fig.findobj(Text)  # type: ignore[misc]


def _gid_texts(fig: Figure, gid: str) -> list[Text]:
    return [t for t in _texts(fig) if t.get_gid() == gid]


def _legend_texts(fig: Figure) -> set[str]:
    return {t.get_text() for legend in fig.legends for t in legend.get_texts()}


def _text_box(t: Text, renderer: RendererBase) -> Bbox:
    # Text's own extent: for an annotation this leaves out the leader line
    return Text.get_window_extent(t, renderer)


def _assert_valid(path: Path, fmt: str) -> None:
    data = path.read_bytes()
    assert len(data) > 1000, path
    if fmt == "png":
        assert data.startswith(PNG_SIGNATURE)
    elif fmt == "svg":
        root = ET.fromstring(data)
        assert root.tag.endswith("svg")
    else:
        assert data.startswith(b"%PDF-")
        assert b"%%EOF" in data[-64:]


def test_write_charts_png_one_per_set_plus_overview(session: SessionResult, tmp_path: Path) -> None:
    paths = write_charts(session, tmp_path / "charts")
    expected = [f"set_{n}_{kind}.png" for n in (1, 2, 3) for kind in ("angle", "tempo")] + [
        "overview.png"
    ]
    assert [p.name for p in paths] == expected
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == sorted(expected)
    for p in paths:
        _assert_valid(p, "png")


@pytest.mark.parametrize("fmt", ["svg", "pdf"])
def test_write_charts_other_formats(small_session: SessionResult, tmp_path: Path, fmt: str) -> None:
    paths = write_charts(small_session, tmp_path, fmt=fmt)
    ext = fmt
    assert [p.name for p in paths] == [
        f"set_1_angle.{ext}",
        f"set_1_tempo.{ext}",
        f"overview.{ext}",
    ]
    for p in paths:
        _assert_valid(p, ext)


def test_format_is_case_insensitive(tmp_path: Path) -> None:
    paths = write_charts(make_session([]), tmp_path, fmt=".PDF")
    assert [p.name for p in paths] == ["overview.pdf"]
    _assert_valid(paths[0], "pdf")


def test_unknown_format_is_a_config_error(small_session: SessionResult, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="jpeg"):
        write_charts(small_session, tmp_path / "out", fmt="jpeg")
    assert not (tmp_path / "out").exists()


def test_zero_sets_still_draws_the_overview(tmp_path: Path) -> None:
    empty = make_session([])
    assert empty.sets == ()
    paths = write_charts(empty, tmp_path)
    assert [p.name for p in paths] == ["overview.png"]
    _assert_valid(paths[0], "png")
    fig = overview_figure(empty)
    shown = " ".join(t.get_text() for t in _texts(fig))
    assert "No sets found" in shown
    assert "no sets found" in fig.get_suptitle()


def test_angle_chart_has_phase_legend_and_flag_labels(session: SessionResult) -> None:
    fig = set_angle_figure(session, 1)
    legend = _legend_texts(fig)
    for label in PHASE_LABELS.values():
        assert label in legend
    assert any("hip line" in t for t in legend)
    assert any("tolerance" in t for t in legend)
    flags = {t.get_text() for t in _gid_texts(fig, "flag-label")}
    assert flags == {"above hip line", "momentum"}  # rep 5 and rep 9 of set 1
    numbers = [t.get_text() for t in _gid_texts(fig, "rep-number")]
    assert numbers == [str(i) for i in range(1, 13)]
    title = fig.get_suptitle()
    assert "Set 1" in title and "12 reps" in title and session.sets[0].tempo in title
    ax = fig.axes[0]
    assert "(s)" in ax.get_xlabel() and "(°)" in ax.get_ylabel()
    # the hip line and the tolerance line are drawn and named on the chart itself
    labels = " ".join(t.get_text() for t in _texts(fig))
    assert "hip line (0°)" in labels and "tolerance (+5°)" in labels


def test_angle_chart_axis_shows_the_whole_set(session: SessionResult) -> None:
    s = session.sets[1]
    ax = set_angle_figure(session, 2).axes[0]
    x0, x1 = ax.get_xlim()
    assert x0 < s.start_s and x1 > s.end_s
    y0, y1 = ax.get_ylim()
    assert y0 < min(r.min_angle_deg for r in s.reps)
    assert y1 > max(r.peak_angle_deg for r in s.reps)


def test_unknown_set_index(session: SessionResult) -> None:
    with pytest.raises(ValueError, match="no set 7"):
        set_angle_figure(session, 7)


def test_tempo_chart_marks_off_tempo_and_flagged_reps(session: SessionResult) -> None:
    fig = set_tempo_figure(session, 1)
    notes = {t.get_text() for t in _gid_texts(fig, "rep-note")}
    assert any(n.startswith("off tempo: lift −") and "momentum" in n for n in notes)  # rep 9
    assert "above hip line" in notes  # rep 5: on tempo, flagged
    assert "last rep (no bottom pause)" in notes  # rep 12 has no bottom pause
    ax = fig.axes[0]
    ticks = {t.get_text(): t for t in ax.get_yticklabels()}
    assert "target 3-0-2-1" in ticks
    assert ticks["rep 9"].get_color() != ticks["rep 1"].get_color()
    legend = _legend_texts(fig)
    for label in PHASE_LABELS.values():
        assert label in legend
    assert "target end of each phase" in legend


def test_tempo_chart_without_target_uses_the_set_median() -> None:
    result = make_session([uniform_set(6, seed=3)], target_tempo=None)
    fig = set_tempo_figure(result, 1)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks[0] == "set median"
    assert ticks[1:] == [f"rep {i}" for i in range(1, 7)]
    assert "median end of each phase" in _legend_texts(fig)
    assert not any("off tempo" in t.get_text() for t in _gid_texts(fig, "rep-note"))


def test_one_rep_set() -> None:
    result = make_session([uniform_set(1, seed=1)])
    for build in (set_angle_figure, set_tempo_figure):
        fig = build(result, 1)
        fig.canvas.draw()
    fig = overview_figure(result)
    fig.canvas.draw()


def _many_specs() -> list[RepSpec]:
    """30 reps with a cycle of flag combinations (one in six clean)."""
    names = [
        ("momentum",),
        ("above_hip_line",),
        ("momentum", "above_hip_line"),
        ("no_hold", "drop"),
        ("partial",),
        (),
    ]
    return [
        RepSpec(r.concentric_s, r.top_hold_s, r.eccentric_s, r.bottom_pause_s, 7.0, -40.0, f)
        for r, f in zip(uniform_set(30, seed=9), itertools.cycle(names), strict=False)
    ]


def _many_flags() -> SessionResult:
    reps = _many_specs()
    same = uniform_set(30, flags=("momentum", "above_hip_line", "no_hold"), seed=5)
    sparse = uniform_set(30, seed=4)
    for i in (0, 2, 3, 5, 6, 29):
        sparse[i] = RepSpec(flags=("momentum", "rest_at_bottom"))
    return make_session([reps, same, sparse])


@pytest.mark.parametrize("set_index", [1, 2, 3])
def test_thirty_reps_with_many_flags_no_overlapping_labels(set_index: int) -> None:
    result = _many_flags()
    fig = set_angle_figure(result, set_index)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    numbers = [_text_box(t, renderer) for t in _gid_texts(fig, "rep-number")]
    labels = [_text_box(t, renderer) for t in _gid_texts(fig, "flag-label")]
    assert len(numbers) == 30
    assert labels, "flagged reps must be named"
    boxes = numbers + labels
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)
    fig_box = fig.bbox
    title_boxes = [_text_box(t, renderer) for t in (fig._suptitle, fig.axes[0].title) if t]
    for box in boxes:
        assert fig_box.x0 <= box.x0 and box.x1 <= fig_box.x1
        assert fig_box.y0 <= box.y0 and box.y1 <= fig_box.y1
        for title in title_boxes:
            assert not box.overlaps(title)
    # everything over the reps stays inside the axes (flag lanes name their flag at the right)
    ax_box = fig.axes[0].bbox
    for box in numbers:
        assert ax_box.y0 <= box.y0 and box.y1 <= ax_box.y1 + 0.5


def test_overview_shows_fatigue_and_table(session: SessionResult) -> None:
    fig = overview_figure(session)
    texts = " ".join(t.get_text() for t in _texts(fig))
    assert "3 sets, 30 reps" in fig.get_suptitle()
    for s in session.sets:
        assert f"Set {s.index}:" in texts  # legend entries of the velocity and ROM panels
    assert "Leg length: 0.88 m (estimated from the data)" in texts
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert any("velocity" in t for t in titles) and any("Range of motion" in t for t in titles)
    vel_ax = next(ax for ax in fig.axes if "velocity" in ax.get_title(loc="left"))
    drawn = [line.get_ydata() for line in vel_ax.get_lines()]
    assert any(
        np.allclose(np.asarray(y, dtype=float), [r.peak_velocity_dps for r in session.sets[0].reps])
        for y in drawn
    )


def test_decimate_keeps_extremes() -> None:
    t = np.arange(100_000) / 100.0
    y = np.sin(t)
    y[12_345] = 50.0
    y[54_321] = -50.0
    td, yd = charts.decimate(t, y, 2000)
    assert td.size <= 2100
    assert np.all(np.diff(td) > 0)
    assert yd.max() == 50.0 and yd.min() == -50.0


def test_charts_do_not_touch_pyplot(tmp_path: Path) -> None:
    code = (
        "import sys; sys.path.insert(0, 'tests')\n"
        "from pathlib import Path\n"
        "from chart_factory import make_session, uniform_set\n"
        "from imu.charts import write_charts\n"
        f"write_charts(make_session([uniform_set(3)]), Path({str(tmp_path)!r}))\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, timeout=60)


# -- movements that were not counted ----------------------------------------------------------


def _with_ignored() -> SessionResult:
    """One set of 8 reps: rebounds after reps 2 and 5, a swing while getting on and off."""
    reps = uniform_set(8, seed=6)
    for i in (1, 4):
        r = reps[i]
        reps[i] = dataclasses.replace(r, bottom_pause_s=1.2, rebound_deg=6.0)
    return make_session([reps], edge_swings=True, rest_s=10.0, lead_s=5.0)


def _ignored_spans(fig: Figure) -> list[tuple[float, float]]:
    spans = [c for c in fig.axes[0].collections if c.get_gid() == "ignored-span"]
    if not spans:
        return []
    (bars,) = spans
    extents = [
        (float(p.vertices[:, 0].min()), float(p.vertices[:, 0].max())) for p in bars.get_paths()
    ]
    return sorted(extents)


def test_angle_chart_greys_and_names_the_movements_not_counted() -> None:
    result = _with_ignored()
    s = result.sets[0]
    assert [m.kind for m in s.ignored] == ["swing", "rebound", "rebound", "swing"]
    fig = set_angle_figure(result, 1)
    spans = _ignored_spans(fig)
    expected = sorted((m.start_s, m.end_s) for m in s.ignored)
    assert np.array(spans) == pytest.approx(np.array(expected))
    labels = sorted(t.get_text() for t in _gid_texts(fig, "ignored-label"))
    assert labels == ["rebound", "rebound", "swing, getting off", "swing, getting on"]
    assert "not counted as a rep (why named above)" in _legend_texts(fig)
    assert "not counted: rebound ×2, swing ×2" in fig.axes[0].get_title(loc="left").replace(
        "\n", " "
    )
    # the swings lie outside the set's own span: the window shows them
    x0, x1 = fig.axes[0].get_xlim()
    assert x0 < s.ignored[0].start_s and x1 > s.ignored[-1].end_s
    # the flags keep their own labels
    assert not _gid_texts(fig, "flag-label")


def test_a_set_with_nothing_ignored_has_no_grey_spans(small_session: SessionResult) -> None:
    fig = set_angle_figure(small_session, 1)
    assert _ignored_spans(fig) == []
    assert not _gid_texts(fig, "ignored-label")
    assert not any("not counted" in t for t in _legend_texts(fig))


def test_ignored_labels_do_not_overlap_flags_or_numbers() -> None:
    reps = uniform_set(14, seed=8)
    for i in range(0, 13, 2):  # a flagged rep, then a rebound right after it
        reps[i] = dataclasses.replace(
            reps[i], flags=("momentum",), bottom_pause_s=0.9, rebound_deg=5.0
        )
    result = make_session([reps], edge_swings=True)
    fig = set_angle_figure(result, 1)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ignored = _gid_texts(fig, "ignored-label")
    assert len(ignored) == 9  # seven rebounds and two swings, each named
    boxes = [
        _text_box(t, renderer)
        for gid in ("rep-number", "flag-label", "ignored-label")
        for t in _gid_texts(fig, gid)
    ]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)


def test_too_many_to_name_one_by_one_get_a_lane_per_kind() -> None:
    reps = [dataclasses.replace(r, bottom_pause_s=0.9, rebound_deg=4.0) for r in _many_specs()]
    result = make_session([reps])
    fig = set_angle_figure(result, 1)
    lanes = [t.get_text() for t in _gid_texts(fig, "ignored-label")]
    assert lanes == [" rebound (30 not counted)"]
    assert len(_ignored_spans(fig)) == 30


def test_close_rep_numbers_are_staggered_not_overlapped() -> None:
    quick = [RepSpec(0.4, 0.1, 0.4, 0.1, peak_deg=-2.0) for _ in range(12)]
    result = make_session([uniform_set(6, seed=2) + quick])
    fig = set_angle_figure(result, 1)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    numbers = _gid_texts(fig, "rep-number")
    assert [t.get_text() for t in numbers] == [str(i) for i in range(1, 19)]
    boxes = [_text_box(t, renderer) for t in numbers]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)
    assert len({round(b.y0) for b in boxes}) == 2  # two rows of numbers


def test_overview_marks_the_movements_not_counted() -> None:
    result = _with_ignored()
    fig = overview_figure(result)
    trace_ax = fig.axes[0]
    (marks,) = [line for line in trace_ax.get_lines() if line.get_gid() == "ignored-mark"]
    assert len(marks.get_xdata()) == len(result.sets[0].ignored)  # type: ignore[arg-type]
    legend = trace_ax.get_legend()
    assert legend is not None and "not counted" in {t.get_text() for t in legend.get_texts()}
    (table,) = [t for ax in fig.axes for t in ax.tables]
    cells = [c.get_text().get_text() for c in table.get_celld().values()]
    assert "not counted: rebound ×2, swing ×2" in cells
    plain = overview_figure(make_session([uniform_set(3, seed=1)]))
    assert not [line for line in plain.axes[0].get_lines() if line.get_gid() == "ignored-mark"]
