"""The Dronten pre-assessment the generator expects for a complete sample (advice only).

Rules from tonk-policy.md, "Dronten, July-September 2021", including the assumptions the
spec asks the policy file to state: huurtoeslag is subtracted from rent; amount per month
`min(800, woonkosten - 0.40 * new)`, not below 0, rounded half up to cents; no asset test.
The generator picks incomes to hit a target advice and then computes the advice here
from the figures, so the recorded value is the rule applied, not the target hoped for.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

POLICY_ID = "dronten-tonk-2021-q3"
MIN_INCOME_DROP = Decimal("0.30")
MIN_HOUSING_SHARE = Decimal("0.40")
MAX_PER_MONTH = Decimal("800.00")
CENT = Decimal("0.01")


def woonkosten(amounts: dict[str, Decimal]) -> Decimal:
    """huur - huurtoeslag + hypotheekrente + hypotheekaflossing + energie + water (missing = 0), euros."""
    def get(key: str) -> Decimal:
        return amounts.get(key, Decimal("0"))

    return (get("huur") - get("huurtoeslag") + get("hypotheekrente") + get("hypotheekaflossing")
            + get("energie") + get("water"))


def income_drop_holds(old: Decimal, new: Decimal) -> bool:
    """`(old - new) / old >= 0.30`; an old income of 0 cannot show a drop (False)."""
    if old <= 0:
        return False
    return (old - new) / old >= MIN_INCOME_DROP


def housing_share_holds(costs: Decimal, new: Decimal) -> bool:
    """`woonkosten / new >= 0.40`; a new income of 0 satisfies it (tonk-policy.md)."""
    if new == 0:
        return True
    return costs / new >= MIN_HOUSING_SHARE


def per_month(costs: Decimal, new: Decimal) -> Decimal:
    """`min(800, woonkosten - 0.40 * new)`, not below 0, rounded half up to cents."""
    amount = min(MAX_PER_MONTH, costs - MIN_HOUSING_SHARE * new)
    return max(Decimal("0"), amount).quantize(CENT, rounding=ROUND_HALF_UP)


def assess(amounts: dict[str, Decimal], months_in_period: int) -> dict[str, object]:
    """The expected advice for a complete sample.

    Returns `{"policy", "advice": "voldoet" | "voldoet niet", "income_drop": bool,
    "housing_share": bool, "woonkosten": "1234.56", "per_month": "90.00" | None,
    "total": "270.00" | None}`; amounts only when the advice is `voldoet`.
    """
    old = amounts["inkomen_peilmaand_oud"]
    new = amounts["inkomen_peilmaand_nieuw"]
    costs = woonkosten(amounts)
    drop = income_drop_holds(old, new)
    share = housing_share_holds(costs, new)
    advice = "voldoet" if drop and share else "voldoet niet"
    monthly = per_month(costs, new) if advice == "voldoet" else None
    return {
        "policy": POLICY_ID,
        "advice": advice,
        "income_drop": drop,
        "housing_share": share,
        "woonkosten": f"{costs:.2f}",
        "per_month": None if monthly is None else f"{monthly:.2f}",
        "total": None if monthly is None else f"{monthly * months_in_period:.2f}",
    }
