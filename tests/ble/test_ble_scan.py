"""``imu.ble.scan`` and ``imu scan`` against the fake BlueZ, and the no-Bluetooth error paths."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable

import pytest
from fakebluez import DbusDaemon, FakeBluezThread, Peripheral, VirtualSensor

from imu.ble import scan
from imu.cli import main
from imu.errors import SensorError
from imu.sensors import PROFILES, get_profile

pytestmark = pytest.mark.ble

StartFake = Callable[..., FakeBluezThread]

HEADPHONES = Peripheral(
    address="11:22:33:44:55:66",
    name="Headphones",
    advertised_uuids=("0000110b-0000-1000-8000-00805f9a34fb",),
    rssi_dbm=-40,
)


def virtual_sensors() -> list[VirtualSensor]:
    sensors = []
    for n, key in enumerate(sorted(PROFILES), start=1):
        profile = get_profile(key)
        sensors.append(
            VirtualSensor(
                address=f"C0:FF:EE:00:00:{n:02X}",
                name=f"{profile.name_prefixes[0]} {n:02d}",
                profile=profile,
                rssi_dbm=-50 - 5 * n,
            )
        )
    return sensors


def test_scan_finds_and_marks_every_virtual_sensor(fake_bluez: StartFake) -> None:
    sensors = virtual_sensors()
    # a WitMotion that advertises its name only: recognised by the name prefix
    by_name = VirtualSensor(
        address="C0:FF:EE:00:01:00",
        name="WT901BLE68",
        profile=get_profile("witmotion"),
        advertise_service=False,
    )
    fake_bluez(*sensors, by_name, HEADPHONES)

    found = asyncio.run(scan(0.8))

    by_address = {d.address: d for d in found}
    for s in sensors:
        d = by_address[s.address]
        assert s.profile is not None
        assert (d.profile_key, d.model, d.name) == (s.profile.key, s.profile.model, s.name)
        assert s.profile.service_uuid in d.service_uuids
        assert d.rssi_dbm == pytest.approx(s.rssi_dbm, abs=4)
        assert d.supported
    assert by_address[by_name.address].profile_key == "witmotion"
    other = by_address[HEADPHONES.address]
    assert not other.supported and other.profile_key is None and other.name == "Headphones"
    # supported first, then strongest signal; the loud headphones come last
    assert found[-1].address == HEADPHONES.address
    supported_rssi = [d.rssi_dbm for d in found if d.supported]
    assert len(supported_rssi) == len(sensors) + 1


def test_cli_scan_lists_supported_sensors(
    fake_bluez: StartFake, capsys: pytest.CaptureFixture[str]
) -> None:
    sensors = virtual_sensors()
    fake_bluez(*sensors, HEADPHONES)

    assert main(["scan", "--timeout", "0.6"]) == 0
    out = capsys.readouterr().out
    for s in sensors:
        assert s.address in out and s.profile is not None and s.profile.key in out
    assert "Headphones" not in out
    assert "imu record --device" in out

    assert main(["scan", "--timeout", "0.6", "--all"]) == 0
    out = capsys.readouterr().out
    assert "Headphones" in out and "not supported" in out


def test_cli_scan_nothing_supported(
    fake_bluez: StartFake, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_bluez(HEADPHONES)
    assert main(["scan", "--timeout", "0.4"]) == 0
    assert "no supported sensors found in 0.4 s (1 other devices heard; --all lists them)" in (
        capsys.readouterr().out
    )


def test_cli_scan_without_a_bus_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/imu-test/bus")
    assert main(["scan", "--timeout", "0.2"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("imu scan: error: cannot scan for Bluetooth devices: cannot reach")
    assert "Traceback" not in err


def test_cli_scan_without_bluez_is_one_clear_line(
    bluez_bus: DbusDaemon, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", "--timeout", "0.2"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "BlueZ is not running" in err


def test_scan_with_the_adapter_powered_off(fake_bluez: StartFake) -> None:
    fake = fake_bluez()
    fake.fake.powered = False
    with pytest.raises(SensorError, match="Bluetooth is not available: No powered Bluetooth"):
        asyncio.run(scan(0.2))


def test_cli_scan_rejects_a_bad_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--timeout", "0"]) == 1
    assert "--timeout must be positive" in capsys.readouterr().err


def test_importing_imu_does_not_import_bleak() -> None:
    code = (
        "import sys, imu, imu.ble, imu.cli, imu.commands.scan; "
        "assert 'bleak' not in sys.modules, 'bleak imported'; "
        "assert 'dbus_fast' not in sys.modules, 'dbus_fast imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
