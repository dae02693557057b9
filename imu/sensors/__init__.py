"""Sensor profiles: pure decoders for each supported BLE sensor (no bleak here)."""
