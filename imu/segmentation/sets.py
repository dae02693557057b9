"""Sets, and which movements of a set are reps — each judged against the set itself.

A **set** is a run of movements with no break longer than ``rest_threshold_s`` (end of one to the
start of the next) that keeps at least ``min_set_reps`` reps, with no pause over it between two of
its reps either (movements that are not reps, fidgeting through a rest, do not carry a set over).
A **rep** is an attempt at the set's movement: it leaves the set's bottom zone, rises toward its
top zone and comes back. The set's levels come from its larger movements
(:class:`SetModel`): the bottom ``B`` is the median start and end angle, the top ``T`` the median
peak, of the movements that rise at least half as far as the set's median movement. A
movement's *reach* is how far it rose from the bottom toward the top, ``(peak − B) / (T − B)``.

Not reps, each listed with its reason (:data:`IGNORED_COLUMNS`):

``small``
    reach under :data:`ATTEMPT_REACH` (a quarter of the way to the top): settling, a foot adjustment
    — anywhere in the set. This is the line between a short attempt (counted, and flagged
    ``partial`` by :mod:`imu.form`) and a movement that is not an attempt.
``rebound``
    rising less than :data:`REBOUND_RISE` of the rep before, starting within
    :data:`REBOUND_PAUSE_S` of its end (or within :data:`REBOUND_PAUSE_SHARE` of the set's
    median pause, in a set that pauses long) and lasting under half the set's typical movement:
    a bounce off the bottom.
``getting_on`` / ``getting_off``
    at the set's edge, starting (first) or ending (last) far from the set's bottom: climbing on or
    off, the leg swung from or to another posture.
``swing``
    at the set's edge, reach under :data:`TOP_REACH` and apart from the set's rhythm: a pause over
    ``max(1 s, 2.5 × the set's median pause)``, or over ``max(1 s, 1.5 ×)`` for a movement unlike
    the set's reps (no hold, or much quicker): the leg swinging as the user climbs on or off.
``fidget``
    at the set's edge after a long pause (over ``max(4 s, 4 × the median pause)``) and unlike the
    set's reps (a much longer hold or a much lower peak): fidgeting while resting on the bench.
``dips``
    the whole run, when the leg rests (before and after it) in the top quarter of the run's
    movements: the
    movements are dips from rest, not lifts — the still leg moving in sympathy with the other.

Edge rules take whole runs at once and never trim half a set or more.

Movements that peak too low to make a set (below the profile's ``top_min_deg``: walking,
fidgeting) are judged only between two reps of one (``between``), with the rules above: there a
short attempt (a knee extension stopped half way up from hanging) is a rep, ``partial``.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from imu.dsp import median, median_interval_s

__all__ = [
    "ATTEMPT_REACH",
    "IGNORED_COLUMNS",
    "REBOUND_PAUSE_S",
    "REBOUND_PAUSE_SHARE",
    "REBOUND_RISE",
    "TOP_REACH",
    "SetJudgement",
    "SetModel",
    "dips_reason",
    "judge_run",
    "judge_sets",
    "rest_probe",
    "rests_at_top",
    "set_period_s",
    "trailing_rejection",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: a movement that rises less than this share of the way from the set's bottom to its top is not
#: an attempt
ATTEMPT_REACH = 0.25
#: a rebound rises less than this share of the rep before …
REBOUND_RISE = 0.5
#: … starts within this of its end, s, and lasts less than half the set's typical movement
REBOUND_PAUSE_S = 0.3
#: … or within this share of the set's median pause (a set that pauses 2 s between reps has
#: not begun its next rep 0.5 s after one)
REBOUND_PAUSE_SHARE = 0.5
#: a movement at a set's edge that reaches less than this share, apart from the set's rhythm, is
#: a swing while getting on or off
TOP_REACH = 0.8
#: off the set's rhythm: a pause over max(this, _RHYTHM_FACTOR × the median pause), s; far off
#: it: over _FAR_RHYTHM_FACTOR × the median pause
_RHYTHM_MIN_S = 1.0
_RHYTHM_FACTOR = 1.5
_FAR_RHYTHM_FACTOR = 2.5
#: a swing is unlike the set's reps: no hold (under this share of theirs) or much quicker
_SWING_HOLD_FRACTION = 0.25
_SWING_DURATION_FRACTION = 0.65
#: a movement starting (first) or ending (last) further than max(this, half the set's ROM) from
#: the set's bottom is a transition, °
_EDGE_TOLERANCE_DEG = 15.0
#: fidgets: apart by over max(this, _STRAGGLER_FACTOR × the median pause), s
_STRAGGLER_PAUSE_S = 4.0
_STRAGGLER_FACTOR = 4.0
#: seconds of θ before and after a run that tell where the leg rests
_REST_WINDOW_S = 20.0
_REST_MIN_S = 1.5

#: columns of :attr:`SetJudgement.ignored`
IGNORED_COLUMNS = ["set_id", "start_s", "end_s", "peak_angle_deg", "kind", "reason"]

#: samples of θ and rate around a run, for the rest level: ``(t0, t1) -> (θ, |rate|)``
RestProbe = Callable[[float, float], tuple[FloatArray, FloatArray]]


@dataclass(frozen=True)
class SetModel:
    """A set's own levels and rhythm, from its movements (see the module documentation)."""

    bottom_deg: float  #: where the leg rests between reps
    top_deg: float  #: where its reps peak
    pause_s: float  #: median bottom pause between consecutive movements
    hold_s: float  #: median top hold
    duration_s: float  #: median movement duration

    @property
    def rise_deg(self) -> float:
        return max(self.top_deg - self.bottom_deg, 1e-6)

    def reach(self, peak_deg: FloatArray | float) -> FloatArray:
        return (np.asarray(peak_deg, dtype=np.float64) - self.bottom_deg) / self.rise_deg

    @property
    def rhythm_limit_s(self) -> float:
        """A pause longer than this is apart from the set's rhythm."""
        return max(_RHYTHM_MIN_S, _RHYTHM_FACTOR * self.pause_s)

    @property
    def far_rhythm_limit_s(self) -> float:
        """A pause longer than this is far from the set's rhythm."""
        return max(_RHYTHM_MIN_S, _FAR_RHYTHM_FACTOR * self.pause_s)

    def without_pause(self, pauses: FloatArray, k: int) -> SetModel:
        """The same set with its rhythm measured on its pauses but the ``k``-th (the one that
        parts an edge from the set, judged against the rest)."""
        rest = np.delete(pauses, k)
        return dataclasses.replace(self, pause_s=median(rest) if rest.size else 0.0)

    @classmethod
    def of(cls, col: dict[str, FloatArray]) -> SetModel:
        """From the columns of at least one movement (``start_s`` … ``end_angle_deg``)."""
        start, end = col["start_angle_deg"], col["end_angle_deg"]
        rise = col["peak_angle_deg"] - np.minimum(start, end)
        core = rise >= 0.5 * median(rise)
        bottom = median(np.concatenate((start[core], end[core])))
        top = median(col["peak_angle_deg"][core])
        pauses = col["start_s"][1:] - col["end_s"][:-1]
        return cls(
            bottom_deg=bottom,
            top_deg=top,
            pause_s=median(pauses) if pauses.size else 0.0,
            hold_s=median(col["top_end_s"] - col["top_start_s"]),
            duration_s=median(col["end_s"] - col["start_s"]),
        )


@dataclass(frozen=True)
class SetJudgement:
    """What :func:`judge_sets` decided."""

    reps: pd.DataFrame  #: the movements counted, with a 1-based ``set_id``
    ignored: pd.DataFrame  #: movements of (or at the edges of) a set not counted, with the reason


_COLUMNS = ("start_s", "top_start_s", "top_end_s", "end_s", "peak_angle_deg", "min_angle_deg",
            "start_angle_deg", "end_angle_deg")  # fmt: skip


def _columns(frame: pd.DataFrame) -> dict[str, FloatArray]:
    return {c: frame[c].to_numpy(dtype=np.float64) for c in _COLUMNS}


def _take(col: dict[str, FloatArray], idx: npt.NDArray[np.intp]) -> dict[str, FloatArray]:
    return {k: v[idx] for k, v in col.items()}


def _small_or_rebound(col: dict[str, FloatArray], model: SetModel) -> list[tuple[int, str, str]]:
    reach = model.reach(col["peak_angle_deg"])
    rise = col["peak_angle_deg"] - np.minimum(col["start_angle_deg"], col["end_angle_deg"])
    pause_before = np.concatenate(([np.inf], col["start_s"][1:] - col["end_s"][:-1]))
    rise_before = np.concatenate(([np.inf], rise[:-1]))
    brief = col["end_s"] - col["start_s"] < 0.5 * model.duration_s
    soon = pause_before < max(REBOUND_PAUSE_S, REBOUND_PAUSE_SHARE * model.pause_s)
    rebound = soon & brief & (rise < REBOUND_RISE * rise_before)
    out = []
    for i in np.flatnonzero(rebound | (reach < ATTEMPT_REACH)):
        if rebound[i]:
            out.append((int(i), "rebound", f"rebound {rise[i]:.0f}°"))
        else:
            out.append(
                (
                    int(i),
                    "small",
                    f"rose {rise[i]:.0f}°: under a quarter of the set's {model.rise_deg:.0f}°",
                )
            )
    return out


def _transitions(col: dict[str, FloatArray], model: SetModel) -> tuple[int, int, list[str]]:
    """How many movements at the start and end are getting on or off (at most one each)."""
    rom = median(col["peak_angle_deg"] - col["min_angle_deg"])
    tol = max(_EDGE_TOLERANCE_DEG, 0.5 * rom)
    n = col["start_s"].shape[0]
    first = col["start_angle_deg"][0] - model.bottom_deg
    last = col["end_angle_deg"][-1] - model.bottom_deg
    reasons = []
    a = int(abs(first) > tol)
    b = int(abs(last) > tol and n - a > 1)
    if a:
        reasons.append(f"getting on: started {abs(first):.0f}° from the set's bottom")
    if b:
        reasons.append(f"getting off: ended {abs(last):.0f}° from the set's bottom")
    return a, b, reasons


def _swing_text(
    col: dict[str, FloatArray], i: int, model: SetModel, pause_s: float, side: str
) -> str:
    below = model.top_deg - col["peak_angle_deg"][i]
    hold = col["top_end_s"][i] - col["top_start_s"][i]
    held = ", no hold" if hold < 0.25 * model.hold_s else ""
    return (
        f"swing while getting {side}: peak {below:.0f}° below the set's top{held}, "
        f"{pause_s:.1f} s apart (the set's pauses: {model.pause_s:.1f} s)"
    )


def _edge_runs(col: dict[str, FloatArray], model: SetModel) -> tuple[int, int, list[str]]:
    """Runs at the start and end that are swings (short of the top, apart from the rhythm) or
    fidgets (after a long pause, with a much longer hold or a much lower peak)."""
    n = col["start_s"].shape[0]
    if n < 4:
        return 0, n, []
    reach = model.reach(col["peak_angle_deg"])
    pauses = col["start_s"][1:] - col["end_s"][:-1]
    holds = col["top_end_s"] - col["top_start_s"]
    peaks = col["peak_angle_deg"]
    short = reach < TOP_REACH
    swing_like = (holds < _SWING_HOLD_FRACTION * model.hold_s) | (
        col["end_s"] - col["start_s"] < _SWING_DURATION_FRACTION * model.duration_s
    )
    rom = median(peaks - col["min_angle_deg"])
    unlike = (holds > 2.0 * model.hold_s + 1.0) | (peaks < median(peaks) - max(5.0, 0.3 * rom))
    long_pause = max(_STRAGGLER_PAUSE_S, _STRAGGLER_FACTOR * model.pause_s)

    def run_end(start: int, step: int) -> int | None:
        """Walking from ``start`` by ``step`` through a run of short or unlike movements: the
        index just past the run where a pause apart from the rhythm (or a long one, for fidgets)
        separates it from the set; ``None`` if no such pause does."""
        i = start
        while 0 <= i < n and (short[i] or unlike[i]):
            j = i if step > 0 else i - 1  # the pause between i and the next one inward
            if not 0 <= j < n - 1:
                return None
            gap = float(pauses[j])
            rhythm = model.without_pause(pauses, j)
            apart = gap > rhythm.far_rhythm_limit_s or (
                gap > rhythm.rhythm_limit_s and bool(swing_like[i])
            )
            if (short[i] and apart) or (unlike[i] and gap > long_pause):
                return i + step
            i += step
        return None

    lead = run_end(0, 1)
    tail = run_end(n - 1, -1)
    a = 0 if lead is None or lead > n - lead else lead  # never trim half the set or more
    b = n if tail is None or n - (tail + 1) > tail + 1 - a else tail + 1
    reasons = [
        _edge_reason(col, i, model.without_pause(pauses, a - 1), float(pauses[a - 1]), "on",
                     short[i])
        for i in range(a)
    ]  # fmt: skip
    reasons += [
        _edge_reason(col, i, model.without_pause(pauses, b - 1), float(pauses[b - 1]), "off",
                     short[i])
        for i in range(b, n)
    ]  # fmt: skip
    return a, b, reasons


def _edge_reason(
    col: dict[str, FloatArray], i: int, model: SetModel, gap: float, side: str, short: bool
) -> str:
    if short:
        return _swing_text(col, i, model, gap, side)
    hold = col["top_end_s"][i] - col["top_start_s"][i]
    when = "before" if side == "on" else "after"
    return (
        f"fidget {when} the set: held {hold:.1f} s (the set's reps {model.hold_s:.1f} s), "
        f"{gap:.0f} s apart"
    )


def rests_at_top(rest_deg: float, bottom_deg: float, top_deg: float) -> bool:
    """Does the leg rest (``rest_deg``) in the top quarter of its movements (from
    ``bottom_deg`` to ``top_deg``)? Then they are dips from rest, not lifts."""
    return rest_deg - bottom_deg > 0.75 * (top_deg - bottom_deg)


def _dips(col: dict[str, FloatArray], model: SetModel, probe: RestProbe | None) -> str | None:
    """Is the leg at rest around the run at its top level (dips, not lifts)?"""
    if probe is None:
        return None
    theta, _rate = probe(float(col["start_s"][0]), float(col["end_s"][-1]))
    if theta.shape[0] == 0:
        return None
    rest = median(theta)
    if rests_at_top(rest, model.bottom_deg, model.top_deg):
        return dips_reason(rest, model.rise_deg)
    return None


def dips_reason(rest_deg: float, depth_deg: float) -> str:
    return (
        f"the leg rests at {rest_deg:.0f}°, the top of these movements, and dips "
        f"{depth_deg:.0f}° below it: not lifts (a still leg moving in sympathy?)"
    )


def judge_run(
    members: pd.DataFrame, *, min_set_reps: int, probe: RestProbe | None = None
) -> tuple[BoolArray, list[tuple[int, str, str]]]:
    """Which movements of one run (no break over the rest threshold) are reps: a mask, and
    ``(position, kind, reason)`` for each one that is not. Rules applied until nothing changes."""
    return _judge_run_columns(_columns(members), min_set_reps=min_set_reps, probe=probe)


def _judge_run_columns(
    col: dict[str, FloatArray], *, min_set_reps: int, probe: RestProbe | None
) -> tuple[BoolArray, list[tuple[int, str, str]]]:
    """:func:`judge_run` on the run's columns (:func:`_columns`)."""
    n = col["start_s"].shape[0]
    keep = np.ones(n, dtype=bool)
    why: dict[int, tuple[str, str]] = {}
    for _ in range(8):
        idx = np.flatnonzero(keep)
        if idx.size < max(min_set_reps, 2):
            break
        sub = _take(col, idx)
        rejected, over = _judge_pass(sub, SetModel.of(sub), probe)
        for j, kind, r in rejected:
            why[int(idx[j])] = (kind, r)
            keep[idx[j]] = False
        if over:
            break
    return keep, [(i, kind, r) for i, (kind, r) in sorted(why.items())]


def _transition_rejections(
    col: dict[str, FloatArray], model: SetModel
) -> list[tuple[int, str, str]]:
    """Getting on and off (:func:`_transitions`) as ``(position, kind, reason)``."""
    a, b, reasons = _transitions(col, model)
    n = col["start_s"].shape[0]
    where = [*range(a), *range(n - b, n)]
    return [
        (j, "getting_on" if j < a else "getting_off", r)
        for j, r in zip(where, reasons, strict=True)
    ]


def _edge_run_rejections(col: dict[str, FloatArray], model: SetModel) -> list[tuple[int, str, str]]:
    """Swings and fidgets at the edges (:func:`_edge_runs`) as ``(position, kind, reason)``."""
    a, b, reasons = _edge_runs(col, model)
    n = col["start_s"].shape[0]
    where = [*range(a), *range(b, n)]
    return [
        (j, "swing" if r.startswith("swing") else "fidget", r)
        for j, r in zip(where, reasons, strict=True)
    ]


#: the rules of a pass of :func:`judge_run`, in order: the first that rejects anything ends the
#: pass, and the next pass judges what is left
_PASS_RULES = (_transition_rejections, _small_or_rebound, _edge_run_rejections)


def _judge_pass(
    col: dict[str, FloatArray], model: SetModel, probe: RestProbe | None
) -> tuple[list[tuple[int, str, str]], bool]:
    """One pass of :func:`judge_run` over the movements still kept: the ``(position, kind,
    reason)`` it rejects, and whether the judging is over (a run of dips, all rejected; or no
    rule rejecting anything)."""
    dips = _dips(col, model, probe)
    if dips is not None:
        return [(j, "dips", dips) for j in range(col["start_s"].shape[0])], True
    for rule in _PASS_RULES:
        rejected = rule(col, model)
        if rejected:
            return rejected, False
    return [], True


def trailing_rejection(
    previous: pd.DataFrame, peak_deg: float, start_s: float, rise_deg: float
) -> tuple[str, str] | None:
    """The live question at a movement's top: given the set's reps so far (``previous``, at least
    three), is a movement that rose ``rise_deg`` to ``peak_deg``, starting at ``start_s``, one
    that :func:`judge_run` would not count were it the set's last? ``(kind, reason)`` or ``None``.
    """
    col = _columns(previous)
    model = SetModel.of(col)
    reach = float(model.reach(peak_deg))
    pause = start_s - float(col["end_s"][-1])
    if reach < ATTEMPT_REACH:
        return "small", f"rose {rise_deg:.0f}°: under a quarter of the set's {model.rise_deg:.0f}°"
    if reach < TOP_REACH and pause > model.far_rhythm_limit_s:
        below = model.top_deg - peak_deg
        return "swing", (
            f"swing while getting off: peak {below:.0f}° below the set's top, {pause:.1f} s "
            f"apart (the set's pauses: {model.pause_s:.1f} s)"
        )
    return None


def judge_sets(
    movements: pd.DataFrame,
    *,
    rest_threshold_s: float,
    min_set_reps: int,
    probe: RestProbe | None = None,
    between: pd.DataFrame | None = None,
) -> SetJudgement:
    """Group movements into sets and judge each (see the module documentation).

    ``between``: movements that never make or extend a set (they peak too low:
    :func:`~imu.segmentation.find_movements`' ``low``), counted only between two reps of one,
    as the set judges them (:func:`_attempts_between`)."""
    empty_ignored = pd.DataFrame(columns=IGNORED_COLUMNS)
    if movements.empty:
        reps = movements.copy()
        reps["set_id"] = pd.Series(dtype=np.int64)
        return SetJudgement(reps, empty_ignored)
    movements = movements.sort_values("start_s")
    col = _columns(movements)  # the runs are slices of these: no table per run
    gap = col["start_s"][1:] - col["end_s"][:-1]
    cuts = [0, *(np.flatnonzero(gap > rest_threshold_s) + 1).tolist(), len(movements)]
    rows: list[npt.NDArray[np.intp]] = []
    ignored: list[dict[str, object]] = []
    runs = list(itertools.pairwise(cuts))
    while runs:
        a, b = runs.pop(0)
        run = {k: v[a:b] for k, v in col.items()}
        keep, why = _judge_run_columns(run, min_set_reps=min_set_reps, probe=probe)
        kept = np.flatnonzero(keep)
        # movements that are not reps do not carry a set over a rest: a pause over the rest
        # threshold between two reps parts the run (the movements in it, judged not reps, left
        # out), and each part is judged on its own
        rest = np.flatnonzero(run["start_s"][kept[1:]] - run["end_s"][kept[:-1]] > rest_threshold_s)
        if rest.size:
            i = int(rest[0])
            runs[:0] = [(a, a + int(kept[i]) + 1), (a + int(kept[i + 1]), b)]
            continue
        if int(keep.sum()) < min_set_reps:
            continue
        rows.append(a + kept)
        ignored += _ignored_rows(run, kept, why, set_id=len(rows))
    if not rows:
        reps = movements.iloc[0:0].copy()
        reps["set_id"] = pd.Series(dtype=np.int64)
        return SetJudgement(reps, empty_ignored)
    frames = [movements.iloc[r] for r in rows]
    if between is not None and not between.empty:
        low = between.sort_values("start_s")
        low.index = pd.RangeIndex(len(movements), len(movements) + len(low), name="rep_id")
        low_col = _columns(low)
        for k, r in enumerate(rows):
            extra, spans = _attempts_between(_take(col, r), low_col)
            if extra.size:
                added = low.iloc[extra].copy()
                added[["start_s", "end_s"]] = spans
                frames[k] = pd.concat([frames[k], added]).sort_values("start_s")
    reps = pd.concat(frames)
    reps["set_id"] = np.concatenate(
        [np.full(len(f), k, dtype=np.int64) for k, f in enumerate(frames, start=1)]
    )
    return SetJudgement(reps, pd.DataFrame(ignored, columns=IGNORED_COLUMNS))


def _attempts_between(
    reps: dict[str, FloatArray], low: dict[str, FloatArray]
) -> tuple[npt.NDArray[np.intp], FloatArray]:
    """The positions in ``low`` of the movements that are attempts between two of a set's
    ``reps`` (sorted by start), and their ``(start_s, end_s)`` clipped to the pause between the
    two (a movement may not start before the one before it ended). An attempt peaks between one
    rep's end and the next one's start and is judged with them as every movement of a set is
    (not ``small`` nor a ``rebound``: :func:`_small_or_rebound`). A movement that peaks too low
    to make a set (walking, fidgeting) stays out at its edges, where getting on and off happens;
    between two reps it is a short attempt (flagged ``partial`` by :mod:`imu.form`)."""
    none = np.zeros(0, dtype=np.intp), np.zeros((0, 2))
    n = reps["start_s"].shape[0]
    if n < 2 or low["start_s"].shape[0] == 0:
        return none
    peak_t = 0.5 * (low["top_start_s"] + low["top_end_s"])
    slot = np.searchsorted(reps["end_s"], peak_t)  # the rep before is slot - 1
    inside = (slot >= 1) & (slot < n)
    inside[inside] &= (peak_t[inside] > reps["end_s"][slot[inside] - 1]) & (
        peak_t[inside] < reps["start_s"][slot[inside]]
    )
    candidates = np.flatnonzero(inside)
    if candidates.size == 0:
        return none
    both = {c: np.concatenate((reps[c], low[c][candidates])) for c in _COLUMNS}
    order = np.argsort(both["start_s"], kind="stable")
    merged = {c: v[order] for c, v in both.items()}
    rejected = {i for i, _kind, _reason in _small_or_rebound(merged, SetModel.of(reps))}
    position = np.argsort(order)  # where each of `both` went in `merged`
    counted = np.asarray(
        [m for m in range(candidates.size) if int(position[n + m]) not in rejected],
        dtype=np.intp,
    )
    j, after = candidates[counted], slot[candidates[counted]]
    start = np.maximum(low["start_s"][j], reps["end_s"][after - 1])
    end = np.minimum(low["end_s"][j], reps["start_s"][after])
    return j, np.column_stack((start, end))


def _ignored_rows(
    run: dict[str, FloatArray],
    kept: npt.NDArray[np.intp],
    why: list[tuple[int, str, str]],
    *,
    set_id: int,
) -> list[dict[str, object]]:
    """The rows of :attr:`SetJudgement.ignored` for the movements of one set's run not counted
    (a rebound's reason says which rep it followed)."""
    out: list[dict[str, object]] = []
    kept_ends = run["end_s"][kept]
    for i, kind, reason in why:
        start = float(run["start_s"][i])
        if kind == "rebound":
            before = int(np.count_nonzero(kept_ends <= start + 1e-9))
            reason = f"{reason} after rep {before}"
        out.append(
            {
                "set_id": set_id,
                "start_s": start,
                "end_s": float(run["end_s"][i]),
                "peak_angle_deg": float(run["peak_angle_deg"][i]),
                "kind": kind,
                "reason": reason,
            }
        )
    return out


def rest_probe(
    time_s: FloatArray,
    theta_s: FloatArray,
    rate_dps: FloatArray,
    *,
    still_dps: float,
    period_s: float | None = None,
) -> RestProbe:
    """A :data:`RestProbe` on a whole recording: the still samples within ``_REST_WINDOW_S``
    before and after a run (at least ``_REST_MIN_S`` of them, else none). ``period_s``:
    :func:`~imu.dsp.median_interval_s` of ``time_s``, if already known."""
    if period_s is not None:
        dt = period_s
    else:
        dt = median_interval_s(time_s) if time_s.shape[0] > 1 else 1.0

    def probe(t0: float, t1: float) -> tuple[FloatArray, FloatArray]:
        a0, a1, b0, b1 = np.searchsorted(
            time_s, [t0 - _REST_WINDOW_S, t0 - 0.5, t1 + 0.5, t1 + _REST_WINDOW_S]
        )
        th = np.concatenate((theta_s[a0:a1], theta_s[b0:b1]))
        v = np.abs(np.concatenate((rate_dps[a0:a1], rate_dps[b0:b1])))
        still = v < still_dps
        if np.count_nonzero(still) * dt < _REST_MIN_S:
            return np.zeros(0), np.zeros(0)
        return th[still], v[still]

    return probe


def set_period_s(
    rate_dps: FloatArray, *, sampling_rate_hz: float, min_period_s: float = 0.8
) -> float | None:
    """The set's rhythm from the autocorrelation of its rate: the lag of the highest
    autocorrelation peak after the first zero crossing (``None`` if it is not periodic)."""
    n = rate_dps.shape[0]
    if n < 16:
        return None
    x = rate_dps - float(np.mean(rate_dps))
    if not np.any(x):
        return None
    m = 1 << (2 * n - 1).bit_length()
    spec = np.fft.rfft(x, m)
    ac = np.fft.irfft(spec * np.conj(spec), m)[:n]
    ac = ac / ac[0]
    lag_min = max(1, int(min_period_s * sampling_rate_hz))
    below = np.flatnonzero(ac[lag_min:] < 0)
    if below.size == 0:
        return None
    first_zero = lag_min + int(below[0])
    window = ac[first_zero : n // 2]
    if window.size == 0:
        return None
    j = int(np.argmax(window))
    if window[j] < 0.2:
        return None
    return (first_zero + j) / sampling_rate_hz
