"""`imu simulate` — not implemented yet."""

from __future__ import annotations

import argparse
from typing import Any

from imu.errors import ImuError


def register(sub: Any) -> None:
    sub.add_parser("simulate", help="(not implemented yet)")


def run(args: argparse.Namespace) -> int:
    raise ImuError("imu simulate is not implemented yet")
