"""imu — an ankle-IMU coach for reverse hyperextensions.

Pipeline (one module per stage)::

    recording → angle → segmentation (reps, sets, phases) → form (metrics, flags)
              → summary (per-set, files) → charts

``imu.analyze(path)`` runs it on a recording and returns a typed :class:`SessionResult`.
Importing ``imu`` is cheap: numpy/pandas load on first use, matplotlib only for charts, bleak only
for the live commands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from imu.pipeline import analyze
    from imu.results import SessionResult

__all__ = ["SessionResult", "__version__", "analyze"]


def __getattr__(name: str) -> Any:
    if name == "analyze":
        from imu.pipeline import analyze

        return analyze
    if name == "SessionResult":
        from imu.results import SessionResult

        return SessionResult
    raise AttributeError(f"module 'imu' has no attribute {name!r}")
