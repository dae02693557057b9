"""The training history: a local SQLite database of every session analysed or recorded.

One row per recording (keyed by the SHA-256 of its bytes, so re-analysing a file updates its row
instead of adding another), with its sets and reps. The schema is versioned with SQLite's
``user_version`` and migrated forward on open. Every write is one ``BEGIN IMMEDIATE``
transaction in WAL mode with a generous busy timeout: a crash leaves the last committed state,
and several ``imu`` processes at once wait for each other instead of failing or corrupting it.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from imu.errors import ImuError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "HistoryError",
    "HistoryStore",
    "SessionRow",
    "StoredRep",
    "StoredSet",
]

#: seconds a writer waits for another process's transaction before giving up
BUSY_TIMEOUT_S = 60.0


class HistoryError(ImuError):
    """The history database cannot be opened, read or written."""


#: the schema's migrations: each brings it from its index to index + 1; never edit a released one
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,
            recording TEXT NOT NULL,
            path TEXT,
            started_at TEXT NOT NULL,
            date_source TEXT NOT NULL,
            exercise TEXT NOT NULL,
            leg TEXT,
            sample_rate_hz REAL,
            duration_s REAL,
            time_origin_s REAL,
            target_tempo TEXT,
            set_count INTEGER NOT NULL,
            rep_count INTEGER NOT NULL,
            settings_json TEXT NOT NULL,
            notes_json TEXT NOT NULL,
            analysed_at TEXT NOT NULL
        )""",
        "CREATE INDEX sessions_started ON sessions(started_at)",
        """CREATE TABLE sets (
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            set_index INTEGER NOT NULL,
            start_s REAL NOT NULL,
            end_s REAL NOT NULL,
            rep_count INTEGER NOT NULL,
            partial_reps INTEGER NOT NULL,
            tempo TEXT NOT NULL,
            time_under_tension_s REAL,
            velocity_loss_pct REAL,
            rom_loss_deg REAL,
            tempo_adherence_pct REAL,
            flag_counts_json TEXT NOT NULL,
            PRIMARY KEY (session_id, set_index)
        )""",
        """CREATE TABLE reps (
            session_id INTEGER NOT NULL,
            set_index INTEGER NOT NULL,
            rep_index INTEGER NOT NULL,
            start_s REAL NOT NULL,
            top_start_s REAL NOT NULL,
            top_end_s REAL NOT NULL,
            end_s REAL NOT NULL,
            bottom_pause_s REAL,
            peak_angle_deg REAL,
            min_angle_deg REAL,
            peak_velocity_dps REAL,
            peak_lowering_velocity_dps REAL,
            foot_height_cm REAL,
            flags TEXT NOT NULL,
            flag_evidence_json TEXT NOT NULL,
            on_tempo INTEGER,
            PRIMARY KEY (session_id, set_index, rep_index),
            FOREIGN KEY (session_id, set_index) REFERENCES sets(session_id, set_index)
                ON DELETE CASCADE
        )""",
    ),
    (
        # labels files (corrections): a set's exercise may differ from the session's, and the
        # corrections applied are kept with the session
        "ALTER TABLE sets ADD COLUMN exercise TEXT",
        "ALTER TABLE sessions ADD COLUMN corrections_json TEXT NOT NULL DEFAULT '[]'",
    ),
    (
        # a rep added by a labels file where nothing moved has no phases (measured = 0)
        "ALTER TABLE reps ADD COLUMN measured INTEGER NOT NULL DEFAULT 1",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class StoredRep:
    """One rep as the history keeps it. Times in the recording's ``time_s`` base, s."""

    index: int
    start_s: float
    top_start_s: float
    top_end_s: float
    end_s: float
    bottom_pause_s: float | None
    peak_angle_deg: float | None
    min_angle_deg: float | None
    peak_velocity_dps: float | None
    peak_lowering_velocity_dps: float | None
    foot_height_cm: float | None
    flags: tuple[str, ...]
    flag_evidence: Mapping[str, str]  #: flag name → its evidence sentence
    on_tempo: bool | None
    #: False: a rep added by a labels file where nothing moved; its phases are unknown (NaN)
    measured: bool = True

    @property
    def concentric_s(self) -> float:
        return self.top_start_s - self.start_s if self.measured else math.nan

    @property
    def top_hold_s(self) -> float:
        return self.top_end_s - self.top_start_s if self.measured else math.nan

    @property
    def eccentric_s(self) -> float:
        return self.end_s - self.top_end_s if self.measured else math.nan


@dataclass(frozen=True)
class StoredSet:
    """One set of a stored session."""

    index: int
    exercise: str  #: the session's exercise unless a labels file marked this set otherwise
    start_s: float
    end_s: float
    rep_count: int
    partial_reps: int
    tempo: str
    time_under_tension_s: float | None
    velocity_loss_pct: float | None
    rom_loss_deg: float | None
    tempo_adherence_pct: float | None
    flag_counts: Mapping[str, int]
    reps: tuple[StoredRep, ...]


@dataclass(frozen=True)
class SessionRow:
    """One stored session (one recording)."""

    id: int
    sha256: str
    recording: str  #: file name
    path: str | None  #: absolute path when registered
    started_at: datetime  #: when the session began (UTC)
    date_source: str  #: ``metadata`` (``started_at`` line) or ``file`` (modification time)
    exercise: str
    leg: str | None  #: ``left``, ``right`` or unknown
    sample_rate_hz: float | None
    duration_s: float | None
    time_origin_s: float | None  #: ``time_s`` of the first sample (``started_at`` is then)
    target_tempo: str | None
    set_count: int
    rep_count: int
    settings: Mapping[str, Any]
    notes: tuple[str, ...]
    corrections: tuple[str, ...]
    analysed_at: datetime


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _session_row(row: sqlite3.Row) -> SessionRow:
    return SessionRow(
        id=int(row["id"]),
        sha256=row["sha256"],
        recording=row["recording"],
        path=row["path"],
        started_at=_parse_time(row["started_at"]),
        date_source=row["date_source"],
        exercise=row["exercise"],
        leg=row["leg"],
        sample_rate_hz=row["sample_rate_hz"],
        duration_s=row["duration_s"],
        time_origin_s=row["time_origin_s"],
        target_tempo=row["target_tempo"],
        set_count=int(row["set_count"]),
        rep_count=int(row["rep_count"]),
        settings=json.loads(row["settings_json"]),
        notes=tuple(json.loads(row["notes_json"])),
        corrections=tuple(json.loads(row["corrections_json"])),
        analysed_at=_parse_time(row["analysed_at"]),
    )


@dataclass(frozen=True)
class NewSession:
    """What :meth:`HistoryStore.put` stores: a session's header, sets and reps."""

    sha256: str
    recording: str
    path: str | None
    started_at: datetime
    date_source: str
    exercise: str
    leg: str | None
    sample_rate_hz: float | None
    duration_s: float | None
    time_origin_s: float | None
    target_tempo: str | None
    settings: Mapping[str, Any]
    notes: Sequence[str]
    corrections: Sequence[str]
    sets: Sequence[StoredSet]


#: columns of :meth:`HistoryStore.set_frame` and ``rep_frame`` that hold text
_TEXT_COLUMNS = frozenset(
    {"started_at", "recording", "leg", "exercise", "tempo", "flags", "flag_counts_json"}
)


class HistoryStore:
    """The history database at ``path`` (created, or migrated to :data:`SCHEMA_VERSION`)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise HistoryError(f"history database {self.path}: is a directory")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"history database {self.path}: cannot be opened ({exc})") from None
        self._db.row_factory = sqlite3.Row
        try:
            self._set_up()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise HistoryError(
                f"history database {self.path}: not usable ({exc}); "
                "move it aside or pass another --db"
            ) from None

    def _set_up(self) -> None:
        """Pragmas and migration; the WAL switch and the migration are retried while another
        process holds the lock: SQLite answers "database is locked" at once, without waiting the
        busy timeout, when several processes open a new database together and each switches it
        to WAL (``imu analyze -j``)."""
        self._db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.execute("PRAGMA foreign_keys = ON")
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._migrate()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (``BEGIN IMMEDIATE``) so writers queue."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise HistoryError(f"history database {self.path}: busy ({exc})") from None
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version == SCHEMA_VERSION:
            return
        with self.transaction() as db:
            version = int(db.execute("PRAGMA user_version").fetchone()[0])  # under the lock
            if version > SCHEMA_VERSION:
                raise HistoryError(
                    f"history database {self.path}: schema version {version} is newer than this "
                    f"imu understands ({SCHEMA_VERSION}); upgrade imu"
                )
            for step in MIGRATIONS[version:]:
                for statement in step:
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    # ----------------------------------------------------------------------------------------
    # writing

    def put(self, session: NewSession) -> tuple[int, bool]:
        """Store a session, replacing the one with the same ``sha256``; return (id, was new)."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        header = {
            "sha256": session.sha256,
            "recording": session.recording,
            "path": session.path,
            "started_at": session.started_at.astimezone(UTC).isoformat(timespec="seconds"),
            "date_source": session.date_source,
            "exercise": session.exercise,
            "leg": session.leg,
            "sample_rate_hz": session.sample_rate_hz,
            "duration_s": session.duration_s,
            "time_origin_s": session.time_origin_s,
            "target_tempo": session.target_tempo,
            "set_count": len(session.sets),
            "rep_count": sum(s.rep_count for s in session.sets),
            "settings_json": json.dumps(session.settings, sort_keys=True),
            "notes_json": json.dumps(list(session.notes)),
            "corrections_json": json.dumps(list(session.corrections)),
            "analysed_at": now,
        }
        with self.transaction() as db:
            found = db.execute(
                "SELECT id FROM sessions WHERE sha256 = ?", (session.sha256,)
            ).fetchone()
            if found is None:
                names = ", ".join(header)
                marks = ", ".join(f":{k}" for k in header)
                cursor = db.execute(f"INSERT INTO sessions ({names}) VALUES ({marks})", header)
                session_id = int(cursor.lastrowid or 0)
            else:
                session_id = int(found["id"])
                assignments = ", ".join(f"{k} = :{k}" for k in header)
                db.execute(
                    f"UPDATE sessions SET {assignments} WHERE id = :id",
                    {**header, "id": session_id},
                )
                db.execute("DELETE FROM sets WHERE session_id = ?", (session_id,))
            db.executemany(
                "INSERT INTO sets VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        session_id,
                        s.index,
                        s.start_s,
                        s.end_s,
                        s.rep_count,
                        s.partial_reps,
                        s.tempo,
                        s.time_under_tension_s,
                        s.velocity_loss_pct,
                        s.rom_loss_deg,
                        s.tempo_adherence_pct,
                        json.dumps(dict(s.flag_counts), sort_keys=True),
                        None if s.exercise == session.exercise else s.exercise,
                    )
                    for s in session.sets
                ],
            )
            db.executemany(
                "INSERT INTO reps VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        session_id,
                        s.index,
                        r.index,
                        r.start_s,
                        r.top_start_s,
                        r.top_end_s,
                        r.end_s,
                        r.bottom_pause_s,
                        r.peak_angle_deg,
                        r.min_angle_deg,
                        r.peak_velocity_dps,
                        r.peak_lowering_velocity_dps,
                        r.foot_height_cm,
                        ";".join(r.flags),
                        json.dumps(dict(r.flag_evidence)),
                        None if r.on_tempo is None else int(r.on_tempo),
                        int(r.measured),
                    )
                    for s in session.sets
                    for r in s.reps
                ],
            )
        return session_id, found is None

    def forget(self, session_id: int) -> None:
        """Remove one session with its sets and reps."""
        with self.transaction() as db:
            db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    # ----------------------------------------------------------------------------------------
    # reading

    def sessions(
        self, *, exercise: str | None = None, limit: int | None = None
    ) -> list[SessionRow]:
        """Sessions, oldest first (the newest ``limit`` if given)."""
        where, params = ("WHERE exercise = ?", [exercise]) if exercise else ("", [])
        rows = self._db.execute(
            f"SELECT * FROM sessions {where} ORDER BY started_at DESC, id DESC"
            + (f" LIMIT {int(limit)}" if limit is not None else ""),
            params,
        ).fetchall()
        return [_session_row(r) for r in reversed(rows)]

    def find(self, key: str) -> SessionRow:
        """A session by id, SHA-256 prefix (6+ hex digits) or recording file name."""
        text = key.strip()
        rows: list[sqlite3.Row] = []
        if text.isdigit():
            rows = self._db.execute("SELECT * FROM sessions WHERE id = ?", (int(text),)).fetchall()
        if not rows and len(text) >= 6 and all(c in "0123456789abcdefABCDEF" for c in text):
            rows = self._db.execute(
                "SELECT * FROM sessions WHERE sha256 LIKE ?", (text.lower() + "%",)
            ).fetchall()
        if not rows:
            rows = self._db.execute(
                "SELECT * FROM sessions WHERE recording = ? ORDER BY started_at", (Path(text).name,)
            ).fetchall()
        if not rows:
            raise HistoryError(
                f"no session {key!r} in the history ({self.path}); `imu history` lists them"
            )
        if len(rows) > 1:
            ids = ", ".join(str(r["id"]) for r in rows)
            raise HistoryError(f"{key!r} names {len(rows)} sessions (ids {ids}); give the id")
        return _session_row(rows[0])

    def sets(self, session_id: int) -> list[StoredSet]:
        """A session's sets with their reps, in order."""
        session = self._db.execute(
            "SELECT exercise FROM sessions WHERE id = ?", (session_id,)
        ).fetchone()
        if session is None:
            raise HistoryError(f"no session {session_id} in the history ({self.path})")
        reps: dict[int, list[StoredRep]] = {}
        for r in self._db.execute(
            "SELECT * FROM reps WHERE session_id = ? ORDER BY set_index, rep_index", (session_id,)
        ):
            reps.setdefault(int(r["set_index"]), []).append(
                StoredRep(
                    index=int(r["rep_index"]),
                    start_s=r["start_s"],
                    top_start_s=r["top_start_s"],
                    top_end_s=r["top_end_s"],
                    end_s=r["end_s"],
                    bottom_pause_s=r["bottom_pause_s"],
                    peak_angle_deg=r["peak_angle_deg"],
                    min_angle_deg=r["min_angle_deg"],
                    peak_velocity_dps=r["peak_velocity_dps"],
                    peak_lowering_velocity_dps=r["peak_lowering_velocity_dps"],
                    foot_height_cm=r["foot_height_cm"],
                    flags=tuple(f for f in r["flags"].split(";") if f),
                    flag_evidence=json.loads(r["flag_evidence_json"]),
                    on_tempo=None if r["on_tempo"] is None else bool(r["on_tempo"]),
                    measured=bool(r["measured"]),
                )
            )
        return [
            StoredSet(
                index=int(s["set_index"]),
                exercise=s["exercise"] or session["exercise"],
                start_s=s["start_s"],
                end_s=s["end_s"],
                rep_count=int(s["rep_count"]),
                partial_reps=int(s["partial_reps"]),
                tempo=s["tempo"],
                time_under_tension_s=s["time_under_tension_s"],
                velocity_loss_pct=s["velocity_loss_pct"],
                rom_loss_deg=s["rom_loss_deg"],
                tempo_adherence_pct=s["tempo_adherence_pct"],
                flag_counts=json.loads(s["flag_counts_json"]),
                reps=tuple(reps.get(int(s["set_index"]), ())),
            )
            for s in self._db.execute(
                "SELECT * FROM sets WHERE session_id = ? ORDER BY set_index", (session_id,)
            )
        ]

    def set_frame(self, *, session_ids: Sequence[int] | None = None) -> pd.DataFrame:
        """One row per stored set, with its session's date, recording, leg and exercise."""
        return self._frame(
            """SELECT s.id AS session_id, s.started_at, s.recording, s.leg,
                      COALESCE(t.exercise, s.exercise) AS exercise, t.set_index,
                      t.start_s, t.end_s, t.rep_count, t.partial_reps, t.tempo,
                      t.time_under_tension_s, t.velocity_loss_pct, t.rom_loss_deg,
                      t.tempo_adherence_pct, t.flag_counts_json
               FROM sets t JOIN sessions s ON s.id = t.session_id""",
            "ORDER BY s.started_at, s.id, t.set_index",
            session_ids,
        )

    def rep_frame(self, *, session_ids: Sequence[int] | None = None) -> pd.DataFrame:
        """One row per stored rep, with its set's and session's context."""
        return self._frame(
            """SELECT s.id AS session_id, s.started_at, s.recording, s.leg,
                      COALESCE(t.exercise, s.exercise) AS exercise, r.set_index, r.rep_index,
                      r.start_s, r.top_start_s, r.top_end_s, r.end_s,
                      CASE WHEN r.measured THEN r.top_start_s - r.start_s END AS concentric_s,
                      CASE WHEN r.measured THEN r.top_end_s - r.top_start_s END AS top_hold_s,
                      CASE WHEN r.measured THEN r.end_s - r.top_end_s END AS eccentric_s,
                      r.bottom_pause_s, r.peak_angle_deg, r.min_angle_deg,
                      CASE WHEN r.measured THEN r.peak_angle_deg - r.min_angle_deg END AS rom_deg,
                      r.measured,
                      r.peak_velocity_dps, r.peak_lowering_velocity_dps, r.foot_height_cm,
                      r.flags, r.on_tempo
               FROM reps r JOIN sets t ON t.session_id = r.session_id
                                      AND t.set_index = r.set_index
                           JOIN sessions s ON s.id = r.session_id""",
            "ORDER BY s.started_at, s.id, r.set_index, r.rep_index",
            session_ids,
        )

    def _frame(self, select: str, order: str, session_ids: Sequence[int] | None) -> pd.DataFrame:
        import pandas as pd

        params: list[int] = []
        where = ""
        if session_ids is not None:
            params = [int(i) for i in session_ids]
            where = f"WHERE s.id IN ({', '.join('?' * len(params))})" if params else "WHERE 0"
        cursor = self._db.execute(f"{select} {where} {order}", params)
        names = [d[0] for d in cursor.description]
        frame = pd.DataFrame([tuple(r) for r in cursor.fetchall()], columns=names)
        for name in names:  # a column of NULLs only comes back as objects: make numbers numbers
            if name not in _TEXT_COLUMNS:
                frame[name] = pd.to_numeric(frame[name])
        frame["started_at"] = pd.to_datetime(frame["started_at"], utc=True, format="ISO8601")
        return frame

    def integrity_ok(self) -> bool:
        """SQLite's own ``integrity_check`` and the foreign keys both pass."""
        ok = self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return ok and not self._db.execute("PRAGMA foreign_key_check").fetchall()
