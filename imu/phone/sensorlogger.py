"""Sensor Logger (Kelvin Choi; Android and iOS): its export files and its HTTP push batches.

Formats as the app's documentation describes them (``firmware_notes/phone_apps.md`` cites it):

* one CSV per sensor — ``Accelerometer.csv`` (gravity **removed**), ``Gravity.csv``,
  ``TotalAcceleration.csv`` (Android only, gravity included), ``Gyroscope.csv`` — with columns
  ``time`` (UTC epoch, **nanoseconds**), ``seconds_elapsed``, ``z``, ``y``, ``x`` (read by name:
  the order is not relied on); acceleration m/s², rates rad/s;
* ``Metadata.csv``: one header row and one row (``device name``, ``platform`` ``ios`` or
  ``android``, ``appVersion``, ``standardisation`` ``true``/``false``, …);
* the JSON export: one array of records ``{"sensor": "Accelerometer", "time": "…",
  "seconds_elapsed": "…", "z": "…", "y": "…", "x": "…"}`` with values as strings;
* HTTP push: ``{"messageId": n, "sessionId": …, "deviceId": …, "payload": [{"name":
  "accelerometer", "time": ns, "values": {"x": …, "y": …, "z": …}}, …]}``.

Signs: on iOS, acceleration and gravity have the opposite sign to Android's unless "Standardise
Units & Frames" was on (then both follow Android). Gyroscope signs agree.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from imu.errors import PhoneExportError
from imu.phone.streams import Convention, PhoneStream, StreamKind

__all__ = [
    "KINDS",
    "convention_for",
    "is_metadata_header",
    "is_sensor_header",
    "parse_json_export",
    "parse_metadata",
    "parse_sensor_csv",
    "push_records",
    "stream_from_ns",
]

#: sensor name (file stem, JSON ``sensor``, push ``name``; compared lower case) → stream kind
KINDS: dict[str, StreamKind] = {
    "totalacceleration": "acc_total",
    "accelerometer": "acc_linear",
    "gravity": "gravity",
    "gyroscope": "gyro",
}
_EPOCH_CLOCK = "sensorlogger-epoch"


def is_sensor_header(columns: Sequence[str]) -> bool:
    names = {c.strip().lower() for c in columns}
    return {"time", "x", "y", "z"} <= names and "seconds_elapsed" in names


def is_metadata_header(columns: Sequence[str]) -> bool:
    names = {c.strip().lower() for c in columns}
    return "platform" in names and ("device name" in names or "appversion" in names)


def stream_from_ns(
    kind: StreamKind, time_ns: npt.NDArray[np.int64], xyz: Any, source: str
) -> PhoneStream:
    """A stream on Sensor Logger's clock (UTC epoch nanoseconds), kept exact: ``time_s`` counts
    from the stream's first stamp, ``epoch_s`` is that stamp."""
    if time_ns.shape[0] == 0:
        return PhoneStream(kind, np.zeros(0), np.zeros((0, 3)), source, 0.0, _EPOCH_CLOCK)
    anchor = int(time_ns.min())
    time_s = (time_ns - anchor).astype(np.float64) / 1e9
    return PhoneStream(
        kind,
        time_s,
        np.asarray(xyz, dtype=np.float64).reshape(-1, 3),
        source,
        anchor / 1e9,
        _EPOCH_CLOCK,
    )


def _time_ns(values: Any, source: str) -> npt.NDArray[np.int64]:
    """Nanosecond epoch stamps as int64 (strings or numbers; a float column keeps µs)."""
    series = pd.Series(values)
    if series.dtype.kind in "iu":
        return series.to_numpy(dtype=np.int64)
    numeric = pd.to_numeric(series, errors="coerce")
    if numeric.isna().any():
        bad = series[numeric.isna()].iloc[0]
        raise PhoneExportError(f"{source}: time {bad!r} is not a number (UTC nanoseconds)")
    if numeric.dtype.kind in "iu":
        return np.asarray(numeric.to_numpy(dtype=np.int64), dtype=np.int64)
    out: npt.NDArray[np.int64] = np.rint(numeric.to_numpy(dtype=np.float64)).astype(np.int64)
    return out


def _check_epoch_ns(time_ns: npt.NDArray[np.int64], source: str) -> None:
    if time_ns.shape[0] and not 1e17 < float(np.median(time_ns)) < 1e19:
        raise PhoneExportError(
            f"{source}: 'time' is not UTC epoch nanoseconds (median {float(np.median(time_ns)):g})"
        )


def parse_sensor_csv(text: str, *, kind: StreamKind, source: str) -> PhoneStream:
    """One sensor file (``time,seconds_elapsed,z,y,x``)."""
    try:
        frame = pd.read_csv(io.StringIO(text), dtype={"time": "string"})
    except (ValueError, pd.errors.ParserError) as exc:
        raise PhoneExportError(f"{source}: not a readable CSV ({exc})") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    time_ns = _time_ns(frame["time"], source)
    _check_epoch_ns(time_ns, source)
    xyz = frame[["x", "y", "z"]].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    return stream_from_ns(kind, time_ns, xyz, source)


def parse_metadata(text: str, *, source: str) -> dict[str, str]:
    """``Metadata.csv`` as ``{column: value}`` (lower-case column names)."""
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise PhoneExportError(f"{source}: not a readable CSV ({exc})") from None
    if frame.empty:
        return {}
    row = frame.iloc[0]
    return {str(k).strip().lower(): str(v).strip() for k, v in row.items()}


def convention_for(meta: Mapping[str, str]) -> Convention:
    """The sign convention of a recording from its metadata (``platform``, ``standardisation``).

    No metadata: Android's convention is assumed (it is also what standardisation gives)."""
    platform = meta.get("platform", "").strip().lower()
    standard = meta.get("standardisation", meta.get("standardization", "")).strip().lower()
    if platform == "ios" and standard != "true":
        return Convention(
            acc_sign=-1.0,
            description="Android convention (specific force; right-handed rates); iOS "
            "acceleration and gravity negated (Standardise Units & Frames was off)",
        )
    if platform == "ios":
        return Convention(
            description="Android convention (iOS with Standardise Units & Frames on: as is)"
        )
    if platform == "android":
        return Convention(description="Android convention (specific force; as recorded)")
    return Convention(
        description="Android convention assumed (no Metadata.csv says the platform; an "
        "iPhone without Standardise Units & Frames reads mirrored, which the analysis "
        "tolerates)"
    )


def parse_json_export(
    records: Any, *, source: str
) -> tuple[list[PhoneStream], dict[str, str], list[str]]:
    """The JSON export: streams of the motion sensors, metadata (if a ``Metadata`` record is
    present) and the names of the sensors skipped."""
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        raise PhoneExportError(
            f"{source}: expected Sensor Logger's JSON export (an array of records)"
        )
    frame = pd.DataFrame.from_records([r for r in records if isinstance(r, dict)])
    if "sensor" not in frame.columns:
        raise PhoneExportError(f"{source}: JSON records without a 'sensor' field")
    streams: list[PhoneStream] = []
    meta: dict[str, str] = {}
    skipped: list[str] = []
    for name, group in frame.groupby("sensor", sort=False):
        key = str(name).strip().lower()
        if key == "metadata":
            row = group.iloc[0].dropna()
            meta = {str(k).strip().lower(): str(v).strip() for k, v in row.items()}
            continue
        kind = KINDS.get(key)
        if kind is None or not {"time", "x", "y", "z"} <= set(group.columns):
            skipped.append(str(name))
            continue
        time_ns = _time_ns(group["time"].to_numpy(), f"{source} ({name})")
        _check_epoch_ns(time_ns, f"{source} ({name})")
        xyz = group[["x", "y", "z"]].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
        streams.append(stream_from_ns(kind, time_ns, xyz, f"{source} ({name})"))
    return streams, meta, skipped


#: one push batch's samples by kind: (UTC epoch ns, (n, 3) values in the app's units)
PushSamples = dict[StreamKind, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]


def push_records(body: Any) -> tuple[int | None, str, PushSamples, int]:
    """One HTTP push batch: ``(messageId, sessionId, {kind: (time_ns, xyz)}, unknown)``.

    ``unknown`` counts records of sensors imu does not use (location, battery, …). Raises
    ``ValueError`` with a reason for a body that is not a push batch at all.
    """
    if not isinstance(body, dict) or not isinstance(body.get("payload"), list):
        raise ValueError("not a Sensor Logger push batch (no 'payload' list)")
    message = body.get("messageId")
    message_id: int | None = None
    if isinstance(message, int | float) and not isinstance(message, bool):
        message_id = int(message) if math.isfinite(message) else None
    session = str(body.get("sessionId", ""))
    times: dict[StreamKind, list[int]] = {}
    values: dict[StreamKind, list[tuple[float, float, float]]] = {}
    unknown = 0
    for item in body["payload"]:
        if not isinstance(item, dict):
            raise ValueError("a payload entry is not an object")
        kind = KINDS.get(str(item.get("name", "")).strip().lower())
        if kind is None:
            unknown += 1
            continue
        v = item.get("values")
        t = item.get("time")
        if not isinstance(v, dict) or isinstance(t, bool) or not isinstance(t, int | float | str):
            raise ValueError(f"a {item.get('name')} entry without 'time' and 'values'")
        try:
            t_ns = int(t) if not isinstance(t, float) else round(t)
            xyz = (float(v["x"]), float(v["y"]), float(v["z"]))
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"a {item.get('name')} entry with non-numeric values") from None
        if not all(math.isfinite(c) for c in xyz) or not 1e17 < t_ns < 1e19:
            raise ValueError(f"a {item.get('name')} entry with an impossible time or value")
        times.setdefault(kind, []).append(t_ns)
        values.setdefault(kind, []).append(xyz)
    out = {
        kind: (np.asarray(times[kind], dtype=np.int64), np.asarray(values[kind], dtype=np.float64))
        for kind in times
    }
    return message_id, session, out, unknown


def loads_json(text: str, *, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PhoneExportError(f"{source}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
