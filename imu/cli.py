"""Command line: ``imu <command> …``. Only this module prints errors and chooses exit codes.

Each command lives in :mod:`imu.commands` as a module with ``register(subparsers)`` and
``run(args) -> int``; heavy modules are imported only by the command that needs them.

One error path: an :class:`~imu.errors.ImuError` or an :class:`OSError` becomes one line on stderr
and exit code 1 (2 for a usage error); anything else is a bug — one line says so and where the
full traceback was written (:func:`write_crash_log`); ``--debug`` prints every traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from imu import __version__
from imu.errors import ImuError, os_error_line

COMMANDS = (
    "analyze",
    "import",
    "simulate",
    "record",
    "replay",
    "report",
    "history",
    "evaluate",
    "scan",
    "profiles",
)
#: commands whose module name differs from the command (``import`` is a Python keyword)
_MODULES = {"import": "import_"}

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
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"imu.commands.{_MODULES.get(name, name)}")
        module.register(sub)
        # also after the command (``imu analyze … --debug``); SUPPRESS keeps ``imu --debug …``
        sub.choices[name].add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP
        )
    return parser


_DEBUG_HELP = "print the full traceback of any error"


def crash_log_dir() -> Path:
    """Where tracebacks of internal errors go: the user's log folder (platformdirs)."""
    import platformdirs

    return Path(platformdirs.user_log_dir("imu", appauthor=False))


def write_crash_log(command: str, arguments: Sequence[str], text: str) -> Path | None:
    """Write one internal error's traceback to a new file in :func:`crash_log_dir` (or the
    temporary folder when that cannot be written); its path, or ``None`` if neither worked."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    header = (
        f"imu {__version__} {command}: {' '.join(arguments)}\n{datetime.now(UTC).isoformat()}\n"
    )
    for folder in (crash_log_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"imu-error-{stamp}-{os.getpid()}.log"
            path.write_text(header + text, encoding="utf-8")
        except OSError:
            continue
        return path
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    arguments = list(argv) if argv is not None else sys.argv[1:]
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exc:  # --help, --version, usage errors
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    args.argv = arguments  # recorded in each output folder's run.json
    debug = bool(getattr(args, "debug", False))
    prefix = f"imu {args.command}"
    module = importlib.import_module(f"imu.commands.{_MODULES.get(args.command, args.command)}")
    try:
        return int(module.run(args))
    except ImuError as exc:
        _error(prefix, str(exc), debug=debug)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"{prefix}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:  # a file or folder the command did not check first
        _error(prefix, os_error_line(exc), debug=debug)
        return EXIT_ERROR
    except Exception as exc:  # a bug: one line, the traceback in a log file
        text = traceback.format_exc()
        log = write_crash_log(args.command, arguments, text)
        where = f"traceback in {log}" if log is not None else "the traceback could not be saved"
        if debug:
            sys.stderr.write(text)
        what = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
        hint = "" if debug else "; --debug prints it"
        print(
            f"{prefix}: internal error ({what}); please report it — {where}{hint}", file=sys.stderr
        )
        return EXIT_ERROR


def _error(prefix: str, message: str, *, debug: bool) -> None:
    if debug:
        traceback.print_exc(file=sys.stderr)
    line = " ".join(message.split())  # one line, whatever the message holds
    print(f"{prefix}: error: {line}", file=sys.stderr)


def main_entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
