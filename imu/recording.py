"""Stage 0 — the recording: read and write the contract CSV (contracts §1), find gaps.

A recording is UTF-8 text: optional ``# key: value`` metadata lines, a header row, one row per
sample. Required columns (any order): ``time_s, acc_x_g, acc_y_g, acc_z_g, gyro_x_dps, gyro_y_dps,
gyro_z_dps``; SI variants ``acc_*_mps2`` and ``gyro_*_rads`` are converted on input. Extra columns
are carried along untouched. Samples are never dropped or reordered: bad input raises
:class:`~imu.errors.RecordingError` naming the file, the line and the problem.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import functools
import hashlib
import io
import math
import os
import re
import select
import stat
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from imu.dsp import measured_rate_hz
from imu.errors import RecordingError, os_reason

if TYPE_CHECKING:  # pandas is imported where a file is parsed or written: the maths needs none
    import pandas as pd

__all__ = [
    "GAP_PERIODS",
    "GRAVITY_MPS2",
    "LONG_GAP_S",
    "Gap",
    "Recording",
    "RecordingWriter",
    "find_gaps",
    "read_recording",
    "write_recording",
]

GRAVITY_MPS2 = 9.80665
#: an interval longer than this many nominal sample periods is a gap (samples missing)
GAP_PERIODS = 1.5
#: a gap longer than this, s, is too long to bridge without guessing the motion over it: the leg
#: angle after it comes from the data after it (:mod:`imu.angle`), and a rep's top lost in it is
#: not judged by the accelerometer (:mod:`imu.segmentation.movements`)
LONG_GAP_S = 0.1
AXES = ("x", "y", "z")
TIME_COLUMN = "time_s"
ACC_COLUMNS = tuple(f"acc_{a}_g" for a in AXES)
GYRO_COLUMNS = tuple(f"gyro_{a}_dps" for a in AXES)
REQUIRED_COLUMNS = (TIME_COLUMN, *ACC_COLUMNS, *GYRO_COLUMNS)
_ACC_SI = tuple(f"acc_{a}_mps2" for a in AXES)
_GYRO_SI = tuple(f"gyro_{a}_rads" for a in AXES)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Gap:
    """A stretch where samples are missing: ``[start_s, end_s)`` between two received samples.

    The one gap type: found in a recording (:func:`find_gaps`), reported by a live link
    (:class:`imu.ble.LinkStatus`), written to ``events.jsonl`` and to ``summary.json``."""

    start_s: float  #: time of the last sample before the gap, s
    end_s: float  #: time of the first sample after the gap, s
    missing_samples: int  #: estimated number of samples lost at the nominal rate
    #: a live link dropped and came back (True); else samples or notifications were lost
    reconnect: bool = False

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Recording:
    """Samples of one session in the sensor's own axes.

    Arrays are read-only views; ``acc_g`` and ``gyro_dps`` have shape ``(n, 3)``.
    """

    time_s: FloatArray  #: sensor clock, s, strictly increasing
    acc_g: FloatArray  #: specific force, g
    gyro_dps: FloatArray  #: angular rate, °/s
    metadata: Mapping[str, str] = field(default_factory=dict)  #: ``# key: value`` lines
    extra: pd.DataFrame | None = None  #: extra columns, same length, carried along
    path: str | None = None  #: where it was read from, if anywhere
    #: SHA-256 of the bytes read, for a recording read from a stream (a file can be hashed again)
    sha256: str | None = None

    def __post_init__(self) -> None:
        n = self.time_s.shape[0]
        if self.acc_g.shape != (n, 3) or self.gyro_dps.shape != (n, 3):
            raise ValueError("time_s, acc_g and gyro_dps must have n, (n, 3) and (n, 3) samples")

    def __len__(self) -> int:
        return int(self.time_s.shape[0])

    @property
    def name(self) -> str:
        return Path(self.path).name if self.path else "<memory>"

    @property
    def duration_s(self) -> float:
        return float(self.time_s[-1] - self.time_s[0]) if len(self) > 1 else 0.0

    @functools.cached_property
    def sample_rate_hz(self) -> float:
        """Nominal rate: the ``sample_rate_hz`` metadata if present and within 25 % of the
        timestamps' own rate (1 / median interval), else the timestamps' rate. Computed once
        (the arrays are read-only)."""
        measured = measured_rate_hz(self.time_s)
        declared = self.metadata.get("sample_rate_hz")
        if declared is not None:
            try:
                value = float(declared)
            except ValueError:
                value = math.nan
            if (
                math.isfinite(value)
                and value > 0
                and (not math.isfinite(measured) or abs(value - measured) <= 0.25 * measured)
            ):
                return value
        return measured

    def gaps(self, *, min_missing: int = 1) -> list[Gap]:
        """Gaps of at least ``min_missing`` lost samples (see :func:`find_gaps`)."""
        return find_gaps(self.time_s, sampling_rate_hz=self.sample_rate_hz, min_missing=min_missing)

    def slice_time(self, start_s: float, end_s: float) -> Recording:
        """Samples with ``start_s <= time_s < end_s``."""
        i0, i1 = np.searchsorted(self.time_s, [start_s, end_s])
        extra = None if self.extra is None else self.extra.iloc[i0:i1].reset_index(drop=True)
        return Recording(
            self.time_s[i0:i1],
            self.acc_g[i0:i1],
            self.gyro_dps[i0:i1],
            dict(self.metadata),
            extra,
            self.path,
        )


def find_gaps(time_s: FloatArray, *, sampling_rate_hz: float, min_missing: int = 1) -> list[Gap]:
    """Intervals where at least ``min_missing`` samples are missing at ``sampling_rate_hz``.

    An interval counts as a gap when it is longer than 1.5 nominal sample periods; the number of
    missing samples is the rounded excess. Jitter below half a period is not a gap.
    """
    if time_s.shape[0] < 2 or not sampling_rate_hz > 0:
        return []
    dt = np.diff(time_s)
    period = 1.0 / sampling_rate_hz
    missing = np.rint(dt / period).astype(np.int64) - 1
    idx = np.flatnonzero((dt > GAP_PERIODS * period) & (missing >= min_missing))
    return [Gap(float(time_s[i]), float(time_s[i + 1]), int(max(missing[i], 1))) for i in idx]


# --------------------------------------------------------------------------------------------
# inputs that are not files: pipes, FIFOs, standard input; devices refused; sizes capped

#: the largest recording read, bytes: about 45 h at 100 Hz (a 10 h one needs ~0.8 GB of memory)
MAX_RECORDING_BYTES = 1 << 30
#: a pipe, FIFO or standard input that sends nothing for this long is given up on, s
STREAM_TIMEOUT_S = 5.0
#: how a recording read from standard input (``-``) is named in messages and results
STDIN_NAME = "<stdin>"


def _input_kind(p: Path) -> str:
    """``file``, ``stream`` (a pipe or FIFO) or ``stdin``; anything else is refused with one
    line (:class:`RecordingError`): missing, unreadable, a folder, a device, too large."""
    if str(p) == "-":
        try:
            mode = os.fstat(0).st_mode
        except OSError:
            raise RecordingError(
                STDIN_NAME, "standard input is closed; pipe a recording in"
            ) from None
        if stat.S_ISCHR(mode) or not (stat.S_ISFIFO(mode) or stat.S_ISREG(mode)):
            what = "a terminal" if os.isatty(0) else "not a file or a pipe"
            raise RecordingError(
                STDIN_NAME, f"standard input is {what}; pipe a recording in (imu analyze - < x.csv)"
            )
        return "stdin"
    try:
        st = p.stat()
    except FileNotFoundError:
        raise RecordingError(p, "no such file") from None
    except OSError as exc:
        raise RecordingError(p, f"cannot be read ({os_reason(exc)})") from None
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise RecordingError(p, "is a directory, not a recording CSV")
    if stat.S_ISFIFO(mode):
        return "stream"
    if not stat.S_ISREG(mode):
        kind = {stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device"}.get(
            stat.S_IFMT(mode), "not a regular file"
        )
        raise RecordingError(p, f"is {kind}, not a recording CSV")
    if st.st_size > MAX_RECORDING_BYTES:
        raise RecordingError(p, _too_large(st.st_size))
    return "file"


def _too_large(size: int) -> str:
    return (
        f"{size / 1e9:.2f} GB is more than the {MAX_RECORDING_BYTES / 1e9:.2f} GB a recording may "
        "hold (about 45 h at 100 Hz); split it"
    )


@contextlib.contextmanager
def _spooled(p: Path, name: str, *, stdin: bool) -> Iterator[tuple[Path, str]]:
    """Copy a pipe, FIFO or standard input to a temporary file (deleted afterwards), giving up
    after :data:`STREAM_TIMEOUT_S` without data or beyond :data:`MAX_RECORDING_BYTES`."""
    try:
        # O_NONBLOCK: opening a FIFO with no writer would block; poll() bounds every wait
        fd = 0 if stdin else os.open(p, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise RecordingError(name, f"cannot be read ({os_reason(exc)})") from None
    try:
        with tempfile.TemporaryDirectory(prefix="imu-stream-") as folder:
            copy = Path(folder) / "recording.csv"
            with copy.open("wb") as out:
                sha256 = _copy_stream(fd, out, name)
            yield copy, sha256
    finally:
        if not stdin:
            os.close(fd)


def _copy_stream(fd: int, out: IO[bytes], name: str) -> str:
    """Copy the stream ``fd`` into ``out``; returns the SHA-256 of the bytes copied."""
    digest = hashlib.sha256()
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    total = 0
    while True:
        if not poller.poll(int(STREAM_TIMEOUT_S * 1000)):
            if total == 0:
                raise RecordingError(
                    name, f"no data within {STREAM_TIMEOUT_S:g} s (is anything writing to it?)"
                )
            raise RecordingError(
                name, f"the stream stopped for {STREAM_TIMEOUT_S:g} s after {total:,} bytes"
            )
        try:
            chunk = os.read(fd, 1 << 20)
        except BlockingIOError:
            continue
        except OSError as exc:
            raise RecordingError(name, f"cannot be read ({os_reason(exc)})") from None
        if not chunk:
            return digest.hexdigest()
        total += len(chunk)
        if total > MAX_RECORDING_BYTES:
            raise RecordingError(name, _too_large(total))
        digest.update(chunk)
        out.write(chunk)


# --------------------------------------------------------------------------------------------
# reading

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class _Text:
    """A recording's text: metadata, the header row and where the data rows start."""

    metadata: dict[str, str]
    header_line: int  #: 1-based line number of the header row
    header: list[str]
    unnamed: frozenset[str]  #: columns with an empty name in the header (given ``column_<k>``)
    path: Path
    offset: int  #: byte offset in the file where the data rows start

    @property
    def body(self) -> str:
        """Everything after the header row (read and decoded on demand: only to explain an
        error)."""
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            return fh.read().decode("utf-8")

    def has_rows(self) -> bool:
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            while block := fh.read(1 << 16):
                if _NON_SPACE.search(block):
                    return True
        return False

    def body_stream(self) -> IO[bytes]:
        """The data rows as a binary file positioned at the first one (the parser streams it)."""
        fh = self.path.open("rb")
        fh.seek(self.offset)
        return fh

    def data_rows(self) -> tuple[list[int], list[str]]:
        """Line numbers and text of the non-blank data rows (slow; only to explain an error)."""
        numbers: list[int] = []
        rows: list[str] = []
        for k, line in enumerate(_LINE_BREAK.split(self.body)):
            if line.strip():
                numbers.append(self.header_line + 1 + k)
                rows.append(line)
        return numbers, rows


_NON_SPACE = re.compile(rb"\S")
#: bytes read to find the metadata and the header row
_HEAD_BYTES = 1 << 20
_RAW_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


def _check_utf8(path: Path) -> None:
    """Reject text that is not UTF-8, naming the line. ASCII, the usual case, is checked block by
    block without holding the file in memory."""
    with path.open("rb") as fh:
        while block := fh.read(1 << 24):
            if not block.isascii():
                break
        else:
            return
    raw = path.read_bytes()
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise RecordingError(
            path, f"not UTF-8 text ({exc.reason}, byte 0x{byte})", line=line
        ) from None


def _split_text(path: Path, raw: bytes) -> _Text:
    """Read the leading metadata and blank lines and the header row from ``raw``, the start of
    the file (or all of it); the data rows stay in the file."""
    meta: dict[str, str] = {}
    pos = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    line_no = 0
    while pos < len(raw):
        brk = _RAW_LINE_BREAK.search(raw, pos)
        end, nxt = (brk.start(), brk.end()) if brk else (len(raw), len(raw))
        line_no += 1
        line = raw[pos:end].decode("utf-8")
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            if brk is None and len(raw) == _HEAD_BYTES:
                break  # the header row goes on beyond the bytes read
            fields = _csv_fields(line)
            if isinstance(fields, str):
                raise RecordingError(path, fields, line=line_no)
            names = [c.strip() for c in fields]
            header = [c if c else f"column_{k + 1}" for k, c in enumerate(names)]
            unnamed = frozenset(h for h, c in zip(header, names, strict=True) if not c)
            return _Text(meta, line_no, header, unnamed, path, nxt)
        if stripped:
            key, sep, value = stripped[1:].strip().partition(":")
            if sep and key.strip():
                meta[key.strip()] = value.strip()
        pos = nxt
    if len(raw) == _HEAD_BYTES:
        raise RecordingError(
            path,
            f"no sample rows within the first {_HEAD_BYTES // 1024:,} KiB: the metadata lines "
            "and the header row are longer than a recording's can be",
        )
    if raw.strip(b" \t\r\n\xef\xbb\xbf"):
        raise RecordingError(path, "only metadata lines: no header row and no samples")
    raise RecordingError(path, "the file is empty (only blank lines)")


def _csv_fields(line: str) -> list[str] | str:
    """The fields of one CSV line, or why it cannot be split (a field over the csv module's
    limit, a NUL byte)."""
    try:
        return next(csv.reader([line]), [])
    except csv.Error as exc:
        if "field limit" in str(exc):
            return f"a field longer than {csv.field_size_limit():,} characters (not a recording?)"
        return f"not CSV ({exc})"


def _cell_problem(cell: str, column: str) -> str | None:
    """Why one numeric cell is unusable, or ``None`` if it is a finite number."""
    value = cell.strip()
    if value == "":
        return f"an empty cell in column {column!r}"
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or "_" in value:
        return f"non-numeric value {value!r} in column {column!r}"
    if not math.isfinite(number):
        return f"{value!r} in column {column!r} is not a finite number"
    return None


def _row_problem(line: str, header: Sequence[str], columns: Sequence[str]) -> str | None:
    """Why one data row is unusable: wrong number of fields, or a bad numeric cell."""
    if line.lstrip().startswith("#"):
        return "a '#' line among the samples (metadata lines go before the header)"
    fields = _csv_fields(line)
    if isinstance(fields, str):
        return fields
    if len(fields) != len(header):
        few = "only " if len(fields) < len(header) else ""
        s = "" if len(fields) == 1 else "s"
        return f"the row has {few}{len(fields)} field{s} but the header has {len(header)} columns"
    for col in columns:
        problem = _cell_problem(fields[header.index(col)], col)
        if problem is not None:
            return problem
    return None


def _first_bad_row(
    text: _Text, columns: Sequence[str], *, start: int = 0
) -> tuple[int, str] | None:
    """Slow path, only after the fast parse failed: the first bad row at or after ``start``."""
    numbers, rows = text.data_rows()
    for k in range(start, len(rows)):
        problem = _row_problem(rows[k], text.header, columns)
        if problem is not None:
            return numbers[k], problem
    return None


def read_recording(path: str | os.PathLike[str]) -> Recording:
    """Read a recording CSV (contracts §1), converting SI columns to g and °/s.

    ``path`` may be a file, a pipe or FIFO (``<(gunzip -c x.csv.gz)``), or ``-`` for standard
    input; a stream is read whole first (:func:`_spooled`). Raises :class:`RecordingError` for a
    missing, unreadable or empty file, a device or a terminal, a stream that sends nothing for
    :data:`STREAM_TIMEOUT_S`, input over :data:`MAX_RECORDING_BYTES`, text that is not UTF-8,
    missing or duplicate columns (with a hint when the separator is not a comma), rows with the
    wrong number of fields, empty, non-numeric or non-finite cells, time that does not strictly
    increase, and units that are obviously wrong. Line numbers in the messages are the file's own
    (1-based), metadata and blank lines included.
    """
    p = Path(path)
    kind = _input_kind(p)
    if kind == "file":
        return _read_csv(p)
    name = STDIN_NAME if kind == "stdin" else str(p)
    with _spooled(p, name, stdin=kind == "stdin") as (copy, sha256):
        try:
            recording = _read_csv(copy)
        except RecordingError as exc:
            raise RecordingError(name, exc.problem, line=exc.line) from None
    return dataclasses.replace(recording, path=name, sha256=sha256)


def _read_csv(p: Path) -> Recording:
    """:func:`read_recording` on a regular file."""
    text = _read_head(p)
    acc_cols, acc_divisor, gyro_cols, gyro_scale = _sample_columns(p, text)
    if not text.has_rows():
        raise RecordingError(p, "header but no samples", line=text.header_line)
    numeric_cols = [TIME_COLUMN, *acc_cols, *gyro_cols]
    frame = _parse_rows(p, text, numeric_cols)
    columns = [frame[c].to_numpy(dtype=np.float64) for c in numeric_cols]
    _check_finite(p, text, numeric_cols, columns)
    time_s = np.array(columns[0])
    _check_time(p, text, time_s)
    acc = np.column_stack(columns[1:4]) / acc_divisor
    gyro = np.column_stack(columns[4:7]) * gyro_scale
    del columns
    _check_units(p, acc, gyro, acc_cols, gyro_cols)
    # a trailing comma on every line makes a nameless, empty column: not data, drop it
    extra_cols = [
        c
        for c in text.header
        if c not in numeric_cols and not (c in text.unnamed and bool(frame[c].isna().all()))
    ]
    extra = frame[extra_cols].reset_index(drop=True) if extra_cols else None
    for arr in (time_s, acc, gyro):
        arr.setflags(write=False)
    return Recording(time_s, acc, gyro, text.metadata, extra, str(p))


def _read_head(p: Path) -> _Text:
    """The metadata and the header row of a file that is UTF-8 text, with no duplicate
    columns."""
    try:
        with p.open("rb") as fh:
            head = fh.read(_HEAD_BYTES)
    except OSError as exc:
        raise RecordingError(p, f"cannot be read ({exc.strerror or exc})") from None
    if not head:
        raise RecordingError(p, "the file is empty")
    _check_utf8(p)
    text = _split_text(p, head)
    header = text.header
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise RecordingError(p, f"duplicate column(s) {', '.join(dupes)}", line=text.header_line)
    return text


def _sample_columns(p: Path, text: _Text) -> tuple[list[str], float, list[str], float]:
    """The accelerometer and gyroscope columns (native or SI) and the factors that bring them
    to g and °/s; the time column must be there too."""
    header, header_line = text.header, text.header_line
    # SI → native: divide by g (so 9.80665 m/s² is exactly 1 g), multiply by 180/π
    acc_cols, acc_divisor = _pick_columns(
        p, header, ACC_COLUMNS, _ACC_SI, GRAVITY_MPS2, header_line
    )
    gyro_cols, gyro_scale = _pick_columns(
        p, header, GYRO_COLUMNS, _GYRO_SI, 180.0 / math.pi, header_line
    )
    if TIME_COLUMN not in header:
        raise RecordingError(
            p,
            f"missing column {TIME_COLUMN!r} in the header" + _separator_hint(header),
            line=header_line,
        )
    return acc_cols, acc_divisor, gyro_cols, gyro_scale


def _parse_rows(p: Path, text: _Text, numeric_cols: Sequence[str]) -> pd.DataFrame:
    """The data rows, ``numeric_cols`` as float64; on any problem the first bad row is found
    by the slow path and named with its line."""
    frame = None
    if set(text.header) == set(numeric_cols):
        # numbers only: the parser reads " 1.5" as 1.5 without being told to skip spaces, and
        # is faster so; anything it does not take (a blank cell, a quote) goes the full way
        with contextlib.suppress(ValueError, TypeError, Warning):
            frame = _read_numbers(text, numeric_cols, skip_spaces=False)
    try:
        if frame is None:
            frame = _read_numbers(text, numeric_cols, skip_spaces=True)
    except (ValueError, TypeError, Warning) as exc:  # ParserError is a ValueError
        found = _first_bad_row(text, numeric_cols)
        if found is None:
            detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise RecordingError(p, f"malformed CSV ({detail})") from None
        raise RecordingError(p, found[1], line=found[0]) from None
    if len(frame) == 0:  # e.g. a byte-order mark alone after the header
        raise RecordingError(p, "header but no samples", line=text.header_line)
    return frame


def _read_numbers(text: _Text, numeric_cols: Sequence[str], *, skip_spaces: bool) -> pd.DataFrame:
    """The data rows parsed by pandas' C parser, ``numeric_cols`` as float64; any warning is
    raised as an error."""
    import pandas as pd

    with warnings.catch_warnings(), text.body_stream() as body:
        warnings.simplefilter("error")
        return pd.read_csv(
            body,
            encoding="utf-8",
            header=None,
            names=text.header,
            index_col=False,
            skipinitialspace=skip_spaces,
            dtype={c: np.float64 for c in numeric_cols},
            engine="c",
        )


def _check_finite(
    p: Path, text: _Text, numeric_cols: Sequence[str], columns: Sequence[FloatArray]
) -> None:
    """Every numeric cell parsed to a finite number, or the first row where one did not."""
    bad_rows = [np.flatnonzero(~np.isfinite(col)) for col in columns]
    if not any(b.size for b in bad_rows):
        return
    row = int(min(b[0] for b in bad_rows if b.size))
    found = _first_bad_row(text, numeric_cols, start=row)
    if found is None:  # pragma: no cover - pandas and the slow path disagree
        col = numeric_cols[next(k for k, b in enumerate(bad_rows) if row in b)]
        found = (text.data_rows()[0][row], f"a non-finite value in column {col!r}")
    raise RecordingError(p, found[1], line=found[0])


def _check_time(p: Path, text: _Text, time_s: FloatArray) -> None:
    """``time_s`` strictly increases, in seconds (not milliseconds)."""
    if time_s.shape[0] < 2:
        return
    dt = np.diff(time_s)
    bad = np.flatnonzero(dt <= 0)
    if bad.size:
        i = int(bad[0]) + 1
        verb = "repeats" if dt[bad[0]] == 0 else "goes backwards"
        raise RecordingError(
            p,
            f"time_s {verb} ({time_s[i - 1]:g} s then {time_s[i]:g} s); it must strictly increase",
            line=text.data_rows()[0][i],
        )
    step = float(np.median(dt))
    if step >= 1.0 and time_s.shape[0] >= 10:
        raise RecordingError(
            p,
            f"time_s advances by a median {step:g} per sample; an IMU samples far faster "
            "than 1 Hz, so this looks like milliseconds — time_s must be in seconds",
        )


def _pick_columns(
    path: Path,
    header: Sequence[str],
    native: Sequence[str],
    si: Sequence[str],
    si_factor: float,
    header_line: int,
) -> tuple[list[str], float]:
    if all(c in header for c in native):
        return list(native), 1.0
    if all(c in header for c in si):
        return list(si), si_factor
    present_native = [c for c in native if c in header]
    present_si = [c for c in si if c in header]
    if present_si and not present_native:
        missing = [c for c in si if c not in header]
    else:
        missing = [c for c in native if c not in header]
    raise RecordingError(
        path,
        f"missing column(s) {', '.join(repr(m) for m in missing)} in the header"
        + _separator_hint(header),
        line=header_line,
    )


_OTHER_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "'|'"}


def _separator_hint(header: Sequence[str]) -> str:
    """A hint when the header looks separated by something other than commas."""
    text = ",".join(header)
    for sep, name in _OTHER_SEPARATORS.items():
        if text.count(sep) >= 2 and sep not in ",".join(REQUIRED_COLUMNS):
            return (
                f"; the header looks separated by {name}, but a recording CSV separates its "
                "fields by commas (and uses '.' for decimals): re-export it with commas"
            )
    return ""


def _check_units(
    path: Path,
    acc_g: FloatArray,
    gyro_dps: FloatArray,
    acc_cols: Sequence[str],
    gyro_cols: Sequence[str],
) -> None:
    """Reject units that are obviously wrong: judged on the stillest samples."""
    norm = np.sqrt(np.einsum("ij,ij->i", acc_g, acc_g))
    rate = np.sqrt(np.einsum("ij,ij->i", gyro_dps, gyro_dps))
    # the stillest tenth of the samples: gravity only, and little rotation
    k = max(1, norm.shape[0] // 10)
    still = np.argpartition(rate, k - 1)[:k] if norm.shape[0] > k else np.arange(norm.shape[0])
    g_level = float(np.median(norm[still]))
    if acc_cols[0].endswith("_g") and 6.0 < g_level < 14.0:
        raise RecordingError(
            path,
            f"{acc_cols[0]} etc. read {g_level:.1f} at rest, which looks like m/s², not g "
            "(rename the columns acc_*_mps2 or convert)",
        )
    if acc_cols[0].endswith("_mps2") and 0.06 < g_level < 0.14:
        raise RecordingError(
            path,
            f"{acc_cols[0]} etc. read {g_level * GRAVITY_MPS2:.2f} at rest, which looks like g, "
            "not m/s² "
            "(rename the columns acc_*_g or convert)",
        )
    if not 0.3 < g_level < 3.0:
        raise RecordingError(
            path,
            f"the accelerometer reads {g_level:.3g} g at rest; "
            "expected about 1 g — check the units",
        )
    rate_level = float(np.median(rate))
    if gyro_cols[0].endswith("_rads") and rate_level > 100.0:
        raise RecordingError(
            path,
            f"{gyro_cols[0]} etc. have a median magnitude of {rate_level / 57.3:.0f} rad/s, "
            "which looks like °/s (rename the columns gyro_*_dps)",
        )


# --------------------------------------------------------------------------------------------
# writing


def _format_metadata(metadata: Mapping[str, object]) -> str:
    lines = []
    for key, value in metadata.items():
        text = str(value).replace("\n", " ")
        lines.append(f"# {key}: {text}\n")
    return "".join(lines)


def write_recording(
    path: str | os.PathLike[str],
    recording: Recording,
    *,
    decimals: int = 5,
) -> Path:
    """Write ``recording`` as contract CSV (native units), metadata lines first.

    Samples get ``decimals`` decimals; ``time_s`` gets at least 6 (microseconds, as
    :class:`RecordingWriter` writes it), so reading a recording and writing it back keeps its
    clock exactly.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    time_fmt = f"%.{max(decimals, 6)}f"
    columns: dict[str, FloatArray | list[str]] = {
        TIME_COLUMN: [time_fmt % t for t in recording.time_s.tolist()]
    }
    for i, name in enumerate(ACC_COLUMNS):
        columns[name] = recording.acc_g[:, i]
    for i, name in enumerate(GYRO_COLUMNS):
        columns[name] = recording.gyro_dps[:, i]
    import pandas as pd

    frame = pd.DataFrame(columns)
    if recording.extra is not None:
        for col in recording.extra.columns:
            frame[col] = recording.extra[col].to_numpy()
    with p.open("w", encoding="utf-8", newline="") as fh:
        fh.write(_format_metadata(recording.metadata))
        frame.to_csv(fh, index=False, float_format=f"%.{decimals}f", lineterminator="\n")
    return p


class RecordingWriter:
    """Append samples to a contract CSV as they arrive, flushing to disk at least every ``flush_s``.

    Each flush is followed by ``os.fsync`` so that a killed process leaves at most the last
    ``flush_s`` of data unwritten, and the file always ends on a whole row. Use as a context
    manager. Extra columns (e.g. ``seq``) are written after the required ones.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        metadata: Mapping[str, object],
        extra_columns: Sequence[str] = (),
        flush_s: float = 0.5,
        decimals: int = 5,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.extra_columns = tuple(extra_columns)
        self.flush_s = flush_s
        self.rows_written = 0
        self._decimals = decimals
        self._fh: IO[str] | None = self.path.open("w", encoding="utf-8", newline="")
        self._buffer = io.StringIO()
        self._last_flush_t: float | None = None
        header = ",".join([*REQUIRED_COLUMNS, *self.extra_columns])
        self._fh.write(_format_metadata(metadata) + header + "\n")
        self._sync()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def append(
        self,
        time_s: FloatArray,
        acc_g: FloatArray,
        gyro_dps: FloatArray,
        extra: Mapping[str, npt.ArrayLike] | None = None,
    ) -> None:
        """Buffer a block of samples; flush if ``flush_s`` of recording time has passed."""
        if self._fh is None:
            raise ValueError("the recording writer is closed")
        n = time_s.shape[0]
        if n == 0:
            return
        block = np.column_stack([time_s, acc_g, gyro_dps])
        cols = [block]
        for name in self.extra_columns:
            values = np.asarray((extra or {}).get(name, np.full(n, np.nan)), dtype=np.float64)
            cols.append(values.reshape(n, 1))
        data = np.hstack(cols)
        fmt = ["%.6f"] + [f"%.{self._decimals}f"] * 6 + ["%.10g"] * len(self.extra_columns)
        np.savetxt(self._buffer, data, fmt=fmt, delimiter=",")
        self.rows_written += n
        now = float(time_s[-1])
        if self._last_flush_t is None:
            self._last_flush_t = float(time_s[0])
        if now - self._last_flush_t >= self.flush_s:
            self.flush()
            self._last_flush_t = now

    def flush(self) -> None:
        """Write buffered rows and fsync."""
        if self._fh is None:
            return
        text = self._buffer.getvalue()
        if text:
            self._fh.write(text)
            self._buffer = io.StringIO()
        self._sync()

    def _sync(self) -> None:
        assert self._fh is not None
        self._fh.flush()
        with contextlib.suppress(OSError):  # e.g. pipes
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is None:
            return
        self.flush()
        self._fh.close()
        self._fh = None
