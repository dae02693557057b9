"""``imu profiles`` — list the exercise profiles and their settings."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    sub.add_parser("profiles", help="list exercise profiles and their thresholds")


def run(args: argparse.Namespace) -> int:
    from imu.settings import PROFILES, load_settings

    defaults = load_settings().to_dict()
    for name in PROFILES:
        values = load_settings(exercise=name).to_dict()
        changed = {k: v for k, v in values.items() if v != defaults[k] and k != "exercise"}
        print(f"{name}:")
        for key, value in (changed or values).items():
            print(f"  {key} = {value}")
    return 0
