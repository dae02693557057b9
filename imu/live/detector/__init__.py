"""The live path's detector: the offline rep model driven sample by sample.

``events``  what it says (:class:`LiveEvent`), the reps and the state it shows
``parts``   the small stateful parts: history buffer, zig-zag, leg fit, hip-line segment
``detector`` :class:`LiveDetector`, their composition
"""

from __future__ import annotations

from imu.live.detector.detector import LiveDetector
from imu.live.detector.events import (
    DetectorState,
    DetectorStatus,
    LiveEvent,
    LiveRep,
)

__all__ = ["DetectorState", "DetectorStatus", "LiveDetector", "LiveEvent", "LiveRep"]
