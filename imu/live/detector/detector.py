"""Online detection: one stateful object fed chunks of samples, returning coaching events.

:class:`LiveDetector` is the streaming driver of the offline rep model (Fusion's ``Ahrs``
habit): ``update(time_s, acc_g, gyro_dps) -> list[LiveEvent]``, ``finish()`` at the end of the
stream, ``reset()`` to start again, and a read-only :attr:`LiveDetector.state` for the view with
status flags (starting up, in a gap, clipping). Every judgement is the offline one, applied as
soon as the samples allow it — no rule is written here a second time:

Signal path (:mod:`imu.live.detector.parts`, :mod:`imu.dsp`)
    :class:`~imu.angle.AngleEstimator` (the same VQF as offline) → θ and dθ/dt → a causal
    Butterworth (:class:`~imu.dsp.CausalLowpass`) of both for the timing of events; windows of
    the buffer are low-passed with the offline zero-phase filter for every measurement. The
    noise floor is :class:`~imu.dsp.RunningNoiseFloor` on the rate low-passed twice causally
    (which has the zero-phase filter's gain). The first ``_STARTUP_S`` of data are held back
    once, to pick the shank axis as the offline ``auto`` rule does and to start the filters
    settled.
Movements (:mod:`imu.segmentation.movements`)
    The offline zig-zag (:class:`~imu.live.detector.parts.ZigZag`, hysteresis
    ``min_rom_deg / 2``) runs on the causal θ. When the leg stops rising (the rate falls below
    ``max(moving_rate / 4, 10 % of its peak in the rise)``) the rise is judged on the buffer —
    its bottom by :func:`~imu.segmentation.rise_bottom`, its start and top by
    :func:`~imu.segmentation.phase_bounds` — and, if it rose ``min_rom_deg`` to at least
    ``top_min_deg``, is not a shoulder of the rep before (:func:`~imu.segmentation.rules.\
is_shoulder`), not a dip from where the leg rests, and not what the set would not count were it
    its last (:func:`~imu.segmentation.trailing_rejection`), the rep is counted **at the top**.
    Once the leg is back at the bottom, the whole movement is measured by
    :func:`~imu.segmentation.measure_movement` (``rep_end``, the lowering's flags).
Sets (:mod:`imu.segmentation.sets`)
    Movements with no break over ``rest_threshold_s`` form a run. After each movement is
    measured the run is judged by :func:`~imu.segmentation.judge_run`: a counted rep it does not
    keep is withdrawn (``rep_cancelled``, with the kind and the reason, and the set's new count);
    a movement it keeps that was not counted is counted late (``rep`` with ``late``). ``set_end``
    is announced once the leg has been back at the bottom for ``wait = clamp(2 × the set's median
    bottom pause + 1.5 s, 4 s, rest_threshold_s)`` with nothing under way, with the set judged
    once more (now also for dips); fewer than ``min_set_reps`` reps: ``set_cancelled``, its
    number used again. Until ``rest_threshold_s`` has passed the announcement is provisional: a
    movement starting within it continues the set (``set_resumed``), as offline would group it.

Every event fires at a sample: ``t_s`` is the time of the sample at which its condition became
true. Nothing looks past that sample, so the events do not depend on how the stream is chunked.
Memory is bounded: ``_HISTORY_S`` of samples and the current set's movements.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from imu.angle import AngleEstimator, ShankAxis, resolve_shank_axis, tilt_mismatch_deg
from imu.dsp import CausalLowpass, RunningNoiseFloor, lowpass
from imu.errors import ImuError
from imu.exercise import choose_exercise
from imu.form import RepKinematics, momentum_flag, rep_flags
from imu.live.detector.axis import MAX_S as _AXIS_SEARCH_MAX_S
from imu.live.detector.axis import AxisSearch
from imu.live.detector.events import DetectorState, DetectorStatus, LiveEvent, LiveRep
from imu.live.detector.parts import NEVER, HipLineSegment, History, LegFit, ZigZag, first_true
from imu.quality import QualityMonitor
from imu.recording import find_gaps
from imu.results import RepResult
from imu.segmentation import (
    MOVEMENT_COLUMNS,
    Movement,
    find_movements,
    judge_run,
    judge_sets,
    measure_movement,
    phase_bounds,
    rest_probe,
    rests_at_top,
    rise_bottom,
    trailing_rejection,
)
from imu.segmentation.rules import BALANCE, MAX_SIDE_S, SHOULDER_REACH_S, is_shoulder
from imu.settings import AUTO, DETECTION, Settings
from imu.summary import tempo_string
from imu.vocabulary import FlagName

__all__ = ["LiveDetector"]

FloatArray = npt.NDArray[np.float64]

#: data held back at the start to choose the shank axis and settle the filters, s
_STARTUP_S = 1.0
#: the hip axis is the mean of u × up over this trailing window (offline: a centred 10 s one)
_AXIS_WINDOW_S = 5.0
#: samples kept for the rolling judgements, s (a whole set, to judge it)
_HISTORY_S = 240.0
#: extra samples low-passed before a window, so the zero-phase filter's edge is far away, s
_PAD_S = 2.0
#: the leg stopped rising when the rate falls below this share of its peak in the rise
_TOP_FRACTION = 0.1
#: rates that start (and, with the fraction above, end) a burst, as shares of moving_rate_dps
_BURST_START = 0.5
_BURST_END = 0.25
#: after the lowering stops, wait this long (and ≥ _COMPLETE_MIN_SAMPLES) before measuring it, s
_COMPLETE_DELAY_S = 0.35
_COMPLETE_MIN_SAMPLES = 10
#: set end: clamp(factor × median bottom pause + margin, minimum, rest_threshold_s); the minimum
#: outlasts a pause of a few seconds mid-set
_SET_END_MIN_S = 8.0
_SET_END_PAUSE_FACTOR = 2.0
_SET_END_MARGIN_S = 1.5
#: a rise still uncounted this long after it began (a drift, a fidget) no longer delays set_end, s
_RISE_HOLD_S = 3.0
#: a chunk is worked through in blocks of at most this many samples (bounds the searches)
_BLOCK = 512
#: mid-set, the set is judged (and counted reps taken back) once it has this many movements
_JUDGE_MIN_MOVES = 6
#: θ before a run that tells where the leg rests (the offline rest probe's window), s
_REST_BEFORE_S = 20.0

_HISTORY_NAMES = ("t", "theta", "rate", "theta_c", "v_c", "v_cc", "tilt", "leg_xy", "leg_xx")


@dataclass
class _Item:
    """One movement of the current run, from its top on: counted or not, measured or not."""

    start_s: float
    top_start_s: float
    start_g: int
    peak_g: int
    peak_angle_deg: float  #: highest raw θ so far
    peak_velocity_dps: float
    start_angle_deg: float
    rom_up_deg: float
    prev_peak_g: int  #: the zig-zag peak before this one (bounds the valley searches)
    watch_t: float  #: when it was last judged at a top, s
    rep_index: int = 0  #: as counted aloud (0: not counted)
    #: it may be a shoulder of this rep before it: not counted until that one is measured
    shoulder_of: _Item | None = None
    peak_c: float = math.inf  #: causal θ at the zig-zag peak, once it has turned
    peak_t: float = math.inf
    zz_peak_g: int = -1
    turned: bool = False  #: the zig-zag turned down after it
    movement: Movement | None = None  #: measured once back at the bottom
    flags: list[FlagName] = field(default_factory=list)

    @property
    def counted(self) -> bool:
        return self.rep_index > 0

    @property
    def end_s(self) -> float | None:
        return None if self.movement is None else self.movement.end_s

    def public(self, set_index: int, bottom_pause_s: float | None) -> LiveRep:
        m = self.movement
        return LiveRep(
            set_index=set_index,
            rep_index=self.rep_index,
            start_s=m.start_s if m else self.start_s,
            top_start_s=m.top_start_s if m else self.top_start_s,
            peak_angle_deg=m.peak_angle_deg if m else self.peak_angle_deg,
            peak_velocity_dps=m.peak_velocity_dps if m else self.peak_velocity_dps,
            top_end_s=m.top_end_s if m else None,
            end_s=m.end_s if m else None,
            min_angle_deg=m.min_angle_deg if m else None,
            peak_lowering_velocity_dps=m.peak_lowering_velocity_dps if m else None,
            bottom_pause_s=bottom_pause_s,
            flags=tuple(self.flags),
        )


@dataclass
class _Rise:
    """The current rise of the zig-zag (θ has risen ``min_rom/2`` from its last valley)."""

    valley_g: int
    start_t: float  #: when θ had risen min_rom/2, s
    vmax: float = 0.0  #: peak rate of the current burst, °/s
    item: _Item | None = None  #: the movement this rise is (or continues)
    dead: bool = False  #: its movement was withdrawn as never lowered: ignore the rest


@dataclass
class _Run:
    """Movements with no break over the rest threshold: a set once it has enough reps."""

    index: int
    items: list[_Item] = field(default_factory=list)
    started: bool = False  #: set_start said
    profiled: bool = False  #: its profile chosen on enough reps (``auto``)
    announced: bool = False  #: set_end / set_cancelled said (provisionally)
    cancelled: bool = False  #: the announcement was set_cancelled
    last_count_t: float = 0.0
    withdrawn: list[int] = field(default_factory=list)  #: rep numbers withdrawn

    def counted(self) -> list[_Item]:
        return [i for i in self.items if i.counted]

    @property
    def last_end_s(self) -> float | None:
        ends = [i.end_s for i in self.items if i.end_s is not None]
        return max(ends) if ends else None

    def measured(self) -> list[_Item]:
        return [i for i in self.items if i.movement is not None]

    def table(self, items: list[_Item]) -> pd.DataFrame:
        rows = [[getattr(i.movement, c) for c in MOVEMENT_COLUMNS] for i in items]
        return pd.DataFrame(rows, columns=MOVEMENT_COLUMNS, dtype=np.float64)


class LiveDetector:
    """Streaming reps, warnings and sets from raw samples; see the module documentation.

    ``update`` accepts chunks of any size (``time_s`` shape ``(n,)``, ``acc_g`` and ``gyro_dps``
    shape ``(n, 3)``, in g and °/s, sensor axes) and returns the events that fired within them,
    in order. Call :meth:`finish` when the stream ends to announce the last set.
    """

    #: seconds of samples kept (a whole set, to judge it)
    HISTORY_S = _HISTORY_S

    def __init__(self, settings: Settings, *, sampling_rate_hz: float) -> None:
        if not (math.isfinite(sampling_rate_hz) and sampling_rate_hz > 0):
            raise ImuError(f"sampling rate must be positive, got {sampling_rate_hz}")
        #: the settings asked for; with ``exercise = auto``, movements are found with the most
        #: permissive limits (as offline chooses) and flags judged with each set's profile,
        #: chosen at its first rep (:mod:`imu.exercise`, without the radius offline measures)
        self.requested = settings
        self.auto = settings.exercise == AUTO
        if self.auto:
            loose = {k: v for k, v in DETECTION.items() if k not in settings.fixed}
            settings = dataclasses.replace(settings.with_exercise("reverse-hyper"), **loose)
        self.settings = settings
        self.sampling_rate_hz = fs = float(sampling_rate_hz)
        self._startup_n = max(2, math.ceil(_STARTUP_S * fs))
        self._side_n = max(2, int(MAX_SIDE_S * fs))
        self._pad_n = max(8, int(_PAD_S * fs))
        self._complete_n = max(_COMPLETE_MIN_SAMPLES, math.ceil(_COMPLETE_DELAY_S * fs))
        self._burst_start = _BURST_START * settings.moving_rate_dps
        self._burst_end = _BURST_END * settings.moving_rate_dps
        cutoff = settings.smoothing_cutoff_hz
        self._filters = {
            k: CausalLowpass(sampling_rate_hz=fs, cutoff_hz=cutoff) for k in ("theta", "rate", "v2")
        }
        self._floor = RunningNoiseFloor(sampling_rate_hz=fs)
        self._leg = LegFit()
        self._segment = HipLineSegment(settings.hip_line_segment_s)
        self._zz = ZigZag(0.5 * settings.min_rom_deg)
        self._quality = QualityMonitor(sampling_rate_hz=fs)
        self.reset()

    # -- public ----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything: the next sample starts a new stream."""
        self._estimator: AngleEstimator | None = None
        self._pending: list[tuple[FloatArray, FloatArray, FloatArray]] = []
        self._pending_n = 0
        self._shank_vec = np.array([1.0, 0.0, 0.0])
        self._shank_axis: str | None = None
        # shank_axis = auto: the axis is looked for while streaming (imu.live.detector.axis)
        auto_axis = self.settings.shank_axis == "auto"
        self._search = AxisSearch(self.sampling_rate_hz) if auto_axis else None
        self._found_axis: ShankAxis | None = None
        self._offset_deg = self.settings.hip_line_offset_deg
        for f in self._filters.values():
            f.reset()
        self._floor.reset()
        self._leg.reset()
        self._segment.reset()
        self._zz.reset()
        self._stats_g = 0  # samples before this are in the floor and leg sums
        self._hist = History(
            _HISTORY_NAMES,
            max(self._side_n + 4 * self._pad_n, int(_HISTORY_S * self.sampling_rate_hz)),
        )
        self._samples = 0
        self._gaps = 0
        self._gap_in_last = False
        self._problems: tuple[str, ...] = ()
        self._last_t: float | None = None
        self._theta_now: float | None = None
        self._zz_peak_g = -1  # the last peak the zig-zag kept
        self._rise: _Rise | None = None
        self._hip_armed = False
        self._to_complete: _Item | None = None
        self._stop_g: int | None = None
        self._run: _Run | None = None
        self._sets_done = 0
        self._done_reps = 0  # reps of the sets that are over
        self._last_rep: _Item | None = None
        self._withdrawn: str | None = None
        self._events: list[LiveEvent] = []
        req = self.requested
        self._flags = req.with_exercise("reverse-hyper") if self.auto else req

    @property
    def state(self) -> DetectorState:
        r = self._run
        counted = r.counted() if r is not None else []
        last = self._last_rep
        status = DetectorStatus(
            starting=self._estimator is None,
            in_gap=self._gap_in_last,
            clipping=any("saturat" in p for p in self._problems),
            sensor_problems=self._problems,
        )
        return DetectorState(
            ready=self._estimator is not None,
            time_s=self._last_t,
            theta_deg=self._theta_now,
            set_index=r.index if r is not None else self._sets_done,
            rep_count=len(counted),
            in_set=r is not None and not r.announced and bool(counted),
            total_reps=self._done_reps + (len(counted) if r is not None and not r.cancelled else 0),
            last_rep=None if last is None or r is None else last.public(r.index, None),
            samples=self._samples,
            gaps=self._gaps,
            shank_axis=self._shank_axis,
            leg_length_m=self.leg_length_m,
            status=status,
            withdrawn=self._withdrawn,
        )

    @property
    def buffer_capacity(self) -> int:
        """Samples the history buffer can hold now (bounded: it stops growing)."""
        return int(self._hist.cols["t"].shape[0])

    @property
    def leg_length_m(self) -> float:
        """The given leg length, else the running centripetal estimate, else the default."""
        return self._leg.length_m(self.settings.leg_length_m)

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
        self._problems = self._quality.update(t, acc, gyro)
        if self._estimator is None:
            self._pending.append((t, acc, gyro))
            self._pending_n += t.shape[0]
            if self._pending_n < self._startup_n:
                return []
            t, acc, gyro = (np.concatenate([p[k] for p in self._pending]) for k in range(3))
            self._pending, self._pending_n = [], 0
            self._start(acc[: self._startup_n])
        cut = self._segment.cut(t)  # the hip-line segment ends at a chunk's edge
        if cut is not None and 0 < cut < t.shape[0]:
            self._process(t[:cut], acc[:cut], gyro[:cut])
            self._process(t[cut:], acc[cut:], gyro[cut:])
        else:
            self._process(t, acc, gyro)
        return self._axis_step()

    def finish(self) -> list[LiveEvent]:
        """The stream ended: measure a rep still being lowered and announce the open set."""
        self._events = []
        before = self._axis_step(final=True)
        self._events = []
        g = self._hist.end - 1
        if g >= self._hist.first and self._last_t is not None:
            if self._to_complete is not None:
                self._complete(self._to_complete, g)
            rise = self._rise
            if rise is not None and rise.item is not None and not rise.item.turned:
                self._drop(rise.item, g, "never_lowered", "the leg was not lowered before the end")
            if self._run is not None and not self._run.announced:
                self._announce(g)
        return before + self._events

    # -- the shank axis, found while streaming ------------------------------------------------

    def _axis_step(self, *, final: bool = False) -> list[LiveEvent]:
        """The events of the chunk just worked through; while the shank axis is looked for,
        every :data:`~imu.live.detector.axis.CHECK_S` of data the finder runs, and on a
        direction other than the documented one the stream is worked through again on it
        (:meth:`_turn_to`), whose events are returned instead."""
        s, events = self._search, self._events
        if s is None or s.done:
            return events
        if not (s.due(self._last_t) or final or s.span_s >= _AXIS_SEARCH_MAX_S):
            return events
        found = s.find()
        if found is not None and found.name == "found":
            return self._turn_to(found)
        if found is not None or s.span_s >= _AXIS_SEARCH_MAX_S:
            s.stop()  # the finder keeps the documented axis (or gives up on it)
        return events

    def _turn_to(self, found: ShankAxis) -> list[LiveEvent]:
        """Start again on the samples kept, with the shank along ``found``; return what the new
        run says on them: the sets so far again, with their counts on the right axis (the
        audio drops what is stale; a set's last ``set_end`` is its word)."""
        assert self._search is not None
        chunks = self._search.chunks
        self.reset()
        self._search, self._found_axis = None, found
        events: list[LiveEvent] = []
        for t, acc, gyro in chunks:
            events.extend(self.update(t, acc, gyro))
        return events

    # -- signal path -------------------------------------------------------------------------

    def _count_gaps(self, t: FloatArray) -> None:
        joined = t if self._last_t is None else np.concatenate(([self._last_t], t))
        gaps = len(find_gaps(joined, sampling_rate_hz=self.sampling_rate_hz))
        self._gaps += gaps
        self._gap_in_last = gaps > 0
        self._samples += t.shape[0]
        self._last_t = float(t[-1])

    def _start(self, acc: FloatArray) -> None:
        found = self._found_axis
        if found is None:
            name, vec, _ = resolve_shank_axis(acc, self.settings.shank_axis)
        else:
            name, vec = found.label, found.vector
        self._shank_axis, self._shank_vec = name, vec
        self._estimator = AngleEstimator(
            sampling_rate_hz=self.sampling_rate_hz,
            shank_axis="+x" if found is not None else name,
            shank_vector=None if found is None else vec,
            max_bridge_s=self.settings.max_bridge_s,
            axis_window_s=_AXIS_WINDOW_S,
        )

    def _process(self, t: FloatArray, acc: FloatArray, gyro: FloatArray) -> None:
        assert self._estimator is not None
        theta0, rate = self._estimator.update(t, acc, gyro)
        if self._search is not None:
            self._search.add(t, acc, gyro, self._estimator.last_up)
        measured = self._segment.feed(t, theta0)
        if measured is not None:  # the hip line from the segment, from now on
            self._filters["theta"].shift(-(measured - self._offset_deg))
            self._offset_deg = measured
        theta = theta0 - self._offset_deg
        theta_c = self._filters["theta"](theta)
        v_c = self._filters["rate"](rate)
        xy, xx = LegFit.terms(theta + self._offset_deg, rate, acc @ self._shank_vec, 60.0)
        g0 = self._hist.end
        self._hist.append(
            {
                "t": t,
                "theta": theta,
                "rate": rate,
                "theta_c": theta_c,
                "v_c": v_c,
                "v_cc": self._filters["v2"](v_c),
                "tilt": tilt_mismatch_deg(acc, self._estimator.last_up, self._shank_vec),
                "leg_xy": xy,
                "leg_xx": xx,
            }
        )
        if not self._zz.started:
            self._zz.start(float(theta_c[0]), 0)
        self._theta_now = float(theta[-1])
        end = self._hist.end
        for a in range(g0, end, _BLOCK):
            b = min(end, a + _BLOCK)
            self._run_block(a, b)
            self._take_stats(b)

    def _take_stats(self, g_end: int) -> None:
        """Add samples up to ``g_end`` (exclusive) to the running noise floor and leg fit — never
        a sample the state machine has not reached, so nothing depends on the chunking."""
        g0 = self._stats_g
        if g_end <= g0:
            return
        h = self._hist
        self._floor.add(h.get("v_cc", g0, g_end))
        self._leg.add(h.get("leg_xy", g0, g_end), h.get("leg_xx", g0, g_end))
        self._stats_g = g_end

    def _floor_dps(self, g: int) -> float:
        self._take_stats(g + 1)
        return self._floor.value()

    def _leg_length(self, g: int) -> float:
        self._take_stats(g + 1)
        return self.leg_length_m

    # -- the state machine -----------------------------------------------------------------

    def _emit(self, event: LiveEvent) -> None:
        self._events.append(event)

    def _candidates(self, a: int, pos: int, n: int) -> list[tuple[int, int, Callable[[int], None]]]:
        """The next sample (relative to ``a + pos``) of each transition that can happen now."""
        h = self._hist
        th = h.get("theta_c", a + pos, a + n)
        v = h.get("v_c", a + pos, a + n)
        t = h.get("t", a + pos, a + n)
        left = n - pos

        def at_time(deadline: float) -> int:
            i = int(np.searchsorted(t, deadline, side="left"))
            return i if i < left else NEVER

        cands: list[tuple[int, int, Callable[[int], None]]] = [
            (self._zz.next_turn(th), 2, self._on_turn)
        ]
        rise = self._rise
        if self._zz.rising and rise is not None and not rise.dead:
            if rise.item is None or not rise.item.counted:
                vm = np.maximum(np.maximum.accumulate(v), rise.vmax)
                level = np.maximum(self._burst_end, _TOP_FRACTION * vm)
                cands.append((first_true((vm > self._burst_start) & (v < level)), 0, self._on_top))
            tol = self._flags.tolerance_deg
            if self._hip_armed and tol is not None:
                raw = h.get("theta", a + pos, a + n)
                cands.append((first_true(raw > tol), 1, self._on_hip_line))
            if rise.item is not None and rise.item.counted and not rise.item.turned:
                cands.append((at_time(rise.item.watch_t + MAX_SIDE_S), 3, self._on_never_lowered))
        done = self._to_complete
        if done is not None:
            if self._stop_g is None:  # down about as far as it rose (offline balances sides)
                deep = done.peak_c - th >= BALANCE * done.rom_up_deg
                cands.append((first_true((v >= 0.0) & deep), 4, self._on_stopped))
            else:
                due = self._stop_g + self._complete_n - (a + pos)
                cands.append((max(0, due) if due < left else NEVER, 4, self._on_complete))
            cands.append((at_time(done.peak_t + MAX_SIDE_S), 4, self._on_complete))
        deadline = self._set_deadline()
        if deadline is not None:
            cands.append((at_time(deadline), 5, self._on_set_deadline))
        return cands

    def _run_block(self, a: int, b: int) -> None:
        """Work through samples ``[a, b)``: find the earliest transition, handle it, repeat."""
        pos, n, guard = 0, b - a, 0
        while pos < n:
            i, _, handler = min(self._candidates(a, pos, n), key=lambda c: (c[0], c[1]))
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
        self._zz.advance(self._hist.get("theta_c", g0, g1), g0)
        rise = self._rise
        if self._zz.rising and rise is not None:
            rise.vmax = max(rise.vmax, float(self._hist.get("v_c", g0, g1).max()))

    # transitions (each changes the state so that it does not fire again at the same sample)

    def _on_turn(self, g: int) -> None:
        self._advance(g, g + 1)
        if self._zz.rising:
            self._on_fall(g)
        else:
            self._on_rise(g)

    def _on_rise(self, g: int) -> None:
        """θ rose ``min_rom/2`` above its last valley: a rise begins."""
        valley_g = self._zz.lo_g
        self._zz.turn(self._hist.at("theta_c", g), g)
        done = self._to_complete
        if done is not None and done.peak_c - self._zz.lo >= BALANCE * done.rom_up_deg:
            self._complete(done, g)  # it came down: its valley is known now
        self._rise = _Rise(valley_g=valley_g, start_t=self._hist.at("t", g))
        self._hip_armed = True

    def _on_fall(self, g: int) -> None:
        """θ fell ``min_rom/2`` below the rise's peak: offline would keep this peak."""
        rise = self._rise
        peak, peak_g = self._zz.hi, self._zz.hi_g
        self._zz.turn(self._hist.at("theta_c", g), g)
        self._rise = None
        self._hip_armed = False
        prev_peak, self._zz_peak_g = self._zz_peak_g, peak_g
        if rise is None or rise.dead:
            return
        if rise.item is None:  # no top was seen (a slow rise): judge it now
            self._judge_top(rise, g, peak_limit_g=peak_g, prev_peak_g=prev_peak)
        item = rise.item
        if item is None:
            return
        item.turned = True
        item.peak_c, item.peak_t, item.zz_peak_g = peak, self._hist.at("t", peak_g), peak_g
        # the whole rise, over every burst: how far it must come down to be measured
        item.rom_up_deg = max(item.rom_up_deg, peak - item.start_angle_deg)
        if self._to_complete is not None and self._to_complete is not item:
            self._complete(self._to_complete, g)
        self._to_complete, self._stop_g = item, None

    def _on_top(self, g: int) -> None:
        """The leg stopped rising: judge the rise and count it if it is a rep."""
        rise = self._rise
        assert rise is not None
        self._advance(g, g + 1)
        self._judge_top(rise, g, peak_limit_g=g, prev_peak_g=self._zz_peak_g)
        rise.vmax = 0.0  # a further burst in this rise is judged again at its own top

    def _on_hip_line(self, g: int) -> None:
        self._hip_armed = False
        tol = self._flags.tolerance_deg
        assert tol is not None  # armed only when there is a hip line
        h = self._hist
        th1, t1 = h.at("theta", g), h.at("t", g)
        crossing = t1
        if g - 1 >= h.first:
            th0, t0 = h.at("theta", g - 1), h.at("t", g - 1)
            if th0 < tol < th1:
                crossing = t0 + (tol - th0) / (th1 - th0) * (t1 - t0)
        item = self._rise.item if self._rise is not None else None
        run = self._run
        counted = item is not None and item.counted and run is not None
        self._emit(
            LiveEvent(
                "above_hip_line",
                t1,
                set_index=run.index if counted and run is not None else None,
                rep_index=item.rep_index if counted and item is not None else None,
                crossing_s=crossing,
                theta_deg=th1,
                value=th1,
                unit="deg",
                detail=f"θ {th1:+.1f}° is above the {tol:g}° tolerance",
            )
        )

    def _on_never_lowered(self, g: int) -> None:
        rise = self._rise
        assert rise is not None and rise.item is not None
        self._drop(
            rise.item, g, "never_lowered", f"the leg was not lowered within {MAX_SIDE_S:g} s"
        )
        rise.item = None
        rise.dead = True

    def _on_stopped(self, g: int) -> None:
        self._stop_g = g

    def _on_complete(self, g: int) -> None:
        item = self._to_complete
        assert item is not None
        timed_out = self._hist.at("t", g) >= item.peak_t + MAX_SIDE_S
        if self._stop_g is not None and not timed_out:
            v = self._hist.get("v_c", self._stop_g, g + 1)
            if v.size and float(v.min()) < -self._burst_end:  # a pause on the way down
                self._stop_g = None
                return
        self._complete(item, g)

    def _on_set_deadline(self, g: int) -> None:
        self._announce(g)

    # judgements on the buffer (the offline building blocks)

    def _window(self, g0: int, g1: int) -> tuple[int, FloatArray, FloatArray, FloatArray]:
        """Samples ``[g0, g1]`` low-passed with the offline zero-phase filter."""
        h = self._hist
        g0 = max(g0, h.first)
        fs, cutoff = self.sampling_rate_hz, self.settings.smoothing_cutoff_hz
        t = h.get("t", g0, g1 + 1)
        th = lowpass(h.get("theta", g0, g1 + 1), sampling_rate_hz=fs, cutoff_hz=cutoff)
        v = lowpass(h.get("rate", g0, g1 + 1), sampling_rate_hz=fs, cutoff_hz=cutoff)
        return g0, t, th, v

    def _judge_top(self, rise: _Rise, g: int, *, peak_limit_g: int, prev_peak_g: int) -> None:
        """Judge the rise that peaks in ``[rise.valley_g, peak_limit_g]`` as offline would; the
        previous zig-zag peak at ``prev_peak_g`` bounds its valley search."""
        g0, t, th, v = self._window(g - self._side_n - self._pad_n, g)
        lo_search = max(rise.valley_g, prev_peak_g, g0) - g0
        hi_search = min(peak_limit_g, g) - g0
        if hi_search - lo_search < 2:
            return
        p = lo_search + int(np.argmax(th[lo_search : hi_search + 1]))
        a = max(prev_peak_g - g0, p - self._side_n, 0)
        valley = a + int(np.argmin(th[a : p + 1]))
        st = self.settings
        lo = rise_bottom(
            th, v, p, valley, floor_dps=self._floor_dps(g), min_rom_deg=st.min_rom_deg,
            sampling_rate_hz=self.sampling_rate_hz,
        )  # fmt: skip
        rom_up = float(th[p] - th[lo])
        bounds = phase_bounds(t, th, v, lo, p, rom_deg=rom_up, floor_dps=self._floor_dps(g),
                              rising=True)  # fmt: skip
        if bounds is None or th[p] < st.top_min_deg:
            return
        start, top_start, vmax = bounds
        raw = self._hist.get("theta", g0 + lo, g + 1)
        peak = float(raw.max()) if raw.size else float(th[p])
        item = rise.item
        if item is None:
            continued = self._continues(float(th[p]), float(th[valley]), g0 + p)
            if continued is not None:  # a shoulder of the rep before: that rep goes on
                rise.item = continued
                continued.peak_angle_deg = max(continued.peak_angle_deg, peak)
                continued.turned = False
                continued.movement = None  # measured again once it has come down
                continued.watch_t = self._hist.at("t", g)
                if self._to_complete is continued:
                    self._to_complete = None
                return
            item = _Item(
                start_s=start, top_start_s=top_start, start_g=g0 + lo, peak_g=g0 + p,
                peak_angle_deg=peak, peak_velocity_dps=vmax,
                start_angle_deg=float(np.interp(start, t, th)), rom_up_deg=rom_up,
                prev_peak_g=prev_peak_g, watch_t=self._hist.at("t", g),
                shoulder_of=self._doubtful(float(th[p]), float(th[valley]), g0 + p),
            )  # fmt: skip
            rise.item = item
            self._join_run(item, g)
        elif item.counted:  # a further burst of a counted rep
            item.top_start_s, item.peak_g, item.peak_angle_deg = top_start, g0 + p, peak
            item.rom_up_deg, item.peak_velocity_dps = rom_up, max(item.peak_velocity_dps, vmax)
            item.watch_t = self._hist.at("t", g)
        else:  # not counted at an earlier top: this top is judged afresh, as its own movement
            self._forget(item)
            rise.item = None
            self._judge_top(rise, g, peak_limit_g=peak_limit_g, prev_peak_g=prev_peak_g)
            return
        self._maybe_count(item, g, rom_up, float(th[p]))

    def _maybe_count(self, item: _Item, g: int, rom_up: float, height: float, *,
                     late: bool = False) -> None:  # fmt: skip
        """Count a movement judged at its top when it is a rep by the rules so far."""
        profile = self._profile_for(item)
        if (
            not item.counted
            and item.shoulder_of is None
            and rom_up >= profile.min_rom_deg
            and height >= profile.top_min_deg
            and self._would_count(item, g)
        ):
            self._count(item, g, late=late)

    def _profile_for(self, item: _Item) -> Settings:
        """The profile a movement is judged with: the requested one; with ``auto``, the set's
        (chosen at its first rep), or the one this movement looks like when it would be the
        first."""
        run = self._run
        if not self.auto or (run is not None and run.profiled):
            return self._flags
        choice = choose_exercise(item.start_angle_deg, item.peak_angle_deg, None)
        return self.requested.with_exercise(choice.exercise)

    def _continues(self, peak_deg: float, dip_deg: float, peak_g: int) -> _Item | None:
        """The rep before, if the rise peaking at ``peak_deg`` (after the leg dipped to
        ``dip_deg``) is one movement with it (:func:`~imu.segmentation.rules.is_shoulder`)."""
        run = self._run
        if run is None or not run.items:
            return None
        prev = run.items[-1]
        if (peak_g - prev.peak_g) / self.sampling_rate_hz > SHOULDER_REACH_S:
            return None
        base = prev.start_angle_deg
        higher = max(peak_deg, prev.peak_angle_deg)
        # the side not yet seen taken as deep as the rep's own start, and the dip measured from
        # the higher peak: stricter than offline, which knows both sides (a doubtful case waits
        # for the rep's measurement: :meth:`_doubtful`)
        return prev if is_shoulder(higher, dip_deg, base, higher, base) else None

    def _doubtful(self, peak_deg: float, dip_deg: float, peak_g: int) -> _Item | None:
        """The rep before, if the rise may yet turn out one movement with it: a shoulder with
        this rise's far side as deep as the rep's start (offline's rule with that side guessed)."""
        run = self._run
        if run is None or not run.items:
            return None
        prev = run.items[-1]
        if (peak_g - prev.peak_g) / self.sampling_rate_hz > SHOULDER_REACH_S:
            return None
        base = prev.start_angle_deg
        lower, higher = sorted((peak_deg, prev.peak_angle_deg))
        return prev if is_shoulder(lower, dip_deg, base, higher, base) else None

    def _would_count(self, item: _Item, g: int) -> bool:
        """Would the set count this movement were it its last? (the offline rules so far)"""
        run = self._run
        assert run is not None
        kept = [i for i in run.measured() if i.counted]
        if len(kept) >= self.settings.min_set_reps:
            rejected = trailing_rejection(
                run.table(kept), item.peak_angle_deg, item.start_s, item.rom_up_deg
            )
            return rejected is None
        if not kept:  # a run's first movement: not a dip from where the leg rests
            rest = self._rest_before(item.start_s, g)
            if rest is not None and rests_at_top(rest, item.start_angle_deg, item.peak_angle_deg):
                return False
        return True

    def _probe(self, g: int) -> Callable[[float, float], tuple[FloatArray, FloatArray]]:
        """The offline rest probe on the samples up to ``g`` (never later ones)."""
        h = self._hist
        return rest_probe(
            h.get("t", h.first, g + 1), h.get("theta", h.first, g + 1),
            h.get("rate", h.first, g + 1), still_dps=self.settings.moving_rate_dps,
        )  # fmt: skip

    def _rest_before(self, t0: float, g: int) -> float | None:
        theta, _ = self._probe(g)(t0, math.inf)
        return float(np.median(theta)) if theta.size else None

    def _join_run(self, item: _Item, g: int) -> None:
        """Put a new movement in the current run, or end the run and start another."""
        run = self._run
        t_now = self._hist.at("t", g)
        if run is not None:
            last_end = run.last_end_s
            ref = last_end if last_end is not None else run.items[-1].start_s if run.items else 0.0
            if item.start_s - ref > self.settings.rest_threshold_s:
                if not run.announced:
                    self._announce(g)
                if not run.cancelled:
                    self._sets_done += 1
                    self._done_reps += len(run.counted())
                self._run = run = None
            elif run.announced and not run.cancelled:
                run.announced = False
                self._emit(
                    LiveEvent(
                        "set_resumed", t_now, set_index=run.index, rep_count=len(run.counted()),
                        detail=f"a movement started {item.start_s - ref:.1f} s after the last one",
                    )
                )  # fmt: skip
            elif run.announced:
                run.announced = run.cancelled = False
        if run is None:
            run = self._run = _Run(index=self._sets_done + 1)
        previous = run.items[-1] if run.items else None
        if previous is not None and previous.end_s is not None:
            item.start_s = max(item.start_s, previous.end_s)  # offline: not before it ended
            item.top_start_s = max(item.top_start_s, item.start_s)
        run.items.append(item)

    def _count(self, item: _Item, g: int, *, late: bool) -> None:
        """Say the rep: open the set at its first, judge momentum at the top."""
        run = self._run
        assert run is not None
        t_now = self._hist.at("t", g)
        if not run.profiled:  # the set's profile, from its rep until enough are judged
            self._flags = self._profile_for(item)
        if not run.started:
            run.started = True
            self._emit(
                LiveEvent(
                    "set_start", t_now, set_index=run.index, start_s=item.start_s,
                    exercise=self._flags.exercise,
                )
            )  # fmt: skip
        item.rep_index = len(run.counted()) + 1
        if late:  # its place in the set: number the reps in order
            for k, other in enumerate(run.counted(), start=1):
                other.rep_index = k
        run.last_count_t = t_now
        self._last_rep = item
        self._withdrawn = None
        m = item.movement
        self._emit(
            LiveEvent(
                "rep", t_now, set_index=run.index, rep_index=item.rep_index,
                start_s=m.start_s if m else item.start_s,
                top_start_s=m.top_start_s if m else item.top_start_s,
                peak_angle_deg=m.peak_angle_deg if m else item.peak_angle_deg,
                late=True if late else None,
            )
        )  # fmt: skip
        k = run.items.index(item)
        before = next((i for i in reversed(run.items[:k]) if i.counted), None)
        pause = None
        if before is not None and before.end_s is not None:
            pause = (m.start_s if m else item.start_s) - before.end_s
        flag = momentum_flag(
            self._kinematics(item, g), settings=self._flags,
            leg_length_m=self._leg_length(g), previous_pause_s=pause,
        )  # fmt: skip
        if flag is not None and "momentum" not in item.flags:
            item.flags.append(flag.name)
            self._emit(
                LiveEvent(
                    "momentum", t_now, set_index=run.index, rep_index=item.rep_index,
                    top_start_s=item.top_start_s, value=flag.value, unit=flag.unit or None,
                    detail=flag.evidence,
                )
            )  # fmt: skip

    def _kinematics(self, item: _Item, g: int) -> RepKinematics:
        h = self._hist
        m = item.movement
        start = m.start_s if m else item.start_s
        t_all = h.get("t", h.first, g + 1)
        g0 = h.first + int(np.searchsorted(t_all, start - self.settings.bounce_window_s - 0.5))
        t, th, rate = h.get("t", g0, g + 1), h.get("theta", g0, g + 1), h.get("rate", g0, g + 1)
        j0 = int(np.searchsorted(t, start))
        in_rep = th[j0:] if j0 < th.shape[0] else th[-1:]
        return RepKinematics(
            time_s=t, theta_deg=th, rate_dps=rate, start_s=start,
            top_start_s=m.top_start_s if m else item.top_start_s,
            top_end_s=m.top_end_s if m else item.top_start_s,
            end_s=m.end_s if m else float(t[-1]),
            peak_angle_deg=m.peak_angle_deg if m else float(in_rep.max()),
            min_angle_deg=m.min_angle_deg if m else float(in_rep.min()),
            peak_lowering_velocity_dps=m.peak_lowering_velocity_dps if m else 0.0,
        )  # fmt: skip

    def _complete(self, item: _Item, g: int) -> None:
        """The leg is back at the bottom: measure the whole movement as offline does, then judge
        the run."""
        self._to_complete, self._stop_g = None, None
        st = self._profile_for(item)
        g0, t, th, v = self._window(min(item.start_g, item.peak_g - self._side_n) - self._pad_n, g)
        p0 = max(0, min(item.start_g, item.peak_g) - g0)
        p1 = min(g, max(item.peak_g, item.zz_peak_g) + self._complete_n) - g0
        p = p0 + int(np.argmax(th[p0 : max(p0, p1) + 1]))
        a = max(item.prev_peak_g - g0, p - self._side_n, 0)
        left_valley = a + int(np.argmin(th[a : p + 1]))
        right_valley = p + int(np.argmin(th[p:]))
        found = measure_movement(
            t, self._hist.get("theta", g0, g + 1), th, v, p, left_valley, right_valley,
            floor_dps=self._floor_dps(g), min_rom_deg=st.min_rom_deg,
            min_rate_dps=st.moving_rate_dps,
            sampling_rate_hz=self.sampling_rate_hz,
            tilt_mismatch_deg=self._hist.get("tilt", g0, g + 1),
        )  # fmt: skip
        if isinstance(found, str) or th[p] < st.top_min_deg:
            self._drop(item, g, "not_a_rep", f"not a rep: {found}" if isinstance(found, str) else
                       f"peaked below {st.top_min_deg:g}°")  # fmt: skip
            return
        run = self._run
        if run is not None and item in run.items:
            k = run.items.index(item)
            before = run.items[k - 1] if k > 0 else None
            if before is not None and before.end_s is not None and found.start_s < before.end_s:
                found = dataclasses.replace(found, start_s=before.end_s)
        item.movement = found
        item.peak_angle_deg = found.peak_angle_deg
        if item.counted:
            self._rep_end(item, g)
        self._settle_shoulders(item, found, g)
        self._reconcile(g)

    def _settle_shoulders(self, item: _Item, found: Movement, g: int) -> None:
        """Rises that waited on whether they are shoulders of ``item``: those its measured
        movement spans are part of it; the others are movements of their own, counted now if
        they are reps."""
        run = self._run
        if run is None:
            return
        for other in [i for i in run.items if i.shoulder_of is item]:
            other.shoulder_of = None
            peak_s = self._hist.at("t", other.peak_g) if other.peak_g >= self._hist.first else 0
            if found.start_s <= peak_s <= found.end_s:
                self._forget(other)
                if self._rise is not None and self._rise.item is other:
                    self._rise.item = item  # the rise goes on as part of the rep
                if self._to_complete is other:
                    self._to_complete = None
            else:
                height = other.peak_angle_deg
                self._maybe_count(other, g, other.rom_up_deg, height, late=True)

    def _rep_end(self, item: _Item, g: int) -> None:
        run = self._run
        assert run is not None and item.movement is not None
        m = item.movement
        t_now = self._hist.at("t", g)
        self._emit(
            LiveEvent(
                "rep_end", t_now, set_index=run.index, rep_index=item.rep_index,
                start_s=m.start_s, top_start_s=m.top_start_s, top_end_s=m.top_end_s,
                end_s=m.end_s, peak_angle_deg=m.peak_angle_deg,
            )
        )  # fmt: skip
        flags = rep_flags(
            self._kinematics(item, g), settings=self._flags, leg_length_m=self._leg_length(g),
            bottom_pause_s=None, previous_pause_s=None, set_median_rom_deg=None,
        )  # fmt: skip
        for flag in flags:
            if flag.name in ("drop", "no_hold", "partial") and flag.name not in item.flags:
                item.flags.append(flag.name)
                self._emit(
                    LiveEvent(
                        flag.name, t_now, set_index=run.index, rep_index=item.rep_index,
                        value=flag.value, unit=flag.unit or None, detail=flag.evidence,
                    )
                )  # fmt: skip

    def _reconcile(self, g: int, *, final: bool = False) -> int:
        """Judge the run with :func:`~imu.segmentation.judge_run`; withdraw counted reps it does
        not keep, count late those it keeps. Returns how many it keeps."""
        run = self._run
        if run is None:
            return 0
        measured = run.measured()
        st = self.settings
        # mid-set, only a set with some rhythm to it is judged: fewer movements say too little
        # about the set's pauses and levels to take back a rep already said
        if len(measured) < (st.min_set_reps if final else max(st.min_set_reps, _JUDGE_MIN_MOVES)):
            return len([i for i in measured if i.counted]) if final else 0
        probe = self._probe(g) if final else None
        table = run.table(measured)
        keep, why = judge_run(table, min_set_reps=st.min_set_reps, probe=probe)
        if self.auto and keep.any():  # the set's profile, from the reps it keeps so far
            kept = table[keep]
            bottom = float(np.median(np.concatenate((kept["start_angle_deg"],
                                                     kept["end_angle_deg"]))))  # fmt: skip
            choice = choose_exercise(bottom, float(np.median(kept["peak_angle_deg"])), None)
            if choice.exercise != self._flags.exercise:
                self._flags = self.requested.with_exercise(choice.exercise)
            run.profiled = int(keep.sum()) >= st.min_set_reps
        reasons = {i: (kind, reason) for i, kind, reason in why}
        for k, item in enumerate(measured):
            if item.counted and not keep[k]:
                kind, reason = reasons.get(k, ("not_a_rep", "not a rep of this set"))
                self._withdraw(item, g, kind, reason)
            elif keep[k] and not item.counted:
                self._count(item, g, late=True)
                if item.movement is not None:
                    self._rep_end(item, g)
        return int(keep.sum())

    def _withdraw(self, item: _Item, g: int, kind: str, reason: str) -> None:
        """A counted rep is not one after all: say so, and number the next reps after the rest."""
        run = self._run
        assert run is not None
        number = item.rep_index
        item.rep_index = 0
        run.withdrawn.append(number)
        for k, other in enumerate(run.counted(), start=1):  # the count as it now stands
            other.rep_index = k
        if self._last_rep is item:
            counted = run.counted()
            self._last_rep = counted[-1] if counted else None
        event = LiveEvent(
            "rep_cancelled", self._hist.at("t", g), set_index=run.index, rep_index=number,
            rep_count=len(run.counted()), kind=kind, detail=reason,
            start_s=item.movement.start_s if item.movement else item.start_s,
            top_start_s=item.movement.top_start_s if item.movement else item.top_start_s,
        )  # fmt: skip
        self._withdrawn = event.withdrawal
        self._emit(event)

    def _forget(self, item: _Item) -> None:
        """Take a movement that was never counted out of the run (judged again)."""
        run = self._run
        if run is not None and item in run.items:
            run.items.remove(item)
            if not run.items and not run.announced:
                self._run = None

    def _drop(self, item: _Item, g: int, kind: str, reason: str) -> None:
        """A movement that is not one (never lowered, not measurable): out of the run."""
        run = self._run
        if item.counted and run is not None:
            self._withdraw(item, g, kind, reason)
        self._forget(item)
        if self._to_complete is item:
            self._to_complete, self._stop_g = None, None

    # sets

    def _set_deadline(self) -> float | None:
        run = self._run
        if run is None or run.announced or self._to_complete is not None:
            return None
        rise = self._rise
        hold = -math.inf
        if rise is not None and not rise.dead:
            if rise.item is not None and rise.item.counted:
                return None  # a rep is under way
            hold = rise.start_t + _RISE_HOLD_S  # a rise that may become a rep: wait for its top
        counted = run.counted()
        last_end = run.last_end_s
        if last_end is None:
            return None if counted else run.items[-1].watch_t + _SET_END_MIN_S
        if len(counted) < self.settings.min_set_reps:
            # too few reps for a set: nothing to announce; cancelled when a set would have ended
            return max(last_end + self.settings.rest_threshold_s, hold)
        pauses = [
            b.movement.start_s - a.movement.end_s
            for a, b in itertools.pairwise(counted)
            if a.movement is not None and b.movement is not None
        ]
        wait = _SET_END_PAUSE_FACTOR * float(np.median(pauses)) + _SET_END_MARGIN_S if pauses else 0
        wait = min(self.settings.rest_threshold_s, max(_SET_END_MIN_S, wait))
        return max(last_end + wait, hold)

    def _announce(self, g: int) -> None:
        """Say the set is over (provisionally until ``rest_threshold_s`` has passed)."""
        run = self._run
        assert run is not None
        if not self._judge_window(run, g):
            self._reconcile(g, final=True)
        counted = [i for i in run.counted() if i.movement is not None]
        cancelled = len(counted) < self.settings.min_set_reps
        run.announced, run.cancelled = True, cancelled
        self._emit(
            LiveEvent(
                "set_cancelled" if cancelled else "set_end", self._hist.at("t", g),
                set_index=run.index, rep_count=len(counted),
                counted=len(counted) + len(run.withdrawn),
                cancelled_reps=tuple(run.withdrawn),
                start_s=counted[0].movement.start_s if counted and counted[0].movement else None,
                end_s=counted[-1].end_s if counted else None,
                tempo=None if cancelled else _tempo(counted),
                detail=f"fewer than {self.settings.min_set_reps} reps: not a set"
                if cancelled else None,
            )
        )  # fmt: skip

    def _judge_window(self, run: _Run, g: int) -> bool:
        """The set judged as offline judges it: :func:`~imu.segmentation.find_movements` and
        :func:`~imu.segmentation.judge_sets` on the samples it spans (kept in the history), with
        the set's profile; the counted reps brought in line (withdrawn, or counted late).
        ``False`` when the history no longer holds the set."""
        if not run.items:
            return False
        st = self._flags
        fs = self.sampling_rate_hz
        first = min(i.start_g for i in run.items)
        g0 = max(self._hist.first, first - self._side_n - self._pad_n)
        if g0 > first:
            return False
        h = self._hist
        t = h.get("t", g0, g + 1)
        theta, rate = h.get("theta", g0, g + 1), h.get("rate", g0, g + 1)
        found = find_movements(
            t, theta, rate, sampling_rate_hz=fs, min_rom_deg=st.min_rom_deg,
            min_rate_dps=st.moving_rate_dps,
            top_min_deg=st.top_min_deg, smoothing_cutoff_hz=st.smoothing_cutoff_hz,
            tilt_mismatch_deg=h.get("tilt", g0, g + 1), low_within_s=st.rest_threshold_s,
        )  # fmt: skip
        judged = judge_sets(
            found.movements, rest_threshold_s=st.rest_threshold_s, min_set_reps=1,
            probe=self._probe(g), between=found.low,
        )  # fmt: skip
        span = (min(i.start_s for i in run.items), max(i.end_s or i.start_s for i in run.items))
        kept, ignored = judged.reps, judged.ignored
        ids = [
            k
            for k in sorted({int(x) for x in kept["set_id"].to_numpy()})
            if _overlap(kept[kept["set_id"] == k], span) > 0
        ]
        reps = kept[kept["set_id"].isin(ids)]
        if len(reps) < st.min_set_reps:
            reps = reps.iloc[0:0]
        why = ignored[ignored["set_id"].isin(ids)]
        tops = 0.5 * (reps["top_start_s"].to_numpy() + reps["top_end_s"].to_numpy())
        taken = np.zeros(tops.shape[0], dtype=bool)
        for item in list(run.counted()):
            m = item.movement
            top = 0.5 * (m.top_start_s + m.top_end_s) if m is not None else item.top_start_s
            near = np.flatnonzero(~taken & (np.abs(tops - top) <= 0.5))
            if near.size:
                taken[near[0]] = True
                continue
            gone = why[(why["start_s"] <= top) & (why["end_s"] >= top)]
            kind, reason = (
                (str(gone["kind"].iloc[0]), str(gone["reason"].iloc[0]))
                if len(gone)
                else ("not_a_rep", "not a rep of this set")
            )
            self._withdraw(item, g, kind, reason)
        for j in np.flatnonzero(~taken):
            row = reps.iloc[int(j)]
            m = Movement(**{c: float(row[c]) for c in MOVEMENT_COLUMNS})
            item = _Item(
                start_s=m.start_s, top_start_s=m.top_start_s, start_g=g0, peak_g=g0,
                peak_angle_deg=m.peak_angle_deg, peak_velocity_dps=m.peak_velocity_dps,
                start_angle_deg=m.start_angle_deg, rom_up_deg=m.peak_angle_deg - m.start_angle_deg,
                prev_peak_g=g0, watch_t=self._hist.at("t", g), movement=m,
            )  # fmt: skip
            run.items.append(item)
            run.items.sort(key=lambda i: i.start_s)
            self._count(item, g, late=True)
            self._rep_end(item, g)
        return True


def _overlap(members: pd.DataFrame, span: tuple[float, float]) -> float:
    return min(float(members["end_s"].max()), span[1]) - max(
        float(members["start_s"].min()), span[0]
    )


def _tempo(items: list[_Item]) -> str:
    results = []
    for i, item in enumerate(items):
        m = item.movement
        assert m is not None
        nxt = items[i + 1].movement if i + 1 < len(items) else None
        results.append(
            RepResult(
                index=i + 1, start_s=m.start_s, top_start_s=m.top_start_s,
                top_end_s=m.top_end_s, end_s=m.end_s, peak_angle_deg=m.peak_angle_deg,
                min_angle_deg=m.min_angle_deg, peak_velocity_dps=m.peak_velocity_dps,
                peak_lowering_velocity_dps=m.peak_lowering_velocity_dps, foot_height_cm=0.0,
                bottom_pause_s=None if nxt is None else nxt.start_s - m.end_s,
            )
        )  # fmt: skip
    return tempo_string(results)
