"""Exports of the history: CSV for spreadsheets and training logs, FIT for Garmin Connect.

CSV: one row per set (:data:`SET_COLUMNS`) or per rep (:data:`REP_COLUMNS`); plain
comma-separated UTF-8, a header row, ISO 8601 dates, dot decimals, no units inside cells (they are
in the column names). FIT: one strength-training activity per session (:func:`session_fit`).
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from imu.history.fit import (
    CATEGORY_HYPEREXTENSION,
    CATEGORY_LEG_RAISE,
    LEG_RAISE_REVERSE_LEG_RAISE,
    FitSet,
    strength_activity,
)
from imu.history.store import HistoryStore, SessionRow
from imu.vocabulary import FLAG_NAMES

__all__ = [
    "EXERCISE_CATEGORY",
    "REP_COLUMNS",
    "SET_COLUMNS",
    "rep_table",
    "session_fit",
    "set_table",
]

_CONTEXT = {
    "date": "day of the session, YYYY-MM-DD (UTC)",
    "start_time": "when the set (or rep) began, ISO 8601 UTC",
    "session_id": "the session's id in the history (`imu history`)",
    "recording": "recording file name",
    "exercise": "exercise profile, e.g. reverse-hyper",
    "leg": "left, right or empty (unknown)",
    "set": "set number within the session, from 1",
}
#: per-set CSV columns and their meaning (README: imu history export)
SET_COLUMNS = {
    **_CONTEXT,
    "reps": "repetitions",
    "partial_reps": "reps flagged partial",
    "tempo": "median eccentric-bottom-concentric-top, whole seconds, e.g. 3-0-2-1",
    "duration_s": "first rep's start to last rep's end, s",
    "time_under_tension_s": "lift + hold + lowering summed over the reps, s",
    "velocity_loss_pct": "lifting speed lost from the first reps to the last, %",
    "tempo_adherence_pct": "reps on the target tempo, % (empty without a target)",
    **{f"flag_{name}": f"reps flagged {name}" for name in FLAG_NAMES},
}
#: per-rep CSV columns (``--per-rep``)
REP_COLUMNS = {
    **_CONTEXT,
    "rep": "rep number within the set, from 1",
    "concentric_s": "lift, s",
    "top_hold_s": "hold at the top, s",
    "eccentric_s": "lowering, s",
    "bottom_pause_s": "pause before the next rep, s (empty for a set's last rep)",
    "peak_angle_deg": "highest leg angle, ° (0 = hip line, negative below)",
    "rom_deg": "range of motion, °",
    "peak_velocity_dps": "fastest lift, °/s",
    "flags": "flags, separated by ';' (empty = clean)",
    "on_tempo": "true/false against the target tempo (empty without a target)",
}
#: FIT exercise_category (and subtype) per exercise profile
EXERCISE_CATEGORY: dict[str, tuple[int, int | None]] = {
    "reverse-hyper": (CATEGORY_HYPEREXTENSION, None),
    "prone-leg-lift": (CATEGORY_LEG_RAISE, LEG_RAISE_REVERSE_LEG_RAISE),
}


def _clock(frame: pd.DataFrame, origins: dict[int, float]) -> pd.Series:
    """Wall-clock start of each row: the session's start plus the offset into the recording."""
    offset_s = frame["start_s"] - frame["session_id"].map(origins).fillna(0.0)
    moment = frame["started_at"] + pd.to_timedelta(offset_s, unit="s")
    text: pd.Series = moment.dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return text


def _origins(store: HistoryStore, session_ids: list[int] | None) -> dict[int, float]:
    rows = store.sessions()
    return {
        r.id: r.time_origin_s or 0.0 for r in rows if session_ids is None or r.id in session_ids
    }


def _context(frame: pd.DataFrame, origins: dict[int, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": frame["started_at"].dt.strftime("%Y-%m-%d"),
            "start_time": _clock(frame, origins),
            "session_id": frame["session_id"],
            "recording": frame["recording"],
            "exercise": frame["exercise"],
            "leg": frame["leg"].fillna(""),
            "set": frame["set_index"],
        }
    )


def set_table(store: HistoryStore, *, session_ids: list[int] | None = None) -> pd.DataFrame:
    """The per-set export (:data:`SET_COLUMNS`)."""
    import json

    sets = store.set_frame(session_ids=session_ids)
    if sets.empty:
        return pd.DataFrame(columns=list(SET_COLUMNS))
    table = _context(sets, _origins(store, session_ids))
    table["reps"] = sets["rep_count"]
    table["partial_reps"] = sets["partial_reps"]
    table["tempo"] = sets["tempo"]
    table["duration_s"] = (sets["end_s"] - sets["start_s"]).round(2)
    table["time_under_tension_s"] = sets["time_under_tension_s"].round(2)
    table["velocity_loss_pct"] = sets["velocity_loss_pct"].round(1)
    table["tempo_adherence_pct"] = sets["tempo_adherence_pct"].round(1)
    counts = [json.loads(c) for c in sets["flag_counts_json"]]
    for name in FLAG_NAMES:
        table[f"flag_{name}"] = [int(c.get(name, 0)) for c in counts]
    return table[list(SET_COLUMNS)]


def rep_table(store: HistoryStore, *, session_ids: list[int] | None = None) -> pd.DataFrame:
    """The per-rep export (:data:`REP_COLUMNS`)."""
    reps = store.rep_frame(session_ids=session_ids)
    if reps.empty:
        return pd.DataFrame(columns=list(REP_COLUMNS))
    table = _context(reps, _origins(store, session_ids))
    table["rep"] = reps["rep_index"]
    for col in ("concentric_s", "top_hold_s", "eccentric_s", "bottom_pause_s"):
        table[col] = reps[col].round(3)
    table["peak_angle_deg"] = reps["peak_angle_deg"].round(2)
    table["rom_deg"] = reps["rom_deg"].round(2)
    table["peak_velocity_dps"] = reps["peak_velocity_dps"].round(1)
    table["flags"] = reps["flags"].fillna("")
    table["on_tempo"] = reps["on_tempo"].map({1: "true", 0: "false"}).fillna("")
    return table[list(REP_COLUMNS)]


def session_fit(store: HistoryStore, session: SessionRow) -> bytes:
    """A FIT strength-training activity of one stored session."""
    origin = session.time_origin_s or 0.0
    fit_sets = []
    for s in store.sets(session.id):
        category, subtype = EXERCISE_CATEGORY.get(s.exercise, (CATEGORY_HYPEREXTENSION, None))
        fit_sets.append(
            FitSet(
                start=session.started_at + timedelta(seconds=s.start_s - origin),
                duration_s=s.end_s - s.start_s,
                repetitions=s.rep_count,
                category=category,
                subtype=subtype,
            )
        )
    end = session.started_at + timedelta(seconds=session.duration_s or 0.0)
    if fit_sets:
        last = fit_sets[-1]
        end = max(end, last.start + timedelta(seconds=last.duration_s))
    return strength_activity(
        fit_sets,
        start=session.started_at,
        end=end,
        serial_number=int(session.sha256[:8], 16),
    )
