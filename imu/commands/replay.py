"""``imu replay RECORDING.csv [--speed N]`` — stream a recording through exactly the live path.

The same detector, view and cues as ``imu record``, fed from the file at ``--speed`` × real time
(``--speed 0``: as fast as possible; the events do not depend on the speed or the chunk size).
Writes ``DIR/events.jsonl`` (contracts §4) and, for the finished recording, the same outputs as
``imu analyze``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from imu.commands.analyze import (
    add_chart_arguments,
    add_live_arguments,
    add_settings_arguments,
    print_report,
    settings_from_args,
)
from imu.errors import ConfigError
from imu.outputs import check_output_dir

EVENTS_FILE = "events.jsonl"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "replay",
        help="stream a recording through the live path: live view, cues, events.jsonl",
        description=(
            "Replay a recording CSV through exactly the live path (the view, the spoken cues, "
            "the events) and write DIR/events.jsonl plus the outputs of `imu analyze`."
        ),
    )
    p.add_argument("recording", help="recording CSV")
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        metavar="N",
        help="N × real time (default 1; 0 = as fast as possible)",
    )
    p.add_argument("--out", metavar="DIR", default="out", help="output folder (default: out)")
    p.add_argument(
        "--chunk-samples",
        type=int,
        default=None,
        metavar="N",
        help="samples per block fed to the live path (default: 50 ms worth, like BLE packets)",
    )
    add_live_arguments(p, audio_note=" (at --speed 0 nothing is played)")
    add_chart_arguments(p)
    p.add_argument(
        "--quiet", "-q", action="store_true", help="no view, no sound, print nothing but errors"
    )
    add_settings_arguments(p)


def run(args: argparse.Namespace) -> int:
    import asyncio  # here: every command's module is imported to build the CLI

    from imu.live.audio import Cues, NullSink, RecordingSink, Sink, open_sink
    from imu.live.session import LiveSession, replay_blocks
    from imu.live.view import LiveView
    from imu.pipeline import analyze
    from imu.recording import read_recording
    from imu.summary import write_outputs

    speed = float(args.speed)
    if not (math.isfinite(speed) and speed >= 0):
        raise ConfigError(f"--speed {args.speed}: expected 0 (as fast as possible) or more")
    if args.chunk_samples is not None and args.chunk_samples < 1:
        raise ConfigError(f"--chunk-samples {args.chunk_samples}: expected 1 or more")
    settings = settings_from_args(args)
    out_dir = check_output_dir(args.out)
    path = Path(args.recording)
    recording = read_recording(path)
    fs = recording.sample_rate_hz
    settings.check_sampling_rate(fs)
    chunk = args.chunk_samples or max(1, round(0.05 * fs))
    out = out_dir.path

    sink: Sink
    if args.quiet or args.audio == "quiet":
        sink = NullSink()
    elif speed == 0:
        sink = RecordingSink()  # a burst of cues faster than real time is not worth playing
    else:
        sink = open_sink(args.audio)
    view = LiveView(mode="off" if args.quiet else args.view)
    with out_dir.writing() as stage:
        with Cues(sink) as cues, view:
            session = LiveSession(
                settings, sampling_rate_hz=fs, view=view, cues=cues, events_path=stage / EVENTS_FILE
            )
            with session:
                blocks = replay_blocks(recording, speed=speed, chunk_samples=chunk)
                asyncio.run(session.run(blocks))
        result = analyze(recording, settings=settings)
        written = write_outputs(
            result,
            stage,
            source_path=str(path),
            argv=getattr(args, "argv", None),
            plots=not args.no_plots,
            plot_format=args.format,
        )
    if not args.quiet:
        counts = session.event_counts
        summary = ", ".join(f"{k} ×{v}" for k, v in sorted(counts.items())) or "no events"
        print(f"live: {session.events_written} event(s) → {out / EVENTS_FILE} ({summary})")
        print_report(result, out, len(written) + 1)
    return 0
