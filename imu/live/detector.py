"""Online detection: one stateful object fed chunks of samples, returning coaching events.

:class:`LiveDetector` is the streaming form of the offline pipeline (Fusion's ``Ahrs`` habit):
``update(time_s, acc_g, gyro_dps) -> list[LiveEvent]``, ``finish()`` at the end of the stream,
``reset()`` to start again, and a read-only :attr:`LiveDetector.state` for the view.

Signal path (all vectorised per chunk)
    :class:`~imu.angle.AngleEstimator` (the same VQF as offline) → θ and dθ/dt → a causal
    Butterworth low-pass (``scipy.signal.sosfilt`` with its state carried between chunks) of
    both. The first ``_STARTUP_S`` of data are held back once, to pick the shank axis like the
    offline ``auto`` rule does (on those samples only) and to start the filters settled.

Reps (the offline rules, applied as soon as they can be)
    The offline segmentation finds peaks of θ with a zig-zag of hysteresis ``min_rom_deg / 2``;
    the live detector runs the same zig-zag on the causal θ. While the leg rises, each time the
    rate falls back below ``max(moving_rate / 4, 10 % of its peak)`` the leg has stopped rising:
    the rise is then judged exactly as offline — the last ``max_side_s`` of the buffer are
    low-passed with the offline zero-phase filter, the bottom is found with
    :func:`~imu.segmentation.near_bottom` and the lag-corrected start and top with
    :func:`~imu.segmentation.phase_bounds` (:func:`~imu.segmentation.onset_time`) — and a rise of
    at least ``min_rom_deg`` to at least ``top_min_deg`` is counted **at the top**. A rise of
    ``min_rom_deg / 2`` to ``min_rom_deg`` counts late, once the leg has come down
    ``min_rom_deg`` (offline's "the larger side is the full ROM" rule). A counted rep the leg
    never lowers within ``max_side_s`` is withdrawn (``rep_cancelled``). When the leg has stopped
    at the bottom the lowering phase is measured the same way (``rep_end``).

Warnings
    ``above_hip_line`` fires at the first sample of a rise whose θ is above the tolerance;
    ``momentum`` at the count (coasting is judged on the concentric, a bounce at the start, by
    :func:`~imu.form.momentum_flag`); ``drop``, ``no_hold`` and ``partial`` (the peak rule) with
    ``rep_end``.

Sets (numbered like offline)
    The first rep counted after a break longer than ``rest_threshold_s`` (offline's rule, from
    the previous rep's end to this one's start) opens a set: ``set_start`` then ``rep``. Reps are
    counted at once, the first ones too. ``set_end`` is announced once the leg has been back at
    the bottom for ``wait = clamp(2 × the set's median bottom pause + 1.5 s, 4 s,
    rest_threshold_s)`` with no rep under way (a rise that has not become a rep within
    ``_RISE_HOLD_S`` no longer counts as under way). Its ``rep_count`` is the set judged by
    offline's own rules — :func:`~imu.segmentation.detect_reps` and
    :func:`~imu.segmentation.group_sets` run on the samples the set spans, kept in the history —
    so getting on or off the bench, or fidgeting apart from the set, is dropped; the live reps
    those rules do not keep are listed in ``cancelled_reps``. A set with fewer
    than ``min_set_reps`` reps is not a set: nothing is said until ``rest_threshold_s`` has
    passed, then ``set_cancelled``, and its number is used again by the next set (at once if its
    only rep was withdrawn). Until ``rest_threshold_s`` has passed an announcement is
    provisional: a rep starting within it belongs to the same set (``set_resumed``, counting on),
    exactly as offline would group it. The last ``set_end``/``set_cancelled`` of a set index is
    its final word. A rep withdrawn at its end (``rep_cancelled``: offline would not keep it once
    both its sides are known) frees its number for the next rep.

Every event fires at a sample: ``t_s`` is the time of the sample at which its condition became
true, which is the last sample the live path had seen when the data arrive one sample at a time.
Nothing looks past that sample, so the events do not depend on how the stream is chunked.
Memory is bounded: ``_HISTORY_S`` of samples (plus the chunk being processed) and the current
set's reps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from imu.angle import AngleEstimator, resolve_shank_axis, static_theta
from imu.dsp import lowpass, noise_floor_dps
from imu.errors import ImuError
from imu.form import DEFAULT_LEG_LENGTH_M, RepKinematics, momentum_flag, rep_flags
from imu.recording import GRAVITY_MPS2
from imu.results import RepResult
from imu.segmentation import (
    find_movements,
    judge_sets,
    phase_bounds,
    rep_bottoms,
    rise_bottom,
    top_agrees,
)
from imu.settings import Settings
from imu.summary import tempo_string

__all__ = ["EVENT_KINDS", "DetectorState", "LiveDetector", "LiveEvent", "LiveRep"]

FloatArray = npt.NDArray[np.float64]

#: every ``event`` value :class:`LiveDetector` emits
EVENT_KINDS = (
    "set_start",
    "rep",
    "above_hip_line",
    "momentum",
    "rep_end",
    "drop",
    "no_hold",
    "partial",
    "rep_cancelled",
    "set_end",
    "set_cancelled",
    "set_resumed",
)

#: data held back at the start to choose the shank axis and settle the filters, s
_STARTUP_S = 1.0
#: the hip axis is the mean of u × up over this trailing window (offline: a centred 10 s one,
#: which reaches 5 s back and 5 s ahead; a shorter trailing one follows a posture change as fast)
_AXIS_WINDOW_S = 5.0
#: samples kept for the rolling judgements, s (≥ a rep's longest side plus margins)
_HISTORY_S = 240.0
#: offline defaults of :func:`imu.segmentation.detect_reps`
_MAX_SIDE_S = 12.0
_MAX_REP_S = 30.0
#: extra samples low-passed before a rep's window, so the zero-phase filter's edge is far away, s
_PAD_S = 2.0
#: the leg stopped rising when the rate falls below this share of its peak in the rise
_TOP_FRACTION = 0.1
#: rates that start (and, with the fraction above, end) a burst, as shares of moving_rate_dps
_BURST_START = 0.5
_BURST_END = 0.25
#: after the lowering stops, wait this long (and ≥ _COMPLETE_MIN_SAMPLES) before measuring it, s
_COMPLETE_DELAY_S = 0.35
_COMPLETE_MIN_SAMPLES = 10
#: offline's merge rule (_merge_interrupted): a rise less than this after the last rep ended,
#: from a dip in the upper half of the movement (relative to the median bottom of the last
#: reps), continues that rep
_CONTIGUOUS_S = 1.0
_MERGE_REF_REPS = 7
#: the lowering is measured once it is this share of the rise (offline's side balance)
_BALANCE = 0.6
#: set end: clamp(factor × median bottom pause + margin, minimum, rest_threshold_s)
_SET_END_MIN_S = 4.0
_SET_END_PAUSE_FACTOR = 2.0
_SET_END_MARGIN_S = 1.5
#: a rise still uncounted this long after it began (a drift, a fidget) no longer delays set_end, s
_RISE_HOLD_S = 3.0
#: a chunk is worked through in blocks of at most this many samples (bounds the searches)
_BLOCK = 512
#: streaming leg-length fit from the centripetal acceleration (sin θ − reading ∝ r·ω²/g)
_LEG_MIN_RATE_DPS = 60.0
_LEG_MIN_SAMPLES = 40
#: noise-floor histogram: |Δv| in log-spaced bins from 1e-6 to 1e3 °/s
_FLOOR_EDGES = np.logspace(-6.0, 3.0, 901)
_NEVER = np.iinfo(np.int64).max


# ---------------------------------------------------------------------------------------------
# Events and state


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3) if math.isfinite(value) else None
    if isinstance(value, tuple):
        return [_round(v) for v in value]
    return value


@dataclass(frozen=True)
class LiveEvent:
    """One coaching event. Fields that do not apply to an event are ``None`` (left out of
    :meth:`to_dict`). Times are in the recording's ``time_s`` base, s."""

    event: str  #: one of :data:`EVENT_KINDS`
    t_s: float  #: time of the sample at which the event fired, s
    set_index: int | None = None  #: 1-based set number
    rep_index: int | None = None  #: 1-based rep number within the set, as counted aloud
    start_s: float | None = None  #: rep: leaves the bottom; set: its first rep's start
    top_start_s: float | None = None  #: rep: stops rising
    top_end_s: float | None = None  #: rep_end: starts lowering
    end_s: float | None = None  #: rep_end: stops at the bottom; set: its last rep's end
    peak_angle_deg: float | None = None  #: highest θ of the rep so far, °
    crossing_s: float | None = None  #: above_hip_line: when θ crossed the tolerance
    theta_deg: float | None = None  #: above_hip_line: θ at ``t_s``, °
    rep_count: int | None = None  #: set_end/set_cancelled: the set's final count
    counted: int | None = None  #: set_end/set_cancelled: reps counted aloud in the set
    cancelled_reps: tuple[int, ...] | None = None  #: set_end: reps dropped as transitions
    tempo: str | None = None  #: set_end: ecc-bottom-con-top medians, e.g. ``3-0-2-1``
    late: bool | None = None  #: rep: counted after the top (only a short first rise does)
    value: float | None = None  #: a warning's measured quantity
    unit: str | None = None  #: its unit
    detail: str | None = None  #: a warning's evidence, or why a rep was withdrawn

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of one ``events.jsonl`` line (contracts §4)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = _round(value)
        return out


@dataclass(frozen=True)
class LiveRep:
    """A rep as the live path knows it (phases of the lowering once ``end_s`` is known)."""

    set_index: int
    rep_index: int
    start_s: float
    top_start_s: float
    peak_angle_deg: float  #: highest θ (so far, until the rep ended), °
    peak_velocity_dps: float
    top_end_s: float | None = None
    end_s: float | None = None
    min_angle_deg: float | None = None
    peak_lowering_velocity_dps: float | None = None
    bottom_pause_s: float | None = None  #: known once the next rep of the set starts
    flags: tuple[str, ...] = ()

    @property
    def concentric_s(self) -> float:
        return self.top_start_s - self.start_s

    @property
    def top_hold_s(self) -> float | None:
        return None if self.top_end_s is None else self.top_end_s - self.top_start_s

    @property
    def eccentric_s(self) -> float | None:
        if self.end_s is None or self.top_end_s is None:
            return None
        return self.end_s - self.top_end_s


@dataclass(frozen=True)
class DetectorState:
    """What the live view shows, read from :attr:`LiveDetector.state`."""

    ready: bool = False  #: past the start-up (axis chosen, filters settled)
    time_s: float | None = None  #: time of the last sample seen, s
    theta_deg: float | None = None  #: current leg angle above the hip line, °
    set_index: int = 0  #: current (or last) set; 0 = none yet
    rep_count: int = 0  #: reps counted in the current (or last) set
    in_set: bool = False
    total_reps: int = 0  #: reps counted (and not withdrawn) since the start
    last_rep: LiveRep | None = None
    samples: int = 0  #: samples received
    gaps: int = 0  #: intervals longer than 1.5 sample periods (dropped packets)
    shank_axis: str | None = None
    leg_length_m: float = DEFAULT_LEG_LENGTH_M  #: used for coasting and foot heights, m


# ---------------------------------------------------------------------------------------------
# Internals


class _History:
    """The last samples of each signal, addressed by global sample index."""

    names = ("t", "theta", "rate", "theta_c", "v_c", "static", "jitter", "leg_xy", "leg_xx")

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.first = 0  # global index of row 0
        self.size = 0
        self.cols: dict[str, FloatArray] = {k: np.zeros(max(16, 2 * keep)) for k in self.names}

    @property
    def end(self) -> int:
        """Global index one past the last stored sample."""
        return self.first + self.size

    def append(self, values: dict[str, FloatArray]) -> None:
        m = values["t"].shape[0]
        cap = self.cols["t"].shape[0]
        if self.size + m > cap:
            drop = max(0, self.size - self.keep)
            kept = self.size - drop
            new_cap = max(cap, 2 * (kept + m))
            for k in self.names:
                col = self.cols[k]
                fresh = col if new_cap == cap else np.zeros(new_cap)
                fresh[:kept] = col[drop : self.size]
                self.cols[k] = fresh
            self.first += drop
            self.size = kept
        for k in self.names:
            self.cols[k][self.size : self.size + m] = values[k]
        self.size += m

    def get(self, name: str, g0: int, g1: int) -> FloatArray:
        """Samples ``[g0, g1)`` (clipped to what is stored)."""
        a = max(g0, self.first) - self.first
        b = min(g1, self.end) - self.first
        return self.cols[name][a:b]

    def at(self, name: str, g: int) -> float:
        return float(self.cols[name][g - self.first])


@dataclass
class _RiseJudgement:
    """A rise judged with the offline rules on the buffer."""

    peak_g: int
    height_deg: float  #: low-passed θ at the peak
    rom_up_deg: float
    start_s: float
    top_start_s: float
    peak_velocity_dps: float
    start_angle_deg: float
    start_g: int
    prev_peak_g: int  #: the zig-zag peak before this one (bounds the valley search)


@dataclass
class _Rep:
    set_index: int
    rep_index: int
    start_s: float
    top_start_s: float
    start_g: int
    peak_g: int
    peak_angle_deg: float
    peak_velocity_dps: float
    start_angle_deg: float
    count_t: float
    prev_peak_g: int
    rom_up_deg: float  #: rise judged at the count, °
    watch_t: float  #: counted (or continued by a merged rise) at this time, s
    peak_c: float = math.inf  #: causal θ at the zig-zag peak, once confirmed
    peak_t: float = math.inf  #: its time
    zz_peak_g: int = -1  #: its sample
    confirmed: bool = False
    top_end_s: float | None = None
    end_s: float | None = None
    end_angle_deg: float | None = None
    min_angle_deg: float | None = None
    peak_lowering_velocity_dps: float | None = None
    bottom_pause_s: float | None = None
    peak_s: float | None = None  #: when the raw θ peaked, once the rep ended
    flags: list[str] = field(default_factory=list)

    def public(self) -> LiveRep:
        return LiveRep(
            set_index=self.set_index,
            rep_index=self.rep_index,
            start_s=self.start_s,
            top_start_s=self.top_start_s,
            peak_angle_deg=self.peak_angle_deg,
            peak_velocity_dps=self.peak_velocity_dps,
            top_end_s=self.top_end_s,
            end_s=self.end_s,
            min_angle_deg=self.min_angle_deg,
            peak_lowering_velocity_dps=self.peak_lowering_velocity_dps,
            bottom_pause_s=self.bottom_pause_s,
            flags=tuple(self.flags),
        )


@dataclass
class _Rise:
    """The current rise of the zig-zag (θ has risen ``min_rom/2`` from its last valley)."""

    valley_g: int
    start_t: float  #: when θ had risen min_rom/2, s
    vmax: float = 0.0  #: peak rate of the current burst, °/s
    rep: _Rep | None = None  #: counted at a top of this rise
    dead: bool = False  #: its rep was withdrawn: do not count this rise again


@dataclass
class _Set:
    index: int
    reps: list[_Rep] = field(default_factory=list)
    announced: bool = False  #: set_end / set_cancelled said (provisionally)
    cancelled: bool = False  #: the announcement was set_cancelled
    last_count_t: float = 0.0

    @property
    def last_end_s(self) -> float | None:
        ends = [r.end_s for r in self.reps if r.end_s is not None]
        return max(ends) if ends else None


# ---------------------------------------------------------------------------------------------
# The detector


class LiveDetector:
    """Streaming reps, warnings and sets from raw samples; see the module documentation.

    ``update`` accepts chunks of any size (``time_s`` shape ``(n,)``, ``acc_g`` and ``gyro_dps``
    shape ``(n, 3)``, in g and °/s, sensor axes) and returns the events that fired within them,
    in order. Call :meth:`finish` when the stream ends to announce the last set.
    """

    def __init__(self, settings: Settings, *, sampling_rate_hz: float) -> None:
        if not (math.isfinite(sampling_rate_hz) and sampling_rate_hz > 0):
            raise ImuError(f"sampling rate must be positive, got {sampling_rate_hz}")
        self.settings = settings
        self.sampling_rate_hz = float(sampling_rate_hz)
        fs = self.sampling_rate_hz
        self._startup_n = max(2, math.ceil(_STARTUP_S * fs))
        self._side_n = max(2, int(_MAX_SIDE_S * fs))
        self._pad_n = max(8, int(_PAD_S * fs))
        self._complete_n = max(_COMPLETE_MIN_SAMPLES, math.ceil(_COMPLETE_DELAY_S * fs))
        self._delta = 0.5 * settings.min_rom_deg
        self._burst_start = _BURST_START * settings.moving_rate_dps
        self._burst_end = _BURST_END * settings.moving_rate_dps
        cutoff = settings.smoothing_cutoff_hz
        self._sos: FloatArray | None = None
        self._zi_unit = np.zeros((1, 2))
        if cutoff < 0.45 * fs:
            from scipy import signal

            self._sos = np.asarray(signal.butter(2, cutoff, fs=fs, output="sos"))
            self._zi_unit = np.asarray(signal.sosfilt_zi(self._sos))
        self.reset()

    # -- public ----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything: the next sample starts a new stream."""
        self._estimator: AngleEstimator | None = None
        self._pending: list[tuple[FloatArray, FloatArray, FloatArray]] = []
        self._pending_n = 0
        self._shank_vec = np.array([1.0, 0.0, 0.0])
        self._shank_axis: str | None = None
        self._offset_deg = self.settings.hip_line_offset_deg
        self._segment_values: list[FloatArray] = []
        self._segment_done = self.settings.hip_line_segment_s is None
        self._zi: dict[str, FloatArray] = {}
        self._floor_counts = np.zeros(_FLOOR_EDGES.shape[0] + 1, dtype=np.int64)
        self._last_vcc: float | None = None
        self._leg_sums = np.zeros(3)  # Σxy, Σxx, count
        self._stats_g = 0  # samples before this are in the floor and leg sums
        self._hist = _History(
            max(self._side_n + 4 * self._pad_n, int(_HISTORY_S * self.sampling_rate_hz))
        )
        # a whole set stays in the history, so that it can be judged by offline's rules
        self._samples = 0
        self._gaps = 0
        self._last_t: float | None = None
        self._theta_now: float | None = None
        # zig-zag on the causal θ
        self._mode = -1
        self._hi = self._lo = 0.0
        self._hi_g = self._lo_g = 0
        self._zz_peak_g = -1  # the last peak the zig-zag kept
        self._rise: _Rise | None = None
        self._late: tuple[float, int, _RiseJudgement] | None = None  # peak θ_c, its index
        self._hip_armed = False
        # reps waiting for their lowering to be measured
        self._to_complete: _Rep | None = None
        self._stop_g: int | None = None
        # sets
        self._set: _Set | None = None
        self._sets_done = 0
        self._total_reps = 0
        self._last_rep: _Rep | None = None
        self._recent_lows: list[float] = []  # min(start, end angle) of the last reps, °
        self._events: list[LiveEvent] = []

    @property
    def state(self) -> DetectorState:
        s = self._set
        return DetectorState(
            ready=self._estimator is not None,
            time_s=self._last_t,
            theta_deg=self._theta_now,
            set_index=s.index if s is not None else self._sets_done,
            rep_count=len(s.reps) if s is not None else 0,
            in_set=s is not None and not s.announced,
            total_reps=self._total_reps,
            last_rep=None if self._last_rep is None else self._last_rep.public(),
            samples=self._samples,
            gaps=self._gaps,
            shank_axis=self._shank_axis,
            leg_length_m=self.leg_length_m,
        )

    @property
    def leg_length_m(self) -> float:
        """The given leg length, else the running centripetal estimate, else the default."""
        if self.settings.leg_length_m is not None:
            return self.settings.leg_length_m
        sxy, sxx, count = self._leg_sums
        if count >= _LEG_MIN_SAMPLES and sxx > 0:
            r = sxy / sxx
            if 0.45 <= r <= 1.3:
                return float(r)
        return DEFAULT_LEG_LENGTH_M

    def update(
        self, time_s: FloatArray, acc_g: FloatArray, gyro_dps: FloatArray
    ) -> list[LiveEvent]:
        """Feed a chunk of samples; return the events that fired in it, in order."""
        t = np.asarray(time_s, dtype=np.float64).reshape(-1)
        acc = np.asarray(acc_g, dtype=np.float64).reshape(-1, 3)
        gyro = np.asarray(gyro_dps, dtype=np.float64).reshape(-1, 3)
        if not (t.shape[0] == acc.shape[0] == gyro.shape[0]):
            raise ImuError("time_s, acc_g and gyro_dps must hold the same number of samples")
        self._events = []
        if t.shape[0] == 0:
            return []
        self._count_gaps(t)
        if self._estimator is None:
            self._pending.append((t, acc, gyro))
            self._pending_n += t.shape[0]
            if self._pending_n < self._startup_n:
                return []
            t = np.concatenate([p[0] for p in self._pending])
            acc = np.concatenate([p[1] for p in self._pending])
            gyro = np.concatenate([p[2] for p in self._pending])
            self._pending, self._pending_n = [], 0
            self._start(acc[: self._startup_n])
        # the hip-line calibration segment ends at a fixed sample: split the chunk there
        cut = self._segment_cut(t)
        if cut is not None and 0 < cut < t.shape[0]:
            self._process(t[:cut], acc[:cut], gyro[:cut])
            self._process(t[cut:], acc[cut:], gyro[cut:])
        else:
            self._process(t, acc, gyro)
        return self._events

    def finish(self) -> list[LiveEvent]:
        """The stream ended: measure a rep still being lowered and announce the open set."""
        self._events = []
        g = self._hist.end - 1
        if g >= self._hist.first and self._last_t is not None:
            if self._to_complete is not None:
                self._complete(self._to_complete, g)
            if (
                self._rise is not None
                and self._rise.rep is not None
                and not self._rise.rep.confirmed
            ):
                self._cancel(self._rise.rep, g, "the leg was not lowered before the end")
            if self._set is not None and not self._set.announced:
                self._announce(g)
        return self._events

    # -- signal path -------------------------------------------------------------------------

    def _count_gaps(self, t: FloatArray) -> None:
        period = 1.0 / self.sampling_rate_hz
        joined = t if self._last_t is None else np.concatenate(([self._last_t], t))
        if joined.shape[0] > 1:
            self._gaps += int(np.count_nonzero(np.diff(joined) > 1.5 * period))
        self._samples += t.shape[0]
        self._last_t = float(t[-1])

    def _start(self, acc: FloatArray) -> None:
        axis = self.settings.shank_axis
        name, vec, _ = resolve_shank_axis(acc, axis)
        self._shank_axis, self._shank_vec = name, vec
        self._estimator = AngleEstimator(
            sampling_rate_hz=self.sampling_rate_hz,
            shank_axis=name,
            max_bridge_s=self.settings.max_bridge_s,
            axis_window_s=_AXIS_WINDOW_S,
        )

    def _segment_cut(self, t: FloatArray) -> int | None:
        if self._segment_done or self.settings.hip_line_segment_s is None:
            return None
        return int(np.searchsorted(t, self.settings.hip_line_segment_s[1]))

    def _filter(self, key: str, x: FloatArray) -> FloatArray:
        if self._sos is None:
            return x
        from scipy import signal

        zi = self._zi.get(key)
        if zi is None:  # start settled at the first value
            zi = self._zi_unit[..., None] * x[0] if x.ndim == 2 else self._zi_unit * x[0]
        y, zi = signal.sosfilt(self._sos, x, axis=0, zi=zi)
        self._zi[key] = zi
        return np.asarray(y, dtype=np.float64)

    def _shift_theta_filter(self, delta: float) -> None:
        """Move the θ filter's state as if θ had always been ``delta`` higher."""
        zi = self._zi.get("theta_rate")
        if self._sos is not None and zi is not None:
            zi = zi.copy()
            zi[..., 0] += self._zi_unit * delta
            self._zi["theta_rate"] = zi

    def _process(self, t: FloatArray, acc: FloatArray, gyro: FloatArray) -> None:
        assert self._estimator is not None
        theta0, rate = self._estimator.update(t, acc, gyro)
        self._calibrate(t, theta0)
        theta = theta0 - self._offset_deg
        both = self._filter("theta_rate", np.stack((theta, rate), axis=1))
        theta_c, v_c = both[:, 0], both[:, 1]
        jitter = self._jitter(self._filter("rate2", v_c))
        leg_xy, leg_xx = self._leg_terms(theta, rate, acc)
        g0 = self._hist.end
        static = static_theta(acc, self._shank_vec, hip_line_offset_deg=self._offset_deg)
        self._hist.append(
            {
                "t": t,
                "theta": theta,
                "rate": rate,
                "theta_c": theta_c,
                "v_c": v_c,
                "static": static,
                "jitter": jitter,
                "leg_xy": leg_xy,
                "leg_xx": leg_xx,
            }
        )
        if g0 == 0:
            self._lo, self._lo_g = float(theta_c[0]), 0
        self._theta_now = float(theta[-1])
        end = self._hist.end
        for a in range(g0, end, _BLOCK):
            b = min(end, a + _BLOCK)
            self._run(a, b)
            self._take_stats(b)

    def _calibrate(self, t: FloatArray, theta0: FloatArray) -> None:
        seg = self.settings.hip_line_segment_s
        if self._segment_done or seg is None:
            return
        a, b = seg
        sel = (t >= a) & (t < b)
        if sel.any():
            self._segment_values.append(theta0[sel].copy())
        if t[0] >= b:  # the chunk was split at the segment's end: this is the first one after
            values = np.concatenate(self._segment_values) if self._segment_values else None
            if values is not None and values.size:
                new = float(np.median(values))
                self._shift_theta_filter(-(new - self._offset_deg))
                self._offset_deg = new
            self._segment_done = True
            self._segment_values = []

    def _jitter(self, v2: FloatArray) -> FloatArray:
        """|Δ| of the twice low-passed rate, sample by sample (NaN for the very first)."""
        prev = self._last_vcc
        self._last_vcc = float(v2[-1])
        joined = np.concatenate(([np.nan if prev is None else prev], v2))
        return np.abs(np.diff(joined))

    def _leg_terms(
        self, theta: FloatArray, rate: FloatArray, acc: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """Each sample's terms of the centripetal leg-length fit (0 for slow samples)."""
        fast = np.abs(rate) > _LEG_MIN_RATE_DPS
        x = np.where(fast, np.radians(rate) ** 2 / GRAVITY_MPS2, 0.0)
        y = np.sin(np.radians(theta + self._offset_deg)) - acc @ self._shank_vec
        return x * y, x * x

    def _take_stats(self, g_end: int) -> None:
        """Add samples up to ``g_end`` (exclusive) to the running noise floor and leg fit — never
        a sample the state machine has not reached, so nothing depends on the chunking."""
        g0 = self._stats_g
        if g_end <= g0:
            return
        h = self._hist
        d = h.get("jitter", g0, g_end)
        d = d[np.isfinite(d)]
        if d.size:
            self._floor_counts += np.bincount(
                np.searchsorted(_FLOOR_EDGES, d), minlength=self._floor_counts.shape[0]
            )
        xx = h.get("leg_xx", g0, g_end)
        if np.any(xx > 0):
            xy = h.get("leg_xy", g0, g_end)
            self._leg_sums += (float(xy.sum()), float(xx.sum()), float(np.count_nonzero(xx)))
        self._stats_g = g_end

    def _floor(self, g: int) -> float:
        """The offline noise floor (4 σ of the rate's sample-to-sample jitter), estimated from
        every sample up to ``g``: the rate low-passed twice causally has the zero-phase
        filter's gain, so its jitter matches."""
        self._take_stats(g + 1)
        total = int(self._floor_counts.sum())
        if total < 3:
            return float(noise_floor_dps(np.zeros(0), sampling_rate_hz=self.sampling_rate_hz))
        k = int(np.searchsorted(np.cumsum(self._floor_counts), 0.5 * total))
        lo = _FLOOR_EDGES[max(0, k - 1)]
        hi = _FLOOR_EDGES[min(k, _FLOOR_EDGES.shape[0] - 1)]
        median = math.sqrt(lo * hi) if k > 0 else 0.0
        sigma = 1.4826 * median / math.sqrt(2.0)
        return max(1.5, 4.0 * sigma)

    def _leg_length(self, g: int) -> float:
        self._take_stats(g + 1)
        return self.leg_length_m

    # -- the state machine -----------------------------------------------------------------

    def _emit(self, event: LiveEvent) -> None:
        self._events.append(event)

    def _run(self, a: int, b: int) -> None:
        """Work through samples ``[a, b)``: find the earliest transition, handle it, repeat."""
        h = self._hist
        th = h.get("theta_c", a, b)
        v = h.get("v_c", a, b)
        t = h.get("t", a, b)
        raw = h.get("theta", a, b)
        pos = 0
        n = b - a
        guard = 0
        while pos < n:
            cands: list[tuple[int, int, Callable[[int], None]]] = []
            th_p, v_p = th[pos:], v[pos:]
            if self._mode == 1:
                cm = np.maximum(np.maximum.accumulate(th_p), self._hi)
                i = _first(cm - th_p >= self._delta)
                cands.append((i, 2, self._on_fall))
                rise = self._rise
                if rise is not None and rise.rep is None and not rise.dead:
                    vm = np.maximum(np.maximum.accumulate(v_p), rise.vmax)
                    level = np.maximum(self._burst_end, _TOP_FRACTION * vm)
                    i = _first((vm > self._burst_start) & (v_p < level))
                    cands.append((i, 0, self._on_top))
                tol = self.settings.tolerance_deg
                if self._hip_armed and tol is not None:
                    i = _first(raw[pos:] > tol)
                    cands.append((i, 1, self._on_hip_line))
                if rise is not None and rise.rep is not None and not rise.rep.confirmed:
                    deadline = rise.rep.watch_t + _MAX_SIDE_S
                    i = int(np.searchsorted(t[pos:], deadline, side="left"))
                    cands.append((i if i < n - pos else _NEVER, 3, self._on_never_lowered))
            else:
                cm = np.minimum(np.minimum.accumulate(th_p), self._lo)
                i = _first(th_p - cm >= self._delta)
                cands.append((i, 2, self._on_rise))
                if self._late is not None:
                    i = _first(self._late[0] - th_p >= self.settings.min_rom_deg)
                    cands.append((i, 0, self._on_late_count))
            done = self._to_complete
            if done is not None:
                # measured once the leg has stopped about as far down as it rose (offline
                # balances a rep's sides), or when the next rise starts, or max_side_s on
                if self._stop_g is None:
                    deep = done.peak_c - th_p >= _BALANCE * done.rom_up_deg
                    i = _first((v_p >= 0.0) & deep)
                    cands.append((i, 4, self._on_stopped))
                else:
                    due = self._stop_g + self._complete_n - (a + pos)
                    cands.append((max(0, due) if due < n - pos else _NEVER, 4, self._on_complete))
                i = int(np.searchsorted(t[pos:], done.peak_t + _MAX_SIDE_S, side="left"))
                cands.append((i if i < n - pos else _NEVER, 4, self._on_complete))
            deadline_s = self._set_deadline()
            if deadline_s is not None:
                i = int(np.searchsorted(t[pos:], deadline_s, side="left"))
                cands.append((i if i < n - pos else _NEVER, 5, self._on_set_deadline))
            i, _, handler = min(cands, key=lambda c: (c[0], c[1]))
            if i >= n - pos:
                self._advance(a + pos, a + n)
                return
            self._advance(a + pos, a + pos + i)
            pos += i
            handler(a + pos)
            guard += 1
            if guard > 64 + 8 * n:  # pragma: no cover - a handler failed to change the state
                raise RuntimeError("live detector: no progress")

    def _advance(self, g0: int, g1: int) -> None:
        """Carry the running extremes over samples ``[g0, g1)`` without an event."""
        if g1 <= g0:
            return
        th = self._hist.get("theta_c", g0, g1)
        if self._mode == 1:
            j = int(np.argmax(th))
            if th[j] > self._hi:
                self._hi, self._hi_g = float(th[j]), g0 + j
            rise = self._rise
            if rise is not None:
                rise.vmax = max(rise.vmax, float(self._hist.get("v_c", g0, g1).max()))
        else:
            j = int(np.argmin(th))
            if th[j] < self._lo:
                self._lo, self._lo_g = float(th[j]), g0 + j

    # transitions (each changes the state so that it does not fire again at the same sample)

    def _on_rise(self, g: int) -> None:
        """θ rose ``min_rom/2`` above its last valley: a rise (a rep candidate) begins."""
        self._advance(g, g + 1)
        if self._to_complete is not None:
            self._complete(self._to_complete, g)  # its valley is known now
        self._mode = 1
        self._hi, self._hi_g = self._hist.at("theta_c", g), g
        self._rise = _Rise(valley_g=self._lo_g, start_t=self._hist.at("t", g))
        self._late = None
        self._hip_armed = True

    def _on_fall(self, g: int) -> None:
        """θ fell ``min_rom/2`` below the rise's peak: offline would keep this peak."""
        self._advance(g, g + 1)
        rise = self._rise
        peak, peak_g = self._hi, self._hi_g
        self._mode = -1
        self._lo, self._lo_g = self._hist.at("theta_c", g), g
        self._rise = None
        self._hip_armed = False
        if rise is None or rise.dead:
            return
        prev_peak, self._zz_peak_g = self._zz_peak_g, peak_g
        if rise.rep is not None:
            self._confirm(rise.rep, peak, peak_g, g)
            return
        judged = self._judge_rise(rise.valley_g, g, peak_limit_g=peak_g, prev_peak_g=prev_peak)
        if judged is None or judged.height_deg < self.settings.top_min_deg:
            return
        merged = self._merge_target(judged, g)
        if merged is not None:
            self._confirm(merged, peak, peak_g, g)
        elif judged.rom_up_deg >= self.settings.min_rom_deg:
            self._confirm(self._count(judged, g, late=True), peak, peak_g, g)
        elif judged.rom_up_deg >= 0.5 * self.settings.min_rom_deg:
            self._late = (peak, peak_g, judged)

    def _confirm(self, rep: _Rep, peak_c: float, peak_g: int, g: int) -> None:
        """The leg came down ``min_rom/2`` from the rep's peak: measure it once at the bottom."""
        rep.confirmed = True
        rep.peak_c, rep.peak_t = peak_c, self._hist.at("t", peak_g)
        rep.zz_peak_g = peak_g
        if self._to_complete is not None and self._to_complete is not rep:
            self._complete(self._to_complete, g)
        self._to_complete, self._stop_g = rep, None

    def _on_top(self, g: int) -> None:
        """The leg stopped rising: judge the rise and count it if it is a rep."""
        rise = self._rise
        assert rise is not None
        self._advance(g, g + 1)
        judged = self._judge_rise(rise.valley_g, g, peak_limit_g=g, prev_peak_g=self._zz_peak_g)
        if (
            judged is not None
            and judged.height_deg >= self.settings.top_min_deg
            and judged.rom_up_deg >= self.settings.min_rom_deg
        ):
            merged = self._merge_target(judged, g)
            rise.rep = merged if merged is not None else self._count(judged, g, late=False)
        rise.vmax = 0.0  # a further burst in this rise is judged again at its own top

    def _on_late_count(self, g: int) -> None:
        assert self._late is not None
        peak, peak_g, judged = self._late
        self._late = None
        merged = self._merge_target(judged, g)
        rep = merged if merged is not None else self._count(judged, g, late=True)
        self._confirm(rep, peak, peak_g, g)

    def _merge_target(self, judged: _RiseJudgement, g: int) -> _Rep | None:
        """The previous rep, reopened, if this rise continues it (offline's merge rule: less
        than ``_CONTIGUOUS_S`` after it ended, from a dip that stayed in the movement's upper
        half); else ``None``."""
        prev = self._last_rep
        if prev is None or prev.end_s is None or prev.end_angle_deg is None:
            return None
        if judged.start_s - prev.end_s >= _CONTIGUOUS_S:
            return None
        lows = [*self._recent_lows, judged.start_angle_deg]
        ref = float(np.median(lows[-_MERGE_REF_REPS:]))
        seg = self._hist.get("theta", judged.start_g, g + 1)
        peak = float(seg.max()) if seg.size else judged.height_deg
        top = min(prev.peak_angle_deg, peak)
        valley = min(prev.end_angle_deg, judged.start_angle_deg)
        if not (top > ref and valley - ref > 0.5 * (top - ref)):
            return None
        # the rep goes on: measured again once this rise has come down
        if self._recent_lows:
            self._recent_lows.pop()
        prev.end_s = prev.top_end_s = prev.end_angle_deg = None
        prev.confirmed = False
        prev.watch_t = self._hist.at("t", g)
        prev.peak_g = max(prev.peak_g, judged.peak_g)
        return prev

    def _on_hip_line(self, g: int) -> None:
        self._hip_armed = False
        tol = self.settings.tolerance_deg
        assert tol is not None  # armed only when there is a hip line
        th1 = self._hist.at("theta", g)
        t1 = self._hist.at("t", g)
        crossing = t1
        if g - 1 >= self._hist.first:
            th0, t0 = self._hist.at("theta", g - 1), self._hist.at("t", g - 1)
            if th0 < tol < th1:
                crossing = t0 + (tol - th0) / (th1 - th0) * (t1 - t0)
        rep = self._rise.rep if self._rise is not None else None
        self._emit(
            LiveEvent(
                "above_hip_line",
                t1,
                set_index=rep.set_index if rep is not None else None,
                rep_index=rep.rep_index if rep is not None else None,
                crossing_s=crossing,
                theta_deg=th1,
                value=th1,
                unit="deg",
                detail=f"θ {th1:+.1f}° is above the {tol:g}° tolerance",
            )
        )

    def _on_never_lowered(self, g: int) -> None:
        rise = self._rise
        assert rise is not None and rise.rep is not None
        self._cancel(rise.rep, g, f"the leg was not lowered within {_MAX_SIDE_S:g} s")
        rise.rep = None
        rise.dead = True

    def _on_stopped(self, g: int) -> None:
        self._stop_g = g

    def _on_stop_check(self, g: int) -> bool:
        """Still at rest since the stop? Otherwise it was a pause on the way down."""
        assert self._stop_g is not None
        v = self._hist.get("v_c", self._stop_g, g + 1)
        if v.size and float(v.min()) < -self._burst_end:
            self._stop_g = None
            return False
        return True

    def _on_complete(self, g: int) -> None:
        rep = self._to_complete
        assert rep is not None
        timed_out = self._hist.at("t", g) >= rep.peak_t + _MAX_SIDE_S
        if self._stop_g is not None and not timed_out and not self._on_stop_check(g):
            return
        self._complete(rep, g)

    def _on_set_deadline(self, g: int) -> None:
        self._announce(g)

    # judgements on the buffer (the offline building blocks)

    def _segment(self, g0: int, g1: int) -> tuple[int, FloatArray, FloatArray, FloatArray]:
        """Samples ``[g0, g1]`` low-passed with the offline zero-phase filter."""
        h = self._hist
        g0 = max(g0, h.first)
        fs, cutoff = self.sampling_rate_hz, self.settings.smoothing_cutoff_hz
        t = h.get("t", g0, g1 + 1)
        th = lowpass(h.get("theta", g0, g1 + 1), sampling_rate_hz=fs, cutoff_hz=cutoff)
        v = lowpass(h.get("rate", g0, g1 + 1), sampling_rate_hz=fs, cutoff_hz=cutoff)
        return g0, t, th, v

    def _judge_rise(
        self, valley_g: int, g: int, *, peak_limit_g: int, prev_peak_g: int
    ) -> _RiseJudgement | None:
        """Judge the rise that peaks in ``[valley_g, peak_limit_g]`` as offline would, with the
        previous zig-zag peak at ``prev_peak_g`` bounding its valley search."""
        g0, t, th, v = self._segment(g - self._side_n - self._pad_n, g)
        lo_search = max(valley_g, prev_peak_g, g0) - g0
        hi_search = min(peak_limit_g, g) - g0
        if hi_search - lo_search < 2:
            return None
        p = lo_search + int(np.argmax(th[lo_search : hi_search + 1]))
        a = max(prev_peak_g - g0, p - self._side_n, 0)
        valley = a + int(np.argmin(th[a : p + 1]))
        floor = self._floor(g)
        lo = rise_bottom(
            th,
            v,
            p,
            valley,
            floor_dps=floor,
            min_rom_deg=self.settings.min_rom_deg,
            sampling_rate_hz=self.sampling_rate_hz,
        )
        rom_up = float(th[p] - th[lo])
        bounds = phase_bounds(t, th, v, lo, p, rom_deg=rom_up, floor_dps=floor, rising=True)
        if bounds is None:
            return None
        start, top_start, vmax = bounds
        return _RiseJudgement(
            peak_g=g0 + p,
            height_deg=float(th[p]),
            rom_up_deg=rom_up,
            start_s=start,
            top_start_s=top_start,
            peak_velocity_dps=vmax,
            start_angle_deg=float(np.interp(start, t, th)),
            start_g=g0 + int(np.searchsorted(t, start)),
            prev_peak_g=prev_peak_g,
        )

    def _count(self, judged: _RiseJudgement, g: int, *, late: bool) -> _Rep:
        """A rep: open or resume its set, say its number, judge momentum."""
        if self._to_complete is not None:
            self._complete(self._to_complete, g)
        t_now = self._hist.at("t", g)
        start = judged.start_s
        cur = self._set
        if cur is not None:
            last_end = cur.last_end_s
            ref = last_end if last_end is not None else cur.last_count_t
            if start - ref > self.settings.rest_threshold_s:
                if not cur.announced:
                    self._announce(g)
                if not cur.cancelled:
                    self._sets_done += 1
                self._set = cur = None
            elif cur.announced:
                cur.announced = cur.cancelled = False
                self._emit(
                    LiveEvent(
                        "set_resumed",
                        t_now,
                        set_index=cur.index,
                        rep_count=len(cur.reps),
                        detail=f"a rep started {start - ref:.1f} s after the last one",
                    )
                )
        if cur is None:
            cur = self._set = _Set(index=self._sets_done + 1)
            self._emit(LiveEvent("set_start", t_now, set_index=cur.index, start_s=start))
        previous = cur.reps[-1] if cur.reps else None
        if previous is not None and previous.end_s is not None:
            start = max(start, previous.end_s)  # offline: a rep may not start before the last ended
        i0 = max(self._hist.first, judged.start_g)
        seg = self._hist.get("theta", i0, g + 1)
        peak = float(seg.max()) if seg.size else judged.height_deg
        rep = _Rep(
            set_index=cur.index,
            rep_index=len(cur.reps) + 1,
            start_s=start,
            top_start_s=max(judged.top_start_s, start),
            start_g=judged.start_g,
            peak_g=judged.peak_g,
            peak_angle_deg=peak,
            peak_velocity_dps=judged.peak_velocity_dps,
            start_angle_deg=judged.start_angle_deg,
            count_t=t_now,
            prev_peak_g=judged.prev_peak_g,
            rom_up_deg=judged.rom_up_deg,
            watch_t=t_now,
        )
        cur.reps.append(rep)
        cur.last_count_t = t_now
        self._total_reps += 1
        if previous is not None and previous.end_s is not None:
            previous.bottom_pause_s = start - previous.end_s
        self._emit(
            LiveEvent(
                "rep",
                t_now,
                set_index=rep.set_index,
                rep_index=rep.rep_index,
                start_s=rep.start_s,
                top_start_s=rep.top_start_s,
                peak_angle_deg=rep.peak_angle_deg,
                late=True if late else None,
            )
        )
        self._last_rep = rep
        pause = previous.bottom_pause_s if previous is not None else None
        flag = momentum_flag(
            self._kinematics(rep, g),
            settings=self.settings,
            leg_length_m=self._leg_length(g),
            previous_pause_s=pause,
        )
        if flag is not None:
            rep.flags.append(flag.name)
            self._emit(
                LiveEvent(
                    "momentum",
                    t_now,
                    set_index=rep.set_index,
                    rep_index=rep.rep_index,
                    top_start_s=rep.top_start_s,
                    value=flag.value,
                    unit=flag.unit or None,
                    detail=flag.evidence,
                )
            )
        return rep

    def _kinematics(self, rep: _Rep, g: int) -> RepKinematics:
        h = self._hist
        lo_pad_s = self.settings.bounce_window_s + 0.5
        t_all = h.get("t", h.first, g + 1)
        i0 = int(np.searchsorted(t_all, rep.start_s - lo_pad_s))
        g0 = h.first + i0
        t = h.get("t", g0, g + 1)
        th = h.get("theta", g0, g + 1)
        rate = h.get("rate", g0, g + 1)
        j0 = int(np.searchsorted(t, rep.start_s))
        in_rep = th[j0:] if j0 < th.shape[0] else th[-1:]
        end_s = rep.end_s if rep.end_s is not None else float(t[-1])
        return RepKinematics(
            time_s=t,
            theta_deg=th,
            rate_dps=rate,
            start_s=rep.start_s,
            top_start_s=rep.top_start_s,
            top_end_s=rep.top_end_s if rep.top_end_s is not None else rep.top_start_s,
            end_s=end_s,
            peak_angle_deg=float(in_rep.max()),
            min_angle_deg=float(in_rep.min()),
            peak_lowering_velocity_dps=rep.peak_lowering_velocity_dps or 0.0,
        )

    def _complete(self, rep: _Rep, g: int) -> None:
        """The leg is back at the bottom: judge the whole rep as offline would (both bottoms,
        balanced; the lowering's boundaries), withdraw it if offline would not keep it, warn."""
        self._to_complete = None
        self._stop_g = None
        settings = self.settings
        first = min(rep.start_g, rep.peak_g - self._side_n)
        g0, t, th, v = self._segment(first - self._pad_n, g)
        # the rep's peak: up to the zig-zag's (the causal θ lags), not a next rise already begun
        p0 = max(0, min(rep.start_g, rep.peak_g) - g0)
        p1 = min(g, max(rep.peak_g, rep.zz_peak_g) + self._complete_n) - g0
        p = p0 + int(np.argmax(th[p0 : max(p0, p1) + 1]))
        a = max(rep.prev_peak_g - g0, p - self._side_n, 0)
        left_valley = a + int(np.argmin(th[a : p + 1]))
        right_valley = p + int(np.argmin(th[p:]))
        floor = self._floor(g)
        lo, hi = rep_bottoms(
            th,
            v,
            p,
            left_valley,
            right_valley,
            floor_dps=floor,
            min_rom_deg=settings.min_rom_deg,
            sampling_rate_hz=self.sampling_rate_hz,
        )
        rom_up, rom_down = float(th[p] - th[lo]), float(th[p] - th[hi])
        if (
            min(rom_up, rom_down) < 0.5 * settings.min_rom_deg
            or max(rom_up, rom_down) < settings.min_rom_deg
        ):
            self._cancel(rep, g, f"not a rep: rose {rom_up:.0f}°, lowered {rom_down:.0f}°")
            return
        up = phase_bounds(t, th, v, lo, p, rom_deg=rom_up, floor_dps=floor, rising=True)
        down = phase_bounds(t, th, v, p, hi, rom_deg=rom_down, floor_dps=floor, rising=False)
        if up is None or down is None:
            self._cancel(rep, g, "not a rep: the leg barely moved")
            return
        start, top_start, vmax_up = up
        top_end, end, vmax_down = down
        if top_end < top_start:  # no hold: both at the turnaround (offline's rule)
            top_start = top_end = 0.5 * (top_start + top_end)
        if end - start > _MAX_REP_S:
            self._cancel(rep, g, f"not a rep: it lasted {end - start:.0f} s")
            return
        raw_theta = self._hist.get("theta", g0, g + 1)
        if not top_agrees(t, raw_theta, self._hist.get("static", g0, g + 1), top_start, top_end):
            self._cancel(rep, g, "not a rep: the accelerometer disagrees about the top")
            return
        cur = self._set
        previous = None
        if cur is not None and rep in cur.reps:
            k = cur.reps.index(rep)
            previous = cur.reps[k - 1] if k > 0 else None
        if previous is not None and previous.end_s is not None:
            start = max(start, previous.end_s)
            previous.bottom_pause_s = start - previous.end_s
        rep.start_s, rep.top_start_s, rep.top_end_s, rep.end_s = start, top_start, top_end, end
        rep.start_angle_deg = float(np.interp(start, t, th))
        rep.end_angle_deg = float(np.interp(end, t, th))
        rep.peak_velocity_dps = vmax_up
        rep.peak_lowering_velocity_dps = vmax_down
        self._recent_lows = [
            *self._recent_lows[-(_MERGE_REF_REPS - 2) :],
            min(rep.start_angle_deg, rep.end_angle_deg),
        ]
        i0, i1 = np.searchsorted(t, [start, end])
        raw = self._hist.get("theta", g0, g + 1)[i0 : max(i1, i0 + 1)]
        if raw.size:
            j = int(np.argmax(raw))
            rep.peak_angle_deg = float(raw[j])
            rep.min_angle_deg = float(raw.min())
            rep.peak_s = float(t[i0 + j])
        t_now = self._hist.at("t", g)
        self._emit(
            LiveEvent(
                "rep_end",
                t_now,
                set_index=rep.set_index,
                rep_index=rep.rep_index,
                start_s=rep.start_s,
                top_start_s=rep.top_start_s,
                top_end_s=rep.top_end_s,
                end_s=rep.end_s,
                peak_angle_deg=rep.peak_angle_deg,
            )
        )
        flags = rep_flags(
            self._kinematics(rep, g),
            settings=settings,
            leg_length_m=self._leg_length(g),
            bottom_pause_s=None,
            previous_pause_s=None,
            set_median_rom_deg=None,
        )
        for flag in flags:
            if flag.name in ("drop", "no_hold", "partial"):
                rep.flags.append(flag.name)
                self._emit(
                    LiveEvent(
                        flag.name,
                        t_now,
                        set_index=rep.set_index,
                        rep_index=rep.rep_index,
                        value=flag.value,
                        unit=flag.unit or None,
                        detail=flag.evidence,
                    )
                )

    def _cancel(self, rep: _Rep, g: int, reason: str) -> None:
        cur = self._set
        if cur is not None and rep in cur.reps:
            cur.reps.remove(rep)
            self._total_reps -= 1
        if self._last_rep is rep:
            self._last_rep = cur.reps[-1] if cur is not None and cur.reps else None
        self._emit(
            LiveEvent(
                "rep_cancelled",
                self._hist.at("t", g),
                set_index=rep.set_index,
                rep_index=rep.rep_index,
                detail=reason,
            )
        )
        if cur is not None and not cur.reps and not cur.announced:
            # its only rep was not one: the set never was (its number is used again)
            self._set = None
            self._emit(
                LiveEvent(
                    "set_cancelled",
                    self._hist.at("t", g),
                    set_index=cur.index,
                    rep_count=0,
                    counted=0,
                    cancelled_reps=(),
                    detail="its only rep was withdrawn",
                )
            )

    # sets

    def _rejudge_set(self, done: list[_Rep], g: int) -> tuple[list[_Rep], list[int], int]:
        """The set judged by offline's own rules (:func:`~imu.segmentation.detect_reps` and
        :func:`~imu.segmentation.group_sets`) on the samples it spans: the live reps those rules
        keep, the live reps they drop, and the set's rep count as offline would give it."""
        fs = self.sampling_rate_hz
        g0 = max(self._hist.first, done[0].start_g - int((_MAX_SIDE_S + 1.0) * fs))
        t = self._hist.get("t", g0, g + 1)
        st = self.settings
        candidates = find_movements(
            t,
            self._hist.get("theta", g0, g + 1),
            self._hist.get("rate", g0, g + 1),
            sampling_rate_hz=fs,
            min_rom_deg=st.min_rom_deg,
            top_min_deg=st.top_min_deg,
            smoothing_cutoff_hz=st.smoothing_cutoff_hz,
            static_theta_deg=self._hist.get("static", g0, g + 1),
        )
        grouped = judge_sets(candidates, rest_threshold_s=st.rest_threshold_s, min_set_reps=1).reps
        span = (done[0].start_s, float(done[-1].end_s or done[-1].top_start_s))
        best: pd.DataFrame | None = None
        best_overlap = 0.0
        for _, members in grouped.groupby("set_id"):
            a, b = float(members["start_s"].min()), float(members["end_s"].max())
            overlap = min(b, span[1]) - max(a, span[0])
            if overlap > best_overlap:
                best, best_overlap = members, overlap
        if best is None:
            return [], [r.rep_index for r in done], 0
        # a live rep is kept if an offline rep has its top within the live rep
        tops = 0.5 * (best["top_start_s"].to_numpy() + best["top_end_s"].to_numpy())
        kept = [
            r
            for r in done
            if np.any((tops >= r.start_s - 0.3) & (tops <= float(r.end_s or r.start_s) + 0.3))
        ]
        dropped = [r.rep_index for r in done if r not in kept]
        return kept, dropped, len(best)

    def _set_deadline(self) -> float | None:
        cur = self._set
        if cur is None or cur.announced or self._to_complete is not None:
            return None
        rise = self._rise
        hold = -math.inf
        if rise is not None and not rise.dead:
            if rise.rep is not None:
                return None  # a rep is under way
            hold = rise.start_t + _RISE_HOLD_S  # a rise that may become a rep: wait for its top
        last_end = cur.last_end_s
        if last_end is None:
            if cur.reps:
                return None  # its rep is still being lowered
            return cur.last_count_t + _SET_END_MIN_S
        if len(cur.reps) < self.settings.min_set_reps:
            # too few reps for a set: nothing to announce; cancelled when a set would have ended
            return max(last_end + self.settings.rest_threshold_s, hold)
        pauses = [r.bottom_pause_s for r in cur.reps if r.bottom_pause_s is not None]
        wait = (
            _SET_END_PAUSE_FACTOR * float(np.median(pauses)) + _SET_END_MARGIN_S if pauses else 0.0
        )
        wait = min(self.settings.rest_threshold_s, max(_SET_END_MIN_S, wait))
        return max(last_end + wait, hold)

    def _announce(self, g: int) -> None:
        """Say the set is over (provisionally until ``rest_threshold_s`` has passed)."""
        cur = self._set
        assert cur is not None
        done = [r for r in cur.reps if r.end_s is not None]
        kept = done
        dropped: list[int] = []
        if done:
            kept, dropped, offline_count = self._rejudge_set(done, g)
        else:
            offline_count = 0
        cancelled = offline_count < self.settings.min_set_reps
        cur.announced, cur.cancelled = True, cancelled
        t_now = self._hist.at("t", g)
        self._emit(
            LiveEvent(
                "set_cancelled" if cancelled else "set_end",
                t_now,
                set_index=cur.index,
                rep_count=offline_count,
                counted=len(cur.reps),
                cancelled_reps=tuple(dropped),
                start_s=kept[0].start_s if kept else None,
                end_s=kept[-1].end_s if kept else None,
                tempo=None if cancelled else _tempo(kept),
                detail=(
                    f"fewer than {self.settings.min_set_reps} reps: not a set"
                    if cancelled
                    else None
                ),
            )
        )


def _first(mask: npt.NDArray[np.bool_]) -> int:
    """Index of the first True, or :data:`_NEVER`."""
    if mask.shape[0] == 0:
        return _NEVER
    i = int(np.argmax(mask))
    return i if mask[i] else _NEVER


def _tempo(reps: list[_Rep]) -> str:
    results = []
    for i, r in enumerate(reps):
        pause = None
        if i + 1 < len(reps) and r.end_s is not None:
            pause = reps[i + 1].start_s - r.end_s
        results.append(
            RepResult(
                index=i + 1,
                start_s=r.start_s,
                top_start_s=r.top_start_s,
                top_end_s=r.top_end_s if r.top_end_s is not None else r.top_start_s,
                end_s=r.end_s if r.end_s is not None else r.top_start_s,
                peak_angle_deg=r.peak_angle_deg,
                min_angle_deg=r.min_angle_deg if r.min_angle_deg is not None else r.peak_angle_deg,
                peak_velocity_dps=r.peak_velocity_dps,
                peak_lowering_velocity_dps=r.peak_lowering_velocity_dps or 0.0,
                foot_height_cm=0.0,
                bottom_pause_s=pause,
            )
        )
    return tempo_string(results)
