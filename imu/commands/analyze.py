"""``imu analyze [RECORDING.csv] --out DIR`` — reps, tempo, flags, per-set summaries, charts."""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from imu.commands._output import check_output_dir
from imu.errors import ConfigError, ImuError, SettingError


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that analyses (analyze, replay, record)."""
    g = parser.add_argument_group("analysis settings")
    g.add_argument(
        "--exercise",
        default=None,
        help="exercise profile: reverse-hyper (default; bench and machine) or prone-leg-lift",
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


def register(sub: Any) -> None:
    p = sub.add_parser(
        "analyze",
        help="analyse a recording: reps, tempo, form flags, per-set summaries, charts",
        description="Analyse a recording CSV. Without a file, analyses the built-in demo session.",
    )
    p.add_argument("recording", nargs="?", help="recording CSV (default: the built-in demo)")
    p.add_argument("--out", metavar="DIR", default="out", help="output folder (default: out)")
    add_chart_arguments(p)
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    add_settings_arguments(p)


def run(args: argparse.Namespace) -> int:
    from imu.pipeline import analyze, default_recording_path
    from imu.summary import write_outputs

    settings = settings_from_args(args)
    path = Path(args.recording) if args.recording else default_recording_path()
    if not args.recording and not path.exists():
        raise ImuError(f"the built-in recording {path} is missing; pass a recording CSV")
    out = check_output_dir(args.out)
    with _progress(enabled=not args.quiet) as say:
        result = analyze(path, settings=settings, progress=say)
        if not args.no_plots:
            say("drawing the charts")
        with out.writing() as stage:
            written = write_outputs(
                result,
                stage,
                source_path=str(path),
                argv=getattr(args, "argv", None),
                plots=not args.no_plots,
                plot_format=args.format,
            )
    if not args.quiet:
        print_report(result, Path(args.out), len(written))
    return 0


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
