"""The README is a contract: its help block, commands, exit codes and quick start stay true."""

from __future__ import annotations

import re
from pathlib import Path

import typer
import typer.core
import typer.main

from lms_cli.cli.app import app
from lms_cli.errors import ExitCode
from tests.conftest import Invoke

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def test_help_block_matches_real_help(invoke: Invoke) -> None:
    block = README.split("<!-- help:begin -->\n```text\n")[1].split("```\n<!-- help:end -->")[0]
    real = invoke("--help").stdout
    assert real.startswith(block), "README help block is stale: paste `lms --help` (top part) again"


def test_every_command_is_documented_and_has_help(invoke: Invoke) -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    names = sorted(group.commands)
    assert "ask" in names
    for name in names:
        assert f"`lms {name}" in README, f"lms {name} missing from README"
        result = invoke(*name.split(), "--help")
        assert result.exit_code == 0
        assert "Usage: lms" in result.stdout


def test_exit_code_table_matches_the_enum() -> None:
    table = README.split("## Exit codes")[1].split("##")[0]
    documented = {int(m) for m in re.findall(r"^\| (\d+) \|", table, flags=re.M)}
    assert documented == {int(c) for c in ExitCode}


def test_two_command_quick_start() -> None:
    quick = README.split("## Quick start")[1].split("## ")[0]
    commands = re.findall(r"```sh\n(.+?)\n```", quick, flags=re.S)
    assert commands[0].endswith("lms ask spread-to-muscle")
    assert "pip install ." in commands[0]
    assert "'.[test]'" in commands[1]
    assert commands[1].endswith("pytest")
    ci = (Path(__file__).parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "Install the test tools" in ci  # .ci/run extracts and runs the README's own test command


def test_environment_variables_are_documented() -> None:
    code = "".join(p.read_text() for p in (Path(__file__).parent.parent / "lms_cli").rglob("*.py"))
    used = set(re.findall(r'"(LMS_[A-Z_]+)"', code))
    table = README.split("## Environment variables")[1].split("\n## ")[0]
    for name in used:
        assert f"`{name}`" in table, f"{name} is read by lms but not documented"
