"""The shank axis found while streaming (``shank_axis = auto``), as the offline path finds it.

Offline, :func:`~imu.angle.find_shank_axis` reads the whole recording: the axis the leg swings
about, the centripetal pull of the swings and gravity while the leg hangs still. Live, the first
second says none of that, so the detector starts on the documented axis (``±x``) and
:class:`AxisSearch` keeps the samples (and the orientation filter's gravity direction) while it
runs the same finder on them every :data:`CHECK_S` of data until it has a cue (it needs 10 s
of swinging):

- the finder keeps ``±x`` (the documented mounting): the axis is settled, nothing changes — a
  sensor mounted as documented is coached exactly as before;
- it finds another direction (a phone pushed into a sleeve any way round) — confirmed by the
  leg hanging still, or more than :data:`~imu.angle.PULL_KEEPS_DOCUMENTED_DEG` from ``±x`` (a
  pull alone, closer than that, may be a documented sensor a little tilted: the search goes
  on) — the detector starts again on the kept samples with that direction and says what the
  new run finds — the sets so far again, with their counts on the right axis (walking to the
  machine usually gives the cues before the first set).

After :data:`MAX_S` of data with no answer the search stops on the documented axis.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from imu.angle import (
    PULL_KEEPS_DOCUMENTED_DEG,
    ShankAxis,
    find_shank_axis,
)

FloatArray = npt.NDArray[np.float64]

__all__ = ["CHECK_S", "MAX_S", "AxisSearch"]

#: the finder runs on the kept samples every this much data, s
CHECK_S = 5.0
#: the search gives up (keeps the documented axis) after this much data, s
MAX_S = 180.0
#: the finder sees the samples at this rate at most (it needs the swings, not every sample), Hz
_FIND_RATE_HZ = 50.0


class AxisSearch:
    """Samples kept from the start of the stream and the finder run on them; see the module."""

    def __init__(self, sampling_rate_hz: float) -> None:
        self.sampling_rate_hz = sampling_rate_hz
        self._chunks: list[tuple[FloatArray, FloatArray, FloatArray, FloatArray]] = []
        self._n = 0
        self._next_check: float | None = None
        self.done = False

    @property
    def chunks(self) -> list[tuple[FloatArray, FloatArray, FloatArray]]:
        """The samples kept, as they were fed: ``(time_s, acc_g, gyro_dps)`` chunks."""
        return [(t, a, g) for t, a, g, _ in self._chunks]

    def add(self, t: FloatArray, acc: FloatArray, gyro: FloatArray, up: FloatArray) -> None:
        """Keep a chunk with the orientation filter's gravity direction for each sample."""
        if self.done or t.shape[0] == 0:
            return
        if self._next_check is None:
            self._next_check = float(t[0]) + CHECK_S
        self._chunks.append((t, acc, gyro, up))
        self._n += t.shape[0]

    @property
    def span_s(self) -> float:
        return self._n / self.sampling_rate_hz

    def due(self, t_now: float | None) -> bool:
        """Whether the data have passed the next check time (then the one after is set)."""
        if self.done or self._next_check is None or t_now is None or t_now < self._next_check:
            return False
        while self._next_check <= t_now:
            self._next_check += CHECK_S
        return True

    def _arrays(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, float]:
        """The kept samples, thinned to at most :data:`_FIND_RATE_HZ`, and their rate."""
        if len(self._chunks) > 1:  # joined once: what came since the last check, to the rest
            t, acc, gyro, up = (np.concatenate([c[k] for c in self._chunks]) for k in range(4))
            self._chunks = [(t, acc, gyro, up)]
        step = max(1, math.floor(self.sampling_rate_hz / _FIND_RATE_HZ))
        t, acc, gyro, up = (self._chunks[0][k][::step] for k in range(4))
        return t, acc, gyro, up, self.sampling_rate_hz / step

    def find(self) -> ShankAxis | None:
        """The finder's answer on the kept samples, or None while it has no cue yet, or only a
        centripetal pull within :data:`~imu.angle.PULL_KEEPS_DOCUMENTED_DEG` of ``±x`` (the rest
        of the stream may still say ``±x``, as offline it does for a documented sensor a little
        tilted)."""
        if not self._chunks:
            return None
        t, acc, gyro, up, fs = self._arrays()
        axis = find_shank_axis(acc, gyro, sampling_rate_hz=fs, time_s=t, up=up)
        if axis.cue == "none":
            return None
        off_x = math.degrees(math.acos(min(1.0, abs(float(axis.vector[0])))))
        if axis.name == "found" and axis.confidence != "high" and off_x < PULL_KEEPS_DOCUMENTED_DEG:
            return None
        return axis

    def stop(self) -> None:
        """The axis is settled: forget the samples."""
        self.done = True
        self._chunks = []
        self._n = 0
