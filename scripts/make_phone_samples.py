"""Write the sample phone exports in tests/data/phone/ (generated, not recorded on a phone).

One short simulated bench session (seed 8101: a set of reps between standing still, 50 Hz) is
written in the apps' own formats by :mod:`imu.simulate.phone`:

* ``sensorlogger_android.zip`` — Sensor Logger's zip export from Android with the two files imu
  needs (TotalAcceleration, Gyroscope) and Metadata;
* ``sensorlogger_ios.json`` — its JSON export from an iPhone without "Standardise Units &
  Frames" (gravity removed and mirrored; the first 5 s only, to stay small);
* ``phyphox_acceleration.zip`` + ``phyphox_gyroscope.zip`` — phyphox's "Acceleration with g" and
  "Gyroscope (rotation rate)" as two experiments (separate time zeros, tab-separated);
* ``phyphox_combined.csv`` — one custom experiment with both sensors in one data set,
  semicolon-separated with decimal commas (the first 12 s only).

    python scripts/make_phone_samples.py            # (re)write them
    python scripts/make_phone_samples.py --check    # only check the shipped ones are current
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

from imu.recording import Recording
from imu.simulate import random_spec, simulate_session
from imu.simulate.phone import (
    phone_samples,
    phyphox_csv,
    phyphox_zip,
    sensorlogger_json,
    sensorlogger_zip,
)

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "phone"
SEED = 8101
RATE_HZ = 50.0
REPS = 6


def sample_recording() -> Recording:
    """The simulated session the samples are made from (also used by the tests)."""
    rng = np.random.default_rng(SEED)
    spec = random_spec(rng, setup="bench", faults=False)
    spec = dataclasses.replace(
        spec,
        rate_hz=RATE_HZ,
        reps_per_set=(REPS,),
        lead_in_s=6.0,
        lead_out_s=3.0,
        activities=("stand",),
        sensor=dataclasses.replace(spec.sensor, jitter_s=0.0, drop_runs_per_min=0.0),
    )
    session = simulate_session(spec, seed=SEED)
    first = session.truth["sets"][0]
    # the set, the climb onto the bench before it and a little standing: about 40 s
    return session.recording.slice_time(first["start_s"] - 7.0, first["end_s"] + 3.0)


def build() -> dict[str, bytes]:
    rec = sample_recording()
    s = phone_samples(rec)
    t0 = float(rec.time_s[0])
    short = phone_samples(rec.slice_time(t0, t0 + 12.0))
    shorter = phone_samples(rec.slice_time(t0, t0 + 5.0))
    combined = phyphox_csv(
        [
            (
                ("Time (s)", "Acceleration x (m/s^2)", "Acceleration y (m/s^2)",
                 "Acceleration z (m/s^2)", "Absolute acceleration (m/s^2)"),
                short.acc_t_s - short.gyro_t_s[0],
                short.acc_mps2,
            ),
            (
                ("Time (s)", "Gyroscope x (rad/s)", "Gyroscope y (rad/s)", "Gyroscope z (rad/s)",
                 "Absolute (rad/s)"),
                short.gyro_t_s - short.gyro_t_s[0],
                short.gyro_rads,
            ),
        ],
        separator=";",
        decimal=",",
    )  # fmt: skip
    return {
        "sensorlogger_android.zip": sensorlogger_zip(
            s, platform="android", sensors=("TotalAcceleration", "Gyroscope")
        ),
        "sensorlogger_ios.json": sensorlogger_json(shorter, platform="ios").encode(),
        "phyphox_acceleration.zip": phyphox_zip(s, experiment="acceleration", separator="\t"),
        "phyphox_gyroscope.zip": phyphox_zip(
            s, experiment="gyroscope", separator="\t", start_delay_s=0.9
        ),
        "phyphox_combined.csv": combined.encode(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    files = build()
    stale = []
    for name, data in files.items():
        path = OUT / name
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"{path.relative_to(OUT.parents[2])}: {len(data) / 1024:.0f} KB")
    if stale:
        print(f"out of date: {', '.join(stale)} (run scripts/make_phone_samples.py)")
        return 1
    if args.check:
        print(f"{len(files)} sample exports are current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
