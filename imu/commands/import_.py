"""``imu import PATH [PATH …] --out FILE.csv`` — a phone app's export as a recording CSV.

Reads a Sensor Logger export (zip, unzipped folder, JSON, or its CSV files) or phyphox exports
(zip or CSV, any of its dialects; accelerometer and gyroscope as one experiment or two), finds
the format from the content, merges the streams onto one time base and writes a contract
recording whose metadata lines say how (see :mod:`imu.phone.streams`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from imu.errors import ConfigError

#: the command's name on the command line (``import`` is a Python keyword)
NAME = "import"


def register(sub: Any) -> None:
    p = sub.add_parser(
        NAME,
        help="turn a phone app's export (Sensor Logger, phyphox) into a recording CSV",
        description=(
            "Read a Sensor Logger export (zip, folder, JSON or its CSVs) or phyphox exports "
            "(zip or CSV; acceleration with g and gyroscope, as one experiment or two) and "
            "write a recording CSV: one time base, gravity included, g and °/s, with metadata "
            "on the source app, platform, device, rate and the original files' SHA-256."
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="export file(s) or folder")
    p.add_argument("--out", required=True, metavar="FILE.csv", help="recording to write")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")


def run(args: argparse.Namespace) -> int:
    from imu.phone import load_phone_export
    from imu.recording import write_recording

    out = Path(args.out)
    if out.suffix.lower() != ".csv":
        raise ConfigError(f"--out {out}: the recording must be a .csv file")
    if out.exists() and not args.force:
        raise ConfigError(f"--out {out}: the file exists (add --force to overwrite)")
    imported = load_phone_export(args.paths)
    rec = imported.recording
    write_recording(out, rec, decimals=6)
    if not args.quiet:
        print_import_report(imported, out)
    return 0


def print_import_report(imported: Any, out: Path | None) -> None:
    """What was read and how it was merged, on stdout."""
    rec = imported.recording
    meta = rec.metadata
    where = f" → {out}" if out is not None else ""
    device = f", {meta['device']}" if meta.get("device") else ""
    print(
        f"{imported.app} ({meta.get('platform', 'unknown')}{device}): {len(rec)} samples, "
        f"{rec.duration_s:.1f} s at {rec.sample_rate_hz:.4g} Hz{where}"
    )
    for line in imported.formats:
        print(f"  read: {line}")
    print(f"  merge: {imported.merge.describe()}")
    for key in sorted(k for k in meta if k.startswith(("gravity", "dropped"))):
        print(f"  {key.split('_')[0]}: {meta[key]}")
    print(f"  axes: {meta['axes']}")
    gaps = rec.gaps()
    if gaps:
        lost = sum(g.missing_samples for g in gaps)
        longest = max(g.duration_s for g in gaps)
        print(f"  gaps: {len(gaps)}, {lost} samples missing, longest {longest:.2f} s")
    for line in imported.skipped:
        print(f"  skipped: {line}")
