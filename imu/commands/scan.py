"""`imu scan` — not implemented yet."""

from __future__ import annotations

import argparse
from typing import Any

from imu.errors import ImuError


def register(sub: Any) -> None:
    sub.add_parser("scan", help="(not implemented yet)")


def run(args: argparse.Namespace) -> int:
    raise ImuError("imu scan is not implemented yet")
