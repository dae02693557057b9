"""Settings: one frozen dataclass, exercise profiles, the TOML settings file, tempo targets.

Every field has a unit in its name and a documented default. A value of 0 disables the feature
it controls where that makes sense (e.g. ``hold_min_s = 0`` never flags ``no_hold``).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imu.errors import ConfigError, SettingError

__all__ = [
    "AUTO",
    "EXERCISES",
    "HIP_LINE_MAX_DEG",
    "PROFILES",
    "RANGES",
    "Settings",
    "Tempo",
    "check_hip_line_reference",
    "flags_off",
    "load_settings",
    "parse_tempo",
]

SHANK_AXES = ("auto", "+x", "-x", "+y", "-y", "+z", "-z")


@dataclass(frozen=True)
class Tempo:
    """A four-phase tempo in coaching order: eccentric–bottom–concentric–top, seconds each.

    The fields are named as the rep phases they time (:class:`imu.results.RepResult`)."""

    eccentric_s: float  #: lowering, s
    bottom_pause_s: float  #: at the bottom between reps, s
    concentric_s: float  #: lifting, s
    top_hold_s: float  #: held at the top, s

    def __str__(self) -> str:
        return "-".join(_fmt_s(v) for v in self.as_tuple())

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.eccentric_s, self.bottom_pause_s, self.concentric_s, self.top_hold_s)


def _fmt_s(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


_TEMPO_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)")


def parse_tempo(text: str) -> Tempo:
    """Parse ``"3-0-2-1"`` (eccentric-bottom-concentric-top, seconds; ``X`` = explosive = 0).

    ``:`` may separate the phases instead of ``-``. Each phase is 0–60 s.
    """
    if not isinstance(text, str):
        raise ConfigError(f"tempo {text!r}: expected text like 3-0-2-1")
    stripped = text.strip()
    if stripped.startswith("-") or "--" in stripped or "::" in stripped:
        raise ConfigError(f"tempo {text!r}: phases cannot be negative (0–60 s each)")
    parts = stripped.replace(":", "-").split("-")
    if len(parts) != 4:
        raise ConfigError(
            f"tempo {text!r}: expected four numbers eccentric-bottom-concentric-top, e.g. 3-0-2-1"
        )
    values: list[float] = []
    for part in parts:
        p = part.strip()
        if p.upper() == "X":
            values.append(0.0)
            continue
        if not _TEMPO_NUMBER.fullmatch(p):
            raise ConfigError(f"tempo {text!r}: {p!r} is not a number of seconds")
        v = float(p)
        if v > 60:
            raise ConfigError(f"tempo {text!r}: {p!r} must be between 0 and 60 s")
        values.append(v)
    return Tempo(*values)


@dataclass(frozen=True)
class Settings:
    """Everything the analysis can be told. Units are in the names; 0 disables where noted."""

    #: a profile of :data:`PROFILES`, or ``auto``: chosen per set from the recording
    #: (:mod:`imu.exercise`), the fields below then holding ``reverse-hyper``'s values until then
    exercise: str = "auto"
    #: reported rep peaks above this θ get ``above_hip_line``, °; ``None`` = the exercise has no
    #: hip line to keep to (the generic ``leg-raise`` profile): the flag is off
    tolerance_deg: float | None = 5.0
    #: elevation of the hip line above horizontal (tilted torso, e.g. on a ball), °
    hip_line_offset_deg: float = 0.0
    #: a "hold the legs in line" segment ``(start_s, end_s)``: its median θ becomes the hip line
    hip_line_segment_s: tuple[float, float] | None = None
    #: hip-to-ankle length for the foot height in cm; ``None`` = estimate from the data
    leg_length_m: float | None = None
    #: which sensor axis points along the shank toward the foot; ``auto`` = ``+x``, flipped when
    #: the recording shows that the axis points up the leg
    shank_axis: str = "auto"
    #: the sensor's centre sits about this far from the shank's axis along its own +z (strapped
    #: flat on the skin, board normal out); corrects the shank direction measured from the reps.
    #: A hedge: 3–5 cm is typical, but not every board's +z faces out of the leg, m
    sensor_offset_m: float = 0.03
    #: a pause longer than this between reps ends a set, s
    rest_threshold_s: float = 15.0
    #: fewer reps than this are not a set (getting on the bench is not a set)
    min_set_reps: int = 3
    #: a rep must move the leg at least this far (bottom to top), °
    min_rom_deg: float = 8.0
    #: a rep's peak must reach at least this θ to count at all (lower = walking, fidgeting), °
    top_min_deg: float = -40.0
    #: reps peaking more than this below the hip line (or the set's typical peak) are ``partial``, °
    partial_margin_deg: float = 12.0
    #: a top hold shorter than this is ``no_hold``, s (0 disables)
    hold_min_s: float = 0.25
    #: a bottom pause longer than this is ``rest_at_bottom``, s (0 disables)
    rest_at_bottom_s: float = 4.0
    #: lowering faster than this peak speed is a ``drop``, °/s (0 disables)
    drop_velocity_dps: float = 180.0
    #: ``momentum``: the leg coasts (decelerates at near-gravity rates) over at least this angle, °
    coast_min_deg: float = 12.0
    #: ``momentum``: bottom reversal speed (within ``bounce_window_s``) that is a bounce, °/s
    bounce_velocity_dps: float = 120.0
    #: ``momentum``: time window for a bounce reversal at the bottom, s
    bounce_window_s: float = 0.35
    #: ``momentum`` on the machine: swinging this far past hanging vertical under the bench, °
    swing_through_deg: float = 10.0
    #: target tempo, e.g. ``"3-0-2-1"``; ``None`` = no target
    target_tempo: str | None = None
    #: a phase within this many seconds of its target is on tempo, s
    tempo_tolerance_s: float = 0.5
    #: low-pass cutoff applied to the leg angle and rate before segmentation, Hz
    smoothing_cutoff_hz: float = 4.0
    #: the leg counts as moving above this angular rate about the hip, °/s
    moving_rate_dps: float = 8.0
    #: longest gap in the data integrated across before the angle is re-anchored, s
    max_bridge_s: float = 1.0
    #: the fields given explicitly (a settings file, options), kept when the exercise is chosen
    fixed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            coerced = _coerce(f.name, value)
            if coerced is not value:
                object.__setattr__(self, f.name, coerced)
        if self.exercise not in EXERCISES:
            raise ConfigError(
                f"unknown exercise {self.exercise!r}; choose one of {', '.join(EXERCISES)}"
            )
        if self.shank_axis not in SHANK_AXES:
            raise ConfigError(
                f"shank_axis {self.shank_axis!r}: choose one of {', '.join(SHANK_AXES)}"
            )
        if self.target_tempo is not None:
            parse_tempo(self.target_tempo)
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{f.name}: must be a finite number, got {value}")
            _check_range(f.name, value)
        if self.hip_line_segment_s is not None:
            _check_segment(self.hip_line_segment_s)

    def check_sampling_rate(self, sampling_rate_hz: float) -> None:
        """The settings that depend on the data's rate: the smoothing cutoff must stay below
        the Nyquist rate (half the sampling rate). Raises :class:`SettingError`."""
        nyquist_hz = 0.5 * sampling_rate_hz
        if math.isfinite(nyquist_hz) and self.smoothing_cutoff_hz >= nyquist_hz:
            raise SettingError(
                "smoothing_cutoff_hz",
                f"{self.smoothing_cutoff_hz:g}",
                f"must be below the Nyquist rate, {nyquist_hz:g} Hz for data sampled at "
                f"{sampling_rate_hz:g} Hz",
            )

    @property
    def tempo(self) -> Tempo | None:
        return None if self.target_tempo is None else parse_tempo(self.target_tempo)

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON would hold them (tuples as lists)."""
        return {
            k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()
        }

    def with_exercise(self, name: str) -> Settings:
        """These settings for the profile ``name``: its values wherever this one's were not
        given explicitly (:attr:`fixed`)."""
        if name not in PROFILES:
            raise ConfigError(f"unknown exercise {name!r}; choose one of {', '.join(PROFILES)}")
        mine = {k: getattr(self, k) for k in self.fixed}
        values = {**_DEFAULTS, **PROFILES[name], **mine, "exercise": name, "fixed": self.fixed}
        return Settings(**values)


#: Exercise profiles: the fields each one sets over the defaults. Documented in the README.
PROFILES: dict[str, dict[str, Any]] = {
    # bench or machine: legs start 30–90° below the hip line and rise to it
    "reverse-hyper": {},
    # floor: legs start flat and rise "a few inches" (5–15°); more than 20° arches the lower back
    "prone-leg-lift": {
        "tolerance_deg": 20.0,
        "min_rom_deg": 4.0,
        "top_min_deg": -20.0,
        "partial_margin_deg": 0.0,
        "coast_min_deg": 6.0,
        "bounce_velocity_dps": 80.0,
        "drop_velocity_dps": 120.0,
        "swing_through_deg": 0.0,
        "hold_min_s": 0.2,
        "moving_rate_dps": 5.0,
    },
    # any single-joint leg exercise in which the shank swings in one plane (seated knee
    # extension, supine straight-leg raise, side-lying raise, …): reps, phases and tempo; the
    # reverse hyper's own faults (hip line, momentum of a straight leg, swinging under the bench)
    # and the hold it prescribes are not judged
    "leg-raise": {
        "tolerance_deg": None,
        "min_rom_deg": 4.0,
        "top_min_deg": -45.0,
        "partial_margin_deg": 0.0,
        "coast_min_deg": 0.0,
        "bounce_velocity_dps": 0.0,
        "swing_through_deg": 0.0,
        "hold_min_s": 0.0,
        "moving_rate_dps": 5.0,
    },
}


def flags_off(settings: Settings) -> tuple[str, ...]:
    """The flags these settings do not judge (their thresholds are off)."""
    off = []
    if settings.tolerance_deg is None:
        off.append("above_hip_line")
    if not (settings.coast_min_deg or settings.bounce_velocity_dps or settings.swing_through_deg):
        off.append("momentum")
    if not settings.drop_velocity_dps:
        off.append("drop")
    if not settings.hold_min_s:
        off.append("no_hold")
    if not settings.rest_at_bottom_s:
        off.append("rest_at_bottom")
    return tuple(off)


#: the exercise that is chosen from the recording itself
AUTO = "auto"
#: every value ``exercise`` takes
EXERCISES = (AUTO, *PROFILES)
#: what the choice is made on: movements found with the most permissive profile's limits
DETECTION: dict[str, Any] = {"min_rom_deg": 4.0, "top_min_deg": -45.0}

_FIELD_NAMES = {f.name for f in dataclasses.fields(Settings)} - {"fixed"}
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Settings)}
#: optional fields (``None`` allowed) and the type of their value when set
_OPTIONAL_FLOATS = {"leg_length_m", "tolerance_deg"}
_OPTIONAL_TEXT = {"target_tempo"}
#: the largest hip line elevation (``hip_line_offset_deg``, or measured from a hip-line segment)
#: taken for a tilted torso: beyond it the reference was not taken with the legs in line, °
HIP_LINE_MAX_DEG = 45.0

#: the valid range of every number setting, inclusive, and its unit (where 0 disables a flag,
#: the range starts at 0). A value outside says so with the range (:class:`SettingError`).
RANGES: dict[str, tuple[float, float, str]] = {
    "tolerance_deg": (-30.0, 60.0, "°"),
    "hip_line_offset_deg": (-HIP_LINE_MAX_DEG, HIP_LINE_MAX_DEG, "°"),
    "leg_length_m": (0.3, 1.5, "m"),
    "sensor_offset_m": (0.0, 0.15, "m"),
    "rest_threshold_s": (2.0, 600.0, "s"),
    "min_set_reps": (1, 100, ""),
    "min_rom_deg": (1.0, 90.0, "°"),
    "top_min_deg": (-120.0, 30.0, "°"),
    "partial_margin_deg": (0.0, 90.0, "°"),
    "hold_min_s": (0.0, 10.0, "s"),
    "rest_at_bottom_s": (0.0, 300.0, "s"),
    "drop_velocity_dps": (0.0, 3000.0, "°/s"),
    "coast_min_deg": (0.0, 90.0, "°"),
    "bounce_velocity_dps": (0.0, 3000.0, "°/s"),
    "bounce_window_s": (0.05, 2.0, "s"),
    "swing_through_deg": (0.0, 90.0, "°"),
    "tempo_tolerance_s": (0.0, 10.0, "s"),
    "smoothing_cutoff_hz": (0.2, 50.0, "Hz"),
    "moving_rate_dps": (0.5, 200.0, "°/s"),
    "max_bridge_s": (0.0, 10.0, "s"),
}


def _check_range(name: str, value: Any) -> None:
    """Raise :class:`SettingError` when a number setting lies outside :data:`RANGES`."""
    if name not in RANGES or value is None or not _is_number(value):
        return
    lo, hi, unit = RANGES[name]
    if not lo <= value <= hi:
        sep = "" if unit in ("°", "") else " "
        raise SettingError(name, f"{value:g}", f"expected {lo:g} to {hi:g}{sep}{unit}")


def _check_segment(segment_s: tuple[float, float]) -> None:
    """Raise :class:`ConfigError` unless ``hip_line_segment_s`` is finite and ends after it
    starts."""
    a, b = segment_s
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ConfigError("hip_line_segment_s: start and end must be finite numbers")
    if not b > a:
        raise ConfigError(f"hip_line_segment_s: end must be after start, got [{a:g}, {b:g}]")


def check_hip_line_reference(offset_deg: float, segment_s: tuple[float, float]) -> None:
    """A hip line measured from ``segment_s`` must be near horizontal (within
    :data:`HIP_LINE_MAX_DEG`): a reference taken with the legs hanging reads about −90°."""
    if abs(offset_deg) > HIP_LINE_MAX_DEG:
        a, b = segment_s
        raise ConfigError(
            f"the hip-line segment {a:g}–{b:g} s (--hip-line-segment): the legs were at "
            f"{offset_deg:+.0f}° from horizontal there, not in line with the body (a hip line is "
            f"within ±{HIP_LINE_MAX_DEG:g}°); choose the seconds where they were held straight "
            "out, or give the torso's tilt as hip_line_offset_deg (--hip-offset-deg)"
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _coerce(name: str, value: Any) -> Any:
    """Check one setting's type; numbers become ``float`` (whole-number fields stay ``int``).

    Raises :class:`ConfigError` naming the setting and the value it got.
    """
    default = _DEFAULTS[name]
    if name in _COERCE_BY_NAME:
        return _COERCE_BY_NAME[name](name, value)
    if name in _OPTIONAL_FLOATS or isinstance(default, float):
        return _coerce_float(name, value)
    if isinstance(default, int):
        return _coerce_whole(name, value)
    return _coerce_text(name, value)


def _coerce_fixed(name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(v in _DEFAULTS for v in value):
        raise ConfigError(f"{name}: expected setting names, got {value!r}")
    return tuple(value)


def _coerce_segment(name: str, value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(_is_number(v) for v in value)
    ):
        raise ConfigError(f"{name}: expected [start_s, end_s], got {value!r}")
    return (float(value[0]), float(value[1]))


#: the settings whose values are not a single number or text, and how each is checked
_COERCE_BY_NAME: dict[str, Callable[[str, Any], Any]] = {
    "fixed": _coerce_fixed,
    "hip_line_segment_s": _coerce_segment,
}


def _coerce_float(name: str, value: Any) -> float | None:
    if value is None and name in _OPTIONAL_FLOATS:
        return None
    if not _is_number(value):
        raise ConfigError(f"{name}: expected a number, got {value!r}")
    return float(value)


def _coerce_whole(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{name}: expected a whole number, got {value!r}")
    return int(value)


def _coerce_text(name: str, value: Any) -> str | None:
    if value is None and name in _OPTIONAL_TEXT:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{name}: expected text, got {value!r}")
    return value


def load_settings(
    *,
    exercise: str | None = None,
    config_path: str | os.PathLike[str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build settings: defaults ← exercise profile ← TOML file ← explicit overrides.

    The TOML file holds top-level keys named like the :class:`Settings` fields (``exercise`` may be
    one of them). Unknown keys are rejected with the list of valid ones.
    """
    file_values = _settings_file(Path(config_path)) if config_path is not None else {}
    explicit = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = sorted(set(explicit) - _FIELD_NAMES)
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}")
    explicit = {k: _coerce(k, v) for k, v in explicit.items()}
    name = exercise or explicit.get("exercise") or file_values.get("exercise") or AUTO
    if not isinstance(name, str) or name not in EXERCISES:
        raise ConfigError(f"unknown exercise {name!r}; choose one of {', '.join(EXERCISES)}")
    given = {**file_values, **explicit}
    given.pop("exercise", None)
    given.pop("fixed", None)
    profile = PROFILES.get(name, {})
    values: dict[str, Any] = {**profile, **given, "exercise": name, "fixed": tuple(sorted(given))}
    return Settings(**values)


def _settings_file(p: Path) -> dict[str, Any]:
    """The settings a TOML file gives, checked (:func:`_coerce`); raises :class:`ConfigError`
    naming the file."""
    raw = _read_toml(p)
    unknown = sorted(set(raw) - _FIELD_NAMES)
    if unknown:
        raise ConfigError(
            f"{p}: unknown setting(s) {', '.join(unknown)}; valid keys: "
            + ", ".join(sorted(_FIELD_NAMES))
        )
    try:
        file_values = {k: _coerce(k, v) for k, v in raw.items()}
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}") from None
    if "exercise" in file_values and file_values["exercise"] not in EXERCISES:
        raise ConfigError(
            f"{p}: unknown exercise {file_values['exercise']!r}; "
            f"choose one of {', '.join(EXERCISES)}"
        )
    return file_values


def _read_toml(p: Path) -> dict[str, Any]:
    """The TOML file ``p``; raises :class:`ConfigError` saying why it cannot be read."""
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such settings file") from None
    except IsADirectoryError:
        raise ConfigError(f"{p}: is a directory, not a settings file") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None


def profile_table() -> list[dict[str, Any]]:
    """Each profile's full settings (for docs and ``imu profiles``)."""
    return [load_settings(exercise=name).to_dict() for name in PROFILES]
