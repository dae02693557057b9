"""`imu replay` — not implemented yet."""

from __future__ import annotations

import argparse
from typing import Any

from imu.errors import ImuError


def register(sub: Any) -> None:
    sub.add_parser("replay", help="(not implemented yet)")


def run(args: argparse.Namespace) -> int:
    raise ImuError("imu replay is not implemented yet")
