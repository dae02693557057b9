"""Stage 0′ — a physics-based simulator of ankle-IMU sessions with ground truth.

The straight leg pivots at the hip (seated knee extension: the shank at the knee) with the sensor
``radius_m`` out; its angle θ follows reps of known kinds (controlled, above the hip line, thrown,
bounced, swung through, partial, dropped) and the :class:`Behaviours` people show that are not
reps (swings getting on and off, rebounds, foot contacts, twists, bent knees, mid-set pauses);
between sets the person walks, sits, stands or rests on the set-up. The sensor's orientation and
position are evaluated on a fine grid and differentiated into the body-frame angular rate and
specific force, sampled at the sensor's rate and spoiled with realistic errors. See
:func:`simulate_session`, :func:`random_spec` and ``imu simulate``.
"""

from __future__ import annotations

from imu.simulate.session import (
    TRUTH_SCHEMA,
    SimulatedSession,
    simulate_session,
    truth_path_for,
    truth_reps_frame,
    write_simulated,
)
from imu.simulate.spec import (
    ABOVE_HIP_TOLERANCE_DEG,
    ACTIVITIES,
    EXERCISE_BY_SETUP,
    LEG_RAISE_SETUPS,
    LEGS,
    PRONE_SETUPS,
    REP_KINDS,
    SETUPS,
    Activity,
    Behaviours,
    Leg,
    RepKind,
    RepMix,
    SensorSpec,
    SessionSpec,
    Setup,
    random_spec,
)

__all__ = [
    "ABOVE_HIP_TOLERANCE_DEG",
    "ACTIVITIES",
    "EXERCISE_BY_SETUP",
    "LEGS",
    "LEG_RAISE_SETUPS",
    "PRONE_SETUPS",
    "REP_KINDS",
    "SETUPS",
    "TRUTH_SCHEMA",
    "Activity",
    "Behaviours",
    "Leg",
    "RepKind",
    "RepMix",
    "SensorSpec",
    "SessionSpec",
    "Setup",
    "SimulatedSession",
    "random_spec",
    "simulate_session",
    "truth_path_for",
    "truth_reps_frame",
    "write_simulated",
]
