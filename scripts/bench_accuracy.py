"""Accuracy benchmark: simulated sessions with ground truth, and the real PTE recordings.

Prints, for ≥ 30 simulated sessions: share of sets counted exactly, phantom reps, rep recall,
mean absolute error of each phase duration and of the peak angle, precision/recall/F1 of the
``momentum`` and ``above_hip_line`` flags. For ../shared/datasets/pte: per file, sets counted
exactly and labelled reps found (e5 with ``--exercise prone-leg-lift``; left-ankle files must
give no reps; e1/e3/e4 reported for how close they get).

    python scripts/bench_accuracy.py            # 40 simulated sessions + all PTE files
    python scripts/bench_accuracy.py --quick    # 4 sessions + the e5 files (the test suite)
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import imu
from imu.results import SessionResult
from imu.settings import load_settings

PHASES = ("concentric_s", "top_hold_s", "eccentric_s", "bottom_pause_s")
FLAGS = ("momentum", "above_hip_line")
REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared"


@dataclass
class Tally:
    """Counts accumulated over sessions."""

    sets_truth: int = 0
    sets_exact: int = 0
    sets_phantom: int = 0
    reps_truth: int = 0
    reps_found: int = 0
    reps_phantom: int = 0
    errors: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PHASES})
    peak_errors: list[float] = field(default_factory=list)
    flag_tp: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FLAGS, 0))
    flag_fp: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FLAGS, 0))
    flag_fn: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FLAGS, 0))
    failures: list[str] = field(default_factory=list)

    def merge(self, other: Tally) -> None:
        for name in ("sets_truth", "sets_exact", "sets_phantom", "reps_truth", "reps_found",
                     "reps_phantom"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for p in PHASES:
            self.errors[p].extend(other.errors[p])
        self.peak_errors.extend(other.peak_errors)
        for f in FLAGS:
            self.flag_tp[f] += other.flag_tp[f]
            self.flag_fp[f] += other.flag_fp[f]
            self.flag_fn[f] += other.flag_fn[f]
        self.failures.extend(other.failures)


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def score(result: SessionResult, truth_sets: Sequence[dict], label: str) -> Tally:
    """Match detected sets/reps to truth ones (by time overlap) and count."""
    t = Tally()
    detected_sets = list(result.sets)
    used_sets: set[int] = set()
    det_reps = [(s.index, r) for s in detected_sets for r in s.reps]
    used_reps: set[tuple[int, int]] = set()
    for ts in truth_sets:
        t.sets_truth += 1
        best, best_ov = None, 0.0
        for s in detected_sets:
            ov = _overlap(ts["start_s"], ts["end_s"], s.start_s, s.end_s)
            if ov > best_ov:
                best, best_ov = s, ov
        n_truth = len(ts["reps"])
        if best is not None:
            used_sets.add(best.index)
            if best.rep_count == n_truth:
                t.sets_exact += 1
            else:
                t.failures.append(f"{label}: set at {ts['start_s']:.0f} s has {n_truth} reps, "
                                  f"found {best.rep_count}")  # fmt: skip
        else:
            t.failures.append(f"{label}: set at {ts['start_s']:.0f} s ({n_truth} reps) not found")
        for tr in ts["reps"]:
            t.reps_truth += 1
            match = None
            for si, r in det_reps:
                if (si, r.index) in used_reps:
                    continue
                # the detected peak lies within the labelled rep
                peak_t = 0.5 * (r.top_start_s + r.top_end_s)
                if tr["start_s"] - 0.3 <= peak_t <= tr["end_s"] + 0.3:
                    match = (si, r)
                    break
            if match is None:
                continue
            used_reps.add((match[0], match[1].index))
            t.reps_found += 1
            r = match[1]
            if "top_start_s" not in tr:
                continue
            truth_phases = {
                "concentric_s": tr["top_start_s"] - tr["start_s"],
                "top_hold_s": tr["top_end_s"] - tr["top_start_s"],
                "eccentric_s": tr["end_s"] - tr["top_end_s"],
                "bottom_pause_s": tr.get("bottom_pause_s"),
            }
            for p in PHASES:
                tv, dv = truth_phases[p], getattr(r, p)
                if tv is not None and dv is not None:
                    t.errors[p].append(abs(dv - tv))
            t.peak_errors.append(abs(r.peak_angle_deg - tr["peak_angle_deg"]))
            for f in FLAGS:
                has_t, has_d = f in tr.get("flags", []), f in r.flag_names
                t.flag_tp[f] += has_t and has_d
                t.flag_fp[f] += has_d and not has_t
                t.flag_fn[f] += has_t and not has_d
    t.sets_phantom = len([s for s in detected_sets if s.index not in used_sets])
    t.reps_phantom = len(det_reps) - len(used_reps)
    if t.reps_phantom:
        t.failures.append(f"{label}: {t.reps_phantom} phantom rep(s)")
    return t


def _with_pauses(truth_sets: Iterable[dict]) -> list[dict]:
    out = []
    for s in truth_sets:
        reps = [dict(r) for r in s["reps"]]
        for a, b in itertools.pairwise(reps):
            a["bottom_pause_s"] = b["start_s"] - a["end_s"]
        out.append({**s, "reps": reps})
    return out


def run_simulated(seed: int) -> Tally:
    from imu.simulate import random_spec, simulate_session

    rng = np.random.default_rng(seed)
    spec = random_spec(rng)
    session = simulate_session(spec, seed=seed)
    exercise = session.truth.get("exercise", "reverse-hyper")
    # a user on a tilted bench or ball tells the tool the hip line's tilt
    settings = load_settings(
        exercise=exercise,
        overrides={"hip_line_offset_deg": session.truth.get("hip_line_offset_deg", 0.0)},
    )
    result = imu.analyze(session.recording, settings=settings)
    label = f"sim seed {seed} ({session.truth.get('setup')}, {exercise})"
    return score(result, _with_pauses(session.truth["sets"]), label)


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else float("nan")
    r = tp / (tp + fn) if tp + fn else float("nan")
    f = 2 * p * r / (p + r) if p + r and not np.isnan(p + r) else float("nan")
    return p, r, f


def report_simulated(total: Tally, n: int) -> None:
    print(f"simulated sessions: {n}")
    exact = 100.0 * total.sets_exact / max(1, total.sets_truth)
    print(f"  sets counted exactly: {total.sets_exact}/{total.sets_truth} = {exact:.1f} %")
    print(f"  phantom sets: {total.sets_phantom}")
    print(f"  phantom reps: {total.reps_phantom}")
    recall = 100.0 * total.reps_found / max(1, total.reps_truth)
    print(f"  rep recall: {total.reps_found}/{total.reps_truth} = {recall:.2f} %")
    for p in PHASES:
        e = np.array(total.errors[p])
        if e.size:
            print(f"  MAE {p}: {e.mean():.3f} s (p95 {np.percentile(e, 95):.3f} s, n={e.size})")
    pe = np.array(total.peak_errors)
    if pe.size:
        print(f"  MAE peak_angle_deg: {pe.mean():.2f}° (p95 {np.percentile(pe, 95):.2f}°)")
    for f in FLAGS:
        p, r, f1 = _f1(total.flag_tp[f], total.flag_fp[f], total.flag_fn[f])
        print(f"  flag {f}: precision {p:.3f} recall {r:.3f} F1 {f1:.3f} "
              f"(tp {total.flag_tp[f]}, fp {total.flag_fp[f]}, fn {total.flag_fn[f]})")  # fmt: skip
    for line in total.failures[:15]:
        print(f"    miss: {line}")


def run_pte(shared: Path, exercises: Sequence[str]) -> None:
    folder = shared / "datasets" / "pte"
    if not folder.is_dir():
        print(f"PTE: {folder} not found, skipped")
        return
    for ex in exercises:
        files = sorted(folder.glob(f"pte_s*_{ex}_u*.csv"))
        sets_ok = sets_all = reps_found = reps_all = phantom = 0
        left_reps = 0
        for f in files:
            truth = json.loads(f.with_name(f.stem + ".truth.json").read_text())
            result = imu.analyze(f, exercise="prone-leg-lift")
            if f.stem.endswith("u1"):
                left_reps += result.rep_count
                print(f"  {f.name}: {result.rep_count} reps (expected none)")
                continue
            t = score(result, truth["sets"], f.name)
            sets_ok += t.sets_exact
            sets_all += t.sets_truth
            reps_found += t.reps_found
            reps_all += t.reps_truth
            phantom += t.reps_phantom
            counts = [s.rep_count for s in result.sets]
            labelled = [len(s["reps"]) for s in truth["sets"]]
            print(
                f"  {f.name}: sets {counts} vs {labelled}, labelled reps found "
                f"{t.reps_found}/{t.reps_truth}, phantom {t.reps_phantom}"
            )
        print(
            f"PTE {ex} (right ankle): sets exact {sets_ok}/{sets_all}, labelled reps found "
            f"{reps_found}/{reps_all}, phantom reps {phantom}; left ankle: {left_reps} reps"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="4 sessions and the e5 files")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-pte", action="store_true")
    args = parser.parse_args(argv)
    n = 4 if args.quick else args.sessions
    t0 = time.perf_counter()
    seeds = list(range(args.first_seed, args.first_seed + n))
    total = Tally()
    if args.jobs > 1 and n > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            for tally in pool.map(run_simulated, seeds):
                total.merge(tally)
    else:
        for s in seeds:
            total.merge(run_simulated(s))
    report_simulated(total, n)
    if not args.no_pte:
        run_pte(args.shared, ["e5"] if args.quick else ["e5", "e1", "e3", "e4"])
    print(f"elapsed: {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
