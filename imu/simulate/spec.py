"""What to simulate: the session, the sensor's errors, and a generator of varied realistic specs.

Every field carries its unit in the name and a documented default; a value of 0 disables the
feature it controls (no noise, no bias, no clipping, no quantisation, no dropped packets …).
Everything random that a spec does not fix is drawn inside :func:`~imu.simulate.simulate_session`
from its ``seed``, from independent streams for the motion, the sensor errors, the packet losses
and each of the :class:`Behaviours`, so changing the sensor model never changes the movement, and
switching a behaviour on or off changes only that behaviour (and shifts later times).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np

from imu.errors import ConfigError

__all__ = [
    "ABOVE_HIP_TOLERANCE_DEG",
    "ACTIVITIES",
    "EXERCISE_BY_SETUP",
    "LEGS",
    "LEG_RAISE_SETUPS",
    "PRONE_SETUPS",
    "REP_KINDS",
    "SETUPS",
    "Activity",
    "Behaviours",
    "Leg",
    "RepKind",
    "RepMix",
    "SensorSpec",
    "SessionSpec",
    "Setup",
    "random_spec",
]

Setup = Literal["bench", "machine", "floor", "seated", "supine", "side"]
Leg = Literal["left", "right"]
RepKind = Literal[
    "controlled", "above_hip_line", "thrown", "bounced", "swing_through", "partial", "drop"
]
Activity = Literal["walk", "sit", "stand", "bench_rest"]

SETUPS: tuple[Setup, ...] = get_args(Setup)
#: lying face down, the straight leg pivoting at the hip: what :func:`random_spec` draws by default
PRONE_SETUPS: tuple[Setup, ...] = ("bench", "machine", "floor")
#: other single-joint leg exercises (the generic ``leg-raise`` profile): seated knee extension
#: (the shank pivots at the knee), supine straight-leg raise, side-lying hip abduction
LEG_RAISE_SETUPS: tuple[Setup, ...] = ("seated", "supine", "side")
LEGS: tuple[Leg, ...] = get_args(Leg)
REP_KINDS: tuple[RepKind, ...] = get_args(RepKind)
ACTIVITIES: tuple[Activity, ...] = get_args(Activity)

#: the exercise name written to the recording for each set-up (a profile of :mod:`imu.settings`)
EXERCISE_BY_SETUP: dict[str, str] = {
    "bench": "reverse-hyper",
    "machine": "reverse-hyper",
    "floor": "prone-leg-lift",
    "seated": "leg-raise",
    "supine": "leg-raise",
    "side": "leg-raise",
}
#: the truth flag ``above_hip_line`` is set when a rep's peak θ exceeds this, ° (an exercise not
#: listed has no hip line to pass: the flag does not apply)
ABOVE_HIP_TOLERANCE_DEG: dict[str, float] = {"reverse-hyper": 5.0, "prone-leg-lift": 20.0}

Vec3 = tuple[float, float, float]
_ZERO3: Vec3 = (0.0, 0.0, 0.0)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _finite(obj: object) -> None:
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            if isinstance(v, float) and not math.isfinite(v):
                raise ConfigError(f"{f.name}: must be a finite number")


@dataclass(frozen=True, kw_only=True)
class RepMix:
    """Probability that a rep is of each faulty kind; the remainder are ``controlled`` reps.

    ``swing_through`` needs the machine; on other set-ups its share goes to ``thrown``.
    ``above_hip_line`` needs a hip line: on the leg-raise set-ups its share goes to ``controlled``.
    ``bounced`` needs a rep before it; a set's first rep is never bounced.
    """

    above_hip_line: float = 0.0  #: lifted to 8–25° (floor: 22–30°) above the hip line
    thrown: float = 0.0  #: a short burst, then coasting under gravity to the top
    bounced: float = 0.0  #: fast drop into the bottom and an immediate rebound
    swing_through: float = 0.0  #: machine: swing forward under the bench, then up
    partial: float = 0.0  #: peak well below the hip line
    drop: float = 0.0  #: lowered by letting the leg fall, caught near the bottom

    def __post_init__(self) -> None:
        _finite(self)
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            _check(0.0 <= value <= 1.0, f"rep_mix.{f.name}: a probability between 0 and 1")
        _check(sum(self.as_dict().values()) <= 1.0 + 1e-9, "rep_mix: probabilities sum above 1")

    def as_dict(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def typical(cls) -> RepMix:
        """A few faults of every kind, as seen in an ordinary session."""
        return cls(
            above_hip_line=0.07,
            thrown=0.07,
            bounced=0.04,
            swing_through=0.05,
            partial=0.04,
            drop=0.04,
        )

    def probabilities(self, setup: Setup) -> dict[RepKind, float]:
        """Probability of every rep kind on ``setup`` (sums to 1)."""
        p: dict[RepKind, float] = {
            "above_hip_line": self.above_hip_line,
            "thrown": self.thrown,
            "bounced": self.bounced,
            "swing_through": self.swing_through,
            "partial": self.partial,
            "drop": self.drop,
        }
        if setup != "machine":
            p["thrown"] += p["swing_through"]
            p["swing_through"] = 0.0
        if setup in LEG_RAISE_SETUPS:
            p["above_hip_line"] = 0.0
        p["controlled"] = max(0.0, 1.0 - sum(p.values()))
        return p


#: set-ups where the foot comes down onto something at the bottom (the floor, a mat)
FOOT_REST_SETUPS: tuple[Setup, ...] = ("bench", "floor", "supine", "side")
#: set-ups where climbing on or off swings the exercising leg out of the bottom
EDGE_SWING_SETUPS: tuple[Setup, ...] = ("bench", "machine", "seated")
#: … and where such a swing may pass below the set's bottom (under the machine's pad, the chair)
UNDER_SWING_SETUPS: tuple[Setup, ...] = ("machine", "seated")
#: set-ups where the knee may bend during the lift (seated: the knee is the pivot; side-lying:
#: the knee would bend out of the plane of the movement — neither is simulated)
KNEE_BEND_SETUPS: tuple[Setup, ...] = ("bench", "machine", "floor", "supine")


@dataclass(frozen=True, kw_only=True)
class Behaviours:
    """What people do around and within their reps that is not a rep, or not a rigid leg.

    Each behaviour has a probability per opportunity (0, the default, turns it off) and magnitude
    ranges drawn uniformly; it happens only on the set-ups where it can (``*_SETUPS`` above).
    Every movement that is not a rep is listed in the truth's ``non_reps``.
    """

    #: per set edge next to getting on or off (bench, machine, seated): a swing of the exercising
    #: leg out of the bottom and back, no hold, 2–4.5 s before the first rep or after the last
    edge_swing: float = 0.0
    #: the swing's peak below the set's median top, ° (at most 75 % of the set's range)
    edge_swing_below_top_deg: tuple[float, float] = (20.0, 45.0)
    #: share of swings that pass below the set's bottom on the way back (machine, seated)
    edge_swing_under: float = 0.35
    #: per rep: the leg bounces or settles back up right after reaching the bottom
    rebound: float = 0.0
    #: the rebound's height, ° (at most ``rebound_max_rom`` of the rep's range)
    rebound_deg: tuple[float, float] = (2.0, 8.0)
    rebound_max_rom: float = 0.25  #: largest rebound as a fraction of the rep's range
    #: per rep where the foot comes down on something: it lands, and the floor stops it sharply
    foot_contact: float = 0.0
    #: the lowering aims this fraction of its span below the floor (larger: faster contact)
    foot_contact_depth: tuple[float, float] = (0.1, 0.35)
    foot_contact_stop_s: tuple[float, float] = (0.03, 0.07)  #: how fast the floor stops it, s
    #: per rep where the foot comes down on something: a quick twist about the shank and back
    twist: float = 0.0
    twist_deg: tuple[float, float] = (3.0, 15.0)  #: the twist's size, ° (either way)
    #: per rep: the knee bends during the lift; mostly straight again by the top, else it
    #: straightens in the hold or on the way down
    knee_bend: float = 0.0
    knee_bend_deg: tuple[float, float] = (5.0, 20.0)  #: the shank's rotation against the thigh, °
    #: per set of three or more reps: a pause at the bottom between two of its reps
    pause: float = 0.0
    pause_s: tuple[float, float] = (2.0, 8.0)  #: the pause's length, s (under the rest threshold)

    def __post_init__(self) -> None:
        _finite(self)
        for name in (
            "edge_swing",
            "edge_swing_under",
            "rebound",
            "foot_contact",
            "twist",
            "knee_bend",
            "pause",
        ):
            value = getattr(self, name)
            _check(0.0 <= value <= 1.0, f"behaviours.{name}: a probability between 0 and 1")
        limits = {
            "edge_swing_below_top_deg": (5.0, 80.0),
            "rebound_deg": (0.5, 15.0),
            "foot_contact_depth": (0.02, 0.6),
            "foot_contact_stop_s": (0.01, 0.2),
            "twist_deg": (0.5, 30.0),
            "knee_bend_deg": (1.0, 40.0),
            "pause_s": (0.5, 12.0),
        }
        for name, (lo, hi) in limits.items():
            value = getattr(self, name)
            _check(
                len(value) == 2 and lo <= value[0] <= value[1] <= hi,
                f"behaviours.{name}: (low, high) with {lo:g} ≤ low ≤ high ≤ {hi:g}",
            )
        _check(0.0 < self.rebound_max_rom <= 0.5, "behaviours.rebound_max_rom: above 0, ≤ 0.5")

    @classmethod
    def none(cls) -> Behaviours:
        """Every behaviour off: a rigid leg, reps only (the default)."""
        return cls()

    @classmethod
    def typical(cls) -> Behaviours:
        """Rates of an ordinary session: a swing at about half the set edges, a few rebounds,
        twists and bent knees, most lowerings landing on the floor, the odd mid-set pause."""
        return cls(
            edge_swing=0.5, rebound=0.15, foot_contact=0.4, twist=0.15, knee_bend=0.15, pause=0.2
        )


@dataclass(frozen=True, kw_only=True)
class SensorSpec:
    """The sensor's imperfections. The defaults describe an ideal sensor (everything off)."""

    acc_noise_g: float = 0.0  #: white noise on each accelerometer axis, standard deviation, g
    gyro_noise_dps: float = 0.0  #: white noise on each gyro axis, standard deviation, °/s
    acc_bias_g: Vec3 = _ZERO3  #: constant accelerometer offset per axis, g
    gyro_bias_dps: Vec3 = _ZERO3  #: constant gyro offset per axis, °/s
    gyro_bias_drift_dps: float = 0.0  #: amplitude of a slow (minutes) drift of each gyro bias, °/s
    acc_scale_error: Vec3 = _ZERO3  #: accelerometer gain error per axis, fraction (0.02 = +2 %)
    gyro_scale_error: Vec3 = _ZERO3  #: gyro gain error per axis, fraction
    cross_axis: float = 0.0  #: largest cross-axis coupling term (drawn per pair), fraction
    acc_range_g: float = 0.0  #: full scale ±, g; readings clip there (0 = no clipping)
    gyro_range_dps: float = 0.0  #: full scale ±, °/s (0 = no clipping)
    adc_bits: int = 0  #: quantise to this many bits over ± full scale (16 = int16; 0 = off)
    jitter_s: float = 0.0  #: timestamp error, standard deviation, s (clipped to ±0.24 period)
    drop_runs_per_min: float = 0.0  #: runs of lost packets per minute (0 = none)
    drop_mean_packets: float = 2.0  #: mean length of a run of lost packets, packets
    packet_samples: int = 1  #: samples carried by one BLE packet (lost together)

    def __post_init__(self) -> None:
        _finite(self)
        for name in ("acc_bias_g", "gyro_bias_dps", "acc_scale_error", "gyro_scale_error"):
            _check(len(getattr(self, name)) == 3, f"sensor.{name}: three values (x, y, z)")
        for name in (
            "acc_noise_g",
            "gyro_noise_dps",
            "gyro_bias_drift_dps",
            "cross_axis",
            "acc_range_g",
            "gyro_range_dps",
            "jitter_s",
            "drop_runs_per_min",
        ):
            _check(getattr(self, name) >= 0, f"sensor.{name}: must not be negative")
        _check(self.adc_bits == 0 or 8 <= self.adc_bits <= 32, "sensor.adc_bits: 0 or 8–32")
        _check(
            self.adc_bits == 0 or (self.acc_range_g > 0 and self.gyro_range_dps > 0),
            "sensor.adc_bits needs acc_range_g and gyro_range_dps",
        )
        _check(self.drop_mean_packets >= 1, "sensor.drop_mean_packets: at least 1")
        _check(1 <= self.packet_samples <= 50, "sensor.packet_samples: 1–50")
        _check(self.cross_axis < 0.2, "sensor.cross_axis: below 0.2")

    @classmethod
    def ideal(cls) -> SensorSpec:
        return cls()


@dataclass(frozen=True, kw_only=True)
class SessionSpec:
    """One simulated session: set-up, sets and reps, the person, the strap, the sensor.

    Angles follow the project's definitions: θ is the elevation of the hip→ankle line above the
    hip line (0 in line, −90° hanging). The sensor's +x points along the shank toward the foot
    (up to ``misalignment_deg`` off); ``strap_rotation_deg`` turns y and z about it (0 = z points
    out of the lateral side of the ankle).
    """

    setup: Setup  #: ``bench``, ``machine``, ``floor`` or ``seated``, ``supine``, ``side``
    rate_hz: float  #: nominal sample rate, Hz (never defaulted)
    reps_per_set: tuple[int, ...] = (10, 10, 10)  #: reps in each set; its length is the set count
    leg: Leg = "left"  #: which ankle wears the sensor
    strap_rotation_deg: float = 0.0  #: rotation of the strap about the shank, °
    misalignment_deg: float = 0.0  #: tilt of the sensor's x axis off the shank, ° (≤ 10)
    #: a further rotation of the sensor's axes (a rotation vector, °) after the strap and the
    #: misalignment: any orientation on the shank, e.g. a phone pushed into a sleeve any way
    #: round. The sensor stays where it was on the skin (its centre ``sensor_offset_m`` out along
    #: the strap's skin normal); only its axes turn. ``None`` = the documented mounting.
    sensor_rotation_deg: Vec3 | None = None
    radius_m: float = 0.9  #: hip joint (seated: knee) to sensor along the leg, m
    sensor_offset_m: float = 0.04  #: sensor centre off the leg's axis (on the skin), m
    hip_line_offset_deg: float = (
        0.0  #: elevation of the hip line above horizontal (tilted torso), °
    )
    bottom_angle_deg: float | None = None  #: θ at the bottom; ``None`` = drawn for the set-up
    rep_mix: RepMix = field(default_factory=RepMix)  #: probability of each faulty rep kind
    tempo_scale: float = 1.0  #: multiplies the durations of every rep phase
    rest_range_s: tuple[float, float] = (45.0, 180.0)  #: rest between sets is drawn in here, s
    activities: tuple[Activity, ...] = ACTIVITIES  #: what the person may do between sets
    lead_in_s: float = 15.0  #: about this long before the first set (standing, walking), s
    lead_out_s: float = 10.0  #: about this long after the last set, s
    min_duration_s: float = 0.0  #: pad the end with more activities up to this length, s (0 = off)
    wobble_deg: float = 1.0  #: off-axis leg wobble during sets, ° (0 = pure hip rotation)
    sway_deg: float = 0.25  #: slow sub-degree sway of θ superimposed on the reps, ° (0 = off)
    #: swings while getting on and off, rebounds, foot contacts, twists, bent knees, mid-set
    #: pauses (default: none)
    behaviours: Behaviours = field(default_factory=Behaviours)
    sensor: SensorSpec = field(default_factory=SensorSpec)  #: the sensor's imperfections

    def __post_init__(self) -> None:
        _finite(self)
        _check(self.setup in SETUPS, f"setup {self.setup!r}: choose one of {', '.join(SETUPS)}")
        _check(self.leg in LEGS, f"leg {self.leg!r}: choose left or right")
        _check(
            isinstance(self.rate_hz, int | float) and 10.0 <= self.rate_hz <= 1000.0,
            f"rate_hz {self.rate_hz}: expected 10–1000 Hz",
        )
        _check(1 <= len(self.reps_per_set) <= 20, "reps_per_set: 1–20 sets")
        _check(
            all(isinstance(n, int) and 1 <= n <= 60 for n in self.reps_per_set),
            "reps_per_set: 1–60 reps in each set",
        )
        _check(0.0 <= self.misalignment_deg <= 10.0, "misalignment_deg: 0–10°")
        r_lo, r_hi = _RADIUS_LIMITS_M.get(self.setup, (0.5, 1.3))
        _check(
            r_lo <= self.radius_m <= r_hi,
            f"radius_m {self.radius_m} on the {self.setup}: expected {r_lo:g}–{r_hi:g} m",
        )
        _check(
            self.sensor_rotation_deg is None or len(self.sensor_rotation_deg) == 3,
            "sensor_rotation_deg: a rotation vector of three values, °",
        )
        _check(0.0 <= self.sensor_offset_m <= 0.1, "sensor_offset_m: 0–0.1 m")
        _check(-30.0 <= self.hip_line_offset_deg <= 30.0, "hip_line_offset_deg: −30–30°")
        if self.bottom_angle_deg is not None:
            lo, hi = _BOTTOM_LIMITS_DEG[self.setup]
            _check(
                lo <= self.bottom_angle_deg <= hi,
                f"bottom_angle_deg on the {self.setup}: {lo:g} to {hi:g}°",
            )
        _check(0.5 <= self.tempo_scale <= 2.5, "tempo_scale: 0.5–2.5")
        lo_s, hi_s = self.rest_range_s
        _check(15.0 <= lo_s <= hi_s <= 1800.0, "rest_range_s: 15 ≤ low ≤ high ≤ 1800 s")
        _check(
            all(a in ACTIVITIES for a in self.activities) and len(self.activities) > 0,
            f"activities: one or more of {', '.join(ACTIVITIES)}",
        )
        _check(
            0.0 <= self.lead_in_s <= 600.0 and 0.0 <= self.lead_out_s <= 600.0,
            "lead_in_s / lead_out_s: 0–600 s",
        )
        _check(0.0 <= self.min_duration_s <= 6.0 * 3600.0, "min_duration_s: 0–6 h")
        _check(0.0 <= self.wobble_deg <= 5.0, "wobble_deg: 0–5°")
        _check(0.0 <= self.sway_deg <= 2.0, "sway_deg: 0–2°")

    @property
    def exercise(self) -> str:
        return EXERCISE_BY_SETUP[self.setup]

    @property
    def tolerance_deg(self) -> float | None:
        """Above this peak θ a rep is ``above_hip_line``; ``None`` where the flag does not apply."""
        return ABOVE_HIP_TOLERANCE_DEG.get(self.exercise)

    @property
    def sets(self) -> int:
        return len(self.reps_per_set)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


#: allowed and typical θ at the bottom of a rep, per set-up, °
_BOTTOM_LIMITS_DEG: dict[str, tuple[float, float]] = {
    "bench": (-60.0, -20.0),
    "machine": (-100.0, -70.0),
    "floor": (-12.0, 2.0),
    "seated": (-110.0, -60.0),
    "supine": (-10.0, 10.0),
    "side": (-10.0, 10.0),
}
BOTTOM_TYPICAL_DEG: dict[str, tuple[float, float]] = {
    "bench": (-50.0, -30.0),
    "machine": (-94.0, -84.0),
    "floor": (-8.0, 0.0),
    "seated": (-95.0, -82.0),
    "supine": (-3.0, 2.0),
    "side": (-4.0, 3.0),
}
#: allowed pivot-to-sensor distance where it differs from the straight leg's 0.5–1.3 m
_RADIUS_LIMITS_M: dict[str, tuple[float, float]] = {"seated": (0.3, 0.5)}

#: typical pivot-to-sensor distance where it differs from the straight leg's 0.8–0.95 m
_RADIUS_TYPICAL_M: dict[str, tuple[float, float]] = {"seated": (0.35, 0.45)}

_RATES_HZ = (25.0, 50.0, 52.0, 100.0, 100.0, 104.0, 119.0, 200.0, 208.0, 400.0)


def random_spec(
    rng: np.random.Generator,
    *,
    setup: Setup | None = None,
    setups: Sequence[Setup] | None = None,
    faults: bool = True,
    realistic_sensor: bool = True,
    behaviours: bool = True,
) -> SessionSpec:
    """Draw a varied, realistic session: 2–4 sets of 6–15 reps at 25–400 Hz, any strap rotation.

    The set-up is ``setup`` if given, else drawn uniformly from ``setups``, else (the default)
    from the prone set-ups as bench 60 %, machine 25 %, floor 15 % — so the default draws of a
    seed never change; ``setups=SETUPS`` mixes in the leg-raise set-ups (seated, supine, side).
    ``faults=False`` keeps every rep controlled; ``realistic_sensor=False`` gives an ideal sensor;
    ``behaviours=False`` turns every :class:`Behaviours` off (otherwise their rates are drawn,
    after everything else, so the rest of the spec is the same either way).
    """
    if setup is None and setups is not None:
        choices = tuple(setups)
        _check(
            len(choices) > 0 and all(c in SETUPS for c in choices),
            f"setups: one or more of {', '.join(SETUPS)}",
        )
        setup = choices[int(rng.integers(len(choices)))]
    elif setup is None:
        setup = PRONE_SETUPS[int(rng.choice(3, p=[0.6, 0.25, 0.15]))]
    _check(setup in SETUPS, f"setup {setup!r}: choose one of {', '.join(SETUPS)}")
    n_sets = int(rng.integers(2, 5))
    base = int(rng.integers(6, 16))
    reps = tuple(int(np.clip(base + rng.integers(-2, 3), 6, 15)) for _ in range(n_sets))
    lo, hi = BOTTOM_TYPICAL_DEG[setup]
    tilted = setup in ("bench", "machine") and rng.random() < 0.15
    if faults:
        mix = RepMix(
            above_hip_line=float(rng.uniform(0.02, 0.12)),
            thrown=float(rng.uniform(0.02, 0.12)),
            bounced=float(rng.uniform(0.0, 0.06)),
            swing_through=float(rng.uniform(0.03, 0.1)) if setup == "machine" else 0.0,
            partial=float(rng.uniform(0.0, 0.06)),
            drop=float(rng.uniform(0.0, 0.06)),
        )
    else:
        mix = RepMix()
    rate = float(rng.choice(_RATES_HZ))
    activities: tuple[Activity, ...] = tuple(
        a for a in ACTIVITIES if a in ("walk", "sit", "stand") or rng.random() < 0.5
    )
    return SessionSpec(
        setup=setup,
        rate_hz=rate,
        reps_per_set=reps,
        leg="left" if rng.random() < 0.5 else "right",
        strap_rotation_deg=float(rng.uniform(0.0, 360.0)),
        misalignment_deg=float(rng.uniform(0.0, 5.0)),
        radius_m=float(rng.uniform(*_RADIUS_TYPICAL_M.get(setup, (0.8, 0.95)))),
        sensor_offset_m=float(rng.uniform(0.03, 0.05)),
        hip_line_offset_deg=float(rng.uniform(5.0, 18.0)) if tilted else 0.0,
        bottom_angle_deg=float(rng.uniform(lo, hi)),
        rep_mix=mix,
        tempo_scale=float(rng.uniform(0.8, 1.25)),
        rest_range_s=(45.0, 180.0),
        activities=activities,
        lead_in_s=float(rng.uniform(8.0, 30.0)),
        lead_out_s=float(rng.uniform(5.0, 20.0)),
        wobble_deg=float(rng.uniform(0.5, 1.5)),
        sway_deg=float(rng.uniform(0.1, 0.4)),
        sensor=_random_sensor(rng, rate) if realistic_sensor else SensorSpec(),
        behaviours=_random_behaviours(rng) if behaviours else Behaviours(),
    )


def _random_behaviours(rng: np.random.Generator) -> Behaviours:
    """Rates such that most sessions show a few of each behaviour (magnitudes: the defaults)."""
    return Behaviours(
        edge_swing=float(rng.uniform(0.3, 0.7)),
        rebound=float(rng.uniform(0.03, 0.25)),
        foot_contact=float(rng.uniform(0.2, 0.7)),
        twist=float(rng.uniform(0.05, 0.3)),
        knee_bend=float(rng.uniform(0.0, 0.3)),
        pause=float(rng.uniform(0.0, 0.35)),
    )


def _random_sensor(rng: np.random.Generator, rate_hz: float) -> SensorSpec:
    def vec(scale: float) -> Vec3:
        a, b, c = rng.uniform(-scale, scale, size=3)
        return (float(a), float(b), float(c))

    return SensorSpec(
        acc_noise_g=float(rng.uniform(0.002, 0.01)),
        gyro_noise_dps=float(rng.uniform(0.05, 0.4)),
        acc_bias_g=vec(0.03),
        gyro_bias_dps=vec(4.0),
        gyro_bias_drift_dps=float(rng.uniform(0.0, 0.4)),
        acc_scale_error=vec(0.03),
        gyro_scale_error=vec(0.04),
        cross_axis=float(rng.uniform(0.0, 0.015)),
        acc_range_g=float(rng.choice([8.0, 16.0])),
        gyro_range_dps=float(rng.choice([1000.0, 2000.0])),
        adc_bits=16,
        jitter_s=float(rng.uniform(0.0, 0.15)) / rate_hz,
        drop_runs_per_min=float(rng.uniform(0.0, 3.0)),
        drop_mean_packets=float(rng.uniform(1.0, 4.0)),
        packet_samples=int(rng.choice([1, 1, 2, 3, 6])),
    )


def uniform_rotation_deg(rng: np.random.Generator) -> Vec3:
    """A rotation drawn uniformly from all orientations (Haar measure), as a rotation vector in
    degrees — for :attr:`SessionSpec.sensor_rotation_deg`."""
    from scipy.spatial.transform import Rotation

    v = Rotation.random(rng=rng).as_rotvec(degrees=True)
    return (float(v[0]), float(v[1]), float(v[2]))
