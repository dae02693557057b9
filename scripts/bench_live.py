"""Live-path benchmark: agreement with ``imu analyze``, latencies, CPU and memory.

Every recording is streamed through :class:`imu.live.detector.LiveDetector` in chunks and
compared with the offline pipeline on the same file:

* **agreement** — per set, the live path's final count (its last ``set_end`` for that set index)
  equals the offline ``rep_count`` (sets only one side found count as disagreements), over
  simulated sessions (``random_spec``/``simulate_session``) and the real PTE recordings
  (``e5`` with ``--exercise prone-leg-lift``, the rest with the default profile; left-ankle
  ``u1`` files must give no reps);
* **latency** — ``rep``: ``t_s − top_start_s`` of the offline rep it matches; ``above_hip_line``:
  ``t_s −`` the instant the leg crossed the tolerance (true θ for simulated sessions, the offline
  θ for PTE: this includes the live angle's own error near the tolerance), and ``t_s −`` the
  instant the live θ crossed it; ``momentum``: ``t_s − top_start_s``; ``set_end``: ``t_s −`` the
  offline set's last rep end — median and 95th percentile;
* **CPU** — process time per second of data at 100 Hz and 1 kHz (50 ms chunks, and 1 sample);
* **memory** — tracemalloc over a 2-hour simulated stream (current at each half hour, peak).

    python scripts/bench_live.py            # 40 simulated sessions, all PTE files, 2-hour stream
    python scripts/bench_live.py --quick    # 3 sessions, the e5 files, short streams (the tests)
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import tracemalloc
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from imu.live.detector import LiveDetector, LiveEvent
from imu.pipeline import analyze_recording
from imu.recording import Recording, read_recording
from imu.results import SessionResult
from imu.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PTE = REPO.parent / "shared" / "datasets" / "pte"
LATENCY_KINDS = ("rep", "above_hip_line", "above_hip_line (live θ)", "momentum", "set_end")


def stream(recording: Recording, settings: Settings, *, chunk: int) -> list[LiveEvent]:
    """Every event of the live path over a recording fed ``chunk`` samples at a time."""
    det = LiveDetector(settings, sampling_rate_hz=recording.sample_rate_hz)
    events: list[LiveEvent] = []
    t, acc, gyro = recording.time_s, recording.acc_g, recording.gyro_dps
    for i in range(0, t.shape[0], chunk):
        events += det.update(t[i : i + chunk], acc[i : i + chunk], gyro[i : i + chunk])
    events += det.finish()
    return events


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

    @property
    def ok(self) -> bool:
        return self.sets == self.agree


def compare(
    label: str,
    result: SessionResult,
    events: Sequence[LiveEvent],
    *,
    theta_time_s: np.ndarray,
    theta_deg: np.ndarray,
    tolerance_deg: float,
) -> Outcome:
    out = Outcome(label)
    off = {s.index: s.rep_count for s in result.sets}
    live = live_set_counts(events)
    for k in sorted(set(off) | set(live)):
        out.sets += 1
        out.agree += int(off.get(k) == live.get(k))
    out.offline = [off[k] for k in sorted(off)]
    out.live = [live[k] for k in sorted(live)]
    reps = [r for s in result.sets for r in s.reps]
    for e in events:
        if e.event in ("rep", "momentum") and e.top_start_s is not None and reps:
            match = min(reps, key=lambda r: abs(r.top_start_s - e.top_start_s))  # type: ignore[operator]
            if match.start_s - 0.5 <= e.top_start_s <= match.end_s:
                out.latency[e.event].append(e.t_s - match.top_start_s)
        elif e.event == "above_hip_line":
            crossing = last_crossing(theta_time_s, theta_deg, tolerance_deg, before_s=e.t_s + 0.5)
            if crossing is not None and e.t_s - crossing < 5.0:
                out.latency["above_hip_line"].append(e.t_s - crossing)
            if e.crossing_s is not None:
                out.latency["above_hip_line (live θ)"].append(e.t_s - e.crossing_s)
        elif e.event == "set_end" and e.set_index in {s.index for s in result.sets}:
            s = next(s for s in result.sets if s.index == e.set_index)
            out.latency["set_end"].append(e.t_s - s.end_s)
    return out


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


def run_simulated(seed: int, chunk_s: float = 0.2) -> Outcome:
    from imu.simulate import random_spec, simulate_session

    spec = random_spec(np.random.default_rng(seed))
    session = simulate_session(spec, seed=seed)
    rec = session.recording
    # a user on a tilted bench or ball tells the tool the hip line's tilt
    settings = load_settings(
        exercise=spec.exercise, overrides={"hip_line_offset_deg": spec.hip_line_offset_deg}
    )
    result = analyze_recording(rec, settings)
    chunk = max(1, round(chunk_s * rec.sample_rate_hz))
    events = stream(rec, settings, chunk=chunk)
    label = f"sim seed {seed} ({spec.setup}, {rec.sample_rate_hz:g} Hz)"
    theta_true = session.theta_deg  # above the (tilted) hip line, like the settings
    return compare(
        label,
        result,
        events,
        theta_time_s=rec.time_s,
        theta_deg=theta_true,
        tolerance_deg=settings.tolerance_deg,
    )


def run_pte(path: str, chunk_s: float = 0.2) -> Outcome:
    rec = read_recording(path)
    exercise = "prone-leg-lift" if "_e5_" in Path(path).name else None
    settings = load_settings(exercise=exercise)
    result = analyze_recording(rec, settings)
    chunk = max(1, round(chunk_s * rec.sample_rate_hz))
    events = stream(rec, settings, chunk=chunk)
    return compare(
        Path(path).name,
        result,
        events,
        theta_time_s=result.trace.time_s,
        theta_deg=result.trace.theta_deg,
        tolerance_deg=settings.tolerance_deg,
    )


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


def report_latency(outcomes: Sequence[Outcome]) -> None:
    for kind in LATENCY_KINDS:
        values = [v for o in outcomes for v in o.latency[kind]]
        print(f"latency {kind}: {_stats(values)}")


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
    ap.add_argument("--pte", type=Path, default=DEFAULT_PTE, help="folder of the PTE recordings")
    ap.add_argument("--jobs", type=int, default=None, help="worker processes")
    ap.add_argument("--verbose", "-v", action="store_true", help="list every recording")
    ap.add_argument("--no-perf", action="store_true", help="skip the CPU and memory figures")
    args = ap.parse_args(argv)
    n = args.sessions if args.sessions is not None else (2 if args.quick else 40)
    pattern = "pte_s1_e5_*.csv" if args.quick else "*.csv"
    pte = sorted(str(p) for p in args.pte.glob(pattern)) if args.pte.is_dir() else []
    started = time.perf_counter()
    if args.quick:
        sims = [run_simulated(seed) for seed in range(n)]
        real = [run_pte(p) for p in pte]
    else:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            sims = list(pool.map(run_simulated, range(n)))
            real = list(pool.map(run_pte, pte))
    report_agreement("simulated", sims, verbose=args.verbose)
    if pte:
        report_agreement("PTE", real, verbose=args.verbose)
    else:
        print(f"agreement PTE: no recordings in {args.pte}")
    report_agreement("all", [*sims, *real], verbose=False)
    report_latency([*sims, *real])
    if not args.no_perf:
        report_cpu(args.quick)
        report_memory(args.quick)
    print(f"took {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
