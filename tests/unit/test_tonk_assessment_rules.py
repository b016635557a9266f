"""What the policy format can express beyond the shipped three: asset limits per household, a minimum
housing cost, huurtoeslag not subtracted, fixed amounts in bands of the housing-cost ratio; and the
note text. Each policy is written here as a file, as a policy officer would."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tonk_support import RECEIVED, application, documents, run

from tonk_bot.assessment import Assessment, render_note
from tonk_bot.intake import evaluate
from tonk_bot.policy import Policy, load_policy

OTHER = """\
id: andere-tonk-2021
version: 3
municipality: anderstad
title: "TONK Anderstad 2021"
valid: {from: 2021-01-01, to: 2021-12-31}
period: {from: 2021-01-01, to: 2021-09-30}
deadline: 2021-10-31
reference_months: {old: 2020-01, new: 2021-07}
housing_costs:
  count: [huur, hypotheekrente, energie, water]
  subtract_huurtoeslag: false
  min_amount: "300.00"
assets:
  limits:
    alleenstaand: "6295.00"
    alleenstaande ouder: "12590.00"
    gehuwd of samenwonend: "12590.00"
amount:
  method: fixed_by_ratio
  ratio_bands:
    - {from_ratio: "0.40", amount: "200.00"}
    - {from_ratio: "0.50", amount: "300.00"}
    - {from_ratio: "0.60", amount: "450.00"}
  max_per_month: "400.00"
assumptions:
  - "Voorbeeld voor de tests."
"""


@pytest.fixture
def other(tmp_path: Path) -> Policy:
    path = tmp_path / "andere.yaml"
    path.write_text(OTHER, encoding="utf-8")
    return load_policy(path)


def judge(policy: Policy, overrides: dict[str, str | None], partner: bool = False) -> Assessment:
    result = evaluate(application(overrides, partner=partner), documents(partner=partner), RECEIVED, policy)
    assert result.findings == []
    assert result.assessment is not None
    return result.assessment


@pytest.mark.parametrize(("overrides", "holds", "outcome"), [
    # single: 6295.00 <= 6295.00 holds (the limit itself is allowed)
    ({"vermogen": "€ 6.295,00"}, True, "voldoet"),
    # single: 6295.01 > 6295.00
    ({"vermogen": "6295,01"}, False, "voldoet niet"),
    # no assets given: cannot be judged -> onbekend
    ({"vermogen": None}, None, "onbekend"),
    # "geen" in an optional amount means not filled in -> also onbekend
    ({"vermogen": "geen"}, None, "onbekend"),
])
def test_asset_limit_per_household(other: Policy, overrides: dict[str, str | None], holds: bool | None,
                                   outcome: str) -> None:
    a = judge(other, {"huur": "700", **overrides})
    assert {c.code: c.holds for c in a.criteria}["assets"] is holds
    assert a.outcome == outcome


def test_asset_limit_of_a_couple(other: Policy) -> None:
    # couple: 12590.00 <= 12590.00 holds, where a single would fail
    a = judge(other, {"huur": "700", "vermogen": "12.590"}, partner=True)
    assets = next(c for c in a.criteria if c.code == "assets")
    assert (assets.holds, assets.figures) == (True, {"vermogen": "12590.00", "grens": "12590.00"})


@pytest.mark.parametrize(("huur", "holds"), [("300", True), ("299,99", False)])
def test_minimum_absolute_housing_cost(other: Policy, huur: str, holds: bool) -> None:
    # min_amount 300.00: woonkosten 300.00 holds, 299.99 does not
    a = judge(other, {"huur": huur, "vermogen": "0"})
    assert {c.code: c.holds for c in a.criteria}["housing_cost_minimum"] is holds


def test_huurtoeslag_not_subtracted(other: Policy) -> None:
    # subtract_huurtoeslag false: woonkosten = huur 700 (+ nothing), huurtoeslag 200 ignored
    a = judge(other, {"huur": "700", "huurtoeslag": "200", "vermogen": "0"})
    assert f"{a.woonkosten:.2f}" == "700.00"


@pytest.mark.parametrize(("huur", "per_month"), [
    # new income 1400: ratio bands at 0.40*1400 = 560, 0.50*1400 = 700, 0.60*1400 = 840
    ("559,99", "0.00"),     # below the first band
    ("560", "200.00"),      # exactly 40 %: the band starts here (inclusive)
    ("699,99", "200.00"),
    ("700", "300.00"),      # exactly 50 %
    ("840", "400.00"),      # 60 % band gives 450.00, capped at max_per_month 400.00
])
def test_fixed_amounts_in_bands_of_the_housing_cost_ratio(other: Policy, huur: str, per_month: str) -> None:
    a = judge(other, {"huur": huur, "vermogen": "0"})
    assert f"{a.amount_per_month:.2f}" == per_month
    assert a.draagkracht is None


def test_fixed_bands_with_new_income_zero_reach_the_top_band(other: Policy) -> None:
    # woonkosten / 0 reaches every band: 450.00 -> capped 400.00
    a = judge(other, {"huur": "350", "vermogen": "0", "inkomen_peilmaand_nieuw": "0"})
    assert f"{a.amount_per_month:.2f}" == "400.00"


def test_policy_reference_carries_id_version_and_checksum(other: Policy) -> None:
    a = judge(other, {"huur": "700", "vermogen": "0"})
    assert (a.policy.id, a.policy.version, a.policy.file) == ("andere-tonk-2021", 3, "andere.yaml")
    assert a.policy.sha256 == other.sha256 and len(other.sha256) == 64


def test_the_note_names_outcome_criteria_amounts_policy_and_assumptions() -> None:
    # Dronten base application: 2000 -> 1400, huur 650; 650 - 560 = 90.00 x 1 (juli; juni left out)
    result = run("dronten-2021-q3.yaml", {"maanden": "juni, juli"})
    assert result.assessment is not None
    note = render_note(result.assessment)
    assert result.note() == note
    assert note.splitlines()[:3] == [
        "Beoordeling robot (advies, geen besluit)",
        "Uitkomst: voldoet",
        f"Beleid: TONK Dronten juli-september 2021 (dronten-tonk-2021-q3, versie 1, sha256 "
        f"{result.assessment.policy.sha256})",
    ]
    assert ("- Inkomensdaling januari 2020 - juli 2021 ten minste 30 %: voldoet. Inkomen januari 2020 "
            "€ 2.000,00, juli 2021 € 1.400,00: daling € 600,00 (30,00 %).") in note
    assert ("- Woonkosten ten minste 40 % van het netto inkomen juli 2021: voldoet. Woonkosten € 650,00 = "
            "46,43 % van € 1.400,00.") in note
    assert "Berekend bedrag bij toekenning: € 90,00 per maand x 1 maand(en) (juli 2021) = € 90,00" in note
    assert "Niet meegeteld (buiten de periode van de regeling): juni" in note
    assert "Aanname 1: huurtoeslag wordt van de huur afgetrokken" in note
    assert note.endswith("een medewerker beslist.")


def test_the_note_explains_a_capped_amount() -> None:
    # new 0: 845 - 0 = 845 is more than 800
    result = run("dronten-2021-q3.yaml", {"inkomen_peilmaand_oud": "1800", "inkomen_peilmaand_nieuw": "0",
                                          "huur": "845"})
    assert result.assessment is not None
    assert "€ 845,00 is meer dan het maximum € 800,00 per maand" in render_note(result.assessment)


def test_assessment_json_has_amounts_as_strings_with_a_dot() -> None:
    result = run("dronten-2021-q3.yaml")
    assert result.assessment is not None
    data = result.assessment.model_dump(mode="json")
    assert (data["amount_per_month"], data["amount_total"], data["woonkosten"]) == ("90.00", "270.00", "650.00")
    assert data["outcome"] == "voldoet"
    assert data["months_counted"] == ["2021-07", "2021-08", "2021-09"]


def test_the_calculation_shows_the_norm_and_the_draagkracht() -> None:
    # Elburg, single: 1500 - 1078.70 = 421.30; x 0.50 = 210.65; 800 - 210.65 = 589.35
    result = run("elburg-2021.yaml", {"inkomen_peilmaand_nieuw": "1500", "huur": "800"})
    assert result.assessment is not None
    assert result.assessment.calculation == (
        "woonkosten € 800,00 - draagkracht € 210,65 (50 % van het inkomen boven de norm: € 1.500,00 - "
        "€ 1.078,70 = € 421,30) = € 589,35")
