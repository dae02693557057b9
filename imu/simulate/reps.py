"""The leg angle θ(t) during a set: reps of every kind built from smooth, physical pieces.

A set is a chain of pieces, each continuous with its neighbours in θ, dθ/dt and (except where
noted) d²θ/dt²: holds, minimum-jerk-like moves with a varied shape, quintic Hermite pieces with
given end states, and ballistic arcs of the leg swinging under gravity (a uniform rod pivoting at
the hip: d²θ/dt² = −k·cos θ with k = 3g/2L). Angles are in radians inside this module.

Rep boundaries are the knots of the commanded motion, the instants where the leg's velocity
leaves or returns to zero: ``start`` (leaves the bottom), ``top_start`` (stops rising),
``top_end`` (starts lowering), ``end`` (stops at the bottom). A bounce has ``end`` of one rep
equal to ``start`` of the next (the velocity touches zero at the reversal).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.integrate import solve_ivp

from imu.simulate.spec import BOTTOM_TYPICAL_DEG, RepKind, Setup

FloatArray = npt.NDArray[np.float64]

GRAVITY_MPS2 = 9.80665
_D = math.pi / 180.0

__all__ = ["PieceTrack", "RepPlan", "SetMotion", "build_fidget", "build_set", "min_jerk"]


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
class _Quintic:
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
    ) -> _Quintic:
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


_Piece = _Const | _Move | _Quintic | _Arc


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


@dataclass
class SetMotion:
    """The θ track of a set (or a bench rest) and the reps in it."""

    track: PieceTrack
    bottom_rad: float
    reps: list[RepPlan]
    gravity_k: float  #: k in d²θ/dt² = −k·cos θ for this leg (and machine arm), 1/s²


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

    def move(self, target: float, duration_s: float) -> None:
        """A smooth move to ``target`` from the current state (ends at rest, zero acceleration)."""
        s = self.state
        t1 = s.t + duration_s
        if s.velocity == 0.0 and s.accel == 0.0:
            skew = float(self.rng.uniform(-0.3, 0.3))
            blend = float(self.rng.uniform(0.0, 0.7))
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
    ) -> _Quintic:
        for f in factors:
            piece = _Quintic.between(s.t, s.t + duration_s * f, (s.theta, s.velocity, s.accel), end)
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


def _peak_for(kind: RepKind, setup: Setup, style: _SetStyle, rng: np.random.Generator) -> float:
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
) -> SetMotion:
    """Build one set: a still lead-in at the bottom, ``n_reps`` reps, a still lead-out."""
    bottom = bottom_deg * _D
    if setup == "floor":
        top = bottom + float(rng.uniform(6.0, 14.0)) * _D
        top = min(top, 15.0 * _D)
        range_scale = 0.6
    else:
        top = float(rng.uniform(-6.0, 1.5)) * _D
        range_scale = 1.0 if setup == "bench" else 1.25
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
    reps: list[RepPlan] = []
    fatigue = float(rng.uniform(0.0, 0.2))  # fraction the tempo shortens by the last rep

    def jitter(value: float, lo: float, hi: float, progress: float) -> float:
        v = value * float(rng.lognormal(0.0, 0.12)) * (1.0 - fatigue * progress)
        return float(np.clip(v, lo, hi))

    for i, kind in enumerate(kinds):
        progress = i / max(1, n_reps - 1)
        next_kind = kinds[i + 1] if i + 1 < n_reps else None
        peak = _peak_for(kind, setup, style, rng)
        # -------- lift
        start = b.state.t
        if kind == "swing_through":
            _swing_through(b, rng, peak)
        elif kind in ("thrown", "bounced"):
            _throw(b, rng, peak)
        else:
            lift_s = jitter(style.lift_s, 0.6, 3.5, progress)
            b.move(peak, max(lift_s, _SLOWEST_PEAK_FACTOR * abs(peak - b.state.theta) / v_max))
        top_start = b.state.t
        peak = b.state.theta
        # -------- hold
        if kind in ("thrown", "bounced", "swing_through") and rng.random() < 0.6:
            hold = 0.0
        else:
            hold = jitter(style.hold_s, 0.0, 2.0, progress) if rng.random() > 0.08 else 0.0
        b.hold(hold)
        top_end = b.state.t
        # -------- lowering
        next_bottom = bottom + float(rng.normal(0.0, 1.2 if setup != "floor" else 0.6)) * _D
        dropped = kind == "drop"
        if dropped:
            rebound = float(rng.uniform(600.0, 1200.0)) * _D if next_kind == "bounced" else 0.0
            _drop(b, rng, next_bottom, peak, rebound)
        elif next_kind == "bounced":
            _lower_into_bounce(b, rng, next_bottom)
        else:
            lower_s = jitter(style.lower_s, 1.0, 4.5, progress)
            span = abs(next_bottom - b.state.theta)
            b.move(next_bottom, max(lower_s, _SLOWEST_PEAK_FACTOR * span / v_max))
        end = b.state.t
        reps.append(RepPlan(kind, start, top_start, top_end, end, dropped))
        # -------- bottom pause (none before a bounce; a real one before a swing-through)
        if next_kind == "bounced":
            continue
        if next_kind is None:
            b.hold(float(rng.uniform(2.0, 4.0)))
        elif next_kind == "swing_through":
            b.hold(float(rng.uniform(0.4, 1.5)))
        else:
            pause = jitter(style.pause_s, 0.0, 2.0, progress) if rng.random() > 0.1 else 0.0
            b.hold(pause)
    return SetMotion(b.track, bottom, reps, gravity_k)


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
        assert isinstance(piece, _Quintic)
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


def typical_bottom_deg(rng: np.random.Generator, setup: Setup) -> float:
    lo, hi = BOTTOM_TYPICAL_DEG[setup]
    return float(rng.uniform(lo, hi))
