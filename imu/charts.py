"""Charts of a :class:`~imu.results.SessionResult`: per-set angle and tempo charts, an overview.

Files written by :func:`write_charts` (``fmt`` is ``png``, ``svg`` or ``pdf``):

* ``set_<n>_angle.<fmt>`` — the leg angle θ over the set, each rep's phases shaded, the hip line
  and the tolerance line, rep numbers, flagged reps circled and named;
* ``set_<n>_tempo.<fmt>`` — each rep's four phase durations as a stacked bar against the target
  tempo (or the set's median when no target is set), off-tempo and flagged reps marked;
* ``overview.<fmt>`` — the whole recording's θ with the sets highlighted, peak lifting velocity
  and range of motion per rep (fatigue cues), a per-set table and notes.

Only matplotlib's object API is used (``Figure`` + the Agg canvas), never ``pyplot``: no global
state is touched, so charts can be drawn from any thread. Colours are the Okabe–Ito palette,
which stays distinguishable with the common colour-vision deficiencies.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.textpath import TextToPath
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import ScaledTranslation, Transform, blended_transform_factory

from imu.errors import ConfigError
from imu.results import PHASES, RepResult, SessionResult, SetResult
from imu.vocabulary import FlagName

__all__ = [
    "FORMATS",
    "PHASE_COLORS",
    "PHASE_LABELS",
    "decimate",
    "overview_figure",
    "set_angle_figure",
    "set_tempo_figure",
    "write_charts",
]

FloatArray = npt.NDArray[np.float64]

#: output formats :func:`write_charts` accepts
FORMATS = ("png", "svg", "pdf")
DPI = 120

# Okabe–Ito palette
_BLUE, _ORANGE, _GREEN, _PURPLE = "#0072B2", "#E69F00", "#009E73", "#CC79A7"
_SKY, _YELLOW, _VERMILLION, _GREY = "#56B4E9", "#F0E442", "#D55E00", "#555555"
_INK = "#1a1a1a"

#: phase key (as in :data:`imu.results.PHASES`) → colour
PHASE_COLORS: Mapping[str, str] = {
    "concentric_s": _BLUE,
    "top_hold_s": _ORANGE,
    "eccentric_s": _GREEN,
    "bottom_pause_s": _PURPLE,
}
#: phase key → the legend text
PHASE_LABELS: Mapping[str, str] = {
    "concentric_s": "lift (concentric)",
    "top_hold_s": "top hold",
    "eccentric_s": "lowering (eccentric)",
    "bottom_pause_s": "bottom pause",
}
_PHASE_SHORT = {
    "concentric_s": "lift",
    "top_hold_s": "top hold",
    "eccentric_s": "lowering",
    "bottom_pause_s": "bottom",
}
#: a flag name or an ignored movement's kind (keys of the texts below)
_Name = TypeVar("_Name", bound=str)
_FLAG_TEXT: dict[FlagName, str] = {
    "above_hip_line": "above hip line",
    "momentum": "momentum",
    "drop": "dropped",
    "no_hold": "no top hold",
    "partial": "partial rep",
    "rest_at_bottom": "rest at bottom",
}
_SET_COLORS = (_BLUE, _ORANGE, _GREEN, _PURPLE, _SKY, _VERMILLION, _YELLOW, _GREY)
_SET_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_TEMPO_ORDER = "lowering–bottom–lift–top"

_SET_PAD_S = 3.0  # trace shown before and after a set, s
_MAX_TRACE_POINTS = 4000  # min/max-decimated to this many points per plotted trace
_LABEL_FONT_PT = 9.0
_LABEL_ROW_PT = 13.0
_NUMBER_ROW_PT = 14.0
_NUMBER_PAD_PT = 1.5  # rep numbers closer than twice this are staggered in rows
_MAX_LABEL_ROWS = 4  # more rows of labels than this: one lane per flag (and ignored kind) instead
_ANGLE_WIDTH_IN = 12.0
_ANGLE_AXES_WIDTH_PT = (_ANGLE_WIDTH_IN - 2.3) * 72.0  # y label and ticks left, line labels right

#: a movement that was not counted (:attr:`SetResult.ignored`): fill, edge and text
_IGNORED_FILL, _IGNORED_EDGE, _IGNORED_INK = "#d4d4d4", "#9a9a9a", "#6b6b6b"
#: ignored kind (:mod:`imu.segmentation.sets`) → its short name on the charts
_IGNORED_TEXT = {
    "small": "too small",
    "rebound": "rebound",
    "getting_on": "getting on",
    "getting_off": "getting off",
    "swing": "swing",
    "fidget": "fidget",
    "dips": "dips from rest",
}
#: the circle around a flagged rep's peak
_FLAGGED_MARKER: dict[str, Any] = {
    "marker": "o",
    "markerfacecolor": "none",
    "markeredgecolor": _VERMILLION,
    "markeredgewidth": 2.0,
}

# ---------------------------------------------------------------------------------------------
# public API


def write_charts(result: SessionResult, out_dir: Path, *, fmt: str = "png") -> list[Path]:
    """Draw every chart of ``result`` into ``out_dir`` (created if needed); return the paths.

    Per set ``set_<n>_angle.<fmt>`` and ``set_<n>_tempo.<fmt>``, then ``overview.<fmt>``.
    Raises :class:`~imu.errors.ConfigError` for a format other than png, svg or pdf.
    """
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ConfigError(f"chart format {fmt!r}: choose one of {', '.join(FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for s in result.sets:
        for kind, build in (("angle", set_angle_figure), ("tempo", set_tempo_figure)):
            path = out / f"set_{s.index}_{kind}.{fmt}"
            _save(build(result, s.index), path, fmt)
            paths.append(path)
    path = out / f"overview.{fmt}"
    _save(overview_figure(result), path, fmt)
    paths.append(path)
    return paths


def set_angle_figure(result: SessionResult, set_index: int) -> Figure:
    """The leg angle over set ``set_index`` (1-based, :attr:`SetResult.index`), phases shaded and
    the movements that were not counted (:attr:`SetResult.ignored`) greyed and named."""
    s = _find_set(result, set_index)
    tol = result.settings.tolerance_deg
    ignored = _ignored_marks(result, s)
    t0 = min([s.start_s, *(m.start_s for m in ignored)]) - _SET_PAD_S
    t1 = max([s.end_s, *(m.end_s for m in ignored)]) + _SET_PAD_S
    t, theta = _window(result, t0, t1)
    band = _angle_band(s, ignored, t0, t1)

    fig = _new_figure(_ANGLE_WIDTH_IN, 5.0 + band.extra_height_in)
    ax = fig.add_subplot()
    lo, data_hi = _angle_y_range(s, ignored, theta, tol)
    _shade_phases(ax, s.reps, lo, data_hi)
    _shade_ignored(ax, ignored, lo, data_hi)
    has_gap = _draw_gaps(ax, result, t0, t1, (lo, data_hi))
    _draw_reference_lines(ax, tol)
    ax.plot(t, theta, color=_INK, linewidth=1.4, zorder=3)
    flagged = [r for r in s.reps if r.flags]
    _circle_flagged(ax, flagged)
    _draw_band(ax, s.reps, band)

    ax.set_xlim(t0, t1)
    ax.set_ylim(lo, data_hi + 30.0)  # the top is fixed below, once the layout is known
    ax.set_xlabel("time in the recording (s)", fontsize=11)
    ax.set_ylabel("leg angle θ above the hip line (°)", fontsize=11)
    ax.tick_params(labelsize=10)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]))
    _angle_titles(fig, ax, result, s)
    handles = _angle_legend(tol, flagged=bool(flagged), ignored=bool(ignored), gap=has_gap)
    fig.legend(handles=handles, loc="outside lower center", ncol=5, fontsize=9, frameon=False)
    _fit_band(fig, ax, lo, data_hi, band.height_pt)
    return fig


def set_tempo_figure(result: SessionResult, set_index: int) -> Figure:
    """Per-rep stacked phase durations of set ``set_index`` (1-based) against the tempo target."""
    s = _find_set(result, set_index)
    reference, ref_label, is_target = _reference(result, s)
    n = s.rep_count
    fig = _new_figure(12.0, max(5.0, 2.3 + 0.27 * (n + 1)))
    ax = fig.add_subplot()

    ys = np.arange(n + 1, dtype=np.float64)  # row 0 is the reference
    durations = {  # unknown phases (the last bottom pause) are 0 s long
        p: np.maximum([reference[p]] + [_phase(r, p) or 0.0 for r in s.reps], 0.0) for p in PHASES
    }
    x_max = _tempo_bars(ax, ys, durations)
    _tempo_numbers(ax, s, ys, durations, min_s=x_max * 0.028)
    cumulative = 0.0
    for p in PHASES:
        cumulative += reference[p]
        if reference[p] > 0 or p == "concentric_s":
            ax.axvline(cumulative, color=PHASE_COLORS[p], linestyle="--", linewidth=1.4, zorder=4)
    ax.set_yticks(ys, [ref_label] + [f"rep {r.index}" for r in s.reps], fontsize=9)
    ax.set_ylim(n + 0.6, -0.6)
    tol_s = result.settings.tempo_tolerance_s
    _tempo_notes(ax, s, ys, reference if is_target else None, tol_s)

    ax.set_xlim(0.0, x_max)
    ax.set_xlabel("time from the start of the rep (s)", fontsize=11)
    ax.tick_params(axis="x", labelsize=10)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6, zorder=0)
    ax.set_axisbelow(True)
    _tempo_titles(fig, ax, result, s, is_target)
    handles: list[Artist] = [
        Patch(facecolor=PHASE_COLORS[p], label=PHASE_LABELS[p]) for p in PHASES
    ]
    handles += [
        Patch(facecolor="#bbbbbb", hatch="//", edgecolor="white", label=ref_label),
        Line2D(
            [],
            [],
            color=_GREY,
            linestyle="--",
            linewidth=1.4,
            label=("target" if is_target else "median") + " end of each phase",
        ),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=6, fontsize=9, frameon=False)
    return fig


def _tempo_bars(ax: Axes, ys: FloatArray, durations: Mapping[str, FloatArray]) -> float:
    """The stacked bars (the reference row hatched); returns the x limit, s."""
    left = np.zeros(ys.size)
    for p in PHASES:
        w = durations[p]
        for rows, ref in ((slice(1, None), False), (slice(0, 1), True)):
            ax.barh(
                ys[rows],
                w[rows],
                left=left[rows],
                height=0.72,
                color=PHASE_COLORS[p],
                alpha=0.45 if ref else None,
                hatch="//" if ref else None,
                edgecolor="white",
                linewidth=0.8,
                zorder=2,
            )
        left += w
    return max(float(left.max()), 1.0) * 1.04


def _tempo_numbers(
    ax: Axes, s: SetResult, ys: FloatArray, durations: Mapping[str, FloatArray], *, min_s: float
) -> None:
    """Each known segment's seconds in the middle of it (none on segments under ``min_s``)."""
    starts = np.zeros(ys.size)
    for p in PHASES:
        w = durations[p]
        known = [True] + [_phase(r, p) is not None for r in s.reps]
        for i in np.flatnonzero((w >= min_s) & np.array(known)):
            ref_row = i == 0
            ax.text(
                starts[i] + w[i] / 2,
                ys[i],
                f"{w[i]:.1f}",
                ha="center",
                va="center",
                fontsize=8,
                color=_INK if ref_row or p == "top_hold_s" else "white",
                zorder=5,
                # hides the dashed target lines behind the number
                bbox={
                    "boxstyle": "square,pad=0.15",
                    "facecolor": "white" if ref_row else PHASE_COLORS[p],
                    "alpha": 0.85 if ref_row else 1.0,
                    "linewidth": 0,
                },
            )
        starts += w


def _tempo_notes(
    ax: Axes,
    s: SetResult,
    ys: FloatArray,
    target: Mapping[str, float] | None,
    tol_s: float,
) -> None:
    """The notes column: off tempo (against ``target``, when set) and flags, in vermillion."""
    notes_tr = ax.get_yaxis_transform()
    ax.text(
        1.01,
        0.0,
        "notes",
        transform=notes_tr,
        ha="left",
        va="center",
        fontsize=9,
        fontweight="bold",
        color=_GREY,
    )
    ticklabels = ax.get_yticklabels()
    ticklabels[0].set_fontweight("bold")
    for i, r in enumerate(s.reps, start=1):
        text, bad = _rep_note(r, target, tol_s, last=i == s.rep_count)
        if not text:
            continue
        t = ax.text(
            1.01,
            ys[i],
            text,
            transform=notes_tr,
            ha="left",
            va="center",
            fontsize=9,
            color=_VERMILLION if bad else _GREY,
        )
        t.set_gid("rep-note")
        if bad:
            ticklabels[i].set_color(_VERMILLION)
            ticklabels[i].set_fontweight("bold")


def _rep_note(
    r: RepResult, target: Mapping[str, float] | None, tol_s: float, *, last: bool
) -> tuple[str, bool]:
    """A rep's note on the tempo chart, and whether it says something is wrong."""
    off = _off_tempo(r, target, tol_s) if target is not None else []
    parts = []
    if off:
        parts.append(
            "off tempo: " + ", ".join(f"{_PHASE_SHORT[p]} {_signed(e, tol_s)} s" for p, e in off)
        )
    if r.flags:
        parts.append(_flag_text(r.flag_names))
    if r.bottom_pause_s is None and last and not parts:
        parts.append("last rep (no bottom pause)")
    return " · ".join(parts), bool(off or r.flags)


def _tempo_titles(
    fig: Figure, ax: Axes, result: SessionResult, s: SetResult, is_target: bool
) -> None:
    target = result.settings.target_tempo
    fig.suptitle(
        f"Set {s.index} — phase durations of {_plural(s.rep_count, 'rep')} — tempo {s.tempo}"
        + (f" (target {target})" if target else ""),
        fontsize=14,
        fontweight="bold",
    )
    if is_target:
        adherence = s.tempo_adherence_pct
        sub = (
            f"Each bar is one rep, phases in the order they happen. Dashed lines: where each "
            f"phase should end on the target tempo {target} ({_TEMPO_ORDER}, s). Reps with a "
            f"phase more than ±{result.settings.tempo_tolerance_s:g} s off target are marked."
        )
        if adherence is not None and math.isfinite(adherence):
            sub += f" On target: {adherence:.0f} % of reps."
    else:
        sub = (
            "Each bar is one rep, phases in the order they happen. No target tempo is set, so "
            "the reference bar and dashed lines show this set's median phase durations."
        )
    ax.set_title(textwrap.fill(sub, 140), fontsize=10, color=_GREY, loc="left")


def overview_figure(result: SessionResult) -> Figure:
    """One page: the whole θ trace with the sets, velocity and ROM per rep, a table, notes."""
    n_sets = len(result.sets)
    rows = _table_rows(result)
    notes = _notes_lines(result)
    table_lines = 1 + sum(max(c.count("\n") + 1 for c in row) for row in rows)
    bottom_in = max(
        0.75 + 0.27 * max(table_lines, 3) + 0.45,  # title, rows, the footnote below the table
        0.55 + 0.19 * len(notes),
    )
    fig = _new_figure(12.0, 7.4 + bottom_in)
    grid = fig.add_gridspec(3, 2, height_ratios=[3.0, 2.6, bottom_in], width_ratios=[1.75, 1.0])
    ax_trace = fig.add_subplot(grid[0, :])
    ax_vel = fig.add_subplot(grid[1, 0])
    ax_rom = fig.add_subplot(grid[1, 1])
    ax_table = fig.add_subplot(grid[2, 0])
    ax_notes = fig.add_subplot(grid[2, 1])

    title = f"Session overview — {result.recording} — "
    if n_sets:
        title += f"{_plural(n_sets, 'set')}, {_plural(result.rep_count, 'rep')}"
    else:
        title += "no sets found"
    fig.suptitle(title, fontsize=15, fontweight="bold")

    _overview_trace(ax_trace, result)
    _overview_fatigue(ax_vel, ax_rom, result)
    ax_notes.set_axis_off()
    ax_notes.set_title("Notes", fontsize=11, loc="left")
    ax_notes.text(
        0.0,
        1.0,
        "\n".join(notes),
        transform=ax_notes.transAxes,
        ha="left",
        va="top",
        fontsize=9,
        linespacing=1.45,
        color=_INK,
    )
    ax_table.set_axis_off()
    ax_table.set_title("Sets", fontsize=11, loc="left")
    if rows:
        fig.draw_without_rendering()  # the table's row heights need the axes' final size
        height_in = ax_table.get_position().height * fig.get_figheight()
        _overview_table(ax_table, result, rows, height_in)
    else:
        ax_table.text(
            0.5,
            0.62,
            "No sets found in this recording",
            transform=ax_table.transAxes,
            ha="center",
            va="center",
            fontsize=16,
            fontweight="bold",
            color=_VERMILLION,
        )
        ax_table.text(
            0.5,
            0.3,
            "(no run of reps was long enough to count as a set)",
            transform=ax_table.transAxes,
            ha="center",
            va="center",
            fontsize=10,
            color=_GREY,
        )
    return fig


# ---------------------------------------------------------------------------------------------
# overview panels


def _overview_trace(ax: Axes, result: SessionResult) -> None:
    tr = result.trace
    t = np.asarray(tr.time_s, dtype=np.float64)
    theta = np.asarray(tr.theta_deg, dtype=np.float64)
    tol = result.settings.tolerance_deg
    t0 = float(t[0]) if t.size else 0.0
    t1 = float(t[-1]) if t.size else 1.0
    if t1 <= t0:
        t1 = t0 + 1.0
    td, yd = decimate(t, theta, _MAX_TRACE_POINTS)
    ax.plot(td, yd, color="#9a9a9a", linewidth=0.8, zorder=3)
    for s in result.sets:
        _overview_set(ax, s, t, theta)
    has_gap = _draw_gaps(ax, result, t0, t1, None)
    ax.axhline(0.0, color=_GREY, linewidth=1.1, zorder=2)
    if tol is not None:
        ax.axhline(tol, color=_VERMILLION, linewidth=1.1, linestyle="--", zorder=2)
    flagged = [r for s in result.sets for r in s.reps if r.flags]
    if flagged:
        ax.plot(
            [_peak_time(r) for r in flagged],
            [r.peak_angle_deg + 4.0 for r in flagged],
            linestyle="none",
            marker="v",
            markersize=6,
            color=_VERMILLION,
            zorder=4,
        )
    ignored = [m for s in result.sets for m in _ignored_marks(result, s)]
    if ignored:  # lightly: a small grey cross over each movement not counted
        crosses = ax.plot(
            [m.peak_s for m in ignored],
            [m.peak_deg + 4.0 for m in ignored],
            linestyle="none",
            marker="x",
            markersize=5,
            markeredgewidth=1.2,
            color=_IGNORED_INK,
            zorder=4,
        )
        crosses[0].set_gid("ignored-mark")
    finite = theta[np.isfinite(theta)]
    lo = min(float(finite.min()) if finite.size else -90.0, -10.0) - 5.0
    hi = max(float(finite.max()) if finite.size else 0.0, tol or 0.0) + 5.0
    ax.set_ylim(lo, hi + 0.28 * (hi - lo))  # room for the set labels
    ax.set_xlim(t0, t1)
    ax.set_xlabel("time in the recording (s)", fontsize=10)
    ax.set_ylabel("leg angle θ (°)", fontsize=10)
    ax.tick_params(labelsize=9)
    ax.set_title(
        "Leg angle above the hip line, whole recording (sets shaded)",
        fontsize=11,
        loc="left",
        pad=20.0,  # the legend sits between the title and the axes
    )
    handles = _overview_legend(result, flagged=bool(flagged), ignored=bool(ignored), gap=has_gap)
    ax.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncol=len(handles),
        fontsize=8.5,
        frameon=False,
        borderaxespad=0.2,
    )


def _overview_set(ax: Axes, s: SetResult, t: FloatArray, theta: FloatArray) -> None:
    """The set shaded in its colour, named, its θ drawn dark."""
    color = _SET_COLORS[(s.index - 1) % len(_SET_COLORS)]
    ax.axvspan(s.start_s, s.end_s, color=color, alpha=0.16, linewidth=0, zorder=0)
    ax.text(
        (s.start_s + s.end_s) / 2,
        0.97,
        f"Set {s.index}\n{_plural(s.rep_count, 'rep')}",
        transform=ax.get_xaxis_transform(),
        ha="center",
        va="top",
        fontsize=9,
        fontweight="bold",
        color=_INK,
        zorder=5,
    )
    i0, i1 = np.searchsorted(t, [s.start_s, s.end_s])
    ts, ys = decimate(t[i0:i1], theta[i0:i1], _MAX_TRACE_POINTS // 2)
    ax.plot(ts, ys, color=_INK, linewidth=1.0, zorder=3)


def _overview_legend(
    result: SessionResult, *, flagged: bool, ignored: bool, gap: bool
) -> list[Artist]:
    tol = result.settings.tolerance_deg
    handles: list[Artist] = []
    if result.sets:
        handles.append(Line2D([], [], color=_INK, linewidth=1.0, label="θ in a set"))
    handles += [
        Line2D([], [], color="#9a9a9a", linewidth=1.0, label="θ between sets"),
        Line2D([], [], color=_GREY, linewidth=1.1, label="hip line (0°)"),
    ]
    if tol is not None:
        handles.append(
            Line2D(
                [],
                [],
                color=_VERMILLION,
                linewidth=1.1,
                linestyle="--",
                label=f"tolerance ({tol:+g}°)",
            )
        )
    if flagged:
        handles.append(
            Line2D([], [], linestyle="none", marker="v", color=_VERMILLION, label="flagged rep")
        )
    if ignored:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="x",
                markeredgewidth=1.2,
                color=_IGNORED_INK,
                label="not counted",
            )
        )
    if gap:
        handles.append(Patch(facecolor="none", edgecolor=_GREY, hatch="///", label="data gap"))
    return handles


def _overview_fatigue(ax_vel: Axes, ax_rom: Axes, result: SessionResult) -> None:
    panels = (
        (ax_vel, "Peak lifting velocity per rep (fatigue cue)", "peak lifting velocity (°/s)"),
        (ax_rom, "Range of motion per rep", "range of motion (°)"),
    )
    for ax, title, ylabel in panels:
        ax.set_title(title, fontsize=11, loc="left")
        ax.set_xlabel("rep number within the set", fontsize=10)
        ax.set_ylabel(ylabel, fontsize=10)
        ax.tick_params(labelsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(color="#e3e3e3", linewidth=0.6)
        if not any(s.reps for s in result.sets):
            ax.text(
                0.5,
                0.5,
                "no reps",
                transform=ax.transAxes,
                ha="center",
                va="center",
                fontsize=12,
                color=_GREY,
            )
            ax.set_xticks([])
            ax.set_yticks([])
    for s in result.sets:
        k = (s.index - 1) % len(_SET_COLORS)
        style = {
            "color": _SET_COLORS[k],
            "marker": _SET_MARKERS[k],
            "markersize": 5,
            "linewidth": 1.4,
        }
        x = [r.index for r in s.reps]
        ax_vel.plot(
            x,
            [r.peak_velocity_dps for r in s.reps],
            **style,  # type: ignore[arg-type]
            label=f"Set {s.index}: {_loss_text(s, -s.velocity_loss_pct, ' %')}",
        )
        ax_rom.plot(
            x,
            [r.rom_deg for r in s.reps],
            **style,  # type: ignore[arg-type]
            label=f"Set {s.index}: {_loss_text(s, -s.rom_loss_deg, '°')}",
        )
    if result.sets:
        for ax in (ax_vel, ax_rom):
            ax.legend(fontsize=8.5, loc="best", framealpha=0.85)
            lo, hi = ax.get_ylim()
            ax.set_ylim(lo, hi + 0.25 * (hi - lo))  # room for the legend


_TABLE_HEADER = (
    "Set",
    "Reps",
    "Time (s)",
    "Tempo",
    "On target",
    "Velocity",
    "ROM",
    "Flags · not counted",
)
_TABLE_WIDTHS = (0.055, 0.065, 0.12, 0.095, 0.115, 0.1, 0.085, 0.365)


def _table_rows(result: SessionResult) -> list[list[str]]:
    rows: list[list[str]] = []
    for s in result.sets:
        adherence = s.tempo_adherence_pct
        wrapped = _wrap_items(_counts_items(s.flag_counts, _FLAG_TEXT), 40, max_lines=3)
        if s.ignored:
            kinds = _counts_items(_ignored_counts(s), _IGNORED_TEXT)
            wrapped += _wrap_items([f"not counted: {kinds[0]}", *kinds[1:]], 40, max_lines=2)
        wrapped = wrapped or ["none"]
        rows.append(
            [
                str(s.index),
                str(s.rep_count),
                f"{s.start_s:.0f}–{s.end_s:.0f}",
                s.tempo,
                "—" if adherence is None or not math.isfinite(adherence) else f"{adherence:.0f} %",
                _change(-s.velocity_loss_pct, " %") if s.rep_count > 1 else "—",
                _change(-s.rom_loss_deg, "°") if s.rep_count > 1 else "—",
                "\n".join(wrapped),
            ]
        )
    return rows


def _overview_table(
    ax: Axes, result: SessionResult, rows: list[list[str]], height_in: float
) -> None:
    table = ax.table(
        cellText=rows,
        colLabels=list(_TABLE_HEADER),
        colWidths=list(_TABLE_WIDTHS),
        loc="upper left",
        cellLoc="center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    line_in, pad_in = 0.165, 0.1
    n_lines = [1] + [max(c.count("\n") + 1 for c in row) for row in rows]
    heights = [(k * line_in + pad_in) / max(height_in, 0.1) for k in n_lines]
    for (i, j), cell in table.get_celld().items():
        cell.set_height(heights[i])
        cell.set_edgecolor("#bbbbbb")
        if i == 0:
            cell.set_text_props(fontweight="bold")
            cell.set_facecolor("#eeeeee")
        elif j == 0:
            k = (result.sets[i - 1].index - 1) % len(_SET_COLORS)
            cell.set_facecolor(_SET_COLORS[k])
            cell.set_alpha(0.35)
        if j == len(_TABLE_HEADER) - 1:
            cell.set_text_props(ha="left")
            cell.PAD = 0.02
    ax.text(
        0.0,
        1.0 - sum(heights) - 0.03,
        "Velocity / ROM: change of the peak lifting velocity / range of motion from the "
        "first reps of the set to the last.\nTempo: the set's median seconds "
        + _TEMPO_ORDER
        + ". On target: share of reps with every phase on the target tempo.",
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize=8.5,
        color=_GREY,
    )


def _notes_lines(result: SessionResult) -> list[str]:
    st = result.settings
    tr = result.trace
    duration = float(tr.time_s[-1] - tr.time_s[0]) if len(tr.time_s) > 1 else 0.0
    lines = [
        f"Recording: {result.recording}, {result.sample_rate_hz:g} Hz, {duration:.0f} s",
        f"Exercise: {result.exercise}; "
        + (
            f"tolerance {st.tolerance_deg:+g}° above the hip line"
            if st.tolerance_deg is not None
            else "no hip line to keep to"
        ),
        f"Leg length: {result.leg_length_m:.2f} m ({_source_text(result.leg_length_source)})",
        f"Hip line offset: {result.hip_line_offset_deg:+.1f}°; "
        f"sensor axis along the shank: {result.shank_axis}",
        "Target tempo: "
        + (f"{st.target_tempo} ({_TEMPO_ORDER}, s)" if st.target_tempo else "none set"),
    ]
    if result.gaps:
        total_s = sum(g.duration_s for g in result.gaps)
        missing = sum(g.missing_samples for g in result.gaps)
        lines.append(
            f"Data gaps: {len(result.gaps)} ({missing} samples missing, {total_s:.1f} s in all)"
        )
    lines += list(result.notes)
    wrapped: list[str] = []
    for line in lines:
        wrapped += textwrap.wrap(line, 52, initial_indent="• ", subsequent_indent="   ")
    max_lines = 14
    if len(wrapped) > max_lines:
        extra = len(wrapped) - (max_lines - 1)
        wrapped = [*wrapped[: max_lines - 1], f"… and {extra} more lines (see summary.json)"]
    return wrapped


# ---------------------------------------------------------------------------------------------
# helpers


def _new_figure(width_in: float, height_in: float) -> Figure:
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    fig.get_layout_engine().set(h_pad=0.06, w_pad=0.08)  # type: ignore[union-attr,call-arg]
    return fig


def _save(fig: Figure, path: Path, fmt: str) -> None:
    metadata: dict[str, str | None] = {}
    if fmt == "svg":
        metadata = {"Date": None}
    elif fmt == "pdf":
        metadata = {"CreationDate": None, "ModDate": None}
    fig.savefig(path, format=fmt, dpi=DPI, metadata=metadata, facecolor="white")


def _find_set(result: SessionResult, set_index: int) -> SetResult:
    for s in result.sets:
        if s.index == set_index:
            return s
    have = ", ".join(str(s.index) for s in result.sets) or "none"
    raise ValueError(f"no set {set_index} in this result (sets: {have})")


def _window(result: SessionResult, t0: float, t1: float) -> tuple[FloatArray, FloatArray]:
    t = np.asarray(result.trace.time_s, dtype=np.float64)
    y = np.asarray(result.trace.theta_deg, dtype=np.float64)
    i0, i1 = np.searchsorted(t, [t0, t1])
    return decimate(t[i0:i1], y[i0:i1], _MAX_TRACE_POINTS)


def decimate(t: FloatArray, y: FloatArray, max_points: int) -> tuple[FloatArray, FloatArray]:
    """Keep each bin's minimum and maximum (in time order): the drawn line looks the same."""
    n = t.size
    if n <= max_points:
        return t, y
    bins = max_points // 2
    per = n // bins
    m = bins * per
    yb = np.where(np.isfinite(y[:m]), y[:m], np.nan).reshape(bins, per)
    base = np.arange(bins) * per
    filled = np.where(np.isnan(yb), np.inf, yb)
    i_min = base + np.argmin(filled, axis=1)
    i_max = base + np.argmax(np.where(np.isnan(yb), -np.inf, yb), axis=1)
    idx = np.sort(np.unique(np.concatenate([i_min, i_max, np.arange(m, n)])))
    return t[idx], y[idx]


def _draw_gaps(
    ax: Axes, result: SessionResult, t0: float, t1: float, y_range: tuple[float, float] | None
) -> bool:
    spans = [
        (max(g.start_s, t0), min(g.end_s, t1) - max(g.start_s, t0))
        for g in result.gaps
        if g.end_s > t0 and g.start_s < t1
    ]
    if not spans:
        return False
    if y_range is None:
        for x, w in spans:
            ax.axvspan(
                x, x + w, facecolor="none", edgecolor=_GREY, hatch="///", linewidth=0, zorder=1
            )
    else:
        lo, hi = y_range
        ax.broken_barh(
            spans,
            (lo, hi - lo),
            facecolors="none",
            edgecolors=_GREY,
            hatch="///",
            linewidth=0,
            zorder=1,
        )
    return True


def _fit_band(fig: Figure, ax: Axes, lo: float, data_hi: float, band_pt: float) -> None:
    """Set the y top so the data ends ``band_pt`` below the axes top (text band above it)."""
    fig.draw_without_rendering()
    height_pt = ax.get_position().height * fig.get_figheight() * 72.0
    frac = max(0.35, 1.0 - band_pt / max(height_pt, 1.0))
    ax.set_ylim(lo, lo + (data_hi - lo) / frac)
    ax.set_yticks([y for y in ax.get_yticks() if lo <= y <= data_hi])  # none beside the band


@dataclass(frozen=True)
class _BandLabel:
    """A label in the band over a set angle chart: the flag names over one rep (or over a run of
    consecutive reps with the same flags), or the kind of a movement that was not counted."""

    text: str
    x_left: float  #: peak time of the first rep (or of the movement), s
    x_right: float  #: peak time of the last rep, s
    run: bool
    ignored: bool = False  #: names a movement that was not counted (grey), not a flag

    @property
    def x(self) -> float:
        return (self.x_left + self.x_right) / 2.0

    def half_width_pt(self, pt_per_s: float) -> float:
        return max(_text_width_pt(self.text) / 2.0, (self.x_right - self.x_left) / 2 * pt_per_s)


@dataclass(frozen=True)
class _Lane:
    """One row of the band when there are too many labels to name one by one: a mark over every
    rep with one flag (or every movement of one ignored kind), the name at the right."""

    text: str
    xs: tuple[float, ...]  #: peak times, s
    ignored: bool = False


@dataclass(frozen=True)
class _Band:
    """The text band over a set angle chart: rows of rep numbers (staggered where reps are too
    close for their numbers), then rows of labels (or one lane per flag and ignored kind)."""

    number_rows: tuple[int, ...]  #: the row of each rep's number
    labels: tuple[_BandLabel, ...]
    rows: tuple[int, ...]  #: the row of each label
    lanes: tuple[_Lane, ...]  #: not empty: lanes instead of labels
    t0: float
    t1: float

    @property
    def n_number_rows(self) -> int:
        return max(self.number_rows, default=0) + 1

    @property
    def n_rows(self) -> int:
        return len(self.lanes) if self.lanes else max(self.rows, default=-1) + 1

    @property
    def height_pt(self) -> float:
        return self.n_number_rows * _NUMBER_ROW_PT + self.n_rows * _LABEL_ROW_PT + 6.0

    @property
    def extra_height_in(self) -> float:
        """Figure height beyond the usual (one row of numbers, two of labels), in."""
        extra_pt = (self.n_number_rows - 1) * _NUMBER_ROW_PT + max(0, self.n_rows - 2) * (
            _LABEL_ROW_PT
        )
        return extra_pt / 72.0


@dataclass(frozen=True)
class _IgnoredMark:
    """A movement of the set that was not counted, as drawn."""

    start_s: float
    end_s: float
    peak_s: float  #: when θ peaked within it, s
    peak_deg: float
    kind: str
    label: _BandLabel


def _flag_labels(reps: Sequence[RepResult]) -> list[_BandLabel]:
    """One label per flagged rep; consecutive reps with the same flags share one label."""
    labels: list[_BandLabel] = []
    i = 0
    while i < len(reps):
        r = reps[i]
        if not r.flags:
            i += 1
            continue
        j = i
        while j + 1 < len(reps) and reps[j + 1].flag_names == r.flag_names:
            j += 1
        names = _flag_text(r.flag_names)
        text = f"reps {r.index}–{reps[j].index}: {names}" if j > i else names
        labels.append(_BandLabel(text, _peak_time(r), _peak_time(reps[j]), run=j > i))
        i = j + 1
    return labels


def _ignored_marks(result: SessionResult, s: SetResult) -> list[_IgnoredMark]:
    """The set's ignored movements with their peak instants (from the trace) and labels."""
    t = np.asarray(result.trace.time_s, dtype=np.float64)
    theta = np.asarray(result.trace.theta_deg, dtype=np.float64)
    marks: list[_IgnoredMark] = []
    for m in s.ignored:
        i0, i1 = np.searchsorted(t, [m.start_s, m.end_s])
        seg = theta[i0:i1]
        ok = np.isfinite(seg)
        peak_s = (m.start_s + m.end_s) / 2.0
        if ok.any():
            peak_s = float(t[i0 + int(np.argmax(np.where(ok, seg, -np.inf)))])
        text = _ignored_text(m.kind, _edge_of(s, m.start_s, m.end_s))
        label = _BandLabel(text, peak_s, peak_s, run=False, ignored=True)
        marks.append(_IgnoredMark(m.start_s, m.end_s, peak_s, m.peak_angle_deg, m.kind, label))
    return marks


def _edge_of(s: SetResult, start_s: float, end_s: float) -> str:
    """``before`` the set's first rep, ``after`` its last, else ``""``."""
    if s.reps and end_s <= s.reps[0].start_s + 1e-6:
        return "before"
    if s.reps and start_s >= s.reps[-1].end_s - 1e-6:
        return "after"
    return ""


def _ignored_text(kind: str, edge: str) -> str:
    text = _IGNORED_TEXT.get(kind, kind.replace("_", " "))
    if kind == "swing" and edge:
        text += ", getting on" if edge == "before" else ", getting off"
    return text


def _angle_band(s: SetResult, ignored: Sequence[_IgnoredMark], t0: float, t1: float) -> _Band:
    numbers = [_BandLabel(str(r.index), _peak_time(r), _peak_time(r), run=False) for r in s.reps]
    number_rows = _pack_labels(numbers, t0, t1, _ANGLE_AXES_WIDTH_PT, pad_pt=_NUMBER_PAD_PT)
    labels = (*_flag_labels(s.reps), *(m.label for m in ignored))
    rows = tuple(_pack_labels(labels, t0, t1, _ANGLE_AXES_WIDTH_PT))
    lanes: tuple[_Lane, ...] = ()
    if max(rows, default=-1) + 1 > _MAX_LABEL_ROWS:  # too many to name one by one
        lanes = (*_flag_lanes(s), *_ignored_lanes(ignored))
    return _Band(tuple(number_rows), labels, rows, lanes, t0, t1)


def _flag_lanes(s: SetResult) -> list[_Lane]:
    lanes = []
    for name, _ in sorted(s.flag_counts.items(), key=lambda kv: -kv[1]):
        xs = tuple(_peak_time(r) for r in s.reps if name in r.flag_names)
        lanes.append(_Lane(f" {_flag_text([name])} ({_plural(len(xs), 'rep')})", xs))
    return lanes


def _ignored_lanes(ignored: Sequence[_IgnoredMark]) -> list[_Lane]:
    kinds = sorted({m.kind for m in ignored}, key=lambda k: -sum(m.kind == k for m in ignored))
    lanes = []
    for kind in kinds:
        xs = tuple(m.peak_s for m in ignored if m.kind == kind)
        text = f" {_ignored_text(kind, '')} ({len(xs)} not counted)"
        lanes.append(_Lane(text, xs, ignored=True))
    return lanes


def _pack_labels(
    labels: Sequence[_BandLabel],
    t0: float,
    t1: float,
    axes_width_pt: float,
    *,
    pad_pt: float = 6.0,
) -> list[int]:
    """Greedy rows for labels centred over their reps, so that no two in a row come closer than
    ``2 × pad_pt``."""
    pt_per_s = axes_width_pt / (t1 - t0)
    row_ends: list[float] = []
    result = [0] * len(labels)
    for i in sorted(range(len(labels)), key=lambda i: labels[i].x):
        half = (labels[i].half_width_pt(pt_per_s) + pad_pt) / pt_per_s
        xc = min(max(labels[i].x, t0 + half), t1 - half)
        for row, end in enumerate(row_ends):
            if xc - half >= end:
                row_ends[row] = xc + half
                result[i] = row
                break
        else:
            row_ends.append(xc + half)
            result[i] = len(row_ends) - 1
    return result


def _angle_y_range(
    s: SetResult, ignored: Sequence[_IgnoredMark], theta: FloatArray, tol: float | None
) -> tuple[float, float]:
    """θ from the reps and the ignored movements' peaks, not from the whole window (getting on and
    off the bench may leave the chart at the bottom)."""
    lows = [r.min_angle_deg for r in s.reps]
    highs = [r.peak_angle_deg for r in s.reps] + [m.peak_deg for m in ignored]
    finite = theta[np.isfinite(theta)]
    if not lows:
        lows = [float(finite.min())] if finite.size else [-45.0]
        highs = [float(finite.max())] if finite.size else [0.0]
    return min([*lows, 0.0]) - 8.0, max([*highs, tol or 0.0, 0.0]) + 3.0


def _shade_phases(ax: Axes, reps: Sequence[RepResult], lo: float, hi: float) -> None:
    """Each rep's phases, from the bottom of the axes up to the data top (text band above)."""
    spans: dict[str, list[tuple[float, float]]] = {k: [] for k in PHASES}
    for r in reps:
        spans["concentric_s"].append((r.start_s, r.concentric_s))
        spans["top_hold_s"].append((r.top_start_s, r.top_hold_s))
        spans["eccentric_s"].append((r.top_end_s, r.eccentric_s))
        if r.bottom_pause_s is not None and r.bottom_pause_s > 0:
            spans["bottom_pause_s"].append((r.end_s, r.bottom_pause_s))
    for phase, xr in spans.items():
        if xr:
            ax.broken_barh(
                xr,
                (lo, hi - lo),
                facecolors=PHASE_COLORS[phase],
                alpha=0.3 if phase == "bottom_pause_s" else 0.24,
                linewidth=0,
                zorder=0,
            )


def _shade_ignored(ax: Axes, ignored: Sequence[_IgnoredMark], lo: float, hi: float) -> None:
    """Grey over the phase shading where a movement was not counted (its own ``gid``)."""
    if not ignored:
        return
    bars = ax.broken_barh(
        [(m.start_s, m.end_s - m.start_s) for m in ignored],
        (lo, hi - lo),
        facecolors=_IGNORED_FILL,
        edgecolors=_IGNORED_EDGE,
        linewidth=0.8,
        zorder=1,
    )
    bars.set_gid("ignored-span")


def _draw_reference_lines(ax: Axes, tol: float | None) -> None:
    """The hip line and the tolerance line, named at the right of the axes."""
    ax.axhline(0.0, color=_GREY, linewidth=1.3, zorder=2)
    yline = ax.get_yaxis_transform()
    ax.annotate(
        "hip line (0°)",
        xy=(1.0, 0.0),
        xycoords=yline,
        xytext=(4, -1),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=9,
        color=_GREY,
    )
    if tol is None:
        return
    ax.axhline(tol, color=_VERMILLION, linewidth=1.3, linestyle="--", zorder=2)
    ax.annotate(
        f"tolerance ({tol:+g}°)",
        xy=(1.0, tol),
        xycoords=yline,
        xytext=(4, 1),
        textcoords="offset points",
        ha="left",
        va="bottom",
        fontsize=9,
        color=_VERMILLION,
    )


def _circle_flagged(ax: Axes, flagged: Sequence[RepResult]) -> None:
    if flagged:
        ax.plot(
            [_peak_time(r) for r in flagged],
            [r.peak_angle_deg for r in flagged],
            linestyle="none",
            **_FLAGGED_MARKER,
            markersize=11,
            zorder=4,
        )


def _row_transform(ax: Axes, band: _Band, row: int, extra_pt: float = 0.0) -> Transform:
    """x in data, y ``row`` label rows above the rep numbers (placed from the axes top)."""
    fig = ax.get_figure()
    assert fig is not None
    numbers_pt = band.n_number_rows * _NUMBER_ROW_PT
    y_pt = band.height_pt - 3.0 - numbers_pt - row * _LABEL_ROW_PT - extra_pt
    return blended_transform_factory(
        ax.transData, ax.transAxes + ScaledTranslation(0, -y_pt / 72.0, fig.dpi_scale_trans)
    )


def _draw_band(ax: Axes, reps: Sequence[RepResult], band: _Band) -> None:
    """Rep numbers in a row just above the data, the labels (or lanes) in rows above that."""
    numbers_pt = band.n_number_rows * _NUMBER_ROW_PT
    for r, k in zip(reps, band.number_rows, strict=True):
        txt = ax.text(
            _peak_time(r),
            1.0,
            str(r.index),
            transform=_row_transform(ax, band, 0, extra_pt=k * _NUMBER_ROW_PT - numbers_pt),
            ha="center",
            va="bottom",
            fontsize=9,
            color=_VERMILLION if r.flags else _INK,
            fontweight="bold" if r.flags else "normal",
            clip_on=True,
        )
        txt.set_gid("rep-number")
    if band.lanes:
        for row, lane in enumerate(band.lanes):
            _draw_lane(ax, lane, _row_transform(ax, band, row))
        return
    anchor_tr = _row_transform(ax, band, 0, extra_pt=-2.0)  # just above the rep numbers
    for label, row in zip(band.labels, band.rows, strict=True):
        _draw_band_label(ax, label, row, anchor_tr, band)


def _draw_band_label(
    ax: Axes, label: _BandLabel, row: int, anchor_tr: Transform, band: _Band
) -> None:
    """The label in its row, joined by a dotted leader to the rep number (or run bracket). A
    leader passes behind the labels of the rows below its own (their white boxes hide it)."""
    pt_per_s = _ANGLE_AXES_WIDTH_PT / (band.t1 - band.t0)
    half = (_text_width_pt(label.text) / 2.0 + 2.0) / pt_per_s
    x = min(max(label.x, band.t0 + half), band.t1 - half)
    color = _IGNORED_INK if label.ignored else _VERMILLION
    style = {"color": color, "linewidth": 0.8, "shrinkA": 0.0, "shrinkB": 0.0}
    if label.run:  # a bracket over the run's rep numbers
        ax.annotate(
            "",
            xy=(label.x_left, 1.0),
            xycoords=anchor_tr,
            xytext=(label.x_right, 1.0),
            textcoords=anchor_tr,
            arrowprops={"arrowstyle": "|-|,widthA=0.25,widthB=0.25", **style},
        )
    ann = ax.annotate(
        label.text,
        xy=(label.x, 1.0),
        xycoords=anchor_tr,
        xytext=(x, 1.0),
        textcoords=_row_transform(ax, band, row),
        ha="center",
        va="bottom",
        fontsize=_LABEL_FONT_PT,
        color=color,
        bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none"},
        arrowprops={"arrowstyle": "-", "linestyle": ":", **style},
        zorder=6 + _MAX_LABEL_ROWS - row,
    )
    ann.set_gid("ignored-label" if label.ignored else "flag-label")


def _draw_lane(ax: Axes, lane: _Lane, tr: Transform) -> None:
    """A faint line across the axes, a mark over each of the lane's reps, its name at the right."""
    fig = ax.get_figure()
    assert fig is not None
    lift = ScaledTranslation(0, 5.0 / 72.0, fig.dpi_scale_trans)
    color = _IGNORED_INK if lane.ignored else _VERMILLION
    ax.plot(
        [0.0, 1.0],
        [1.0, 1.0],
        transform=blended_transform_factory(ax.transAxes, tr) + lift,
        color="#e6e6e6",
        linewidth=0.8,
        zorder=1,
    )
    ax.plot(
        list(lane.xs),
        [1.0] * len(lane.xs),
        transform=tr + lift,
        linestyle="none",
        marker="x" if lane.ignored else "s",
        markersize=6,
        markeredgewidth=1.6 if lane.ignored else 1.0,
        color=color,
    )
    txt = ax.text(
        1.0,
        1.0,
        lane.text,
        transform=blended_transform_factory(ax.transAxes, tr),
        ha="left",
        va="bottom",
        fontsize=_LABEL_FONT_PT,
        color=color,
    )
    txt.set_gid("ignored-label" if lane.ignored else "flag-label")


def _angle_titles(fig: Figure, ax: Axes, result: SessionResult, s: SetResult) -> None:
    target = result.settings.target_tempo
    fig.suptitle(
        f"Set {s.index} — {_plural(s.rep_count, 'rep')} — tempo {s.tempo}"
        + (f" (target {target})" if target else ""),
        fontsize=14,
        fontweight="bold",
    )
    sub = (
        f"{result.recording}, {s.start_s:.0f}–{s.end_s:.0f} s · tempo = median seconds "
        f"{_TEMPO_ORDER}"
    )
    if s.flag_counts:
        sub += " · flags: " + _counts_text(s.flag_counts, _FLAG_TEXT)
    if s.ignored:
        sub += " · not counted: " + _counts_text(_ignored_counts(s), _IGNORED_TEXT)
    ax.set_title(textwrap.fill(sub, 140), fontsize=10, color=_GREY, loc="left")


def _angle_legend(tol: float | None, *, flagged: bool, ignored: bool, gap: bool) -> list[Artist]:
    handles: list[Artist] = [Line2D([], [], color=_INK, linewidth=1.4, label="leg angle θ")]
    handles += [Patch(facecolor=PHASE_COLORS[p], alpha=0.35, label=PHASE_LABELS[p]) for p in PHASES]
    handles.append(Line2D([], [], color=_GREY, linewidth=1.3, label="hip line (θ = 0°)"))
    if tol is not None:
        handles.append(
            Line2D(
                [],
                [],
                color=_VERMILLION,
                linewidth=1.3,
                linestyle="--",
                label=f"tolerance ({tol:+g}°)",
            )
        )
    if flagged:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                **_FLAGGED_MARKER,
                markersize=9,
                label="flagged rep (peak); flags named above",
            )
        )
    if ignored:
        handles.append(
            Patch(
                facecolor=_IGNORED_FILL,
                edgecolor=_IGNORED_EDGE,
                label="not counted as a rep (why named above)",
            )
        )
    if gap:
        handles.append(
            Patch(facecolor="none", edgecolor=_GREY, hatch="///", label="gap in the data")
        )
    return handles


def _ignored_counts(s: SetResult) -> dict[str, int]:
    counts: dict[str, int] = {}
    for m in s.ignored:
        counts[m.kind] = counts.get(m.kind, 0) + 1
    return counts


_TEXT_TO_PATH = TextToPath()
_LABEL_PROP = FontProperties(size=_LABEL_FONT_PT)


def _text_width_pt(text: str) -> float:
    width, _, _ = _TEXT_TO_PATH.get_text_width_height_descent(text, _LABEL_PROP, ismath=False)
    return float(width)


def _peak_time(r: RepResult) -> float:
    return (r.top_start_s + r.top_end_s) / 2.0


def _phase(r: RepResult, phase: str) -> float | None:
    value: float | None = getattr(r, phase)
    return value


def _reference(result: SessionResult, s: SetResult) -> tuple[dict[str, float], str, bool]:
    """Per-phase reference durations: the target tempo, else the set's medians."""
    tempo = result.settings.tempo
    if tempo is not None:
        ref = {
            "concentric_s": tempo.concentric_s,
            "top_hold_s": tempo.top_hold_s,
            "eccentric_s": tempo.eccentric_s,
            "bottom_pause_s": tempo.bottom_pause_s,
        }
        return ref, f"target {tempo}", True
    ref = {}
    for p in PHASES:
        st = s.phase_stats.get(p)
        median = st.median_s if st is not None else math.nan
        if not math.isfinite(median):
            values = [v for r in s.reps if (v := _phase(r, p)) is not None]
            median = float(np.median(values)) if values else 0.0
        ref[p] = median
    return ref, "set median", False


def _off_tempo(
    r: RepResult, reference: Mapping[str, float], tol_s: float
) -> list[tuple[str, float]]:
    """Phases off the target by more than ``tol_s``: (phase, actual − target)."""
    errors: dict[str, float] = {}
    if r.tempo_error_s is not None and set(r.tempo_error_s) <= set(PHASES):
        errors = {k: float(v) for k, v in r.tempo_error_s.items()}
    else:
        for p in PHASES:
            v = _phase(r, p)
            if v is not None:
                errors[p] = v - reference[p]
    off = [(p, errors[p]) for p in PHASES if p in errors and abs(errors[p]) > tol_s]
    if not off and r.on_tempo is False:  # the analysis knows better; show the worst phase
        worst = max(errors, key=lambda p: abs(errors[p]), default=None)
        if worst is not None:
            off = [(worst, errors[worst])]
    return off


def _flag_text(names: Iterable[FlagName]) -> str:
    return ", ".join(_FLAG_TEXT.get(n, n.replace("_", " ")) for n in names)


def _counts_items(counts: Mapping[_Name, int], names: Mapping[_Name, str]) -> list[str]:
    """``name ×n`` by falling count, each name in words."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [f"{names.get(k, k.replace('_', ' '))} ×{v}" for k, v in items if v]


def _counts_text(counts: Mapping[_Name, int], names: Mapping[_Name, str]) -> str:
    return ", ".join(_counts_items(counts, names))


def _wrap_items(items: Sequence[str], width: int, *, max_lines: int) -> list[str]:
    """Join ``items`` with commas into lines of at most ``width`` characters, never mid-item."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 2 + len(item) <= width:
            lines[-1] += ", " + item
        else:
            if lines:
                lines[-1] += ","
            lines.append(item)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], f"… {len(lines) - max_lines + 1} more lines"]
    return lines


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _signed(value: float, tol: float) -> str:
    """``+0.7``; two decimals when one would make an error look within ``tol`` (``+0.53``)."""
    digits = 1 if abs(round(value, 1)) > tol else 2
    return f"{value:+.{digits}f}".replace("-", "−")


def _loss_text(s: SetResult, change: float, unit: str) -> str:
    if s.rep_count < 2:
        return "a single rep"
    return f"{_change(change, unit)} first→last reps"


def _change(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "n/a"
    digits = 0 if unit.strip() == "%" else 1
    if round(value, digits) == 0:
        return f"{0:.{digits}f}{unit}"
    return f"{value:+.{digits}f}{unit}".replace("-", "−")


def _source_text(source: str) -> str:
    return {
        "option": "given",
        "estimated": "estimated from the data",
        "default": "default, not measured",
    }.get(source, source)
