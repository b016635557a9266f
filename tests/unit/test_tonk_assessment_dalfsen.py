"""Worked examples for config/policies/dalfsen-2021.yaml, computed by hand.

Dalfsen (tonk-policy.md): required drop by the old income: up to and including 2000: 20 %,
above 2000 up to and including 3000: 25 %, above 3000: 30 % (band edges belong to the lower
band); woonkosten must EXCEED 40 % of the new income; amount = woonkosten - 0.40 * new,
at most 350; period 2021-01-01..2021-09-30, deadline 2021-10-31 (assumptions).
"""

from __future__ import annotations

from datetime import date

import pytest
from test_tonk_support import codes, run

POLICY = "dalfsen-2021.yaml"


def amounts(old: str, new: str, **costs: str) -> dict[str, str | None]:
    fields: dict[str, str | None] = {"inkomen_peilmaand_oud": old, "inkomen_peilmaand_nieuw": new, "huur": None}
    fields.update(costs)
    return fields


@pytest.mark.parametrize(("fields", "outcome", "required_drop", "drop_holds", "share_holds", "per_month", "total"), [
    # 1. band edge 2000 belongs to the 20 % band: drop 400 >= 0.20*2000 = 400 holds;
    #    800 > 0.40*1600 = 640 holds; 800 - 640 = 160.00; x 3 = 480.00
    (amounts("2000", "1600", huur="800"), "voldoet", "20.00", True, True, "160.00", "480.00"),
    # 2. just above the edge, 2000.01 is in the 25 % band: 400.01 < 0.25*2000.01 = 500.0025
    (amounts("2000,01", "1600", huur="800"), "voldoet niet", "25.00", False, True, "160.00", "480.00"),
    # 3. band edge 3000 belongs to the 25 % band: drop 750 >= 0.25*3000 = 750 holds;
    #    1000 > 0.40*2250 = 900 holds; 1000 - 900 = 100.00
    (amounts("3000", "2250", huur="1000"), "voldoet", "25.00", True, True, "100.00", "300.00"),
    # 4. 3000.01 is in the 30 % band: 750.01 < 0.30*3000.01 = 900.003
    (amounts("3000,01", "2250", huur="1000"), "voldoet niet", "30.00", False, True, "100.00", "300.00"),
    # 5. exactly 30 % in the top band: 1200 >= 0.30*4000 = 1200; 1200 > 1120; 1200 - 1120 = 80.00
    (amounts("4000", "2800", huur="1200"), "voldoet", "30.00", True, True, "80.00", "240.00"),
    # 6. woonkosten exactly 40 % does not EXCEED it: 400 > 0.40*1000 = 400 is false;
    #    drop 500/1500 = 33 % >= 20 %; 400 - 400 = 0.00
    (amounts("1500", "1000", huur="400"), "voldoet niet", "20.00", True, False, "0.00", "0.00"),
    # 7. one cent above 40 %: 400.01 > 400 holds; 400.01 - 400 = 0.01; x 3 = 0.03
    (amounts("1500", "1000", huur="400,01"), "voldoet", "20.00", True, True, "0.01", "0.03"),
    # 8. new income 0: drop 100 %; 500 > 0 holds; 500 - 0 = 500 > 350 -> 350.00; x 3 = 1050.00
    (amounts("2500", "0", huur="500"), "voldoet", "25.00", True, True, "350.00", "1050.00"),
    # 9. old income 0 (band <= 2000: 20 %): drop cannot be computed -> onbekend; 500 > 0; 350.00 cap
    (amounts("0", "0", huur="500"), "onbekend", "20.00", None, True, "350.00", "1050.00"),
    # 10. above the maximum: woonkosten 900 + 100 = 1000 > 400; 1000 - 400 = 600 -> 350.00
    (amounts("1800", "1000", huur="900", energie="100"), "voldoet", "20.00", True, True, "350.00", "1050.00"),
    # 11. huurtoeslag subtracted: 700 - 250 + 120 = 570 > 480; drop 700/1900 = 36.8 %; 570 - 480 = 90.00
    (amounts("1900", "1200", huur="700", huurtoeslag="250", energie="120"),
     "voldoet", "20.00", True, True, "90.00", "270.00"),
    # 12. rounding: draagkracht 0.40*1111.11 = 444.444 -> 444.44; 700 - 444.44 = 255.56;
    #     drop 1388.89/2500 = 55.6 % >= 25 %; x 3 = 766.68
    (amounts("2500", "1111,11", huur="700"), "voldoet", "25.00", True, True, "255.56", "766.68"),
])
def test_dalfsen_worked_examples(fields: dict[str, str | None], outcome: str, required_drop: str,
                                 drop_holds: bool | None, share_holds: bool, per_month: str, total: str) -> None:
    result = run(POLICY, fields)
    assert result.findings == []
    a = result.assessment
    assert a is not None
    assert a.outcome == outcome
    assert {c.code: c.holds for c in a.criteria} == {"income_drop": drop_holds, "housing_cost_share": share_holds}
    assert a.criteria[0].figures["vereiste_daling_pct"] == required_drop
    assert (f"{a.amount_per_month:.2f}", f"{a.amount_total:.2f}") == (per_month, total)


def test_dalfsen_band_is_named_in_the_criterion() -> None:
    a = run(POLICY, amounts("3000", "2250", huur="1000")).assessment
    assert a is not None
    assert a.criteria[0].figures["schijf_inkomen_oud"] == "boven € 2.000,00 t/m € 3.000,00"
    assert a.criteria[0].description.endswith("ten minste 25 % (oud inkomen boven € 2.000,00 t/m € 3.000,00)")


def test_dalfsen_months_from_january() -> None:
    # period 2021-01-01..2021-09-30: januari t/m maart are 3 months inside; 160.00 x 3 = 480.00
    result = run(POLICY, {**amounts("2000", "1600", huur="800"), "maanden": "januari t/m maart"})
    a = result.assessment
    assert result.findings == [] and a is not None
    assert a.months_counted == ["2021-01", "2021-02", "2021-03"]
    assert f"{a.amount_total:.2f}" == "480.00"


def test_dalfsen_months_outside_the_period() -> None:
    # oktober is after 2021-09-30: left out; september counts: 160.00 x 1
    result = run(POLICY, {**amounts("2000", "1600", huur="800"), "maanden": "september, oktober"})
    a = result.assessment
    assert result.findings == [] and a is not None
    assert (a.months_left_out, f"{a.amount_total:.2f}") == (["oktober"], "160.00")


def test_dalfsen_after_the_deadline() -> None:
    result = run(POLICY, amounts("2000", "1600", huur="800"), received=date(2021, 11, 1))
    assert codes(result) == [("received_after_deadline", "received")]
    assert result.assessment is not None and result.assessment.outcome == "voldoet"
