"""Training history over weeks: every analysed or recorded session in a local SQLite database.

:func:`register` is the one way a session gets in (``imu analyze`` and ``imu record`` both call
it). The database lives in the user data directory (``platformdirs``) unless ``--db FILE`` or the
``IMU_DB`` environment variable names another. See :mod:`imu.history.store` for the schema,
:mod:`imu.history.trends` for the weekly figures and :mod:`imu.history.export` for CSV and FIT.

Nothing here is imported by ``imu analyze`` until a session is registered (sqlite3 loads then).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from imu.errors import ImuError

if TYPE_CHECKING:
    from imu.history.store import HistoryStore, NewSession
    from imu.results import SessionResult

__all__ = ["DB_ENV", "default_db_path", "open_history", "register", "session_from_result"]

#: environment variable naming the history database
DB_ENV = "IMU_DB"
DB_FILE = "history.sqlite"


def default_db_path() -> Path:
    """``$IMU_DB`` if set, else ``history.sqlite`` in the user data directory."""
    env = os.environ.get(DB_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("imu", appauthor=False)) / DB_FILE


def open_history(path: str | os.PathLike[str] | None = None) -> HistoryStore:
    """Open (create, migrate) the history database; ``None`` means :func:`default_db_path`."""
    from imu.history.store import HistoryStore

    return HistoryStore(default_db_path() if path is None else Path(path))


def _started_at(result: SessionResult, path: Path | None) -> tuple[datetime, str]:
    text = result.metadata.get("started_at", "").strip()
    if text:
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return (value if value.tzinfo else value.replace(tzinfo=UTC)), "metadata"
    if path is None:  # read from a stream: when it was analysed
        return datetime.now(tz=UTC), "analysed"
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC), "file"


def session_from_result(
    result: SessionResult, source_path: str | os.PathLike[str], *, sha256: str | None = None
) -> NewSession:
    """What the history stores of one analysed recording."""
    from imu.history.store import NewSession, StoredRep, StoredSet
    from imu.summary import file_sha256

    path = Path(source_path).resolve()
    is_file = path.is_file()
    if not is_file and sha256 is None:
        raise ImuError(f"{source_path}: no such recording to register in the history")
    started, source = _started_at(result, path if is_file else None)
    leg = result.metadata.get("leg", "").strip().lower() or None
    set_exercise = dict(result.extras.get("set_exercise", {}))
    sets = [
        StoredSet(
            index=s.index,
            exercise=str(set_exercise.get(s.index, result.exercise)),
            start_s=s.start_s,
            end_s=s.end_s,
            rep_count=s.rep_count,
            partial_reps=sum("partial" in r.flag_names for r in s.reps),
            tempo=s.tempo,
            time_under_tension_s=s.time_under_tension_s,
            velocity_loss_pct=s.velocity_loss_pct,
            rom_loss_deg=s.rom_loss_deg,
            tempo_adherence_pct=s.tempo_adherence_pct,
            flag_counts=dict[str, int](s.flag_counts.items()),
            reps=tuple(
                StoredRep(
                    index=r.index,
                    start_s=r.start_s,
                    top_start_s=r.top_start_s,
                    top_end_s=r.top_end_s,
                    end_s=r.end_s,
                    bottom_pause_s=r.bottom_pause_s,
                    peak_angle_deg=r.peak_angle_deg,
                    min_angle_deg=r.min_angle_deg,
                    peak_velocity_dps=r.peak_velocity_dps,
                    peak_lowering_velocity_dps=r.peak_lowering_velocity_dps,
                    foot_height_cm=r.foot_height_cm,
                    flags=r.flag_names,
                    flag_evidence={f.name: f.evidence for f in r.flags},
                    on_tempo=r.on_tempo,
                    measured=r.measured,
                )
                for r in s.reps
            ),
        )
        for s in result.sets
    ]
    time_s = result.trace.time_s
    origin = float(time_s[0]) if time_s.size else None
    duration = float(time_s[-1] - time_s[0]) if time_s.size else None
    return NewSession(
        sha256=sha256 if sha256 is not None else file_sha256(path),
        recording=path.name,
        path=str(path),
        started_at=started,
        date_source=source,
        exercise=result.exercise,
        leg=leg if leg in ("left", "right") else None,
        sample_rate_hz=result.sample_rate_hz,
        duration_s=duration,
        time_origin_s=origin,
        target_tempo=result.settings.target_tempo,
        settings=result.settings.to_dict(),
        notes=result.notes,
        corrections=tuple(str(c) for c in result.extras.get("corrections", ())),
        sets=sets,
    )


def register(
    result: SessionResult,
    source_path: str | os.PathLike[str],
    *,
    db: str | os.PathLike[str] | None = None,
    sha256: str | None = None,
) -> tuple[int, bool]:
    """Store an analysed recording in the history; return (session id, whether it was new).

    A recording already there (same bytes) is updated in place, never added twice.
    """
    session = session_from_result(result, source_path, sha256=sha256)
    with open_history(db) as store:
        return store.put(session)
