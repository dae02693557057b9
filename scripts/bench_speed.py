"""Speed benchmark: the whole ``imu analyze --no-plots`` command on long 100 Hz recordings.

Prints, for a 1-hour and a 10-hour recording (a simulated session, tiled with shifted clocks):
wall time of the command (best of ``--repeat``), the time pandas alone needs to import itself
and read the same CSV, their ratio, the cost per hour of data, and the command's peak memory;
and, as the floors under the command, imu's own read plus the first stage (the leg angle) alone,
the same with numpy's reader, and the analysis alone in memory (no imports, no read, no files).
Targets (issue 9): 1 h within 1.5× of pandas' import + read, cost linear in length, 10 h under
1 GB of memory. Every timed process runs as an installed copy does, with its bytecode cached:
imu is compiled first and ``PYTHONDONTWRITEBYTECODE`` is dropped from their environment.

    python scripts/bench_speed.py            # 1 h and 10 h
    python scripts/bench_speed.py --quick    # 2 minutes only (the test suite runs this)
    python scripts/bench_speed.py --hours 1  # one length only
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

READ_WITH_PANDAS = "import sys, pandas; pandas.read_csv(sys.argv[1], comment='#')"
#: the floor under the whole command: imu reading the CSV and estimating the leg angle, nothing else
READ_AND_ANGLE = (
    "import sys; from imu.recording import read_recording; from imu.angle import "
    "estimate_leg_angle; r = read_recording(sys.argv[1]); "
    "estimate_leg_angle(r.time_s, r.acc_g, r.gyro_dps, sampling_rate_hz=r.sample_rate_hz)"
)
#: the same with numpy's CSV reader: the floor of an analysis that never imports pandas
NUMPY_READ_AND_ANGLE = (
    # the bench's file: a comment line, the header, then the samples at 100 Hz
    "import sys, numpy; d = numpy.loadtxt(sys.argv[1], delimiter=',', skiprows=2); "
    "from imu.angle import estimate_leg_angle; "
    "estimate_leg_angle(d[:, 0], d[:, 1:4], d[:, 4:7], sampling_rate_hz=100.0); "
    "assert 'pandas' not in sys.modules"
)
#: the analysis alone, in memory, after the imports and the read: what no faster parsing or
#: lighter start-up can touch (prints its own seconds)
ANALYSIS_ONLY = (
    "import sys, time; from imu.recording import read_recording; from imu.pipeline import "
    "analyze; r = read_recording(sys.argv[1]); t = time.perf_counter(); analyze(r); "
    "print(time.perf_counter() - t)"
)


def make_recording(path: Path, *, minutes: float, seed: int = 11) -> None:
    """A simulated 100 Hz bench session, repeated with shifted clocks up to ``minutes``."""
    import numpy as np

    from imu.recording import Recording, write_recording
    from imu.simulate import random_spec, simulate_session

    spec = random_spec(np.random.default_rng(seed), setup="bench")
    spec = type(spec)(**{**spec.__dict__, "rate_hz": 100.0})
    base = simulate_session(spec, seed=seed).recording
    span = float(base.time_s[-1] - base.time_s[0]) + 1.0 / 100.0
    copies = max(1, int(np.ceil(minutes * 60.0 / span)))
    n_keep = round(minutes * 60.0 * 100.0)
    time_s = np.concatenate([base.time_s + k * span for k in range(copies)])[:n_keep]
    acc = np.concatenate([base.acc_g] * copies)[:n_keep]
    gyro = np.concatenate([base.gyro_dps] * copies)[:n_keep]
    write_recording(path, Recording(time_s, acc, gyro, {"sample_rate_hz": "100"}), decimals=4)


def _installed_env(**extra: str) -> dict[str, str]:
    """The environment of the timed processes: as an installed program runs, with its modules'
    bytecode cached (a shell that sets PYTHONDONTWRITEBYTECODE would have imu compile its own
    modules on every run, a cost no installed copy pays; pandas' are compiled at install)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **extra}


def _compile_imu() -> None:
    """imu's bytecode written beside its modules (``__pycache__``), as an install does."""
    package = Path(__file__).resolve().parents[1] / "imu"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True,
                   env=_installed_env())  # fmt: skip


def _run(cmd: Sequence[str], repeat: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Best wall time of ``cmd`` over ``repeat`` runs, and its peak RSS in MB."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env or _installed_env())
        best = min(best, time.perf_counter() - t0)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return best, peak_kb / 1024.0


def _analysis_only(csv: Path, repeat: int) -> float:
    """Best in-process time of :data:`ANALYSIS_ONLY` over ``repeat`` processes."""
    cmd = [sys.executable, "-c", ANALYSIS_ONLY, str(csv)]
    runs = [
        subprocess.run(cmd, check=True, capture_output=True, text=True, env=_installed_env())
        for _ in range(repeat)
    ]
    return min(float(r.stdout.split()[-1]) for r in runs)


def bench(minutes: float, *, repeat: int, workdir: Path) -> tuple[float, float, float]:
    """Wall time of the command, its ratio to pandas' read, and the peak memory so far (MB)."""
    csv = workdir / f"session_{minutes:g}min.csv"
    t0 = time.perf_counter()
    make_recording(csv, minutes=minutes)
    size_mb = csv.stat().st_size / 1e6
    print(
        f"{minutes:g} min at 100 Hz: {size_mb:.0f} MB written in {time.perf_counter() - t0:.1f} s"
    )
    pandas_s, _ = _run([sys.executable, "-c", READ_WITH_PANDAS, str(csv)], repeat)
    out = workdir / f"out_{minutes:g}"
    cmd = [sys.executable, "-m", "imu", "analyze", str(csv), "--out", str(out)]
    cmd += ["--no-plots", "--quiet"]
    # the session is registered as always, in a history database of its own
    analyze_s, peak_mb = _run(cmd, repeat, _installed_env(IMU_DB=str(workdir / "h.sqlite")))
    floor_s, _ = _run([sys.executable, "-c", READ_AND_ANGLE, str(csv)], repeat)
    bare_s, _ = _run([sys.executable, "-c", NUMPY_READ_AND_ANGLE, str(csv)], repeat)
    alone_s = _analysis_only(csv, repeat)
    hours = minutes / 60.0
    print(f"  pandas import + read_csv: {pandas_s:.2f} s")
    print(
        f"  imu read + leg angle only: {floor_s:.2f} s "
        f"({floor_s / pandas_s:.1f}× pandas: the floor under the command)"
    )
    print(
        f"  numpy read + leg angle:    {bare_s:.2f} s "
        f"({bare_s / pandas_s:.1f}× pandas: the floor without pandas)"
    )
    print(
        f"  the analysis alone:        {alone_s:.2f} s "
        f"({alone_s / pandas_s:.1f}× pandas: in memory, after the imports and the read)"
    )
    ratio = analyze_s / pandas_s
    per_hour = analyze_s / hours
    print(
        f"  imu analyze --no-plots:   {analyze_s:.2f} s "
        f"({ratio:.1f}× pandas, {per_hour:.2f} s per hour of data)"
    )
    print(f"  peak memory of the runs so far: {peak_mb:.0f} MB")
    csv.unlink()
    return analyze_s, ratio, peak_mb


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 minutes only")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--hours", type=float, default=None, help="one recording of this length only"
    )
    args = parser.parse_args(argv)
    _compile_imu()
    with tempfile.TemporaryDirectory(prefix="imu-speed-") as tmp:
        work = Path(tmp)
        if args.quick:
            bench(2, repeat=1, workdir=work)
            return 0
        if args.hours is not None:
            bench(args.hours * 60.0, repeat=args.repeat, workdir=work)
            return 0
        one, ratio, _ = bench(60, repeat=args.repeat, workdir=work)
        ten, _, peak_mb = bench(600, repeat=1, workdir=work)
        print(f"linearity: 10 h / 1 h = {ten / one:.1f} (10 would be linear, less is better)")
        print(
            f"targets: 1 h within 1.5× pandas {'met' if ratio <= 1.5 else 'NOT met'}; "
            f"10 h under 1 GB {'met' if peak_mb < 1024 else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
