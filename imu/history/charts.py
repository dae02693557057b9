"""Charts of the history: weekly trends (``imu history trends --out``) and a session-by-session
trend for the report. matplotlib's object API only, as in :mod:`imu.charts`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from imu.charts import _new_figure, _save

__all__ = ["recent_sessions_figure", "trends_figure", "write_trend_charts"]

_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00")
_LEG_COLORS = {"left": "#0072B2", "right": "#E69F00"}

#: (column, title, unit) of each trend panel
_PANELS = (
    ("reps", "reps per week", "reps"),
    ("clean_pct", "clean reps (no flag)", "%"),
    ("tempo_adherence_pct", "reps on the target tempo", "%"),
    ("median_peak_angle_deg", "median peak angle (0 = hip line)", "°"),
    ("velocity_loss_pct", "velocity loss within a set (median)", "%"),
)
#: panels that are a share of all reps: drawn on the whole 0–100 % scale (:data:`_SHARE_YLIM`),
#: so that a change of a few reps does not look like a collapse
_SHARES = frozenset({"clean_pct", "tempo_adherence_pct"})
_SHARE_YLIM = (0.0, 105.0)
#: what a panel with no value in any week says instead of an empty axis
_NO_DATA = {
    "tempo_adherence_pct": "no target tempo in these weeks\n(analyse with --tempo, e.g. 3-0-2-1)",
}


def _style(ax: Axes, title: str, unit: str) -> None:
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylabel(unit)
    ax.grid(True, alpha=0.3)
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)


def trends_figure(trends: pd.DataFrame) -> Figure:
    """Six panels over the weeks: volume, cleanliness, tempo, height, fatigue, left vs right."""
    fig = _new_figure(11.0, 7.5)
    axes = fig.subplots(2, 3)
    weeks = sorted(trends["week"].unique())
    x_of = {w: i for i, w in enumerate(weeks)}
    for ax, (col, title, unit) in zip(axes.flat, _PANELS, strict=False):
        _style(ax, title, unit)
        if not np.isfinite(trends[col].to_numpy(dtype=float)).any():
            _say_no_data(ax, _NO_DATA.get(col, "no data in these weeks"))
            continue
        for k, (exercise, rows) in enumerate(trends.groupby("exercise", sort=True)):
            xs = [x_of[w] for w in rows["week"]]
            ax.plot(xs, rows[col].to_numpy(dtype=float), "o-", color=_COLORS[k % 6], label=exercise)
        if col in _SHARES:
            ax.set_ylim(*_SHARE_YLIM)
        ax.legend(fontsize=8, loc="best")
    ax = axes.flat[5]
    width = 0.38
    totals = trends.groupby("week", sort=True)[["left_reps", "right_reps"]].sum()
    x = np.array([x_of[w] for w in totals.index], dtype=float)
    for shift, leg in ((-width / 2, "left"), (width / 2, "right")):
        ax.bar(x + shift, totals[f"{leg}_reps"], width, color=_LEG_COLORS[leg], label=leg)
    _style(ax, "left vs right leg", "reps")
    ax.legend(fontsize=8, loc="best")
    for a in axes.flat:
        a.set_xticks(range(len(weeks)), weeks)
    fig.suptitle("imu history — weekly trends", fontsize=12)
    return fig


def _say_no_data(ax: Axes, text: str) -> None:
    """An explanation in place of an empty panel (no lines, no scale to misread)."""
    ax.set_yticks([])
    ax.set_ylabel("")
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#555555")


def write_trend_charts(trends: pd.DataFrame, out_dir: Path, *, fmt: str = "png") -> list[Path]:
    """``trends.<fmt>`` in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"trends.{fmt}"
    _save(trends_figure(trends), path, fmt)
    return [path]


def recent_sessions_figure(sessions: pd.DataFrame, *, current_id: int | None = None) -> Figure:
    """The last sessions of one exercise: reps, clean share and median peak angle per session.

    ``sessions`` has one row per session: ``label``, ``session_id``, ``reps``, ``clean_pct``,
    ``median_peak_angle_deg``; the current session is drawn in a stronger colour.
    """
    fig = _new_figure(7.5, 4.2)
    ax_reps, ax_angle = fig.subplots(2, 1, sharex=True)
    x = np.arange(len(sessions))
    current = (sessions["session_id"] == current_id).to_numpy()
    colors = np.where(current, "#D55E00", "#56B4E9")
    ax_reps.bar(x, sessions["reps"], color=colors)
    clean = ax_reps.twinx()
    clean.plot(x, sessions["clean_pct"], "o-", color="#009E73")
    clean.set_ylim(*_SHARE_YLIM)
    clean.set_ylabel("clean %", color="#009E73")
    _style(ax_reps, "reps (bars) and clean reps (line)", "reps")
    ax_angle.plot(x, sessions["median_peak_angle_deg"], "o-", color="#0072B2")
    ax_angle.axhline(0.0, color="#555555", lw=1, ls="--")
    _style(ax_angle, "median peak angle (0 = hip line)", "°")
    ax_angle.set_xticks(x, sessions["label"])
    return fig
