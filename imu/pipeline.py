"""The whole offline analysis bound to a recording and settings: :func:`analyze`.

recording → angle → segmentation → form → summary. Each stage is a plain function in its own
module; this one only wires them together and builds the typed result.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from imu.angle import (
    LegAngle,
    estimate_leg_angle,
    refine_shank,
    rotation_radii_m,
    tilt_mismatch_deg,
)
from imu.corrections import AppliedCorrection, Correction, Labels, load_labels
from imu.dsp import lowpass, median_interval_s
from imu.errors import LabelsError, RecordingError
from imu.exercise import ExerciseChoice, SetShape, choose_sets
from imu.form import DEFAULT_LEG_LENGTH_M, LegLength, RepKinematics, rep_flags
from imu.quality import SensorQuality, check_quality
from imu.recording import Recording, read_recording
from imu.results import AngleTrace, IgnoredMovement, RepResult, SessionResult, SetResult
from imu.segmentation import (
    Found,
    SetJudgement,
    Smoothed,
    find_movements,
    judge_sets,
    reangle,
    rest_probe,
    set_period_s,
    smooth,
)
from imu.settings import (
    AUTO,
    DETECTION,
    Settings,
    check_hip_line_reference,
    flags_off,
    load_settings,
)
from imu.summary import judge_tempo, summary_for_set

__all__ = ["analyze", "analyze_recording"]

FloatArray = npt.NDArray[np.float64]


def analyze(
    source: str | os.PathLike[str] | Recording,
    *,
    exercise: str | None = None,
    config_path: str | os.PathLike[str] | None = None,
    settings: Settings | None = None,
    progress: Callable[[str], None] | None = None,
    labels: Labels | str | os.PathLike[str] | None = None,
) -> SessionResult:
    """Analyse a recording (a path to a contract CSV, or a :class:`Recording`).

    Settings come from ``settings`` if given, else from the exercise profile and the optional
    TOML ``config_path``. ``progress`` is called with the name of each stage as it starts.
    ``labels``: corrections to apply (a labels file or its path, :mod:`imu.corrections`; none by
    default — ``imu analyze`` finds the one beside the recording).
    Raises :class:`~imu.errors.ImuError` subclasses on bad input.
    """
    if settings is None:
        settings = load_settings(exercise=exercise, config_path=config_path)
    if labels is not None and not isinstance(labels, Labels):
        labels = load_labels(labels)
    if progress is not None:
        progress("reading the recording")
    recording = source if isinstance(source, Recording) else read_recording(source)
    return analyze_recording(recording, settings, progress=progress, labels=labels)


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


def _judge(angle: LegAngle, found: Found, settings: Settings, period_s: float) -> SetJudgement:
    probe = rest_probe(
        angle.time_s,
        angle.theta_deg,
        angle.rate_dps,
        still_dps=settings.moving_rate_dps,
        period_s=period_s,
    )
    return judge_sets(
        found.movements,
        rest_threshold_s=settings.rest_threshold_s,
        min_set_reps=settings.min_set_reps,
        probe=probe,
        between=found.low,
    )


#: one refinement of the shank (:func:`refine_shank`): the reps' mask, the settings it used
#: (``hip_line_segment_s``, ``sensor_offset_m``), its answer
_Refinement = tuple[npt.NDArray[np.bool_], tuple[float, float] | None, float, LegAngle | None]


@dataclass
class _Signals:
    """A recording and its first leg angle, with what every profile's segmentation of them
    shares, each computed once: how far the accelerometer and the filter disagree about the
    tilt, the smoothed signals per cutoff, the shank refined on a set of reps (profiles often
    find the same reps) and its smoothed θ."""

    recording: Recording
    angle: LegAngle
    _tilt_mismatch: FloatArray | None = None
    _smoothed: dict[float, Smoothed] = field(default_factory=dict)
    _refinements: list[_Refinement] = field(default_factory=list)
    _refined_theta_s: dict[tuple[int, float], FloatArray] = field(default_factory=dict)
    #: each segmentation, by its settings but the exercise's name (the choice's probe and the
    #: leg-raise profile segment alike)
    _runs: dict[Settings, _Run] = field(default_factory=dict)
    _period_s: float | None = None

    def period_s(self) -> float:
        """The median sample interval, for :func:`~imu.segmentation.rest_probe`."""
        if self._period_s is None:
            self._period_s = median_interval_s(self.angle.time_s)
        return self._period_s

    def tilt_mismatch(self) -> FloatArray:
        if self._tilt_mismatch is None:
            self._tilt_mismatch = tilt_mismatch_deg(
                self.recording.acc_g, self.angle.up, self.angle.shank
            )
        return self._tilt_mismatch

    def smoothed(self, cutoff_hz: float) -> Smoothed:
        if cutoff_hz not in self._smoothed:
            self._smoothed[cutoff_hz] = smooth(
                self.angle.theta_deg,
                self.angle.rate_dps,
                sampling_rate_hz=self.recording.sample_rate_hz,
                smoothing_cutoff_hz=cutoff_hz,
            )
        return self._smoothed[cutoff_hz]

    def refined(self, reps: pd.DataFrame, settings: Settings) -> tuple[int, LegAngle | None]:
        """:func:`refine_shank` on the samples of ``reps``, and which refinement it is."""
        mask = _interval_mask(self.angle.time_s, reps)
        segment, offset = settings.hip_line_segment_s, settings.sensor_offset_m
        for k, (m, seg, off, angle) in enumerate(self._refinements):
            if seg == segment and off == offset and np.array_equal(m, mask):
                return k, angle
        angle = refine_shank(
            self.angle,
            self.recording.acc_g,
            mask,
            sampling_rate_hz=self.recording.sample_rate_hz,
            hip_line_segment_s=segment,
            sensor_offset_m=offset,
        )
        self._refinements.append((mask, segment, offset, angle))
        return len(self._refinements) - 1, angle

    def refined_theta_s(self, k: int, refined: LegAngle, cutoff_hz: float) -> FloatArray:
        """The low-passed θ of ``refined``, refinement ``k`` (:meth:`refined`)."""
        if (k, cutoff_hz) not in self._refined_theta_s:
            self._refined_theta_s[k, cutoff_hz] = lowpass(
                refined.theta_deg,
                sampling_rate_hz=self.recording.sample_rate_hz,
                cutoff_hz=cutoff_hz,
            )
        return self._refined_theta_s[k, cutoff_hz]


def _segment(signals: _Signals, settings: Settings) -> tuple[Found, SetJudgement]:
    """Every movement (and the low ones between two: :class:`Found`), and the sets judged from
    them."""
    angle = signals.angle
    found = find_movements(
        angle.time_s,
        angle.theta_deg,
        angle.rate_dps,
        sampling_rate_hz=signals.recording.sample_rate_hz,
        min_rom_deg=settings.min_rom_deg,
        min_rate_dps=settings.moving_rate_dps,
        top_min_deg=settings.top_min_deg,
        smoothing_cutoff_hz=settings.smoothing_cutoff_hz,
        tilt_mismatch_deg=signals.tilt_mismatch(),
        smoothed=signals.smoothed(settings.smoothing_cutoff_hz),
        low_within_s=settings.rest_threshold_s,
    )
    return found, _judge(angle, found, settings, signals.period_s())


def _interval_index(time_s: np.ndarray, reps: pd.DataFrame) -> npt.NDArray[np.intp]:
    """The sample indices inside any rep's ``[start_s, end_s)``, sorted; the work is
    within the reps' own span, not the whole recording."""
    i0 = np.searchsorted(time_s, reps["start_s"].to_numpy())
    i1 = np.searchsorted(time_s, reps["end_s"].to_numpy())
    if i0.size == 0:
        return np.zeros(0, dtype=np.intp)
    lo, hi = int(i0.min()), int(max(i0.max(), i1.max()))
    edges = np.zeros(hi - lo + 1, dtype=np.int64)
    np.add.at(edges, i0 - lo, 1)
    np.add.at(edges, i1 - lo, -1)
    return lo + np.flatnonzero(np.cumsum(edges[:-1]) > 0)


def _interval_mask(time_s: np.ndarray, reps: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """True inside any rep's ``[start_s, end_s)``."""
    mask = np.zeros(time_s.shape[0], dtype=bool)
    mask[_interval_index(time_s, reps)] = True
    return mask


@dataclass(frozen=True)
class _Run:
    """One exercise profile's segmentation of the recording."""

    settings: Settings
    angle: LegAngle  #: refined on this profile's reps
    movements: pd.DataFrame
    judged: SetJudgement


def _segment_refined(signals: _Signals, settings: Settings) -> _Run:
    """Movements and sets with ``settings``; the strap is only roughly aligned, so the shank's
    direction is measured on the reps found and the movements are measured again with it (the
    reps rarely change; their angles do). Done once for settings that differ only in the
    exercise's name."""
    key = dataclasses.replace(settings, exercise=AUTO)
    if key not in signals._runs:
        signals._runs[key] = _segment_refined_once(signals, settings)
    return dataclasses.replace(signals._runs[key], settings=settings)


def _segment_refined_once(signals: _Signals, settings: Settings) -> _Run:
    """:func:`_segment_refined`, computed."""
    recording, angle = signals.recording, signals.angle
    found, judged = _segment(signals, settings)
    if judged.reps.empty:
        return _Run(settings, angle, found.movements, judged)
    k, refined = signals.refined(judged.reps, settings)
    if refined is None:
        return _Run(settings, angle, found.movements, judged)
    cutoff = settings.smoothing_cutoff_hz
    smoothed = signals.refined_theta_s(k, refined, cutoff)
    found = Found(
        *(
            reangle(
                frame,
                refined.time_s,
                refined.theta_deg,
                sampling_rate_hz=recording.sample_rate_hz,
                smoothing_cutoff_hz=cutoff,
                smoothed_theta_deg=smoothed,
            )
            for frame in (found.movements, found.low)
        )
    )
    judged = _judge(refined, found, settings, signals.period_s())
    return _Run(settings, refined, found.movements, judged)


def _set_choices(recording: Recording, run: _Run) -> dict[int, ExerciseChoice]:
    """The exercise each set of ``run`` looks like (:mod:`imu.exercise`)."""
    reps = run.judged.reps
    ids = sorted({int(x) for x in reps["set_id"].to_numpy()})
    members = {k: reps[reps["set_id"] == k] for k in ids}
    radii = rotation_radii_m(
        run.angle,
        recording.acc_g,
        [_interval_index(run.angle.time_s, members[k]) for k in ids],
        sampling_rate_hz=recording.sample_rate_hz,
        sensor_offset_m=run.settings.sensor_offset_m,
    )
    shapes = {}
    for k, radius in zip(ids, radii, strict=True):
        m = members[k]
        bottom = float(np.median(np.concatenate((m["start_angle_deg"], m["end_angle_deg"]))))
        top = float(np.median(m["peak_angle_deg"]))
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
    signals: _Signals, settings: Settings
) -> tuple[list[tuple[_Run, list[int], dict[int, ExerciseChoice]]], list[str]]:
    """The profiles to judge the recording with: each run, the ids of its sets to keep, what
    each set looked like; and notes on the choice."""
    recording = signals.recording
    if settings.exercise != AUTO:
        run = _segment_refined(signals, settings)
        choices = _set_choices(recording, run)
        notes = [
            f"set {k}: --exercise {settings.exercise}, but the data look like {c.exercise} "
            f"({c.reason})"
            for k, c in choices.items()
            if c.exercise != settings.exercise
        ]
        return [(run, sorted(choices), choices)], notes
    probe = _segment_refined(signals, _detection_settings(settings))
    choices = _set_choices(recording, probe)
    if not choices:
        run = _segment_refined(signals, settings.with_exercise("reverse-hyper"))
        return [(run, [], {})], ["exercise: no set to choose from; reverse-hyper assumed"]
    spans = _set_spans(probe.judged.reps)
    plan = []
    for name in dict.fromkeys(c.exercise for c in choices.values()):
        run = _segment_refined(signals, settings.with_exercise(name))
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


@dataclass(frozen=True)
class _Group:
    """One set before it is built: the run that judged it, its reps and ignored movements."""

    run: _Run
    #: rows of the run's movements, with ``source`` (:data:`~imu.results.RepSource`) and
    #: ``measured`` columns, sorted by start
    members: pd.DataFrame
    ignored: pd.DataFrame
    choice: ExerciseChoice | None

    @property
    def span(self) -> tuple[float, float]:
        return float(self.members["start_s"].min()), float(self.members["end_s"].max())


def _groups(plan: list[tuple[_Run, list[int], dict[int, ExerciseChoice]]]) -> list[_Group]:
    """The sets of the plan, in time order."""
    out = []
    for run, keep, chosen in plan:
        reps, ignored = run.judged.reps, run.judged.ignored
        detected = reps.drop(columns="set_id").assign(source="detected", measured=True)
        rows = _rows_by_set(reps)
        ignored_rows = _rows_by_set(ignored)
        for k in keep:
            members = detected.iloc[rows[k]].sort_values("start_s")
            own_ignored = ignored.iloc[ignored_rows.get(k, np.zeros(0, dtype=np.intp))]
            out.append(_Group(run, members, own_ignored, chosen.get(k)))
    return sorted(out, key=lambda g: g.span[0])


def _rows_by_set(frame: pd.DataFrame) -> dict[int, npt.NDArray[np.intp]]:
    """The positions of each set's rows of ``frame`` (by ``set_id``), in order."""
    ids = frame["set_id"].to_numpy()
    return {int(k): np.flatnonzero(ids == k) for k in np.unique(ids)}


#: a rep or movement this near a labelled time (s) is the one the label means
_LABEL_SLACK_S = 0.5


def _at(members: pd.DataFrame, at_s: float) -> int | None:
    """The position of the row of ``members`` at ``at_s`` (inside it, else the nearest within
    :data:`_LABEL_SLACK_S`), or None."""
    if members.empty:
        return None
    starts = members["start_s"].to_numpy()
    ends = members["end_s"].to_numpy()
    distance = np.maximum(0.0, np.maximum(starts - at_s, at_s - ends))
    k = int(np.argmin(distance))
    return k if distance[k] <= _LABEL_SLACK_S else None


def _span_text(a: float, b: float) -> str:
    return f"{a:.1f}–{b:.1f} s"


def _added_rep(movements: pd.DataFrame, at_s: float) -> tuple[pd.DataFrame, str]:
    """The row of a rep added at ``at_s``: the movement there, else one at that time with
    nothing measured; and what was done."""
    k = _at(movements, at_s)
    if k is None:
        t = at_s
        row = pd.DataFrame([{"start_s": t, "top_start_s": t, "top_end_s": t, "end_s": t}])
        return row.assign(source="added", measured=False), (
            f"added a rep at {t:g} s: no movement there, its phases unknown"
        )
    row = movements.iloc[[k]].assign(source="added", measured=True)
    span = _span_text(float(row["start_s"].iloc[0]), float(row["end_s"].iloc[0]))
    return row, f"added the movement at {span} as a rep"


class _Corrector:
    """Applies a labels file's corrections to the sets of an analysis (:mod:`imu.corrections`).

    Set and rep numbers are resolved on ``sets``, the analysis without labels; each correction
    then acts on the sets at that time, so that none renumbers another.
    """

    def __init__(
        self,
        labels: Labels,
        signals: _Signals,
        settings: Settings,
        plan: list[tuple[_Run, list[int], dict[int, ExerciseChoice]]],
        main: _Run,
        sets: tuple[SetResult, ...],
    ) -> None:
        self.labels = labels
        self.signals = signals
        self.settings = settings
        self.runs = {run.settings.exercise: run for run, _keep, _chosen in plan}
        self.main = main
        self.sets = sets

    def fail(self, c: Correction, problem: str) -> LabelsError:
        return LabelsError(self.labels.path, f"{c.describe()}: {problem}", entry=c.entry)

    def original(self, c: Correction, index: int | None) -> SetResult:
        """Set ``index`` of the analysis without labels."""
        if index is None or not 1 <= index <= len(self.sets):
            raise self.fail(
                c, f"the analysis without labels found {len(self.sets)} set(s) (1–{len(self.sets)})"
            )
        return self.sets[index - 1]

    def apply(self, groups: list[_Group]) -> tuple[list[_Group], list[AppliedCorrection]]:
        steps: dict[str, Callable[[Correction, list[_Group]], tuple[list[_Group], str]]] = {
            "mark_exercise": self.mark_exercise,
            "delete_rep": self.delete_rep,
            "add_rep": self.add_rep,
            "merge_sets": self.merge_sets,
            "split_set": self.split_set,
        }
        applied = []
        for c in self.labels.ordered():
            groups, outcome = steps[c.op](c, groups)
            groups = sorted(groups, key=lambda g: g.span[0])
            applied.append(AppliedCorrection(c, outcome))
        for g in groups:
            if not g.members["measured"].any():
                a, b = g.span
                raise LabelsError(
                    self.labels.path,
                    f"the set at {_span_text(a, b)} is left with no measured rep (only reps added "
                    "where nothing moved)",
                )
        return groups, applied

    def run_for(self, exercise: str) -> _Run:
        if exercise not in self.runs:
            self.runs[exercise] = _segment_refined(
                self.signals, self.settings.with_exercise(exercise)
            )
        return self.runs[exercise]

    def mark_exercise(self, c: Correction, groups: list[_Group]) -> tuple[list[_Group], str]:
        assert c.exercise is not None
        a, b = self.original(c, c.set_index).start_s, self.original(c, c.set_index).end_s
        mine = [g for g in groups if _overlaps(a, b, *g.span)]
        rest = [g for g in groups if not any(g is m for m in mine)]
        if not mine:
            raise self.fail(c, "that set is gone (deleted by another correction)")
        before = sum(len(g.members) for g in mine)
        choice = ExerciseChoice(
            c.exercise, "labelled", f"marked {c.exercise} in {self.labels.name}"
        )
        run = self.run_for(c.exercise)
        reps, ignored = run.judged.reps, run.judged.ignored
        inside = reps[(reps["end_s"] > a) & (reps["start_s"] < b)]
        if inside.empty:
            # the profile finds no rep there: keep the reps, judged with that profile's limits
            kept = [
                dataclasses.replace(g, run=dataclasses.replace(g.run, settings=run.settings),
                                    choice=choice)
                for g in mine
            ]  # fmt: skip
            return [*rest, *kept], (
                f"set {c.set_index} marked {c.exercise}: that profile finds no rep there, so its "
                f"{before} rep(s) are kept and judged with its limits"
            )
        ids = set(inside["set_id"].tolist())
        members = inside.drop(columns="set_id").assign(source="detected", measured=True)
        group = _Group(run, members.sort_values("start_s"),
                       ignored[ignored["set_id"].isin(ids)], choice)  # fmt: skip
        return [*rest, group], (
            f"set {c.set_index} judged as {c.exercise}: {len(members)} rep(s) (was {before})"
        )

    def delete_rep(self, c: Correction, groups: list[_Group]) -> tuple[list[_Group], str]:
        if c.at_s is not None:
            at_s, what = c.at_s, f"the rep at {c.at_s:g} s"
        else:
            s = self.original(c, c.set_index)
            if c.rep_index is None or not 1 <= c.rep_index <= s.rep_count:
                raise self.fail(c, f"set {c.set_index} has {s.rep_count} rep(s) without labels")
            r = s.reps[c.rep_index - 1]
            at_s, what = 0.5 * (r.top_start_s + r.top_end_s), f"rep {c.rep_index} of set {s.index}"
        for k, g in enumerate(groups):
            i = _at(g.members, at_s)
            if i is None:
                continue
            row = g.members.iloc[i]
            members = g.members.drop(index=g.members.index[i])
            out = groups[:k] + groups[k + 1 :]
            if not members.empty:
                out.insert(k, dataclasses.replace(g, members=members))
            gone = "" if not members.empty else "; its set, now empty, is gone"
            return out, f"deleted {what} ({_span_text(row['start_s'], row['end_s'])}){gone}"
        raise self.fail(c, "no rep there")

    def add_rep(self, c: Correction, groups: list[_Group]) -> tuple[list[_Group], str]:
        assert c.at_s is not None
        t = c.at_s
        for g in groups:
            i = _at(g.members, t)
            if i is not None:
                there = g.members.iloc[i]
                where = _span_text(there["start_s"], there["end_s"])
                raise self.fail(c, f"a rep is counted there already ({where})")

        def distance(g: _Group) -> float:
            return max(g.span[0] - t, t - g.span[1], 0.0)

        near = [g for g in groups if distance(g) <= g.run.settings.rest_threshold_s]
        group = min(near, key=distance, default=None)
        run = self.main if group is None else group.run
        added, outcome = _added_rep(run.movements, t)
        if group is None and not added["measured"].iloc[0]:
            raise self.fail(c, "no movement there and no set near it to add a rep to")
        if group is None:
            alone = _Group(run, added, run.judged.ignored.iloc[0:0], None)
            return [*groups, alone], outcome + " (a set of its own)"
        a, b = float(added["start_s"].iloc[0]), float(added["end_s"].iloc[0])
        ig = group.ignored
        ignored = ig[~((ig["end_s"] > a) & (ig["start_s"] < b))]
        members = pd.concat([group.members, added]).sort_values("start_s")
        rest = [g for g in groups if g is not group]
        return [*rest, dataclasses.replace(group, members=members, ignored=ignored)], outcome

    def merge_sets(self, c: Correction, groups: list[_Group]) -> tuple[list[_Group], str]:
        assert c.set_index is not None
        first = self.original(c, c.set_index)
        second = self.original(c, c.set_index + 1)
        a, b = first.start_s, second.end_s
        mine = [g for g in groups if _overlaps(a, b, *g.span)]
        if len(mine) < 2:
            return groups, f"sets {first.index} and {second.index} are one set already"
        if len({id(g.run) for g in mine}) > 1:
            names = ", ".join(dict.fromkeys(g.run.settings.exercise for g in mine))
            raise self.fail(c, f"the sets are judged as different exercises ({names}); mark one")
        merged = _Group(
            mine[0].run,
            pd.concat([g.members for g in mine]).sort_values("start_s"),
            pd.concat([g.ignored for g in mine]),
            mine[0].choice,
        )
        rest = [g for g in groups if not any(g is m for m in mine)]
        return [*rest, merged], (
            f"merged sets {first.index} and {second.index} into one of {len(merged.members)} reps"
        )

    def split_set(self, c: Correction, groups: list[_Group]) -> tuple[list[_Group], str]:
        assert c.at_s is not None
        t = c.at_s
        for k, g in enumerate(groups):
            a, b = g.span
            if not a < t < b:
                continue
            early = g.members["start_s"].to_numpy() < t
            if early.all() or not early.any():
                raise self.fail(c, "leaves no rep on one side")
            left_ignored = g.ignored["start_s"].to_numpy() < t
            left = dataclasses.replace(g, members=g.members[early], ignored=g.ignored[left_ignored])
            right = dataclasses.replace(
                g, members=g.members[~early], ignored=g.ignored[~left_ignored]
            )
            return [*groups[:k], left, right, *groups[k + 1 :]], (
                f"split the set of {_span_text(a, b)} at {t:g} s into {int(early.sum())} and "
                f"{int((~early).sum())} reps"
            )
        raise self.fail(c, "no set spans that time")


def _build_sets(
    groups: list[_Group], leg: LegLength, sampling_rate_hz: float, quality: SensorQuality
) -> tuple[SetResult, ...]:
    built = [
        (
            _build_set(
                i, g.members, g.ignored, g.run.angle, g.run.settings, leg, sampling_rate_hz, quality
            ),
            g.choice,
        )
        for i, g in enumerate(groups, start=1)
    ]
    return tuple(dataclasses.replace(s, choice=c) for s, c in built)


def analyze_recording(
    recording: Recording,
    settings: Settings,
    *,
    progress: Callable[[str], None] | None = None,
    labels: Labels | None = None,
) -> SessionResult:
    """The pipeline on an in-memory recording (``labels``: corrections to apply)."""
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
    signals = _Signals(recording, angle)  # shared by every profile's run, labels' too
    plan, choice_notes = _plan(signals, settings)
    # the session's own profile and angle: the one judging the most sets
    main = max(plan, key=lambda p: len(p[1]))[0]
    leg = _leg_length(main.settings, main.angle)
    say("judging form")
    groups = _groups(plan)
    sets = _build_sets(groups, leg, fs, quality)
    applied: list[AppliedCorrection] = []
    if labels is not None and labels.corrections:
        say("applying the labels")
        fixer = _Corrector(labels, signals, settings, plan, main, sets)
        groups, applied = fixer.apply(groups)
        sets = _build_sets(groups, leg, fs, quality)
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
    if labels is not None:
        notes.extend(f"labels {labels.name}: {a.outcome}" for a in applied)
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
        labels_file=None if labels is None else labels.name,
        corrections=tuple(applied),
    )


def _pauses(members: pd.DataFrame) -> list[float | None]:
    """Each rep's bottom pause (next start − this end; ``None`` for the last rep and next to a
    rep whose instants are not measured)."""
    starts = members["start_s"].to_numpy()
    ends = members["end_s"].to_numpy()
    measured = members["measured"].to_numpy(dtype=bool)
    pauses: list[float | None] = [
        float(s - e) if m0 and m1 else None
        for s, e, m0, m1 in zip(starts[1:], ends[:-1], measured[:-1], measured[1:], strict=True)
    ]
    pauses.append(None)
    return pauses


def _foot_height_cm(leg: LegLength, angle_deg: float) -> float:
    """The foot's height above (+) or below (−) the hip line with the leg at ``angle_deg``."""
    return 100.0 * leg.length_m * math.sin(math.radians(angle_deg))


def _unmeasured_rep(index: int, at_s: float, angle: LegAngle, leg: LegLength) -> RepResult:
    """A rep a label added where no movement was found: its four instants are the labelled
    time, its angles the leg's angle then; phases, range and velocities unknown."""
    theta = float(np.interp(at_s, angle.time_s, angle.theta_deg))
    return RepResult(
        index=index,
        start_s=at_s,
        top_start_s=at_s,
        top_end_s=at_s,
        end_s=at_s,
        peak_angle_deg=theta,
        min_angle_deg=theta,
        peak_velocity_dps=math.nan,
        peak_lowering_velocity_dps=math.nan,
        foot_height_cm=_foot_height_cm(leg, theta),
        source="added",
        measured=False,
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
    pauses = _pauses(members)
    measured = members[members["measured"].to_numpy(dtype=bool)]
    median_rom = (
        float(np.median(measured["peak_angle_deg"] - measured["min_angle_deg"]))
        if len(measured) >= 3
        else None
    )
    target = settings.tempo
    reps: list[RepResult] = []
    lo_pad = settings.bounce_window_s + 0.5
    sources = members["source"].tolist()
    col = {
        c: members[c].to_numpy(dtype=np.float64)
        for c in members.columns
        if c not in ("source", "measured")
    }
    for i, is_measured in enumerate(members["measured"].to_numpy(dtype=bool)):
        row = {c: float(v[i]) for c, v in col.items()}
        if not is_measured:
            reps.append(_unmeasured_rep(i + 1, row["start_s"], angle, leg))
            continue
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
            set_median_rom_deg=median_rom,
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
            foot_height_cm=_foot_height_cm(leg, row["peak_angle_deg"]),
            bottom_pause_s=pauses[i],
            flags=flags,
            source="added" if sources[i] == "added" else "detected",
        )
        if target is not None:
            rep = judge_tempo(rep, target, settings.tempo_tolerance_s)
        reps.append(rep)
    i0, i1 = np.searchsorted(time_s, [reps[0].start_s, reps[-1].end_s])
    period = set_period_s(rate_dps[i0:i1], sampling_rate_hz=sampling_rate_hz)
    summary = summary_for_set(set_id, reps)
    return dataclasses.replace(
        summary,
        ignored=tuple(
            IgnoredMovement(
                start_s=float(a),
                end_s=float(b),
                peak_angle_deg=float(p),
                kind=str(kind),
                reason=str(reason),
            )
            for a, b, p, kind, reason in zip(
                *(ignored[c].tolist() for c in _IGNORED_FIELDS), strict=True
            )
        ),
        period_s=period,
        exercise=settings.exercise,
    )


#: the columns of a set's ignored movements that make an :class:`IgnoredMovement`
_IGNORED_FIELDS = ("start_s", "end_s", "peak_angle_deg", "kind", "reason")


def default_recording_path() -> Path:
    """The built-in demo session shipped in ``recordings/``."""
    return Path(__file__).resolve().parents[1] / "recordings" / "demo_session.csv"
