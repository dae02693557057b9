"""A simulated recording written as the phone apps write theirs (for tests and samples).

The samples are a :class:`~imu.recording.Recording` (specific force in g, rates in °/s, sensor
axes); the writers give them each app's own shape — file names, columns, units, sign
conventions, number formats, separate instants per sensor — as :mod:`imu.phone.sensorlogger`
and :mod:`imu.phone.phyphox` describe them. Gravity (for the apps' gravity-free streams) is the
direction the leg-angle filter finds, times g. Everything written here is generated, never a
real phone's data.
"""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from imu.phone.phyphox import IOS_G_MPS2
from imu.recording import GRAVITY_MPS2, Recording

__all__ = [
    "PhoneSamples",
    "phone_samples",
    "phyphox_csv",
    "phyphox_zip",
    "sensorlogger_csvs",
    "sensorlogger_json",
    "sensorlogger_push_batches",
    "sensorlogger_zip",
]

FloatArray = npt.NDArray[np.float64]
Platform = Literal["android", "ios"]
_Stream = tuple[npt.NDArray[np.int64], FloatArray]
#: a fixed start (2026-11-21 10:00 UTC) so that generated files are reproducible
EPOCH_START_S = 1_795_255_200.0


@dataclass(frozen=True)
class PhoneSamples:
    """One recording as a phone's separate sensor streams (m/s², rad/s, specific force)."""

    acc_t_s: FloatArray  #: accelerometer instants, s after :data:`EPOCH_START_S`
    acc_mps2: FloatArray  #: specific force (gravity included), (n, 3)
    gravity_mps2: FloatArray  #: the gravity part of it, (n, 3)
    gyro_t_s: FloatArray
    gyro_rads: FloatArray
    epoch_s: float = EPOCH_START_S


def phone_samples(recording: Recording, *, acc_offset: float = 0.37) -> PhoneSamples:
    """The recording as two streams: the gyroscope at the recording's instants, the
    accelerometer at instants ``acc_offset`` of a period later (phones stamp each sensor's
    events separately), linearly interpolated. Gravity from the leg-angle filter."""
    from imu.angle import estimate_leg_angle

    t = recording.time_s
    fs = recording.sample_rate_hz
    angle = estimate_leg_angle(t, recording.acc_g, recording.gyro_dps, sampling_rate_hz=fs)
    shift = acc_offset / fs
    acc_t = t[:-1] + shift
    acc = np.column_stack([np.interp(acc_t, t, recording.acc_g[:, i]) for i in range(3)])
    up = np.column_stack([np.interp(acc_t, t, angle.up[:, i]) for i in range(3)])
    up /= np.linalg.norm(up, axis=1, keepdims=True)
    return PhoneSamples(
        acc_t_s=acc_t,
        acc_mps2=acc * GRAVITY_MPS2,
        gravity_mps2=up * GRAVITY_MPS2,
        gyro_t_s=t.copy(),
        gyro_rads=np.radians(recording.gyro_dps),
    )


# ---------------------------------------------------------------------------------------------
# Sensor Logger


def _ns(epoch_s: float, t_s: FloatArray) -> npt.NDArray[np.int64]:
    return np.int64(round(epoch_s * 1e9)) + np.rint(t_s * 1e9).astype(np.int64)


def _sl_streams(s: PhoneSamples, platform: Platform, standardised: bool) -> dict[str, _Stream]:
    """File stem → (times ns, values (n, 3)) as the app writes them on ``platform``."""
    sign = -1.0 if platform == "ios" and not standardised else 1.0
    acc_ns = _ns(s.epoch_s, s.acc_t_s)
    gyro_ns = _ns(s.epoch_s, s.gyro_t_s)
    linear = s.acc_mps2 - s.gravity_mps2
    out: dict[str, _Stream] = {
        "Accelerometer": (acc_ns, sign * linear),
        "Gravity": (acc_ns, sign * s.gravity_mps2),
        "Gyroscope": (gyro_ns, s.gyro_rads),
    }
    if platform == "android":
        out["TotalAcceleration"] = (acc_ns, s.acc_mps2)
    return out


def _sl_metadata(s: PhoneSamples, platform: Platform, standardised: bool) -> str:
    start = datetime.fromtimestamp(s.epoch_s, tz=UTC)
    device = "Pixel 8 (simulated)" if platform == "android" else "iPhone15,3 (simulated)"
    header = (
        "version,device name,recording time,platform,platform version,appVersion,"
        "recording timezone,recording epoch time,standardisation"
    )
    row = ",".join(
        [
            "3",
            device,
            start.strftime("%Y-%m-%d_%H-%M-%S"),
            platform,
            "15" if platform == "android" else "18.1",
            "1.63.0",
            "UTC",
            str(int(s.epoch_s * 1000)),
            "true" if standardised else "false",
        ]
    )
    return f"{header}\n{row}\n"


def _sl_csv(time_ns: npt.NDArray[np.int64], values: FloatArray, start_ns: int) -> str:
    """Values with 7 significant digits: the phones' sensors deliver float32."""
    lines = ["time,seconds_elapsed,z,y,x"]
    elapsed = (time_ns - start_ns) / 1e9
    for tn, el, (x, y, z) in zip(time_ns.tolist(), elapsed.tolist(), values.tolist(), strict=True):
        lines.append(f"{tn},{el:.9g},{z:.7g},{y:.7g},{x:.7g}")
    return "\n".join(lines) + "\n"


def sensorlogger_csvs(
    s: PhoneSamples,
    *,
    platform: Platform = "android",
    standardised: bool = False,
    sensors: Sequence[str] | None = None,
) -> dict[str, str]:
    """File name → text of a Sensor Logger CSV export (what its zip holds); ``sensors``
    limits it to some of the files (e.g. a phone that only has TotalAcceleration)."""
    start_ns = round(s.epoch_s * 1e9)
    files = {
        f"{stem}.csv": _sl_csv(t, v, start_ns)
        for stem, (t, v) in _sl_streams(s, platform, standardised).items()
        if sensors is None or stem in sensors
    }
    files["Metadata.csv"] = _sl_metadata(s, platform, standardised)
    return files


def sensorlogger_zip(
    s: PhoneSamples,
    *,
    platform: Platform = "android",
    standardised: bool = False,
    sensors: Sequence[str] | None = None,
) -> bytes:
    """A Sensor Logger zip export."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        files = sensorlogger_csvs(s, platform=platform, standardised=standardised, sensors=sensors)
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 21, 10, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)
    return buf.getvalue()


def sensorlogger_json(
    s: PhoneSamples, *, platform: Platform = "ios", standardised: bool = False
) -> str:
    """Sensor Logger's JSON export: one array of records, values as strings, grouped by
    sensor and sorted by time."""
    start_ns = round(s.epoch_s * 1e9)
    records = []
    for stem, (t, v) in _sl_streams(s, platform, standardised).items():
        for tn, (x, y, z) in zip(t.tolist(), v.tolist(), strict=True):
            records.append(
                {
                    "sensor": stem,
                    "time": str(tn),
                    "seconds_elapsed": f"{(tn - start_ns) / 1e9:.9g}",
                    "z": f"{z:.7g}",
                    "y": f"{y:.7g}",
                    "x": f"{x:.7g}",
                }
            )
    return json.dumps(records) + "\n"


def sensorlogger_push_batches(
    s: PhoneSamples,
    *,
    batch_s: float = 0.2,
    session_id: str = "simulated",
    platform: Platform = "android",
) -> list[tuple[float, dict[str, Any]]]:
    """HTTP push messages as the app sends them: every ``batch_s`` of recording, the
    accelerometer (gravity removed), gravity and gyroscope samples of that stretch. Returns
    ``(due_s, message)`` pairs, ``due_s`` the recording time when the message is sent."""
    streams = _sl_streams(s, platform, standardised=True)
    names = {"Accelerometer": "accelerometer", "Gravity": "gravity", "Gyroscope": "gyroscope"}
    start = min(float(s.acc_t_s[0]), float(s.gyro_t_s[0]))
    end = max(float(s.acc_t_s[-1]), float(s.gyro_t_s[-1]))
    edges = np.arange(start, end + batch_s, batch_s)
    start_ns = round(s.epoch_s * 1e9)
    out: list[tuple[float, dict[str, Any]]] = []
    for k, (a, b) in enumerate(itertools.pairwise(edges)):
        lo = start_ns + round(a * 1e9)
        hi = start_ns + round(b * 1e9)
        payload = []
        for stem, name in names.items():
            t, v = streams[stem]
            sel = (t >= lo) & (t < hi)
            for tn, (x, y, z) in zip(t[sel].tolist(), v[sel].tolist(), strict=True):
                payload.append({"name": name, "time": tn, "values": {"x": x, "y": y, "z": z}})
        message = {
            "messageId": k,
            "sessionId": session_id,
            "deviceId": "simulated-device",
            "payload": payload,
        }
        out.append((float(b), message))
    return out


# ---------------------------------------------------------------------------------------------
# phyphox


def _java_sci(value: float, decimal: str) -> str:
    """Java's ``DecimalFormat("0.000000000E0")`` (phyphox on Android; iOS's 10 significant
    digits read the same): ``9.806650000E0``, ``-1.234567890E-3``."""
    if not np.isfinite(value):
        return "NaN"
    mantissa, exponent = f"{value:.9E}".split("E")
    text = f"{mantissa}E{int(exponent)}"
    return text.replace(".", decimal) if decimal != "." else text


_ACC_HEADER = (
    "Time (s)",
    "Acceleration x (m/s^2)",
    "Acceleration y (m/s^2)",
    "Acceleration z (m/s^2)",
    "Absolute acceleration (m/s^2)",
)
_GYRO_HEADER = (
    "Time (s)",
    "Gyroscope x (rad/s)",
    "Gyroscope y (rad/s)",
    "Gyroscope z (rad/s)",
    "Absolute (rad/s)",
)


def phyphox_csv(
    columns: Sequence[tuple[Sequence[str], FloatArray, FloatArray]],
    *,
    separator: str = ",",
    decimal: str = ".",
    platform: Platform = "android",
) -> str:
    """One phyphox data set: for each sensor ``(header names, times, values (n, 3))`` its time
    column, x, y, z and the magnitude. Shorter columns end in ``NaN`` (Android) or ``""`` (iOS);
    iOS writes no newline after the last row."""
    header = separator.join(f'"{name}"' for names, _, _ in columns for name in names)
    blocks = []
    for _, t, v in columns:
        blocks.append(np.column_stack([t, v, np.linalg.norm(v, axis=1)]))
    rows = max(b.shape[0] for b in blocks)
    missing = "NaN" if platform == "android" else '""'
    lines = [header]
    for i in range(rows):
        cells: list[str] = []
        for b in blocks:
            if i < b.shape[0]:
                cells.extend(_java_sci(float(c), decimal) for c in b[i])
            else:
                cells.extend([missing] * b.shape[1])
        lines.append(separator.join(cells))
    text = "\n".join(lines)
    return text if platform == "ios" else text + "\n"


def _phyphox_meta(
    start_epoch_s: float, separator: str, decimal: str, platform: Platform
) -> dict[str, str]:
    if platform == "ios":
        device = {"deviceModel": "iPhone15,3", "deviceBrand": "Apple", "deviceManufacturer": ""}
    else:
        device = {"deviceModel": "Pixel 8", "deviceBrand": "google", "deviceManufacturer": "Google"}
    device = {"version": "1.2.0", "build": "1020009", "fileFormat": "1.19", **device}
    dev = f'"property"{separator}"value"\n' + "".join(
        f'"{k}"{separator}"{v}"\n' for k, v in device.items()
    )
    stamp = datetime.fromtimestamp(start_epoch_s, tz=UTC)
    text = stamp.strftime("%Y-%m-%d %H:%M:%S.") + f"{stamp.microsecond // 1000:03d} UTC+00:00"
    system = f"{start_epoch_s:.3f}".replace(".", decimal)
    time_csv = (
        f'"event"{separator}"experiment time"{separator}"system time"{separator}'
        f'"system time text"\n'
        f'"START"{separator}{_java_sci(0.0, decimal)}{separator}{system}{separator}"{text}"\n'
    )
    return {"meta/device.csv": dev, "meta/time.csv": time_csv}


def phyphox_zip(
    s: PhoneSamples,
    *,
    experiment: Literal["acceleration", "gyroscope", "combined"],
    separator: str = ",",
    decimal: str = ".",
    platform: Platform = "android",
    start_delay_s: float = 0.0,
) -> bytes:
    """A phyphox zip export of one experiment: ``Raw Data.csv`` and ``meta/``. Its experiment
    time starts at 0 when the measurement started, ``start_delay_s`` after the first sample
    (two experiments exported separately have separate zeros)."""
    start = min(float(s.acc_t_s[0]), float(s.gyro_t_s[0])) + start_delay_s
    # phyphox on iOS scales Core Motion's g by 9.81, not by the standard 9.80665
    g = IOS_G_MPS2 if platform == "ios" else GRAVITY_MPS2
    acc = s.acc_mps2 * (g / GRAVITY_MPS2)
    cols: list[tuple[Sequence[str], FloatArray, FloatArray]] = []
    acc_sel = s.acc_t_s >= start
    gyro_sel = s.gyro_t_s >= start
    if experiment in ("acceleration", "combined"):
        cols.append((_ACC_HEADER, s.acc_t_s[acc_sel] - start, acc[acc_sel]))
    if experiment in ("gyroscope", "combined"):
        cols.append((_GYRO_HEADER, s.gyro_t_s[gyro_sel] - start, s.gyro_rads[gyro_sel]))
    files = {
        "Raw Data.csv": phyphox_csv(cols, separator=separator, decimal=decimal, platform=platform)
    }
    files.update(_phyphox_meta(s.epoch_s + start, separator, decimal, platform))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 21, 10, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)
    return buf.getvalue()
