"""Phone sensor streams and how two of them become one recording.

A phone app writes (or sends) each sensor as its own stream: its own instants, its own rate, in
the app's units and sign convention. :class:`PhoneStream` is one such stream after parsing;
:func:`merge_onto` puts a second stream on the first one's instants (the rule shared by
``imu import`` and the live phone sources); :func:`assemble` turns the streams of an export into
a contract :class:`~imu.recording.Recording` and says in its metadata how.

The rules, in order:

* **Specific force.** A stream with gravity included (Sensor Logger's ``TotalAcceleration``,
  phyphox's "Acceleration with g") is used as it is. Otherwise gravity is restored by adding the
  app's gravity stream to its gravity-free accelerometer stream; without one the import is
  refused (:class:`~imu.errors.PhoneExportError`).
* **Signs.** Everything is brought to Android's convention, which is the recording's: specific
  force (a phone lying face up reads +1 g on z) and right-handed rates. Sensor Logger on iOS
  without "Standardise Units & Frames" reports acceleration and gravity with the opposite sign;
  those are negated. Rates agree on both platforms.
* **Time base.** The faster stream (the gyroscope when the rates are within 10 %) keeps every
  one of its instants. The other stream is taken as measured where it has a sample at the same
  instant (within 1 µs) and linearly interpolated elsewhere — never across a gap of more than
  ``max_interp_gap`` of its own periods: base instants inside such a gap (or outside the other
  stream's span) have no partner and are left out, which makes them a gap in the recording,
  reported as a BLE gap is.
* **Duplicates.** Rows with a repeated timestamp are dropped (the app wrote the sample twice);
  rows with a missing value are dropped. Both are counted and named in the metadata.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import numpy.typing as npt

from imu.dsp import measured_rate_hz
from imu.errors import PhoneExportError
from imu.recording import GRAVITY_MPS2, Recording

__all__ = [
    "Convention",
    "MergeStats",
    "PhoneStream",
    "StreamKind",
    "assemble",
    "clean_stream",
    "merge_onto",
]

FloatArray = npt.NDArray[np.float64]
StreamKind = Literal["acc_total", "acc_linear", "gravity", "gyro"]

#: what each kind is, for messages
KIND_NAMES: dict[str, str] = {
    "acc_total": "accelerometer (gravity included)",
    "acc_linear": "accelerometer (gravity removed)",
    "gravity": "gravity",
    "gyro": "gyroscope",
}
#: two instants closer than this are the same instant, s
SAME_INSTANT_S = 1e-6
#: the other stream is interpolated across at most this many of its own periods
DEFAULT_MAX_INTERP_GAP = 3.0


@dataclass(frozen=True)
class Convention:
    """How an app's numbers relate to the recording's: multiply acceleration by ``acc_sign``
    and divide by ``g_mps2``; rates are rad/s."""

    acc_sign: float = 1.0  #: −1: the app reports the reaction (iOS without standardisation)
    g_mps2: float = GRAVITY_MPS2  #: the value of g the app multiplied its readings by
    description: str = "Android convention (specific force; right-handed rates)"


@dataclass(frozen=True)
class PhoneStream:
    """One sensor's samples: ``time_s`` on the stream's clock, ``xyz`` in the app's units
    (m/s² or rad/s), as parsed (not yet sorted or cleaned)."""

    kind: StreamKind
    time_s: FloatArray  #: seconds after ``epoch_s`` (or on the experiment's own clock)
    xyz: FloatArray  #: (n, 3)
    source: str  #: the file (or entry) it came from, for messages
    #: UTC epoch seconds of ``time_s = 0``; None: the stream's clock is its own
    epoch_s: float | None = None
    #: streams with the same clock id share a time base even without an epoch
    clock: str = ""

    def __len__(self) -> int:
        return int(self.time_s.shape[0])


@dataclass
class MergeStats:
    """What the merge did, for the metadata and the report."""

    base: str = ""
    other: str = ""
    base_samples: int = 0
    exact: int = 0
    interpolated: int = 0
    no_partner: int = 0  #: base instants left out inside the recording (the other's gaps)
    trimmed: int = 0  #: base instants left out at the ends (outside the other's span)
    dropped: dict[str, int] = field(default_factory=dict)  #: reason → rows

    def describe(self) -> str:
        kept = self.exact + self.interpolated
        text = (
            f"time base = the {self.base}'s own {self.base_samples} instants; {self.other} "
            f"taken as measured at {self.exact} and linearly interpolated at "
            f"{self.interpolated} of them"
        )
        if self.trimmed:
            text += f"; {self.trimmed} {self.base} samples before or after the {self.other}'s"
            text += " first or last sample left out"
        if self.no_partner:
            text += (
                f"; {self.no_partner} {self.base} samples had no {self.other} sample within "
                f"{DEFAULT_MAX_INTERP_GAP:g} periods and are left out (gaps in the recording)"
            )
        return text + f" ({kept} samples written)"


def clean_stream(stream: PhoneStream, dropped: dict[str, int]) -> PhoneStream:
    """Sorted by time, rows with a missing value or a repeated timestamp dropped (counted in
    ``dropped`` by reason)."""
    t, v = stream.time_s, stream.xyz
    ok = np.isfinite(t) & np.all(np.isfinite(v), axis=1)
    bad = int(ok.size - np.count_nonzero(ok))
    if bad:
        key = f"{stream.source}: rows with a missing value"
        dropped[key] = dropped.get(key, 0) + bad
        t, v = t[ok], v[ok]
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    if t.shape[0] > 1:
        repeat = np.concatenate(([False], np.diff(t) <= SAME_INSTANT_S))
        n_repeat = int(np.count_nonzero(repeat))
        if n_repeat:
            key = f"{stream.source}: repeated timestamps"
            dropped[key] = dropped.get(key, 0) + n_repeat
            t, v = t[~repeat], v[~repeat]
    return PhoneStream(stream.kind, t, v, stream.source, stream.epoch_s, stream.clock)


def merge_onto(
    base_t: FloatArray,
    other_t: FloatArray,
    other_v: FloatArray,
    *,
    max_gap_s: float,
) -> tuple[FloatArray, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """The other stream's values at the base instants.

    Returns ``(values (n, k), has (n,), exact (n,))``: ``has`` is false where no value can be
    given — outside the other's span, or between two of its samples more than ``max_gap_s``
    apart; ``exact`` marks instants where the other stream has a sample of its own (within
    :data:`SAME_INSTANT_S`). Both inputs sorted and strictly increasing.
    """
    n = base_t.shape[0]
    k = other_v.shape[1] if other_v.ndim == 2 else 1
    values = np.full((n, k), np.nan)
    has = np.zeros(n, dtype=bool)
    exact = np.zeros(n, dtype=bool)
    m = other_t.shape[0]
    if n == 0 or m == 0:
        return values, has, exact
    hi = np.searchsorted(other_t, base_t, side="left")  # other_t[hi - 1] < t <= other_t[hi]
    hi_c = np.clip(hi, 0, m - 1)
    lo_c = np.clip(hi - 1, 0, m - 1)
    near_hi = np.abs(other_t[hi_c] - base_t) <= SAME_INSTANT_S
    near_lo = np.abs(other_t[lo_c] - base_t) <= SAME_INSTANT_S
    exact = near_hi | near_lo
    pick = np.where(near_hi, hi_c, lo_c)
    inside = (hi > 0) & (hi < m)
    span = other_t[hi_c] - other_t[lo_c]
    interp = inside & ~exact & (span <= max_gap_s)
    other = other_v.reshape(m, k)
    values[exact] = other[pick[exact]]
    if interp.any():
        a, b = lo_c[interp], hi_c[interp]
        w = ((base_t[interp] - other_t[a]) / (other_t[b] - other_t[a]))[:, None]
        values[interp] = other[a] * (1.0 - w) + other[b] * w
    has = exact | interp
    return values, has, exact


def _align(streams: Sequence[PhoneStream]) -> list[PhoneStream]:
    """Put the streams on one clock: shared epoch (converted to seconds after the earliest
    stream's epoch) or a shared clock id. Refuses streams whose clocks cannot be related."""
    epochs = [s.epoch_s for s in streams]
    if all(e is not None for e in epochs):
        ref = min(e for e in epochs if e is not None)
        return [
            PhoneStream(s.kind, s.time_s + (float(s.epoch_s or 0.0) - ref), s.xyz, s.source, ref)
            for s in streams
        ]
    clocks = {s.clock for s in streams}
    if len(clocks) == 1 and "" not in clocks:
        return list(streams)
    names = ", ".join(f"{KIND_NAMES[s.kind]} from {s.source}" for s in streams)
    raise PhoneExportError(
        f"cannot put {names} on one time base: they come from separate recordings with no "
        "shared clock (export phyphox experiments as zip files, which carry meta/time.csv)"
    )


def _pick(streams: Sequence[PhoneStream], kind: StreamKind) -> PhoneStream | None:
    found = [s for s in streams if s.kind == kind]
    if len(found) > 1:
        raise PhoneExportError(
            f"two {KIND_NAMES[kind]} streams ({found[0].source} and {found[1].source}); "
            "give one recording at a time"
        )
    return found[0] if found else None


def _specific_force(
    streams: Sequence[PhoneStream], dropped: dict[str, int], notes: list[str]
) -> PhoneStream:
    total = _pick(streams, "acc_total")
    linear = _pick(streams, "acc_linear")
    gravity = _pick(streams, "gravity")
    if total is not None:
        notes.append(f"gravity included in the data ({total.source})")
        return total
    if linear is None:
        raise PhoneExportError(
            "no accelerometer stream found (expected Sensor Logger's TotalAcceleration.csv or "
            "Accelerometer.csv + Gravity.csv, or phyphox's 'Acceleration with g')"
        )
    if gravity is None:
        raise PhoneExportError(
            f"{linear.source} has gravity removed and no gravity stream came with it, so the "
            "leg's tilt cannot be recovered (record Gravity in Sensor Logger as well, or use "
            "phyphox's 'Acceleration with g')"
        )
    period = 1.0 / measured_rate_hz(gravity.time_s) if len(gravity) > 1 else math.inf
    values, has, exact = merge_onto(
        linear.time_s,
        gravity.time_s,
        gravity.xyz,
        max_gap_s=DEFAULT_MAX_INTERP_GAP * period,
    )
    missing = int(np.count_nonzero(~has))
    if missing:
        key = f"{linear.source}: samples with no gravity sample near them"
        dropped[key] = dropped.get(key, 0) + missing
    notes.append(
        f"gravity restored: {linear.source} (gravity removed) + {gravity.source} "
        f"({int(np.count_nonzero(exact))} at shared instants, "
        f"{int(np.count_nonzero(has & ~exact))} interpolated)"
    )
    return PhoneStream(
        "acc_total",
        linear.time_s[has],
        linear.xyz[has] + values[has],
        f"{linear.source} + {gravity.source}",
        linear.epoch_s,
        linear.clock,
    )


def assemble(
    streams: Sequence[PhoneStream],
    *,
    convention: Convention,
    metadata: Mapping[str, str],
    max_interp_gap: float = DEFAULT_MAX_INTERP_GAP,
) -> tuple[Recording, MergeStats]:
    """The contract recording from an export's streams (see the module docstring).

    ``metadata`` (source app, platform, device, files and their SHA-256, …) is written first;
    the merge, gravity, sign and unit notes are added. Raises :class:`PhoneExportError`.
    """
    stats = MergeStats()
    notes: list[str] = []
    usable = [s for s in streams if len(s) > 0]
    if _pick(usable, "gyro") is None:
        raise PhoneExportError(
            "no gyroscope stream found (expected Sensor Logger's Gyroscope.csv or phyphox's "
            "'Gyroscope (rotation rate)'); imu needs the rotation rate"
        )
    aligned = _align([clean_stream(s, stats.dropped) for s in usable])
    acc = _specific_force(aligned, stats.dropped, notes)
    gyro = _pick(aligned, "gyro")
    assert gyro is not None
    if len(acc) < 2 or len(gyro) < 2:
        raise PhoneExportError("fewer than two usable samples in the accelerometer or gyroscope")
    acc_rate, gyro_rate = measured_rate_hz(acc.time_s), measured_rate_hz(gyro.time_s)
    acc_is_base = acc_rate > 1.1 * gyro_rate
    base, other = (acc, gyro) if acc_is_base else (gyro, acc)
    other_rate = gyro_rate if acc_is_base else acc_rate
    values, has, exact = merge_onto(
        base.time_s, other.time_s, other.xyz, max_gap_s=max_interp_gap / other_rate
    )
    stats.base = "accelerometer" if acc_is_base else "gyroscope"
    stats.other = "gyroscope" if acc_is_base else "accelerometer"
    stats.base_samples = len(base)
    stats.exact = int(np.count_nonzero(exact))
    stats.interpolated = int(np.count_nonzero(has & ~exact))
    outside = (base.time_s < other.time_s[0]) | (base.time_s > other.time_s[-1])
    stats.trimmed = int(np.count_nonzero(~has & outside))
    stats.no_partner = int(np.count_nonzero(~has & ~outside))
    if not has.any():
        raise PhoneExportError(
            f"the accelerometer ({acc.source}) and gyroscope ({gyro.source}) do not overlap in time"
        )
    t = base.time_s[has]
    acc_xyz = (base.xyz[has] if acc_is_base else values[has]) * convention.acc_sign
    gyro_xyz = values[has] if acc_is_base else base.xyz[has]
    acc_g = acc_xyz / convention.g_mps2
    gyro_dps = np.degrees(gyro_xyz)
    t0 = float(t[0])
    time_s = t - t0
    rate = measured_rate_hz(time_s)
    meta: dict[str, str] = {"sample_rate_hz": f"{rate:.6g}"}
    meta.update(metadata)
    epoch = base.epoch_s
    if epoch is not None:
        started = datetime.fromtimestamp(epoch + t0, tz=UTC)
        meta["started_at"] = started.isoformat(timespec="milliseconds")
    meta["merge"] = stats.describe()
    for k, note in enumerate(notes):
        meta["gravity" if k == 0 else f"gravity_{k}"] = note
    meta["axes"] = convention.description
    meta["units"] = (
        f"acceleration m/s² ÷ {convention.g_mps2:g} → g; rate rad/s × 180/π → °/s "
        f"(sensor axes of the phone)"
    )
    for k, (reason, count) in enumerate(sorted(stats.dropped.items())):
        meta[f"dropped_{k + 1}"] = f"{count} ({reason})"
    for arr in (time_s, acc_g, gyro_dps):
        arr.setflags(write=False)
    return Recording(time_s, acc_g, gyro_dps, meta), stats
