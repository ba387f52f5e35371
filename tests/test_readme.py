"""The README tells the truth: the two commands first, the settings table, every command."""

from __future__ import annotations

import re

from kg.cli import cli
from kg.settings import settings_table
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make run", "make test"]


def test_settings_table_matches_code() -> None:
    assert settings_table() in README


def test_every_command_and_option_is_documented() -> None:
    for name, command in cli.commands.items():
        assert f"### `kg {name}" in README, name
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("--") and opt != "--help":
                    assert opt in README, f"kg {name} {opt}"
