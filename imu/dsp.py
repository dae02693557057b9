"""Signal building blocks shared by the offline and the live path: low-pass filters and the
rate's noise floor, each in a batch form and a streaming form that follow the same rule.

- :func:`lowpass` — zero-phase Butterworth magnitude (what ``filtfilt`` gives), in the frequency
  domain; offline, and the live path on its buffer windows.
- :class:`CausalLowpass` — the same Butterworth run causally (``scipy.signal.sosfilt``) with its
  state carried from chunk to chunk; its output does not depend on how the stream is chunked.
- :func:`noise_floor_dps` and :class:`RunningNoiseFloor` — 4 σ of the sample-to-sample jitter of
  the low-passed rate in the stillest seconds: per block of ``NOISE_BLOCK_S``, the median |Δ|;
  over the blocks, their ``NOISE_PERCENTILE``-th percentile. The running form keeps a histogram of
  the block medians.
- :func:`measured_rate_hz` — a stream's sampling rate from its timestamps, 1 / median interval
  (dropped packets and jitter do not move the median).
- :func:`median` — ``np.median`` of a 1-D array, bit for bit, without its overhead on the few
  values of a set or a rep.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = [
    "NOISE_FLOOR_MIN_DPS",
    "CausalLowpass",
    "RunningNoiseFloor",
    "lowpass",
    "measured_rate_hz",
    "median",
    "noise_floor_dps",
]

FloatArray = npt.NDArray[np.float64]

#: the noise floor never goes below this, °/s
NOISE_FLOOR_MIN_DPS = 1.5
#: jitter is measured per block of this length, s
NOISE_BLOCK_S = 1.0
#: the stillest blocks: this percentile of the block medians
NOISE_PERCENTILE = 10.0
#: fewer blocks than this: the median |Δ| of all samples is used
_NOISE_MIN_BLOCKS = 5
#: the floor is this many σ of the jitter
_NOISE_SIGMAS = 4.0
#: histogram of block medians (running form): log-spaced bins from 1e-6 to 1e3 °/s
_FLOOR_EDGES = np.logspace(-6.0, 3.0, 901)


def median_interval_s(time_s: FloatArray) -> float:
    """The median interval between the timestamps, s (NaN for fewer than two)."""
    if time_s.shape[0] < 2:
        return math.nan
    return float(np.median(np.diff(time_s)))


def measured_rate_hz(time_s: FloatArray) -> float:
    """The sampling rate the timestamps show: 1 / their median interval, Hz (NaN for fewer than
    two samples or a median interval that is not positive)."""
    step = median_interval_s(time_s)
    return 1.0 / step if step > 0 else math.nan


#: up to this many values, :func:`median` sorts them in Python
_SMALL_MEDIAN = 256


def median(x: FloatArray) -> float:
    """``float(np.median(x))`` of a 1-D float64 array — the same value to the last bit (the mean
    of the middle two is taken as numpy takes it) — in a fraction of its time on a few values,
    where numpy's per-call overhead is the whole cost. NaN, empty or long input goes to numpy."""
    n = len(x)
    if n == 0 or n > _SMALL_MEDIAN or x.dtype != np.float64:
        return float(np.median(x))
    v: list[float] = x.tolist()
    total = sum(v)
    if total != total:  # a NaN (or inf − inf): numpy's rules
        return float(np.median(x))
    v.sort()
    m = n // 2
    if n % 2:
        return 0.0 + v[m]
    return (0.0 + v[m - 1] + v[m]) / 2.0


def _fast_len(n: int) -> int:
    """Smallest 2^a·3^b·5^c ≥ n (fast FFT sizes)."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def lowpass(
    x: FloatArray, *, sampling_rate_hz: float, cutoff_hz: float, order: int = 2
) -> FloatArray:
    """Zero-phase Butterworth low-pass: gain ``1 / (1 + (f / cutoff)^(2·order))``.

    The magnitude of a forward–backward (filtfilt) Butterworth of ``order``, applied in the
    frequency domain on a reflected, padded copy (no scipy.signal import: it costs 0.6 s).
    Returns ``x`` unchanged if the cutoff is near Nyquist.
    """
    n = x.shape[0]
    if n < 16 or cutoff_hz >= 0.45 * sampling_rate_hz:
        return np.asarray(x, dtype=np.float64)
    pad = min(n - 1, int(3.0 * sampling_rate_hz / cutoff_hz))
    padded = np.concatenate((2 * x[0] - x[pad:0:-1], x, 2 * x[-1] - x[-2 : -pad - 2 : -1]))
    m = _fast_len(padded.shape[0])
    spectrum = np.fft.rfft(padded, m)
    f = np.fft.rfftfreq(m, d=1.0 / sampling_rate_hz)
    spectrum *= 1.0 / (1.0 + (f / cutoff_hz) ** (2 * order))
    return np.fft.irfft(spectrum, m)[pad : pad + n]


class CausalLowpass:
    """A second-order Butterworth low-pass run causally over a 1-D stream.

    The filter starts settled at the first value it sees. ``cutoff_hz`` at or above 0.45 of the
    sampling rate passes the signal through unchanged (as :func:`lowpass` does).
    """

    def __init__(self, *, sampling_rate_hz: float, cutoff_hz: float) -> None:
        self._sos: FloatArray | None = None
        self._zi_unit = np.zeros((1, 2))
        if cutoff_hz < 0.45 * sampling_rate_hz:
            from scipy import signal

            self._sos = np.asarray(signal.butter(2, cutoff_hz, fs=sampling_rate_hz, output="sos"))
            self._zi_unit = np.asarray(signal.sosfilt_zi(self._sos))
        self._zi: FloatArray | None = None

    def reset(self) -> None:
        self._zi = None

    def __call__(self, x: FloatArray) -> FloatArray:
        """Filter the next chunk ``x`` (shape ``(n,)``)."""
        if self._sos is None or x.shape[0] == 0:
            return np.asarray(x, dtype=np.float64)
        from scipy import signal

        zi = self._zi_unit * x[0] if self._zi is None else self._zi
        y, zi = signal.sosfilt(self._sos, x, zi=zi)
        self._zi = np.asarray(zi, dtype=np.float64)
        return np.asarray(y, dtype=np.float64)

    def shift(self, delta: float) -> None:
        """Move the state as if the input had always been ``delta`` higher."""
        if self._sos is not None and self._zi is not None:
            self._zi = self._zi + self._zi_unit * delta


def _floor_from_jitter(median_abs_diff: float) -> float:
    sigma = 1.4826 * median_abs_diff / math.sqrt(2.0)
    return max(NOISE_FLOOR_MIN_DPS, _NOISE_SIGMAS * sigma)


def _block_n(sampling_rate_hz: float) -> int:
    return max(4, round(NOISE_BLOCK_S * sampling_rate_hz))


def noise_floor_dps(rate_dps: FloatArray, *, sampling_rate_hz: float) -> float:
    """The rate's noise level: 4 σ of its sample-to-sample jitter in the stillest seconds, at least
    :data:`NOISE_FLOOR_MIN_DPS`. A recording that is mostly movement, or sampled slowly, does not
    read its movement as noise (see the module documentation)."""
    if rate_dps.shape[0] < 3:
        return NOISE_FLOOR_MIN_DPS
    d = np.abs(np.diff(rate_dps))
    block = _block_n(sampling_rate_hz)
    n = d.shape[0] // block
    if n >= _NOISE_MIN_BLOCKS:
        medians = np.median(d[: n * block].reshape(n, block), axis=1)
        return _floor_from_jitter(float(np.percentile(medians, NOISE_PERCENTILE)))
    return _floor_from_jitter(float(np.median(d)))


class RunningNoiseFloor:
    """:func:`noise_floor_dps` over a stream: fed the rate chunk by chunk, it keeps the median
    |Δ| of every completed block in a histogram (bounded memory) and the current block's |Δ|."""

    def __init__(self, *, sampling_rate_hz: float) -> None:
        self._block = _block_n(sampling_rate_hz)
        self.reset()

    def reset(self) -> None:
        self._counts = np.zeros(_FLOOR_EDGES.shape[0] + 1, dtype=np.int64)
        self._blocks = 0
        self._current: list[FloatArray] = []
        self._current_n = 0
        self._all: list[float] = []  # block-free fallback while there are few blocks
        self._last: float | None = None

    def add(self, rate_dps: FloatArray) -> None:
        if rate_dps.shape[0] == 0:
            return
        joined = rate_dps if self._last is None else np.concatenate(([self._last], rate_dps))
        self._last = float(rate_dps[-1])
        d = np.abs(np.diff(joined))
        if self._blocks < _NOISE_MIN_BLOCKS:
            self._all.extend(d.tolist())
        self._current.append(d)
        self._current_n += d.shape[0]
        if self._current_n < self._block:
            return
        cur = np.concatenate(self._current)
        n = cur.shape[0] // self._block
        medians = np.median(cur[: n * self._block].reshape(n, self._block), axis=1)
        self._counts += np.bincount(
            np.searchsorted(_FLOOR_EDGES, medians), minlength=self._counts.shape[0]
        )
        self._blocks += n
        rest = cur[n * self._block :]
        self._current, self._current_n = [rest], rest.shape[0]
        if self._blocks >= _NOISE_MIN_BLOCKS:
            self._all = []

    def value(self) -> float:
        if self._blocks < _NOISE_MIN_BLOCKS:
            if len(self._all) < 2:
                return NOISE_FLOOR_MIN_DPS
            return _floor_from_jitter(float(np.median(self._all)))
        k = int(np.searchsorted(np.cumsum(self._counts), NOISE_PERCENTILE / 100.0 * self._blocks))
        lo = _FLOOR_EDGES[max(0, k - 1)]
        hi = _FLOOR_EDGES[min(k, _FLOOR_EDGES.shape[0] - 1)]
        return _floor_from_jitter(math.sqrt(lo * hi) if k > 0 else 0.0)
