"""Robustness benchmark: the same sessions with the faults real sensors and radios add.

Each recording is analysed as it is and again after one perturbation at a time, each drawn
``--draws`` times with its own random numbers (seeded, so a run repeats exactly):

- ``half rate``: every other sample (a sensor set to half the rate; not below 25 Hz);
- ``5 % lost``: single samples lost at random (a weak radio link);
- ``0.4 s bursts``: one stretch of 0.4 s lost per 30 s of recording, anywhere, mid-rep too
  (a body between sensor and phone);
- ``clock jitter``: each time stamp moved by up to ±30 % of the sample interval;
- ``noise``: 0.03 g and 2 °/s of white noise added (a cheaper sensor);
- ``gyro bias``: a constant (+3, −4, +2.5) °/s added;
- ``gain``: each axis's scale 3–5 % off;
- ``upside down``: the strap turned half a turn about the sensor's z axis (x and y negated).

Sources: our simulator's sessions (seeds from ``--first-seed``, a range no rule was tried on),
``../shared/datasets/sim-independent`` and the PTE prone leg raises (right ankle). Every analysis
runs with no ``--exercise`` (auto) and is scored with :mod:`imu.evaluation`. A row that falls
below the ``as recorded`` row is a fault the analysis does not yet absorb.

    python scripts/bench_robustness.py            # 20 sessions, every shared file, 3 draws
    python scripts/bench_robustness.py --quick    # 2 sessions, 2 files, 1 draw (the test suite)
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

import imu
from imu.evaluation import Tally, load_truth, score, truth_from_dict, truth_path_for
from imu.recording import Recording, read_recording
from imu.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared"

Perturb = Callable[[Recording, np.random.Generator], Recording]


def _with(rec: Recording, keep: np.ndarray | slice, *, rate_hz: float | None = None) -> Recording:
    meta = dict(rec.metadata)
    if rate_hz is not None:
        meta["sample_rate_hz"] = f"{rate_hz:g}"
    return Recording(rec.time_s[keep], rec.acc_g[keep], rec.gyro_dps[keep], meta)


def half_rate(rec: Recording, rng: np.random.Generator) -> Recording:
    if rec.sample_rate_hz / 2 < 25.0:
        return rec
    return _with(rec, slice(None, None, 2), rate_hz=rec.sample_rate_hz / 2)


def lost_samples(rec: Recording, rng: np.random.Generator) -> Recording:
    return _with(rec, rng.random(rec.time_s.shape[0]) > 0.05)


def bursts(rec: Recording, rng: np.random.Generator) -> Recording:
    n = rec.time_s.shape[0]
    keep = np.ones(n, dtype=bool)
    span = float(rec.time_s[-1] - rec.time_s[0])
    width = max(1, round(0.4 * rec.sample_rate_hz))
    for _ in range(max(1, round(span / 30.0))):
        i = int(rng.integers(1, max(2, n - width - 1)))
        keep[i : i + width] = False
    return _with(rec, keep)


def jitter(rec: Recording, rng: np.random.Generator) -> Recording:
    t = rec.time_s + rng.uniform(-0.3, 0.3, rec.time_s.shape[0]) / rec.sample_rate_hz
    order = np.argsort(t, kind="stable")
    return Recording(t[order], rec.acc_g[order], rec.gyro_dps[order], dict(rec.metadata))


def noise(rec: Recording, rng: np.random.Generator) -> Recording:
    acc = rec.acc_g + rng.normal(0.0, 0.03, rec.acc_g.shape)
    gyro = rec.gyro_dps + rng.normal(0.0, 2.0, rec.gyro_dps.shape)
    return Recording(rec.time_s, acc, gyro, dict(rec.metadata))


def gyro_bias(rec: Recording, rng: np.random.Generator) -> Recording:
    gyro = rec.gyro_dps + np.array([3.0, -4.0, 2.5])
    return Recording(rec.time_s, rec.acc_g, gyro, dict(rec.metadata))


def gain(rec: Recording, rng: np.random.Generator) -> Recording:
    signs = rng.choice([-1.0, 1.0], size=(2, 3))
    scale = 1.0 + signs * rng.uniform(0.03, 0.05, size=(2, 3))
    return Recording(rec.time_s, rec.acc_g * scale[0], rec.gyro_dps * scale[1], dict(rec.metadata))


def upside_down(rec: Recording, rng: np.random.Generator) -> Recording:
    flip = np.array([-1.0, -1.0, 1.0])
    return Recording(rec.time_s, rec.acc_g * flip, rec.gyro_dps * flip, dict(rec.metadata))


PERTURBATIONS: dict[str, Perturb | None] = {
    "as recorded": None,
    "half rate": half_rate,
    "5 % lost": lost_samples,
    "0.4 s bursts": bursts,
    "clock jitter": jitter,
    "noise": noise,
    "gyro bias": gyro_bias,
    "gain": gain,
    "upside down": upside_down,
}

#: (source kind, seed or path, perturbation name, draw)
Job = tuple[str, str, str, int]


def run_job(job: Job) -> tuple[str, str, Tally]:
    kind, arg, name, draw = job
    if kind == "sim":
        from imu.simulate import random_spec, simulate_session

        session = simulate_session(random_spec(np.random.default_rng(int(arg))), seed=int(arg))
        truth, rec, label = truth_from_dict(session.truth), session.recording, f"seed {arg}"
    else:
        truth, rec, label = load_truth(truth_path_for(arg)), read_recording(arg), Path(arg).stem
    perturb = PERTURBATIONS[name]
    if perturb is not None:
        rng = np.random.default_rng([zlib.crc32(label.encode()), zlib.crc32(name.encode()), draw])
        rec = perturb(rec, rng)
    settings = load_settings(overrides=dict(truth.settings_hint))
    return kind, name, score(imu.analyze(rec, settings=settings), truth, label=label)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=30000, help="first simulator seed")
    parser.add_argument("--draws", type=int, default=3, help="random draws per perturbation")
    parser.add_argument("--quick", action="store_true", help="2 sessions, 2 files, 1 draw")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    n_sim, draws = (2, 1) if args.quick else (args.sessions, args.draws)
    datasets = args.shared / "datasets"
    sources: dict[str, list[str]] = {
        "sim": [str(s) for s in range(args.first_seed, args.first_seed + n_sim)],
        "indep": [str(p) for p in sorted((datasets / "sim-independent").glob("*.csv"))],
        "pte": [str(p) for p in sorted((datasets / "pte").glob("pte_s*_e5_u2.csv"))],
    }
    if args.quick:
        sources = {k: v[:2] if k == "sim" else v[:1] for k, v in sources.items()}
    jobs: list[Job] = [
        (kind, arg, name, draw)
        for name in PERTURBATIONS
        for draw in range(1 if PERTURBATIONS[name] is None else draws)
        for kind, args_ in sources.items()
        for arg in args_
    ]
    tallies: dict[tuple[str, str], list[Tally]] = {}
    with ProcessPoolExecutor(args.jobs) as pool:
        for kind, name, tally in pool.map(run_job, jobs, chunksize=2):
            tallies.setdefault((kind, name), []).append(tally)
    titles = {"sim": "ours", "indep": "sim-independent", "pte": "PTE e5"}
    shown = [k for k in titles if sources[k]]
    print(
        f"sets counted exactly (phantom reps, rep recall); {n_sim} simulated sessions from seed "
        f"{args.first_seed}, {len(sources['indep'])} + {len(sources['pte'])} shared files, "
        f"{draws} draw(s) per perturbation"
    )
    print(f"  {'perturbation':<14}" + "".join(f"{titles[k]:>30}" for k in shown))
    for name in PERTURBATIONS:
        cells = []
        for kind in shown:
            t = Tally.total(tallies.get((kind, name), []))
            cells.append(
                f"{t.sets_exact}/{t.sets_truth} {t.sets_exact_pct:5.1f} % "
                f"({t.reps_phantom}, {t.rep_recall_pct:.1f} %)"
            )
        print(f"  {name:<14}" + "".join(f"{c:>30}" for c in cells))
    print(f"elapsed: {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
