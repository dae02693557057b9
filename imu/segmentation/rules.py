"""What a movement is: the constants and small rules the offline and the live driver share.

Every rule here is written once; :mod:`imu.segmentation.movements` applies them to a whole
recording and :mod:`imu.live.detector` to its buffer as the samples arrive.
"""

from __future__ import annotations

__all__ = [
    "BALANCE",
    "MAX_REP_S",
    "MAX_SIDE_S",
    "SHOULDER_FRACTION",
    "SHOULDER_REACH_S",
    "STATIC_MISMATCH_DEG",
    "bottom_depth_min_deg",
    "hold_interval",
    "is_shoulder",
    "sides_rejection",
]

#: a movement lasting longer than this is not a rep, s
MAX_REP_S = 30.0
#: a rep's bottoms are looked for within this of its peak on each side, s
MAX_SIDE_S = 12.0
#: a rep's shallower side must reach this share of the deeper side's depth; a stop shallower than
#: that is a pause on the way, and the bottom is looked for further
BALANCE = 0.6
#: a peak from which the leg dips toward a higher neighbour less than this share of both their
#: movements is a shoulder of it (a wobble in the hold, a pause on the way down), not a movement
SHOULDER_FRACTION = 0.25
#: … a higher neighbour within this, both movements measured within this of their peaks, s
SHOULDER_REACH_S = 4.0
#: at a rep's top the orientation filter and the accelerometer alone agree about the shank's
#: elevation within this, or it is an orientation artefact, °
STATIC_MISMATCH_DEG = 40.0
#: a rep's bottom is at least this share of its smaller side's whole excursion below the peak
#: (and at least half the minimum ROM): stops higher up are wobbles in the hold
_BOTTOM_DEPTH_FRACTION = 0.25


def is_shoulder(
    peak_deg: float,
    dip_deg: float,
    far_base_deg: float,
    neighbour_peak_deg: float,
    neighbour_far_base_deg: float,
) -> bool:
    """Is a peak a shoulder of a higher neighbour? It is when the leg, on its way from the peak
    to that neighbour, dips only to ``dip_deg`` — less than :data:`SHOULDER_FRACTION` of both
    movements, each measured on its far side (the peak's from ``far_base_deg``, the neighbour's
    from ``neighbour_far_base_deg``): a wobble in a hold, a pause on the way down."""
    dip = peak_deg - dip_deg
    scale = min(peak_deg - far_base_deg, neighbour_peak_deg - neighbour_far_base_deg)
    return scale > 0 and dip < SHOULDER_FRACTION * scale


def bottom_depth_min_deg(min_rom_deg: float, smaller_excursion_deg: float) -> float:
    """How far below its peak a rep's bottom is at least (see ``_BOTTOM_DEPTH_FRACTION``)."""
    return max(0.5 * min_rom_deg, _BOTTOM_DEPTH_FRACTION * smaller_excursion_deg)


def sides_rejection(rom_up_deg: float, rom_down_deg: float, min_rom_deg: float) -> str | None:
    """Why a movement that rose ``rom_up_deg`` and came down ``rom_down_deg`` is not a rep, or
    ``None``: the larger side must reach the minimum ROM and the smaller half of it (the first
    rep of a set may start from a higher resting posture)."""
    if max(rom_up_deg, rom_down_deg) < min_rom_deg:
        return f"moved {max(rom_up_deg, rom_down_deg):.0f}° (a rep moves {min_rom_deg:g}°)"
    if min(rom_up_deg, rom_down_deg) < 0.5 * min_rom_deg:
        return f"rose {rom_up_deg:.0f}°, lowered {rom_down_deg:.0f}°"
    return None


def hold_interval(top_start_s: float, top_end_s: float) -> tuple[float, float]:
    """The top hold; when the lowering was found to start before the rise ended (no hold), both
    are the turnaround, halfway."""
    if top_end_s < top_start_s:
        mid = 0.5 * (top_start_s + top_end_s)
        return mid, mid
    return top_start_s, top_end_s
