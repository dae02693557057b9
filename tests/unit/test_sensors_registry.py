"""Registry, advertisement matching and the shared encoder contract of every profile."""

from __future__ import annotations

import numpy as np
import pytest

from imu.errors import ConfigError
from imu.sensors import PROFILES, get_profile, profile_for_advertisement
from imu.sensors.base import SensorProfile


def test_registry_keys() -> None:
    assert {"imu-ref", "witmotion", "movesense", "thingy52"} <= set(PROFILES)
    for key, profile in PROFILES.items():
        assert profile.key == key
        assert isinstance(profile, SensorProfile)
        assert profile.service_uuid == profile.service_uuid.lower()


def test_get_profile_unknown_lists_valid_keys() -> None:
    assert get_profile("WitMotion").key == "witmotion"
    with pytest.raises(ConfigError, match=r"valid profiles: .*imu-ref.*witmotion"):
        get_profile("nope")


@pytest.mark.parametrize(
    ("name", "uuids", "expected"),
    [
        ("WT901BLE68", [], "witmotion"),
        (None, ["0000FFE5-0000-1000-8000-00805F9A34FB"], "witmotion"),
        ("Movesense 174630000192", [], "movesense"),
        (None, ["34802252-7185-4d5d-b431-630e7050e8f0"], "movesense"),
        ("Thingy", [], "thingy52"),
        ("IMU-REF left", [], "imu-ref"),
        ("whatever", ["7a1e0001-3c5e-4b9a-8f2d-6e1b0c7d9a54"], "imu-ref"),
        ("Heart rate strap", ["0000180d-0000-1000-8000-00805f9b34fb"], None),
        (None, [], None),
    ],
)
def test_profile_for_advertisement(
    name: str | None, uuids: list[str], expected: str | None
) -> None:
    found = profile_for_advertisement(name, uuids)
    assert (found.key if found else None) == expected


def test_service_uuid_beats_name() -> None:
    found = profile_for_advertisement("Thingy", ["34802252-7185-4d5d-b431-630e7050e8f0"])
    assert found is not None and found.key == "movesense"


@pytest.mark.parametrize("key", sorted(PROFILES))
def test_round_trip_every_profile(key: str) -> None:
    """encode_notifications → new_decoder gives the samples back within quantisation."""
    profile = PROFILES[key]
    rate = profile.nearest_rate_hz(100.0)
    n = 40
    t = 10.0 + np.arange(n) / rate
    rng = np.random.default_rng(1)
    acc = rng.uniform(-2, 2, (n, 3))
    gyro = rng.uniform(-300, 300, (n, 3))
    payloads = profile.encode_notifications(t, acc, gyro, samples_per_notification=4)
    decoder = profile.new_decoder(rate)
    for uuid, value in profile.read_values(rate).items():
        decoder.configure(uuid, value)
    blocks = []
    per = n // len(payloads)  # samples per payload (4, or 1 for the Thingy)
    for k, payload in enumerate(payloads):
        # arrival just after the payload's last sample (used where there is no device clock)
        blocks += decoder.feed(payload, arrival_s=t[(k + 1) * per - 1] + 0.005)
    got_acc = np.concatenate([b.acc_g for b in blocks])
    got_gyro = np.concatenate([b.gyro_dps for b in blocks])
    assert got_acc.shape == (n, 3)
    np.testing.assert_allclose(got_acc, acc, atol=2e-3)
    np.testing.assert_allclose(got_gyro, gyro, atol=0.1)
    times = np.concatenate([b.time_s for b in blocks])
    assert np.all(np.diff(times) > 0)
    assert decoder.stats.malformed == 0
    assert decoder.stats.samples == n


@pytest.mark.parametrize("key", sorted(PROFILES))
def test_garbage_never_raises(key: str) -> None:
    profile = PROFILES[key]
    decoder = profile.new_decoder(profile.nearest_rate_hz(50.0))
    rng = np.random.default_rng(7)
    for i in range(200):
        payload = rng.integers(0, 256, int(rng.integers(0, 60)), dtype=np.uint8).tobytes()
        for block in decoder.feed(payload, arrival_s=i * 0.02):
            assert block.acc_g.shape == (len(block), 3)
    assert decoder.stats.notifications == 200


@pytest.mark.parametrize("key", sorted(PROFILES))
def test_start_commands_target_write_characteristic(key: str) -> None:
    profile = PROFILES[key]
    writes = profile.start_commands(100.0)
    assert writes
    for write in writes + profile.stop_commands():
        assert write.char_uuid == profile.write_uuid
        assert write.data
