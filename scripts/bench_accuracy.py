"""Accuracy benchmark: our simulator, the independent simulator, and the real PTE recordings.

Prints, side by side, the figures of three sources scored with :mod:`imu.evaluation`:

- ``imu simulate`` sessions of the **report seeds** (``--report-seed``, never tuned on; bench,
  machine and floor, and once more drawing from every set-up, the seated, supine and side-lying
  raises too); the tune seeds (``--tune-seed``) are printed too, so that a rule that fits them and
  not the rest shows;
- ``../shared/datasets/sim-independent`` — a separate simulator sharing no code with ours;
- PTE (Yurtman & Barshan 2014): per exercise and **per held-out subject** (leave one subject out:
  the figure of subject *k* is what the rules give on *k*; the rules and thresholds are fixed in
  the code, decided on the other subjects — see the README), the still left leg's reps too.

Every analysis runs with no ``--exercise`` (``auto``) unless ``--exercise`` is given.

    python scripts/bench_accuracy.py             # 40 + 40 seeds, sim-independent, all PTE files
    python scripts/bench_accuracy.py --quick     # a few of each (the test suite)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import imu
from imu.evaluation import PHASES, SCORED_FLAGS, Tally, load_truth, score, truth_path_for
from imu.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared"
PTE_EXERCISES = {
    "e5": "prone leg raise",
    "e1": "seated knee extension",
    "e3": "supine straight-leg raise",
    "e4": "side-lying leg raise",
}
_PTE_NAME = re.compile(r"pte_s(\d+)_(e\d)_(u\d)")

#: (job kind, argument, exercise or None) → (label, tally, detected counts, true counts)
Job = tuple[str, str, str | None]


def _run_job(job: Job) -> tuple[str, Tally, list[int], list[int]]:
    kind, arg, exercise = job
    if kind in ("sim", "simall"):
        import numpy as np

        from imu.evaluation import truth_from_dict
        from imu.simulate import SETUPS, random_spec, simulate_session

        seed = int(arg)
        rng = np.random.default_rng(seed)
        spec = random_spec(rng, setups=SETUPS) if kind == "simall" else random_spec(rng)
        session = simulate_session(spec, seed=seed)
        truth = truth_from_dict(session.truth)
        source: Any = session.recording
        label = f"seed {seed} ({truth.setup})"
    else:
        truth = load_truth(truth_path_for(arg))
        source = Path(arg)
        label = Path(arg).stem
    if exercise == "truth":  # the profile the truth names (an oracle, to tell apart counting
        exercise = truth.exercise if truth.source != "pte" else "prone-leg-lift"  # and choice)
    settings = load_settings(exercise=exercise, overrides=dict(truth.settings_hint))
    result = imu.analyze(source, settings=settings)
    tally = score(result, truth, label=label)
    return label, tally, [s.rep_count for s in result.sets], [len(s.reps) for s in truth.sets]


#: the set rules' constants the leave-one-subject-out check chooses among (the defaults first)
LOSO_GRID: dict[str, tuple[float, ...]] = {
    "imu.segmentation.sets.ATTEMPT_REACH": (0.25, 0.2, 1 / 3),
    "imu.segmentation.sets.TOP_REACH": (0.8, 0.7),
    "imu.segmentation.rules.SHOULDER_FRACTION": (0.25, 0.2, 1 / 3),
}


def _with_constants(
    task: tuple[tuple[tuple[str, float], ...], Job],
) -> tuple[str, Tally, list[int], list[int]]:
    """:func:`_run_job` with some of the rules' module constants set (restored afterwards)."""
    import importlib

    constants, job = task
    saved = []
    for dotted, value in constants:
        module, name = dotted.rsplit(".", 1)
        mod = importlib.import_module(module)
        saved.append((mod, name, getattr(mod, name)))
        setattr(mod, name, value)
    try:
        return _run_job(job)
    finally:
        for mod, name, value in saved:
            setattr(mod, name, value)


def _run_all(jobs: list[Job], n_jobs: int) -> list[tuple[str, Tally, list[int], list[int]]]:
    if n_jobs > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(n_jobs) as pool:
            return list(pool.map(_run_job, jobs))
    return [_run_job(j) for j in jobs]


def _fmt(value: float, spec: str) -> str:
    return "—" if value != value else format(value, spec)


def _cells(t: Tally) -> list[tuple[str, str]]:
    """One column of the side-by-side table: (row title, cell) pairs."""
    cells = [
        ("sessions", str(t.sessions)),
        ("sets exact", f"{t.sets_exact}/{t.sets_truth} {_fmt(t.sets_exact_pct, '.1f')} %"),
        ("phantom reps", str(t.reps_phantom)),
        ("rep recall", f"{_fmt(t.rep_recall_pct, '.2f')} %"),
    ]
    cells += [(f"MAE {p}", _fmt(t.phase_mae_s(p), ".3f") + " s") for p in PHASES]
    cells.append(("MAE peak angle", _fmt(t.peak_mae_deg, ".2f") + "°"))
    cells += [(f"F1 {f}", _fmt(t.flag_prf(f)[2], ".3f")) for f in SCORED_FLAGS]
    straight = t.figures()
    cells.append(("  knee straight at top:", ""))
    cells.append(("  MAE peak angle", _fmt(straight["peak_mae_straight_knee_deg"], ".2f") + "°"))
    cells += [
        (f"  F1 {f}", _fmt(t.flag_prf(f, straight_knee=True)[2], ".3f")) for f in SCORED_FLAGS
    ]
    return cells


def _table(columns: dict[str, Tally]) -> list[str]:
    names = list(columns)
    width = max(24, *(len(n) + 2 for n in names))
    cols = [_cells(columns[n]) for n in names]
    out = ["".ljust(22) + "".join(n.rjust(width) for n in names)]
    for i, (title, _) in enumerate(cols[0]):
        out.append(title.ljust(22) + "".join(c[i][1].rjust(width) for c in cols))
    return out


def bench_simulators(args: argparse.Namespace) -> dict[str, Tally]:
    groups = _simulator_groups(args)
    columns: dict[str, Tally] = {}
    for name, jobs in groups.items():
        results = _run_all(jobs, args.jobs)
        columns[name] = Tally.total(r[1] for r in results)
        if args.verbose:
            for label, _t, got, want in results:
                mark = "" if got == want else "   <-- differs"
                print(f"  {name}: {label}: found {got}, true {want}{mark}")
    print("Simulated sessions (no --exercise given)" if args.exercise is None else
          f"Simulated sessions (--exercise {args.exercise})")  # fmt: skip
    for line in _table(columns):
        print("  " + line)
    _print_misses(columns, args.failures)
    return columns


def _simulator_groups(args: argparse.Namespace) -> dict[str, list[Job]]:
    """The columns of the simulator table and their sessions: ours on the tuning and the
    reporting seeds (and every set-up), and the independent simulator's files where found."""
    n = args.sessions
    groups: dict[str, list[Job]] = {
        f"ours, tune {args.tune_seed}+": [
            ("sim", str(s), args.exercise) for s in range(args.tune_seed, args.tune_seed + n)
        ],
        f"ours, report {args.report_seed}+": [
            ("sim", str(s), args.exercise) for s in range(args.report_seed, args.report_seed + n)
        ],
        # every set-up, the generic ones (seated, supine, side) too: the profile choice
        f"ours, all set-ups {args.report_seed}+": [
            ("simall", str(s), args.exercise) for s in range(args.report_seed, args.report_seed + n)
        ],
    }
    indep = args.shared / "datasets" / "sim-independent"
    files = sorted(indep.glob("*.csv"))
    if args.quick:
        files = files[:: max(1, len(files) // 4)][:4]
    if files:
        groups["sim-independent"] = [("file", str(f), args.exercise) for f in files]
    else:
        print(f"sim-independent: {indep} not found, skipped")
    return groups


def _print_misses(columns: dict[str, Tally], limit: int) -> None:
    """Each column's misses, the first ``limit`` of them."""
    for name, t in columns.items():
        if t.failures:
            print(f"  {name}: misses")
            for line in t.failures[:limit]:
                print(f"    {line}")
            if len(t.failures) > limit:
                print(f"    … and {len(t.failures) - limit} more")


def bench_pte(args: argparse.Namespace) -> None:
    folder = args.shared / "datasets" / "pte"
    if not folder.is_dir():
        print(f"PTE: {folder} not found, skipped")
        return
    exercises = ["e5", "e1"] if args.quick else list(PTE_EXERCISES)
    jobs: list[Job] = []
    for ex in exercises:
        files = sorted(folder.glob(f"pte_s*_{ex}_u*.csv"))
        if args.quick:
            files = [f for f in files if "_s1_" in f.name]
        jobs += [("file", str(f), args.exercise) for f in files]
    results = _run_all(jobs, args.jobs)
    # exercise → subject → (tally of the moving leg, reps on the still leg)
    table: dict[str, dict[int, list[Any]]] = defaultdict(dict)
    for (_, path, _), (_label, tally, got, want) in zip(jobs, results, strict=True):
        m = _PTE_NAME.search(path)
        assert m is not None
        subject, ex, unit = int(m.group(1)), m.group(2), m.group(3)
        entry = table[ex].setdefault(subject, [Tally(), 0, [], []])
        if unit == "u1":
            entry[1] += tally.reps_on_still
        else:
            entry[0].merge(tally)
            entry[2], entry[3] = got, want
    print("PTE, leave one subject out (each subject's figure is held out; no --exercise given)"
          if args.exercise is None else f"PTE (--exercise {args.exercise})")  # fmt: skip
    for ex in exercises:
        per = table.get(ex, {})
        total = Tally.total(v[0] for v in per.values())
        still = sum(v[1] for v in per.values())
        print(
            f"  PTE {ex} {PTE_EXERCISES[ex]}: sets exact {total.sets_exact}/{total.sets_truth}, "
            f"labelled reps found {total.reps_found}/{total.reps_truth}, phantom reps "
            f"{total.reps_phantom}; still leg: {still} reps"
        )
        for subject in sorted(per):
            t, still_reps, got, want = per[subject]
            print(
                f"    held-out subject {subject}: sets exact {t.sets_exact}/{t.sets_truth}, "
                f"reps found {t.reps_found}/{t.reps_truth}, phantom {t.reps_phantom}, "
                f"counts {got} vs {want}; still leg {still_reps} reps"
            )


def bench_loso(args: argparse.Namespace) -> None:
    """Leave one subject out with the rules' constants *chosen*: for each held-out subject, the
    grid point (:data:`LOSO_GRID`) with the most sets exact on the other subjects (ties: fewer
    phantom reps, then the default) is scored on the held-out one."""
    import itertools

    folder = args.shared / "datasets" / "pte"
    files = sorted(folder.glob("pte_s*_e*_u2.csv"))
    names = list(LOSO_GRID)
    combos = list(itertools.product(*LOSO_GRID.values()))
    tasks = [
        (tuple(zip(names, combo, strict=True)), ("file", str(f), args.exercise))
        for combo in combos
        for f in files
    ]
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(_with_constants, tasks, chunksize=4))
    else:
        results = [_with_constants(t) for t in tasks]
    # combo → subject → tally
    score: dict[int, dict[int, Tally]] = defaultdict(lambda: defaultdict(Tally))
    for k, ((_, (_, path, _)), (_, tally, _, _)) in enumerate(zip(tasks, results, strict=True)):
        m = _PTE_NAME.search(path)
        assert m is not None
        score[k // len(files)][int(m.group(1))].merge(tally)
    subjects = sorted({s for per in score.values() for s in per})
    print("PTE, leave one subject out with the set rules' constants chosen on the others:")
    held = Tally()
    for subject in subjects:

        def merit(c: int, subject: int = subject) -> tuple[int, int, int]:
            rest = Tally.total(t for s, t in score[c].items() if s != subject)
            return (rest.sets_exact, -rest.reps_phantom, -c)

        best = max(range(len(combos)), key=merit)
        t = score[best][subject]
        held.merge(t)
        pairs = zip(names, combos[best], strict=True)
        chosen = ", ".join(f"{n.rsplit('.', 1)[1]}={v:.2f}" for n, v in pairs)
        print(
            f"  held-out subject {subject}: chosen on the others {chosen}"
            f"{' (the default)' if best == 0 else ''}; sets exact {t.sets_exact}/{t.sets_truth}, "
            f"reps found {t.reps_found}/{t.reps_truth}, phantom {t.reps_phantom}"
        )
    print(
        f"  held out, all subjects: sets exact {held.sets_exact}/{held.sets_truth}, reps found "
        f"{held.reps_found}/{held.reps_truth}, phantom {held.reps_phantom}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sessions", type=int, default=40, help="simulated sessions per seed range"
    )
    parser.add_argument("--tune-seed", type=int, default=1000, help="first seed tuned on")
    parser.add_argument("--report-seed", type=int, default=90000, help="first seed reported")
    parser.add_argument(
        "--exercise",
        default=None,
        help="force a profile (default: auto); 'truth': the one the truth file names",
    )
    parser.add_argument("--quick", action="store_true", help="a few sessions and files")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--no-pte", action="store_true")
    parser.add_argument(
        "--loso-grid",
        action="store_true",
        help="also choose the set rules' constants on the other PTE subjects (slow)",
    )
    parser.add_argument("--no-sim", action="store_true")
    parser.add_argument("--failures", type=int, default=10, help="misses listed per source")
    parser.add_argument("-v", "--verbose", action="store_true", help="every session's counts")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.sessions = 3
    t0 = time.perf_counter()
    figures: dict[str, Any] = {}
    if not args.no_sim:
        figures = {k: t.figures() for k, t in bench_simulators(args).items()}
    if not args.no_pte:
        bench_pte(args)
        if args.loso_grid:
            bench_loso(args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    print(f"elapsed: {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
