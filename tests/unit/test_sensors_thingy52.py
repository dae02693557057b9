"""Nordic Thingy:52 raw motion data: Q-format scaling, config, malformed payloads."""

from __future__ import annotations

import numpy as np
import pytest

from imu.errors import ConfigError
from imu.sensors import thingy52 as th

# Lying flat: acc z = 1024 (Q10 → 1 g), gyro x = 32 (Q5 → 1 °/s), gyro z = −64 (−2 °/s),
# compass (16, −16, 800) (Q4 → 1, −1, 50 µT).
FLAT = bytes.fromhex("0000 0000 0004 2000 0000 c0ff 1000 f0ff 2003")


def test_golden_at_rest_reads_one_g() -> None:
    decoder = th.Thingy52Decoder(50.0)
    (block,) = decoder.feed(FLAT, arrival_s=2.0, char_uuid=th.RAW_UUID)
    np.testing.assert_array_equal(block.acc_g, [[0, 0, 1.0]])
    np.testing.assert_array_equal(block.gyro_dps, [[1.0, 0, -2.0]])
    assert decoder.last_compass_ut == (1.0, -1.0, 50.0)
    assert np.linalg.norm(block.acc_g[0]) == pytest.approx(1.0)


def test_encoder_matches_golden_and_saturates_like_firmware() -> None:
    (raw,) = th.encode_raw([[0, 0, 1.0]], [[1.0, 0, -2.0]], [[1.0, -1.0, 50.0]])
    assert raw == FLAT
    (big,) = th.encode_raw([[40.0, -40.0, 0]], [[5000.0, 0, 0]])
    counts = np.frombuffer(big, dtype="<i2")
    assert list(counts[:4]) == [31 * 1024, -32 * 1024, 0, 1023 * 32]


def test_config_write() -> None:
    assert th.encode_config(100) == bytes.fromhex("e803 f401 6400 6400 00")
    (write,) = th.Thingy52Profile().start_commands(104.0)
    assert write.char_uuid == th.CONFIG_UUID
    assert write.data[6:8] == (100).to_bytes(2, "little")
    with pytest.raises(ConfigError):
        th.encode_config(201)


@pytest.mark.parametrize("payload", [b"", FLAT[:17], FLAT + b"\x00"])
def test_malformed_counted(payload: bytes) -> None:
    decoder = th.Thingy52Decoder(50.0)
    assert decoder.feed(payload, arrival_s=0.0) == []
    assert decoder.stats.malformed == 1


def test_arrival_timing_and_loss() -> None:
    decoder = th.Thingy52Decoder(50.0)
    arrivals = [0.02 * k + 0.003 for k in range(50) if not 20 <= k < 25]
    blocks = [b for a in arrivals for b in decoder.feed(FLAT, arrival_s=a)]
    assert sum(b.lost_before for b in blocks) == 5
    times = np.concatenate([b.time_s for b in blocks])
    assert np.all(np.diff(times) > 0)
