"""``imu report SESSION|FILE.csv --out report.html`` — one self-contained page to share."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from imu.commands.analyze import add_history_arguments, add_settings_arguments, settings_from_args
from imu.errors import ImuError
from imu.outputs import check_output_file


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="one self-contained HTML page of a session: sets, charts, reps, flags, trend",
        description=(
            "Write a report of a recording (FILE.csv: analysed now and kept in the history) or of "
            "a session in the history (its id, hash prefix or file name; re-analysed from its "
            "recording with the settings it was analysed with)."
        ),
    )
    p.add_argument("source", metavar="SESSION|FILE.csv", help="a session or a recording")
    p.add_argument("--out", metavar="FILE.html", default="report.html", help="default: report.html")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    add_history_arguments(p)
    add_settings_arguments(p)


def _stored_settings(values: dict[str, Any]) -> Any:
    from imu.settings import Settings

    fields = {f.name for f in dataclasses.fields(Settings)}
    kept = {k: v for k, v in values.items() if k in fields}
    if isinstance(kept.get("hip_line_segment_s"), list):
        kept["hip_line_segment_s"] = tuple(kept["hip_line_segment_s"])
    return Settings(**kept)


def run(args: argparse.Namespace) -> int:
    from imu.history import register
    from imu.pipeline import analyze
    from imu.report import write_report

    source = Path(args.source)
    out = check_output_file(args.out)
    if source.exists():
        settings = settings_from_args(args)
        path = source
    else:
        from imu.history import open_history
        from imu.history.store import HistoryError
        from imu.summary import file_sha256

        with open_history(args.db) as store:
            try:
                row = store.find(args.source)
            except HistoryError:
                if source.suffix.lower() == ".csv":
                    raise ImuError(
                        f"{source}: no such file, nor a session of that name in the history"
                    ) from None
                raise
        if row.path is None or not Path(row.path).is_file():
            raise ImuError(
                f"session {row.id}: its recording {row.path or row.recording} is no longer there; "
                "pass the recording CSV instead"
            )
        if file_sha256(row.path) != row.sha256:
            raise ImuError(f"session {row.id}: {row.path} has changed since it was analysed")
        settings = _stored_settings(dict(row.settings))
        path = Path(row.path)
    from imu.corrections import labels_path_for

    beside = labels_path_for(path)  # corrections beside the recording apply here too
    result = analyze(path, settings=settings, labels=beside if beside.is_file() else None)
    session_id = None
    if not args.no_history:
        session_id, _new = register(result, path, db=args.db)
    write_report(result, out, history=not args.no_history, db=args.db, session_id=session_id)
    if not args.quiet:
        print(
            f"wrote {out} ({len(result.sets)} set(s), {result.rep_count} rep(s)"
            + (f", session {session_id}" if session_id is not None else "")
            + ")"
        )
    return 0
