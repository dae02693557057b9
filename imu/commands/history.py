"""``imu history`` — the sessions on record, weekly trends, export (CSV, FIT), forget one."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from imu.errors import ConfigError
from imu.outputs import check_output_dir, check_output_file


def add_db_argument(parser: Any, *, suppress: bool = False) -> None:
    """``--db FILE`` (every command that reads or writes the history)."""
    parser.add_argument(
        "--db",
        metavar="FILE",
        default=argparse.SUPPRESS if suppress else None,
        help="history database (default: $IMU_DB, else history.sqlite in the user data folder)",
    )


def register(sub: Any) -> None:
    p = sub.add_parser(
        "history",
        help="sessions on record; trends per week; export CSV/FIT; forget a session",
        description=(
            "Every session `imu analyze` or `imu record` analysed is kept in a local database. "
            "Without a subcommand: list the sessions."
        ),
    )
    add_db_argument(p)
    p.add_argument("--exercise", help="only this exercise")
    p.add_argument("--limit", type=int, default=None, help="only the newest N sessions")
    verbs = p.add_subparsers(dest="history_command", metavar="SUBCOMMAND")
    trends = verbs.add_parser("trends", help="per week and exercise: volume, form, tempo, legs")
    add_db_argument(trends, suppress=True)
    trends.add_argument("--exercise", default=argparse.SUPPRESS, help="only this exercise")
    trends.add_argument("--out", metavar="DIR", help="also draw the charts into DIR")
    trends.add_argument("--format", choices=["png", "svg", "pdf"], default="png")
    forget = verbs.add_parser("forget", help="remove a session from the history")
    add_db_argument(forget, suppress=True)
    forget.add_argument("session", metavar="SESSION", help="id, hash prefix or file name")
    export = verbs.add_parser("export", help="sets (or reps) as CSV, or sessions as FIT files")
    add_db_argument(export, suppress=True)
    export.add_argument("sessions", nargs="*", metavar="SESSION", help="default: all")
    export.add_argument("--format", choices=["csv", "fit"], default="csv")
    export.add_argument("--per-rep", action="store_true", help="CSV: one row per rep")
    export.add_argument(
        "--out",
        metavar="PATH",
        help="CSV: file (default: stdout); FIT: a .fit file for one session, else a folder",
    )


def run(args: argparse.Namespace) -> int:
    from imu.history import open_history

    with open_history(args.db) as store:
        verb = args.history_command
        if verb is None:
            return _list(store, args)
        if verb == "trends":
            return _trends(store, args)
        if verb == "forget":
            row = store.find(args.session)
            store.forget(row.id)
            print(f"forgot session {row.id} ({row.recording}, {row.started_at:%Y-%m-%d})")
            return 0
        return _export(store, args)


def _console() -> Any:
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 160)


def _list(store: Any, args: argparse.Namespace) -> int:
    from rich.table import Table

    rows = store.sessions(exercise=args.exercise, limit=args.limit)
    if not rows:
        print(f"no sessions in the history yet ({store.path}); `imu analyze FILE.csv` adds one")
        return 0
    table = Table(title=f"{len(rows)} session(s) — {store.path}", title_justify="left")
    for name, justify in (
        ("id", "right"),
        ("date", "left"),
        ("recording", "left"),
        ("exercise", "left"),
        ("leg", "left"),
        ("sets", "right"),
        ("reps", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in rows:
        date = f"{r.started_at:%Y-%m-%d %H:%M}" + ("" if r.date_source == "metadata" else "*")
        table.add_row(
            str(r.id),
            date,
            r.recording,
            r.exercise,
            r.leg or "?",
            str(r.set_count),
            str(r.rep_count),
        )
    console = _console()
    console.print(table)
    if any(r.date_source != "metadata" for r in rows):
        console.print("* no started_at in the recording: the file's modification time")
    return 0


def _fmt(value: Any, digits: int = 0, suffix: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return f"{value:.{digits}f}{suffix}"


def _trends(store: Any, args: argparse.Namespace) -> int:
    from rich.table import Table

    from imu.history.trends import weekly_trends

    if args.out:
        check_output_dir(args.out)  # before any work: a bad folder is one line, not a late error
    exercise = getattr(args, "exercise", None)
    trends = weekly_trends(store.rep_frame(), store.set_frame())
    if exercise:
        trends = trends[trends["exercise"] == exercise]
    if trends.empty:
        print(f"no sessions in the history yet ({store.path})")
        return 0
    table = Table(title="weekly trends", title_justify="left")
    for name in (
        "week",
        "exercise",
        "sessions",
        "sets",
        "reps",
        "clean",
        "on tempo",
        "peak angle",
        "velocity loss",
        "left / right reps",
        "left / right peak",
    ):
        table.add_column(name, justify="left" if name in ("week", "exercise") else "right")
    for r in trends.to_dict("records"):
        table.add_row(
            str(r["week"]),
            str(r["exercise"]),
            str(r["sessions"]),
            str(r["sets"]),
            str(r["reps"]),
            _fmt(r["clean_pct"], 0, " %"),
            _fmt(r["tempo_adherence_pct"], 0, " %"),
            _fmt(r["median_peak_angle_deg"], 1, "°"),
            _fmt(r["velocity_loss_pct"], 0, " %"),
            f"{r['left_reps']} / {r['right_reps']}",
            f"{_fmt(r['left_peak_angle_deg'], 1, '°')} / {_fmt(r['right_peak_angle_deg'], 1, '°')}",
        )
    console = _console()
    console.print(table)
    if args.out:
        from imu.history.charts import write_trend_charts

        written = write_trend_charts(trends, Path(args.out), fmt=args.format)
        console.print(f"wrote {', '.join(str(p) for p in written)}")
    return 0


def _export(store: Any, args: argparse.Namespace) -> int:
    from imu.history.export import rep_table, session_fit, set_table

    rows = [store.find(key) for key in args.sessions] if args.sessions else store.sessions()
    ids = [r.id for r in rows]
    if args.format == "csv":
        out_csv = check_output_file(args.out) if args.out else None  # before the table is built
        table = rep_table if args.per_rep else set_table
        frame = table(store, session_ids=ids)
        if out_csv is not None:
            out_csv.parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(out_csv, index=False, lineterminator="\n")
            print(f"wrote {len(frame)} row(s) to {args.out}", file=sys.stderr)
        else:
            frame.to_csv(sys.stdout, index=False, lineterminator="\n")
        return 0
    if args.per_rep:
        raise ConfigError("--per-rep is for --format csv; a FIT file holds sets")
    if not args.out:
        raise ConfigError("--format fit needs --out FILE.fit (one session) or --out DIR")
    if not rows:
        raise ConfigError("no sessions to export")
    out = Path(args.out)
    if len(rows) == 1 and out.suffix.lower() == ".fit":
        targets = [(rows[0], check_output_file(out))]
    else:
        if out.suffix.lower() == ".fit":
            raise ConfigError(f"--out {out}: {len(rows)} sessions need a folder, not one .fit file")
        check_output_dir(out)
        targets = [
            (r, out / f"{r.started_at:%Y-%m-%d}_{r.id}_{Path(r.recording).stem}.fit") for r in rows
        ]
    for row, path in targets:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".fit.tmp")
        tmp.write_bytes(session_fit(store, row))
        tmp.replace(path)
        print(f"wrote {path} ({row.set_count} set(s), {row.rep_count} rep(s))")
    return 0
