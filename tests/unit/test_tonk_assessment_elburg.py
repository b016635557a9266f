"""Worked examples for config/policies/elburg-2021.yaml, computed by hand.

Elburg (tonk-policy.md): amount = woonkosten - draagkracht, draagkracht = 50 % of the new
income above the bijstandsnorm (single 1078.70, single parent 1078.70, couple 1541.00),
at most 1000 per month; no income-drop or housing-share criterion in the source, so the
policy's one criterion is an amount above 0 (assumption); period 2021-01-01..2021-09-30,
deadline 2021-10-31 (assumption).
"""

from __future__ import annotations

from datetime import date

import pytest
from test_tonk_support import codes, run

POLICY = "elburg-2021.yaml"


def amounts(new: str, old: str = "3000", **costs: str) -> dict[str, str | None]:
    fields: dict[str, str | None] = {"inkomen_peilmaand_oud": old, "inkomen_peilmaand_nieuw": new, "huur": None}
    fields.update(costs)
    return fields


@pytest.mark.parametrize(("fields", "partner", "outcome", "draagkracht", "per_month", "total"), [
    # 1. single at the norm: above = 1078.70 - 1078.70 = 0; draagkracht 0; 700 - 0 = 700.00; x 3
    (amounts("1078,70", huur="700"), False, "voldoet", "0.00", "700.00", "2100.00"),
    # 2. single above the norm: 1500 - 1078.70 = 421.30; x 0.50 = 210.65; 800 - 210.65 = 589.35; x 3 = 1768.05
    (amounts("1500", huur="800"), False, "voldoet", "210.65", "589.35", "1768.05"),
    # 3. couple at its norm 1541: draagkracht 0; 900 + 200 = 1100 > 1000 -> 1000.00; x 3 = 3000.00
    (amounts("1541", huur="900", energie="200"), True, "voldoet", "0.00", "1000.00", "3000.00"),
    # 4. half up on a tie: 1178.75 - 1078.70 = 100.05; x 0.50 = 50.025 -> 50.03 (half even would give
    #    50.02); 600 - 50.03 = 549.97; x 3 = 1649.91
    (amounts("1178,75", huur="600"), False, "voldoet", "50.03", "549.97", "1649.91"),
    # 5. draagkracht above woonkosten: 3000 - 1078.70 = 1921.30; x 0.50 = 960.65; 900 - 960.65 < 0 -> 0.00;
    #    the amount criterion fails: voldoet niet
    (amounts("3000", old="4000", huur="900"), False, "voldoet niet", "960.65", "0.00", "0.00"),
    # 6. exactly zero: 2078.70 - 1078.70 = 1000; x 0.50 = 500; 500 - 500 = 0.00 -> voldoet niet
    (amounts("2078,70", huur="500"), False, "voldoet niet", "500.00", "0.00", "0.00"),
    # 7. single parent uses 1078.70: 1200 - 1078.70 = 121.30; x 0.50 = 60.65; 750 - 60.65 = 689.35
    (amounts("1200", huur="750") | {"woonsituatie": "alleenstaande ouder"}, False, "voldoet", "60.65",
     "689.35", "2068.05"),
    # 8. new income 0: nothing above the norm; 650 - 0 = 650.00
    (amounts("0", huur="650"), False, "voldoet", "0.00", "650.00", "1950.00"),
    # 9. old income 0: no income-drop criterion, so nothing onbekend; 900 < norm; 600 - 0 = 600.00
    (amounts("900", old="0", huur="600"), False, "voldoet", "0.00", "600.00", "1800.00"),
    # 10. couple below the norm: 1200 < 1541 -> 0; mortgage 400 + 200 = 600.00
    (amounts("1200", hypotheekrente="400", hypotheekaflossing="200"), True, "voldoet", "0.00", "600.00",
     "1800.00"),
    # 11. exactly a 30 % drop and woonkosten exactly 40 % play no role here: old 2000, new 1400;
    #     1400 - 1078.70 = 321.30; x 0.50 = 160.65; woonkosten 560 (= 40 % of 1400) - 160.65 = 399.35
    (amounts("1400", old="2000", huur="560"), False, "voldoet", "160.65", "399.35", "1198.05"),
    # 12. huurtoeslag subtracted and above the maximum: 1400 - 100 + 250 = 1550; couple 1600 - 1541 = 59;
    #     x 0.50 = 29.50; 1550 - 29.50 = 1520.50 -> 1000.00
    (amounts("1600", huur="1400", huurtoeslag="100", energie="250"), True, "voldoet", "29.50", "1000.00",
     "3000.00"),
])
def test_elburg_worked_examples(fields: dict[str, str | None], partner: bool, outcome: str, draagkracht: str,
                                per_month: str, total: str) -> None:
    result = run(POLICY, fields, partner=partner)
    assert result.findings == []
    a = result.assessment
    assert a is not None
    assert a.outcome == outcome
    assert [c.code for c in a.criteria] == ["positive_amount"]
    assert (f"{a.draagkracht:.2f}", f"{a.amount_per_month:.2f}", f"{a.amount_total:.2f}") == (
        draagkracht, per_month, total)


def test_elburg_nine_months() -> None:
    # januari t/m september: 9 months inside; 700.00 x 9 = 6300.00
    result = run(POLICY, {**amounts("1078,70", huur="700"), "maanden": "januari t/m september"})
    assert result.assessment is not None
    assert f"{result.assessment.amount_total:.2f}" == "6300.00"


def test_elburg_no_month_inside_the_period() -> None:
    result = run(POLICY, {**amounts("1078,70", huur="700"), "maanden": "oktober, november"})
    assert codes(result) == [("months_outside_period", "maanden")]
    assert result.assessment is not None
    assert result.assessment.months_left_out == ["oktober", "november"]


def test_elburg_after_the_deadline() -> None:
    result = run(POLICY, amounts("1078,70", huur="700"), received=date(2021, 11, 15))
    assert codes(result) == [("received_after_deadline", "received")]


def test_elburg_needs_the_household_for_the_norm() -> None:
    # woonsituatie unreadable: a finding, and no norm to compute the draagkracht with: no assessment
    result = run(POLICY, {**amounts("1500", huur="800"), "woonsituatie": "weet niet"})
    assert codes(result) == [("household_invalid", "woonsituatie")]
    assert result.assessment is None
