"""``imu analyze [RECORDING.csv] --out DIR`` — reps, tempo, flags, per-set summaries, charts."""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from imu.errors import ConfigError, ImuError, SettingError
from imu.outputs import check_output_dir


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that analyses (analyze, replay, record)."""
    g = parser.add_argument_group("analysis settings")
    g.add_argument(
        "--exercise",
        default=None,
        help="exercise profile: auto (default: chosen per set from the recording), reverse-hyper"
        " (bench, machine), prone-leg-lift (floor) or leg-raise (any other single-joint leg"
        " exercise)",
    )
    g.add_argument("--config", metavar="FILE.toml", help="settings file (see README)")
    g.add_argument("--tempo", metavar="E-B-C-T", help="target tempo, e.g. 3-0-2-1")
    g.add_argument(
        "--hip-offset-deg",
        type=float,
        default=None,
        help="hip line elevation for a tilted torso (e.g. on a ball), degrees",
    )
    g.add_argument(
        "--hip-line-segment",
        metavar="START-END",
        default=None,
        help="seconds where the legs were held in line with the body, e.g. 3.0-6.0",
    )
    g.add_argument("--leg-length-m", type=float, default=None, help="hip-to-ankle length, m")
    g.add_argument(
        "--shank-axis",
        default=None,
        choices=["auto", "+x", "-x", "+y", "-y", "+z", "-z"],
        help="sensor axis pointing along the shank toward the foot (default auto: +x)",
    )
    g.add_argument(
        "--rest-threshold-s", type=float, default=None, help="a longer break ends a set, s"
    )


def add_chart_arguments(parser: Any) -> None:
    """``--no-plots`` and ``--format`` (analyze, replay, record)."""
    parser.add_argument("--no-plots", action="store_true", help="skip the charts")
    parser.add_argument(
        "--format", choices=["png", "svg", "pdf"], default="png", help="chart format"
    )


def add_live_arguments(parser: Any, *, audio_note: str = "") -> None:
    """``--view`` and ``--audio`` for the live path (replay, record)."""
    parser.add_argument(
        "--view",
        choices=["auto", "live", "plain", "off"],
        default="auto",
        help="live display: auto (live on a terminal, else plain lines), live, plain, off",
    )
    parser.add_argument(
        "--audio",
        choices=["auto", "quiet", "speech", "tones", "bell"],
        default="auto",
        help="cues: auto (speech, tones or bell, whatever works), speech, tones, bell, quiet"
        + audio_note,
    )


def settings_from_args(args: argparse.Namespace) -> Any:
    from imu.settings import load_settings

    segment = None
    if args.hip_line_segment:
        match = re.fullmatch(
            r"\s*(-?\d+(?:\.\d*)?)\s*(?:-|:|,|\.\.)\s*(-?\d+(?:\.\d*)?)\s*", args.hip_line_segment
        )
        if match is None:
            raise ConfigError(
                f"--hip-line-segment {args.hip_line_segment!r}: expected START-END seconds, "
                "e.g. 3-6 or 3.5:6"
            )
        segment = (float(match.group(1)), float(match.group(2)))
    overrides = {
        "target_tempo": args.tempo,
        "hip_line_offset_deg": args.hip_offset_deg,
        "hip_line_segment_s": segment,
        "leg_length_m": args.leg_length_m,
        "shank_axis": args.shank_axis,
        "rest_threshold_s": args.rest_threshold_s,
    }
    try:
        return load_settings(exercise=args.exercise, config_path=args.config, overrides=overrides)
    except SettingError as exc:
        option = _SETTING_OPTIONS.get(exc.setting)
        if option is None or overrides.get(exc.setting) is None:
            raise
        given = args.hip_line_segment if exc.setting == "hip_line_segment_s" else exc.value
        raise ConfigError(f"{option} {given}: {exc.problem}") from None


#: the option that sets each setting (for messages about a value given on the command line)
_SETTING_OPTIONS = {
    "hip_line_offset_deg": "--hip-offset-deg",
    "hip_line_segment_s": "--hip-line-segment",
    "leg_length_m": "--leg-length-m",
    "rest_threshold_s": "--rest-threshold-s",
}


def add_history_arguments(parser: Any) -> None:
    """``--db`` and ``--no-history`` (analyze, record)."""
    from imu.commands.history import add_db_argument

    add_db_argument(parser)
    parser.add_argument(
        "--no-history", action="store_true", help="do not register the session in the history"
    )


def register(sub: Any) -> None:
    p = sub.add_parser(
        "analyze",
        help="analyse recordings: reps, tempo, form flags, per-set summaries, charts",
        description=(
            "Analyse a recording CSV (without one: the built-in demo session). Several files or "
            "a folder are analysed in parallel, each into OUT/<file stem>/, with a table of all."
        ),
    )
    p.add_argument(
        "recording",
        nargs="*",
        help="recording CSV(s) or folder(s) (default: the built-in demo), or a phone app's "
        "export (Sensor Logger, phyphox: the paths of one recording, as `imu import` takes them)",
    )
    p.add_argument("--out", metavar="DIR", default="out", help="output folder (default: out)")
    add_chart_arguments(p)
    p.add_argument("--report", action="store_true", help="also write report.html (one page)")
    p.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        help="parallel analyses for many files (default: cores)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    labels = p.add_mutually_exclusive_group()
    labels.add_argument(
        "--labels",
        metavar="FILE.json",
        help="corrections to apply (default: FILE.labels.json beside each recording, if there)",
    )
    labels.add_argument(
        "--no-labels", action="store_true", help="ignore the labels file beside the recording"
    )
    add_history_arguments(p)
    add_settings_arguments(p)


def output_options(args: argparse.Namespace) -> Any:
    from imu.batch import OutputOptions

    argv = getattr(args, "argv", None)
    return OutputOptions(
        plots=not args.no_plots,
        plot_format=args.format,
        report=bool(getattr(args, "report", False)),
        history=not args.no_history,
        db=args.db,
        argv=tuple(argv) if argv is not None else None,
        labels_file=getattr(args, "labels", None),
        labels_beside=not getattr(args, "no_labels", True),
    )


def run(args: argparse.Namespace) -> int:
    from imu.batch import analyze_to_folder
    from imu.pipeline import default_recording_path

    settings = settings_from_args(args)
    if args.jobs is not None and args.jobs < 1:
        raise ConfigError(f"--jobs {args.jobs}: expected at least 1")
    options = output_options(args)
    inputs = list(args.recording)
    if inputs and all(_is_phone(p) for p in inputs):
        return _run_phone(inputs, settings, options, args)
    if args.labels and (len(inputs) != 1 or _is_folder(inputs[0])):
        raise ConfigError("--labels names the corrections of one recording; give one recording")
    if len(inputs) > 1 or (inputs and _is_folder(inputs[0])):
        return _run_many(inputs, settings, options, args)
    if inputs:
        path = Path(inputs[0])
    else:
        path = default_recording_path()
        if not path.exists():
            raise ImuError(f"the built-in recording {path} is missing; pass a recording CSV")
    out = check_output_dir(args.out)
    with _progress(enabled=not args.quiet) as say:
        result, written, session_id = analyze_to_folder(path, out, settings, options, progress=say)
    if not args.quiet:
        print_report(result, Path(args.out), len(written))
        if session_id is not None:
            print(f"history: session {session_id} (`imu history`)")
    return 0


#: the recording a phone export becomes, written into the output folder and analysed there
IMPORTED_CSV = "imported.csv"


def _is_phone(path: str) -> bool:
    from imu.phone import is_phone_export

    return is_phone_export(path)


def _run_phone(inputs: list[str], settings: Any, options: Any, args: argparse.Namespace) -> int:
    """A phone app's export (one recording, possibly in two files): imported as ``imu import``
    does into ``OUT/imported.csv`` (its metadata names the originals and their SHA-256), then
    analysed like any recording."""
    from imu.batch import analyze_to_folder
    from imu.phone import load_phone_export
    from imu.recording import write_recording

    imported = load_phone_export(inputs)
    out = check_output_dir(args.out)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    csv = write_recording(Path(args.out) / IMPORTED_CSV, imported.recording, decimals=6)
    with _progress(enabled=not args.quiet) as say:
        result, written, session_id = analyze_to_folder(
            csv, out, settings, options, progress=say, keep=(IMPORTED_CSV,)
        )
    if not args.quiet:
        print(f"{imported.app} export → {csv}")
        print_report(result, Path(args.out), len(written) + 1)
        if session_id is not None:
            print(f"history: session {session_id} (`imu history`)")
    return 0


def _is_folder(path: str) -> bool:
    """Is ``path`` a folder? (A path that cannot be looked at is not: reading it says why.)"""
    try:
        return Path(path).is_dir()
    except OSError:
        return False


def _run_many(inputs: list[str], settings: Any, options: Any, args: argparse.Namespace) -> int:
    from imu.batch import analyze_many, collect_recordings

    paths = collect_recordings(inputs)
    failures: list[str] = []

    def note(outcome: Any) -> None:
        if outcome.error is not None:
            failures.append(outcome.error)
            print(f"imu analyze: error: {outcome.error}", file=sys.stderr, flush=True)

    with _bar(len(paths), enabled=not args.quiet) as advance:

        def done(outcome: Any) -> None:
            note(outcome)
            advance(Path(outcome.path).name)

        outcomes = analyze_many(
            paths, Path(args.out), settings, options, jobs=args.jobs, on_done=done
        )
    table = _write_batch_table(outcomes, Path(args.out))
    if not args.quiet:
        _print_batch(outcomes, table)
    return 1 if failures else 0


def _write_batch_table(outcomes: list[Any], out: Path) -> Path:
    """``OUT/batch.csv``: a row per file."""
    import csv

    out.mkdir(parents=True, exist_ok=True)
    path = out / "batch.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(
            [
                "recording",
                "status",
                "exercise",
                "duration_s",
                "sets",
                "reps",
                "flagged_reps",
                "session_id",
                "out_dir",
                "seconds",
                "error",
            ]
        )
        for o in outcomes:
            writer.writerow(
                [
                    o.path,
                    "ok" if o.ok else "failed",
                    o.exercise,
                    f"{o.duration_s:.1f}",
                    o.sets,
                    o.reps,
                    o.flagged_reps,
                    "" if o.session_id is None else o.session_id,
                    o.out_dir,
                    f"{o.seconds:.2f}",
                    o.error or "",
                ]
            )
    return path


def _print_batch(outcomes: list[Any], table_path: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(outcomes)} recording(s)", title_justify="left")
    for name in ("recording", "status", "exercise", "length", "sets", "reps", "flagged", "out"):
        table.add_column(name, justify="right" if name in ("sets", "reps", "flagged") else "left")
    for o in outcomes:
        minutes = f"{o.duration_s / 60:.1f} min" if o.ok else ""
        table.add_row(
            Path(o.path).name,
            "ok" if o.ok else "[red]failed[/red]",
            o.exercise,
            minutes,
            str(o.sets) if o.ok else "",
            str(o.reps) if o.ok else "",
            str(o.flagged_reps) if o.ok else "",
            o.out_dir if o.ok else (o.error or ""),
        )
    console = Console(width=None if sys.stdout.isatty() else 160)
    console.print(table)
    failed = sum(not o.ok for o in outcomes)
    console.print(
        f"{len(outcomes) - failed} analysed, {failed} failed; table in {table_path}",
        highlight=False,
    )


@contextlib.contextmanager
def _bar(total: int, *, enabled: bool) -> Iterator[Callable[[str], None]]:
    """A progress bar on stderr (when it is a terminal): files done out of ``total``."""
    if not enabled or not sys.stderr.isatty():
        yield lambda _name: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("analysing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("", total=total)
        yield lambda name: bar.update(task, advance=1, description=name)


@contextlib.contextmanager
def _progress(*, enabled: bool) -> Iterator[Callable[[str], None]]:
    """A spinner on stderr naming the stage at work, when stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda _stage: None
        return
    from rich.console import Console

    with Console(stderr=True).status("analysing…") as status:
        yield lambda stage: status.update(f"{stage}…")


def print_report(result: Any, out: Path, n_files: int) -> None:
    """A short human summary on stdout."""
    print(
        f"{result.recording}: {len(result.sets)} set(s), {result.rep_count} rep(s) "
        f"[{result.exercise}, {result.sample_rate_hz:g} Hz]"
    )
    for s in result.sets:
        flags = ", ".join(f"{k} ×{v}" for k, v in s.flag_counts.items()) or "no flags"
        print(
            f"  set {s.index}: {s.rep_count} reps, tempo {s.tempo}, "
            f"{s.start_s:.1f}–{s.end_s:.1f} s, {flags}"
        )
    for note in result.notes:
        print(f"  note: {note}")
    print(f"wrote {n_files} file(s) to {out}/")
