"""The fuzz harness at length: tests/unit/test_fuzz.py with many more examples; prints what it ran.

    .venv/bin/python scripts/fuzz.py                 # 2000 examples per property
    .venv/bin/python scripts/fuzz.py --examples 20000
    .venv/bin/python scripts/fuzz.py --quick         # 20 (the test suite runs this)

Each property throws random bytes, random CSV rows or random BLE notifications at the recording
reader or a decoder; a failure prints hypothesis's smallest failing example.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples per property")
    parser.add_argument("--quick", action="store_true", help="20 examples per property")
    args = parser.parse_args()
    examples = 20 if args.quick else args.examples
    env = {**os.environ, "IMU_FUZZ_EXAMPLES": str(examples)}
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--hypothesis-show-statistics",
            str(REPO / "tests" / "unit" / "test_fuzz.py"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    out = done.stdout
    print(f"fuzz: {examples} examples per property, {elapsed:.1f} s")
    for block in re.split(r"\n(?=tests/unit/test_fuzz\.py::)", out):
        name = re.match(r"tests/unit/test_fuzz\.py::([^:\s]+(?:\[[^\]]*\])?)", block)
        phases = re.findall(r"(\d+) passing, (\d+) failing", block)  # reuse, generate, shrink
        if name and phases:
            passing = sum(int(p) for p, _ in phases)
            failing = sum(int(f) for _, f in phases)
            print(f"  {name.group(1)}: {passing} passing, {failing} failing")
    summary = out.strip().splitlines()[-1] if out.strip() else done.stderr.strip()[-500:]
    print(f"result: {summary}")
    if done.returncode != 0:
        print(out[-6000:])
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
