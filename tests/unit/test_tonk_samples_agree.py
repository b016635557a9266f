"""The robot's judgement agrees with the sandbox samples' recorded expectations.

The sample generator records, for each application it makes, the findings it injected and
the Dronten advice it computed by its own rules (sandbox/samples/assessment.py), never from
the robot's code. This evaluates each sample's raw form and documents with the shipped
Dronten policy and compares.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from test_tonk_support import policy

from sandbox.samples.generator import iter_samples
from tonk_bot.intake import evaluate
from tonk_bot.model import DocumentRef

DRONTEN = "dronten-2021-q3.yaml"


@pytest.mark.parametrize("seed", [7, 2021])
def test_recorded_expectations_match(seed: int) -> None:
    checked = 0
    for sample in iter_samples(120, seed, others=0):
        exp = sample.expectation
        docs = [DocumentRef(type=d["type"], filename=d["filename"]) for d in exp["documents"] if d["type"]]
        result = evaluate(exp["raw"], docs, date.fromisoformat(exp["received_date"]), policy(DRONTEN))
        assert [{"code": f.code.value, "field": f.field} for f in result.findings] == exp["codes"], exp["index"]
        advice = exp["assessment"]
        if advice is not None:
            a = result.assessment
            assert a is not None
            assert a.outcome == advice["advice"]
            holds = {c.code: c.holds for c in a.criteria}
            assert (holds["income_drop"], holds["housing_cost_share"]) == (advice["income_drop"],
                                                                           advice["housing_share"])
            assert a.woonkosten == Decimal(advice["woonkosten"])
            if advice["per_month"] is not None:   # the generator records amounts only for "voldoet"
                assert (a.amount_per_month, a.amount_total) == (Decimal(advice["per_month"]),
                                                                Decimal(advice["total"]))
        checked += 1
    assert checked == 120
