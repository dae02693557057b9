"""A phone strapped to the shank as the sensor: its apps' exports and live streams.

* :mod:`imu.phone.streams` — one sensor stream, and the rules that merge an accelerometer and a
  gyroscope stream into a contract recording (time base, gravity, signs, units);
* :mod:`imu.phone.sensorlogger` and :mod:`imu.phone.phyphox` — the two apps' formats (files,
  Sensor Logger's HTTP push batches, phyphox's remote-access responses);
* :mod:`imu.phone.exports` — reading an export from disk, its format found from its content;
* :mod:`imu.phone.live` — the live sources for ``imu record --phone`` (imports aiohttp).
"""

from __future__ import annotations

from imu.phone.exports import ImportedExport, is_phone_export, load_phone_export

__all__ = ["ImportedExport", "is_phone_export", "load_phone_export"]
