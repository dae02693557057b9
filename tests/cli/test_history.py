"""The history database: registration from the commands, schema migration, trends, forget, and
safety under real concurrent processes and a process killed in the middle of a write."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from history_factory import rep, session, simulate

from imu.cli import main
from imu.history import open_history
from imu.history.store import MIGRATIONS, SCHEMA_VERSION, HistoryStore
from imu.history.trends import weekly_trends

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three short sessions on three days of one ISO week (left, right, left leg)."""
    folder = tmp_path_factory.mktemp("week")
    legs = ("left", "right", "left")
    return [
        simulate(folder / f"day{k}.csv", seed=20 + k, start=f"2026-11-{16 + k}", leg=legs[k])
        for k in range(3)
    ]


def test_analyze_registers_once_per_recording(
    week: list[Path], tmp_path: Path, _history_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o"
    assert main(["analyze", str(week[0]), "--out", str(out), "--no-plots"]) == 0
    assert main(["analyze", str(week[0]), "--out", str(out), "--no-plots"]) == 0  # same bytes
    copy = tmp_path / "renamed.csv"
    copy.write_bytes(week[0].read_bytes())  # same content under another name: still one session
    assert main(["analyze", str(copy), "--out", str(out), "--no-plots"]) == 0
    with open_history(_history_db) as store:
        rows = store.sessions()
        assert len(rows) == 1
        row = rows[0]
        assert row.started_at == datetime(2026, 11, 16, 12, tzinfo=UTC)
        assert row.date_source == "metadata" and row.leg == "left"
        summary = json.loads((out / "summary.json").read_text())
        assert row.rep_count == summary["rep_count"] and row.set_count == summary["set_count"]
        stored = store.sets(row.id)
        assert [s.rep_count for s in stored] == [s["rep_count"] for s in summary["sets"]]
        first = summary["sets"][0]["reps"][0]
        assert stored[0].reps[0].peak_angle_deg == pytest.approx(first["peak_angle_deg"], abs=0.01)
    capsys.readouterr()
    assert main(["history"]) == 0
    listing = capsys.readouterr().out
    assert "2026-11-16 12:00" in listing and "renamed.csv" in listing and "left" in listing


def test_no_history_and_db_option(week: list[Path], tmp_path: Path, _history_db: Path) -> None:
    other = tmp_path / "elsewhere.sqlite"
    out = str(tmp_path / "o")
    assert main(["analyze", str(week[1]), "--out", out, "--no-plots", "--no-history"]) == 0
    if _history_db.exists():
        with open_history(_history_db) as store:
            assert not store.sessions()
    assert main(["analyze", str(week[1]), "--out", out, "--no-plots", "--db", str(other)]) == 0
    with open_history(other) as store:
        assert [r.recording for r in store.sessions()] == ["day1.csv"]


def test_forget_and_unknown_session(
    week: list[Path], tmp_path: Path, _history_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for p in week[:2]:
        assert main(["analyze", str(p), "--out", str(tmp_path / p.stem), "--no-plots"]) == 0
    with open_history(_history_db) as store:
        first = store.sessions()[0]
    assert main(["history", "forget", first.sha256[:10]]) == 0
    with open_history(_history_db) as store:
        assert [r.recording for r in store.sessions()] == ["day1.csv"]
        assert store.rep_frame(session_ids=[first.id]).empty  # its reps went with it
        assert store.integrity_ok()
    capsys.readouterr()
    assert main(["history", "forget", "999"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no session '999'" in err[0]


def test_trends_per_week_exercise_and_leg(tmp_path: Path) -> None:
    monday = datetime(2026, 11, 16, 9, tzinfo=UTC)
    with HistoryStore(tmp_path / "h.sqlite") as store:
        # week 47: a left session (1 of 3 reps flagged) and a right one (all clean)
        store.put(
            session(
                "a" * 64,
                started_at=monday,
                leg="left",
                reps=(rep(1, peak_deg=-2.0), rep(2, flags=("momentum",), peak_deg=4.0), rep(3)),
                velocity_loss_pct=10.0,
            )
        )
        store.put(
            session(
                "b" * 64, started_at=monday + timedelta(days=3), leg="right", velocity_loss_pct=30.0
            )
        )
        # week 48: prone leg lifts, one session
        store.put(
            session("c" * 64, started_at=monday + timedelta(days=7), exercise="prone-leg-lift")
        )
        trends = weekly_trends(store.rep_frame(), store.set_frame())
    assert list(trends["week"]) == ["2026-W47", "2026-W48"]
    w47 = trends.iloc[0]
    assert (w47["sessions"], w47["sets"], w47["reps"]) == (2, 2, 6)
    assert w47["clean_pct"] == pytest.approx(100.0 * 5 / 6)
    assert (w47["left_reps"], w47["right_reps"]) == (3, 3)
    assert w47["left_peak_angle_deg"] == pytest.approx(0.0)
    assert w47["velocity_loss_pct"] == pytest.approx(20.0)
    assert str(w47["week_start"]) == "2026-11-16"
    assert trends.iloc[1]["exercise"] == "prone-leg-lift"


def test_trends_command_table_and_charts(
    week: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", *map(str, week), "--out", str(tmp_path / "o"), "--no-plots"]) == 0
    capsys.readouterr()
    assert main(["history", "trends", "--out", str(tmp_path / "charts")]) == 0
    out = capsys.readouterr().out
    assert "2026-W47" in out and "reverse-hyper" in out
    png = tmp_path / "charts" / "trends.png"
    assert png.stat().st_size > 20_000


def test_trend_panels_without_data_say_why(tmp_path: Path) -> None:
    """No session had a target tempo: that panel explains itself instead of showing an empty
    scale; the share panels span 0–100 %."""
    from imu.history.charts import trends_figure

    with HistoryStore(tmp_path / "h.sqlite") as store:
        store.put(session("a" * 64, started_at=datetime(2026, 11, 16, 9, tzinfo=UTC)))
        trends = weekly_trends(store.rep_frame(), store.set_frame())
    assert trends["tempo_adherence_pct"].isna().all()  # the factory's reps have no target
    panels = {ax.get_title(loc="left"): ax for ax in trends_figure(trends).axes}
    tempo = panels["reps on the target tempo"]
    assert not tempo.lines and not tempo.get_yticks().size
    assert any("no target tempo" in t.get_text() for t in tempo.texts)
    clean = panels["clean reps (no flag)"]
    assert clean.lines and clean.get_ylim() == (0.0, 105.0) and not clean.texts


def test_trends_into_a_file_is_one_line_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["history", "trends", "--out", str(blocker / "charts")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""  # no table printed first
    (line,) = captured.err.strip().splitlines()
    assert "--out" in line and "a-file" in line


def test_migration_from_version_1_keeps_the_sessions(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    db.execute(
        "INSERT INTO sessions (sha256, recording, started_at, date_source, exercise, set_count, "
        "rep_count, settings_json, notes_json, analysed_at) VALUES "
        "('f00d', 'old.csv', '2026-01-05T10:00:00+00:00', 'metadata', 'reverse-hyper', 0, 0, "
        "'{}', '[]', '2026-01-05T11:00:00+00:00')"
    )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with HistoryStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 3
        (row,) = store.sessions()
        assert row.recording == "old.csv" and row.corrections == ()


def test_newer_or_broken_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    newer = tmp_path / "newer.sqlite"
    db = sqlite3.connect(newer)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.close()
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database" * 100)
    for path, words in ((newer, "newer than this imu"), (junk, "not usable")):
        assert main(["history", "--db", str(path)]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0] and str(path) in err[0]


_WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    sys.path.insert(0, {tests!r})
    from history_factory import session
    from imu.history.store import HistoryStore
    worker, count = int(sys.argv[2]), int(sys.argv[3])
    t = datetime(2026, 11, 16, tzinfo=UTC)
    for k in range(count):
        with HistoryStore(sys.argv[1]) as store:  # a fresh connection each time, as imu does
            store.put(session(f"{{worker:04d}}{{k:060d}}", started_at=t))
            store.put(session("e" * 64, started_at=t))  # every worker rewrites this one
    """
)


def test_concurrent_processes_lose_nothing(tmp_path: Path) -> None:
    """Four real processes writing at once, each session in its own transaction."""
    path = tmp_path / "shared.sqlite"
    script = _WRITER.format(tests=str(REPO / "tests"))
    workers, count = 4, 15
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(path), str(w), str(count)])
        for w in range(workers)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * workers
    with HistoryStore(path) as store:
        rows = store.sessions()
        assert len(rows) == workers * count + 1
        assert len({r.sha256 for r in rows}) == len(rows)
        assert len(store.rep_frame()) == 3 * len(rows)  # every session whole: 3 reps each
        assert store.integrity_ok()


def _open_and_close(path: str, start: Any, results: Any) -> None:
    start.wait()  # all open at the same moment
    try:
        HistoryStore(path).close()
    except Exception as exc:  # the message is the result
        results.put(str(exc))
    else:
        results.put("ok")


def test_processes_creating_one_new_database_at_once(tmp_path: Path) -> None:
    """``imu analyze -j`` on a first run: every worker creates the same new database and switches
    it to WAL at once; SQLite answers "database is locked" without waiting, and each must retry
    (CI once failed on this)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    results = context.Queue()
    outcomes: list[str] = []
    for k in range(25):
        start = context.Barrier(4)
        path = str(tmp_path / f"new{k}.sqlite")
        procs = [
            context.Process(target=_open_and_close, args=(path, start, results)) for _ in range(4)
        ]
        for p in procs:
            p.start()
        outcomes += [results.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=60)
    assert [o for o in outcomes if o != "ok"] == []


def test_killed_writer_leaves_the_database_whole(tmp_path: Path) -> None:
    """SIGKILL in the middle of a write transaction: nothing half-written, nothing lost, and the
    next writer is not blocked."""
    path = tmp_path / "crash.sqlite"
    t = datetime(2026, 11, 16, tzinfo=UTC)
    with HistoryStore(path) as store:
        store.put(session("1" * 64, started_at=t))
    script = textwrap.dedent(
        f"""
        import sys, time
        from imu.history.store import HistoryStore
        store = HistoryStore({str(path)!r})
        with store.transaction() as db:
            db.execute("DELETE FROM sessions")
            db.execute(
                "INSERT INTO sessions (sha256, recording, started_at, date_source, exercise, "
                "set_count, rep_count, settings_json, notes_json, analysed_at) VALUES "
                "('half', 'half.csv', '2026', 'file', 'x', 1, 1, '{{}}', '[]', '2026')"
            )
            print("inside", flush=True)
            time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "inside"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    with HistoryStore(path) as store:
        assert [r.sha256 for r in store.sessions()] == ["1" * 64]
        store.put(session("2" * 64, started_at=t))  # the lock died with the process
        assert len(store.sessions()) == 2 and store.integrity_ok()


def test_two_imu_processes_at_once(week: list[Path], tmp_path: Path, _history_db: Path) -> None:
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "imu",
                "analyze",
                str(p),
                "--out",
                str(tmp_path / p.stem),
                "--no-plots",
                "--quiet",
            ]
        )
        for p in week
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    with open_history(_history_db) as store:
        assert sorted(r.recording for r in store.sessions()) == ["day0.csv", "day1.csv", "day2.csv"]
        assert store.integrity_ok()


def test_help_and_analyze_import_no_history_machinery(week: list[Path], tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import contextlib, io, sys
        from imu.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            main(["--help"])
        assert not {{"sqlite3", "matplotlib", "pandas", "platformdirs"}} & set(sys.modules)
        main(["analyze", {str(week[0])!r}, "--out", {str(tmp_path / "o")!r}, "--no-plots",
              "-q", "--no-history"])
        assert not {{"sqlite3", "matplotlib", "platformdirs"}} & set(sys.modules), sys.modules
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)
