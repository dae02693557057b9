"""Stage 1 — the leg angle θ from raw accelerometer and gyroscope, no calibration step.

Model: the straight leg is a rigid segment pivoting at the hip. One sensor axis ``u`` points along
the shank toward the foot (``+x`` by default; flipped automatically when the recording shows the
axis points up the leg); the strap may sit anywhere around the ankle, on either leg.

1. Gravity direction in sensor axes, ``up_s(t)``, from VQF (Laidig & Seel 2023): gyro strapdown
   integration corrected by the accelerometer in an almost-inertial frame, with rest detection
   and gyro-bias estimation. The accelerometer alone is wrong whenever the leg accelerates
   (a 200 °/s swing adds about 1 g), so it only anchors the gyro. Dropped samples are bridged by
   integrating the gyro over the real interval, up to ``max_bridge_s``.
2. The hip's mediolateral axis ``h`` in sensor axes: the principal axis of the bias-corrected
   angular rate perpendicular to ``u`` (reps, walking and swings all rotate the shank about it).
3. θ is the angle of ``u`` in the sagittal plane: ``atan2(up·u, up·w)`` with ``w = h × u`` — equal
   to the shank elevation above horizontal when the leg is behind the hip and continuous past
   hanging vertical (a swing under the bench reads below −90°). The hip line offset is then
   subtracted. ``rate_dps`` is the bias-corrected gyro about ``h``: dθ/dt.

Everything is vectorised; VQF runs in C++. :class:`AngleEstimator` is the streaming form used by
the live path: the same VQF state fed chunk by chunk gives the same θ as the batch function.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from imu.errors import ImuError

__all__ = [
    "AngleEstimator",
    "LegAngle",
    "estimate_leg_angle",
    "resolve_shank_axis",
]

FloatArray = npt.NDArray[np.float64]
GRAVITY_MPS2 = 9.80665
_AXES = {
    "+x": (0, 1.0),
    "-x": (0, -1.0),
    "+y": (1, 1.0),
    "-y": (1, -1.0),
    "+z": (2, 1.0),
    "-z": (2, -1.0),
}
#: a recording whose median along-shank reading is above this (in g) has the axis pointing up
_FLIP_MEDIAN_G = 0.35
#: seconds of the initial posture fed to VQF before the data so its tilt starts converged
_WARMUP_S = 12.0
#: VQF settings: cheap sensors have gyro biases of several °/s (VQF clips its estimate at 2 °/s by
#: default), and the holds and pauses of a rep are shorter than its default 1.5 s rest window
_BIAS_SIGMA_INIT_DPS = 2.0
_VQF_PARAMS = {
    "tauAcc": 3.0,
    "biasClip": 10.0,
    "restMinT": 0.5,
    "biasSigmaInit": _BIAS_SIGMA_INIT_DPS,
}
#: the hip axis is averaged over this long, s
_AXIS_WINDOW_S = 10.0


@dataclass(frozen=True)
class LegAngle:
    """The leg angle over a recording."""

    time_s: FloatArray
    theta_deg: FloatArray  #: leg angle above the hip line, °
    rate_dps: FloatArray  #: dθ/dt from the bias-corrected gyro about the hip axis, °/s
    shank_axis: str  #: the axis used, e.g. ``+x``
    hip_axis: FloatArray  #: median hip axis in sensor coordinates
    gyro_bias_dps: FloatArray  #: median gyro bias estimate, °/s
    hip_line_offset_deg: float  #: subtracted from the sagittal angle, °
    notes: tuple[str, ...] = ()


def resolve_shank_axis(acc_g: FloatArray, shank_axis: str) -> tuple[str, FloatArray, str | None]:
    """Pick the shank axis. ``auto`` means ``+x`` unless the data show it points up the leg.

    Returns the axis name, its unit vector and a note when it was flipped.
    """
    if shank_axis == "auto":
        col, sign = _AXES["+x"]
        median = float(np.median(acc_g[:, col])) if acc_g.shape[0] else 0.0
        if median > _FLIP_MEDIAN_G:
            vec = np.zeros(3)
            vec[col] = -1.0
            return (
                "-x",
                vec,
                f"the sensor's x axis reads {median:+.2f} g on median, so it points up the leg; "
                "using -x as the shank axis",
            )
        shank_axis = "+x"
    if shank_axis not in _AXES:
        raise ImuError(f"unknown shank axis {shank_axis!r}")
    col, sign = _AXES[shank_axis]
    vec = np.zeros(3)
    vec[col] = sign
    return shank_axis, vec, None


def _up_from_quat(quat: FloatArray) -> FloatArray:
    """World 'up' (earth z) in sensor coordinates from VQF quaternions (w, x, y, z)."""
    w, x, y, z = quat[:, 0], quat[:, 1], quat[:, 2], quat[:, 3]
    up = np.empty((quat.shape[0], 3))
    up[:, 0] = 2.0 * (x * z - w * y)
    up[:, 1] = 2.0 * (y * z + w * x)
    up[:, 2] = w * w - x * x - y * y + z * z
    return up


def hip_axis(up: FloatArray, shank: FloatArray, *, window: int) -> FloatArray:
    """The hip's mediolateral axis in sensor coordinates at each sample, shape (n, 3).

    The horizontal direction perpendicular to the shank is ``u × up``; its moving average over
    ``window`` samples is the hip axis (sign: the leg behind the hip, where most time is spent).
    Averaging keeps the axis fixed through a brief swing past vertical, where ``u × up`` flips.
    The average is taken on blocks of ``window // 100`` samples, which is plenty for an axis
    that only moves when the strap does.
    """
    n = up.shape[0]
    raw = np.cross(shank, up)
    total = raw.sum(axis=0)
    if np.linalg.norm(total) < 1e-9:
        helper = np.array([0.0, 0.0, 1.0]) if abs(shank[2]) < 0.9 else np.array([0.0, 1.0, 0.0])
        total = np.cross(shank, helper)
    fallback = total / np.linalg.norm(total)
    block = max(1, window // 100)
    n_blocks = -(-n // block)
    padded = np.zeros((n_blocks * block, 3))
    padded[:n] = raw
    sums = padded.reshape(n_blocks, block, 3).sum(axis=1)
    span = max(1, min(window // block, n_blocks))
    avg = _centred_sum(sums, span) if span > 1 else sums
    axes = _normalise_axis(avg, shank, fallback)
    return np.repeat(axes, block, axis=0)[:n]


def _centred_sum(x: FloatArray, window: int) -> FloatArray:
    """Sum over a centred window (shrinking at the ends), per column; the scale is irrelevant."""
    csum = np.concatenate((np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)))
    n = x.shape[0]
    half = window // 2
    idx = np.arange(n)
    hi = np.minimum(idx + half + 1, n)
    lo = np.maximum(idx - half, 0)
    return np.asarray(csum[hi] - csum[lo], dtype=np.float64)


def _normalise_axis(avg: FloatArray, shank: FloatArray, fallback: FloatArray) -> FloatArray:
    avg = avg - np.outer(avg @ shank, shank)
    norm = np.linalg.norm(avg, axis=1)
    weak = norm < 0.05  # the leg was vertical for the whole window: keep the overall axis
    out = np.empty_like(avg)
    out[~weak] = avg[~weak] / norm[~weak, None]
    out[weak] = fallback
    return out


@dataclass
class _VqfRunner:
    """VQF with the sample-interval bridging and warm-up shared by batch and streaming use."""

    sampling_rate_hz: float
    max_bridge_s: float
    _vqf: object | None = None
    _last_t: float | None = None
    _bias_rads: FloatArray = field(default_factory=lambda: np.zeros(3))

    def _ensure(self, acc_g: FloatArray) -> None:
        if self._vqf is not None:
            return
        import vqf

        period = 1.0 / self.sampling_rate_hz
        engine = vqf.VQF(period, **_VQF_PARAMS)
        # warm-up: hold the first posture so the tilt has converged when the data start (the
        # first sample only, so that the result does not depend on how the data are chunked)
        first = acc_g[0] * GRAVITY_MPS2
        n_warm = int(_WARMUP_S * self.sampling_rate_hz)
        engine.updateBatch(
            np.zeros((n_warm, 3)), np.ascontiguousarray(np.tile(first, (n_warm, 1)))
        )
        # the warm-up's zero rate is not evidence about the bias: forget it
        engine.setBiasEstimate(np.zeros(3), np.radians(_BIAS_SIGMA_INIT_DPS))
        self._vqf = engine

    def update(
        self, time_s: FloatArray, acc_g: FloatArray, gyro_dps: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Feed samples; return up-vectors (n, 3) and gyro bias (n, 3) in °/s."""
        self._ensure(acc_g)
        assert self._vqf is not None
        period = 1.0 / self.sampling_rate_hz
        dt = np.empty(time_s.shape[0])
        if time_s.shape[0]:
            dt[0] = period if self._last_t is None else time_s[0] - self._last_t
            dt[1:] = np.diff(time_s)
            self._last_t = float(time_s[-1])
        # integrate the gyro over the real interval (jitter, a few dropped samples)
        scale = np.clip(dt / period, 0.0, max(1.0, self.max_bridge_s / period))
        gyr = np.ascontiguousarray(np.radians(gyro_dps) * scale[:, None])
        acc = np.ascontiguousarray(acc_g * GRAVITY_MPS2)
        out = self._vqf.updateBatch(gyr, acc)  # type: ignore[attr-defined]
        up = _up_from_quat(np.asarray(out["quat6D"]))
        bias = np.degrees(np.asarray(out["bias"]))
        return up, bias


def estimate_leg_angle(
    time_s: FloatArray,
    acc_g: FloatArray,
    gyro_dps: FloatArray,
    *,
    sampling_rate_hz: float,
    shank_axis: str = "auto",
    hip_line_offset_deg: float = 0.0,
    hip_line_segment_s: tuple[float, float] | None = None,
    max_bridge_s: float = 0.25,
) -> LegAngle:
    """Leg angle θ (°, above the hip line) and its rate (°/s) for a whole recording.

    ``hip_line_segment_s`` names a stretch where the user held the legs in line with the body:
    its median angle becomes the hip line (overrides ``hip_line_offset_deg``).
    """
    if not sampling_rate_hz > 0 or not math.isfinite(sampling_rate_hz):
        raise ImuError(f"sampling rate must be positive, got {sampling_rate_hz}")
    n = time_s.shape[0]
    if n < 2:
        raise ImuError("a recording needs at least two samples to estimate the leg angle")
    notes: list[str] = []
    axis_name, shank, note = resolve_shank_axis(acc_g, shank_axis)
    if note:
        notes.append(note)
    runner = _VqfRunner(sampling_rate_hz, max_bridge_s)
    up, bias = runner.update(time_s, acc_g, gyro_dps)
    gyro_c = gyro_dps - bias
    h = hip_axis(up, shank, window=round(_AXIS_WINDOW_S * sampling_rate_hz))
    w = np.cross(h, shank)
    theta = np.arctan2(np.einsum("ij,j->i", up, shank), np.einsum("ij,ij->i", up, w))
    # with w = h × u, dθ/dt = ω·h exactly for a rotation about h
    rate = np.einsum("ij,ij->i", gyro_c, h)
    theta_deg = np.degrees(theta)
    offset = hip_line_offset_deg
    if hip_line_segment_s is not None:
        a, b = hip_line_segment_s
        sel = (time_s >= a) & (time_s < b)
        if not sel.any():
            raise ImuError(
                f"the hip-line segment {a:g}–{b:g} s holds no samples "
                f"(the recording spans {time_s[0]:g}–{time_s[-1]:g} s)"
            )
        offset = float(np.median(theta_deg[sel]))
        notes.append(f"hip line set from the legs held in line at {a:g}–{b:g} s: {offset:+.1f}°")
    if offset:
        theta_deg = theta_deg - offset
    return LegAngle(
        time_s=time_s,
        theta_deg=theta_deg,
        rate_dps=rate,
        shank_axis=axis_name,
        hip_axis=np.asarray(np.median(h, axis=0), dtype=np.float64),
        gyro_bias_dps=np.median(bias, axis=0),
        hip_line_offset_deg=offset,
        notes=tuple(notes),
    )


class AngleEstimator:
    """Streaming leg angle: ``update(time_s, acc_g, gyro_dps) -> (theta_deg, rate_dps)``.

    The same VQF configuration as :func:`estimate_leg_angle`; the hip axis is a causal moving
    average of ``u × up`` instead of a centred one, so θ agrees with the batch result except for
    the first seconds and around a strap that moves.
    """

    def __init__(
        self,
        *,
        sampling_rate_hz: float,
        shank_axis: str = "+x",
        hip_line_offset_deg: float = 0.0,
        max_bridge_s: float = 0.25,
    ) -> None:
        if shank_axis == "auto":
            shank_axis = "+x"
        self.shank_axis, self._shank, _ = resolve_shank_axis(np.zeros((0, 3)), shank_axis)
        self.hip_line_offset_deg = hip_line_offset_deg
        self.sampling_rate_hz = sampling_rate_hz
        self._runner = _VqfRunner(sampling_rate_hz, max_bridge_s)
        self._window = max(1, round(_AXIS_WINDOW_S * sampling_rate_hz))
        self._tail = np.zeros((0, 3))  # the last window of u × up
        self._sum = np.zeros(3)

    def update(
        self, time_s: FloatArray, acc_g: FloatArray, gyro_dps: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Feed a chunk; return θ (°) and dθ/dt (°/s) for each of its samples."""
        n = time_s.shape[0]
        if n == 0:
            return np.zeros(0), np.zeros(0)
        up, bias = self._runner.update(time_s, acc_g, gyro_dps)
        gyro_c = gyro_dps - bias
        shank = self._shank
        raw = np.cross(shank, up)
        # causal moving sum over the last ``window`` samples (trailing average)
        joined = np.vstack((self._tail, raw))
        csum = np.cumsum(joined, axis=0)
        m = self._tail.shape[0]
        idx = np.arange(m, m + n)
        lo = idx - self._window
        sums = csum[idx] - np.where(lo[:, None] >= 0, csum[np.maximum(lo, 0)], 0.0)
        sums += self._sum_before(lo)
        self._tail = joined[-self._window :]
        total = self._sum + raw.sum(axis=0)
        self._sum = total
        norm_total = np.linalg.norm(total)
        fallback = total / norm_total if norm_total > 1e-9 else hip_axis(up[:1], shank, window=1)[0]
        h = _normalise_axis(sums, shank, fallback)
        w = np.cross(h, shank)
        theta = np.arctan2(np.einsum("ij,j->i", up, shank), np.einsum("ij,ij->i", up, w))
        rate = np.einsum("ij,ij->i", gyro_c, h)
        return np.degrees(theta) - self.hip_line_offset_deg, rate

    @staticmethod
    def _sum_before(lo: npt.NDArray[np.int_]) -> FloatArray:
        # windows reaching before the kept tail start at the first kept sample: nothing to add
        return np.zeros((lo.shape[0], 3))
