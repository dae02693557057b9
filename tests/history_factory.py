"""Small simulated sessions with dates, and hand-made history rows, for the history tests."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from imu.cli import main
from imu.history.store import NewSession, StoredRep, StoredSet


def simulate(path: Path, *, seed: int, start: str, leg: str = "right", reps: int = 4) -> Path:
    """A short 50 Hz bench session (2 sets) started at ``start``."""
    code = main(
        [
            "simulate",
            "--out",
            str(path),
            "--seed",
            str(seed),
            "--setup",
            "bench",
            "--sets",
            "2",
            "--reps",
            str(reps),
            "--rate-hz",
            "50",
            "--leg",
            leg,
            "--start",
            start,
        ]
    )
    assert code == 0
    return path


def rep(index: int, *, flags: tuple[str, ...] = (), peak_deg: float = 0.0) -> StoredRep:
    t = 10.0 * index
    return StoredRep(
        index=index,
        start_s=t,
        top_start_s=t + 1.0,
        top_end_s=t + 2.0,
        end_s=t + 4.0,
        bottom_pause_s=None,
        peak_angle_deg=peak_deg,
        min_angle_deg=peak_deg - 40.0,
        peak_velocity_dps=60.0,
        peak_lowering_velocity_dps=40.0,
        foot_height_cm=0.0,
        flags=flags,
        flag_evidence={f: f"because {f}" for f in flags},
        on_tempo=None,
    )


def session(
    sha256: str,
    *,
    started_at: datetime,
    leg: str | None = "left",
    reps: tuple[StoredRep, ...] = (),
    exercise: str = "reverse-hyper",
    velocity_loss_pct: float = 10.0,
) -> NewSession:
    """One session with one set of ``reps``."""
    reps = reps or (rep(1), rep(2), rep(3))
    one = StoredSet(
        index=1,
        exercise=exercise,
        start_s=reps[0].start_s,
        end_s=reps[-1].end_s,
        rep_count=len(reps),
        partial_reps=sum("partial" in r.flags for r in reps),
        tempo="2-0-1-1",
        time_under_tension_s=4.0 * len(reps),
        velocity_loss_pct=velocity_loss_pct,
        rom_loss_deg=0.0,
        tempo_adherence_pct=None,
        flag_counts={},
        reps=reps,
    )
    return NewSession(
        sha256=sha256,
        recording=f"{sha256[:8]}.csv",
        path=None,
        started_at=started_at,
        date_source="metadata",
        exercise=exercise,
        leg=leg,
        sample_rate_hz=100.0,
        duration_s=600.0,
        time_origin_s=0.0,
        target_tempo=None,
        settings={"exercise": exercise},
        notes=(),
        corrections=(),
        sets=(one,),
    )
