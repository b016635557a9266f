"""Load a YAML file into a pydantic model, with errors that name the file, line and field.

Functional administrators edit `config/*.yaml`; when a value is wrong they need
`config/schedules.yaml:12: jobs[0].cron: ...`, not a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from common.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates and times as text: the pydantic model parses them, so an impossible
    date (`2021-02-31`) is a `file:line: field: problem` line like any other, not a crash in the parser."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    """Parse `path` and return (data, node tree) for line lookups. Dates stay strings (see `_Loader`).

    Raises:
        ConfigError("config.unreadable"): the file is missing, unreadable or not UTF-8 text.
        ConfigError("config.invalid_yaml"): not valid YAML (with its line).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("config.unreadable", f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError("config.unreadable", f"{path}: not UTF-8 text (byte {exc.start} is "
                                               f"{exc.object[exc.start:exc.start + 1]!r}); save the file as UTF-8"
                          ) from exc
    try:
        loader = _Loader(text)  # one parse: the node tree for line numbers, the data built from it
        try:
            node = loader.get_single_node()
            return (loader.construct_document(node) if node is not None else None), node
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError("config.invalid_yaml", f"{where}: not valid YAML: {exc}") from exc


def line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """1-based line of the YAML node at pydantic location `loc`, or of its nearest parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(part)), None)
            if match is None:
                return line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def format_loc(loc: tuple[int | str, ...]) -> str:
    """`("jobs", 0, "cron")` -> `jobs[0].cron`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def validation_messages(path: Path, node: yaml.Node | None, error: ValidationError,
                        origin: Callable[[tuple[int | str, ...]], str | None] | None = None) -> list[str]:
    """One `file:line: field: problem` line per pydantic error.

    `origin(loc)`, when given and not None for an error, names where the value came from instead of
    the file (e.g. `environment SOFTBOT_BROWSER__TIMEOUT_MS`).
    """
    lines = []
    for err in error.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        line = line_of(node, loc)
        where = (origin(loc) if origin else None) or (f"{path}:{line}" if line else str(path))
        message = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        lines.append(f"{where}: {format_loc(loc)}: {message}")
    return lines


def load_model(path: Path, model: type[M], **context: Any) -> M:
    """Validate YAML file `path` as `model`.

    Raises:
        ConfigError("config.invalid"): with one `file:line: field: problem` line per error in
            `.message`, all errors at once.
    """
    data, node = read_yaml(path)
    try:
        return model.model_validate(data if data is not None else {}, context=context or None)
    except ValidationError as exc:
        raise ConfigError("config.invalid", "\n".join(validation_messages(path, node, exc))) from exc
