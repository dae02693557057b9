"""Batch benchmark: ``imu analyze DIR`` (parallel across the cores) against analysing the same
recordings one after another.

Writes 20 one-hour 100 Hz recordings into a temporary folder (a simulated session tiled with
shifted clocks, as scripts/bench_speed.py does; each copy differs in a metadata line so the
history keeps 20 sessions), then times, each with ``--no-plots`` and a fresh history database:

* one after another: ``imu analyze FILE`` once per file (what a user did before);
* the same in one process: ``imu analyze DIR --jobs 1``;
* parallel: ``imu analyze DIR`` (one worker per core).

Target: parallel ≤ 0.6 × one after another on a 2-core machine.

    python scripts/bench_batch.py            # 20 × 1 h
    python scripts/bench_batch.py --quick    # 4 × 2 min (the test suite runs this)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_speed import make_recording


def _timed(cmd: Sequence[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 recordings of 2 minutes")
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args(argv)
    files, minutes = (4, 2.0) if args.quick else (args.files, args.minutes)
    imu = [sys.executable, "-m", "imu", "analyze"]
    with tempfile.TemporaryDirectory(prefix="imu-batch-") as tmp:
        work = Path(tmp)
        data = work / "recordings"
        data.mkdir()
        t0 = time.perf_counter()
        base = work / "base.csv"
        make_recording(base, minutes=minutes)
        text = base.read_bytes()
        for k in range(files):
            (data / f"session_{k:02d}.csv").write_bytes(f"# copy: {k}\n".encode() + text)
        base.unlink()
        size_mb = sum(p.stat().st_size for p in data.iterdir()) / 1e6
        print(
            f"{files} recordings of {minutes:g} min at 100 Hz ({size_mb:.0f} MB) written in "
            f"{time.perf_counter() - t0:.1f} s; {os.cpu_count()} cores"
        )

        def env(name: str) -> dict[str, str]:
            return {**os.environ, "IMU_DB": str(work / f"{name}.sqlite")}

        paths = sorted(data.glob("*.csv"))
        one_by_one = 0.0
        for p in paths:
            out = work / "seq" / p.stem
            one_by_one += _timed([*imu, str(p), "--out", str(out), "--no-plots", "-q"], env("seq"))
        in_process = _timed(
            [*imu, str(data), "--out", str(work / "j1"), "--no-plots", "-q", "--jobs", "1"],
            env("j1"),
        )
        parallel = _timed(
            [*imu, str(data), "--out", str(work / "par"), "--no-plots", "-q"], env("par")
        )
    print(f"  one after another (imu analyze FILE × {files}): {one_by_one:.1f} s")
    print(f"  one process, --jobs 1:                    {in_process:.1f} s")
    print(f"  parallel (imu analyze DIR):               {parallel:.1f} s")
    ratio = parallel / one_by_one
    print(
        f"batch ratio: {ratio:.2f} × one after another "
        f"({parallel / in_process:.2f} × the single-process batch); target ≤ 0.6: "
        + ("met" if ratio <= 0.6 else "NOT met")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
