"""Settings: profiles, the TOML file, overrides, tempo strings, validation (all ConfigError)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from imu.errors import ConfigError, ImuError, SettingError
from imu.settings import (
    PROFILES,
    RANGES,
    Settings,
    Tempo,
    check_hip_line_reference,
    load_settings,
    parse_tempo,
    profile_table,
)


def write_toml(tmp_path: Path, text: str, name: str = "imu.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def one_line(exc: pytest.ExceptionInfo[ConfigError]) -> str:
    message = str(exc.value)
    assert "\n" not in message, message
    assert isinstance(exc.value, ImuError)
    return message


# --------------------------------------------------------------------------------------------
# profiles and defaults


def test_defaults_are_the_reverse_hyper_profile() -> None:
    s = load_settings()
    assert s == Settings()
    assert s.exercise == "auto"
    assert s.tolerance_deg == 5.0  # contracts §3: reverse hyper tolerance
    assert s.target_tempo is None and s.tempo is None
    assert s.hip_line_segment_s is None and s.leg_length_m is None


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_profile_loads_with_its_values(name: str) -> None:
    s = load_settings(exercise=name)
    assert s.exercise == name
    for key, value in PROFILES[name].items():
        assert getattr(s, key) == value, key
    untouched = {f.name for f in dataclasses.fields(Settings)} - set(PROFILES[name]) - {"exercise"}
    for key in untouched:
        assert getattr(s, key) == getattr(Settings(), key), key


def test_prone_leg_lift_profile_differs_where_it_should() -> None:
    s = load_settings(exercise="prone-leg-lift")
    assert s.tolerance_deg == 20.0
    assert s.min_rom_deg == 4.0
    assert s.rest_threshold_s == Settings().rest_threshold_s


def test_profile_table_lists_every_profile() -> None:
    table = profile_table()
    assert [row["exercise"] for row in table] == list(PROFILES)
    assert table[1]["tolerance_deg"] == PROFILES["prone-leg-lift"]["tolerance_deg"]


def test_invalid_exercise() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings(exercise="squat")
    message = one_line(exc)
    assert "'squat'" in message and "reverse-hyper" in message and "prone-leg-lift" in message
    with pytest.raises(ConfigError, match="unknown exercise 'squat'"):
        Settings(exercise="squat")


# --------------------------------------------------------------------------------------------
# the TOML file


def test_toml_config_is_applied(tmp_path: Path) -> None:
    path = write_toml(
        tmp_path,
        'tolerance_deg = 8\nrest_threshold_s = 30.5\nmin_set_reps = 4\ntarget_tempo = "3-0-2-1"\n'
        'shank_axis = "-y"\nhip_line_segment_s = [2, 4.5]\nleg_length_m = 0.85\n',
    )
    s = load_settings(config_path=path)
    assert s.tolerance_deg == 8.0 and isinstance(s.tolerance_deg, float)
    assert s.rest_threshold_s == 30.5
    assert s.min_set_reps == 4 and isinstance(s.min_set_reps, int)
    assert s.target_tempo == "3-0-2-1" and s.tempo == Tempo(3, 0, 2, 1)
    assert s.shank_axis == "-y"
    assert s.hip_line_segment_s == (2.0, 4.5)
    assert s.leg_length_m == 0.85
    assert s.exercise == "auto"


def test_toml_may_choose_the_exercise(tmp_path: Path) -> None:
    s = load_settings(config_path=write_toml(tmp_path, 'exercise = "prone-leg-lift"\n'))
    assert s.exercise == "prone-leg-lift" and s.tolerance_deg == 20.0


def test_toml_unknown_keys_are_rejected_by_name(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "tolerance_deg = 5\ntolerence_deg = 6\nspeed = 1\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(config_path=path)
    message = one_line(exc)
    assert message.startswith(f"{path}: unknown setting(s) speed, tolerence_deg;")
    assert "tolerance_deg" in message.split("valid keys:")[1]


def test_toml_sections_are_unknown_keys(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "[analysis]\ntolerance_deg = 5\n")
    with pytest.raises(ConfigError, match=r"unknown setting.*analysis"):
        load_settings(config_path=path)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('tolerance_deg = "five"', ["tolerance_deg", "expected a number", "'five'"]),
        ("tolerance_deg = true", ["tolerance_deg", "expected a number", "True"]),
        ("min_set_reps = 2.5", ["min_set_reps", "whole number", "2.5"]),
        ("min_set_reps = true", ["min_set_reps", "whole number"]),
        ("target_tempo = 3021", ["target_tempo", "expected text", "3021"]),
        ("shank_axis = 1", ["shank_axis", "expected text"]),
        ('hip_line_segment_s = "3-6"', ["hip_line_segment_s", "[start_s, end_s]"]),
        ("hip_line_segment_s = [1, 2, 3]", ["hip_line_segment_s", "[start_s, end_s]"]),
        ("hip_line_segment_s = [true, 3]", ["hip_line_segment_s", "[start_s, end_s]"]),
        ('leg_length_m = "90 cm"', ["leg_length_m", "expected a number"]),
        ("rest_threshold_s = {a = 1}", ["rest_threshold_s", "expected a number"]),
    ],
)
def test_toml_wrong_types_are_rejected(tmp_path: Path, line: str, words: list[str]) -> None:
    path = write_toml(tmp_path, line + "\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(config_path=path)
    message = one_line(exc)
    assert message.startswith(f"{path}: "), message
    for word in words:
        assert word in message, (word, message)


def test_toml_invalid_values_are_rejected(tmp_path: Path) -> None:
    cases = {
        'exercise = "squat"': "unknown exercise 'squat'",
        'shank_axis = "up"': "shank_axis 'up'",
        'target_tempo = "3-0-2"': "expected four numbers",
        "leg_length_m = 3.0": "leg_length_m 3: expected 0.3 to 1.5 m",
        "min_set_reps = 0": "min_set_reps 0: expected 1 to 100",
        "hold_min_s = -0.5": "hold_min_s -0.5: expected 0 to 10 s",
        "smoothing_cutoff_hz = 0": "smoothing_cutoff_hz",
        "tolerance_deg = nan": "tolerance_deg: must be a finite number",
        "hip_line_segment_s = [6, 3]": "end must be after start",
    }
    for line, expected in cases.items():
        with pytest.raises(ConfigError) as exc:
            load_settings(config_path=write_toml(tmp_path, line + "\n"))
        assert expected in one_line(exc), (line, str(exc.value))


def test_toml_file_problems(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such settings file"):
        load_settings(config_path=tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_settings(config_path=tmp_path)
    with pytest.raises(ConfigError, match="not valid TOML") as exc:
        load_settings(config_path=write_toml(tmp_path, "tolerance_deg = = 5\n"))
    one_line(exc)
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes("# réglages\ntolerance_deg = 5\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(config_path=latin1)


# --------------------------------------------------------------------------------------------
# precedence


def test_precedence_defaults_profile_file_overrides(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "tolerance_deg = 12\nmin_rom_deg = 6\nhold_min_s = 0.4\n")
    s = load_settings(
        exercise="prone-leg-lift",
        config_path=path,
        overrides={"hold_min_s": 0.1, "rest_threshold_s": None},
    )
    assert s.exercise == "prone-leg-lift"
    assert s.rest_threshold_s == Settings().rest_threshold_s  # default (override None = unset)
    assert s.top_min_deg == PROFILES["prone-leg-lift"]["top_min_deg"]  # profile over default
    assert s.tolerance_deg == 12.0 and s.min_rom_deg == 6.0  # file over profile
    assert s.hold_min_s == 0.1  # override over file


def test_exercise_argument_wins_over_file_and_overrides(tmp_path: Path) -> None:
    path = write_toml(tmp_path, 'exercise = "reverse-hyper"\n')
    s = load_settings(exercise="prone-leg-lift", config_path=path)
    assert s.exercise == "prone-leg-lift" and s.tolerance_deg == 20.0
    s = load_settings(config_path=path, overrides={"exercise": "prone-leg-lift"})
    assert s.exercise == "prone-leg-lift" and s.tolerance_deg == 20.0


def test_overrides_are_checked_like_the_file() -> None:
    with pytest.raises(ConfigError, match=r"unknown setting.*speed"):
        load_settings(overrides={"speed": 2})
    with pytest.raises(ConfigError, match="rest_threshold_s: expected a number, got 'abc'"):
        load_settings(overrides={"rest_threshold_s": "abc"})
    s = load_settings(overrides={"rest_threshold_s": 20, "hip_line_segment_s": [1, 2]})
    assert s.rest_threshold_s == 20.0 and isinstance(s.rest_threshold_s, float)
    assert s.hip_line_segment_s == (1.0, 2.0)


# --------------------------------------------------------------------------------------------
# tempo strings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3-0-2-1", (3.0, 0.0, 2.0, 1.0)),
        (" 4 - 1 - 1.5 - 0 ", (4.0, 1.0, 1.5, 0.0)),
        ("3:1:X:0", (3.0, 1.0, 0.0, 0.0)),
        ("2-x-X-2", (2.0, 0.0, 0.0, 2.0)),
        ("60-0-.5-10", (60.0, 0.0, 0.5, 10.0)),
    ],
)
def test_tempo_parsing_valid(text: str, expected: tuple[float, ...]) -> None:
    tempo = parse_tempo(text)
    assert tempo.as_tuple() == expected
    assert (
        tempo.eccentric_s,
        tempo.bottom_pause_s,
        tempo.concentric_s,
        tempo.top_hold_s,
    ) == expected


def test_tempo_string_form() -> None:
    assert str(parse_tempo("3-0-2-1")) == "3-0-2-1"
    assert str(parse_tempo("3-X-1.5-0")) == "3-0-1.5-0"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("3-0-2", ["expected four numbers"]),
        ("3-0-2-1-0", ["expected four numbers"]),
        ("", ["expected four numbers"]),
        ("-1-0-2-1", ["negative"]),
        ("3--1-2-1", ["negative"]),
        ("3-0-2-abc", ["'abc'", "not a number"]),
        ("3-0-2-nan", ["'nan'", "not a number"]),
        ("3-0-2-inf", ["'inf'", "not a number"]),
        ("1_0-0-2-1", ["'1_0'", "not a number"]),
        ("3-0-2-1e1", ["'1e1'", "not a number"]),
        ("3-0-61-1", ["'61'", "between 0 and 60"]),
        ("3-0--2", ["negative"]),
    ],
)
def test_tempo_parsing_invalid(text: str, words: list[str]) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_tempo(text)
    message = one_line(exc)
    assert message.startswith(f"tempo {text!r}: "), message
    for word in words:
        assert word in message, (word, message)


def test_invalid_tempo_in_settings_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="tempo '3-0-2'"):
        Settings(target_tempo="3-0-2")
    with pytest.raises(ConfigError, match="tempo '3-0-2'"):
        load_settings(overrides={"target_tempo": "3-0-2"})


# --------------------------------------------------------------------------------------------
# Settings validation


def test_hip_line_segment() -> None:
    assert Settings(hip_line_segment_s=(3, 6.5)).hip_line_segment_s == (3.0, 6.5)
    listed = Settings(hip_line_segment_s=[1, 2])  # type: ignore[arg-type]
    assert listed.hip_line_segment_s == (1.0, 2.0)
    hash(listed)  # frozen and hashable, even when given a list
    for bad, expected in [
        ((6.0, 3.0), "end must be after start"),
        ((3.0, 3.0), "end must be after start"),
        ((0.0, math.inf), "finite"),
        ((math.nan, 1.0), "finite"),
        ((1.0,), r"\[start_s, end_s\]"),
        ("3-6", r"\[start_s, end_s\]"),
        ((True, 2.0), r"\[start_s, end_s\]"),
    ]:
        with pytest.raises(ConfigError, match=expected):
            Settings(hip_line_segment_s=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("tolerance_deg", "5", "tolerance_deg: expected a number, got '5'"),
        ("tolerance_deg", "high", "tolerance_deg: expected a number"),
        ("rest_threshold_s", True, "rest_threshold_s: expected a number"),
        ("min_set_reps", 2.5, "min_set_reps: expected a whole number"),
        ("target_tempo", 3021, "target_tempo: expected text"),
        ("exercise", None, "exercise: expected text"),
        ("shank_axis", "up", "shank_axis 'up'"),
        ("leg_length_m", 0.1, "leg_length_m 0.1: expected 0.3 to 1.5 m"),
        ("leg_length_m", "0.9", "leg_length_m: expected a number"),
        ("rest_threshold_s", -1.0, "rest_threshold_s -1: expected 2 to 600 s"),
        ("hold_min_s", -0.1, "hold_min_s -0.1: expected 0 to 10 s"),
        ("tempo_tolerance_s", -0.5, "tempo_tolerance_s -0.5: expected 0 to 10 s"),
        ("max_bridge_s", math.inf, "max_bridge_s: must be a finite number"),
        ("hip_line_offset_deg", math.nan, "hip_line_offset_deg: must be a finite number"),
        ("min_set_reps", 0, "min_set_reps 0: expected 1 to 100"),
        ("smoothing_cutoff_hz", 0.0, "smoothing_cutoff_hz 0: expected 0.2 to 50 Hz"),
        ("moving_rate_dps", -1.0, "moving_rate_dps -1: expected 0.5 to 200 °/s"),
    ],
)
def test_settings_validation_errors_are_config_errors(
    field: str, value: object, expected: str
) -> None:
    with pytest.raises(ConfigError) as exc:
        Settings(**{field: value})  # type: ignore[arg-type]
    assert expected in one_line(exc)


def test_settings_accept_whole_numbers_as_floats_and_allow_zero_to_disable() -> None:
    s = Settings(tolerance_deg=7, hold_min_s=0, rest_at_bottom_s=0, drop_velocity_dps=0)
    assert s.tolerance_deg == 7.0 and type(s.tolerance_deg) is float
    assert s.hold_min_s == 0.0
    assert Settings(tolerance_deg=-10.0).tolerance_deg == -10.0  # a signed angle: may be negative
    assert Settings(top_min_deg=-60.0, hip_line_offset_deg=-15.0).top_min_deg == -60.0


def test_settings_to_dict_and_replace() -> None:
    s = load_settings(exercise="prone-leg-lift", overrides={"target_tempo": "2-1-1-1"})
    d = s.to_dict()
    assert d["exercise"] == "prone-leg-lift" and d["target_tempo"] == "2-1-1-1"
    assert set(d) == {f.name for f in dataclasses.fields(Settings)}
    assert Settings(**d) == s
    with pytest.raises(ConfigError, match=r"bounce_window_s -1: expected 0\.05 to 2 s"):
        dataclasses.replace(s, bounce_window_s=-1.0)


def test_every_number_setting_has_a_range_and_every_profile_lies_within_it() -> None:
    numbers = {
        f.name
        for f in dataclasses.fields(Settings)
        if isinstance(f.default, int | float) or f.name == "leg_length_m"
    }
    assert numbers == set(RANGES)
    for name in PROFILES:
        load_settings(exercise=name)  # raises if a profile's value is out of range


@pytest.mark.parametrize("name", sorted(RANGES))
def test_each_range_is_enforced_at_both_ends(name: str) -> None:
    lo, hi, unit = RANGES[name]
    Settings(**{name: lo})  # type: ignore[arg-type]
    Settings(**{name: hi})  # type: ignore[arg-type]
    for bad in (lo - 1, hi * 2 + 1):
        with pytest.raises(SettingError) as exc:
            Settings(**{name: bad})  # type: ignore[arg-type]
        assert exc.value.setting == name
        assert f"expected {lo:g} to {hi:g}" in str(exc.value) and unit in str(exc.value)


def test_smoothing_cutoff_must_stay_below_nyquist() -> None:
    s = Settings(smoothing_cutoff_hz=13.0)
    s.check_sampling_rate(100.0)
    with pytest.raises(SettingError, match=r"must be below the Nyquist rate, 12\.5 Hz"):
        s.check_sampling_rate(25.0)


def test_hip_line_reference_must_be_near_horizontal() -> None:
    check_hip_line_reference(-20.0, (3.0, 6.0))
    with pytest.raises(ConfigError, match=r"the legs were at -88° from horizontal"):
        check_hip_line_reference(-88.0, (3.0, 6.0))
