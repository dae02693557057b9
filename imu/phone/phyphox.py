"""phyphox (RWTH Aachen; Android and iOS): its CSV exports and its remote-access interface.

As the app's source writes them (``firmware_notes/phone_apps.md`` cites the files):

* a data set is a CSV whose header names every column in double quotes — "Acceleration with
  g": ``"Time (s)","Acceleration x (m/s^2)",…,"Absolute acceleration (m/s^2)"``; "Gyroscope
  (rotation rate)": ``"Time (s)","Gyroscope x (rad/s)",…,"Absolute (rad/s)"``; "Acceleration
  (without g)": ``Linear Acceleration x (m/s^2)`` etc. A custom experiment may put several
  sensors in one set; each sensor then has its own ``Time (s)`` column before its values;
* five dialects: separator comma, tab or semicolon with a decimal point, tab or semicolon with a
  decimal comma; numbers in scientific notation (``9.806650000E0``; iOS ``9.80665E0`` with ten
  significant digits); a missing value is ``NaN`` (Android) or ``""`` (iOS);
* the zip export holds one CSV per set plus ``meta/device.csv`` (``"property","value"`` rows:
  ``deviceModel``, ``deviceBrand`` …) and ``meta/time.csv`` (``"event","experiment time","system
  time","system time text"``: a ``START`` or ``PAUSE`` row each time the measurement was started or
  paused; experiment time runs only while measuring, system time is UTC epoch seconds);
* both platforms report specific force (iOS multiplies Core Motion's reading by −9.81) and rates
  in rad/s, right-handed, so no axis or sign change is needed;
* remote access: ``GET /get?acc_time=T&accX=T|acc_time…`` returns ``{"buffer": {name: {"size":
  n, "updateMode": "partial", "buffer": [values…]}}, "status": {"session": …, "measuring": …}}``
  with every value of a buffer whose reference (the time buffer) exceeds ``T``;
  ``/control?cmd=start`` starts the measurement.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from imu.errors import PhoneExportError
from imu.phone.streams import Convention, PhoneStream, StreamKind

__all__ = [
    "Dialect",
    "TimeEvent",
    "convention_for",
    "parse_dataset",
    "parse_device",
    "parse_time",
    "sniff",
]

#: column names → (kind, axis); "Absolute …" columns are not needed
_COLUMNS: tuple[tuple[re.Pattern[str], StreamKind], ...] = (
    (re.compile(r"^linear acceleration ([xyz]) \(m/s\^2\)$"), "acc_linear"),
    (re.compile(r"^acceleration ([xyz]) \(m/s\^2\)$"), "acc_total"),
    (re.compile(r"^gravity ([xyz]) \(m/s\^2\)$"), "gravity"),
    (re.compile(r"^gyroscope ([xyz]) \(rad/s\)$"), "gyro"),
)
_TIME = "time (s)"
_SEPARATORS = (",", "\t", ";")
#: the value of g phyphox on iOS multiplies Core Motion's readings by
IOS_G_MPS2 = 9.81


@dataclass(frozen=True)
class Dialect:
    separator: str
    decimal: str

    def describe(self) -> str:
        sep = {",": "comma", "\t": "tab", ";": "semicolon"}[self.separator]
        dec = "decimal comma" if self.decimal == "," else "decimal point"
        return f"{sep}-separated, {dec}"


@dataclass(frozen=True)
class TimeEvent:
    event: str  #: START or PAUSE
    experiment_s: float
    system_s: float  #: UTC epoch seconds


def _first_line(text: str) -> str:
    return text.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")


def sniff(text: str) -> tuple[Dialect, list[str]] | None:
    """The dialect and column names if ``text`` starts like a phyphox CSV (every header name
    quoted), else None."""
    line = _first_line(text)
    if not line.startswith('"'):
        return None
    end = line.find('"', 1)
    if end < 0:
        return None
    separator = line[end + 1] if end + 1 < len(line) else ","
    if separator not in _SEPARATORS:
        return None
    names = next(csv.reader([line], delimiter=separator, quotechar='"'))
    body = text.lstrip("\ufeff").split("\n", 3)[1:3]
    decimal = "."
    if separator != "," and any("," in row for row in body):
        decimal = ","
    return Dialect(separator, decimal), [n.strip() for n in names]


def _kind_of(name: str) -> tuple[StreamKind, str] | None:
    low = name.strip().lstrip("'").lower()
    for pattern, kind in _COLUMNS:
        m = pattern.match(low)
        if m:
            return kind, m.group(1)
    return None


def is_dataset(names: Sequence[str]) -> bool:
    return any(n.lower() == _TIME for n in names) and any(_kind_of(n) for n in names)


def parse_dataset(
    text: str, *, source: str, clock: str, epoch: Any = None
) -> tuple[list[PhoneStream], Dialect]:
    """The sensor streams of one data set. Each ``Time (s)`` column times the sensor columns
    after it (up to the next one). ``epoch`` (from :func:`epoch_mapping`) maps experiment time
    to UTC epoch seconds; without it the streams keep the experiment's own clock ``clock``."""
    found = sniff(text)
    if found is None or not is_dataset(found[1]):
        raise PhoneExportError(
            f"{source}: not a phyphox data set (expected a quoted header with 'Time (s)' and "
            "acceleration or gyroscope columns)"
        )
    dialect, names = found
    try:
        frame = pd.read_csv(
            io.StringIO(text.lstrip("\ufeff")),
            sep=dialect.separator,
            decimal=dialect.decimal,
            quotechar='"',
            header=None,
            skiprows=1,
            names=list(range(len(names))),
            dtype=str,
            keep_default_na=False,
            engine="python" if dialect.separator == "\t" else "c",
        )
    except (ValueError, pd.errors.ParserError) as exc:
        what = dialect.describe()
        raise PhoneExportError(f"{source}: not a readable {what} CSV ({exc})") from None
    numeric = frame.apply(
        lambda col: pd.to_numeric(
            col.str.strip().str.replace(dialect.decimal, ".", regex=False)
            if dialect.decimal == ","
            else col.str.strip(),
            errors="coerce",
        )
    )
    streams: list[PhoneStream] = []
    time_col: int | None = None
    groups: dict[tuple[int, StreamKind], dict[str, int]] = {}
    for k, name in enumerate(names):
        if name.lower() == _TIME:
            time_col = k
            continue
        column = _kind_of(name)
        if column is None or time_col is None:
            continue
        groups.setdefault((time_col, column[0]), {})[column[1]] = k
    for (tc, kind), axes in groups.items():
        if set(axes) != {"x", "y", "z"}:
            raise PhoneExportError(f"{source}: {kind} columns for {sorted(axes)} only")
        t = numeric[tc].to_numpy(dtype=np.float64)
        xyz = numeric[[axes["x"], axes["y"], axes["z"]]].to_numpy(dtype=np.float64)
        label = f"{source} ({names[axes['x']].split(' x ')[0]})"
        if epoch is not None:
            t_abs = epoch(t)
            anchor = float(np.nanmin(t_abs)) if np.isfinite(t_abs).any() else 0.0
            streams.append(PhoneStream(kind, t_abs - anchor, xyz, label, anchor, clock))
        else:
            streams.append(PhoneStream(kind, t, xyz, label, None, clock))
    return streams, dialect


def _meta_rows(text: str, *, source: str) -> list[list[str]]:
    found = sniff(text)
    if found is None:
        raise PhoneExportError(f"{source}: not a phyphox meta file")
    dialect = found[0]
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=dialect.separator)
    rows = [row for row in reader if row]
    return [[c.strip() for c in row] for row in rows[1:]]


def is_device_header(names: Sequence[str]) -> bool:
    return [n.lower() for n in names[:2]] == ["property", "value"]


def is_time_header(names: Sequence[str]) -> bool:
    low = [n.lower() for n in names]
    return low[:3] == ["event", "experiment time", "system time"]


def parse_device(text: str, *, source: str) -> dict[str, str]:
    """``meta/device.csv`` as ``{property: value}``."""
    return {row[0]: row[1] for row in _meta_rows(text, source=source) if len(row) >= 2}


def _number(cell: str) -> float:
    try:
        return float(cell.replace(",", "."))
    except ValueError:
        return math.nan


def parse_time(text: str, *, source: str) -> list[TimeEvent]:
    """``meta/time.csv``: the START/PAUSE events, in order."""
    events = []
    for row in _meta_rows(text, source=source):
        if len(row) < 3:
            continue
        exp, sys_s = _number(row[1]), _number(row[2])
        if math.isfinite(exp) and math.isfinite(sys_s):
            events.append(TimeEvent(row[0].upper(), exp, sys_s))
    return events


def epoch_mapping(events: Sequence[TimeEvent]) -> Any:
    """Experiment time → UTC epoch seconds, piecewise from the START events (experiment time
    stands still while paused, so a pause becomes the gap it was). None without a START."""
    starts = sorted((e for e in events if e.event == "START"), key=lambda e: e.experiment_s)
    if not starts:
        return None
    exp = np.array([e.experiment_s for e in starts])
    sys_s = np.array([e.system_s for e in starts])

    def mapping(t: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        k = np.clip(np.searchsorted(exp, t, side="right") - 1, 0, exp.shape[0] - 1)
        return np.asarray(sys_s[k] + (t - exp[k]), dtype=np.float64)

    return mapping


def convention_for(device: Mapping[str, str]) -> Convention:
    """phyphox reports specific force on both platforms; iOS scales Core Motion's g by 9.81."""
    brand = device.get("deviceBrand", "").strip().lower()
    if brand == "apple":
        return Convention(
            g_mps2=IOS_G_MPS2,
            description="Android convention (phyphox on iOS already reports specific force; "
            "its m/s² are Core Motion's g × 9.81)",
        )
    return Convention(description="Android convention (specific force; as recorded)")


def remote_buffers(body: Any) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """A ``/get`` response: ``({buffer: values}, status)``. ``ValueError`` if it is not one."""
    if not isinstance(body, dict) or not isinstance(body.get("buffer"), dict):
        raise ValueError("not a phyphox /get response (no 'buffer' object)")
    out: dict[str, list[float]] = {}
    for name, entry in body["buffer"].items():
        if not isinstance(entry, dict) or not isinstance(entry.get("buffer"), list):
            raise ValueError(f"buffer {name!r} has no value list")
        values = [math.nan if v is None else float(v) for v in entry["buffer"]]
        out[str(name)] = values
    status = body.get("status")
    return out, status if isinstance(status, dict) else {}
