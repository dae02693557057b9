"""Sensor profiles: pure decoders for each supported BLE sensor (no bleak here).

``PROFILES`` maps a profile key (``--profile``) to its :class:`SensorProfile`;
:func:`get_profile` looks one up, :func:`profile_for_advertisement` recognises a scanned device.
"""

from __future__ import annotations

from collections.abc import Sequence

from imu.errors import ConfigError
from imu.sensors.base import (
    Decoder,
    DecoderStats,
    GattWrite,
    SampleBlock,
    SensorProfile,
)
from imu.sensors.movesense import MovesenseProfile
from imu.sensors.polar import PolarProfile
from imu.sensors.reference import ReferenceProfile
from imu.sensors.thingy52 import Thingy52Profile
from imu.sensors.witmotion import WitMotionProfile

__all__ = [
    "PROFILES",
    "Decoder",
    "DecoderStats",
    "GattWrite",
    "SampleBlock",
    "SensorProfile",
    "get_profile",
    "profile_for_advertisement",
]


def _build() -> dict[str, SensorProfile]:
    profiles: list[SensorProfile] = [
        ReferenceProfile(),
        WitMotionProfile(),
        MovesenseProfile(),
        Thingy52Profile(),
        PolarProfile(),
    ]
    return {p.key: p for p in profiles}


#: every supported sensor model, by key
PROFILES: dict[str, SensorProfile] = _build()


def get_profile(key: str) -> SensorProfile:
    """The profile called ``key``; ConfigError naming the valid keys otherwise."""
    try:
        return PROFILES[key.strip().lower()]
    except KeyError:
        valid = ", ".join(sorted(PROFILES))
        raise ConfigError(f"unknown sensor profile {key!r}; valid profiles: {valid}") from None


def profile_for_advertisement(
    name: str | None, service_uuids: Sequence[str]
) -> SensorProfile | None:
    """The profile whose advertisement this is: an advertised service UUID wins over a name
    prefix; ``None`` when nothing matches."""
    uuids = {u.lower() for u in service_uuids}
    for profile in PROFILES.values():
        if profile.service_uuid.lower() in uuids:
            return profile
    for profile in PROFILES.values():
        if profile.matches(name, ()):
            return profile
    return None
