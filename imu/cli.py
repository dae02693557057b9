"""Command line: ``imu <command> …``. Only this module prints errors and chooses exit codes.

Each command lives in :mod:`imu.commands` as a module with ``register(subparsers)`` and
``run(args) -> int``; heavy modules are imported only by the command that needs them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from imu import __version__
from imu.errors import ImuError

COMMANDS = (
    "analyze",
    "simulate",
    "record",
    "replay",
    "report",
    "history",
    "evaluate",
    "scan",
    "profiles",
)

EXIT_OK = 0
EXIT_ERROR = 1  # bad input, bad settings, sensor trouble
EXIT_USAGE = 2  # argparse's own code for bad options
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="imu",
        description="Ankle-IMU coach for reverse hyperextensions: reps, tempo, form flags.",
    )
    parser.add_argument("--version", action="version", version=f"imu {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"imu.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    arguments = list(argv) if argv is not None else sys.argv[1:]
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exc:  # --help, --version, usage errors
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    args.argv = arguments  # recorded in each output folder's run.json
    module = importlib.import_module(f"imu.commands.{args.command}")
    try:
        return int(module.run(args))
    except ImuError as exc:
        print(f"imu {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"imu {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


def main_entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
