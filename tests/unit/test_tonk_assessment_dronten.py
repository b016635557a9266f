"""Worked examples for config/policies/dronten-2021-q3.yaml, computed by hand.

Dronten (tonk-policy.md): drop (old - new) / old >= 30 %; woonkosten / new >= 40 % (new 0
satisfies it); woonkosten = huur - huurtoeslag + hypotheekrente + hypotheekaflossing +
energie + water; amount = min(800, woonkosten - 0.40 * new), not below 0, half up to
cents; total = amount x requested months in July-September 2021; deadline 2021-10-31.
"""

from __future__ import annotations

from datetime import date

import pytest
from test_tonk_support import codes, run

POLICY = "dronten-2021-q3.yaml"


def amounts(old: str, new: str, **costs: str) -> dict[str, str | None]:
    """The income fields and the housing costs given; every other housing cost left out."""
    fields: dict[str, str | None] = {"inkomen_peilmaand_oud": old, "inkomen_peilmaand_nieuw": new, "huur": None}
    fields.update(costs)
    return fields


@pytest.mark.parametrize(("fields", "outcome", "drop_holds", "share_holds", "per_month", "total"), [
    # 1. drop exactly 30 %: 600 >= 0.30*2000 = 600 holds; 650 >= 0.40*1400 = 560 holds;
    #    650 - 560 = 90.00; x 3 months = 270.00
    (amounts("2000", "1400", huur="650"), "voldoet", True, True, "90.00", "270.00"),
    # 2. drop just under 30 %: 2000 - 1401 = 599 < 600; amount is still computed:
    #    650 - 0.40*1401 = 650 - 560.40 = 89.60; x 3 = 268.80
    (amounts("2000", "1401", huur="650"), "voldoet niet", False, True, "89.60", "268.80"),
    # 3. woonkosten exactly 40 %: 600 >= 0.40*1500 = 600 holds; drop 1500/3000 = 50 %;
    #    600 - 600 = 0.00; total 0.00
    (amounts("3000", "1500", huur="600"), "voldoet", True, True, "0.00", "0.00"),
    # 4. woonkosten just under 40 %: 599.99 < 600; 599.99 - 600 = -0.01 -> never negative: 0.00
    (amounts("3000", "1500", huur="599,99"), "voldoet niet", True, False, "0.00", "0.00"),
    # 5. new income 0: drop 100 %; share holds (new 0); 845 - 0 = 845 > 800 -> 800.00; x 3 = 2400.00
    (amounts("1800", "0", huur="845"), "voldoet", True, True, "800.00", "2400.00"),
    # 6. old income 0: drop cannot be computed -> onbekend; share holds (new 0); 700 - 0 = 700.00; x 3
    (amounts("0", "0", huur="700"), "onbekend", None, True, "700.00", "2100.00"),
    # 7. above the maximum: woonkosten 1150 - 150 + 200 + 30 = 1230; 1230 - 0.40*1000 = 830 -> 800.00
    (amounts("4000", "1000", huur="1.150,00", huurtoeslag="150", energie="200", water="30"),
     "voldoet", True, True, "800.00", "2400.00"),
    # 8. huurtoeslag subtracted: 900 - 200 + 150.50 + 25.25 = 875.75; 875.75 - 480 = 395.75; x 3 = 1187.25
    (amounts("2500", "1200", huur="900", huurtoeslag="200", energie="150,50", water="25.25"),
     "voldoet", True, True, "395.75", "1187.25"),
    # 9. half up to cents: draagkracht 0.40*1234.56 = 493.824 -> 493.82; 900 - 493.82 = 406.18;
    #    drop 765.44/2000 = 38.3 %; x 3 = 1218.54
    (amounts("2000", "1234,56", hypotheekrente="900"), "voldoet", True, True, "406.18", "1218.54"),
    # 10. income rose: drop (1000 - 1200)/1000 = -20 %; 700 - 480 = 220.00
    (amounts("1000", "1200", huur="700"), "voldoet niet", False, True, "220.00", "660.00"),
    # 11. mortgage owner: 450 + 200 + 180 + 30 = 860; drop 2000/3500 = 57 %; 860 - 600 = 260.00
    (amounts("3500", "1500", hypotheekrente="450", hypotheekaflossing="200", energie="180", water="30"),
     "voldoet", True, True, "260.00", "780.00"),
    # 12. huurtoeslag above the rent: rent counts as 0, not -50; woonkosten = 0 + 100 = 100;
    #     100 >= 0.40*200 = 80 holds; 100 - 80 = 20.00
    (amounts("1000", "200", huur="300", huurtoeslag="350", energie="100"), "voldoet", True, True, "20.00", "60.00"),
])
def test_dronten_worked_examples(fields: dict[str, str | None], outcome: str, drop_holds: bool | None,
                                 share_holds: bool, per_month: str, total: str) -> None:
    result = run(POLICY, fields)
    assert result.findings == []
    a = result.assessment
    assert a is not None
    assert a.outcome == outcome
    assert {c.code: c.holds for c in a.criteria} == {"income_drop": drop_holds, "housing_cost_share": share_holds}
    assert (f"{a.amount_per_month:.2f}", f"{a.amount_total:.2f}") == (per_month, total)


def test_dronten_exactly_30_percent_figures() -> None:
    # 2000 -> 1400: daling 600.00 = 30.00 %; woonkosten 650 = 46.43 % of 1400 (650/1400 = 0.464285...)
    a = run(POLICY, amounts("2000", "1400", huur="650")).assessment
    assert a is not None
    drop, share = a.criteria
    assert drop.figures == {"inkomen_oud": "2000.00", "inkomen_nieuw": "1400.00", "daling": "600.00",
                            "vereiste_daling_pct": "30.00", "daling_pct": "30.00"}
    assert share.figures == {"woonkosten": "650.00", "inkomen_nieuw": "1400.00", "vereist_pct": "40.00",
                             "grens": "560.00", "woonkosten_pct": "46.43"}
    assert (f"{a.woonkosten:.2f}", f"{a.draagkracht:.2f}") == ("650.00", "560.00")


def test_dronten_months_outside_the_period_are_left_out() -> None:
    # juni and oktober lie outside July-September 2021: 90.00 x 1 (juli) = 90.00
    result = run(POLICY, {**amounts("2000", "1400", huur="650"), "maanden": "juni, juli, oktober"})
    assert result.findings == []
    a = result.assessment
    assert a is not None
    assert a.months_counted == ["2021-07"]
    assert a.months_left_out == ["juni", "oktober"]
    assert f"{a.amount_total:.2f}" == "90.00"


def test_dronten_no_month_inside_the_period_is_a_finding_and_total_zero() -> None:
    result = run(POLICY, {**amounts("2000", "1400", huur="650"), "maanden": "januari t/m juni"})
    assert codes(result) == [("months_outside_period", "maanden")]
    a = result.assessment
    assert a is not None
    assert (f"{a.amount_per_month:.2f}", f"{a.amount_total:.2f}") == ("90.00", "0.00")


def test_dronten_after_the_deadline_is_a_finding_but_still_assessed() -> None:
    # received 2021-11-01 > deadline 2021-10-31; the advice is computed all the same (90.00 x 3)
    result = run(POLICY, amounts("2000", "1400", huur="650"), received=date(2021, 11, 1))
    assert codes(result) == [("received_after_deadline", "received")]
    assert result.assessment is not None
    assert f"{result.assessment.amount_total:.2f}" == "270.00"


def test_dronten_voldoet_niet_is_advice_not_a_finding() -> None:
    # a "voldoet niet" application is complete: it is registered, the caseworker decides
    result = run(POLICY, amounts("2000", "1900", huur="650"))
    assert result.assessment is not None and result.assessment.outcome == "voldoet niet"
    assert result.findings == [] and result.complete


def test_dronten_policy_reference_and_assumptions() -> None:
    a = run(POLICY).assessment
    assert a is not None
    assert (a.policy.id, a.policy.version, a.policy.municipality) == ("dronten-tonk-2021-q3", 1, "dronten")
    assert len(a.policy.sha256) == 64
    assert any("huurtoeslag" in text for text in a.assumptions)


@pytest.mark.parametrize(("huur", "per_month"), [
    # the edge of the maximum: 1360 - 0.40*1400 = 1360 - 560 = 800.00 exactly: not capped
    ("1360", "800.00"),
    # one cent above: 1360.01 - 560 = 800.01 -> capped to 800.00
    ("1360,01", "800.00"),
    # one cent below: 1359.99 - 560 = 799.99
    ("1359,99", "799.99"),
])
def test_dronten_edge_of_the_maximum(huur: str, per_month: str) -> None:
    a = run(POLICY, amounts("2000", "1400", huur=huur)).assessment
    assert a is not None and f"{a.amount_per_month:.2f}" == per_month
