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
