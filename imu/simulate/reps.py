"""The leg angle θ(t) during a set: reps of every kind built from smooth, physical pieces.

A set is a chain of pieces, each continuous with its neighbours in θ, dθ/dt and (except where
noted) d²θ/dt²: holds, minimum-jerk-like moves with a varied shape, quintic Hermite pieces with
given end states, and ballistic arcs of the leg swinging under gravity (a uniform rod pivoting at
the hip: d²θ/dt² = −k·cos θ with k = 3g/2L). Angles are in radians inside this module.

Rep boundaries are the knots of the commanded motion, the instants where the leg's velocity
leaves or returns to zero: ``start`` (leaves the bottom), ``top_start`` (stops rising),
``top_end`` (starts lowering), ``end`` (stops at the bottom). A bounce has ``end`` of one rep
equal to ``start`` of the next (the velocity touches zero at the reversal).

The :class:`~imu.simulate.spec.Behaviours` add pieces between the knots (a rebound after ``end``,
a mid-set pause, a lowering cut short by the floor) or motions that leave θ alone (a bent knee, a
twist about the shank, both :class:`Bump` profiles); each draws from its own random stream
(:class:`BehaviourStreams`) a fixed number of values per rep, so switching one on or off changes
nothing else but the times after it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.integrate import solve_ivp

from imu.simulate.spec import (
    BOTTOM_TYPICAL_DEG,
    EDGE_SWING_SETUPS,
    FOOT_REST_SETUPS,
    KNEE_BEND_SETUPS,
    LEG_RAISE_SETUPS,
    UNDER_SWING_SETUPS,
    Behaviours,
    RepKind,
    Setup,
)

FloatArray = npt.NDArray[np.float64]

_D = math.pi / 180.0

__all__ = [
    "BehaviourStreams",
    "Bump",
    "NonRepPlan",
    "PieceTrack",
    "Quintic",
    "RepPlan",
    "SetMotion",
    "build_edge_swing",
    "build_fidget",
    "build_set",
    "min_jerk",
]


def min_jerk(u: FloatArray) -> FloatArray:
    """The minimum-jerk ramp 10u³ − 15u⁴ + 6u⁵ on ``u`` clipped to [0, 1]."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (10.0 + u * (-15.0 + 6.0 * u))


def _septic(u: FloatArray) -> FloatArray:
    u = np.clip(u, 0.0, 1.0)
    return u**4 * (35.0 + u * (-84.0 + u * (70.0 - 20.0 * u)))


# --------------------------------------------------------------------------------------------
# pieces


@dataclass(frozen=True)
class _Const:
    t0: float
    t1: float
    theta: float

    def value(self, t: FloatArray) -> FloatArray:
        return np.full(t.shape, self.theta)


@dataclass(frozen=True)
class _Move:
    """θ0 → θ1 at rest at both ends: a skewed blend of minimum-jerk and septic ramps."""

    t0: float
    t1: float
    theta0: float
    theta1: float
    skew: float  # |skew| < 1: > 0 puts the peak velocity earlier
    blend: float  # 0 = minimum jerk, 1 = septic (more peaked)

    def value(self, t: FloatArray) -> FloatArray:
        x = np.clip((t - self.t0) / (self.t1 - self.t0), 0.0, 1.0)
        u = x + self.skew * x * (1.0 - x)
        s = (1.0 - self.blend) * min_jerk(u) + self.blend * _septic(u)
        return self.theta0 + (self.theta1 - self.theta0) * s


@dataclass(frozen=True)
class _Cut:
    """The first part of a move, up to ``t1`` (where something stopped it)."""

    move: _Move
    t1: float

    @property
    def t0(self) -> float:
        return self.move.t0

    def value(self, t: FloatArray) -> FloatArray:
        return self.move.value(np.minimum(t, self.t1))


@dataclass(frozen=True)
class Quintic:
    """Hermite quintic between two states (θ, dθ/dt, d²θ/dt²)."""

    t0: float
    t1: float
    coeffs: tuple[float, float, float, float, float, float]

    @classmethod
    def between(
        cls,
        t0: float,
        t1: float,
        start: tuple[float, float, float],
        end: tuple[float, float, float],
    ) -> Quintic:
        p0, v0, a0 = start
        p1, v1, a1 = end
        T = t1 - t0
        c3 = (20 * (p1 - p0) - (8 * v1 + 12 * v0) * T - (3 * a0 - a1) * T**2) / (2 * T**3)
        c4 = (30 * (p0 - p1) + (14 * v1 + 16 * v0) * T + (3 * a0 - 2 * a1) * T**2) / (2 * T**4)
        c5 = (12 * (p1 - p0) - 6 * (v1 + v0) * T - (a0 - a1) * T**2) / (2 * T**5)
        return cls(t0, t1, (p0, v0, a0 / 2.0, c3, c4, c5))

    def value(self, t: FloatArray) -> FloatArray:
        tau = np.clip(t, self.t0, self.t1) - self.t0
        c = self.coeffs
        return c[0] + tau * (c[1] + tau * (c[2] + tau * (c[3] + tau * (c[4] + tau * c[5]))))

    def velocity(self, t: FloatArray) -> FloatArray:
        tau = np.clip(t, self.t0, self.t1) - self.t0
        c = self.coeffs
        return c[1] + tau * (2 * c[2] + tau * (3 * c[3] + tau * (4 * c[4] + tau * 5 * c[5])))

    def is_monotone(self, direction: float, *, tol_rad_s: float = 0.3 * _D) -> bool:
        t = np.linspace(self.t0, self.t1, 301)[1:-1]
        return bool(np.all(direction * self.velocity(t) >= -tol_rad_s))


@dataclass(frozen=True)
class _Arc:
    """A ballistic stretch: the solution of an ODE, evaluated through its dense output."""

    t0: float
    t1: float
    solution: Callable[[FloatArray], FloatArray]

    def value(self, t: FloatArray) -> FloatArray:
        tau = np.clip(t, self.t0, self.t1) - self.t0
        values: FloatArray = np.asarray(self.solution(tau), dtype=np.float64)
        return np.asarray(values[0], dtype=np.float64)


_Piece = _Const | _Move | _Cut | Quintic | _Arc


@dataclass
class PieceTrack:
    """θ(t) as consecutive pieces; constant before the first and after the last."""

    pieces: list[_Piece] = field(default_factory=list)

    @property
    def t_end(self) -> float:
        return self.pieces[-1].t1

    def value(self, t_s: FloatArray) -> FloatArray:
        """θ in rad at the (sorted) times ``t_s``."""
        t = np.asarray(t_s, dtype=np.float64)
        out = np.empty(t.shape)
        first, last = self.pieces[0], self.pieces[-1]
        out[t < first.t0] = first.value(np.array([first.t0]))[0]
        out[t >= last.t1] = last.value(np.array([last.t1]))[0]
        for piece in self.pieces:
            i0, i1 = np.searchsorted(t, [piece.t0, piece.t1])
            if piece is last:
                i1 = np.searchsorted(t, piece.t1, side="right")
            if i1 > i0:
                out[i0:i1] = piece.value(t[i0:i1])
        return out


# --------------------------------------------------------------------------------------------
# one set


@dataclass(frozen=True)
class RepPlan:
    """One simulated rep: its kind and the knots of its motion (s)."""

    kind: RepKind
    start_s: float
    top_start_s: float
    top_end_s: float
    end_s: float
    drop: bool  #: lowered by a fast fall
    contact_speed_dps: float | None = None  #: landed on the floor at this speed (a sharp stop)
    knee_bend_deg: float = 0.0  #: largest bend of the knee during the rep


@dataclass(frozen=True)
class Bump:
    """A rise-hold-fall profile: 0 until ``t0``, ``peak`` from ``t1`` to ``t2``, 0 after ``t3``
    (minimum-jerk ramps). Used for a knee bend (rad of flexion) and a twist (rad about x)."""

    t0: float
    t1: float
    t2: float
    t3: float
    peak: float

    def value(self, t: FloatArray) -> FloatArray:
        up = min_jerk((t - self.t0) / (self.t1 - self.t0))
        down = min_jerk((t - self.t2) / (self.t3 - self.t2))
        return np.asarray(self.peak * (up - down), dtype=np.float64)


@dataclass(frozen=True)
class NonRepPlan:
    """A movement that is not a rep: ``[start_s, end_s)``, after the set's rep ``after_rep``
    (0-based; ``None`` for a swing at the set's edge)."""

    kind: str  #: ``mount_swing``, ``dismount_swing``, ``rebound`` or ``twist``
    start_s: float
    end_s: float
    after_rep: int | None = None
    twist_deg: float | None = None  #: a twist's size (signed), °


@dataclass
class SetMotion:
    """The θ track of a set (or a bench rest), the reps in it and what else happens in it."""

    track: PieceTrack
    bottom_rad: float
    reps: list[RepPlan]
    gravity_k: float  #: k in d²θ/dt² = −k·cos θ for this leg (and machine arm), 1/s²
    knee: list[Bump] = field(default_factory=list)  #: knee bends (flexion, rad)
    twists: list[Bump] = field(default_factory=list)  #: twists about the shank (rad)
    non_reps: list[NonRepPlan] = field(default_factory=list)
    #: mid-set pauses: (the rep they follow, 0-based; start, end in s)
    pauses: list[tuple[int, float, float]] = field(default_factory=list)

    def typical_top_rad(self) -> float:
        """The median θ at the reps' tops (commanded track)."""
        tops = np.array([r.top_start_s for r in self.reps])
        return float(np.median(self.track.value(tops)))

    def shifted(self, dt_s: float) -> SetMotion:
        """The same motion ``dt_s`` later."""

        def later(item: Any) -> Any:  # every instant is named t0…t3 or *_s (pieces' contents
            # are relative to their t0)
            changes: dict[str, Any] = {
                f.name: getattr(item, f.name) + dt_s
                for f in dataclasses.fields(item)
                if f.name in ("t0", "t1", "t2", "t3") or f.name.endswith("_s")
            }
            if isinstance(item, _Cut):
                changes["move"] = later(item.move)
            return dataclasses.replace(item, **changes)

        return SetMotion(
            PieceTrack([later(p) for p in self.track.pieces]),
            self.bottom_rad,
            [later(r) for r in self.reps],
            self.gravity_k,
            [later(k) for k in self.knee],
            [later(w) for w in self.twists],
            [later(n) for n in self.non_reps],
            [(i, a + dt_s, b + dt_s) for i, a, b in self.pauses],
        )


@dataclass(frozen=True)
class BehaviourStreams:
    """One random stream per behaviour (see :class:`~imu.simulate.spec.Behaviours`)."""

    swing: np.random.Generator
    rebound: np.random.Generator
    contact: np.random.Generator
    twist: np.random.Generator
    knee: np.random.Generator
    pause: np.random.Generator

    @classmethod
    def spawn(cls, seed: np.random.SeedSequence) -> BehaviourStreams:
        return cls(*(np.random.default_rng(s) for s in seed.spawn(6)))


@dataclass
class _State:
    t: float
    theta: float
    velocity: float = 0.0
    accel: float = 0.0


class _Builder:
    def __init__(self, rng: np.random.Generator, start_s: float, theta: float, k: float) -> None:
        self.rng = rng
        self.state = _State(start_s, theta)
        self.track = PieceTrack()
        self.k = k

    def hold(self, duration_s: float) -> None:
        if duration_s <= 0:
            return
        s = self.state
        self.track.pieces.append(_Const(s.t, s.t + duration_s, s.theta))
        self.state = _State(s.t + duration_s, s.theta)

    @property
    def at_rest(self) -> bool:
        return self.state.velocity == 0.0 and self.state.accel == 0.0

    def shape(self) -> tuple[float, float]:
        """The skew and blend of a move from rest (drawn from the builder's stream)."""
        return float(self.rng.uniform(-0.3, 0.3)), float(self.rng.uniform(0.0, 0.7))

    def move(self, target: float, duration_s: float) -> None:
        """A smooth move to ``target`` from the current state (ends at rest, zero acceleration)."""
        s = self.state
        t1 = s.t + duration_s
        if self.at_rest:
            skew, blend = self.shape()
            self.track.pieces.append(_Move(s.t, t1, s.theta, target, skew, blend))
        else:
            direction = math.copysign(1.0, target - s.theta)
            try:
                piece: _Piece = self._quintic_search(
                    s,
                    (target, 0.0, 0.0),
                    duration_s,
                    direction,
                    factors=(1.0, 0.8, 1.2, 0.6, 0.45, 0.35),
                )
            except _NoSolution:  # the muscles take over at once (a step in acceleration)
                piece = _Move(s.t, t1, s.theta, target, 0.0, 0.0)
            t1 = piece.t1
            self.track.pieces.append(piece)
        self.state = _State(t1, target)

    def through(self, knots: Sequence[tuple[float, float]], durations_s: Sequence[float]) -> None:
        """Through turning points ``(θ, d²θ/dt²)`` (velocity 0 there) in the given times, from
        rest. The turning accelerations are scaled down until every piece is monotone; at 0 the
        pieces are minimum-jerk-like, which always are. The last knot's acceleration should be 0
        (the move ends at rest)."""
        s = self.state
        for scale in (1.0, 0.6, 0.3, 0.0):
            pieces: list[_Piece] = []
            t, state = s.t, (s.theta, s.velocity, s.accel)
            for (theta, accel), d in zip(knots, durations_s, strict=True):
                end = (theta, 0.0, scale * accel)
                piece = Quintic.between(t, t + d, state, end)
                if scale > 0 and not piece.is_monotone(math.copysign(1.0, theta - state[0])):
                    break
                pieces.append(piece)
                t, state = t + d, end
            else:
                self.track.pieces.extend(pieces)
                self.state = _State(t, *state)
                return

    def quintic_to(
        self, end: tuple[float, float, float], duration_s: float, *, factors: Sequence[float]
    ) -> bool:
        s = self.state
        direction = math.copysign(1.0, end[0] - s.theta)
        try:
            piece = self._quintic_search(s, end, duration_s, direction, factors=factors)
        except _NoSolution:
            return False
        self.track.pieces.append(piece)
        self.state = _State(piece.t1, end[0], end[1], end[2])
        return True

    @staticmethod
    def _quintic_search(
        s: _State,
        end: tuple[float, float, float],
        duration_s: float,
        direction: float,
        *,
        factors: Sequence[float],
    ) -> Quintic:
        for f in factors:
            piece = Quintic.between(s.t, s.t + duration_s * f, (s.theta, s.velocity, s.accel), end)
            if piece.is_monotone(direction):
                return piece
        raise _NoSolution

    def coast_up(self) -> None:
        """Coast under gravity from the current (rising) state until the leg stops."""
        s = self.state
        k = self.k

        def rhs(_t: float, y: FloatArray) -> list[float]:
            return [y[1], -k * math.cos(y[0])]

        def stopped(_t: float, y: FloatArray) -> float:
            return float(y[1])

        stopped.terminal = True  # type: ignore[attr-defined]
        stopped.direction = -1  # type: ignore[attr-defined]
        sol = solve_ivp(
            rhs,
            (0.0, 5.0),
            [s.theta, s.velocity],
            events=stopped,
            dense_output=True,
            rtol=1e-10,
            atol=1e-12,
        )
        t_stop = float(sol.t_events[0][0])
        top = float(sol.y_events[0][0][0])
        self.track.pieces.append(_Arc(s.t, s.t + t_stop, sol.sol))
        self.state = _State(s.t + t_stop, top, 0.0, -k * math.cos(top))

    def fall_to(self, theta_catch: float, gravity_fraction: float) -> None:
        """Let the leg fall from rest under a fraction of gravity down to ``theta_catch``."""
        s = self.state
        k = self.k * gravity_fraction

        def rhs(_t: float, y: FloatArray) -> list[float]:
            return [y[1], -k * math.cos(y[0])]

        def reached(_t: float, y: FloatArray) -> float:
            return float(y[0] - theta_catch)

        reached.terminal = True  # type: ignore[attr-defined]
        reached.direction = -1  # type: ignore[attr-defined]
        sol = solve_ivp(
            rhs,
            (0.0, 5.0),
            [s.theta, 0.0],
            events=reached,
            dense_output=True,
            rtol=1e-10,
            atol=1e-12,
        )
        t_hit = float(sol.t_events[0][0])
        theta, omega = (float(v) for v in sol.y_events[0][0])
        self.track.pieces.append(_Arc(s.t, s.t + t_hit, sol.sol))
        self.state = _State(s.t + t_hit, theta, omega, -k * math.cos(theta))


class _NoSolution(Exception):
    pass


@dataclass(frozen=True)
class _SetStyle:
    """How this person does this set: tempo (s), angles (rad), fatigue."""

    lift_s: float
    hold_s: float
    lower_s: float
    pause_s: float
    top: float
    bottom: float


#: fastest peak angular velocity of a controlled lift or lowering, per set-up, °/s (drawn)
_CONTROLLED_MAX_DPS: dict[str, tuple[float, float]] = {
    "bench": (75.0, 110.0),
    "machine": (85.0, 120.0),
    "floor": (40.0, 60.0),
    "seated": (85.0, 120.0),
    "supine": (60.0, 100.0),
    "side": (50.0, 80.0),
}
_SLOWEST_PEAK_FACTOR = 2.2
_BOUNCE_MAX_DPS = 150.0  #: fastest lowering into a bounce, °/s


def _draw_kinds(
    rng: np.random.Generator, n: int, probabilities: dict[RepKind, float]
) -> list[RepKind]:
    names = list(probabilities)
    p = np.array([probabilities[k] for k in names])
    kinds: list[RepKind] = [names[int(i)] for i in rng.choice(len(names), size=n, p=p / p.sum())]
    if kinds and kinds[0] == "bounced":
        kinds[0] = "controlled"
    return kinds


def _top_and_range_scale(
    rng: np.random.Generator, setup: Setup, bottom: float
) -> tuple[float, float]:
    """The set's top θ (rad) and how its phase durations scale with the range of movement."""
    if setup == "floor":
        top = bottom + float(rng.uniform(6.0, 14.0)) * _D
        return min(top, 15.0 * _D), 0.6
    if setup in ("bench", "machine"):
        top = float(rng.uniform(-6.0, 1.5)) * _D
        return top, 1.0 if setup == "bench" else 1.25
    if setup == "seated":  # the knee extends from hanging toward straight
        return float(rng.uniform(-10.0, 0.0)) * _D, 1.25
    rise = {"supine": (30.0, 70.0), "side": (25.0, 45.0)}[setup]
    top = bottom + float(rng.uniform(*rise)) * _D
    return top, float(np.clip((top - bottom) / (40.0 * _D), 0.7, 1.5))


def _peak_for(kind: RepKind, setup: Setup, style: _SetStyle, rng: np.random.Generator) -> float:
    if setup in LEG_RAISE_SETUPS:  # no hip line to pass: only partial reps differ
        if kind == "partial":
            return style.bottom + float(rng.uniform(0.35, 0.6)) * (style.top - style.bottom)
        peak = style.top + float(rng.normal(0.0, 1.5)) * _D
        return min(peak, 2.0 * _D) if setup == "seated" else peak  # a knee barely hyperextends
    if kind == "above_hip_line":
        lo, hi = (22.0, 30.0) if setup == "floor" else (8.0, 25.0)
        return float(rng.uniform(lo, hi)) * _D
    if kind == "partial":
        if setup == "floor":
            rise = max(4.5 * _D, 0.45 * (style.top - style.bottom))
            return style.bottom + rise
        lo, hi = (-25.0, -15.0) if setup == "bench" else (-35.0, -20.0)
        return max(float(rng.uniform(lo, hi)) * _D, style.bottom + 12.0 * _D)
    if kind in ("thrown", "bounced", "swing_through") and rng.random() < 0.35:
        lo, hi = (21.0, 28.0) if setup == "floor" else (6.0, 18.0)
        return float(rng.uniform(lo, hi)) * _D
    ceiling = (15.0 if setup == "floor" else 3.5) * _D  # clearly below the flag's tolerance
    return min(style.top + float(rng.normal(0.0, 1.5)) * _D, ceiling)


def _uniforms(rng: np.random.Generator, n: int) -> list[float]:
    return [float(v) for v in rng.random(n)]


def _lerp(u: float, lo_hi: tuple[float, float]) -> float:
    return lo_hi[0] + u * (lo_hi[1] - lo_hi[0])


@dataclass(frozen=True)
class _RepExtras:
    """The behaviours drawn for one rep (``None``: not this rep). Each comes from its own
    stream, a fixed number of values per rep whatever the probabilities."""

    rebound: tuple[float, float, float, float] | None  #: height (rad), up s, down s, settle
    contact: tuple[float, float] | None  #: aim below the floor (fraction of span), stop s
    twist: Bump | None  #: relative to the rep's end (t0 = 0)
    knee: tuple[float, ...] | None  #: peak (rad) and five shape fractions

    @classmethod
    def draw(cls, b: Behaviours, streams: BehaviourStreams, setup: Setup) -> _RepExtras:
        r, c = _uniforms(streams.rebound, 5), _uniforms(streams.contact, 3)
        w, k = _uniforms(streams.twist, 6), _uniforms(streams.knee, 7)
        rebound = contact = twist = knee = None
        if r[0] < b.rebound:
            rebound = (
                _lerp(r[1], b.rebound_deg) * _D,
                0.15 + 0.2 * r[2],
                0.25 + 0.35 * r[3],
                0.4 * r[4] - 0.2,
            )
        foot_rests = setup in FOOT_REST_SETUPS
        if foot_rests and c[0] < b.foot_contact:
            contact = (_lerp(c[1], b.foot_contact_depth), _lerp(c[2], b.foot_contact_stop_s))
        if foot_rests and w[0] < b.twist:
            angle = math.copysign(_lerp(w[1], b.twist_deg) * _D, w[2] - 0.5)
            up, hold, down = 0.08 + 0.12 * w[3], 0.15 * w[4], 0.25 + 0.35 * w[5]
            twist = Bump(0.0, up, up + hold, up + hold + down, angle)
        if setup in KNEE_BEND_SETUPS and k[0] < b.knee_bend:
            knee = (_lerp(k[1], b.knee_bend_deg) * _D, *k[2:])
        return cls(rebound, contact, twist, knee)


def _knee_bump(shape: tuple[float, ...], rep: RepPlan) -> Bump:
    """Bends during the lift. Mostly straight again by the top (the lifter extends the knee as
    the leg reaches the hip line); otherwise it straightens during the hold (if it is long
    enough) or on the way down, always before the rep ends."""
    peak, f_start, f_reach, mode, g1, g2 = shape
    lift = rep.top_start_s - rep.start_s
    t0 = rep.start_s + 0.3 * f_start * lift
    hold = rep.top_end_s - rep.top_start_s
    if mode < 0.6:  # straight by the top
        t1 = t0 + (0.3 + 0.2 * f_reach) * (rep.top_start_s - t0)
        t2 = t1 + 0.2 * g1 * (rep.top_start_s - t1)
        t3 = rep.top_start_s - 0.05 * g2 * lift
        return Bump(t0, t1, t2, max(t3, t2), peak)
    t1 = rep.top_start_s - 0.15 * f_reach * lift
    if mode < 0.8 and hold >= 0.4:
        t2 = rep.top_start_s + 0.3 * g1 * hold
        t3 = rep.top_end_s
    else:
        t2 = rep.top_end_s + 0.2 * g1 * (rep.end_s - rep.top_end_s)
        t3 = t2 + (0.4 + 0.4 * g2) * (rep.end_s - t2)
    return Bump(t0, t1, t2, t3, peak)


def _pause_plan(
    b: Behaviours, streams: BehaviourStreams, kinds: Sequence[RepKind]
) -> tuple[int, float] | None:
    """Which rep a mid-set pause follows (0-based) and its length, or ``None``."""
    u = _uniforms(streams.pause, 3)
    n = len(kinds)
    if n < 3 or u[0] >= b.pause:
        return None
    first = round((0.25 + 0.5 * u[1]) * (n - 2))
    for i in (*range(first, n - 1), *range(first - 1, -1, -1)):
        if kinds[i + 1] != "bounced":
            return i, _lerp(u[2], b.pause_s)
    return None


def build_set(
    rng: np.random.Generator,
    *,
    setup: Setup,
    start_s: float,
    n_reps: int,
    kind_probabilities: dict[RepKind, float],
    bottom_deg: float,
    tempo_scale: float,
    gravity_k: float,
    behaviours: Behaviours | None = None,
    streams: BehaviourStreams | None = None,
) -> SetMotion:
    """Build one set: a still lead-in at the bottom, ``n_reps`` reps, a still lead-out.

    With ``behaviours`` (and their ``streams``) the set also gets rebounds, foot contacts,
    twists, knee bends and a mid-set pause; the motion drawn from ``rng`` is the same either way.
    """
    bottom = bottom_deg * _D
    top, range_scale = _top_and_range_scale(rng, setup, bottom)
    style = _SetStyle(
        lift_s=float(rng.uniform(1.0, 2.4)) * tempo_scale * range_scale,
        hold_s=float(rng.uniform(0.2, 1.6)) * tempo_scale,
        lower_s=float(rng.uniform(1.6, 3.4)) * tempo_scale * range_scale,
        pause_s=float(rng.uniform(0.2, 1.4)) * tempo_scale,
        top=top,
        bottom=bottom,
    )
    kinds = _draw_kinds(rng, n_reps, kind_probabilities)
    # a controlled move never exceeds this peak speed (the septic ramp peaks at 2.19 × mean)
    v_max = float(rng.uniform(*(_CONTROLLED_MAX_DPS[setup]))) * _D
    b = _Builder(rng, start_s, bottom, gravity_k)
    b.hold(float(rng.uniform(2.0, 4.0)))
    motion = SetMotion(b.track, bottom, [], gravity_k)
    fatigue = float(rng.uniform(0.0, 0.2))  # fraction the tempo shortens by the last rep
    pace = _Pace(rng, fatigue, v_max)
    pause_plan = None
    if behaviours is not None and streams is not None:
        pause_plan = _pause_plan(behaviours, streams, kinds)

    for i, kind in enumerate(kinds):
        extras = None
        if behaviours is not None and streams is not None:
            extras = _RepExtras.draw(behaviours, streams, setup)
        progress = i / max(1, n_reps - 1)
        next_kind = kinds[i + 1] if i + 1 < n_reps else None
        peak = _peak_for(kind, setup, style, rng)
        # -------- lift
        start = b.state.t
        start_theta = b.state.theta
        _lift(b, pace, kind, peak, style.lift_s, progress)
        top_start = b.state.t
        peak = b.state.theta
        # -------- hold
        b.hold(_top_hold_s(pace, kind, style.hold_s, progress))
        top_end = b.state.t
        # -------- lowering
        next_bottom = bottom + float(rng.normal(0.0, 1.2 if setup != "floor" else 0.6)) * _D
        dropped = kind == "drop"
        contact = extras.contact if extras is not None else None
        contact_dps = _lower(
            b, pace, kind, next_kind, peak, next_bottom, style.lower_s, progress, contact
        )
        end = b.state.t
        plan = RepPlan(kind, start, top_start, top_end, end, dropped, contact_dps)
        if extras is not None and extras.knee is not None:
            bump = _knee_bump(extras.knee, plan)
            motion.knee.append(bump)
            plan = dataclasses.replace(plan, knee_bend_deg=bump.peak / _D)
        motion.reps.append(plan)
        # -------- after the bottom: a rebound, a twist (none before a bounce)
        if next_kind == "bounced":
            continue
        busy_until = end
        if extras is not None and behaviours is not None:
            rom = peak - min(start_theta, b.state.theta)
            busy_until = _after_bottom(b, motion, extras, behaviours, i, rom)
        # -------- bottom pause (a real one before a swing-through)
        planned_s = pause_plan[1] if pause_plan is not None and pause_plan[0] == i else None
        wait, mid_set = _bottom_wait_s(pace, next_kind, style.pause_s, progress, planned_s)
        if mid_set:
            wait = max(wait, busy_until - b.state.t)
            motion.pauses.append((i, b.state.t, b.state.t + wait))
        b.hold(max(wait, busy_until - b.state.t))
    return motion


@dataclass(frozen=True)
class _Pace:
    """How fast one set's moves go: each of its style's durations drawn afresh per rep and
    shortened by ``fatigue`` (a fraction) toward the last rep; no controlled move faster than
    ``v_max`` (rad/s) at its peak."""

    rng: np.random.Generator
    fatigue: float
    v_max: float

    def jitter(self, value: float, lo: float, hi: float, progress: float) -> float:
        """``value`` (s) for the rep ``progress`` (0–1) through the set, within ``[lo, hi]``."""
        v = value * float(self.rng.lognormal(0.0, 0.12)) * (1.0 - self.fatigue * progress)
        return float(np.clip(v, lo, hi))

    def controlled_s(self, planned_s: float, span: float) -> float:
        """``planned_s``, lengthened so that a move over ``span`` (rad) stays controlled."""
        return max(planned_s, _SLOWEST_PEAK_FACTOR * span / self.v_max)


def _lift(
    b: _Builder, pace: _Pace, kind: RepKind, peak: float, lift_s: float, progress: float
) -> None:
    """A rep's lift to ``peak``: swung through, thrown (or bounced), or a controlled move."""
    if kind == "swing_through":
        _swing_through(b, pace.rng, peak)
    elif kind in ("thrown", "bounced"):
        _throw(b, pace.rng, peak)
    else:
        duration = pace.controlled_s(
            pace.jitter(lift_s, 0.6, 3.5, progress), abs(peak - b.state.theta)
        )
        b.move(peak, duration)


def _top_hold_s(pace: _Pace, kind: RepKind, hold_s: float, progress: float) -> float:
    """How long a rep holds at the top (s): a thrown, bounced or swung rep mostly not at all,
    any rep now and then not."""
    if kind in ("thrown", "bounced", "swing_through") and pace.rng.random() < 0.6:
        return 0.0
    return pace.jitter(hold_s, 0.0, 2.0, progress) if pace.rng.random() > 0.08 else 0.0


def _lower(
    b: _Builder,
    pace: _Pace,
    kind: RepKind,
    next_kind: RepKind | None,
    peak: float,
    next_bottom: float,
    lower_s: float,
    progress: float,
    contact: tuple[float, float] | None,
) -> float | None:
    """A rep's lowering to ``next_bottom``: dropped (rebounding into a bounced rep next), into
    a bounce, or controlled (onto the floor with a foot ``contact``). Returns the speed at
    contact, °/s (``None``: no contact)."""
    if kind == "drop":
        rebound = float(pace.rng.uniform(600.0, 1200.0)) * _D if next_kind == "bounced" else 0.0
        _drop(b, pace.rng, next_bottom, peak, rebound)
        return None
    if next_kind == "bounced":
        _lower_into_bounce(b, pace.rng, next_bottom)
        return None
    planned_s = pace.jitter(lower_s, 1.0, 4.5, progress)
    duration = pace.controlled_s(planned_s, abs(next_bottom - b.state.theta))
    if contact is not None:
        return _lower_onto_floor(b, next_bottom, duration, *contact)
    b.move(next_bottom, duration)
    return None


def _bottom_wait_s(
    pace: _Pace,
    next_kind: RepKind | None,
    pause_s: float,
    progress: float,
    planned_s: float | None,
) -> tuple[float, bool]:
    """The rest at the bottom before the next rep (s; a real one before a swing-through, a
    longer one after the last rep), and whether it is the set's mid-set pause of ``planned_s``
    (at least)."""
    if next_kind is None:
        return float(pace.rng.uniform(2.0, 4.0)), False
    if next_kind == "swing_through":
        return float(pace.rng.uniform(0.4, 1.5)), False
    wait = pace.jitter(pause_s, 0.0, 2.0, progress) if pace.rng.random() > 0.1 else 0.0
    if planned_s is None:
        return wait, False
    return max(wait, planned_s), True


def _after_bottom(
    b: _Builder,
    motion: SetMotion,
    extras: _RepExtras,
    behaviours: Behaviours,
    index: int,
    rom: float,
) -> float:
    """A rebound and a twist right after rep ``index`` reached the bottom (at rest); returns the
    time until which they last (the next rep starts no earlier)."""
    end = b.state.t
    busy_until = end
    if extras.rebound is not None:
        height, up_s, down_s, settle = extras.rebound
        height = min(height, behaviours.rebound_max_rom * rom)
        if height >= 0.5 * _D:
            base = b.state.theta
            b.through(
                [(base + height, -3.0 * height / up_s**2), (base + settle * height, 0.0)],
                [up_s, down_s],
            )
            motion.non_reps.append(NonRepPlan("rebound", end, b.state.t, index))
            busy_until = b.state.t
    if extras.twist is not None:
        w = extras.twist
        bump = Bump(end + w.t0, end + w.t1, end + w.t2, end + w.t3, w.peak)
        motion.twists.append(bump)
        motion.non_reps.append(NonRepPlan("twist", end, bump.t3, index, twist_deg=w.peak / _D))
        busy_until = max(busy_until, bump.t3)
    return busy_until


def _lower_onto_floor(
    b: _Builder, floor: float, duration_s: float, depth: float, stop_s: float
) -> float | None:
    """Lower from rest aiming ``depth`` × the span below ``floor``; the floor stops the leg
    within ``stop_s`` (a jolt). Returns the speed at contact, °/s (``None``: an ordinary move,
    where the leg was not at rest at the top). Draws from the builder's stream exactly as
    :meth:`_Builder.move` would, so the rest of the set does not change."""
    if not b.at_rest:
        b.move(floor, duration_s)
        return None
    s = b.state
    skew, blend = b.shape()
    aim = floor - depth * (s.theta - floor)
    move = _Move(s.t, s.t + duration_s, s.theta, aim, skew, blend)
    t = np.linspace(s.t, s.t + duration_s, 4001)
    theta = move.value(t)
    h = 1e-5
    level, t_c, v_c, a_c = floor, s.t, 0.0, 0.0
    for _ in range(4):  # the stop covers about half its time at the contact speed
        k = int(np.searchsorted(-theta, -level))  # θ decreases: first sample at or below level
        if k <= 0 or k >= t.size:
            break
        frac = (theta[k - 1] - level) / (theta[k - 1] - theta[k])
        t_c = float(t[k - 1] + frac * (t[k] - t[k - 1]))
        near = move.value(np.array([t_c - h, t_c, t_c + h]))
        v_c = float(near[2] - near[0]) / (2 * h)
        a_c = float(near[2] - 2 * near[1] + near[0]) / (h * h)
        level = floor - 0.5 * v_c * stop_s
    stop = Quintic.between(t_c, t_c + stop_s, (level, v_c, a_c), (floor, 0.0, 0.0))
    if v_c >= 0 or not stop.is_monotone(-1.0):
        b.track.pieces.append(_Move(s.t, s.t + duration_s, s.theta, floor, skew, blend))
        b.state = _State(s.t + duration_s, floor)
        return None
    b.track.pieces += [_Cut(move, t_c), stop]
    b.state = _State(t_c + stop_s, floor)
    return abs(v_c) / _D


def _throw(b: _Builder, rng: np.random.Generator, peak: float) -> None:
    """A muscular burst from the current state, then ballistic coasting up to ``peak``."""
    s = b.state
    for _ in range(8):
        frac = float(rng.uniform(0.25, 0.5))
        theta1 = s.theta + frac * (peak - s.theta)
        energy = 2.0 * b.k * (math.sin(peak) - math.sin(theta1))
        if energy <= 0:
            continue
        omega1 = math.sqrt(energy)
        mean_speed = 0.5 * omega1
        duration = float(rng.uniform(0.9, 1.2)) * (theta1 - s.theta) / mean_speed
        ok = b.quintic_to(
            (theta1, omega1, -b.k * math.cos(theta1)),
            max(duration, 0.08),
            factors=(1.0, 0.85, 1.2, 0.7, 1.4, 0.6, 1.7),
        )
        if ok:
            b.coast_up()
            return
    b.move(peak, 0.8)  # should not happen: a quick (still unthrown) lift instead


def _swing_through(b: _Builder, rng: np.random.Generator, peak: float) -> None:
    """Machine: swing forward under the bench past vertical, then back and up with momentum."""
    s = b.state
    forward = min(s.theta - float(rng.uniform(12.0, 30.0)) * _D, -100.0 * _D)
    accel = -b.k * math.cos(forward)  # gravity pulls it back toward hanging
    ok = b.quintic_to(
        (forward, 0.0, accel), float(rng.uniform(0.5, 0.9)), factors=(1.0, 1.3, 1.7, 2.2)
    )
    if not ok:
        b.move(forward, 0.8)
    _throw(b, rng, peak)


def _lower_into_bounce(b: _Builder, rng: np.random.Generator, bottom: float) -> None:
    """Lower quickly (but not a drop: at most ~150 °/s) and arrive at the bottom with a hard
    rebound (velocity 0, large upward acceleration)."""
    s = b.state
    span = abs(s.theta - bottom)
    for attempt in range(8):
        rebound = float(rng.uniform(600.0, 1500.0)) * _D * min(1.0, span / (35.0 * _D) + 0.3)
        duration = float(rng.uniform(0.7, 1.3)) * max(0.5, span / (40.0 * _D)) * 1.15**attempt
        ok = b.quintic_to((bottom, 0.0, rebound), duration, factors=(1.0, 1.2, 0.85, 1.5, 2.0))
        if not ok:
            continue
        piece = b.track.pieces[-1]
        assert isinstance(piece, Quintic)
        speed = np.abs(piece.velocity(np.linspace(piece.t0, piece.t1, 200))).max()
        if speed <= _BOUNCE_MAX_DPS * _D:
            return
        b.track.pieces.pop()
        b.state = s
    b.move(bottom, _SLOWEST_PEAK_FACTOR * span / (_BOUNCE_MAX_DPS * _D))


def _drop(
    b: _Builder, rng: np.random.Generator, bottom: float, peak: float, rebound: float
) -> None:
    """Let the leg fall, then catch it shortly above the bottom."""
    span = peak - bottom
    catch = bottom + float(rng.uniform(0.2, 0.35)) * span
    b.fall_to(catch, float(rng.uniform(0.75, 1.0)))
    speed = abs(b.state.velocity)
    duration = 2.0 * (b.state.theta - bottom) / max(speed, 1e-3)
    ok = b.quintic_to(
        (bottom, 0.0, rebound), duration, factors=(1.0, 1.15, 0.9, 1.3, 0.8, 1.5, 1.8, 2.2)
    )
    if not ok:
        b.move(bottom, 0.4)


def build_fidget(
    rng: np.random.Generator, *, start_s: float, duration_s: float, bottom_deg: float, k: float
) -> SetMotion:
    """Resting on the bench between sets: the leg hangs, shifting a few degrees now and then."""
    bottom = bottom_deg * _D
    b = _Builder(rng, start_s, bottom, k)
    end = start_s + duration_s
    b.hold(float(rng.uniform(2.0, 6.0)))
    while b.state.t < end - 12.0:
        move_s = float(rng.uniform(0.8, 2.0))
        b.move(bottom + float(rng.uniform(-6.0, 6.0)) * _D, move_s)
        b.hold(float(rng.uniform(2.0, 10.0)))
    b.move(bottom, float(rng.uniform(1.0, 2.0)))
    b.hold(max(0.5, end - b.state.t))
    return SetMotion(b.track, bottom, [], k)


def build_edge_swing(
    rng: np.random.Generator,
    behaviours: Behaviours,
    setup: Setup,
    *,
    kind: str,
    start_s: float,
    bottom_rad: float,
    top_rad: float,
    gravity_k: float,
) -> SetMotion | None:
    """Getting on or off the set-up (``kind`` ``mount_swing`` or ``dismount_swing``), the
    exercising leg swings out of the set's bottom and back, turning at its peak without a hold:
    either guided (a smooth rise and fall, 0.6–1.4 s each) or like a pendulum (a push, coasting
    up under gravity, falling back, caught) — on the machine or a chair sometimes swinging past
    the bottom first (under the pad, under the chair). Not a rep.

    The peak lies ``edge_swing_below_top_deg`` below the set's median top ``top_rad`` (at most
    75 % of the set's range below it). Returns the swing's θ track from ``start_s`` with a still
    lead-in and lead-out and its :class:`NonRepPlan`, or ``None`` (no swing at this edge).
    """
    u = _uniforms(rng, 5)
    rom = top_rad - bottom_rad
    if setup not in EDGE_SWING_SETUPS or u[0] >= behaviours.edge_swing or rom < 15.0 * _D:
        return None
    lo_deg, hi_deg = behaviours.edge_swing_below_top_deg
    hi = min(hi_deg * _D, 0.75 * rom)
    lo = min(lo_deg * _D, hi)
    peak = top_rad - (lo + u[1] * (hi - lo))
    under = 0.0
    if setup in UNDER_SWING_SETUPS and u[3] < behaviours.edge_swing_under:
        under = float(rng.uniform(8.0, 25.0)) * _D
    mount = kind == "mount_swing"
    b = _Builder(rng, start_s, bottom_rad, gravity_k)
    motion = SetMotion(b.track, bottom_rad, [], gravity_k)
    b.hold(0.3 + 0.7 * u[2] if mount else 0.5 * u[2])  # settling after climbing on
    swing_start = b.state.t
    if u[4] < 0.4:  # a pendulum
        _throw(b, rng, peak)
        if under > 0:
            _swing_under(b, rng, bottom_rad, bottom_rad - under)
        else:
            _drop(b, rng, bottom_rad, b.state.theta, 0.0)
    else:  # guided: turning as sharply as a smooth rise and fall allow (no hold)
        rise = peak - bottom_rad
        up_s = float(rng.uniform(0.3, 0.45)) + 0.6 * math.sqrt(rise / (60.0 * _D))
        down_s = up_s * float(rng.uniform(1.0, 1.4))
        knots = [(peak, -1.9 * rise / down_s**2), (bottom_rad, 0.0)]
        durations = [up_s, down_s]
        if under > 0:
            knots[1:] = [(bottom_rad - under, 1.9 * under / down_s**2), (bottom_rad, 0.0)]
            durations.append(float(rng.uniform(0.6, 1.1)))
        b.through(knots, durations)
    motion.non_reps.append(NonRepPlan(kind, swing_start, b.state.t))
    tail = float(rng.uniform(0.0, 0.5) if mount else rng.uniform(0.3, 1.0))  # before climbing off
    b.hold(tail)
    return motion


def _swing_under(b: _Builder, rng: np.random.Generator, bottom: float, under: float) -> None:
    """From rest at the top, fall freely through ``bottom`` to ``under``, turn there (gravity
    pulls back toward hanging, or the muscles do) and settle back at ``bottom``."""
    b.fall_to(bottom, 1.0)
    speed = abs(b.state.velocity)
    turn = max(-b.k * math.cos(under), 2.0)
    duration = 2.0 * (bottom - under) / max(speed, 1e-3)
    ok = b.quintic_to((under, 0.0, turn), duration, factors=(1.0, 1.2, 0.85, 1.5, 2.0, 2.5))
    if not ok:
        b.move(under, 0.6)
    b.move(bottom, float(rng.uniform(0.6, 1.1)))


def typical_bottom_deg(rng: np.random.Generator, setup: Setup) -> float:
    lo, hi = BOTTOM_TYPICAL_DEG[setup]
    return float(rng.uniform(lo, hi))
