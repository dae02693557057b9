"""A session report to share: one self-contained HTML page (``imu report``, ``analyze --report``).

Everything is inline — the charts are SVG data URIs, the style is in the page, no script and no
network access — so the file can be mailed to a coach or opened on a phone. Contents: the
session's figures, each set's angle and tempo charts, the per-rep table with every flag and its
evidence, the notes, and the trend of the last sessions of the same exercise from the history.
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from imu.results import RepResult, SessionResult, SetResult

__all__ = ["TREND_SESSIONS", "render_report", "write_report"]

#: sessions of the same exercise shown in the report's trend
TREND_SESSIONS = 10

_CSS = """
:root { color-scheme: light; --ink:#1a1a1a; --muted:#5b5b5b; --line:#d9d9d9; --flag:#b34700; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); background: #fff; }
main { max-width: 1000px; margin: 0 auto; padding: 12px 14px 40px; }
h1 { font-size: 1.45rem; margin: 0.3em 0 0.1em; }
h2 { font-size: 1.2rem; margin: 1.6em 0 0.4em; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.05rem; margin: 1.2em 0 0.3em; }
.sub { color: var(--muted); margin: 0 0 0.8em; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr));
         gap: 8px; margin: 10px 0; padding: 0; list-style: none; }
.facts li { border: 1px solid var(--line); border-radius: 8px; padding: 6px 10px; }
.facts b { display: block; font-size: 1.25rem; }
.facts span { color: var(--muted); font-size: 0.85rem; }
.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: right;
         white-space: nowrap; vertical-align: top; }
th { background: #f3f3f3; }
th:first-child, td:first-child { text-align: left; }
td.flags, th:last-child { text-align: left; white-space: normal; }
/* a flags cell keeps a readable width: on a phone the table scrolls rather than the row grows */
td.flags { min-width: 14em; }
td.flags b { color: var(--flag); }
.chartbox { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: 6px 0; }
.chart { width: 100%; height: auto; display: block; border: 1px solid var(--line);
         border-radius: 6px; }
/* on a phone a chart keeps a readable size and scrolls sideways inside its own box */
@media (max-width: 700px) { .chart { width: 760px; max-width: none; } }
tr.evidence td { text-align: left; white-space: normal; color: var(--flag); font-size: 0.85rem;
                 border-bottom: 1px solid var(--line); padding-top: 0; }
tr.has-evidence td { border-bottom: none; }
ul.notes li { margin: 0.2em 0; }
footer { color: var(--muted); font-size: 0.8rem; margin-top: 2em; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _svg_uri(fig: Figure) -> str:
    from imu.charts import _save

    buf = io.BytesIO()
    _save(fig, buf, "svg")  # type: ignore[arg-type]
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _chart(fig: Figure, alt: str) -> str:
    return f'<div class="chartbox"><img class="chart" alt="{_e(alt)}" src="{_svg_uri(fig)}"></div>'


def _num(value: float | None, digits: int = 1, suffix: str = "") -> str:
    import math

    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.{digits}f}{suffix}"


def _table(head: Sequence[str], rows: Sequence[Sequence[str] | str], *, cls: str = "") -> str:
    """A table in a sideways-scrolling box; a row is its cells, or ready ``<tr>`` markup."""
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join(r if isinstance(r, str) else "<tr>" + "".join(r) + "</tr>" for r in rows)
    return f'<div class="scroll"><table class="{cls}"><thead><tr>{th}</tr></thead>' + (
        f"<tbody>{body}</tbody></table></div>"
    )


def _td(text: str, cls: str = "") -> str:
    return f'<td class="{cls}">{text}</td>' if cls else f"<td>{text}</td>"


_REP_HEAD = ("rep", "lift s", "hold s", "lower s", "bottom s", "peak °", "ROM °", "°/s", "flags")


def _rep_rows(rep: RepResult) -> str:
    """A rep's figures, then (if flagged) a full-width row with each flag's evidence."""
    cells = [
        _td(str(rep.index)),
        _td(_num(rep.concentric_s, 2)),
        _td(_num(rep.top_hold_s, 2)),
        _td(_num(rep.eccentric_s, 2)),
        _td(_num(rep.bottom_pause_s, 2)),
        _td(_num(rep.peak_angle_deg, 1)),
        _td(_num(rep.rom_deg, 1)),
        _td(_num(rep.peak_velocity_dps, 0)),
        _td(", ".join(f"<b>{_e(f.name)}</b>" for f in rep.flags) or "clean", "flags"),
    ]
    if not rep.flags:
        return "<tr>" + "".join(cells) + "</tr>"
    evidence = "; ".join(f"{_e(f.name)}: {_e(f.evidence)}" for f in rep.flags)
    return (
        '<tr class="has-evidence">' + "".join(cells) + "</tr>"
        f'<tr class="evidence"><td colspan="{len(_REP_HEAD)}">{evidence}</td></tr>'
    )


def _set_section(result: SessionResult, s: SetResult) -> str:
    from imu.charts import set_angle_figure, set_tempo_figure

    flags = ", ".join(f"{k} ×{v}" for k, v in s.flag_counts.items()) or "no flags"
    head = (
        f'<h3 id="set-{s.index}">Set {s.index}: {s.rep_count} reps, tempo {_e(s.tempo)}</h3>'
        f'<p class="sub">{s.start_s:.0f}–{s.end_s:.0f} s · time under tension '
        f"{s.time_under_tension_s:.0f} s · velocity loss {_num(s.velocity_loss_pct, 0, ' %')}"
        f" · {_e(flags)}</p>"
    )
    charts = _chart(set_angle_figure(result, s.index), f"leg angle over set {s.index}") + _chart(
        set_tempo_figure(result, s.index), f"phase durations of set {s.index}"
    )
    table = _table(_REP_HEAD, [_rep_rows(r) for r in s.reps], cls="reps")
    return head + charts + table


def _trend_section(recent: pd.DataFrame | None, exercise: str, current_id: int | None) -> str:
    if recent is None:
        return (
            "<h2>Trend</h2><p>Not kept in the history (--no-history): no earlier sessions to "
            "compare.</p>"
        )
    if len(recent) < 2:
        return (
            f"<h2>Trend</h2><p>This is the first {_e(exercise)} session in the history; the trend "
            "appears from the second one on.</p>"
        )
    from imu.history.charts import recent_sessions_figure

    chart = _chart(
        recent_sessions_figure(recent, current_id=current_id),
        f"the last {len(recent)} {exercise} sessions",
    )
    rows = [
        [
            _td(_e(r["label"])),
            _td(str(r["sets"])),
            _td(str(r["reps"])),
            _td(_num(r["clean_pct"], 0, " %")),
            _td(_num(r["median_peak_angle_deg"], 1)),
            _td(_num(r["velocity_loss_pct"], 0, " %")),
        ]
        for r in recent.to_dict("records")
    ]
    table = _table(["session", "sets", "reps", "clean", "peak °", "velocity loss"], rows)
    return f"<h2>Trend: the last {len(recent)} {_e(exercise)} sessions</h2>{chart}{table}"


def recent_sessions(
    db: str | os.PathLike[str] | None, exercise: str, *, limit: int = TREND_SESSIONS
) -> pd.DataFrame:
    """The last ``limit`` sessions of ``exercise`` in the history, one row each (oldest first)."""
    import pandas as pd

    from imu.history import open_history

    with open_history(db) as store:
        sessions = store.sessions(exercise=exercise, limit=limit)
        ids = [s.id for s in sessions]
        reps = store.rep_frame(session_ids=ids)
        sets = store.set_frame(session_ids=ids)
    rows = []
    for s in sessions:
        mine = reps[reps["session_id"] == s.id]
        my_sets = sets[sets["session_id"] == s.id]
        clean = float((mine["flags"].fillna("") == "").mean() * 100.0) if len(mine) else None
        rows.append(
            {
                "session_id": s.id,
                "label": f"{s.started_at:%b %d} #{s.id}",
                "sets": s.set_count,
                "reps": s.rep_count,
                "clean_pct": clean,
                "median_peak_angle_deg": float(mine["peak_angle_deg"].median())
                if len(mine)
                else None,
                "velocity_loss_pct": float(my_sets["velocity_loss_pct"].median())
                if len(my_sets)
                else None,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "session_id",
            "label",
            "sets",
            "reps",
            "clean_pct",
            "median_peak_angle_deg",
            "velocity_loss_pct",
        ],
    )


def render_report(
    result: SessionResult,
    *,
    recent: pd.DataFrame | None = None,
    session_id: int | None = None,
) -> str:
    """The report page of ``result``; ``recent`` is :func:`recent_sessions` (None: no history)."""
    from imu import __version__

    meta = result.metadata
    started = meta.get("started_at", "")
    leg = meta.get("leg", "") or "unknown"
    duration = (
        float(result.trace.time_s[-1] - result.trace.time_s[0]) if len(result.trace.time_s) else 0.0
    )
    clean = sum(not r.flags for s in result.sets for r in s.reps)
    facts = [
        (str(len(result.sets)), "sets"),
        (str(result.rep_count), "reps"),
        (f"{100.0 * clean / result.rep_count:.0f} %" if result.rep_count else "–", "clean reps"),
        (f"{duration / 60:.0f} min", "recording"),
        (leg, "leg"),
        (result.settings.target_tempo or "none", "target tempo"),
    ]
    facts_html = "".join(f"<li><b>{_e(v)}</b><span>{_e(k)}</span></li>" for v, k in facts)
    set_rows = [
        [
            _td(f'<a href="#set-{s.index}">{s.index}</a>'),
            _td(str(s.rep_count)),
            _td(_e(s.tempo)),
            _td(_num(s.time_under_tension_s, 0)),
            _td(_num(s.velocity_loss_pct, 0, " %")),
            _td(_num(s.tempo_adherence_pct, 0, " %")),
            _td(_e(", ".join(f"{k} ×{v}" for k, v in s.flag_counts.items()) or "none"), "flags"),
        ]
        for s in result.sets
    ]
    sets_html = (
        _table(["set", "reps", "tempo", "TUT s", "vel. loss", "on tempo", "flags"], set_rows)
        if result.sets
        else "<p>No sets were found in this recording.</p>"
    )
    sections = "".join(_set_section(result, s) for s in result.sets)
    notes = "".join(f"<li>{_e(n)}</li>" for n in result.notes) or "<li>none</li>"
    when = f" · {_e(started)}" if started else ""
    created = datetime.now(UTC).isoformat(timespec="seconds")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(result.recording)} — imu report</title><style>{_CSS}</style></head>"
        "<body><main>"
        f"<h1>{_e(result.exercise)} — {_e(result.recording)}</h1>"
        f'<p class="sub">{result.sample_rate_hz:g} Hz{when}</p>'
        f'<ul class="facts">{facts_html}</ul>'
        f"<h2>Sets</h2>{sets_html}{sections}"
        f'<h2>Notes</h2><ul class="notes">{notes}</ul>'
        f"{_trend_section(recent, result.exercise, session_id)}"
        f"<footer>imu {_e(__version__)} · made {_e(created)} · θ is the leg's angle above the "
        "hip line (0 = in line with the body)</footer>"
        "</main></body></html>\n"
    )


def write_report(
    result: SessionResult,
    path: str | os.PathLike[str],
    *,
    history: bool = True,
    db: str | os.PathLike[str] | None = None,
    session_id: int | None = None,
) -> Path:
    """Write the report of ``result`` to ``path``; the trend comes from the history ``db``
    (``None``: the default database) unless ``history`` is false."""
    recent = recent_sessions(db, result.exercise) if history else None
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(render_report(result, recent=recent, session_id=session_id), encoding="utf-8")
    os.replace(tmp, out)
    return out
