"""Weekly figures per exercise from the history: volume, cleanliness, tempo, height, fatigue, legs.

:func:`weekly_trends` takes the rep and set frames of :class:`~imu.history.store.HistoryStore`
and returns one row per (ISO week, exercise). Plain pandas, no database access.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["TREND_COLUMNS", "weekly_trends"]

#: the columns of :func:`weekly_trends`, in order, with their meaning (README: imu history trends)
TREND_COLUMNS = {
    "week": "ISO week, e.g. 2026-W47",
    "week_start": "the Monday of that week (date)",
    "exercise": "exercise profile (a labels file may mark single sets)",
    "sessions": "sessions with at least one set of this exercise",
    "sets": "sets",
    "reps": "reps",
    "clean_pct": "share of reps with no flag, %",
    "tempo_adherence_pct": "share of reps on the target tempo, % (reps judged against a target)",
    "median_peak_angle_deg": "median peak leg angle of the reps, ° (0 = hip line)",
    "velocity_loss_pct": "median loss of lifting speed from a set's first reps to its last, %",
    "left_reps": "reps recorded on the left leg",
    "right_reps": "reps recorded on the right leg",
    "left_peak_angle_deg": "median peak angle of the left leg's reps, °",
    "right_peak_angle_deg": "median peak angle of the right leg's reps, °",
}


def _week_keys(started_at: pd.Series) -> tuple[pd.Series, pd.Series]:
    iso = started_at.dt.isocalendar()
    week = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    start = (
        started_at.dt.normalize() - pd.to_timedelta(started_at.dt.day_of_week, unit="D")
    ).dt.date
    return week, start


def weekly_trends(reps: pd.DataFrame, sets: pd.DataFrame) -> pd.DataFrame:
    """One row per (ISO week, exercise), oldest first; columns :data:`TREND_COLUMNS`."""
    if sets.empty:
        return pd.DataFrame(columns=list(TREND_COLUMNS))
    reps = reps.copy()
    sets = sets.copy()
    reps["week"], reps["week_start"] = _week_keys(reps["started_at"])
    sets["week"], sets["week_start"] = _week_keys(sets["started_at"])
    keys = ["week", "week_start", "exercise"]
    reps["clean"] = reps["flags"].fillna("") == ""
    on_tempo = pd.to_numeric(reps["on_tempo"], errors="coerce")
    reps["on_tempo_f"] = on_tempo.astype("float64")
    grouped = reps.groupby(keys, sort=True)
    by_rep = pd.DataFrame(
        {
            "reps": grouped.size(),
            "clean_pct": 100.0 * grouped["clean"].mean(),
            "tempo_adherence_pct": 100.0 * grouped["on_tempo_f"].mean(),
            "median_peak_angle_deg": grouped["peak_angle_deg"].median(),
        }
    )
    for leg in ("left", "right"):
        mine = reps[reps["leg"] == leg].groupby(keys, sort=True)
        by_rep[f"{leg}_reps"] = mine.size()
        by_rep[f"{leg}_peak_angle_deg"] = mine["peak_angle_deg"].median()
    set_groups = sets.groupby(keys, sort=True)
    by_set = pd.DataFrame(
        {
            "sessions": set_groups["session_id"].nunique(),
            "sets": set_groups.size(),
            "velocity_loss_pct": set_groups["velocity_loss_pct"].median(),
        }
    )
    table = by_set.join(by_rep, how="left").reset_index()
    for leg in ("left", "right"):
        table[f"{leg}_reps"] = table[f"{leg}_reps"].fillna(0).astype(int)
    table["reps"] = table["reps"].fillna(0).astype(int)
    return table[list(TREND_COLUMNS)]
