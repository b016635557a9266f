"""TONK policies as configuration: one YAML file per municipality and period (config/policies/).

A policy file is data a functional administrator can read and a policy officer can check:
validity dates, the scheme period and deadline, the criteria (income drop, housing costs,
assets), how the amount per month is computed, and the assumptions made where the
published rules are silent. It holds no code and nothing is evaluated: every rule is one
of the fixed kinds below, each with its parameters. Nothing in a policy can refuse an
application: the pre-assessment it drives is advice (specs/tonk-policy.md, GDPR art. 22).

The format is described for policy officers in docs/policy-reference.md. Money and shares
are quoted strings (``"800.00"``, ``"0.30"``) so YAML never turns them into floats.

Selection (`select_policy`): the policy in force on the date received (``valid.from`` <=
received <= ``valid.to``); of several versions of one policy `id`, the highest `version`.
When policies of several municipalities are in force on that date, the bot option
``municipality`` (matched with the policy's `municipality`) decides; without it the
selection is a configuration error, never a guess.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    field_validator,
    model_validator,
)

from common.errors import ConfigError
from common.yamlfile import load_model
from tonk_bot.form import Household

_MONEY = re.compile(r"[0-9]+(\.[0-9]{1,2})?", re.ASCII)
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?|\.[0-9]+", re.ASCII)


def _decimal_text(value: Any, what: str, example: str) -> str:
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(f"write {what} as a quoted string, e.g. \"{example}\" (a YAML number becomes an "
                         f"imprecise float)")
    if isinstance(value, int | Decimal):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"{what} expected, e.g. \"{example}\"")
    return value.strip()


def _money(value: Any) -> Decimal:
    text = _decimal_text(value, "an amount", "800.00")
    if not _MONEY.fullmatch(text):
        raise ValueError(f"amount {text!r}: write euros with a dot and at most 2 decimals, e.g. \"1078.70\"")
    return Decimal(text).quantize(Decimal("0.01"))


def _share(value: Any) -> Decimal:
    text = _decimal_text(value, "a share", "0.30")
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"share {text!r}: write a fraction with a dot, e.g. \"0.30\" for 30 %")
    share = Decimal(text)
    if share > 1:
        raise ValueError(f"share {text!r} is more than 1; 30 % is written \"0.30\"")
    return share


def _ratio(value: Any) -> Decimal:
    text = _decimal_text(value, "a ratio", "0.50")
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"ratio {text!r}: write a fraction with a dot, e.g. \"0.50\" for 50 %")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only valid decimals
        raise ValueError(f"ratio {text!r} is not a number") from exc


_AS_TEXT = PlainSerializer(lambda d: str(d), return_type=str, when_used="json")
#: euros, >= 0, two places
Money = Annotated[Decimal, BeforeValidator(_money), _AS_TEXT]
#: a fraction 0..1 ("0.30" = 30 %)
Share = Annotated[Decimal, BeforeValidator(_share), _AS_TEXT]
#: a non-negative fraction, may exceed 1 (woonkosten can be more than the income)
Ratio = Annotated[Decimal, BeforeValidator(_ratio), _AS_TEXT]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", max_length=80)]
YearMonth = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
HousingCostKey = Literal["huur", "hypotheekrente", "hypotheekaflossing", "energie", "water"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Validity(_Strict):
    """When the policy applies, by date received (both ends inclusive; no `to` = open-ended)."""

    from_: date = Field(alias="from")
    to: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Validity:
        if self.to is not None and self.to < self.from_:
            raise ValueError("valid.to is before valid.from")
        return self

    def covers(self, day: date) -> bool:
        return self.from_ <= day and (self.to is None or day <= self.to)


class Period(_Strict):
    """The scheme period: the months the benefit covers (from the first of a month to the last day)."""

    from_: date = Field(alias="from")
    to: date

    @model_validator(mode="after")
    def _whole_months(self) -> Period:
        if self.to < self.from_:
            raise ValueError("period.to is before period.from")
        if self.from_.day != 1:
            raise ValueError("period.from must be the first day of a month")
        if (self.to + timedelta(days=1)).day != 1:
            raise ValueError("period.to must be the last day of a month")
        return self

    def months(self) -> list[tuple[int, int]]:
        """(year, month) of every month in the period, in order."""
        out = []
        year, month = self.from_.year, self.from_.month
        while (year, month) <= (self.to.year, self.to.month):
            out.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out


class ReferenceMonths(_Strict):
    """The peilmaanden whose net household income is compared (the form asks for these)."""

    old: YearMonth
    new: YearMonth


class IncomeBand(_Strict):
    """Required drop for old incomes up to and including `up_to` (the last band has none)."""

    up_to: Money | None = None
    min_drop: Share


class IncomeDrop(_Strict):
    """Income drop: ``(old - new) / old >= min_drop``, old and new the peilmaand incomes.

    Either one `min_drop` for everyone, or `bands` by the old income (band edges belong to
    the lower band: an old income equal to `up_to` uses that band).
    """

    min_drop: Share | None = None
    bands: list[IncomeBand] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> IncomeDrop:
        if (self.min_drop is None) == (self.bands is None):
            raise ValueError("give either min_drop or bands, not both or neither")
        if self.bands is not None:
            if not self.bands or self.bands[-1].up_to is not None:
                raise ValueError("the last band has no up_to (it covers every higher income)")
            edges = [b.up_to for b in self.bands[:-1]]
            if any(e is None for e in edges) or edges != sorted(edges) or len(set(edges)) != len(edges):  # type: ignore[type-var]
                raise ValueError("bands: every band but the last needs up_to, strictly increasing")
        return self

    def band_for(self, old_income: Decimal) -> tuple[Decimal, IncomeBand | None]:
        """The required drop share for `old_income`, and the band it came from (None: one min_drop)."""
        if self.bands is None:
            assert self.min_drop is not None
            return self.min_drop, None
        for band in self.bands:
            if band.up_to is None or old_income <= band.up_to:
                return band.min_drop, band
        raise AssertionError("unreachable: the last band is open")


class HousingCostRule(_Strict):
    """What counts as woonkosten per month and what they must reach.

    - `count`: the form's cost fields that count.
    - `subtract_huurtoeslag`: huurtoeslag is subtracted from the rent (not below 0).
    - `min_share_of_new_income`: woonkosten must be at least this share of the new income
      (``woonkosten >= share * new``; a new income of 0 satisfies it); with
      `share_must_exceed` they must be more than it (``woonkosten > share * new``).
    - `min_amount`: woonkosten must be at least this many euros per month.
    """

    count: list[HousingCostKey] = Field(min_length=1)
    subtract_huurtoeslag: bool
    min_share_of_new_income: Share | None = None
    share_must_exceed: bool = False
    min_amount: Money | None = None

    @field_validator("count")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a cost is listed twice")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> HousingCostRule:
        if self.subtract_huurtoeslag and "huur" not in self.count:
            raise ValueError("subtract_huurtoeslag needs huur in count (it is subtracted from the rent)")
        if self.share_must_exceed and self.min_share_of_new_income is None:
            raise ValueError("share_must_exceed needs min_share_of_new_income")
        return self


def _all_households(limits: dict[Household, Decimal], what: str) -> dict[Household, Decimal]:
    missing = [h.value for h in Household if h not in limits]
    if missing:
        raise ValueError(f"{what}: give a value for every household type; missing: {', '.join(missing)}")
    return limits


class AssetTest(_Strict):
    """Assets (vermogen) may not exceed the limit of the household type. No assets given: `onbekend`."""

    limits: dict[Household, Money]

    @field_validator("limits")
    @classmethod
    def _complete(cls, value: dict[Household, Decimal]) -> dict[Household, Decimal]:
        return _all_households(value, "limits")


class Draagkracht(_Strict):
    """The part of the income the household pays itself: `share` of the new income (`of: income`) or
    of the new income above the bijstandsnorm of its household type (`of: income_above_norm`)."""

    share: Share
    of: Literal["income", "income_above_norm"]
    norms: dict[Household, Money] | None = None

    @model_validator(mode="after")
    def _norms(self) -> Draagkracht:
        if self.of == "income_above_norm":
            if self.norms is None:
                raise ValueError("of: income_above_norm needs norms per household type")
            _all_households(self.norms, "norms")
        elif self.norms is not None:
            raise ValueError("norms are only used with of: income_above_norm")
        return self


class RatioBand(_Strict):
    """A fixed amount for a woonkosten/new-income ratio from `from_ratio` (inclusive) up to the next band."""

    from_ratio: Ratio
    amount: Money


class AmountRule(_Strict):
    """How the proposed amount per month is computed (then capped by `max_per_month`, never below 0,
    rounded half up to cents).

    - ``housing_costs_minus_draagkracht``: woonkosten minus `draagkracht`.
    - ``fixed_by_ratio``: the `amount` of the highest `ratio_bands` entry whose `from_ratio` the ratio
      woonkosten / new income reaches (a new income of 0 reaches every band); 0 below the first.
    - `require_positive`: an amount of 0 makes the outcome `voldoet niet` (a criterion of its own).
    """

    method: Literal["housing_costs_minus_draagkracht", "fixed_by_ratio"]
    draagkracht: Draagkracht | None = None
    ratio_bands: list[RatioBand] | None = None
    max_per_month: Money | None = None
    require_positive: bool = False

    @model_validator(mode="after")
    def _parameters(self) -> AmountRule:
        if self.method == "housing_costs_minus_draagkracht":
            if self.draagkracht is None or self.ratio_bands is not None:
                raise ValueError("method housing_costs_minus_draagkracht needs draagkracht (and no ratio_bands)")
        else:
            if not self.ratio_bands or self.draagkracht is not None:
                raise ValueError("method fixed_by_ratio needs ratio_bands (and no draagkracht)")
            starts = [b.from_ratio for b in self.ratio_bands]
            if starts != sorted(starts) or len(set(starts)) != len(starts):
                raise ValueError("ratio_bands: from_ratio must be strictly increasing")
        return self


class Policy(_Strict):
    """One municipality's TONK rules for one period, as read from its YAML file.

    `sha256` and `path` are set by `load_policy` from the file (not written in it).
    """

    id: Slug
    version: int = Field(ge=1)
    municipality: Slug
    title: str = Field(min_length=1)
    source: str | None = None
    valid: Validity
    period: Period
    deadline: date
    reference_months: ReferenceMonths
    income_drop: IncomeDrop | None = None
    housing_costs: HousingCostRule
    assets: AssetTest | None = None
    amount: AmountRule
    assumptions: list[str] = Field(default_factory=list)

    _sha256: str = PrivateAttr(default="")
    _path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _dates(self) -> Policy:
        if self.deadline < self.period.from_:
            raise ValueError("deadline is before the start of the period")
        rule = self.housing_costs
        if not (self.income_drop or rule.min_share_of_new_income is not None or rule.min_amount is not None
                or self.assets or self.amount.require_positive):
            raise ValueError("the policy has no criterion: give income_drop, a housing_costs minimum, assets "
                             "or amount.require_positive, else every application would 'voldoet'")
        return self

    @property
    def sha256(self) -> str:
        """Hex sha256 of the policy file's bytes ("" for a policy not read from a file)."""
        return self._sha256

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def needs_household(self) -> bool:
        """True when a criterion or the amount depends on the household type."""
        d = self.amount.draagkracht
        return self.assets is not None or (d is not None and d.of == "income_above_norm")


def load_policy(path: Path) -> Policy:
    """Read and validate one policy file; its sha256 becomes part of every assessment made with it.

    Raises:
        ConfigError("config.unreadable" | "config.invalid_yaml" | "config.invalid"): with
            ``file:line: field: problem`` lines (common.yamlfile).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError("config.unreadable", f"{path}: cannot read: {exc.strerror}") from exc
    policy = load_model(path, Policy)
    policy._sha256 = hashlib.sha256(data).hexdigest()
    policy._path = path
    return policy


def load_policies(folder: Path) -> list[Policy]:
    """Every policy file (``*.yaml``, ``*.yml``) in `folder`, sorted by file name.

    Raises:
        ConfigError("config.invalid"): one or more files are invalid (all their errors at once), or
            two files hold the same id and version.
        ConfigError("config.unreadable"): the folder does not exist.
    """
    if not folder.is_dir():
        raise ConfigError("config.unreadable", f"{folder}: policy folder not found")
    policies, errors = [], []
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            policies.append(load_policy(path))
        except ConfigError as exc:
            errors.append(exc.message)
    seen: dict[tuple[str, int], Path | None] = {}
    for p in policies:
        key = (p.id, p.version)
        if key in seen:
            errors.append(f"{p.path}: id {p.id} version {p.version} is also in {seen[key]}")
        seen[key] = p.path
    if errors:
        raise ConfigError("config.invalid", "\n".join(errors))
    return policies


def select_policy(policies: Iterable[Policy], received: date, municipality: str | None = None) -> Policy | None:
    """The policy in force on `received`, for `municipality` when given.

    Returns None when no policy is in force (the intake reports `no_policy`).

    Raises:
        ConfigError("policy.ambiguous"): policies of several municipalities are in force and no
            municipality was given, or one municipality has two different policy ids in force.
    """
    in_force = [p for p in policies if p.valid.covers(received)
                and (municipality is None or p.municipality == municipality.strip().lower())]
    newest: dict[str, Policy] = {}
    for p in in_force:
        if p.id not in newest or p.version > newest[p.id].version:
            newest[p.id] = p
    if not newest:
        return None
    if len(newest) == 1:
        return next(iter(newest.values()))
    ids = ", ".join(f"{p.id} ({p.municipality})" for p in sorted(newest.values(), key=lambda p: p.id))
    towns = sorted({p.municipality for p in newest.values()})
    if municipality is None and len(towns) > 1:
        raise ConfigError("policy.ambiguous",
                          f"several policies are in force on {received.isoformat()}: {ids}; set the bot option "
                          f"municipality to one of: {', '.join(towns)}")
    raise ConfigError("policy.ambiguous",
                      f"several policies of one municipality are in force on {received.isoformat()}: {ids}; "
                      f"end the validity of the old one or give both the same id with a higher version")
