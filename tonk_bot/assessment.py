"""The pre-assessment: eligibility advice computed from the application's figures and a policy.

Advice only (specs/tonk-policy.md, "Two kinds of outcome"): the outcome `voldoet` /
`voldoet niet` / `onbekend` is registered with the case as a note for the caseworker who
decides; nothing here produces a finding or stops a registration.

Rules, for every policy:

- Comparisons are exact `Decimal` arithmetic written without division
  (``old - new >= share * old``), so ``exactly 30 %`` holds and nothing is lost to rounding;
  percentages in the figures are for reading only (rounded half up to 2 decimals).
- Income drop with an old income of 0 cannot be computed: the criterion is `onbekend`.
- Woonkosten: the policy's `count` fields; with `subtract_huurtoeslag`, huur minus
  huurtoeslag (not below 0).
- Money is rounded half up to cents (`cents`): the draagkracht as soon as it is computed
  (so the note's figures add up: woonkosten - draagkracht = amount), the amount per month
  once more after the cap (a no-op for cent inputs). Woonkosten are sums of cents.
- Amount per month: the policy's method, capped at `max_per_month`, never below 0. It is
  computed whatever the outcome (what would be granted), so a caseworker who decides
  otherwise than the advice has the figure.
- Total: amount per month times the requested months inside the scheme period; requested
  months outside it are left out and named.
- Outcome: `voldoet niet` when a criterion does not hold, else `onbekend` when one could not
  be judged (e.g. assets not given), else `voldoet`.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from common.citizen_text import MONTH_NAMES, format_euro
from tonk_bot.form import Household
from tonk_bot.model import Figures, HousingCosts, Money
from tonk_bot.policy import HousingCostRule, Period, Policy

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
Outcome = Literal["voldoet", "voldoet niet", "onbekend"]


class Criterion(BaseModel):
    """One criterion of the policy as applied: `holds` True, False or None (could not be judged).

    `figures` holds the numbers used, as strings with a dot (``"1400.00"``, percentages ``"30.00"``).
    """

    model_config = ConfigDict(frozen=True)

    code: Literal["income_drop", "housing_cost_share", "housing_cost_minimum", "assets", "positive_amount"]
    description: str
    holds: bool | None
    figures: dict[str, str]
    explanation: str


class PolicyRef(BaseModel):
    """Which policy file the assessment used: id, version, municipality and the file's sha256."""

    model_config = ConfigDict(frozen=True)

    id: str
    version: int
    municipality: str
    title: str
    sha256: str
    file: str | None


class Assessment(BaseModel):
    """The pre-assessment of one application. Money fields serialise as ``"800.00"`` in JSON."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    criteria: list[Criterion]
    woonkosten: Money
    draagkracht: Money | None
    calculation: str
    amount_per_month: Money
    months_counted: list[str]
    months_left_out: list[str]
    amount_total: Money
    policy: PolicyRef
    assumptions: list[str]


def cents(amount: Decimal) -> Decimal:
    """Round half up to cents: ``Decimal("406.175")`` -> ``Decimal("406.18")``."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _s(amount: Decimal) -> str:
    return f"{cents(amount):.2f}"


def _pct(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(CENT, rounding=ROUND_HALF_UP)


def _share_text(share: Decimal) -> str:
    """``Decimal("0.30")`` -> ``"30 %"``, ``Decimal("0.125")`` -> ``"12,5 %"``."""
    pct = (share * 100).normalize()
    text = f"{pct:f}".replace(".", ",")
    return f"{text} %"


def _pct_text(pct: Decimal) -> str:
    return f"{pct:.2f} %".replace(".", ",")


def _month_label(year_month: str) -> str:
    """``"2021-07"`` -> ``"juli 2021"``."""
    year, month = year_month.split("-")
    return f"{MONTH_NAMES[int(month)]} {year}"


def woonkosten(costs: HousingCosts, rule: HousingCostRule) -> Decimal:
    """Housing costs per month as the policy counts them (euros, exact).

    With `subtract_huurtoeslag`, huurtoeslag is taken off the rent, not below 0.
    """
    total = ZERO
    for key in rule.count:
        value = getattr(costs, key) or ZERO
        if key == "huur" and rule.subtract_huurtoeslag:
            value = max(ZERO, value - (costs.huurtoeslag or ZERO))
        total += value
    return total


def resolve_months(months: Sequence[int], period: Period) -> tuple[list[str], list[str]]:
    """Give the requested month numbers their year from the scheme period.

    Returns:
        (inside, left out): inside as ``"2021-07"`` in calendar order; left out as Dutch month
        names in the order requested.
    """
    in_period = {m: f"{y}-{m:02d}" for y, m in reversed(period.months())}
    inside = sorted({in_period[m] for m in months if m in in_period})
    left_out = [MONTH_NAMES[m] for m in months if m not in in_period]
    return inside, left_out


def _income_drop(fig: Figures, policy: Policy) -> Criterion | None:
    rule = policy.income_drop
    if rule is None:
        return None
    old, new = fig.income_old, fig.income_new
    share, band = rule.band_for(old)
    ref = policy.reference_months
    description = (f"Inkomensdaling {_month_label(ref.old)} - {_month_label(ref.new)} ten minste "
                   f"{_share_text(share)}")
    figures = {"inkomen_oud": _s(old), "inkomen_nieuw": _s(new), "daling": _s(old - new),
               "vereiste_daling_pct": f"{share * 100:.2f}"}
    if band is not None:
        lower = _band_lower(rule.bands or [], band)
        figures["schijf_inkomen_oud"] = _band_text(lower, band.up_to)
        description += f" (oud inkomen {_band_text(lower, band.up_to)})"
    if old == 0:
        return Criterion(code="income_drop", description=description, holds=None, figures=figures,
                         explanation=f"Inkomen {_month_label(ref.old)} is € 0,00: een daling is niet te "
                                     f"berekenen.")
    figures["daling_pct"] = f"{_pct(old - new, old):.2f}"
    holds = old - new >= share * old
    return Criterion(code="income_drop", description=description, holds=holds, figures=figures,
                     explanation=f"Inkomen {_month_label(ref.old)} {format_euro(old)}, {_month_label(ref.new)} "
                                 f"{format_euro(new)}: daling {format_euro(old - new)} "
                                 f"({_pct_text(_pct(old - new, old))}).")


def _band_lower(bands: Sequence[object], band: object) -> Decimal | None:
    index = list(bands).index(band)
    return None if index == 0 else bands[index - 1].up_to  # type: ignore[attr-defined]


def _band_text(lower: Decimal | None, upper: Decimal | None) -> str:
    if lower is None and upper is not None:
        return f"t/m {format_euro(upper)}"
    if lower is not None and upper is None:
        return f"boven {format_euro(lower)}"
    return f"boven {format_euro(lower or ZERO)} t/m {format_euro(upper or ZERO)}"


def _housing_share(fig: Figures, policy: Policy, costs: Decimal) -> Criterion | None:
    rule = policy.housing_costs
    share = rule.min_share_of_new_income
    if share is None:
        return None
    new = fig.income_new
    word = "meer dan" if rule.share_must_exceed else "ten minste"
    description = (f"Woonkosten {word} {_share_text(share)} van het netto inkomen "
                   f"{_month_label(policy.reference_months.new)}")
    threshold = share * new
    holds = costs > threshold if rule.share_must_exceed else costs >= threshold
    figures = {"woonkosten": _s(costs), "inkomen_nieuw": _s(new), "vereist_pct": f"{share * 100:.2f}",
               "grens": _s(threshold)}
    if new == 0:
        explanation = f"Woonkosten {format_euro(costs)} bij een inkomen van € 0,00."
    else:
        figures["woonkosten_pct"] = f"{_pct(costs, new):.2f}"
        explanation = (f"Woonkosten {format_euro(costs)} = {_pct_text(_pct(costs, new))} van "
                       f"{format_euro(new)}.")
    return Criterion(code="housing_cost_share", description=description, holds=holds, figures=figures,
                     explanation=explanation)


def _housing_minimum(policy: Policy, costs: Decimal) -> Criterion | None:
    minimum = policy.housing_costs.min_amount
    if minimum is None:
        return None
    return Criterion(code="housing_cost_minimum",
                     description=f"Woonkosten ten minste {format_euro(minimum)} per maand",
                     holds=costs >= minimum, figures={"woonkosten": _s(costs), "minimum": _s(minimum)},
                     explanation=f"Woonkosten {format_euro(costs)} per maand.")


def _assets(fig: Figures, policy: Policy, household: Household) -> Criterion | None:
    if policy.assets is None:
        return None
    limit = policy.assets.limits[household]
    description = f"Vermogen niet hoger dan {format_euro(limit)} ({household.value})"
    if fig.vermogen is None:
        return Criterion(code="assets", description=description, holds=None, figures={"grens": _s(limit)},
                         explanation="Vermogen is niet ingevuld: niet te beoordelen.")
    return Criterion(code="assets", description=description, holds=fig.vermogen <= limit,
                     figures={"vermogen": _s(fig.vermogen), "grens": _s(limit)},
                     explanation=f"Vermogen {format_euro(fig.vermogen)}.")


def _amount(fig: Figures, policy: Policy, costs: Decimal,
            household: Household | None) -> tuple[Decimal, Decimal | None, str]:
    """(amount per month before cap and floor, draagkracht or None, how it was computed in Dutch)."""
    rule = policy.amount
    new = fig.income_new
    if rule.method == "housing_costs_minus_draagkracht":
        d = rule.draagkracht
        assert d is not None
        if d.of == "income":
            draagkracht = cents(d.share * new)
            basis = f"{_share_text(d.share)} van {format_euro(new)}"
        else:
            assert d.norms is not None and household is not None
            norm = d.norms[household]
            above = max(ZERO, new - norm)
            draagkracht = cents(d.share * above)
            basis = (f"{_share_text(d.share)} van het inkomen boven de norm: {format_euro(new)} - "
                     f"{format_euro(norm)} = {format_euro(above)}")
        return costs - draagkracht, draagkracht, (f"woonkosten {format_euro(costs)} - draagkracht "
                                                  f"{format_euro(draagkracht)} ({basis}) = "
                                                  f"{format_euro(costs - draagkracht)}")
    chosen = None
    for band in rule.ratio_bands or []:
        if new == 0 or costs >= band.from_ratio * new:
            chosen = band
    if chosen is None:
        return ZERO, None, "woonkosten onder de eerste schijf: vast bedrag € 0,00"
    return chosen.amount, None, (f"vast bedrag bij woonkosten vanaf {_share_text(chosen.from_ratio)} van het "
                                 f"inkomen: {format_euro(chosen.amount)}")


def assess(fig: Figures, policy: Policy) -> Assessment | None:
    """The pre-assessment of `fig` under `policy`.

    Returns None when the policy needs the household type (asset limits, norms) and it could not be
    read. Never raises on figures read by tonk_bot.model; money in euros (`Decimal`).
    """
    household = fig.household
    if policy.needs_household and household is None:
        return None
    costs = woonkosten(fig.housing_costs, policy.housing_costs)
    raw, draagkracht, how = _amount(fig, policy, costs, household)
    cap = policy.amount.max_per_month
    per_month = cents(max(ZERO, min(raw, cap) if cap is not None else raw))
    if cap is not None and raw > cap:
        how += f"; {format_euro(raw)} is meer dan het maximum {format_euro(cap)} per maand"
    elif raw < 0:
        how += f"; {format_euro(raw)} wordt € 0,00 (nooit negatief)"
    criteria = [c for c in (_income_drop(fig, policy), _housing_share(fig, policy, costs),
                            _housing_minimum(policy, costs),
                            _assets(fig, policy, household) if household is not None else None) if c]
    if policy.amount.require_positive:
        criteria.append(Criterion(code="positive_amount", description="Berekend bedrag hoger dan € 0,00",
                                  holds=per_month > 0, figures={"bedrag_per_maand": _s(per_month)},
                                  explanation=f"Berekend: {how}."))
    inside, left_out = resolve_months(fig.months, policy.period)
    if any(c.holds is False for c in criteria):
        outcome: Outcome = "voldoet niet"
    elif any(c.holds is None for c in criteria):
        outcome = "onbekend"
    else:
        outcome = "voldoet"
    return Assessment(
        outcome=outcome, criteria=criteria, woonkosten=cents(costs),
        draagkracht=cents(draagkracht) if draagkracht is not None else None, calculation=how,
        amount_per_month=per_month, months_counted=inside, months_left_out=left_out,
        amount_total=per_month * len(inside),
        policy=PolicyRef(id=policy.id, version=policy.version, municipality=policy.municipality,
                         title=policy.title, sha256=policy.sha256,
                         file=policy.path.name if policy.path else None),
        assumptions=list(policy.assumptions))


def _holds_text(holds: bool | None) -> str:
    return {True: "voldoet", False: "voldoet niet", None: "onbekend"}[holds]


def render_note(assessment: Assessment) -> str:
    """The assessment as a Dutch note for the case's "Beoordeling robot (advies)" field.

    Plain text, one fact per line: outcome, policy (id, version, sha256), each criterion with its
    figures, the amount per month and in total, months left out, the policy's assumptions.
    """
    a = assessment
    p = a.policy
    lines = [
        "Beoordeling robot (advies, geen besluit)",
        f"Uitkomst: {a.outcome}",
        f"Beleid: {p.title} ({p.id}, versie {p.version}, sha256 {p.sha256 or 'onbekend'})",
        "",
        "Criteria:",
    ]
    for c in a.criteria:
        lines.append(f"- {c.description}: {_holds_text(c.holds)}. {c.explanation}")
    if not a.criteria:
        lines.append("- (geen)")
    lines.append("")
    lines.append(f"Woonkosten per maand: {format_euro(a.woonkosten)}")
    if a.draagkracht is not None:
        lines.append(f"Draagkracht per maand: {format_euro(a.draagkracht)}")
    lines.append(f"Berekening: {a.calculation}")
    months = ", ".join(_month_label(m) for m in a.months_counted) or "geen"
    lines.append(f"Berekend bedrag bij toekenning: {format_euro(a.amount_per_month)} per maand x "
                 f"{len(a.months_counted)} maand(en) ({months}) = {format_euro(a.amount_total)}")
    if a.months_left_out:
        lines.append(f"Niet meegeteld (buiten de periode van de regeling): {', '.join(a.months_left_out)}")
    if a.assumptions:
        lines.append("")
        lines.append("Aannames van het beleid:")
        lines.extend(f"- {text}" for text in a.assumptions)
    lines.append("")
    lines.append("Dit is een advies van de robot: de robot weigert niets, een medewerker beslist.")
    return "\n".join(lines)
