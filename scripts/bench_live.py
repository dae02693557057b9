"""Live-path benchmark: agreement with ``imu analyze``, latencies, CPU and memory.

Every recording is streamed through :class:`imu.live.detector.LiveDetector` in chunks and
compared with the offline pipeline on the same file:

* **agreement** — per set, the live path's final count (its last ``set_end`` for that set index)
  equals the offline ``rep_count`` (sets only one side found count as disagreements), over our
  simulator's report seeds, the first ten of them again with the sensor turned any way on the
  shank (``--turned N``), ``../shared/datasets/sim-independent`` and every PTE recording, all
  with no ``--exercise`` (``auto``, as a user would run them);
* **withdrawals** — ``rep_cancelled`` events: of a rep the truth has (a true rep announced and
  taken back: should never happen) or of a movement that is not a rep (a correction, said
  aloud), and how many reps were announced and withdrawn in *clean* sets (no movement that is not
  a rep next to them in the simulator's truth);
* **latency** — ``rep``: ``t_s − top_start_s`` of the offline rep it matches; ``above_hip_line``:
  ``t_s −`` the instant the leg crossed the tolerance (true θ for simulated sessions, the offline
  θ for PTE: this includes the live angle's own error near the tolerance), and ``t_s −`` the
  instant the live θ crossed it; ``momentum``: ``t_s − top_start_s``; ``set_end``: ``t_s −`` the
  offline set's last rep end — median and 95th percentile; and the reps *said* (returned by
  ``update``) over a second after they fired: those of a stream worked through again on a shank
  axis found while streaming (the turned sessions are reported apart);
* **CPU** — process time per second of data at 100 Hz and 1 kHz (50 ms chunks, and 1 sample);
* **memory** — tracemalloc over a 2-hour simulated stream (current at each half hour, peak).

    python scripts/bench_live.py            # 40 simulated sessions, all PTE files, 2-hour stream
    python scripts/bench_live.py --quick    # 3 sessions, the e5 files, short streams (the tests)
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
import tracemalloc
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imu.evaluation import Truth, load_truth, truth_from_dict, truth_path_for
from imu.live.detector import LiveDetector, LiveEvent
from imu.pipeline import analyze_recording
from imu.recording import Recording, read_recording
from imu.results import SessionResult
from imu.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SHARED = REPO.parent / "shared"
LATENCY_KINDS = ("rep", "above_hip_line", "above_hip_line (live θ)", "momentum", "set_end")


def stream(
    recording: Recording, settings: Settings, *, chunk: int
) -> tuple[list[LiveEvent], list[float]]:
    """Every event of the live path over a recording fed ``chunk`` samples at a time, and when
    each was said: the time of the last sample of the chunk that returned it (later than it
    fired when the stream was worked through again on a shank axis found while streaming)."""
    det = LiveDetector(settings, sampling_rate_hz=recording.sample_rate_hz)
    events: list[LiveEvent] = []
    said: list[float] = []
    t, acc, gyro = recording.time_s, recording.acc_g, recording.gyro_dps
    for i in range(0, t.shape[0], chunk):
        new = det.update(t[i : i + chunk], acc[i : i + chunk], gyro[i : i + chunk])
        events += new
        said += [float(t[min(i + chunk, t.shape[0]) - 1])] * len(new)
    new = det.finish()
    events += new
    said += [float(t[-1])] * len(new)
    return events, said


def live_set_counts(events: Sequence[LiveEvent]) -> dict[int, int]:
    """Final count of each set the live path kept (the last word on each set index)."""
    final: dict[int, tuple[str, int]] = {}
    for e in events:
        if e.event in ("set_end", "set_cancelled") and e.set_index is not None:
            final[e.set_index] = (e.event, int(e.rep_count or 0))
    return {k: n for k, (kind, n) in final.items() if kind == "set_end"}


@dataclass
class Outcome:
    """What one recording contributed."""

    label: str
    sets: int = 0
    agree: int = 0
    offline: list[int] = field(default_factory=list)
    live: list[int] = field(default_factory=list)
    latency: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in LATENCY_KINDS})
    #: reps said more than a second after they fired (the stream worked through again on a
    #: shank axis found while streaming)
    held: list[float] = field(default_factory=list)
    withdrawn_true: int = 0  #: true reps announced and taken back
    withdrawn_other: int = 0  #: movements that are not reps, announced and taken back
    withdrawn_clean: int = 0  #: withdrawals in sets with nothing but reps in the truth
    clean_sets: int = 0

    @property
    def ok(self) -> bool:
        return self.sets == self.agree


def compare(
    label: str,
    result: SessionResult,
    events: Sequence[LiveEvent],
    said_s: Sequence[float],
    *,
    theta_time_s: np.ndarray,
    theta_deg: np.ndarray,
    tolerance_deg: float | None,
    truth: Truth | None = None,
) -> Outcome:
    out = Outcome(label)
    if truth is not None:
        _withdrawals(out, events, truth)
    off = {s.index: s.rep_count for s in result.sets}
    live = live_set_counts(events)
    for k in sorted(set(off) | set(live)):
        out.sets += 1
        out.agree += int(off.get(k) == live.get(k))
    out.offline = [off[k] for k in sorted(off)]
    out.live = [live[k] for k in sorted(live)]
    _latencies(out, result, events, said_s, theta_time_s, theta_deg, tolerance_deg)
    return out


def _latencies(out: Outcome, result: SessionResult, events: Sequence[LiveEvent],
               said_s: Sequence[float], theta_time_s: np.ndarray, theta_deg: np.ndarray,
               tolerance_deg: float | None) -> None:  # fmt: skip
    """Each event's latency (to the sample it fired at), and the reps said over a second later
    than that (the end of the chunk that returned them: a stream worked through again)."""
    reps = [r for s in result.sets for r in s.reps]
    for e, said in zip(events, said_s, strict=True):
        if e.event == "rep" and said - e.t_s > 1.0:
            out.held.append(said - e.t_s)
        if e.event in ("rep", "momentum") and e.top_start_s is not None and reps:
            match = min(reps, key=lambda r: abs(r.top_start_s - e.top_start_s))  # type: ignore[operator]
            if match.start_s - 0.5 <= e.top_start_s <= match.end_s:
                out.latency[e.event].append(e.t_s - match.top_start_s)
        elif e.event == "above_hip_line" and tolerance_deg is not None:
            crossing = last_crossing(theta_time_s, theta_deg, tolerance_deg, before_s=e.t_s + 0.5)
            if crossing is not None and e.t_s - crossing < 5.0:
                out.latency["above_hip_line"].append(e.t_s - crossing)
            if e.crossing_s is not None:
                out.latency["above_hip_line (live θ)"].append(e.t_s - e.crossing_s)
        elif e.event == "set_end" and e.set_index in {s.index for s in result.sets}:
            s = next(s for s in result.sets if s.index == e.set_index)
            out.latency["set_end"].append(e.t_s - s.end_s)


def _withdrawals(out: Outcome, events: Sequence[LiveEvent], truth: Truth) -> None:
    """Count the ``rep_cancelled`` events by what the truth says the movement was."""
    true_reps = [r for s in truth.sets for r in s.reps]
    dirty = {n.set_index for n in truth.non_reps}
    out.clean_sets = sum(1 for k in range(1, len(truth.sets) + 1) if k not in dirty)
    for e in events:
        if e.event != "rep_cancelled" or e.top_start_s is None:
            continue
        top = e.top_start_s
        hit = [r for r in true_reps if r.start_s - 0.3 <= top <= r.end_s + 0.3]
        if hit:
            out.withdrawn_true += 1
        else:
            out.withdrawn_other += 1
        near = [
            k
            for k, s in enumerate(truth.sets, start=1)
            if s.start_s - 15.0 <= top <= s.end_s + 15.0
        ]
        if truth.source == "imu-sim" and near and all(k not in dirty for k in near):
            out.withdrawn_clean += 1


def last_crossing(
    time_s: np.ndarray, theta: np.ndarray, level: float, *, before_s: float
) -> float | None:
    """The last instant before ``before_s`` at which ``theta`` rose through ``level``."""
    n = int(np.searchsorted(time_s, before_s))
    if n < 2:
        return None
    up = np.flatnonzero((theta[: n - 1] <= level) & (theta[1:n] > level))
    if up.size == 0:
        return None
    i = int(up[-1])
    frac = (level - theta[i]) / (theta[i + 1] - theta[i])
    return float(time_s[i] + frac * (time_s[i + 1] - time_s[i]))


def _run(rec: Recording, settings: Settings, label: str, truth: Truth | None,
         theta: tuple[np.ndarray, np.ndarray] | None, chunk_s: float) -> Outcome:  # fmt: skip
    result = analyze_recording(rec, settings)
    chunk = max(1, round(chunk_s * rec.sample_rate_hz))
    events, said = stream(rec, settings, chunk=chunk)
    t, th = theta if theta is not None else (result.trace.time_s, result.trace.theta_deg)
    return compare(
        label, result, events, said, theta_time_s=t, theta_deg=th,
        tolerance_deg=result.settings.tolerance_deg, truth=truth,
    )  # fmt: skip


def run_simulated(seed: int, chunk_s: float = 0.2, *, turned: bool = False) -> Outcome:
    from imu.simulate import random_spec, simulate_session
    from imu.simulate.spec import uniform_rotation_deg

    spec = random_spec(np.random.default_rng(seed))
    if turned:  # the sensor's axes turned any way on the shank (a phone in a sleeve)
        turn = uniform_rotation_deg(np.random.default_rng(seed + 7919))
        spec = dataclasses.replace(spec, sensor_rotation_deg=turn)
    session = simulate_session(spec, seed=seed)
    rec = session.recording
    # no --exercise (auto); a user on a tilted bench or ball tells the tool the hip line's tilt
    settings = load_settings(overrides={"hip_line_offset_deg": spec.hip_line_offset_deg})
    how = ", turned" if turned else ""
    label = f"sim seed {seed} ({spec.setup}, {rec.sample_rate_hz:g} Hz{how})"
    # the true θ, above the (tilted) hip line, like the settings
    return _run(rec, settings, label, truth_from_dict(session.truth),
                (rec.time_s, session.theta_deg), chunk_s)  # fmt: skip


def run_file(path: str, chunk_s: float = 0.2) -> Outcome:
    rec = read_recording(path)
    truth_file = truth_path_for(path)
    truth = load_truth(truth_file) if truth_file.exists() else None
    return _run(rec, load_settings(), Path(path).name, truth, None, chunk_s)


def _stats(values: Sequence[float]) -> str:
    if not values:
        return "n=0"
    a = np.asarray(values)
    return f"median {np.median(a):.3f} s, p95 {np.percentile(a, 95):.3f} s, n={a.size}"


def report_agreement(name: str, outcomes: Sequence[Outcome], *, verbose: bool) -> None:
    sets = sum(o.sets for o in outcomes)
    agree = sum(o.agree for o in outcomes)
    pct = 100.0 * agree / sets if sets else math.nan
    print(f"agreement {name}: {agree}/{sets} sets ({pct:.1f} %) over {len(outcomes)} recordings")
    for o in outcomes:
        if verbose or not o.ok:
            mark = "  " if o.ok else "≠ "
            print(f"  {mark}{o.label}: offline {o.offline} live {o.live}")


def report_withdrawals(outcomes: Sequence[Outcome]) -> None:
    true_ = sum(o.withdrawn_true for o in outcomes)
    other = sum(o.withdrawn_other for o in outcomes)
    clean = sum(o.withdrawn_clean for o in outcomes)
    sets = sum(o.clean_sets for o in outcomes)
    print(
        f"withdrawn: {true_} true rep(s), {other} movement(s) that were not reps; "
        f"in {sets} clean simulated sets: {clean}"
    )


def run_turned(seed: int) -> Outcome:
    return run_simulated(seed, turned=True)


def report_latency(outcomes: Sequence[Outcome]) -> None:
    for kind in LATENCY_KINDS:
        values = [v for o in outcomes for v in o.latency[kind]]
        print(f"latency {kind}: {_stats(values)}")
    held = [v for o in outcomes for v in o.held]
    files = sum(1 for o in outcomes if o.held)
    print(f"reps said over 1 s after they fired (worked through again on a shank axis found): "
          f"{_stats(held)}, in {files} of {len(outcomes)} recordings")  # fmt: skip


def long_recording(rate_hz: float, duration_s: float, seed: int) -> Recording:
    from imu.simulate import SessionSpec, simulate_session

    sets = max(1, min(20, int(duration_s // 360)))
    spec = SessionSpec(
        setup="bench",
        rate_hz=rate_hz,
        reps_per_set=(12,) * sets,
        min_duration_s=duration_s,
        rest_range_s=(60.0, 240.0),
    )
    return simulate_session(spec, seed=seed).recording


def cpu_share(rec: Recording, settings: Settings, *, chunk: int) -> float:
    """Process time per second of data, as % of one core."""
    det = LiveDetector(settings, sampling_rate_hz=rec.sample_rate_hz)
    t, acc, gyro = rec.time_s, rec.acc_g, rec.gyro_dps
    start = time.process_time()
    for i in range(0, t.shape[0], chunk):
        det.update(t[i : i + chunk], acc[i : i + chunk], gyro[i : i + chunk])
    det.finish()
    return 100.0 * (time.process_time() - start) / rec.duration_s


def report_cpu(quick: bool) -> None:
    settings = load_settings()
    for rate in (100.0, 1000.0):
        rec = long_recording(rate, (60.0 if rate < 500 else 30.0) if quick else 900.0, seed=11)
        for chunk_s in (0.05, None):
            chunk = 1 if chunk_s is None else max(1, round(chunk_s * rate))
            if chunk == 1 and rate > 100 and quick:
                continue
            what = "1 sample" if chunk == 1 else f"{chunk}-sample (50 ms)"
            pct = cpu_share(rec, settings, chunk=chunk)
            print(f"cpu {rate:g} Hz, {what} chunks: {pct:.2f} % of one core")


def report_memory(quick: bool) -> None:
    duration = 120.0 if quick else 7200.0
    rec = long_recording(100.0, duration, seed=12)
    settings = load_settings()
    det = LiveDetector(settings, sampling_rate_hz=rec.sample_rate_hz)
    t, acc, gyro = rec.time_s, rec.acc_g, rec.gyro_dps
    chunk = 5
    marks = np.arange(1, 5) * (rec.duration_s / 4) + t[0]
    readings = []
    tracemalloc.start()
    k = 0
    for i in range(0, t.shape[0], chunk):
        det.update(t[i : i + chunk], acc[i : i + chunk], gyro[i : i + chunk])
        if k < marks.size and t[min(i + chunk, t.shape[0]) - 1] >= marks[k] - 0.05:
            readings.append(tracemalloc.get_traced_memory()[0] / 1e6)
            k += 1
    det.finish()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    at = ", ".join(f"{m:.2f}" for m in readings)
    print(
        f"memory over a {rec.duration_s / 3600:.2f} h stream at 100 Hz: current at each quarter "
        f"{at} MB, peak {peak:.2f} MB (tracemalloc, detector only)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a small run (used by the test suite)")
    ap.add_argument("--sessions", type=int, default=None, help="simulated sessions (default 40)")
    ap.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared folder")
    ap.add_argument("--first-seed", type=int, default=90000, help="first simulated seed")
    ap.add_argument("--jobs", type=int, default=None, help="worker processes")
    ap.add_argument("--verbose", "-v", action="store_true", help="list every recording")
    ap.add_argument("--no-perf", action="store_true", help="skip the CPU and memory figures")
    ap.add_argument("--turned", type=int, default=None, help="sessions turned any way (default 10)")
    args = ap.parse_args(argv)
    n = args.sessions if args.sessions is not None else (2 if args.quick else 40)
    data = args.shared / "datasets"
    pte = sorted(str(p) for p in (data / "pte").glob("pte_s1_e5_*.csv" if args.quick else "*.csv"))
    indep = sorted(str(p) for p in (data / "sim-independent").glob("*.csv"))[
        : 2 if args.quick else None
    ]
    seeds = range(args.first_seed, args.first_seed + n)
    n_turned = args.turned if args.turned is not None else (1 if args.quick else 10)
    turned_seeds = seeds[:n_turned]
    started = time.perf_counter()
    if args.quick:
        sims = [run_simulated(seed) for seed in seeds]
        turned = [run_turned(seed) for seed in turned_seeds]
        other = [run_file(p) for p in indep]
        real = [run_file(p) for p in pte]
    else:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            sims = list(pool.map(run_simulated, seeds))
            turned = list(pool.map(run_turned, turned_seeds))
            other = list(pool.map(run_file, indep))
            real = list(pool.map(run_file, pte))
    report_agreement(f"ours (seeds {seeds.start}+)", sims, verbose=args.verbose)
    report_agreement(f"ours turned any way (seeds {seeds.start}+)", turned, verbose=args.verbose)
    report_agreement("sim-independent", other, verbose=args.verbose)
    report_agreement("PTE", real, verbose=args.verbose)
    everything = [*sims, *turned, *other, *real]
    report_agreement("all", everything, verbose=False)
    report_withdrawals([*sims, *other, *real])
    report_latency([*sims, *other, *real])
    print("turned any way:")
    report_withdrawals(turned)
    report_latency(turned)
    if not args.no_perf:
        report_cpu(args.quick)
        report_memory(args.quick)
    print(f"took {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
