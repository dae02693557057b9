"""Where a command's outputs go: checked before any work starts, written so they always match.

:func:`check_output_dir` and :func:`check_output_file` refuse, before the analysis or the
recording starts, a location that cannot be used: an existing file given as a folder, a folder
that cannot be created (under ``/proc``, below a file) or written (read-only, no permission).

:meth:`OutputDir.writing` gives a fresh hidden folder to write one run's outputs into. When the
run succeeds they are moved into place: a new output folder is the hidden one renamed; into an
existing one, the earlier run's own files are removed first (only where the folder's
``run.json`` says imu made it; see :data:`OWN_FILES`), then the new files are moved in. When the
run fails, the hidden folder is removed and the output folder is left as it was. Either way the
folder never holds two runs' files.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from imu.errors import OutputError, os_reason

__all__ = ["OWN_FILES", "OutputDir", "check_output_dir", "check_output_file"]

#: the names of the files an imu run writes into its output folder (summary.py, charts.py,
#: events.jsonl of the live path): removed before a new run's files are moved in
OWN_FILES = re.compile(
    r"summary\.json|reps\.csv|sets\.csv|run\.json|events\.jsonl|report\.html|batch\.csv"
    r"|(?:overview|set_\d+_(?:angle|tempo))\.(?:png|svg|pdf)"
)
_STAGING_PREFIX = ".imu-partial-"


def _nearest_existing(path: Path) -> Path:
    """``path`` or the closest folder above it that exists (``.`` for a relative path)."""
    current = path
    while True:
        try:
            current.stat()
        except FileNotFoundError:
            parent = current.parent
            if parent == current:
                return current
            current = parent
        else:
            return current


def _probe_writable(folder: Path) -> None:
    """Create and remove a folder in ``folder``: the only test that holds for root, read-only
    mounts and pseudo file systems alike."""
    os.rmdir(tempfile.mkdtemp(prefix=".imu-probe-", dir=folder))


def _where(option: str, path: Path) -> str:
    return f"{option} {path}" if option else str(path)


def _check_creatable(path: Path, option: str, *, what: str, start: Path) -> None:
    """Can ``path`` be created, ``start`` being the first folder it needs? Raises
    :class:`OutputError` naming why not."""
    base = start
    try:
        base = _nearest_existing(start)
        if not base.is_dir():
            raise OutputError(
                f"{_where(option, path)}: {base} is a file, so the {what} cannot be created there"
            )
        _probe_writable(base)
    except OSError as exc:
        reason = os_reason(exc)
        if exc.errno == errno.ENOENT:  # from mkdir in a folder that exists: a pseudo file system
            reason = "that file system does not take new files"
        raise OutputError(
            f"{_where(option, path)}: cannot create it in {base}/ ({reason})"
        ) from None


@dataclass(frozen=True)
class OutputDir:
    """An output folder that was checked; write into it with :meth:`writing`."""

    path: Path
    option: str = "--out"  #: the option that named it, for the messages

    def _own_earlier_files(self) -> list[Path]:
        """Files of the run that made this folder (nothing unless its run.json is imu's)."""
        try:
            record = json.loads((self.path / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        if not isinstance(record, dict) or record.get("tool") != "imu":
            return []
        return [
            p
            for p in self.path.iterdir()
            if p.is_file() and OWN_FILES.fullmatch(p.name) is not None
        ]

    def clear_earlier(self, *, keep: tuple[str, ...] = ()) -> None:
        """Remove the earlier run's own files (not ``keep``), e.g. before a recording writes
        its ``events.jsonl`` into the folder."""
        try:
            for p in self._own_earlier_files():
                if p.name not in keep:
                    p.unlink()
        except OSError as exc:
            raise OutputError(
                f"{_where(self.option, self.path)}: cannot remove the earlier run's files "
                f"({os_reason(exc)})"
            ) from None

    @contextlib.contextmanager
    def writing(self, *, keep: tuple[str, ...] = ()) -> Iterator[Path]:
        """A fresh hidden folder for this run's outputs; on success they replace the earlier
        run's own files in :attr:`path` (those named in ``keep``, already written there by this
        run, stay); on failure nothing in :attr:`path` changes."""
        target = self.path
        try:
            existed = target.is_dir()
            if existed:
                stage = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=target))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                stage = Path(
                    tempfile.mkdtemp(prefix=f".{target.name}{_STAGING_PREFIX}", dir=target.parent)
                )
        except OSError as exc:
            raise OutputError(
                f"{_where(self.option, target)}: cannot write there ({os_reason(exc)})"
            ) from None
        try:
            yield stage
            self._commit(stage, existed=existed, keep=keep)
        except OSError as exc:
            raise OutputError(
                f"{_where(self.option, target)}: cannot write the outputs ({os_reason(exc)}"
                + (f": {exc.filename}" if exc.filename else "")
                + ")"
            ) from None
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    def _commit(self, stage: Path, *, existed: bool, keep: tuple[str, ...]) -> None:
        if not existed:
            try:
                os.rename(stage, self.path)  # the whole run appears at once
                return
            except OSError:
                self.path.mkdir(parents=True, exist_ok=True)  # made meanwhile: move in below
        self.clear_earlier(keep=keep)
        for p in sorted(stage.iterdir()):
            os.replace(p, self.path / p.name)


def check_output_dir(path: str | os.PathLike[str], *, option: str = "--out") -> OutputDir:
    """Check, before any work, that ``path`` is or can be made a folder that can be written.

    Raises :class:`~imu.errors.OutputError` with one line naming the option, the path and why.
    """
    p = Path(path)
    try:
        p.stat()
    except FileNotFoundError:
        _check_creatable(p, option, what="folder", start=p)
        return OutputDir(p, option)
    except OSError as exc:
        raise OutputError(f"{_where(option, p)}: cannot be used ({os_reason(exc)})") from None
    if not os.path.isdir(p):
        kind = "a file" if p.is_file() else "not a folder"
        raise OutputError(
            f"{_where(option, p)}: is {kind}, not a folder; name a folder (it is made if missing)"
        )
    try:
        _probe_writable(p)
    except OSError as exc:
        raise OutputError(f"{_where(option, p)}: cannot write there ({os_reason(exc)})") from None
    return OutputDir(p, option)


def check_output_file(path: str | os.PathLike[str], *, option: str = "--out") -> Path:
    """Check, before any work, that the file ``path`` can be created (its folder made and
    written); an existing file is left to the caller (overwrite or refuse)."""
    p = Path(path)
    if p.is_dir():
        raise OutputError(f"{_where(option, p)}: is a folder; name a file")
    _check_creatable(p, option, what="file", start=p.parent)
    return p
