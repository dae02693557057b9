"""One small exception hierarchy. Library code raises these; only the CLI prints and exits."""

from __future__ import annotations

import errno
import os
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


class OutputError(ImuError):
    """An output folder or file cannot be created or written: names it and says why."""


class SettingError(ConfigError):
    """One setting is out of its valid range; ``setting`` names the field, ``value`` its value
    and ``problem`` says what is valid (the CLI names the option that set it)."""

    def __init__(self, setting: str, value: object, problem: str) -> None:
        self.setting = setting
        self.value = value
        self.problem = problem
        super().__init__(f"{setting} {value}: {problem}")


#: plain words for the ``errno`` values a user meets with files and folders
_ERRNO_WORDS = {
    errno.EACCES: "permission denied",
    errno.EPERM: "not permitted",
    errno.EROFS: "read-only file system",
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "is a folder",
    errno.EEXIST: "already exists",
    errno.ENAMETOOLONG: "the name is too long",
    errno.ELOOP: "too many symbolic links",
    errno.EIO: "input/output error",
}


def os_reason(exc: OSError) -> str:
    """What went wrong, in a few plain words (``permission denied``, ``read-only file system``)."""
    if exc.errno in _ERRNO_WORDS:
        return _ERRNO_WORDS[exc.errno]
    return (exc.strerror or type(exc).__name__).lower()


def os_error_line(exc: OSError) -> str:
    """One line for an :class:`OSError`: the path it concerns (when it names one) and why; one
    that names no path says how to see where it happened."""
    if exc.filename is None:
        return f"{os_reason(exc)} (the system named no path; --debug shows where)"
    where = f"{os.fsdecode(exc.filename)}: "
    if exc.filename2 is not None:
        where = f"{os.fsdecode(exc.filename)} → {os.fsdecode(exc.filename2)}: "
    return f"{where}{os_reason(exc)}"


class PhoneExportError(ImuError):
    """A phone app's export (or live stream) cannot be turned into a recording."""


class LabelsError(ImuError):
    """A labels file (corrections, :mod:`imu.corrections`) is invalid or does not fit the
    analysis: names the file, the entry (1-based, where one is at fault) and the problem."""

    def __init__(self, path: str | Path, problem: str, *, entry: int | None = None) -> None:
        self.path = str(path)
        self.entry = entry
        self.problem = problem
        where = self.path if entry is None else f"{self.path}, entry {entry}"
        super().__init__(f"{where}: {problem}")
