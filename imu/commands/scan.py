"""``imu scan`` — list nearby Bluetooth LE devices; mark the sensors this tool can stream from."""

from __future__ import annotations

import argparse
from typing import Any

from imu.errors import ConfigError


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "scan",
        help="list nearby BLE sensors this tool can talk to",
        description=(
            "Listen for Bluetooth LE advertisements and list the sensors imu can stream from "
            "(recognised by advertised name or service UUID), with model, address and signal "
            "strength. Pass the address or name to `imu record --device`."
        ),
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="seconds to listen (default: 5)",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="also list devices imu cannot talk to",
    )


def run(args: argparse.Namespace) -> int:
    import asyncio  # here: every command's module is imported to build the CLI

    from rich.console import Console
    from rich.table import Table

    from imu.ble import scan

    if not args.timeout > 0:
        raise ConfigError(f"--timeout must be positive, got {args.timeout}")
    console = Console(highlight=False)
    with console.status(f"Scanning for {args.timeout:g} s…"):
        devices = asyncio.run(scan(args.timeout))
    supported = [d for d in devices if d.supported]
    shown = devices if args.all else supported
    if not shown:
        others = len(devices) - len(supported)
        hint = ""
        if others and not args.all:
            hint = f" ({others} other devices heard; --all lists them)"
        what = "no devices found" if args.all else "no supported sensors found"
        console.print(f"{what} in {args.timeout:g} s{hint}")
        return 0
    table = Table(title=f"Bluetooth LE devices heard in {args.timeout:g} s", title_justify="left")
    table.add_column("", width=1)
    table.add_column("Name")
    table.add_column("Address", no_wrap=True)
    table.add_column("RSSI", justify="right", no_wrap=True)
    table.add_column("Profile", no_wrap=True)
    table.add_column("Model")
    for d in shown:
        table.add_row(
            "✓" if d.supported else "",
            d.name or "—",
            d.address,
            f"{d.rssi_dbm} dBm",
            d.profile_key or "",
            d.model or ("" if d.supported else "not supported"),
            style=None if d.supported else "dim",
        )
    console.print(table)
    if supported:
        console.print(f"✓ = supported; record with: imu record --device {supported[0].address}")
    return 0
