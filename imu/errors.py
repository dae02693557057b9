"""One small exception hierarchy. Library code raises these; only the CLI prints and exits."""

from __future__ import annotations

from pathlib import Path


class ImuError(Exception):
    """Base class of every error this package raises on purpose.

    ``str(error)`` is one readable line meant for the user.
    """


class RecordingError(ImuError):
    """A recording cannot be read: names the file, the line (1-based) and the problem."""

    def __init__(self, path: str | Path | None, problem: str, *, line: int | None = None) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.problem = problem
        where = self.path or "<recording>"
        if line is not None:
            where = f"{where}, line {line}"
        super().__init__(f"{where}: {problem}")


class ConfigError(ImuError):
    """A settings file, option or tempo string is invalid."""


class SensorError(ImuError):
    """A BLE sensor could not be found, connected or configured."""
