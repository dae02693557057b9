"""Every benchmark script in scripts/ runs once, in its quick mode, and prints its figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _run(name: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / name), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_bench_accuracy_quick(shared_dir: Path) -> None:
    out = _run("bench_accuracy.py", "--quick", "--shared", str(shared_dir))
    for row in ("sets exact", "phantom reps", "rep recall", "MAE peak angle", "F1 momentum"):
        assert row in out
    assert "sim-independent" in out
    assert "PTE e5 prone leg raise" in out and "held-out subject 1" in out


def test_bench_speed_quick() -> None:
    out = _run("bench_speed.py", "--quick")
    assert "imu analyze --no-plots" in out
    assert "pandas import + read_csv" in out
    assert "imu read + leg angle only" in out and "numpy read + leg angle" in out


@pytest.mark.skipif(not (SCRIPTS / "bench_live.py").exists(), reason="no live benchmark yet")
def test_bench_live_quick() -> None:
    out = _run("bench_live.py", "--quick")
    assert out.strip()


def test_fuzz_quick() -> None:
    out = _run("fuzz.py", "--quick")
    assert "fuzz: 20 examples per property" in out
    assert "test_random_csv_rows: 20 passing, 0 failing" in out
    result = out.strip().splitlines()[-1]
    assert result.startswith("result: ") and "passed" in result and "failed" not in result


def test_bench_batch_quick() -> None:
    out = _run("bench_batch.py", "--quick")
    assert "batch ratio:" in out and "one after another" in out


def test_bench_orientation_quick(shared_dir: Path) -> None:
    out = _run("bench_orientation.py", "--quick", "--shared", str(shared_dir))
    assert "Simulated sessions: 4 session(s)" in out
    assert "peak_mae_deg" in out and "sim-independent" in out


def test_bench_robustness_quick(shared_dir: Path) -> None:
    out = _run("bench_robustness.py", "--quick", "--shared", str(shared_dir))
    rows = [line.split() for line in out.splitlines() if line.startswith("  ")]
    names = {" ".join(r[: r.index(next(c for c in r if "/" in c))]) for r in rows[1:]}
    assert {"as recorded", "0.4 s bursts", "upside down", "half rate"} <= names
    assert "sim-independent" in out and "PTE e5" in out


def test_make_phone_samples_check() -> None:
    assert "sample exports are current" in _run("make_phone_samples.py", "--check")
