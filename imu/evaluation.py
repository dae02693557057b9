"""Evaluation: score an analysis against ground truth (a simulator's truth or human labels).

Four kinds of truth file are read into one shape (:class:`Truth`): ``imu simulate``'s
``*.truth.json`` (schema ``imu-truth/…``), the independent simulator's (``sim-independent``:
per-rep ``momentum``/``above_hip_line`` booleans), the PTE labels (``source: PTE``: rep
``start_s``/``end_s`` only, contiguous within a set) and a labels file (``FILE.labels.json``,
:mod:`imu.corrections`) that carries a full labelling under ``sets``. :func:`score` matches
detected reps to true ones and returns a :class:`Tally` — counts that add up over sessions —
whose properties are the figures the benchmarks print.

Matching: a detected set is matched to the true set it overlaps most; a true rep is found when
an unused detected rep's top (the middle of its hold) lies within the true rep, give or take
``slack_s``. Detected reps matched to no true rep are phantom reps.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from imu.corrections import LABELS_SCHEMA
from imu.errors import ImuError
from imu.results import RepResult, SessionResult, SetResult

__all__ = [
    "PHASES",
    "SCORED_FLAGS",
    "Tally",
    "Truth",
    "TruthNonRep",
    "TruthRep",
    "TruthSet",
    "load_truth",
    "score",
    "truth_file_for",
    "truth_from_dict",
    "truth_path_for",
]

#: the phase durations scored, as named in a rep's result
PHASES = ("concentric_s", "top_hold_s", "eccentric_s", "bottom_pause_s")
#: the flags scored (precision, recall, F1)
SCORED_FLAGS = ("momentum", "above_hip_line")
#: a knee bent less than this at the top counts as straight, °
STRAIGHT_KNEE_DEG = 2.0


@dataclass(frozen=True)
class TruthRep:
    """One true rep. Boundaries other than ``start_s``/``end_s`` may be unknown (labels)."""

    start_s: float
    end_s: float
    top_start_s: float | None = None
    top_end_s: float | None = None
    peak_angle_deg: float | None = None
    flags: frozenset[str] = frozenset()
    #: ``None`` for a set's last rep, or where the labels do not time the bottom
    bottom_pause_s: float | None = None
    #: simulated: the knee's bend at the top, ° (a shank sensor then reads high)
    knee_at_top_deg: float = 0.0

    @property
    def phases_s(self) -> dict[str, float | None]:
        """True phase durations keyed like :data:`PHASES` (``None`` where unknown)."""
        if self.top_start_s is None or self.top_end_s is None:
            return dict.fromkeys(PHASES)
        return {
            "concentric_s": self.top_start_s - self.start_s,
            "top_hold_s": self.top_end_s - self.top_start_s,
            "eccentric_s": self.end_s - self.top_end_s,
            "bottom_pause_s": self.bottom_pause_s,
        }


@dataclass(frozen=True)
class TruthSet:
    start_s: float
    end_s: float
    reps: tuple[TruthRep, ...]
    #: what the set was (``clean``, ``too_fast``, a plan name…), if the truth says
    kind: str | None = None


@dataclass(frozen=True)
class TruthNonRep:
    """A movement that is not a rep (``imu simulate``'s ``non_reps``): a swing while getting on
    or off (``mount_swing``, ``dismount_swing``), a ``rebound`` after a rep, a ``twist``…"""

    kind: str
    start_s: float
    end_s: float
    peak_angle_deg: float | None = None
    #: the set it is next to (1-based), where the truth says
    set_index: int | None = None


@dataclass(frozen=True)
class Truth:
    """The ground truth of one recording."""

    sets: tuple[TruthSet, ...]
    #: ``imu-sim``, ``sim-independent``, ``pte`` or ``labels``
    source: str
    #: bench, machine, floor… where the truth says
    setup: str | None = None
    exercise: str | None = None
    #: settings a user would have given for this session (e.g. a tilted torso's hip line)
    settings_hint: Mapping[str, Any] = field(default_factory=dict)
    #: PTE: subject number; simulators: seed
    subject: int | None = None
    #: PTE: which leg the file's sensor is on; ``still`` files must give no reps
    still_leg: bool = False
    #: movements that are not reps, where the truth lists them
    non_reps: tuple[TruthNonRep, ...] = ()


def _f(value: Any) -> float | None:
    return None if value is None else float(value)


def _rep_flags(rep: Mapping[str, Any]) -> frozenset[str]:
    flags = set(rep.get("flags", ()))
    for name in SCORED_FLAGS:
        if rep.get(name) is True:
            flags.add(name)
    return frozenset(flags)


def _truth_sets(
    raw_sets: Iterable[Mapping[str, Any]], *, timed_pauses: bool
) -> tuple[TruthSet, ...]:
    out = []
    for s in raw_sets:
        raw = list(s.get("reps", ()))
        reps = []
        for k, r in enumerate(raw):
            pause = None
            if timed_pauses and k + 1 < len(raw):
                pause = float(raw[k + 1]["start_s"]) - float(r["end_s"])
            reps.append(
                TruthRep(
                    start_s=float(r["start_s"]),
                    end_s=float(r["end_s"]),
                    top_start_s=_f(r.get("top_start_s")),
                    top_end_s=_f(r.get("top_end_s")),
                    peak_angle_deg=_f(r.get("peak_angle_deg")),
                    flags=_rep_flags(r),
                    bottom_pause_s=pause,
                    knee_at_top_deg=float(r.get("knee_at_top_deg") or 0.0),
                )
            )
        kind = s.get("plan") or s.get("execution") or s.get("kind")
        out.append(
            TruthSet(
                start_s=float(s["start_s"]),
                end_s=float(s["end_s"]),
                reps=tuple(reps),
                kind=None if kind is None else str(kind),
            )
        )
    return tuple(out)


def _truth_non_reps(raw: Iterable[Mapping[str, Any]]) -> tuple[TruthNonRep, ...]:
    return tuple(
        TruthNonRep(
            kind=str(n["kind"]),
            start_s=float(n["start_s"]),
            end_s=float(n["end_s"]),
            peak_angle_deg=_f(n.get("peak_angle_deg")),
            set_index=None if n.get("set_index") is None else int(n["set_index"]),
        )
        for n in raw
    )


def truth_from_dict(doc: Mapping[str, Any]) -> Truth:
    """A :class:`Truth` from any of the three truth documents (see the module docstring)."""
    if "sets" not in doc:
        raise ImuError("not a truth document: it has no 'sets'")
    if doc.get("source") == "PTE":
        unit = str(doc.get("unit", ""))
        return Truth(
            sets=_truth_sets(doc["sets"], timed_pauses=False),
            source="pte",
            setup="floor" if "prone" in str(doc.get("exercise", "")) else None,
            exercise=str(doc.get("exercise")) if doc.get("exercise") else None,
            subject=int(doc["subject"]) if "subject" in doc else None,
            still_leg=unit == "u1",
        )
    if str(doc.get("schema", "")).startswith("imu-truth"):
        return Truth(
            sets=_truth_sets(doc["sets"], timed_pauses=True),
            source="imu-sim",
            setup=doc.get("setup"),
            exercise=doc.get("exercise"),
            settings_hint={"hip_line_offset_deg": float(doc.get("hip_line_offset_deg", 0.0))},
            subject=doc.get("seed"),
            non_reps=_truth_non_reps(doc.get("non_reps", ())),
        )
    return Truth(
        sets=_truth_sets(doc["sets"], timed_pauses=True),
        source="sim-independent" if "seed" in doc else "labels",
        setup=doc.get("setup"),
        exercise=doc.get("exercise"),
        subject=doc.get("seed"),
    )


def truth_path_for(recording: str | os.PathLike[str]) -> Path:
    """``x.csv`` → ``x.truth.json`` (beside it)."""
    p = Path(recording)
    return p.with_name(p.stem + ".truth.json")


def truth_file_for(recording: str | os.PathLike[str]) -> Path:
    """The truth of ``x.csv``: ``x.truth.json`` beside it, else its labels file
    ``x.labels.json`` when that is there (:func:`load_truth` says if it holds no labelling)."""
    from imu.corrections import labels_path_for

    truth = truth_path_for(recording)
    labels = labels_path_for(recording)
    return labels if not truth.exists() and labels.exists() else truth


def _labels_truth(doc: Mapping[str, Any], p: Path) -> Truth:
    """A labels file's full labelling as a :class:`Truth` (source ``labels``)."""
    from imu.corrections import labels_from_dict

    labels = labels_from_dict(doc, path=str(p))
    if labels.truth is None:
        raise ImuError(
            f"{p}: a labels file with corrections only; scoring needs a full labelling ('sets')"
        )
    return dataclasses.replace(truth_from_dict(labels.truth), source="labels")


def load_truth(path: str | os.PathLike[str]) -> Truth:
    """Read a truth file (or a labels file with a full labelling); raises
    :class:`~imu.errors.ImuError` with one line on bad input."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ImuError(f"{p}: no such truth file") from None
    except OSError as exc:
        raise ImuError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImuError(f"{p}: not a JSON truth file ({exc})") from None
    if not isinstance(doc, dict):
        raise ImuError(f"{p}: not a truth document (expected a JSON object)")
    try:
        if doc.get("schema") == LABELS_SCHEMA:
            return _labels_truth(doc, p)
        return truth_from_dict(doc)
    except (KeyError, TypeError, ValueError) as exc:
        raise ImuError(f"{p}: malformed truth document ({exc!r})") from None


def _count_dict() -> dict[str, int]:
    return dict.fromkeys(SCORED_FLAGS, 0)


@dataclass
class Tally:
    """Counts accumulated over sessions (:meth:`merge` adds another's)."""

    sessions: int = 0
    sets_truth: int = 0
    sets_exact: int = 0
    sets_phantom: int = 0
    reps_truth: int = 0
    reps_found: int = 0
    reps_phantom: int = 0
    #: reps found on a recording whose truth has no reps at all (a still leg)
    reps_on_still: int = 0
    phase_errors_s: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PHASES})
    peak_errors_deg: list[float] = field(default_factory=list)
    flag_tp: dict[str, int] = field(default_factory=_count_dict)
    flag_fp: dict[str, int] = field(default_factory=_count_dict)
    flag_fn: dict[str, int] = field(default_factory=_count_dict)
    #: the same counts and peak errors over the reps whose knee is straight at the top
    #: (:data:`STRAIGHT_KNEE_DEG`): what a shank sensor can measure
    straight_tp: dict[str, int] = field(default_factory=_count_dict)
    straight_fp: dict[str, int] = field(default_factory=_count_dict)
    straight_fn: dict[str, int] = field(default_factory=_count_dict)
    straight_peak_errors_deg: list[float] = field(default_factory=list)
    #: one line per miscounted set, missed set or phantom rep
    failures: list[str] = field(default_factory=list)

    def merge(self, other: Tally) -> None:
        for name in ("sessions", "sets_truth", "sets_exact", "sets_phantom", "reps_truth",
                     "reps_found", "reps_phantom", "reps_on_still"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for p in PHASES:
            self.phase_errors_s[p].extend(other.phase_errors_s[p])
        self.peak_errors_deg.extend(other.peak_errors_deg)
        for f in SCORED_FLAGS:
            for name in ("flag_tp", "flag_fp", "flag_fn", "straight_tp", "straight_fp",
                         "straight_fn"):  # fmt: skip
                getattr(self, name)[f] += getattr(other, name)[f]
        self.straight_peak_errors_deg.extend(other.straight_peak_errors_deg)
        self.failures.extend(other.failures)

    @classmethod
    def total(cls, tallies: Iterable[Tally]) -> Tally:
        out = cls()
        for t in tallies:
            out.merge(t)
        return out

    # figures

    @property
    def sets_exact_pct(self) -> float:
        return 100.0 * self.sets_exact / self.sets_truth if self.sets_truth else math.nan

    @property
    def rep_recall_pct(self) -> float:
        return 100.0 * self.reps_found / self.reps_truth if self.reps_truth else math.nan

    def phase_mae_s(self, phase: str) -> float:
        e = self.phase_errors_s[phase]
        return float(np.mean(e)) if e else math.nan

    @property
    def peak_mae_deg(self) -> float:
        return float(np.mean(self.peak_errors_deg)) if self.peak_errors_deg else math.nan

    def flag_prf(self, flag: str, *, straight_knee: bool = False) -> tuple[float, float, float]:
        """Precision, recall and F1 of one flag (NaN where undefined); ``straight_knee``: over
        the reps whose knee is straight at the top only."""
        if straight_knee:
            tp, fp, fn = self.straight_tp[flag], self.straight_fp[flag], self.straight_fn[flag]
        else:
            tp, fp, fn = self.flag_tp[flag], self.flag_fp[flag], self.flag_fn[flag]
        p = tp / (tp + fp) if tp + fp else math.nan
        r = tp / (tp + fn) if tp + fn else math.nan
        f1 = 2 * p * r / (p + r) if (p + r) and not math.isnan(p + r) else math.nan
        return p, r, f1

    def figures(self) -> dict[str, float]:
        """The headline figures by name (what the benchmarks print and compare)."""
        out: dict[str, float] = {
            "sets_exact_pct": self.sets_exact_pct,
            "phantom_reps": float(self.reps_phantom + self.reps_on_still),
            "rep_recall_pct": self.rep_recall_pct,
            "peak_mae_deg": self.peak_mae_deg,
            "peak_mae_straight_knee_deg": (
                float(np.mean(self.straight_peak_errors_deg))
                if self.straight_peak_errors_deg
                else math.nan
            ),
        }
        for p in PHASES:
            out[f"mae_{p}"] = self.phase_mae_s(p)
        for f in SCORED_FLAGS:
            out[f"f1_{f}"] = self.flag_prf(f)[2]
            out[f"f1_{f}_straight_knee"] = self.flag_prf(f, straight_knee=True)[2]
        return out

    def lines(self, *, failures: int = 12) -> list[str]:
        """A readable report, one figure a line."""
        out = [
            f"sets counted exactly: {self.sets_exact}/{self.sets_truth} = "
            f"{self.sets_exact_pct:.1f} %",
            f"phantom sets: {self.sets_phantom}; phantom reps: {self.reps_phantom}"
            + (f"; reps on a still leg: {self.reps_on_still}" if self.reps_on_still else ""),
            f"rep recall: {self.reps_found}/{self.reps_truth} = {self.rep_recall_pct:.2f} %",
        ]
        for p in PHASES:
            e = self.phase_errors_s[p]
            if e:
                out.append(
                    f"MAE {p}: {np.mean(e):.3f} s (p95 {np.percentile(e, 95):.3f} s, n={len(e)})"
                )
        if self.peak_errors_deg:
            pe = self.peak_errors_deg
            out.append(f"MAE peak_angle_deg: {np.mean(pe):.2f}° (p95 {np.percentile(pe, 95):.2f}°)")
        for f in SCORED_FLAGS:
            if self.flag_tp[f] + self.flag_fp[f] + self.flag_fn[f]:
                prec, rec, f1 = self.flag_prf(f)
                out.append(
                    f"flag {f}: precision {prec:.3f} recall {rec:.3f} F1 {f1:.3f} "
                    f"(tp {self.flag_tp[f]}, fp {self.flag_fp[f]}, fn {self.flag_fn[f]})"
                )
        out.extend(f"  miss: {line}" for line in self.failures[:failures])
        if len(self.failures) > failures:
            out.append(f"  … and {len(self.failures) - failures} more")
        return out


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def _score_set(
    t: Tally, ts: TruthSet, detected: list[SetResult], used_sets: set[int], label: str
) -> None:
    """Count one true set: matched to the detected set it overlaps most, exact or not."""
    t.sets_truth += 1
    best = max(
        detected,
        key=lambda s: _overlap(ts.start_s, ts.end_s, s.start_s, s.end_s),
        default=None,
    )
    if best is None or _overlap(ts.start_s, ts.end_s, best.start_s, best.end_s) <= 0:
        t.failures.append(f"{label}: set at {ts.start_s:.0f} s ({len(ts.reps)} reps) not found")
        return
    used_sets.add(best.index)
    if best.rep_count == len(ts.reps):
        t.sets_exact += 1
    else:
        t.failures.append(
            f"{label}: set at {ts.start_s:.0f} s has {len(ts.reps)} reps, found {best.rep_count}"
        )


def _match(
    tr: TruthRep,
    det_reps: list[tuple[int, RepResult]],
    used_reps: set[tuple[int, int]],
    slack_s: float,
) -> RepResult | None:
    """The first unused detected rep whose top lies within ``tr`` (± ``slack_s``), now used."""
    for si, r in det_reps:
        if (si, r.index) in used_reps:
            continue
        top_s = 0.5 * (r.top_start_s + r.top_end_s)
        if tr.start_s - slack_s <= top_s <= tr.end_s + slack_s:
            used_reps.add((si, r.index))
            return r
    return None


def _count_flags(t: Tally, tr: TruthRep, rep: RepResult, *, straight: bool) -> None:
    names = set(rep.flag_names)
    counts = [(t.flag_tp, t.flag_fp, t.flag_fn)]
    if straight:
        counts.append((t.straight_tp, t.straight_fp, t.straight_fn))
    for f in SCORED_FLAGS:
        has_t, has_d = f in tr.flags, f in names
        for tp, fp, fn in counts:
            tp[f] += has_t and has_d
            fp[f] += has_d and not has_t
            fn[f] += has_t and not has_d


def _score_rep(t: Tally, tr: TruthRep, rep: RepResult, *, score_flags: bool) -> None:
    """Errors of a found rep's phases and peak (where measured and true), and its flags."""
    t.reps_found += 1
    straight = tr.knee_at_top_deg < STRAIGHT_KNEE_DEG
    if rep.measured:
        for p, true_value in tr.phases_s.items():
            found = getattr(rep, p)
            if true_value is not None and found is not None:
                t.phase_errors_s[p].append(abs(found - true_value))
        if tr.peak_angle_deg is not None:
            err = abs(rep.peak_angle_deg - tr.peak_angle_deg)
            t.peak_errors_deg.append(err)
            if straight:
                t.straight_peak_errors_deg.append(err)
    if score_flags:
        _count_flags(t, tr, rep, straight=straight)


def score(
    result: SessionResult,
    truth: Truth,
    *,
    label: str = "",
    slack_s: float = 0.3,
    score_flags: bool | None = None,
) -> Tally:
    """Match the detected sets and reps of ``result`` to ``truth`` and count.

    ``score_flags=False`` leaves the flag counts out; by default they are scored unless the truth
    is human labels of rep boundaries only (PTE). A rep a label added where nothing moved
    (``measured`` false) counts as found but gives no phase or peak error.
    """
    if score_flags is None:
        score_flags = truth.source != "pte"
    t = Tally(sessions=1)
    label = label or result.recording
    detected = list(result.sets)
    if truth.still_leg or not truth.sets:
        t.reps_on_still = sum(s.rep_count for s in detected)
        if t.reps_on_still:
            t.failures.append(f"{label}: {t.reps_on_still} rep(s) where there are none")
        return t
    used_sets: set[int] = set()
    det_reps = [(s.index, r) for s in detected for r in s.reps]
    used_reps: set[tuple[int, int]] = set()
    for ts in truth.sets:
        _score_set(t, ts, detected, used_sets, label)
        for tr in ts.reps:
            t.reps_truth += 1
            rep = _match(tr, det_reps, used_reps, slack_s)
            if rep is not None:
                _score_rep(t, tr, rep, score_flags=score_flags)
    t.sets_phantom = len([s for s in detected if s.index not in used_sets])
    t.reps_phantom = len(det_reps) - len(used_reps)
    if t.reps_phantom:
        t.failures.append(f"{label}: {t.reps_phantom} phantom rep(s)")
    return t
