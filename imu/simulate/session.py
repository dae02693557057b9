"""Assemble a whole session and turn the motion into sensor readings.

1. Plan the timeline: a lead-in (standing, maybe walking), getting on the set-up (sometimes with a
   swing of the leg before the first rep), the sets, the rests between them (on the set-up, or
   off it walking, sitting, standing), a lead-out.
2. For each segment, evaluate the sensor's world orientation R(t) and position p(t) on a fine
   grid (≥ 1 kHz), then by central differences the body-frame angular rate ω = log(Rₖ₋₁ᵀRₖ₊₁)/2h
   and specific force f = Rᵀ(p̈ − g). Each sample is the mean over one sample period centred on
   its instant (a box anti-alias filter), taken on the sensor's true clock.
3. Apply the sensor's errors, jitter the timestamps, drop packets.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from imu.recording import GRAVITY_MPS2, Recording, write_recording
from imu.simulate.motion import (
    SHANK_M,
    Geometry,
    KeyframeSegment,
    Segment,
    SetSegment,
    StillSegment,
    WalkSegment,
)
from imu.simulate.reps import (
    BehaviourStreams,
    SetMotion,
    build_edge_swing,
    build_fidget,
    build_set,
    typical_bottom_deg,
)
from imu.simulate.rotations import body_rate_rad_s, frame_from, rot_x, rotvec_to_matrix
from imu.simulate.sensor import apply_sensor_errors, drop_packets, jitter_timestamps
from imu.simulate.spec import Activity, SessionSpec

FloatArray = npt.NDArray[np.float64]
TRUTH_SCHEMA = "imu-truth/1"
SENSOR_NAME = "imu-simulator"
_D = math.pi / 180.0
_UP = np.array([0.0, 0.0, 1.0])
_MOMENTUM_KINDS = ("thrown", "bounced", "swing_through")

__all__ = [
    "TRUTH_SCHEMA",
    "SimulatedSession",
    "simulate_session",
    "truth_path_for",
    "write_simulated",
]


@dataclass(frozen=True)
class SimulatedSession:
    """A simulated recording with its ground truth."""

    spec: SessionSpec
    seed: int
    recording: Recording  #: what the sensor delivered (contract units, sensor axes)
    truth: dict[str, Any]  #: the ``imu-truth/1`` document (sets, reps, activities, gaps …)
    theta_deg: FloatArray  #: true θ at each recorded sample, °
    true_time_s: FloatArray  #: the instant each recorded sample was taken (before jitter), s

    def reps_frame(self) -> pd.DataFrame:
        """The true reps as a DataFrame (one row per rep, ``set_index`` and ``index`` columns)."""
        return truth_reps_frame(self.truth)


def truth_reps_frame(truth: dict[str, Any]) -> pd.DataFrame:
    rows = [
        {
            "set_index": s["index"],
            **{k: v for k, v in r.items() if k != "flags"},
            "flags": ",".join(r["flags"]),
        }
        for s in truth["sets"]
        for r in s["reps"]
    ]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# the timeline


@dataclass
class _PlannedSet:
    segment: SetSegment
    motion: SetMotion


class _Timeline:
    def __init__(
        self,
        spec: SessionSpec,
        rng: np.random.Generator,
        streams: BehaviourStreams,
        geometry: Geometry,
        gravity_k: float,
        bottom_deg: float,
    ) -> None:
        self.spec = spec
        self.rng = rng
        self.streams = streams
        self.geometry = geometry
        self.k = gravity_k
        self.bottom_deg = bottom_deg
        self.segments: list[Segment] = []
        self.sets: list[_PlannedSet] = []
        #: swings at set edges: (the set's index, 1-based; the segment that carries the swing)
        self.swings: list[tuple[int, SetSegment]] = []
        self.t = 0.0

    # ---- activities off the set-up (each starts and ends standing at the spot)
    def still(self, kind: str, duration_s: float) -> None:
        seg = StillSegment.create(
            self.rng, self.geometry, kind=kind, t0_s=self.t, duration_s=duration_s
        )
        self._push(seg)

    def walk(self, duration_s: float) -> None:
        seg = WalkSegment.create(self.rng, self.geometry, t0_s=self.t, duration_s=duration_s)
        self._push(seg)

    def activity(self, kind: Activity, duration_s: float) -> None:
        if kind == "walk" and duration_s >= 8.0:
            self.walk(duration_s)
        elif kind == "sit" and duration_s >= 8.0:
            self.still("sit", duration_s)
        else:
            self.still("stand", duration_s)

    def _push(self, seg: Segment) -> None:
        self.segments.append(seg)
        self.t = seg.t1_s

    # ---- getting on and off
    def _mount_keys(self) -> tuple[list[float], list[FloatArray], list[FloatArray], float]:
        """Key poses from standing at the spot to (excluding) the pose on the set-up."""
        g, rng = self.geometry, self.rng
        r_stand, p_stand = g.standing()
        e1, e2 = g.e1, g.e2
        if g.setup in ("seated", "supine", "side"):
            return self._sit_down_keys()
        if g.setup == "bench" and rng.random() < 0.5:  # one knee onto the bench first
            x = math.cos(-5 * _D) * e1 + math.sin(-5 * _D) * _UP
            knee = g.hip_m - 0.05 * e1 - 0.17 * _UP
            r1, p1 = frame_from(x[None], e2)[0], knee + SHANK_M * x
        elif g.setup == "floor":  # kneel on the floor first
            x = math.cos(-3 * _D) * e1 + math.sin(-3 * _D) * _UP
            p1 = g.spot_m - 0.55 * e1 + np.array([0.0, 0.0, -0.03])
            r1 = frame_from(x[None], e2)[0]
        else:  # lift the foot a little: behind on a bench, onto a step on a machine
            pitch = (-rng.uniform(15, 30) if g.setup == "bench" else rng.uniform(20, 30)) * _D
            x = -math.cos(pitch) * _UP - math.sin(pitch) * e1
            knee = g.spot_m + SHANK_M * _UP + (0.25 * _UP if g.setup == "machine" else 0.0)
            r1, p1 = frame_from(x[None], e2)[0], knee + SHANK_M * x
        t1 = float(rng.uniform(1.0, 1.8))
        t2 = t1 + float(rng.uniform(0.4, 1.2))
        t3 = t2 + float(rng.uniform(1.2, 2.2))
        return [0.0, t1, t2], [r_stand, r1, r1], [p_stand, p1, p1], t3

    def _sit_down_keys(self) -> tuple[list[float], list[FloatArray], list[FloatArray], float]:
        """Seated: sit down with the foot tucked back a little. Supine and side: sit on the floor
        with the knee up, then lie back (or down on the side) with the leg out."""
        g, rng = self.geometry, self.rng
        r_stand, p_stand = g.standing()
        e1 = g.e1
        if g.setup == "seated":
            pitch = -float(rng.uniform(10.0, 25.0)) * _D  # foot back under the chair
            x = -math.cos(pitch) * _UP + math.sin(pitch) * e1
            knee = g.hip_m + 0.03 * _UP
        else:
            x = math.cos(-40 * _D) * e1 + math.sin(-40 * _D) * _UP
            knee = g.hip_m + 0.45 * e1 + 0.3 * _UP
        r1, p1 = frame_from(x[None], -g.e2)[0], knee + SHANK_M * x
        t1 = float(rng.uniform(1.2, 2.0))
        t2 = t1 + float(rng.uniform(0.4, 1.2))
        t3 = t2 + float(rng.uniform(1.2, 2.2))
        return [0.0, t1, t2], [r_stand, r1, r1], [p_stand, p1, p1], t3

    def _set_motion(self, start_s: float, n_reps: int) -> SetMotion:
        """A set's rep motion from ``start_s``."""
        return build_set(
            self.rng,
            setup=self.spec.setup,
            start_s=start_s,
            n_reps=n_reps,
            kind_probabilities=self.spec.rep_mix.probabilities(self.spec.setup),
            bottom_deg=self.bottom_deg,
            tempo_scale=self.spec.tempo_scale,
            gravity_k=self.k,
            behaviours=self.spec.behaviours,
            streams=self.streams,
        )

    def _segment(
        self, motion: SetMotion, kind: str, rng: np.random.Generator | None = None
    ) -> SetSegment:
        """The segment that carries ``motion`` (its sway and wobble drawn from ``rng``)."""
        return SetSegment.create(
            self.rng if rng is None else rng,
            self.geometry,
            motion,
            kind=kind,
            sway_deg=self.spec.sway_deg,
            wobble_deg=self.spec.wobble_deg,
        )

    def _edge_swing(
        self, kind: str, *, start_s: float, next_to: SetMotion, bottom_rad: float
    ) -> SetSegment | None:
        """A swing of the leg while getting on or off next to a set, or ``None``. Each set edge
        takes one value of the swing stream, whatever happens there."""
        rng = np.random.default_rng(int(self.streams.swing.integers(2**63)))
        motion = build_edge_swing(
            rng,
            self.spec.behaviours,
            self.spec.setup,
            kind=kind,
            start_s=start_s,
            bottom_rad=bottom_rad,
            top_rad=next_to.typical_top_rad(),
            gravity_k=self.k,
        )
        return None if motion is None else self._segment(motion, kind, rng)

    def mount_then_set(self, n_reps: int, set_index: int) -> None:
        times, rots, poss, total = self._mount_keys()
        on_s = self.t + total
        motion = self._set_motion(on_s, n_reps)
        swing = self._edge_swing(
            "mount_swing", start_s=on_s, next_to=motion, bottom_rad=motion.bottom_rad
        )
        if swing is not None:  # the set starts once the leg has swung and settled
            motion = motion.shifted(swing.t1_s - on_s)
        seg = self._segment(motion, f"set {set_index}")
        r_on, p_on = (seg if swing is None else swing).start()
        mount = KeyframeSegment(
            self.geometry,
            [self.t + v for v in (*times, total)],
            [*rots, r_on],
            [*poss, p_on],
            "mount",
        )
        self._push(mount)
        if swing is not None:
            self._push(swing)
            self.swings.append((set_index, swing))
        self._push(seg)
        self.sets.append(_PlannedSet(seg, motion))

    def next_set_on_setup(self, n_reps: int, set_index: int) -> None:
        motion = self._set_motion(self.t, n_reps)
        seg = self._segment(motion, f"set {set_index}")
        self._push(seg)
        self.sets.append(_PlannedSet(seg, motion))

    def dismount(self) -> float:
        """Get off the set-up (after a swing of the leg, maybe); returns the swing's length, s."""
        last = self.sets[-1]
        track = last.motion.track
        swing = self._edge_swing(
            "dismount_swing",
            start_s=self.t,
            next_to=last.motion,
            bottom_rad=float(track.value(np.array([track.t_end]))[0]),
        )
        swing_s = 0.0
        if swing is not None:
            self._push(swing)
            self.swings.append((len(self.sets), swing))
            swing_s = swing.t1_s - swing.t0_s
        times, rots, poss, total = self._mount_keys()
        r_on, p_on = self.segments[-1].end()
        back = [total - v for v in reversed(times)]
        seg = KeyframeSegment(
            self.geometry,
            [self.t + v for v in (0.0, *back)],
            [r_on, *reversed(rots)],
            [p_on, *reversed(poss)],
            "dismount",
        )
        self._push(seg)
        return swing_s

    def rest_on_setup(self, duration_s: float) -> None:
        last = self.sets[-1].motion
        end_theta = float(last.track.value(np.array([last.track.t_end]))[0]) / _D
        self.bottom_deg = end_theta
        motion = build_fidget(
            self.rng, start_s=self.t, duration_s=duration_s, bottom_deg=end_theta, k=self.k
        )
        self._push(self._segment(motion, "bench_rest"))

    def fill(self, duration_s: float, choices: list[Activity]) -> None:
        """Activities off the set-up for about ``duration_s``, ending standing at the spot."""
        remaining = duration_s
        while remaining > 0.5:
            if remaining < 20.0 or not choices:
                self.still("stand", max(remaining, 4.0))
                return
            kind = choices[int(self.rng.integers(len(choices)))]
            length = float(self.rng.uniform(10.0, min(remaining, 90.0)))
            if remaining - length < 10.0:
                length = remaining
            self.activity(kind, length)
            remaining -= length


def _plan(spec: SessionSpec, rng: np.random.Generator, streams: BehaviourStreams) -> _Timeline:
    side = 1.0 if spec.leg == "right" else -1.0
    heading = float(rng.uniform(0.0, 2 * math.pi))
    hip_height = {
        "bench": (0.6, 0.72),
        "machine": (1.0, 1.15),
        "floor": (0.1, 0.15),
        "seated": (0.45, 0.52),  # the knee, on the chair's edge
        "supine": (0.08, 0.12),
        "side": (0.15, 0.22),
    }[spec.setup]
    e2 = np.array([-math.sin(heading), math.cos(heading), 0.0])
    hip = np.array([0.0, 0.0, float(rng.uniform(*hip_height))]) + side * 0.09 * e2
    geometry = Geometry(
        spec.setup, heading, hip, spec.hip_line_offset_deg * _D, spec.radius_m, side
    )
    leg_length = spec.radius_m / float(rng.uniform(0.86, 0.92))
    k = 3.0 * GRAVITY_MPS2 / (2.0 * leg_length)
    if spec.setup == "machine":
        k *= float(rng.uniform(0.6, 1.0))  # the loaded pendulum arm swings more slowly
    bottom = spec.bottom_angle_deg
    if bottom is None:
        bottom = typical_bottom_deg(rng, spec.setup)
    tl = _Timeline(spec, rng, streams, geometry, k, bottom)
    off_setup: list[Activity] = [a for a in spec.activities if a != "bench_rest"]
    # lead-in
    lead = spec.lead_in_s
    first_still = min(lead, float(rng.uniform(3.0, 6.0))) if lead > 0 else 0.0
    if first_still > 0:
        tl.still("stand", max(first_still, 2.5))
    if lead - first_still > 12.0:
        tl.fill(lead - first_still, off_setup)
    # sets and rests
    for i, n_reps in enumerate(spec.reps_per_set):
        if i == 0:
            tl.mount_then_set(n_reps, i + 1)
            continue
        rest = float(rng.uniform(*spec.rest_range_s))
        stay = "bench_rest" in spec.activities and (not off_setup or rng.random() < 0.25)
        if stay:
            tl.rest_on_setup(rest)
            tl.next_set_on_setup(n_reps, i + 1)
        else:
            t_rest = tl.t
            swing_s = tl.dismount()  # a swing lengthens the rest: the time off the set-up stays
            tl.fill(max(8.0, rest - (tl.t - swing_s - t_rest) - 4.0), off_setup)
            tl.mount_then_set(n_reps, i + 1)
    # lead-out and padding
    tl.dismount()
    tl.still("stand", float(rng.uniform(3.0, 6.0)))
    if spec.lead_out_s > 12.0:
        tl.fill(spec.lead_out_s - 6.0, off_setup)
    while tl.t < spec.min_duration_s - 5.0:
        chunk = min(float(rng.uniform(30.0, 180.0)), spec.min_duration_s - tl.t)
        tl.fill(max(chunk, 5.0), off_setup)
    return tl


# --------------------------------------------------------------------------------------------
# motion → true sensor signals


def _mount_matrix(spec: SessionSpec, rng: np.random.Generator) -> FloatArray:
    """Shank frame → sensor frame: side (z out of the ankle's lateral face), strap, misalignment
    (the documented mounting; :func:`_sensor_axes` adds any further rotation)."""
    if spec.leg == "right":  # lateral side is +y of the shank frame
        side = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
    else:
        side = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    strap = rot_x(np.array(spec.strap_rotation_deg * _D))
    direction = float(rng.uniform(0.0, 2 * math.pi))
    axis = np.array([0.0, math.cos(direction), math.sin(direction)])
    mis = rotvec_to_matrix((spec.misalignment_deg * _D * axis)[None])[0]
    return np.asarray(side @ strap @ mis, dtype=np.float64)


def _sensor_axes(spec: SessionSpec, mount: FloatArray) -> FloatArray:
    """The sensor's axes in the shank frame: the documented mounting turned by
    ``spec.sensor_rotation_deg`` (about the sensor's own axes)."""
    if spec.sensor_rotation_deg is None:
        return mount
    turn = rotvec_to_matrix((np.asarray(spec.sensor_rotation_deg, dtype=np.float64) * _D)[None])
    return np.asarray(mount @ turn[0], dtype=np.float64)


def _true_signals(
    segments: list[Segment],
    mount: FloatArray,
    *,
    axes: FloatArray | None = None,
    offset_m: float,
    rate_hz: float,
    time_s: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """True specific force (g), angular rate (°/s) and θ (°) at ``time_s``, segment by segment.

    The sensor sits ``offset_m`` out along the mounting's skin normal (``mount``'s z) and
    measures in ``axes`` (default: the mounting's own)."""
    sensor_axes = mount if axes is None else axes
    n = time_s.shape[0]
    acc = np.zeros((n, 3))
    gyro = np.zeros((n, 3))
    theta = np.zeros(n)
    period = 1.0 / rate_hz
    gravity = np.array([0.0, 0.0, GRAVITY_MPS2])
    for seg in segments:
        # reps and getting on/off: ≥ 1 kHz; smooth everyday movement: ≥ 500 Hz
        slow = isinstance(seg, WalkSegment | StillSegment)
        h = 1.0 / max(500.0 if slow else 1000.0, 5.0 * rate_hz)
        i0, i1 = np.searchsorted(time_s, [seg.t0_s, seg.t1_s])
        if i1 <= i0:
            continue
        margin = 0.5 * period + 3 * h
        count = math.ceil((seg.t1_s - seg.t0_s + 2 * margin) / h) + 1
        grid: FloatArray = seg.t0_s - margin + h * np.arange(count, dtype=np.float64)
        pose = seg.evaluate(grid)
        frames = pose.rotation @ sensor_axes
        position = pose.position_m + offset_m * (pose.rotation @ mount)[:, :, 2]
        omega = body_rate_rad_s(frames, step_s=h)
        accel = (position[2:] - 2.0 * position[1:-1] + position[:-2]) / (h * h)
        force = np.matmul((accel + gravity)[:, None, :], frames[1:-1])[:, 0, :]
        mid: FloatArray = grid[1:-1]
        t = time_s[i0:i1]
        gyro[i0:i1] = _box_mean(mid, np.degrees(omega), t, period, h)
        acc[i0:i1] = _box_mean(mid, force / GRAVITY_MPS2, t, period, h)
        theta[i0:i1] = np.interp(t, grid, pose.theta_deg)
    return acc, gyro, theta


def _box_mean(
    grid: FloatArray, values: FloatArray, t: FloatArray, width: float, h: float
) -> FloatArray:
    """Mean of ``values`` (on the uniform ``grid``) over ``[t − width/2, t + width/2]``."""
    steps = 0.5 * (values[1:] + values[:-1]) * h
    cum = np.concatenate([np.zeros((1, values.shape[1])), np.cumsum(steps, axis=0)])
    out = np.empty((t.shape[0], values.shape[1]))
    for j in range(values.shape[1]):
        hi = np.interp(t + 0.5 * width, grid, cum[:, j])
        lo = np.interp(t - 0.5 * width, grid, cum[:, j])
        out[:, j] = (hi - lo) / width
    return out


# --------------------------------------------------------------------------------------------
# truth


def _rep_truth(seg: SetSegment, motion: SetMotion, spec: SessionSpec) -> list[dict[str, Any]]:
    reps: list[dict[str, Any]] = []
    tol = spec.tolerance_deg
    for i, plan in enumerate(motion.reps):
        grid = np.arange(plan.start_s, plan.end_s + 5e-4, 1e-3)
        theta = np.degrees(seg.theta_rad(grid))
        velocity = np.gradient(theta, grid)
        lift = (grid >= plan.start_s) & (grid <= plan.top_start_s)
        lower = (grid >= plan.top_end_s) & (grid <= plan.end_s)
        peak = float(theta.max())
        flags = []
        if plan.kind in _MOMENTUM_KINDS:
            flags.append("momentum")
        if tol is not None and peak > tol:
            flags.append("above_hip_line")
        if plan.kind == "partial":
            flags.append("partial")
        if plan.drop:
            flags.append("drop")
        nxt = motion.reps[i + 1].start_s if i + 1 < len(motion.reps) else None
        reps.append(
            {
                "index": i + 1,
                "start_s": round(plan.start_s, 4),
                "top_start_s": round(plan.top_start_s, 4),
                "top_end_s": round(plan.top_end_s, 4),
                "end_s": round(plan.end_s, 4),
                "concentric_s": round(plan.top_start_s - plan.start_s, 4),
                "top_hold_s": round(plan.top_end_s - plan.top_start_s, 4),
                "eccentric_s": round(plan.end_s - plan.top_end_s, 4),
                "bottom_pause_s": None if nxt is None else round(nxt - plan.end_s, 4),
                "peak_angle_deg": round(peak, 3),
                "min_angle_deg": round(float(theta.min()), 3),
                "rom_deg": round(peak - float(theta.min()), 3),
                "peak_velocity_dps": round(float(velocity[lift].max()), 2),
                "lowering_peak_velocity_dps": round(float(-velocity[lower].min()), 2),
                "kind": plan.kind,
                "flags": flags,
                "foot_contact_speed_dps": (
                    None if plan.contact_speed_dps is None else round(plan.contact_speed_dps, 2)
                ),
                "knee_bend_deg": round(plan.knee_bend_deg, 3),
                "knee_at_top_deg": round(_knee_at_top(motion, plan), 3),
            }
        )
    return reps


def _knee_at_top(motion: Any, plan: Any) -> float:
    """The knee's bend during the rep's top hold (the largest), °: a shank sensor reads the
    shank's elevation, higher than the hip→ankle line's by about half of it."""
    grid = np.linspace(plan.top_start_s, max(plan.top_end_s, plan.top_start_s), 9)
    bent = [float(np.max(k.value(grid))) for k in motion.knee] or [0.0]
    return float(np.degrees(max(bent)))


def _non_rep_truth(seg: SetSegment, set_index: int) -> list[dict[str, Any]]:
    """The movements of a segment that are not reps (``non_reps`` entries)."""
    out = []
    for plan in seg.motion.non_reps:
        grid = np.arange(plan.start_s, plan.end_s + 5e-4, 1e-3)
        theta = np.degrees(seg.theta_rad(grid))
        entry: dict[str, Any] = {
            "kind": plan.kind,
            "set_index": set_index,
            "after_rep": None if plan.after_rep is None else plan.after_rep + 1,
            "start_s": round(plan.start_s, 4),
            "end_s": round(plan.end_s, 4),
            "peak_angle_deg": round(float(theta.max()), 3),
            "min_angle_deg": round(float(theta.min()), 3),
            "rise_deg": round(float(theta.max() - theta[0]), 3),
        }
        if plan.twist_deg is not None:
            entry["twist_deg"] = round(plan.twist_deg, 3)
        out.append(entry)
    return out


def _fmt_rate(rate_hz: float) -> str:
    return str(int(rate_hz)) if float(rate_hz).is_integer() else f"{rate_hz:g}"


def simulate_session(spec: SessionSpec, *, seed: int) -> SimulatedSession:
    """Simulate ``spec``; every random choice not fixed by the spec comes from ``seed``."""
    streams = np.random.SeedSequence(int(seed)).spawn(5)
    rng_motion, rng_mount, rng_sensor, rng_drop = (np.random.default_rng(s) for s in streams[:4])
    timeline = _plan(spec, rng_motion, BehaviourStreams.spawn(streams[4]))
    mount = _mount_matrix(spec, rng_mount)
    axes = _sensor_axes(spec, mount)
    rate = float(spec.rate_hz)
    n = math.floor(timeline.t * rate)
    true_time = np.arange(n) / rate
    acc, gyro, theta = _true_signals(
        timeline.segments,
        mount,
        axes=axes,
        offset_m=spec.sensor_offset_m,
        rate_hz=rate,
        time_s=true_time,
    )
    acc, gyro, draw = apply_sensor_errors(
        rng_sensor, acc_g=acc, gyro_dps=gyro, time_s=true_time, spec=spec.sensor
    )
    stamps = jitter_timestamps(rng_drop, true_time, jitter_s=spec.sensor.jitter_s, rate_hz=rate)
    keep, runs = drop_packets(rng_drop, n, spec=spec.sensor, rate_hz=rate)
    metadata = {
        "sample_rate_hz": _fmt_rate(rate),
        "sensor": SENSOR_NAME,
        "leg": spec.leg,
        "exercise": spec.exercise,
        "seed": str(int(seed)),
    }
    recording = Recording(stamps[keep], acc[keep], gyro[keep], metadata)
    sets = []
    non_reps = [entry for i, seg in timeline.swings for entry in _non_rep_truth(seg, i)]
    for i, planned in enumerate(timeline.sets):
        reps = _rep_truth(planned.segment, planned.motion, spec)
        sets.append(
            {
                "index": i + 1,
                "start_s": reps[0]["start_s"],
                "end_s": reps[-1]["end_s"],
                "rep_count": len(reps),
                "reps": reps,
                "pauses": [
                    {"after_rep": k + 1, "start_s": round(a, 4), "end_s": round(b, 4)}
                    for k, a, b in planned.motion.pauses
                ],
            }
        )
        non_reps += _non_rep_truth(planned.segment, i + 1)
    non_reps.sort(key=lambda e: (e["start_s"], e["kind"]))
    activities = [
        {"kind": seg.kind.split(" ")[0], "start_s": round(seg.t0_s, 4), "end_s": round(seg.t1_s, 4)}
        for seg in timeline.segments
    ]
    gaps = [
        {
            "start_s": round(float(stamps[r.first - 1]), 4),
            "end_s": round(float(stamps[r.first + r.count]), 4),
            "missing_samples": r.count,
        }
        for r in runs
    ]
    truth: dict[str, Any] = {
        "schema": TRUTH_SCHEMA,
        "setup": spec.setup,
        "exercise": spec.exercise,
        "sample_rate_hz": rate,
        "leg": spec.leg,
        "strap_rotation_deg": spec.strap_rotation_deg,
        "radius_m": spec.radius_m,
        "hip_line_offset_deg": spec.hip_line_offset_deg,
        "tolerance_deg": spec.tolerance_deg,
        "bottom_angle_deg": round(timeline.sets[0].motion.bottom_rad / _D, 3),
        "seed": int(seed),
        "duration_s": round(timeline.t, 4),
        "sets": sets,
        "non_reps": non_reps,
        "activities": activities,
        "gaps": gaps,
        "sensor": {
            "gyro_bias_dps": [round(float(v), 4) for v in draw.gyro_bias_dps],
            "acc_bias_g": [round(float(v), 5) for v in draw.acc_bias_g],
            "gyro_matrix": np.round(draw.gyro_matrix, 5).tolist(),
            "acc_matrix": np.round(draw.acc_matrix, 5).tolist(),
            "mount_matrix": np.round(axes, 6).tolist(),
        },
        "spec": spec.to_dict(),
    }
    return SimulatedSession(spec, int(seed), recording, truth, theta[keep], true_time[keep])


def truth_path_for(csv_path: str | os.PathLike[str]) -> Path:
    """``session.csv`` → ``session.truth.json`` (beside it)."""
    p = Path(csv_path)
    return p.with_name(p.stem + ".truth.json")


def write_simulated(
    session: SimulatedSession, csv_path: str | os.PathLike[str], *, decimals: int = 5
) -> tuple[Path, Path]:
    """Write the recording CSV and its ``<stem>.truth.json``; return both paths."""
    csv_file = write_recording(csv_path, session.recording, decimals=decimals)
    truth_file = truth_path_for(csv_file)
    with truth_file.open("w", encoding="utf-8") as fh:
        json.dump(session.truth, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
    return csv_file, truth_file
