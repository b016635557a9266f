"""Which Chromium `common.browser` chooses: Playwright's own, else the system's, else a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.browser import choose_browser
from common.errors import ConfigError


def executable(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def nothing_on_path(_name: str) -> None:
    return None


def test_playwrights_own_chromium_comes_first(tmp_path: Path) -> None:
    own = executable(tmp_path, "chrome")
    found = choose_browser("auto", str(own), which=lambda n: "/usr/bin/chromium")
    assert (found.path, found.source, found.launch_path) == (own, "playwright", None)


def test_the_system_chromium_on_path_when_playwrights_is_not_installed(tmp_path: Path) -> None:
    found = choose_browser("auto", str(tmp_path / "missing"),
                           which=lambda n: "/usr/bin/chromium-browser" if n == "chromium-browser" else None)
    assert (found.path, found.source, found.launch_path) == (Path("/usr/bin/chromium-browser"), "system",
                                                             "/usr/bin/chromium-browser")


def test_a_fixed_system_path_when_nothing_is_on_path(tmp_path: Path) -> None:
    lib = executable(tmp_path, "chromium")
    found = choose_browser("auto", None, which=nothing_on_path, system_paths=(tmp_path / "nope", lib))
    assert (found.path, found.source) == (lib, "system")


def test_no_chromium_at_all_says_how_to_install_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="make browser") as raised:
        choose_browser("auto", None, which=nothing_on_path, system_paths=(tmp_path / "nope",))
    assert raised.value.code == "browser.not_found"


def test_a_configured_path_is_used_as_is(tmp_path: Path) -> None:
    mine = executable(tmp_path, "my-chrome")
    found = choose_browser(str(mine), str(tmp_path / "other"))
    assert (found.path, found.source, found.launch_path) == (mine, "configured", str(mine))


def test_a_configured_path_that_does_not_exist_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"browser.executable: .*missing does not exist"):
        choose_browser(str(tmp_path / "missing"), None)
