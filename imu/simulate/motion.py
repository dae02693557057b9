"""Where the shank is: segments of the session as orientation R(t), position p(t) and θ(t).

Every segment is a pure function of time, evaluated on whatever (sorted) grid the caller gives,
and clamped outside its own interval. Segments start and end at rest, so consecutive segments join
with continuous position, velocity and orientation. The shank frame has x along the shank toward
the foot, y toward the person's right (made orthogonal to x) and z = x × y; the strap and sensor
mounting are applied later.

World frame: z up. The set-up's *hip line* points from the hip away from the head; its
horizontal direction is ``e1`` (rotated by the set-up's heading), ``e2 = e3 × e1`` is the person's
right while prone, ``e3`` is up. A leg at θ points along ``cos(θ+α)·e1 + sin(θ+α)·e3`` (α = hip
line offset), and it rotates about −e2 as θ grows. The leg-raise set-ups move in the same plane:
``seated`` pivots at the knee (``hip_m`` is then the knee, the thigh along e1), ``supine`` lies face
up (the person's right is −e2), ``side`` lies on the side (the working leg on top, its lateral
side up); :attr:`Geometry.roll_rad` turns the prone shank frame into theirs.

A bent knee (:meth:`Geometry.leg_pose` with ``knee_rad``) keeps θ the elevation of the hip→ankle
line: the thigh turns back by the angle the bend opens between it and that line, and the shank
turns ahead of the line by the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from imu.simulate.reps import SetMotion, min_jerk
from imu.simulate.rotations import frame_from, log_rotation, rot_x, rotvec_to_matrix
from imu.simulate.spec import Setup

FloatArray = npt.NDArray[np.float64]
_D = math.pi / 180.0
_UP = np.array([0.0, 0.0, 1.0])
SHANK_M = 0.42  #: knee to ankle (the sensor's point on the shank), for moves about the knee
ANKLE_HEIGHT_M = 0.08  #: ankle above the floor when standing

__all__ = [
    "Geometry",
    "KeyframeSegment",
    "Pose",
    "Segment",
    "SetSegment",
    "StillSegment",
    "WalkSegment",
]


@dataclass(frozen=True)
class Pose:
    """The shank at ``n`` instants."""

    rotation: FloatArray  #: (n, 3, 3) shank frame in world axes
    position_m: FloatArray  #: (n, 3) the ankle on the leg's axis, m
    theta_deg: FloatArray  #: (n,) θ: angle of the shank in the set-up's sagittal plane, °

    def at(self, i: int) -> tuple[FloatArray, FloatArray]:
        return self.rotation[i], self.position_m[i]


@dataclass(frozen=True)
class Geometry:
    """The set-up in the room: where the hip is, which way the hip line points, the leg."""

    setup: Setup
    heading_rad: float  #: direction of the hip line's horizontal projection in the room
    hip_m: FloatArray  #: the working leg's hip joint, m
    alpha_rad: float  #: hip line elevation above horizontal
    radius_m: float  #: hip to ankle, m
    side: float  #: +1 right leg, −1 left leg

    @property
    def e1(self) -> FloatArray:
        return np.array([math.cos(self.heading_rad), math.sin(self.heading_rad), 0.0])

    @property
    def e2(self) -> FloatArray:
        return np.array([-math.sin(self.heading_rad), math.cos(self.heading_rad), 0.0])

    @property
    def standing_heading_rad(self) -> float:
        """Facing the set-up from its foot end (so the person's right is ``e2``); for the
        leg-raise set-ups facing the way the legs will point (the person's right is −e2)."""
        if self.setup in ("seated", "supine", "side"):
            return self.heading_rad
        return self.heading_rad + math.pi

    @property
    def roll_rad(self) -> float:
        """Rotation about the shank from the prone frame (y = e2) to the person's own."""
        if self.setup in ("seated", "supine"):
            return math.pi
        if self.setup == "side":  # the working leg on top: its lateral side (right leg: +y) up
            return math.copysign(math.pi / 2, self.side)
        return 0.0

    @property
    def knee_sign(self) -> float:
        """+1 where bending the knee turns the shank toward larger θ (prone), −1 (supine)."""
        return -1.0 if self.setup == "supine" else 1.0

    @property
    def spot_m(self) -> FloatArray:
        """Where the working ankle stands before getting on."""
        back = {
            "bench": 0.45,
            "machine": 0.3,
            "floor": 1.1,
            "seated": 0.05,
            "supine": 0.9,
            "side": 0.9,
        }[self.setup]
        base = self.hip_m.copy()
        base[2] = 0.0
        return np.asarray(base + back * self.e1 + np.array([0.0, 0.0, ANKLE_HEIGHT_M]))

    def theta_deg(self, x_axis: FloatArray) -> FloatArray:
        """θ of shank directions ``(n, 3)``: angle in the sagittal plane above the hip line."""
        phi = np.arctan2(x_axis @ _UP, x_axis @ self.e1)
        return np.asarray(np.degrees(phi - self.alpha_rad), dtype=np.float64)

    def _direction(self, theta_rad: FloatArray, abduction_rad: FloatArray) -> FloatArray:
        phi = theta_rad + self.alpha_rad
        cb = np.cos(abduction_rad)
        return np.asarray(
            (np.cos(phi) * cb)[:, None] * self.e1
            + np.sin(abduction_rad)[:, None] * self.e2
            + (np.sin(phi) * cb)[:, None] * _UP,
            dtype=np.float64,
        )

    def shank_theta_rad(self, theta_rad: FloatArray, knee_rad: FloatArray) -> FloatArray:
        """θ of the shank itself when the hip→ankle line is at ``theta_rad`` and the knee is bent
        by ``knee_rad`` (thigh ``radius_m − SHANK_M``, shank ``SHANK_M`` to the sensor's point)."""
        thigh = self.radius_m - SHANK_M
        opened = np.arctan2(SHANK_M * np.sin(knee_rad), thigh + SHANK_M * np.cos(knee_rad))
        return np.asarray(theta_rad + self.knee_sign * (knee_rad - opened), dtype=np.float64)

    def leg_pose(
        self,
        theta_rad: FloatArray,
        abduction_rad: FloatArray,
        twist_rad: FloatArray,
        knee_rad: FloatArray | None = None,
    ) -> Pose:
        """The leg pivoting at the hip (seated: the knee); abduction tilts it sideways without
        changing θ. With ``knee_rad`` the knee is bent by that much, θ staying the elevation of
        the hip→ankle line (the ankle being the sensor's point on the shank)."""
        if knee_rad is None or not np.any(knee_rad):
            x = self._direction(theta_rad, abduction_rad)
            frames = frame_from(x, self.e2)
            position = self.hip_m + self.radius_m * frames[:, :, 0]
        else:
            shank = self.shank_theta_rad(theta_rad, knee_rad)
            thigh = shank - self.knee_sign * knee_rad
            frames = frame_from(self._direction(shank, abduction_rad), self.e2)
            position = (
                self.hip_m
                + (self.radius_m - SHANK_M) * self._direction(thigh, abduction_rad)
                + SHANK_M * frames[:, :, 0]
            )
        roll = self.roll_rad + np.asarray(twist_rad, dtype=np.float64)
        if np.any(roll):
            frames = frames @ rot_x(np.broadcast_to(roll, theta_rad.shape))
        return Pose(frames, position, np.degrees(theta_rad))

    def upright_pose(
        self,
        heading_rad: FloatArray,
        pitch_rad: FloatArray,
        roll_rad: FloatArray,
        twist_rad: FloatArray,
        ankle_m: FloatArray,
    ) -> Pose:
        """A shank near vertical: ``pitch`` swings the foot forward, ``roll`` to the right."""
        fwd = np.stack([np.cos(heading_rad), np.sin(heading_rad), np.zeros_like(heading_rad)], -1)
        right = np.stack(
            [np.sin(heading_rad), -np.cos(heading_rad), np.zeros_like(heading_rad)], -1
        )
        cr = np.cos(roll_rad)
        x = (
            -(np.cos(pitch_rad) * cr)[:, None] * _UP
            + (np.sin(pitch_rad) * cr)[:, None] * fwd
            + np.sin(roll_rad)[:, None] * right
        )
        frames = frame_from(x, right)
        if np.any(twist_rad):
            frames = frames @ rot_x(twist_rad)
        return Pose(frames, ankle_m, self.theta_deg(frames[:, :, 0]))

    def standing(self) -> tuple[FloatArray, FloatArray]:
        """Rotation and ankle position standing still at the spot."""
        z = np.zeros(1)
        pose = self.upright_pose(
            np.full(1, self.standing_heading_rad), z, z, z, self.spot_m[None, :]
        )
        return pose.at(0)


class Segment:
    """A stretch of the session; ``evaluate`` clamps times to ``[t0_s, t1_s]``."""

    kind: str
    t0_s: float
    t1_s: float

    def pose(self, t_s: FloatArray) -> Pose:
        raise NotImplementedError

    def evaluate(self, t_s: FloatArray) -> Pose:
        return self.pose(np.clip(np.asarray(t_s, dtype=np.float64), self.t0_s, self.t1_s))

    def start(self) -> tuple[FloatArray, FloatArray]:
        return self.evaluate(np.array([self.t0_s])).at(0)

    def end(self) -> tuple[FloatArray, FloatArray]:
        return self.evaluate(np.array([self.t1_s])).at(0)


def _taper(t: FloatArray, t0: float, t1: float, ramp_s: float) -> FloatArray:
    """0 at the ends, 1 inside, with minimum-jerk ramps of ``ramp_s``."""
    return min_jerk((t - t0) / ramp_s) * min_jerk((t1 - t) / ramp_s)


@dataclass
class _Sines:
    """A smooth random signal: a few sinusoids."""

    amplitude: FloatArray
    freq_hz: FloatArray
    phase: FloatArray

    @classmethod
    def draw(
        cls, rng: np.random.Generator, total: float, lo_hz: float, hi_hz: float, n: int = 3
    ) -> _Sines:
        weights = rng.uniform(0.5, 1.0, size=n)
        return cls(
            total * weights / weights.sum(),
            rng.uniform(lo_hz, hi_hz, size=n),
            rng.uniform(0.0, 2 * math.pi, size=n),
        )

    def __call__(self, t: FloatArray) -> FloatArray:
        arg = 2 * math.pi * t[:, None] * self.freq_hz + self.phase
        return np.asarray(np.sin(arg) @ self.amplitude, dtype=np.float64)


@dataclass
class SetSegment(Segment):
    """A set (or resting on the set-up): θ from a :class:`SetMotion`, plus sway and wobble."""

    geometry: Geometry
    motion: SetMotion
    t0_s: float
    t1_s: float
    kind: str
    sway: _Sines
    abduction: _Sines
    twist: _Sines
    abduction_per_rad: float  #: leg plane tilt: abduction per radian of lift
    twist_per_rad: float  #: axial rotation per radian of lift

    @classmethod
    def create(
        cls,
        rng: np.random.Generator,
        geometry: Geometry,
        motion: SetMotion,
        *,
        kind: str,
        sway_deg: float,
        wobble_deg: float,
    ) -> SetSegment:
        t0 = motion.track.pieces[0].t0
        t1 = motion.track.t_end
        w = wobble_deg * _D
        return cls(
            geometry,
            motion,
            t0,
            t1,
            kind,
            sway=_Sines.draw(rng, sway_deg * _D, 0.05, 0.4),
            abduction=_Sines.draw(rng, 0.6 * w, 0.1, 0.7),
            twist=_Sines.draw(rng, w, 0.1, 0.7),
            abduction_per_rad=float(rng.uniform(-0.08, 0.08)) * wobble_deg,
            twist_per_rad=float(rng.uniform(-0.12, 0.12)) * wobble_deg,
        )

    def theta_rad(self, t: FloatArray) -> FloatArray:
        """True θ (rad): the commanded track plus the slow sway."""
        taper = _taper(t, self.t0_s, self.t1_s, 1.0)
        return self.motion.track.value(t) + taper * self.sway(t)

    def knee_rad(self, t: FloatArray) -> FloatArray:
        """Knee flexion (rad): 0 but for the knee bends of the motion."""
        out = np.zeros(t.shape)
        for bump in self.motion.knee:
            out += bump.value(t)
        return out

    def pose(self, t_s: FloatArray) -> Pose:
        taper = _taper(t_s, self.t0_s, self.t1_s, 1.0)
        lift = self.motion.track.value(t_s) - self.motion.bottom_rad
        theta = self.motion.track.value(t_s) + taper * self.sway(t_s)
        abd = taper * (self.abduction(t_s) + self.abduction_per_rad * lift)
        twist = taper * (self.twist(t_s) + self.twist_per_rad * lift)
        for bump in self.motion.twists:
            twist = twist + bump.value(t_s)
        knee = self.knee_rad(t_s) if self.motion.knee else None
        return self.geometry.leg_pose(theta, abd, twist, knee)


@dataclass
class KeyframeSegment(Segment):
    """Minimum-jerk moves through key poses (getting on or off the set-up, stepping around)."""

    geometry: Geometry
    times_s: list[float]
    rotations: list[FloatArray]
    positions_m: list[FloatArray]
    kind: str
    t0_s: float = field(init=False)
    t1_s: float = field(init=False)

    def __post_init__(self) -> None:
        self.t0_s = self.times_s[0]
        self.t1_s = self.times_s[-1]

    def pose(self, t_s: FloatArray) -> Pose:
        n = t_s.shape[0]
        rot = np.empty((n, 3, 3))
        pos = np.empty((n, 3))
        idx = np.clip(
            np.searchsorted(self.times_s, t_s, side="right") - 1, 0, len(self.times_s) - 2
        )
        for i in range(len(self.times_s) - 1):
            sel = idx == i
            if not sel.any():
                continue
            ta, tb = self.times_s[i], self.times_s[i + 1]
            w = min_jerk((t_s[sel] - ta) / (tb - ta))
            ra, rb = self.rotations[i], self.rotations[i + 1]
            rv = log_rotation(ra.T @ rb)
            rot[sel] = ra @ rotvec_to_matrix(w[:, None] * rv)
            pa, pb = self.positions_m[i], self.positions_m[i + 1]
            pos[sel] = pa + w[:, None] * (pb - pa)
        return Pose(rot, pos, self.geometry.theta_deg(rot[:, :, 0]))


@dataclass
class WalkSegment(Segment):
    """Walking laps of an ellipse from the spot and back to it: the shank swings ±30–40° about
    vertical at about 1 Hz, the foot is still in stance and lifts in swing, the body turns
    smoothly around the ellipse (slower in the bends)."""

    geometry: Geometry
    t0_s: float
    t1_s: float
    kind: str
    start_m: FloatArray
    heading0_rad: float
    stride_hz: float
    swing_rad: float
    speed_mps: float
    lift_m: float
    ramp_s: float
    lap_m: float  # nominal path length of one lap
    semi_axes_m: tuple[float, float]  # along the start heading, across it
    turn: float  # +1 laps turn left, −1 right
    wobble: tuple[float, float, float, float]  # roll amp, twist amp, roll phase, twist phase
    harmonic: tuple[float, float]  # second-harmonic amplitude (rad), phase

    @classmethod
    def create(
        cls, rng: np.random.Generator, geometry: Geometry, *, t0_s: float, duration_s: float
    ) -> WalkSegment:
        stride = float(rng.uniform(0.85, 1.05))
        speed = float(rng.uniform(0.9, 1.4))
        ramp = min(1.5, 0.25 * duration_s)
        tau_end = stride * (duration_s - ramp)
        s_end = speed / stride * float(_stance_integral(np.array([tau_end]))[0])
        laps = max(1, round(s_end / 25.0))
        lap = s_end / laps
        ratio = float(rng.uniform(1.2, 1.6))
        # Ramanujan's perimeter of an ellipse with semi-axes ratio and 1
        unit = math.pi * (3 * (ratio + 1) - math.sqrt((3 * ratio + 1) * (ratio + 3)))
        across = lap / unit
        swing = float(rng.uniform(30.0, 40.0)) * _D
        return cls(
            geometry,
            t0_s,
            t0_s + duration_s,
            "walk",
            geometry.spot_m,
            geometry.standing_heading_rad,
            stride,
            swing,
            speed,
            float(rng.uniform(0.08, 0.15)),
            ramp,
            lap,
            (ratio * across, across),
            1.0 if rng.random() < 0.5 else -1.0,
            (
                float(rng.uniform(2.0, 6.0)) * _D,
                float(rng.uniform(3.0, 8.0)) * _D,
                float(rng.uniform(0, 2 * math.pi)),
                float(rng.uniform(0, 2 * math.pi)),
            ),
            (float(rng.uniform(0.0, 0.2)) * swing, float(rng.uniform(0, 2 * math.pi))),
        )

    def _envelope(self, t: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Gait intensity e(t) (0 → 1 → 0) and its integral from t0."""
        d = self.t1_s - self.t0_s
        r = self.ramp_s
        u = t - self.t0_s
        e = min_jerk(u / r) * min_jerk((d - u) / r)

        def ramp_integral(x: FloatArray) -> FloatArray:  # R(x) = ∫0^x min_jerk(v / r) dv
            v = np.clip(x / r, 0.0, 1.0)
            inside = r * v**4 * (2.5 - 3.0 * v + v * v)
            return inside + np.maximum(0.0, x - r)

        # e = up + down − 1 (the ramps never overlap), integrated term by term
        integral = ramp_integral(u) - u + ramp_integral(np.full(u.shape, d)) - ramp_integral(d - u)
        return e, integral

    def _path(self, s: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Position (n, 3) and heading after the nominal distance ``s`` along the ellipse."""
        along, across = self.semi_axes_m
        angle = 2 * math.pi * s / self.lap_m
        psi0 = self.heading0_rad
        fwd = np.array([math.cos(psi0), math.sin(psi0), 0.0])
        left = np.array([-math.sin(psi0), math.cos(psi0), 0.0])
        a = along * np.sin(angle)
        b = self.turn * across * (1.0 - np.cos(angle))
        pos = a[:, None] * fwd + b[:, None] * left
        heading = psi0 + np.arctan2(self.turn * across * np.sin(angle), along * np.cos(angle))
        return pos, heading

    def pose(self, t_s: FloatArray) -> Pose:
        e, e_int = self._envelope(t_s)
        tau = self.stride_hz * e_int
        s = self.speed_mps / self.stride_hz * _stance_integral(tau)
        path, heading = self._path(s)
        phase = 2 * math.pi * tau
        h_amp, h_phase = self.harmonic
        pitch = e * (self.swing_rad * np.sin(phase) + h_amp * np.sin(2 * phase + h_phase))
        roll_amp, twist_amp, roll_ph, twist_ph = self.wobble
        roll = e * roll_amp * np.sin(phase + roll_ph)
        twist = e * twist_amp * np.sin(phase + twist_ph)
        lift = e * self.lift_m * (1.0 + np.cos(phase)) ** 2 / 4.0
        ankle = self.start_m + path + lift[:, None] * _UP
        return self.geometry.upright_pose(heading, pitch, roll, twist, ankle)


def _stance_integral(tau: FloatArray) -> FloatArray:
    """∫ c(τ) dτ with c = (1 + cos 2πτ)² / 1.5: mean 1, zero at mid-stance (τ = ½)."""
    return (
        1.5 * tau + np.sin(2 * math.pi * tau) / math.pi + np.sin(4 * math.pi * tau) / (8 * math.pi)
    ) / 1.5


@dataclass
class StillSegment(Segment):
    """Standing or sitting near the spot: the shank pivots at the knee. Sitting adds bursts of
    a jiggling knee (3–6 Hz); standing adds sway, weight shifts and the odd foot lift behind."""

    geometry: Geometry
    t0_s: float
    t1_s: float
    kind: str
    knots_s: FloatArray  # times where the posture targets change
    pitch_targets: FloatArray  # posture pitch after each knot
    roll_targets: FloatArray
    move_s: FloatArray  # transition durations
    jiggle: list[tuple[float, float, float, float]]  # start, end, freq, amplitude (rad)
    sway_pitch: _Sines
    sway_roll: _Sines

    @classmethod
    def create(
        cls,
        rng: np.random.Generator,
        geometry: Geometry,
        *,
        kind: str,
        t0_s: float,
        duration_s: float,
    ) -> StillSegment:
        t1 = t0_s + duration_s
        knots: list[float] = []
        pitch: list[float] = []
        roll: list[float] = []
        moves: list[float] = []
        jiggle: list[tuple[float, float, float, float]] = []
        t = t0_s
        if kind == "sit":
            move = float(rng.uniform(1.0, 2.0))
            knots.append(t)
            pitch.append(float(rng.uniform(5.0, 20.0)) * _D)
            roll.append(float(rng.uniform(-5.0, 5.0)) * _D)
            moves.append(move)
            t += move + float(rng.uniform(1.0, 4.0))
            while t < t1 - 6.0:
                if rng.random() < 0.7:
                    length = min(float(rng.uniform(3.0, 12.0)), t1 - 4.0 - t)
                    if length > 1.5:
                        jiggle.append(
                            (
                                t,
                                t + length,
                                float(rng.uniform(3.0, 5.0)),
                                float(rng.uniform(0.6, 1.8)) * _D,
                            )
                        )
                    t += length + float(rng.uniform(1.0, 6.0))
                else:
                    move = float(rng.uniform(0.8, 1.5))
                    knots.append(t)
                    pitch.append(float(rng.uniform(0.0, 25.0)) * _D)
                    roll.append(float(rng.uniform(-8.0, 8.0)) * _D)
                    moves.append(move)
                    t += move + float(rng.uniform(2.0, 6.0))
        else:
            t += float(rng.uniform(1.0, 4.0))
            while t < t1 - 5.0:
                r = rng.random()
                if r < 0.2:  # a foot lift behind (knee flexion), held, then down
                    up = float(rng.uniform(0.5, 0.9))
                    hold = float(rng.uniform(0.3, 2.0))
                    if t + up + hold + up > t1 - 2.0:
                        break
                    knots += [t, t + up + hold]
                    pitch += [-float(rng.uniform(20.0, 50.0)) * _D, 0.0]
                    roll += [float(rng.uniform(-5.0, 5.0)) * _D, 0.0]
                    moves += [up, up]
                    t += 2 * up + hold + float(rng.uniform(1.0, 5.0))
                else:  # a weight shift
                    move = float(rng.uniform(0.6, 1.5))
                    knots.append(t)
                    pitch.append(float(rng.uniform(-4.0, 4.0)) * _D)
                    roll.append(float(rng.uniform(-4.0, 4.0)) * _D)
                    moves.append(move)
                    t += move + float(rng.uniform(2.0, 8.0))
        end_move = float(rng.uniform(0.8, 1.5))
        knots.append(t1 - end_move - 0.3)
        pitch.append(0.0)
        roll.append(0.0)
        moves.append(end_move)
        sway_amp = 1.5 if kind == "stand" else 0.8
        return cls(
            geometry,
            t0_s,
            t1,
            kind,
            np.array(knots),
            np.array(pitch),
            np.array(roll),
            np.array(moves),
            jiggle,
            _Sines.draw(rng, sway_amp * _D, 0.05, 0.3),
            _Sines.draw(rng, sway_amp * _D, 0.05, 0.3),
        )

    def _schedule(self, t: FloatArray, targets: FloatArray) -> FloatArray:
        out = np.zeros(t.shape)
        previous = 0.0
        for k0, target, move in zip(self.knots_s, targets, self.move_s, strict=True):
            out += (target - previous) * min_jerk((t - k0) / move)
            previous = float(target)
        return out

    def pose(self, t_s: FloatArray) -> Pose:
        taper = _taper(t_s, self.t0_s, self.t1_s, 1.0)
        pitch = self._schedule(t_s, self.pitch_targets) + taper * self.sway_pitch(t_s)
        roll = self._schedule(t_s, self.roll_targets) + taper * self.sway_roll(t_s)
        for start, end, freq, amp in self.jiggle:
            env = _taper(t_s, start, end, 0.4)
            pitch = pitch + env * amp * np.sin(2 * math.pi * freq * (t_s - start))
        heading = np.full(t_s.shape, self.geometry.standing_heading_rad)
        frames_pose = self.geometry.upright_pose(
            heading, pitch, roll, np.zeros(t_s.shape), np.zeros((t_s.shape[0], 3))
        )
        knee = self.geometry.spot_m + SHANK_M * _UP
        ankle = knee + SHANK_M * frames_pose.rotation[:, :, 0]
        return Pose(frames_pose.rotation, ankle, frames_pose.theta_deg)
