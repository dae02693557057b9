"""``imu simulate`` — write a simulated session: a recording CSV and its ground-truth JSON."""

from __future__ import annotations

import argparse
import dataclasses
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from imu.errors import ConfigError
from imu.outputs import check_output_file

if TYPE_CHECKING:
    from imu.simulate import SessionSpec

#: the set-ups (as in :data:`imu.simulate.SETUPS`, not imported to keep ``imu --help`` light) and
#: ``any``: drawn from all of them
_SETUPS = ("bench", "machine", "floor", "seated", "supine", "side", "any")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "simulate",
        help="write a physics-based simulated session (CSV + <stem>.truth.json)",
        description=(
            "Simulate reverse hypers (or prone leg lifts, or other leg raises) with an ankle IMU: "
            "a leg pivoting at the hip (seated: the knee), reps of known kinds, swings while "
            "getting on and off, rebounds, foot contacts, twists, bent knees and mid-set pauses, "
            "walking/sitting between sets, realistic sensor errors. Writes FILE.csv and "
            "FILE.truth.json beside it."
        ),
    )
    p.add_argument("--out", required=True, metavar="FILE.csv", help="recording to write")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument(
        "--setup",
        choices=_SETUPS,
        default=None,
        help="default: bench, machine or floor drawn at random; any: drawn from all six "
        "(seated knee extension, supine leg raise and side-lying abduction are leg-raise)",
    )
    p.add_argument("--sets", type=int, default=None, help="number of sets (default: 2–4)")
    p.add_argument("--reps", type=int, default=None, help="reps in every set (default: 6–15)")
    p.add_argument("--rate-hz", type=float, default=None, help="sample rate (default: drawn)")
    p.add_argument("--leg", choices=("left", "right"), default=None)
    p.add_argument("--strap-deg", type=float, default=None, help="strap rotation about the shank")
    p.add_argument(
        "--minutes", type=float, default=None, help="pad the session with activities to this length"
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--faults",
        dest="faults",
        action="store_true",
        default=True,
        help="include faulty reps: thrown, bounced, above the hip line … (default)",
    )
    group.add_argument("--clean", dest="faults", action="store_false", help="controlled reps only")
    p.add_argument(
        "--no-behaviours",
        dest="behaviours",
        action="store_false",
        help="a rigid leg and reps only: no swings getting on and off, rebounds, foot contacts, "
        "twists, bent knees or mid-set pauses (as imu simulate was before they were added)",
    )
    p.add_argument(
        "--ideal-sensor",
        action="store_true",
        help="no noise, bias, scale error, quantisation, jitter or lost packets",
    )
    p.add_argument("--decimals", type=int, default=5, help="decimals in the CSV (default 5)")
    p.add_argument(
        "--start",
        "--date",
        dest="start",
        metavar="WHEN",
        help="when the session began, written as `# started_at`: an ISO date (noon UTC) or "
        "date and time, e.g. 2026-11-21 or 2026-11-21T18:30:00+01:00",
    )


def parse_start(text: str) -> datetime:
    """``--start``: an ISO 8601 date (taken at 12:00 UTC) or date-time (UTC unless an offset
    is given)."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(12, 0), tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"--start {text!r}: expected an ISO date or date-time, e.g. 2026-11-21 or "
            "2026-11-21T18:30:00+01:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from imu.simulate import SETUPS, random_spec, simulate_session, write_simulated

    _check_options(args)
    check_output_file(args.out)
    started = parse_start(args.start) if args.start else None
    rng = np.random.default_rng(args.seed)
    spec = random_spec(
        rng,
        setup=None if args.setup == "any" else args.setup,
        setups=SETUPS if args.setup == "any" else None,
        faults=args.faults,
        realistic_sensor=not args.ideal_sensor,
        behaviours=args.behaviours,
    )
    spec = dataclasses.replace(spec, **_spec_changes(args, spec))
    session = simulate_session(spec, seed=args.seed)
    if started is not None:
        metadata = {**session.recording.metadata, "started_at": started.isoformat()}
        session = dataclasses.replace(
            session, recording=dataclasses.replace(session.recording, metadata=metadata)
        )
    csv_path, truth_path = write_simulated(session, args.out, decimals=args.decimals)
    rec = session.recording
    reps = sum(s["rep_count"] for s in session.truth["sets"])
    others = len(session.truth["non_reps"])
    print(
        f"wrote {csv_path} ({len(rec)} samples, {rec.duration_s:.0f} s at {spec.rate_hz:g} Hz, "
        f"{spec.setup}, {spec.sets} sets, {reps} reps, {others} movements that are not reps) "
        f"and {truth_path}"
    )
    return 0


def _check_options(args: argparse.Namespace) -> None:
    """Raise ConfigError for an option out of its range (before anything is drawn)."""
    if args.sets is not None and not 1 <= args.sets <= 20:
        raise ConfigError(f"--sets {args.sets}: expected 1–20")
    if args.reps is not None and not 1 <= args.reps <= 60:
        raise ConfigError(f"--reps {args.reps}: expected 1–60")
    if args.minutes is not None and not 0 < args.minutes <= 360:
        raise ConfigError(f"--minutes {args.minutes}: expected more than 0 and at most 360")
    if not 2 <= args.decimals <= 9:
        raise ConfigError(f"--decimals {args.decimals}: expected 2–9")
    if not str(args.out).lower().endswith(".csv"):
        raise ConfigError(f"--out {args.out}: the recording must be a .csv file")
    if args.seed < 0:
        raise ConfigError(f"--seed {args.seed}: must not be negative")


def _spec_changes(args: argparse.Namespace, spec: SessionSpec) -> dict[str, Any]:
    """The fields of the drawn ``spec`` that the options set: sets and reps, rate (with the
    jitter kept in proportion to the sample period), leg, strap rotation, minimum length."""
    changes: dict[str, Any] = {}
    if args.sets is not None or args.reps is not None:
        n_sets = args.sets if args.sets is not None else spec.sets
        reps = list(spec.reps_per_set) + [spec.reps_per_set[-1]] * max(0, n_sets - spec.sets)
        if args.reps is not None:
            reps = [args.reps] * n_sets
        changes["reps_per_set"] = tuple(reps[:n_sets])
    if args.rate_hz is not None:
        changes["rate_hz"] = args.rate_hz
        if not args.ideal_sensor:  # the jitter was drawn relative to the sample period
            changes["sensor"] = dataclasses.replace(
                spec.sensor, jitter_s=spec.sensor.jitter_s * spec.rate_hz / args.rate_hz
            )
    if args.leg is not None:
        changes["leg"] = args.leg
    if args.strap_deg is not None:
        changes["strap_rotation_deg"] = args.strap_deg
    if args.minutes is not None:
        changes["min_duration_s"] = 60.0 * args.minutes
    return changes
