"""The whole offline analysis bound to a recording and settings: :func:`analyze`.

recording → angle → segmentation → form → summary. Each stage is a plain function in its own
module; this one only wires them together and builds the typed result.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from imu.angle import (
    LegAngle,
    estimate_leg_angle,
    refine_shank,
    rotation_radius_m,
    static_theta,
)
from imu.errors import RecordingError
from imu.exercise import ExerciseChoice, SetShape, choose_sets
from imu.form import DEFAULT_LEG_LENGTH_M, LegLength, RepKinematics, rep_flags
from imu.quality import SensorQuality, check_quality
from imu.recording import Recording, read_recording
from imu.results import AngleTrace, IgnoredMovement, RepResult, SessionResult, SetResult
from imu.segmentation import (
    SetJudgement,
    find_movements,
    judge_sets,
    reangle,
    rest_probe,
    set_period_s,
)
from imu.settings import (
    AUTO,
    DETECTION,
    Settings,
    check_hip_line_reference,
    flags_off,
    load_settings,
)
from imu.summary import summary_for_set, tempo_errors

__all__ = ["analyze", "analyze_recording"]


def analyze(
    source: str | os.PathLike[str] | Recording,
    *,
    exercise: str | None = None,
    config_path: str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
    progress: Callable[[str], None] | None = None,
) -> SessionResult:
    """Analyse a recording (a path to a contract CSV, or a :class:`Recording`).

    Settings come from ``settings`` if given, else from the exercise profile and the optional
    TOML ``config_path``. ``progress`` is called with the name of each stage as it starts.
    Raises :class:`~imu.errors.ImuError` subclasses on bad input.
    """
    if settings is None:
        settings = load_settings(exercise=exercise, config_path=config_path)
    if progress is not None:
        progress("reading the recording")
    recording = source if isinstance(source, Recording) else read_recording(source)
    return analyze_recording(recording, settings, progress=progress)


def _leg_length(settings: Settings, angle: LegAngle) -> LegLength:
    if settings.leg_length_m is not None:
        length = settings.leg_length_m
        return LegLength(length, "option", f"leg length {length} m (given)")
    if angle.ankle_radius_m is not None:
        r = angle.ankle_radius_m
        return LegLength(
            r,
            "estimated",
            f"leg length {r:.2f} m measured from the centripetal acceleration of the reps; "
            "set --leg-length-m for exact foot heights",
        )
    return LegLength(
        DEFAULT_LEG_LENGTH_M,
        "default",
        f"leg length not measurable from this recording; assumed {DEFAULT_LEG_LENGTH_M} m "
        "(set --leg-length-m for exact foot heights)",
    )


def _judge(angle: LegAngle, movements: pd.DataFrame, settings: Settings) -> SetJudgement:
    probe = rest_probe(
        angle.time_s, angle.theta_deg, angle.rate_dps, still_dps=settings.moving_rate_dps
    )
    return judge_sets(
        movements,
        rest_threshold_s=settings.rest_threshold_s,
        min_set_reps=settings.min_set_reps,
        probe=probe,
    )


def _segment(
    recording: Recording, angle: LegAngle, settings: Settings
) -> tuple[pd.DataFrame, SetJudgement]:
    """Every movement, and the sets judged from them."""
    movements = find_movements(
        angle.time_s,
        angle.theta_deg,
        angle.rate_dps,
        sampling_rate_hz=recording.sample_rate_hz,
        min_rom_deg=settings.min_rom_deg,
        min_rate_dps=settings.moving_rate_dps,
        top_min_deg=settings.top_min_deg,
        smoothing_cutoff_hz=settings.smoothing_cutoff_hz,
        static_theta_deg=static_theta(
            recording.acc_g, angle.shank, hip_line_offset_deg=angle.hip_line_offset_deg
        ),
    )
    return movements, _judge(angle, movements, settings)


def _interval_mask(time_s: np.ndarray, reps: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """True inside any rep's ``[start_s, end_s)``."""
    edges = np.zeros(time_s.shape[0] + 1, dtype=np.int64)
    i0 = np.searchsorted(time_s, reps["start_s"].to_numpy())
    i1 = np.searchsorted(time_s, reps["end_s"].to_numpy())
    np.add.at(edges, i0, 1)
    np.add.at(edges, i1, -1)
    return np.cumsum(edges[:-1]) > 0


@dataclass(frozen=True)
class _Run:
    """One exercise profile's segmentation of the recording."""

    settings: Settings
    angle: LegAngle  #: refined on this profile's reps
    movements: pd.DataFrame
    judged: SetJudgement


def _segment_refined(recording: Recording, angle: LegAngle, settings: Settings) -> _Run:
    """Movements and sets with ``settings``; the strap is only roughly aligned, so the shank's
    direction is measured on the reps found and the movements are measured again with it (the
    reps rarely change; their angles do)."""
    movements, judged = _segment(recording, angle, settings)
    if judged.reps.empty:
        return _Run(settings, angle, movements, judged)
    fs = recording.sample_rate_hz
    refined = refine_shank(
        angle,
        recording.acc_g,
        _interval_mask(angle.time_s, judged.reps),
        sampling_rate_hz=fs,
        hip_line_segment_s=settings.hip_line_segment_s,
        sensor_offset_m=settings.sensor_offset_m,
    )
    if refined is None:
        return _Run(settings, angle, movements, judged)
    movements = reangle(
        movements,
        refined.time_s,
        refined.theta_deg,
        sampling_rate_hz=fs,
        smoothing_cutoff_hz=settings.smoothing_cutoff_hz,
    )
    return _Run(settings, refined, movements, _judge(refined, movements, settings))


def _set_choices(recording: Recording, run: _Run) -> dict[int, ExerciseChoice]:
    """The exercise each set of ``run`` looks like (:mod:`imu.exercise`)."""
    reps = run.judged.reps
    shapes = {}
    for k in sorted({int(x) for x in reps["set_id"].to_numpy()}):
        members = reps[reps["set_id"] == k]
        bottom = float(np.median(np.concatenate((members["start_angle_deg"],
                                                 members["end_angle_deg"]))))  # fmt: skip
        top = float(np.median(members["peak_angle_deg"]))
        radius = rotation_radius_m(
            run.angle,
            recording.acc_g,
            _interval_mask(run.angle.time_s, members),
            sampling_rate_hz=recording.sample_rate_hz,
            sensor_offset_m=run.settings.sensor_offset_m,
        )
        shapes[k] = SetShape(bottom, top, radius)
    return choose_sets(shapes)


def _detection_settings(settings: Settings) -> Settings:
    """The profile the choice is made with: the most permissive limits (unless given)."""
    loose = {k: v for k, v in DETECTION.items() if k not in settings.fixed}
    return dataclasses.replace(settings.with_exercise("leg-raise"), **loose, exercise=AUTO)


def _set_spans(reps: pd.DataFrame) -> dict[int, tuple[float, float]]:
    """Each set's first start and last end, by ``set_id``."""
    out = {}
    for k in sorted({int(x) for x in reps["set_id"].to_numpy()}):
        members = reps[reps["set_id"] == k]
        out[k] = (float(members["start_s"].min()), float(members["end_s"].max()))
    return out


def _overlaps(a0: float, a1: float, b0: float, b1: float) -> bool:
    return min(a1, b1) > max(a0, b0)


def _plan(
    recording: Recording, angle: LegAngle, settings: Settings
) -> tuple[list[tuple[_Run, list[int], dict[int, ExerciseChoice]]], list[str]]:
    """The profiles to judge the recording with: each run, the ids of its sets to keep, what
    each set looked like; and notes on the choice."""
    if settings.exercise != AUTO:
        run = _segment_refined(recording, angle, settings)
        choices = _set_choices(recording, run)
        notes = [
            f"set {k}: --exercise {settings.exercise}, but the data look like {c.exercise} "
            f"({c.reason})"
            for k, c in choices.items()
            if c.exercise != settings.exercise
        ]
        return [(run, sorted(choices), choices)], notes
    probe = _segment_refined(recording, angle, _detection_settings(settings))
    choices = _set_choices(recording, probe)
    if not choices:
        run = _segment_refined(recording, angle, settings.with_exercise("reverse-hyper"))
        return [(run, [], {})], ["exercise: no set to choose from; reverse-hyper assumed"]
    spans = _set_spans(probe.judged.reps)
    plan = []
    for name in dict.fromkeys(c.exercise for c in choices.values()):
        run = _segment_refined(recording, angle, settings.with_exercise(name))
        mine = [k for k, c in choices.items() if c.exercise == name]
        reps = run.judged.reps
        keep, chosen = [], {}
        for k, (a, b) in _set_spans(reps).items():
            match = [j for j in mine if _overlaps(a, b, *spans[j])]
            if match:
                keep.append(k)
                chosen[k] = choices[match[0]]
        plan.append((run, keep, chosen))
    notes = []
    for name in dict.fromkeys(c.exercise for c in choices.values()):
        ids = [k for k, c in choices.items() if c.exercise == name]
        sets = f"set {ids[0]}" if len(ids) == 1 else f"sets {', '.join(map(str, ids))}"
        notes.append(f"exercise chosen from the data: {name} for {sets} ({choices[ids[0]].reason})")
    return plan, notes


def analyze_recording(
    recording: Recording,
    settings: Settings,
    *,
    progress: Callable[[str], None] | None = None,
) -> SessionResult:
    """The pipeline on an in-memory recording."""
    if len(recording) < 2:
        raise RecordingError(
            recording.path, f"only {len(recording)} sample(s); at least two are needed"
        )
    fs = recording.sample_rate_hz
    settings.check_sampling_rate(fs)
    quality = check_quality(
        recording.time_s, recording.acc_g, recording.gyro_dps, metadata=recording.metadata
    )
    say = progress or (lambda _stage: None)
    say("estimating the leg angle")
    angle = estimate_leg_angle(
        recording.time_s,
        recording.acc_g,
        recording.gyro_dps,
        sampling_rate_hz=fs,
        shank_axis=settings.shank_axis,
        hip_line_offset_deg=settings.hip_line_offset_deg,
        hip_line_segment_s=settings.hip_line_segment_s,
        max_bridge_s=settings.max_bridge_s,
    )
    if settings.hip_line_segment_s is not None:
        check_hip_line_reference(angle.hip_line_offset_deg, settings.hip_line_segment_s)
    say("finding sets and reps")
    plan, choice_notes = _plan(recording, angle, settings)
    # the session's own profile and angle: the one judging the most sets
    main = max(plan, key=lambda p: len(p[1]))[0]
    leg = _leg_length(main.settings, main.angle)
    say("judging form")
    built: list[tuple[SetResult, ExerciseChoice | None]] = []
    for run, keep, chosen in plan:
        reps, ignored = run.judged.reps, run.judged.ignored
        for k in keep:
            s = _build_set(
                k,
                reps[reps["set_id"] == k],
                ignored[ignored["set_id"] == k],
                run.angle,
                run.settings,
                leg,
                fs,
                quality,
            )
            built.append((s, chosen.get(k)))
    built.sort(key=lambda sc: sc[0].start_s)
    sets = tuple(
        dataclasses.replace(s, index=i, choice=c) for i, (s, c) in enumerate(built, start=1)
    )
    gaps = recording.gaps()
    notes = [*main.angle.notes, leg.note, *quality.notes, *choice_notes]
    for run, keep, _chosen in plan:
        off = flags_off(run.settings)
        if off and keep:
            notes.append(f"exercise {run.settings.exercise}: not judged here: {', '.join(off)}")
    if gaps:
        lost = sum(g.missing_samples for g in gaps)
        longest = max(g.duration_s for g in gaps)
        notes.append(
            f"{len(gaps)} gap(s) in the data, {lost} samples missing, longest {longest:.2f} s"
        )
    return SessionResult(
        recording=recording.name,
        sample_rate_hz=fs,
        settings=main.settings,
        sets=sets,
        trace=AngleTrace(main.angle.time_s, main.angle.theta_deg, main.angle.rate_dps),
        leg_length_m=leg.length_m,
        leg_length_source=leg.source,
        hip_line_offset_deg=main.angle.hip_line_offset_deg,
        shank_axis=main.angle.shank_axis,
        gaps=tuple(gaps),
        notes=tuple(notes),
        extras={
            "movements": len(main.movements),
            "set_exercise": {s.index: s.exercise for s in sets},
            "exercise_auto": settings.exercise == AUTO,
        },
        metadata=dict(recording.metadata),
    )


def _build_set(
    set_id: int,
    members: pd.DataFrame,
    ignored: pd.DataFrame,
    angle: LegAngle,
    settings: Settings,
    leg: LegLength,
    sampling_rate_hz: float,
    quality: SensorQuality,
) -> SetResult:
    time_s, theta_deg, rate_dps = angle.time_s, angle.theta_deg, angle.rate_dps
    members = members.sort_values("start_s")
    starts = members["start_s"].to_numpy()
    ends = members["end_s"].to_numpy()
    pauses: list[float | None] = [float(s - e) for s, e in zip(starts[1:], ends[:-1], strict=True)]
    pauses.append(None)
    median_rom = float(np.median(members["peak_angle_deg"] - members["min_angle_deg"]))
    target = settings.tempo
    reps: list[RepResult] = []
    lo_pad = settings.bounce_window_s + 0.5
    col = {c: members[c].to_numpy(dtype=np.float64) for c in members.columns if c != "set_id"}
    for i in range(len(members)):
        row = {c: float(v[i]) for c, v in col.items()}
        i0, i1 = np.searchsorted(time_s, [row["start_s"] - lo_pad, row["end_s"] + 0.1])
        kin = RepKinematics(
            time_s=time_s[i0:i1],
            theta_deg=theta_deg[i0:i1],
            rate_dps=rate_dps[i0:i1],
            start_s=row["start_s"],
            top_start_s=row["top_start_s"],
            top_end_s=row["top_end_s"],
            end_s=row["end_s"],
            peak_angle_deg=row["peak_angle_deg"],
            min_angle_deg=row["min_angle_deg"],
            peak_lowering_velocity_dps=row["peak_lowering_velocity_dps"],
        )
        flags = rep_flags(
            kin,
            settings=settings,
            leg_length_m=leg.length_m,
            bottom_pause_s=pauses[i],
            previous_pause_s=pauses[i - 1] if i > 0 else None,
            set_median_rom_deg=median_rom if len(members) >= 3 else None,
            data_problem=quality.evidence(row["start_s"], row["end_s"]),
        )
        rep = RepResult(
            index=i + 1,
            start_s=row["start_s"],
            top_start_s=row["top_start_s"],
            top_end_s=row["top_end_s"],
            end_s=row["end_s"],
            peak_angle_deg=row["peak_angle_deg"],
            min_angle_deg=row["min_angle_deg"],
            peak_velocity_dps=row["peak_velocity_dps"],
            peak_lowering_velocity_dps=row["peak_lowering_velocity_dps"],
            foot_height_cm=100.0 * leg.length_m * math.sin(math.radians(row["peak_angle_deg"])),
            bottom_pause_s=pauses[i],
            flags=flags,
        )
        if target is not None:
            errors = tempo_errors(rep, target)
            on = all(abs(e) <= settings.tempo_tolerance_s for e in errors.values())
            rep = dataclasses.replace(rep, tempo_error_s=errors, on_tempo=on)
        reps.append(rep)
    i0, i1 = np.searchsorted(time_s, [reps[0].start_s, reps[-1].end_s])
    period = set_period_s(rate_dps[i0:i1], sampling_rate_hz=sampling_rate_hz)
    summary = summary_for_set(set_id, reps)
    return dataclasses.replace(
        summary,
        ignored=tuple(
            IgnoredMovement(
                start_s=float(m["start_s"]),
                end_s=float(m["end_s"]),
                peak_angle_deg=float(m["peak_angle_deg"]),
                kind=str(m["kind"]),
                reason=str(m["reason"]),
            )
            for m in ignored.to_dict("records")
        ),
        period_s=period,
        exercise=settings.exercise,
    )


def default_recording_path() -> Path:
    """The built-in demo session shipped in ``recordings/``."""
    return Path(__file__).resolve().parents[1] / "recordings" / "demo_session.csv"
