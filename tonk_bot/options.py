"""The TONK bot's options in `config/softbot.yaml` (`bots.tonk.options`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from common.errors import ConfigError
from common.yamlfile import format_loc


class TonkOptions(BaseModel):
    """Domain options of the TONK bot.

    Attributes:
        municipality: decides between policies of several municipalities in force on the same date
            (policy field `municipality`), e.g. `dronten`.
        policies_dir: the folder of policy files (`config/policies`).
    """

    model_config = ConfigDict(extra="forbid")

    municipality: str | None = Field(None, description="e.g. dronten")
    policies_dir: Path = Path("config/policies")


def tonk_options(raw: Mapping[str, Any]) -> TonkOptions:
    """Validate `bots.tonk.options`. Raises ConfigError naming each bad option."""
    try:
        return TonkOptions.model_validate(dict(raw))
    except ValidationError as exc:
        problems = "; ".join(f"bots.tonk.options.{format_loc(e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError("config.invalid", problems) from exc


def check_tonk_options(raw: Mapping[str, Any]) -> TonkOptions:
    """`tonk_options`, and what the options point at: the policy folder loads, and the municipality (when
    given) has a policy in it. Run by `softbot config check` and at the start of every run, so that a
    misspelt municipality stops the run instead of sending every application to a human (`no_policy`).

    Raises:
        ConfigError: an invalid option, an unreadable or invalid policy folder (each file's errors), or a
            municipality without a policy (naming the municipalities that have one).
    """
    from tonk_bot.policy import load_policies  # the options module stays light for its other users

    options = tonk_options(raw)
    policies = load_policies(options.policies_dir)
    known = sorted({p.municipality for p in policies})
    if options.municipality and options.municipality.lower() not in known:
        raise ConfigError("config.invalid", f"bots.tonk.options.municipality: no policy of {options.municipality!r} "
                                            f"in {options.policies_dir} (policies for: {', '.join(known) or 'none'})")
    return options
