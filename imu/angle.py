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

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from imu.errors import ImuError
from imu.recording import GAP_PERIODS, GRAVITY_MPS2, LONG_GAP_S

__all__ = [
    "PULL_KEEPS_DOCUMENTED_DEG",
    "AngleEstimator",
    "LegAngle",
    "ShankAxis",
    "ankle_position",
    "estimate_leg_angle",
    "find_shank_axis",
    "refine_shank",
    "resolve_shank_axis",
    "rotation_radii_m",
    "shank_axis_of",
    "tilt_mismatch_deg",
]

FloatArray = npt.NDArray[np.float64]
_AXES = {
    "+x": (0, 1.0),
    "-x": (0, -1.0),
    "+y": (1, 1.0),
    "-y": (1, -1.0),
    "+z": (2, 1.0),
    "-z": (2, -1.0),
}
#: a recording whose median along-shank reading is above this (in g) has the axis pointing up
_FLIP_MEDIAN_G = 0.5
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
#: the shank axis finder: rates that count as swinging, °/s, and at least this long of them, s
_SWING_MIN_DPS = 30.0
_SWING_MIN_S = 1.0
#: still samples: rate below this, °/s, and |a| within this of 1 g
_STILL_MAX_DPS = 8.0
_STILL_MAX_G = 0.08
#: hanging: still readings within this of the centripetal direction's opposite (then within the
#: wider cone), °, for at least this long, s; within the narrow cone of the reps' own direction
_HANG_CONE_DEG = 15.0
_HANG_WIDE_CONE_DEG = 35.0
_HANG_REPS_CONE_DEG = 8.0
_HANG_MIN_S = 2.0
#: readings within this of each other form a cluster (the hanging posture's), °
_CLUSTER_DEG = 4.0
#: the hanging and centripetal directions agree within this (high confidence), °
_AGREE_DEG = 20.0
#: the centripetal cue needs this long of swinging, s; without it (a leg that hardly moves) the
#: documented axis is kept. Alone (no hanging leg to confirm it) it needs a clean swing: this
#: share of the rotation about one axis, and a fitted radius that is a leg's (0.45–1.3 m)
_CENTRIPETAL_MIN_S = 10.0
_CLEAN_SWING = 0.9
#: an x axis this far from square to the swing axis is not the shank, °
_SQUARE_DEG = 35.0
#: a centripetal pull alone (no hanging leg, not a clean swing) this close to an x axis square
#: to the swing keeps the documented axis, ° — on the 56 shared recordings and our simulator's
#: documented sessions such pulls lie within 34° of ±x; a sensor turned any way lies anywhere
PULL_KEEPS_DOCUMENTED_DEG = 50.0
#: a found direction this close to ±x is the documented mounting, °
_DOCUMENTED_CONE_DEG = 20.0
#: … and this close when only the centripetal cue says otherwise (knee or hip abduction
#: exercises bend its direction), °
_DOCUMENTED_WIDE_CONE_DEG = 30.0
#: |mean(u × up)| below this (the leg within ~15° of vertical on average) does not fix the axis
_AXIS_MIN_STRENGTH = 0.25
#: offline, the tilt after a gap longer than this is taken from a backward pass, s (see
#: :func:`_smooth_after_gaps`) …
SMOOTHED_GAP_S = LONG_GAP_S
#: … when the leg, at the rate either side, would turn this far over the gap, ° …
SMOOTHED_TURN_DEG = 10.0
#: … over this long after the gap, s (four of VQF's tauAcc)
_SMOOTH_WINDOW_S = 12.0
#: samples fed to the orientation filter at a time by the batch function
_CHUNK = 65536
#: the hip axis is averaged over this long, s
_AXIS_WINDOW_S = 10.0
#: streaming: the side the leg is on follows the mean of u × up over this long, when at least
#: this strong (the leg clearly off vertical), s
_SIGN_WINDOW_S = 1.0
_SIGN_MIN_STRENGTH = 0.5


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
    shank: FloatArray = field(default_factory=lambda: np.array([1.0, 0.0, 0.0]))  #: unit vector
    #: ankle-to-hip distance measured from the centripetal acceleration, m (None: not measured)
    ankle_radius_m: float | None = None
    #: gravity direction (n, 3) and bias-corrected rate (n, 3) in sensor axes, kept so that the
    #: shank direction can be refined without running the orientation filter again
    up: FloatArray = field(default_factory=lambda: np.zeros((0, 3)), repr=False)
    gyro_c_dps: FloatArray = field(default_factory=lambda: np.zeros((0, 3)), repr=False)
    #: the shank axis is a sensor axis (documented mounting or override); False: found from the
    #: data for a sensor turned any way (then the sensor's own +z says nothing about the skin)
    shank_documented: bool = True
    #: what fixed a found shank direction (see :class:`ShankAxis`)
    shank_cue: str = "axis"


@dataclass(frozen=True)
class ShankAxis:
    """The sensor direction taken as the shank's (toward the foot), and why."""

    name: str  #: ``+x`` … ``-z`` for a sensor axis, ``found`` for a direction from the data
    vector: FloatArray  #: unit vector in sensor axes
    #: a sensor axis: the documented mounting (the data agree, or say it is upside down) or an
    #: override; False: an arbitrary orientation, found from the recording
    documented: bool
    confidence: str  #: ``given``, ``high``, ``medium`` or ``low``
    note: str | None = None
    #: what fixed the direction: ``axis`` (a sensor axis), ``hanging``, ``centripetal``,
    #: ``start``; ``none``: :func:`find_shank_axis` had no cue (the documented axis assumed)
    cue: str = "axis"

    @property
    def label(self) -> str:
        """For summaries: the axis name, or the found direction's components."""
        if self.name != "found":
            return self.name
        x, y, z = (float(c) for c in self.vector)
        return f"found ({x:+.3f}, {y:+.3f}, {z:+.3f})"


def _unit(v: FloatArray) -> FloatArray:
    return np.asarray(v / np.linalg.norm(v), dtype=np.float64)


def _angle_deg(a: FloatArray, b: FloatArray) -> float:
    c = float(a @ b) / float(np.linalg.norm(a) * np.linalg.norm(b))
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))


def find_shank_axis(
    acc_g: FloatArray,
    gyro_dps: FloatArray,
    *,
    sampling_rate_hz: float,
    time_s: FloatArray | None = None,
    up: FloatArray | None = None,
) -> ShankAxis:
    """The shank's direction (toward the foot) in sensor axes, from the recording itself.

    Three cues, each independent of how the sensor is turned on the leg:

    1. **the swing axis** ``h``: the principal axis of the angular rate while the leg turns
       faster than :data:`_SWING_MIN_DPS` (reps, walking and swings all turn the shank about the
       hip's or knee's mediolateral axis); the shank is perpendicular to it;
    2. **the centripetal direction**: a point on a segment turning about ``h`` accelerates by
       ``−ω²·p + α·(h × p)``; the fit of that (:func:`ankle_position`, over every fast-turning
       sample, with the gravity direction ``up`` from the orientation filter) points from the
       pivot to the sensor: down the shank. It needs ``up`` and ``time_s``;
    3. **gravity when the leg hangs still** (standing, sitting, hanging on the machine): the
       still samples whose reading lies within :data:`_HANG_CONE_DEG` of the centripetal
       direction's opposite (or, without one, all still samples) give the shank as the
       opposite of their median reading.

    The answer is the hanging direction (3) where there is one — within a few degrees of the
    shank on a straight standing leg — else the centripetal one (2); with neither (a still leg,
    less than :data:`_CENTRIPETAL_MIN_S` of swinging, the live path's first second) the
    documented ``±x`` by its median reading. The documented axis is also kept when the answer
    lies within :data:`_DOCUMENTED_CONE_DEG` of ``±x`` (:data:`_DOCUMENTED_WIDE_CONE_DEG` for a
    centripetal pull that is not a clean swing), and when only such a pull speaks against an x
    axis that is square to the swing, so that a sensor mounted as the README says is analysed
    exactly as before. ``confidence`` says how the cues agree. :func:`refine_shank` then
    measures a found direction on the reps.
    """
    n = acc_g.shape[0]
    if n == 0:
        return ShankAxis("+x", np.array([1.0, 0.0, 0.0]), True, "low", None)
    moving = _swinging(acc_g, gyro_dps)
    swing, planar = _swing_axis(gyro_dps, moving, sampling_rate_hz=sampling_rate_hz)
    centripetal: FloatArray | None = None
    radius = 0.0
    enough = int(moving.sum()) >= _CENTRIPETAL_MIN_S * sampling_rate_hz
    if swing is not None and up is not None and time_s is not None and enough:
        centripetal, radius = _centripetal_direction(time_s, acc_g, up, gyro_dps, swing, moving)
    hanging, hang_s = _hanging_near(acc_g, gyro_dps, sampling_rate_hz, centripetal)
    cues: list[str] = []
    if hanging is not None:
        found, cue = hanging, "hanging"
        cues.append(f"the leg hanging still for {hang_s:.0f} s")
    elif centripetal is not None:
        found, cue = centripetal, "centripetal"
    else:
        # nothing to go by (a still leg, a second of data): the documented axis, by the sign
        # its median reading gives
        return dataclasses.replace(shank_axis_of(acc_g, "auto"), cue="none")
    if centripetal is not None:
        cues.append(f"the centripetal pull ({_angle_deg(found, centripetal):.0f}° apart)")
    if swing is not None:
        off = abs(90.0 - _angle_deg(found, swing))
        cues.append(f"the swing axis ({100 * planar:.0f} % of the rotation, {off:.0f}° off square)")
    agree = centripetal is not None and _angle_deg(found, centripetal) < _AGREE_DEG
    confidence = "high" if cue == "hanging" and agree else "medium"
    clean = cue == "hanging" or (planar >= _CLEAN_SWING and 0.45 <= radius <= 1.3)
    documented = _documented_axis_kept(found, swing, clean=clean, confidence=confidence)
    if documented is not None:
        return documented
    how = ", ".join(cues) if cues else "gravity at the start only (the leg assumed to hang)"
    x, y, z = found
    note = (
        f"shank axis found from the recording: ({x:+.2f}, {y:+.2f}, {z:+.2f}) in sensor axes, "
        f"{confidence} confidence — from {how}"
    )
    return ShankAxis("found", found, False, confidence, note, cue)


def _swing_axis(
    gyro_dps: FloatArray, moving: npt.NDArray[np.bool_], *, sampling_rate_hz: float
) -> tuple[FloatArray | None, float]:
    """Cue 1 of :func:`find_shank_axis`: the principal axis of the fast-turning angular rate and
    the share of the rotation about it, or ``(None, 0.0)`` with too little turning."""
    if int(moving.sum()) < max(20, int(_SWING_MIN_S * sampling_rate_hz)):
        return None, 0.0
    w = gyro_dps[moving]
    values, vectors = np.linalg.eigh(w.T @ w)
    swing = np.asarray(vectors[:, -1], dtype=np.float64)
    return swing, float(values[-1] / max(values.sum(), 1e-12))


def _centripetal_direction(
    time_s: FloatArray,
    acc_g: FloatArray,
    up: FloatArray,
    gyro_dps: FloatArray,
    swing: FloatArray,
    moving: npt.NDArray[np.bool_],
) -> tuple[FloatArray | None, float]:
    """Cue 2 of :func:`find_shank_axis`: the direction from the pivot to the sensor, square to
    the swing axis, and its distance (m); the direction is ``None`` unless the fit finds a
    pivot well away from the sensor."""
    n = acc_g.shape[0]
    p = ankle_position(
        time_s, acc_g, up, gyro_dps, np.broadcast_to(swing, (n, 3)), moving, min_rate_dps=0.0
    )
    if p is None:
        return None, 0.0
    p = p - (p @ swing) * swing
    radius = float(np.linalg.norm(p))
    if radius > 0.1:  # a pivot well away from the sensor (not a still, jiggled leg)
        return _unit(p), radius
    return None, radius


def _hanging_near(
    acc_g: FloatArray,
    gyro_dps: FloatArray,
    sampling_rate_hz: float,
    centripetal: FloatArray | None,
) -> tuple[FloatArray | None, float]:
    """Cue 3 of :func:`find_shank_axis`: the leg hanging still opposite the centripetal pull
    (within the narrow cone, else the wide one) and for how long (s); ``(None, 0.0)`` without
    a centripetal direction or such a hang."""
    if centripetal is None:
        return None, 0.0
    for cone in (_HANG_CONE_DEG, _HANG_WIDE_CONE_DEG):
        found_hang = hanging_direction(
            acc_g, gyro_dps, sampling_rate_hz=sampling_rate_hz, near=centripetal, cone_deg=cone
        )
        if found_hang is not None:
            return found_hang
    return None, 0.0


def _documented_axis_kept(
    found: FloatArray, swing: FloatArray | None, *, clean: bool, confidence: str
) -> ShankAxis | None:
    """The documented ``±x`` if :func:`find_shank_axis` keeps it for the ``found`` direction,
    else ``None``.

    The documented axis is kept unless the data contradict it: a shank is square to the axis
    it swings about, so an x axis far from square (over _SQUARE_DEG) cannot be the shank; a
    centripetal pull alone (no hanging leg, not a ``clean`` swing) overrules only such an x
    axis, or one more than :data:`PULL_KEEPS_DOCUMENTED_DEG` from the pull.
    """
    x_off = 0.0 if swing is None else abs(90.0 - _angle_deg(np.array([1.0, 0.0, 0.0]), swing))
    x_square = x_off <= _SQUARE_DEG
    for name in ("+x", "-x"):
        col, sign = _AXES[name]
        axis = np.zeros(3)
        axis[col] = sign
        off = _angle_deg(found, axis)
        cone = _DOCUMENTED_CONE_DEG if clean else _DOCUMENTED_WIDE_CONE_DEG
        keep = off <= cone or (x_square and not clean and off <= PULL_KEEPS_DOCUMENTED_DEG)
        if keep:
            note = None
            if name == "-x":
                note = (
                    f"the sensor's x axis points up the leg (the recording's shank direction is "
                    f"{off:.0f}° from -x); using -x as the shank axis"
                )
            return ShankAxis(name, axis, True, confidence, note)
    return None


def hanging_direction(
    acc_g: FloatArray,
    gyro_dps: FloatArray,
    *,
    sampling_rate_hz: float,
    near: FloatArray | None,
    cone_deg: float,
) -> tuple[FloatArray, float] | None:
    """The shank's direction while the leg hangs still (the opposite of the still readings'
    densest direction), among readings within ``cone_deg`` of ``near`` (any, if None), and how
    long the leg hung there, s. None with less than :data:`_HANG_MIN_S` of such readings."""
    norm = np.linalg.norm(acc_g, axis=1)
    still = _still(acc_g, gyro_dps)
    if not still.any():
        return None
    down = -acc_g[still] / norm[still, None]
    if near is not None:
        down = down[down @ near > math.cos(math.radians(cone_deg))]
    if down.shape[0] / sampling_rate_hz < _HANG_MIN_S:
        return None
    direction, count = _densest_direction(down)
    if count / sampling_rate_hz < _HANG_MIN_S:
        return None
    return direction, count / sampling_rate_hz


def _still(acc_g: FloatArray, gyro_dps: FloatArray) -> npt.NDArray[np.bool_]:
    """Samples of a still leg: rate under :data:`_STILL_MAX_DPS`, |a| within
    :data:`_STILL_MAX_G` of 1 g."""
    rate = np.linalg.norm(gyro_dps, axis=1)
    level = np.abs(np.linalg.norm(acc_g, axis=1) - 1.0)
    return np.asarray((rate < _STILL_MAX_DPS) & (level < _STILL_MAX_G), dtype=np.bool_)


def turn_toward(
    u: FloatArray, target: FloatArray, axis: FloatArray, *, limit_rad: float
) -> FloatArray:
    """``u`` turned about ``axis`` toward ``target``'s direction in the plane normal to it, by at
    most ``limit_rad``."""
    h = _unit(axis)
    a = u - (u @ h) * h
    b = target - (target @ h) * h
    if np.linalg.norm(a) < 1e-9 or np.linalg.norm(b) < 1e-9:
        return u
    a, b = _unit(a), _unit(b)
    turn = math.atan2(float(np.cross(a, b) @ h), float(a @ b))
    turn = max(-limit_rad, min(limit_rad, turn))
    c, s = math.cos(turn), math.sin(turn)
    rotated = u * c + np.cross(h, u) * s + h * float(h @ u) * (1.0 - c)  # Rodrigues
    return _unit(rotated)


def _densest_direction(directions: FloatArray) -> tuple[FloatArray, int]:
    """The direction most readings cluster around (standing, hanging on the machine: within a
    few degrees of vertical), not their median (sitting tilts the shank 5–25° forward, and a
    long sit would pull a median off): the reading with the most others within
    :data:`_CLUSTER_DEG` (on at most 1500 of them), then the median of those near it. Returns
    the direction and how many readings are near it."""
    n = directions.shape[0]
    pick = directions[:: max(1, n // 1500)]
    near_cos = math.cos(math.radians(_CLUSTER_DEG))
    counts = np.count_nonzero(pick @ pick.T > near_cos, axis=1)
    mode = pick[int(np.argmax(counts))]
    near = directions[directions @ mode > near_cos]
    return _unit(np.median(near, axis=0)), int(near.shape[0])


def resolve_shank_axis(
    acc_g: FloatArray,
    shank_axis: str,
    *,
    gyro_dps: FloatArray | None = None,
    sampling_rate_hz: float | None = None,
    time_s: FloatArray | None = None,
    up: FloatArray | None = None,
) -> tuple[str, FloatArray, str | None]:
    """Pick the shank axis: the name, its unit vector and a note (or None).

    ``auto``: found from the data by :func:`find_shank_axis` when the rates are given (the
    documented ``±x`` whenever the data agree with it), else ``+x`` unless the median reading
    along it says it points up the leg. Any other value is an override naming a sensor axis.
    """
    axis = shank_axis_of(
        acc_g,
        shank_axis,
        gyro_dps=gyro_dps,
        sampling_rate_hz=sampling_rate_hz,
        time_s=time_s,
        up=up,
    )
    return axis.label if axis.name == "found" else axis.name, axis.vector, axis.note


def shank_axis_of(
    acc_g: FloatArray,
    shank_axis: str,
    *,
    gyro_dps: FloatArray | None = None,
    sampling_rate_hz: float | None = None,
    time_s: FloatArray | None = None,
    up: FloatArray | None = None,
) -> ShankAxis:
    """:func:`resolve_shank_axis` with the whole :class:`ShankAxis`."""
    if shank_axis == "auto":
        if gyro_dps is not None and sampling_rate_hz is not None and acc_g.shape[0]:
            return find_shank_axis(
                acc_g, gyro_dps, sampling_rate_hz=sampling_rate_hz, time_s=time_s, up=up
            )
        col, sign = _AXES["+x"]
        median = float(np.median(acc_g[:, col])) if acc_g.shape[0] else 0.0
        if median > _FLIP_MEDIAN_G:
            vec = np.zeros(3)
            vec[col] = -1.0
            note = (
                f"the sensor's x axis reads {median:+.2f} g on median, so it points up the leg; "
                "using -x as the shank axis"
            )
            return ShankAxis("-x", vec, True, "medium", note)
        shank_axis = "+x"
    if shank_axis not in _AXES:
        raise ImuError(f"unknown shank axis {shank_axis!r}")
    col, sign = _AXES[shank_axis]
    vec = np.zeros(3)
    vec[col] = sign
    return ShankAxis(shank_axis, vec, True, "given", None)


def tilt_mismatch_deg(acc_g: FloatArray, up: FloatArray, shank: FloatArray) -> FloatArray:
    """At each sample, the shank's elevation by the accelerometer alone, ``asin(a·u)`` (a in g),
    minus the orientation filter's, ``asin(up·u)``, in degrees.

    Along the shank the accelerometer reads ``sin e − r·ω²/g``, so the two agree whenever the leg
    is momentarily at rest — at the top of a rep even if it is accelerating (the tangential term
    lies across the shank) — unless the filter's orientation is wrong. Elevation is compared with
    elevation, not with θ: θ is measured in the sagittal plane, and a leg that leaves that plane
    near vertical (a bent knee, a turned hip) has a θ well above its elevation with nothing
    wrong."""
    along = np.clip(acc_g @ shank, -1.0, 1.0)
    filtered = np.clip(up @ shank, -1.0, 1.0)
    out: FloatArray = np.degrees(np.arcsin(along) - np.arcsin(filtered))
    return out


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
    """
    axes, block = _hip_axis_blocks(up, shank, window=window)
    return np.repeat(axes, block, axis=0)[: up.shape[0]]


def _hip_axis_blocks(up: FloatArray, shank: FloatArray, *, window: int) -> tuple[FloatArray, int]:
    """:func:`hip_axis` on blocks of ``window // 100`` samples (plenty for an axis that only
    moves when the strap does): one axis per block, and the block length."""
    n = up.shape[0]
    block = max(1, window // 100)
    n_blocks = -(-n // block)
    sums = np.zeros((n_blocks, 3))
    for i0 in range(0, n, _CHUNK - _CHUNK % block):  # u × up per chunk: no (n, 3) temporary
        i1 = min(n, i0 + _CHUNK - _CHUNK % block)
        raw = np.cross(shank, up[i0:i1])
        b0 = i0 // block
        full = (i1 - i0) // block
        sums[b0 : b0 + full] = raw[: full * block].reshape(full, block, 3).sum(axis=1)
        if full * block < i1 - i0:
            sums[b0 + full] = raw[full * block :].sum(axis=0)
    total = sums.sum(axis=0)
    if np.linalg.norm(total) < 1e-9:
        helper = np.array([0.0, 0.0, 1.0]) if abs(shank[2]) < 0.9 else np.array([0.0, 1.0, 0.0])
        total = np.cross(shank, helper)
    fallback = total / np.linalg.norm(total)
    span = max(1, min(window // block, n_blocks))
    ones = np.ones((n_blocks, 1))
    counts = _centred_sum(ones, span) * block if span > 1 else ones * block
    mean = (_centred_sum(sums, span) if span > 1 else sums) / counts
    mean = mean - np.outer(mean @ shank, shank)
    strength = np.linalg.norm(mean, axis=1)
    # where the leg was near vertical for the whole window (standing, walking), u × up says
    # little and flips with each step: carry the nearest well-determined axis instead
    strong = strength >= _AXIS_MIN_STRENGTH
    axes = np.empty_like(mean)
    if strong.any():
        nearest = _nearest_true(strong)
        axes = mean[nearest] / strength[nearest, None]
    else:
        axes[:] = fallback
    return axes, block


def _nearest_true(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.intp]:
    """For each position, the index of the nearest position where ``mask`` is true."""
    idx = np.arange(mask.shape[0])
    true_idx = np.flatnonzero(mask)
    pos = np.clip(np.searchsorted(true_idx, idx), 1, max(1, true_idx.shape[0] - 1))
    if true_idx.shape[0] == 1:
        return np.full(mask.shape[0], true_idx[0])
    left, right = true_idx[pos - 1], true_idx[pos]
    return np.where(idx - left <= right - idx, left, right)


def _centred_sum(x: FloatArray, window: int) -> FloatArray:
    """Sum over a centred window (shrinking at the ends), per column; the scale is irrelevant."""
    csum = np.concatenate((np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)))
    n = x.shape[0]
    half = window // 2
    idx = np.arange(n)
    hi = np.minimum(idx + half + 1, n)
    lo = np.maximum(idx - half, 0)
    return np.asarray(csum[hi] - csum[lo], dtype=np.float64)


def _bridged_rates(
    dt: FloatArray,
    prev_dps: FloatArray,
    gyro_dps: FloatArray,
    *,
    period: float,
    max_bridge_s: float,
) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """The rates VQF integrates, rad/s scaled by each sample's interval over the nominal
    ``period``, and the samples after a break (a gap over ``max_bridge_s``).

    A short gap (jitter, dropped packets) is bridged by the mean of the rates either side
    (``prev_dps``: each sample's predecessor) over the real interval; after a break the tilt
    restarts from the accelerometer (scale 0).
    """
    gap = dt > GAP_PERIODS * period
    rate = np.where(gap[:, None], 0.5 * (prev_dps + gyro_dps), gyro_dps)
    scale = dt / period
    breaks = np.flatnonzero(dt > max(max_bridge_s, GAP_PERIODS * period))
    scale[breaks] = 0.0
    return np.ascontiguousarray(np.radians(rate) * scale[:, None]), breaks


def _quat_from_up(up: FloatArray) -> FloatArray:
    """A VQF quaternion (w, x, y, z; sensor to earth) whose earth 'up' in sensor axes is ``up``:
    the shortest rotation taking ``up`` to earth z (any heading serves: θ needs the tilt only)."""
    u = _unit(up)
    w = 1.0 + float(u[2])
    if w < 1e-9:  # upside down: half a turn about x
        return np.array([0.0, 1.0, 0.0, 0.0])
    q = np.array([w, u[1], -u[0], 0.0])  # [1 + u·z, u × z]
    return np.asarray(q / np.linalg.norm(q), dtype=np.float64)


def _smooth_after_gaps(
    time_s: FloatArray,
    acc_g: FloatArray,
    gyro_dps: FloatArray,
    gyro_c_dps: FloatArray,
    up: FloatArray,
    *,
    sampling_rate_hz: float,
    max_bridge_s: float,
) -> tuple[int, bool]:
    """After each gap of over :data:`SMOOTHED_GAP_S` over which the leg, at the rate either
    side, turns at least :data:`SMOOTHED_TURN_DEG`, and at the start of a recording that starts
    with the leg moving, replace the forward filter's gravity direction (``up``, in place) with
    a backward pass; returns how many gaps were smoothed, and whether the start was.

    Bridging a gap in the middle of a fast movement guesses the rotation over it, and the
    forward filter then carries that error for several of its accelerometer time constants
    (tens of degrees after 0.4 s lost mid-rep). Offline the samples after the gap are known: a
    filter run backward in time from :data:`_SMOOTH_WINDOW_S` later (where the forward one has
    converged again) reaches the gap with the tilt of the data after it. The same holds for a
    start mid-movement: the forward filter's warm-up assumes a still leg. The two are blended
    linearly over the window (all backward just after the gap, all forward at its end). The
    live path cannot look ahead and keeps the forward filter.
    """
    import vqf

    n = time_s.shape[0]
    period = 1.0 / sampling_rate_hz
    dt = np.diff(time_s)
    starts = np.flatnonzero(dt > max(SMOOTHED_GAP_S, GAP_PERIODS * period)) + 1
    # the warm-up holds the first sample's posture: right for a leg still at the start only
    moving_at_start = n > 0 and not bool(_still(acc_g[:1], gyro_c_dps[:1])[0])
    bounds = [*([0] if moving_at_start else []), *starts.tolist(), n]
    gaps, start = 0, False
    for i0, i_next in itertools.pairwise(bounds):
        if i0 > 0:
            fastest = max(np.linalg.norm(gyro_c_dps[i0 - 1]), np.linalg.norm(gyro_c_dps[i0]))
            if fastest * (time_s[i0] - time_s[i0 - 1]) < SMOOTHED_TURN_DEG:
                continue  # the leg hardly turned over the gap: bridging it guessed little
        t_end = min(time_s[i0] + _SMOOTH_WINDOW_S, time_s[i_next - 1])
        i_w = int(np.searchsorted(time_s, t_end, side="right")) - 1
        if i_w - i0 < 2:
            continue
        # step k+1 → k integrates minus sample k+1's rate over its interval
        gyr, _ = _bridged_rates(
            dt[i0:i_w],
            gyro_dps[i0:i_w],
            gyro_dps[i0 + 1 : i_w + 1],
            period=period,
            max_bridge_s=max_bridge_s,
        )
        engine: Any = vqf.VQF(period, **_VQF_PARAMS)
        state = engine.state
        state["gyrQuat"] = _quat_from_up(up[i_w])
        state["accQuat"] = np.array([1.0, 0.0, 0.0, 0.0])
        engine.state = state
        bias = np.radians(gyro_dps[i_w] - gyro_c_dps[i_w])
        engine.setBiasEstimate(np.ascontiguousarray(-bias), math.radians(_BIAS_SIGMA_INIT_DPS))
        out = engine.updateBatch(
            np.ascontiguousarray(-gyr[::-1]),  # a break's rate is already 0
            np.ascontiguousarray(acc_g[i0:i_w][::-1] * GRAVITY_MPS2),
        )
        up_back = _up_from_quat(np.asarray(out["quat6D"]))[::-1]
        t = time_s[i0:i_w]
        w = ((t - t[0]) / max(float(time_s[i_w] - t[0]), 1e-9))[:, None]
        blend = (1.0 - w) * up_back + w * up[i0:i_w]
        up[i0:i_w] = blend / np.linalg.norm(blend, axis=1)[:, None]
        if i0 > 0:
            gaps += 1
        else:
            start = True
    return gaps, start


@dataclass
class _VqfRunner:
    """VQF with the sample-interval bridging and warm-up shared by batch and streaming use."""

    sampling_rate_hz: float
    max_bridge_s: float
    _vqf: object | None = None
    _last_t: float | None = None
    _last_gyro: FloatArray | None = None
    _bias_rads: FloatArray = field(default_factory=lambda: np.zeros(3))

    def _ensure(self, acc_g: FloatArray) -> None:
        if self._vqf is not None:
            return
        import vqf

        engine = vqf.VQF(1.0 / self.sampling_rate_hz, **_VQF_PARAMS)
        self._warm_up(engine, acc_g[0], bias_rads=np.zeros(3), sigma_rads=None)
        self._vqf = engine

    def _warm_up(
        self, engine: Any, acc_g: FloatArray, *, bias_rads: FloatArray, sigma_rads: float | None
    ) -> None:
        """Hold one posture so the tilt has converged when the data (re)start.

        One sample only, so that the result does not depend on how the data are chunked. The
        warm-up's zero rate is no evidence about the bias: the bias estimate is set afterwards.
        """
        n_warm = int(_WARMUP_S * self.sampling_rate_hz)
        first = np.ascontiguousarray(np.tile(acc_g * GRAVITY_MPS2, (n_warm, 1)))
        engine.updateBatch(np.zeros((n_warm, 3)), first)
        sigma = np.radians(_BIAS_SIGMA_INIT_DPS) if sigma_rads is None else sigma_rads
        engine.setBiasEstimate(np.ascontiguousarray(bias_rads, dtype=np.float64), sigma)

    def update(
        self, time_s: FloatArray, acc_g: FloatArray, gyro_dps: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Feed samples; return up-vectors (n, 3) and gyro bias (n, 3) in °/s.

        Gaps up to ``max_bridge_s`` (jitter, dropped packets) are bridged by integrating the mean
        of the rates either side over the real interval; the accelerometer then corrects what
        that misses. After a longer gap the tilt is taken afresh from the accelerometer (the
        bias estimate is kept).
        """
        self._ensure(acc_g)
        engine: Any = self._vqf
        n = time_s.shape[0]
        period = 1.0 / self.sampling_rate_hz
        dt = np.empty(n)
        if n:
            dt[0] = period if self._last_t is None else time_s[0] - self._last_t
            dt[1:] = np.diff(time_s)
            self._last_t = float(time_s[-1])
        prev = np.empty_like(gyro_dps)
        if n:
            prev[0] = gyro_dps[0] if self._last_gyro is None else self._last_gyro
            prev[1:] = gyro_dps[:-1]
            self._last_gyro = np.array(gyro_dps[-1], dtype=np.float64)
        gyr, breaks = _bridged_rates(
            dt, prev, gyro_dps, period=period, max_bridge_s=self.max_bridge_s
        )
        acc = np.ascontiguousarray(acc_g * GRAVITY_MPS2)
        bounds = [0, *breaks.tolist(), n]
        quats, biases = [], []
        for i0, i1 in itertools.pairwise(bounds):
            if i1 <= i0:
                continue
            if i0 in breaks:
                bias, sigma = engine.getBiasEstimate()
                engine.resetState()
                self._warm_up(engine, acc_g[i0], bias_rads=bias, sigma_rads=float(sigma))
            out = engine.updateBatch(gyr[i0:i1], acc[i0:i1])
            quats.append(np.asarray(out["quat6D"]))
            biases.append(np.asarray(out["bias"]))
        if not quats:
            return np.zeros((0, 3)), np.zeros((0, 3))
        up = _up_from_quat(np.concatenate(quats))
        return up, np.degrees(np.concatenate(biases))


def estimate_leg_angle(
    time_s: FloatArray,
    acc_g: FloatArray,
    gyro_dps: FloatArray,
    *,
    sampling_rate_hz: float,
    shank_axis: str = "auto",
    hip_line_offset_deg: float = 0.0,
    hip_line_segment_s: tuple[float, float] | None = None,
    max_bridge_s: float = 1.0,
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
    runner = _VqfRunner(sampling_rate_hz, max_bridge_s)
    # in chunks, so that the filter's own copies of the data stay small on long recordings
    up = np.empty((n, 3))
    gyro_c = np.empty((n, 3))
    bias_sum = np.zeros(3)
    for i0 in range(0, n, _CHUNK):
        i1 = min(n, i0 + _CHUNK)
        up[i0:i1], bias = runner.update(time_s[i0:i1], acc_g[i0:i1], gyro_dps[i0:i1])
        np.subtract(gyro_dps[i0:i1], bias, out=gyro_c[i0:i1])
        bias_sum += bias.sum(axis=0)
    smoothed, start = _smooth_after_gaps(
        time_s, acc_g, gyro_dps, gyro_c, up, sampling_rate_hz=sampling_rate_hz,
        max_bridge_s=max_bridge_s,
    )  # fmt: skip
    if smoothed:
        notes.append(
            f"the leg angle after {smoothed} gap(s) of over {SMOOTHED_GAP_S:g} s taken from the "
            "data after each (a backward pass), not from bridging the gap"
        )
    if start:
        notes.append(
            "the recording starts with the leg moving: the leg angle of its first seconds taken "
            "from the data after them (a backward pass)"
        )
    # the gravity direction does not depend on which sensor axis is the shank's: find it now
    axis = shank_axis_of(
        acc_g, shank_axis, gyro_dps=gyro_c, sampling_rate_hz=sampling_rate_hz, time_s=time_s, up=up
    )
    if axis.note:
        notes.append(axis.note)
    angle = _sagittal(
        time_s,
        up,
        gyro_c,
        axis.vector,
        axis.label,
        sampling_rate_hz=sampling_rate_hz,
        hip_line_offset_deg=hip_line_offset_deg,
        hip_line_segment_s=hip_line_segment_s,
        gyro_bias_dps=bias_sum / n,
        notes=notes,
    )
    return dataclasses.replace(angle, shank_documented=axis.documented, shank_cue=axis.cue)


def _sagittal(
    time_s: FloatArray,
    up: FloatArray,
    gyro_c: FloatArray,
    shank: FloatArray,
    axis_name: str,
    *,
    sampling_rate_hz: float,
    hip_line_offset_deg: float,
    hip_line_segment_s: tuple[float, float] | None,
    gyro_bias_dps: FloatArray,
    notes: list[str],
    ankle_radius_m: float | None = None,
) -> LegAngle:
    """θ and dθ/dt for one shank direction, from the gravity direction and the corrected rate."""
    n = time_s.shape[0]
    axes, block = _hip_axis_blocks(up, shank, window=round(_AXIS_WINDOW_S * sampling_rate_hz))
    theta = np.empty(n)
    rate = np.empty(n)
    step = _CHUNK - _CHUNK % block
    for i0 in range(0, n, step):  # chunk by chunk: no (n, 3) temporaries
        i1 = min(n, i0 + step)
        h = np.repeat(axes[i0 // block : -(-i1 // block)], block, axis=0)[: i1 - i0]
        w = np.cross(h, shank)
        u_up = up[i0:i1]
        theta[i0:i1] = np.arctan2(u_up @ shank, np.einsum("ij,ij->i", u_up, w))
        # with w = h × u, dθ/dt = ω·h exactly for a rotation about h
        rate[i0:i1] = np.einsum("ij,ij->i", gyro_c[i0:i1], h)
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
        hip_axis=np.asarray(np.median(axes, axis=0), dtype=np.float64),
        gyro_bias_dps=gyro_bias_dps,
        hip_line_offset_deg=offset,
        notes=tuple(notes),
        shank=shank,
        ankle_radius_m=ankle_radius_m,
        up=up,
        gyro_c_dps=gyro_c,
    )


def ankle_position(
    time_s: FloatArray,
    acc_g: FloatArray,
    up: FloatArray,
    gyro_c_dps: FloatArray,
    hip_axis_s: FloatArray,
    mask: npt.NDArray[np.bool_],
    *,
    min_rate_dps: float = 30.0,
    min_samples: int = 50,
) -> FloatArray | None:
    """The sensor's position relative to the hip, in sensor axes (m), from rotation about it.

    A point at ``p`` on a segment turning about the hip axis ``h`` accelerates by
    ``−ω²·p + α·(h × p)``; that is the accelerometer reading minus gravity (``acc − up``, in g).
    A least-squares fit over the samples in ``mask`` that turn faster than ``min_rate_dps`` gives
    ``p``: its direction is the shank's (whatever the strap's misalignment) and its length the
    hip-to-ankle distance. ``hip_axis_s`` is the axis at each sample (n, 3). ``None`` when too
    few samples move fast enough.
    """
    omega = np.radians(np.einsum("ij,ij->i", gyro_c_dps, hip_axis_s))
    alpha = np.gradient(omega, time_s) if time_s.shape[0] > 1 else np.zeros_like(omega)
    sel = mask & (np.abs(omega) > math.radians(min_rate_dps))
    if int(sel.sum()) < min_samples:
        return None
    w2 = omega[sel] ** 2 / GRAVITY_MPS2
    al = alpha[sel] / GRAVITY_MPS2
    h = hip_axis_s[sel]
    a = acc_g[sel] - up[sel]
    # M = −w2·I + al·[h]×, so Mᵀ M = w2²·I − 2·w2·al·sym([h]×) + al²·[h]×ᵀ[h]× and [h]× is
    # antisymmetric: Mᵀ M = w2²·I + al²·(I − h hᵀ); Mᵀ a = −w2·a − al·(h × a)
    mtm = np.sum(w2**2) * np.eye(3) + np.sum(al**2) * np.eye(3)
    mtm -= np.einsum("n,ni,nj->ij", al**2, h, h)
    mta = -np.einsum("n,ni->i", w2, a) - np.einsum("n,ni->i", al, np.cross(h, a))
    try:
        return np.asarray(np.linalg.solve(mtm, mta), dtype=np.float64)
    except np.linalg.LinAlgError:
        return None


def refine_shank(
    angle: LegAngle,
    acc_g: FloatArray,
    mask: npt.NDArray[np.bool_],
    *,
    sampling_rate_hz: float,
    hip_line_segment_s: tuple[float, float] | None = None,
    max_misalignment_deg: float = 15.0,
    sensor_offset_m: float = 0.0,
) -> LegAngle | None:
    """The same leg angle with the shank direction measured from the reps in ``mask``.

    The documented axis is only within a few degrees of the shank; at the tops of reps a few
    degrees matter. :func:`ankle_position` measures the true direction; it is used when it lies
    within ``max_misalignment_deg`` of the documented axis and the distance is a plausible leg
    (0.45–1.3 m). The sensor sits on the skin, ``sensor_offset_m`` off the shank's axis along its
    own +z (a board strapped flat, its normal pointing out of the leg): that part of the fitted
    position is not the shank's direction and is taken off. ``None`` when the data cannot tell.
    """
    axes, block = _hip_axis_blocks(
        angle.up, angle.shank, window=round(_AXIS_WINDOW_S * sampling_rate_hz)
    )
    # the reps and a margin either side (for dα/dt at their edges): a small part of a long day
    idx = np.flatnonzero(mask)
    p = _position_on(angle, acc_g, idx, (axes, block))
    if p is None:
        return None
    if angle.shank_documented:  # the board lies flat: its +z is the skin's normal
        p = p - np.array([0.0, 0.0, sensor_offset_m])
    radius = float(np.linalg.norm(p))
    if not 0.45 <= radius <= 1.3:
        return None
    u = p / radius
    off = math.degrees(math.acos(min(1.0, float(u @ angle.shank))))
    if off > max_misalignment_deg:
        return None
    if not angle.shank_documented:
        # the fit points at the sensor, which sits on the skin about sensor_offset_m off the
        # shank's axis in a direction unknown for a sensor turned any way: the shank lies
        # within atan(offset / radius) of u in the swing plane. Where the leg hung still near u
        # (standing, hanging on the machine) the hanging leg says where within that bound.
        hang = hanging_direction(
            acc_g,
            angle.gyro_c_dps,
            sampling_rate_hz=sampling_rate_hz,
            near=u,
            cone_deg=_HANG_REPS_CONE_DEG,
        )
        if hang is not None:
            bound = math.atan2(sensor_offset_m, radius)
            u = turn_toward(u, hang[0], axes[idx // block].mean(axis=0), limit_rad=bound)
    base_offset = 0.0 if hip_line_segment_s is not None else angle.hip_line_offset_deg
    notes = [
        *angle.notes,
        f"shank direction measured from the reps: {off:.1f}° off the sensor's "
        f"{angle.shank_axis} axis; ankle {radius:.2f} m from the hip",
    ]
    refined = _sagittal(
        angle.time_s,
        angle.up,
        angle.gyro_c_dps,
        u,
        angle.shank_axis,
        sampling_rate_hz=sampling_rate_hz,
        hip_line_offset_deg=base_offset,
        hip_line_segment_s=hip_line_segment_s,
        gyro_bias_dps=angle.gyro_bias_dps,
        notes=[n for n in notes if not n.startswith("hip line set from")],
        ankle_radius_m=radius,
    )
    return dataclasses.replace(
        refined, shank_documented=angle.shank_documented, shank_cue=angle.shank_cue
    )


def rotation_radii_m(
    angle: LegAngle,
    acc_g: FloatArray,
    groups: Sequence[npt.NDArray[np.intp]],
    *,
    sampling_rate_hz: float,
    sensor_offset_m: float = 0.0,
) -> list[float | None]:
    """For each group of sample indices (sorted, e.g. one set's reps), how far the sensor is
    from the axis its movements there turn about, m, measured from their centripetal and
    tangential acceleration (:func:`ankle_position`); ``None`` when too few samples move fast
    enough. A straight leg about the hip puts an ankle sensor 0.7–1 m out, a shank turning about
    the knee 0.3–0.5 m. The hip axis is computed once for all the groups."""
    axes = _hip_axis_blocks(angle.up, angle.shank, window=round(_AXIS_WINDOW_S * sampling_rate_hz))
    offset = np.array([0.0, 0.0, sensor_offset_m])
    radii: list[float | None] = []
    for idx in groups:
        p = _position_on(angle, acc_g, idx, axes)
        radii.append(None if p is None else float(np.linalg.norm(p - offset)))
    return radii


def _position_on(
    angle: LegAngle, acc_g: FloatArray, idx: npt.NDArray[np.intp], axes: tuple[FloatArray, int]
) -> FloatArray | None:
    """:func:`ankle_position` on the samples ``idx`` (sorted) of ``angle``, with the hip axis
    given as :func:`_hip_axis_blocks` returns it; ``None`` for no samples."""
    if idx.size == 0:
        return None
    blocks, block = axes
    return ankle_position(
        angle.time_s[idx],
        acc_g[idx],
        angle.up[idx],
        angle.gyro_c_dps[idx],
        blocks[idx // block],
        np.ones(idx.size, dtype=bool),
    )


class AngleEstimator:
    """Streaming leg angle: ``update(time_s, acc_g, gyro_dps) -> (theta_deg, rate_dps)``.

    The same VQF configuration as :func:`estimate_leg_angle`; the hip axis is a causal moving
    average of ``u × up`` over the last ``axis_window_s`` instead of a centred one, so θ agrees
    with the batch result except for the first seconds and around a strap that moves. Where that
    average is weak (the leg near vertical for the whole window: standing, walking, hanging on
    the machine) the last well-determined axis is carried on, as the batch function carries the
    nearest one. Its sign (which side the leg is on) follows the last second as soon as that is
    clear, so the first rep after climbing on does not read as mirrored. The moving sums are
    carried across chunks (a ring of the last window plus a running sum), so the cost per sample
    does not depend on the chunk size and the result does not depend on it beyond rounding.
    """

    def __init__(
        self,
        *,
        sampling_rate_hz: float,
        shank_axis: str = "+x",
        shank_vector: FloatArray | None = None,
        hip_line_offset_deg: float = 0.0,
        max_bridge_s: float = 1.0,
        axis_window_s: float = _AXIS_WINDOW_S,
    ) -> None:
        if shank_axis == "auto":
            shank_axis = "+x"
        self.shank_axis, self._shank, _ = resolve_shank_axis(np.zeros((0, 3)), shank_axis)
        if shank_vector is not None:  # a direction found from the data overrides the name
            self._shank = _unit(np.asarray(shank_vector, dtype=np.float64))
            self.shank_axis = ShankAxis("found", self._shank, False, "medium").label
        self.hip_line_offset_deg = hip_line_offset_deg
        self.sampling_rate_hz = sampling_rate_hz
        self._runner = _VqfRunner(sampling_rate_hz, max_bridge_s)
        self._long = _TrailingMean(max(1, round(axis_window_s * sampling_rate_hz)))
        self._short = _TrailingMean(max(1, round(_SIGN_WINDOW_S * sampling_rate_hz)))
        self._total = np.zeros(3)  # u × up summed since the start (fallback axis)
        self._last_axis: FloatArray | None = None  # the last well-determined hip axis
        #: the gravity direction ("up", sensor axes) of each sample of the last chunk
        self.last_up: FloatArray = np.zeros((0, 3))

    @property
    def shank_vector(self) -> FloatArray:
        """Unit vector of the shank axis in sensor coordinates."""
        return self._shank.copy()

    def update(
        self, time_s: FloatArray, acc_g: FloatArray, gyro_dps: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Feed a chunk; return θ (°) and dθ/dt (°/s) for each of its samples."""
        n = time_s.shape[0]
        if n == 0:
            return np.zeros(0), np.zeros(0)
        up, bias = self._runner.update(time_s, acc_g, gyro_dps)
        self.last_up = up
        gyro_c = gyro_dps - bias
        shank = self._shank
        raw = _cross(shank, up)
        h = self._axis(raw, up, gyro_c)
        w = _cross(h, shank)
        theta = np.arctan2(np.einsum("ij,j->i", up, shank), np.einsum("ij,ij->i", up, w))
        rate = np.einsum("ij,ij->i", gyro_c, h)
        return np.degrees(theta) - self.hip_line_offset_deg, rate

    def _axis(self, raw: FloatArray, up: FloatArray, gyro_c: FloatArray) -> FloatArray:
        """The hip axis at each sample of a chunk from trailing means of ``u × up``; before any
        is known (the leg has hung or stood since the start), the first fast movement's own
        rotation gives it, taken as a rise (out of hanging, the leg is lifted)."""
        shank, n = self._shank, raw.shape[0]
        long = self._long.update(raw, shank)
        short = self._short.update(raw, shank)
        long_norm = np.linalg.norm(long, axis=1)
        short_norm = np.linalg.norm(short, axis=1)
        strong = long_norm >= _AXIS_MIN_STRENGTH
        clear = short_norm >= _SIGN_MIN_STRENGTH
        # before any well-determined axis: the running sum of u × up since the start
        running = self._total + np.cumsum(raw, axis=0)
        self._total = running[-1].copy()
        known = strong | clear
        axes: FloatArray = np.empty_like(long)
        axes[strong] = long[strong] / long_norm[strong, None]
        only_short = clear & ~strong
        axes[only_short] = short[only_short] / short_norm[only_short, None]
        # the side the leg is on: the last second's, where that is clear
        flip = clear & (np.einsum("ij,ij->i", axes, short) < 0.0)
        axes[flip] = -axes[flip]
        # each unknown sample takes the last known one before it (or the carried axis)
        last = np.maximum.accumulate(np.where(known, np.arange(n), -1))
        unknown = ~known
        has = unknown & (last >= 0)
        axes[has] = axes[last[has]]
        never = unknown & (last < 0)
        if never.any():
            if self._last_axis is None:
                spin = gyro_c - np.outer(gyro_c @ shank, shank)
                fast = never & (np.linalg.norm(spin, axis=1) > _FIRST_SPIN_DPS)
                if fast.any():
                    i = int(np.flatnonzero(fast)[0])
                    axes[never & (np.arange(n) < i)] = _fallback_axes(
                        running[never & (np.arange(n) < i)], shank, up[never & (np.arange(n) < i)]
                    )
                    self._last_axis = spin[i] / np.linalg.norm(spin[i])
                    rest = never & (np.arange(n) >= i)
                    axes[rest] = self._last_axis
                else:
                    axes[never] = _fallback_axes(running[never], shank, up[never])
            else:
                axes[never] = self._last_axis
        if known.any():
            self._last_axis = axes[int(np.flatnonzero(known)[-1])].copy()
        return axes


#: before the hip axis is known, a rotation this fast about an axis across the shank gives it, °/s
_FIRST_SPIN_DPS = 30.0


class _TrailingMean:
    """Mean over the last ``window`` samples of 3-vectors, perpendicular to the shank, carried
    across chunks (a ring of the window plus a running sum)."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._ring = np.zeros((window, 3))  # zeros before the first samples
        self._pos = 0  # where the oldest sample of the window sits in the ring
        self._sum = np.zeros(3)
        self._seen = 0

    def update(self, raw: FloatArray, shank: FloatArray) -> FloatArray:
        n, w = raw.shape[0], self.window
        k = min(n, w)
        # the samples that leave the window as each new one enters: the ring's oldest first,
        # then (for a chunk longer than the window) the chunk's own early samples
        order = (self._pos + np.arange(k)) % w
        leaving = np.concatenate((self._ring[order], raw[: n - k]))
        sums: FloatArray = self._sum + np.cumsum(raw - leaving, axis=0)
        self._sum = sums[-1].copy()
        self._ring[order] = raw[n - k :]
        self._pos = int((self._pos + k) % w)
        counts = np.minimum(self._seen + np.arange(1, n + 1), w).astype(np.float64)
        self._seen += n
        mean = sums / counts[:, None]
        out: FloatArray = mean - np.outer(mean @ shank, shank)
        return out


def _fallback_axes(total: FloatArray, shank: FloatArray, up: FloatArray) -> FloatArray:
    """Normalised running sums of ``u × up`` (perpendicular to the shank), or the sample's own
    horizontal axis where the sum is still zero."""
    total = total - np.outer(total @ shank, shank)
    norm = np.linalg.norm(total, axis=1)
    out: FloatArray = np.empty_like(total)
    ok = norm > 1e-9
    out[ok] = total[ok] / norm[ok, None]
    if (~ok).any():
        out[~ok] = hip_axis(up[~ok], shank, window=1)
    return out


def _cross(a: FloatArray, b: FloatArray) -> FloatArray:
    """``np.cross`` for (n, 3) and (3,) operands without its per-call overhead (small chunks)."""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack((a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0), axis=-1)


def _swinging(acc_g: FloatArray, gyro_dps: FloatArray) -> npt.NDArray[np.bool_]:
    """Samples in which the leg turns fast enough to give the swing cues (and is not struck)."""
    rate = np.linalg.norm(gyro_dps, axis=1)
    swinging: npt.NDArray[np.bool_] = (rate > _SWING_MIN_DPS) & (
        np.linalg.norm(acc_g, axis=1) < 3.0
    )
    return swinging
