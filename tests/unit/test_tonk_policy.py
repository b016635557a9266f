"""Policy files: the shipped ones load, bad ones are refused with file:line:field, selection by date."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
from test_tonk_support import POLICIES

from common.errors import ConfigError
from tonk_bot.policy import load_policies, load_policy, select_policy

SHIPPED = ["dronten-2021-q3.yaml", "dalfsen-2021.yaml", "elburg-2021.yaml"]

MINIMAL = """\
id: test-tonk
version: 1
municipality: teststad
title: "TONK Teststad"
valid: {from: 2021-01-01, to: 2021-12-31}
period: {from: 2021-01-01, to: 2021-09-30}
deadline: 2021-10-31
reference_months: {old: 2020-01, new: 2021-07}
income_drop:
  min_drop: "0.30"
housing_costs:
  count: [huur, energie]
  subtract_huurtoeslag: true
amount:
  method: housing_costs_minus_draagkracht
  draagkracht: {share: "0.40", of: income}
  max_per_month: "800.00"
assumptions: []
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_policies_load_with_their_checksum(name: str) -> None:
    path = POLICIES / name
    policy = load_policy(path)
    assert policy.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert policy.assumptions, "every shipped policy states its assumptions"


def test_the_folder_holds_exactly_the_three_shipped_policies() -> None:
    assert sorted(p.id for p in load_policies(POLICIES)) == ["dalfsen-tonk-2021", "dronten-tonk-2021-q3",
                                                             "elburg-tonk-2021"]


@pytest.mark.parametrize("received", [date(2021, 8, 1), date(2021, 9, 15), date(2021, 10, 31)])
def test_dronten_is_in_force_for_the_demo_window(received: date) -> None:
    policy = select_policy(load_policies(POLICIES), received, "dronten")
    assert policy is not None and policy.id == "dronten-tonk-2021-q3"


def test_dronten_is_not_in_force_before_august() -> None:
    assert select_policy(load_policies(POLICIES), date(2021, 7, 31), "dronten") is None


def test_several_municipalities_in_force_need_the_municipality_option() -> None:
    with pytest.raises(ConfigError) as caught:
        select_policy(load_policies(POLICIES), date(2021, 8, 12))
    assert caught.value.code == "policy.ambiguous"
    assert "municipality" in caught.value.message and "dronten" in caught.value.message


def test_one_policy_in_force_needs_no_municipality(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", MINIMAL)
    policy = select_policy(load_policies(tmp_path), date(2021, 3, 1))
    assert policy is not None and policy.municipality == "teststad"


def test_municipality_is_matched_case_insensitively() -> None:
    policy = select_policy(load_policies(POLICIES), date(2021, 8, 12), " Elburg ")
    assert policy is not None and policy.id == "elburg-tonk-2021"


def test_the_highest_version_of_a_policy_wins(tmp_path: Path) -> None:
    write(tmp_path, "v1.yaml", MINIMAL)
    write(tmp_path, "v2.yaml", MINIMAL.replace("version: 1", "version: 2"))
    policy = select_policy(load_policies(tmp_path), date(2021, 3, 1), "teststad")
    assert policy is not None and policy.version == 2 and policy.path == tmp_path / "v2.yaml"


def test_two_policy_ids_of_one_municipality_in_force_is_a_configuration_error(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", MINIMAL)
    write(tmp_path, "b.yaml", MINIMAL.replace("id: test-tonk", "id: test-tonk-bis"))
    with pytest.raises(ConfigError, match="one municipality"):
        select_policy(load_policies(tmp_path), date(2021, 3, 1), "teststad")


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_same_id_and_version_twice_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", MINIMAL)
    write(tmp_path, "b.yaml", MINIMAL)
    with pytest.raises(ConfigError, match="version 1 is also in"):
        load_policies(tmp_path)


@pytest.mark.parametrize(("change", "where"), [
    # (replace this, with that) -> the error names the line and field
    (('min_drop: "0.30"', "min_drop: 0.30"), ":10: income_drop.min_drop: write a share as a quoted"),
    (('min_drop: "0.30"', 'min_drop: "30"'), ":10: income_drop.min_drop: share '30' is more than 1"),
    (('max_per_month: "800.00"', 'max_per_month: "800,00"'), ":17: amount.max_per_month: amount"),
    (("count: [huur, energie]", "count: [huur, gas]"), ":12: housing_costs.count[1]: Input should be"),
    (("assumptions: []", "assumptions: []\nrefuse_when: \"voldoet niet\""), ":19: refuse_when: Extra inputs"),
    (("method: housing_costs_minus_draagkracht", "method: eval('800')"), ":15: amount.method: Input should be"),
    (("deadline: 2021-10-31", "deadline: 2020-10-31"), ":1: (top level): deadline is before"),
    (("period: {from: 2021-01-01, to: 2021-09-30}", "period: {from: 2021-01-02, to: 2021-09-30}"),
     ":6: period: period.from must be the first day of a month"),
    (("of: income}", "of: income_above_norm}"), ":16: amount.draagkracht: of: income_above_norm needs"),
    # an impossible date is the model's error with its line, not a crash of the YAML parser
    (("deadline: 2021-10-31", "deadline: 2021-02-31"),
     ":7: deadline: Input should be a valid date or datetime, day value is outside expected range"),
])
def test_invalid_policies_name_file_line_and_field(tmp_path: Path, change: tuple[str, str], where: str) -> None:
    path = write(tmp_path, "bad.yaml", MINIMAL.replace(*change))
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    assert f"{path}{where}" in caught.value.message, caught.value.message


def test_a_policy_without_any_criterion_is_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace('income_drop:\n  min_drop: "0.30"\n', "")
    with pytest.raises(ConfigError, match="no criterion"):
        load_policy(write(tmp_path, "none.yaml", text))


def test_income_bands_must_end_open_and_increase(tmp_path: Path) -> None:
    text = MINIMAL.replace('  min_drop: "0.30"', '  bands:\n    - {up_to: "3000.00", min_drop: "0.25"}\n'
                                                  '    - {up_to: "2000.00", min_drop: "0.20"}')
    with pytest.raises(ConfigError, match="last band has no up_to"):
        load_policy(write(tmp_path, "bands.yaml", text))


def test_norms_must_cover_every_household(tmp_path: Path) -> None:
    text = MINIMAL.replace("draagkracht: {share: \"0.40\", of: income}",
                           "draagkracht: {share: \"0.50\", of: income_above_norm, norms: {alleenstaand: \"1078.70\"}}")
    with pytest.raises(ConfigError, match="missing: alleenstaande ouder, gehuwd of samenwonend"):
        load_policy(write(tmp_path, "norms.yaml", text))


def test_an_unreadable_policy_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_policy(tmp_path / "missing.yaml")
    assert caught.value.code == "config.unreadable"
    with pytest.raises(ConfigError) as caught:
        load_policy(write(tmp_path, "broken.yaml", "id: [unclosed\n"))
    assert caught.value.code == "config.invalid_yaml"
    with pytest.raises(ConfigError) as caught:  # saved as Latin-1 by an editor
        load_policy(write_bytes(tmp_path / "latin1.yaml", 'title: "TONK Dalfsen ñ"\n'.encode("latin-1")))
    assert caught.value.code == "config.unreadable"
    assert "latin1.yaml: not UTF-8 text (byte 21 is b'\\xf1'); save the file as UTF-8" in caught.value.message


def test_yaml_tags_that_would_run_code_are_refused(tmp_path: Path) -> None:
    # safe_load only: a python tag is a YAML error, not a call
    path = write(tmp_path, "evil.yaml", MINIMAL.replace('title: "TONK Teststad"',
                                                        "title: !!python/object/apply:os.system ['true']"))
    with pytest.raises(ConfigError):
        load_policy(path)


def test_a_missing_policy_folder_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="policy folder not found"):
        load_policies(tmp_path / "nope")


def test_config_check_refuses_a_municipality_without_a_policy_and_a_missing_folder(tmp_path: Path) -> None:
    from tonk_bot.options import check_tonk_options

    shipped = Path(__file__).resolve().parents[2] / "config" / "policies"
    assert check_tonk_options({"municipality": "Dronten", "policies_dir": str(shipped)}).municipality == "Dronten"
    with pytest.raises(ConfigError) as caught:
        check_tonk_options({"municipality": "amsterdam", "policies_dir": str(shipped)})
    assert caught.value.message == (f"bots.tonk.options.municipality: no policy of 'amsterdam' in {shipped} "
                                    "(policies for: dalfsen, dronten, elburg)")
    with pytest.raises(ConfigError, match="policy folder not found"):
        check_tonk_options({"policies_dir": str(tmp_path / "nope")})
