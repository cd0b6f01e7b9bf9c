"""Environment values with limits and clear errors; a user without a home directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from lms_cli.errors import ExitCode
from tests.conftest import Invoke


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1e23", "LMS_MAX_FILE_BYTES must be a whole number of bytes, not '1e23'"),
        ("1" + "0" * 23, "LMS_MAX_FILE_BYTES must be at most 1073741824 (1 GiB), not 100000000000000000000000"),
        ("9" * 5000, "LMS_MAX_FILE_BYTES must be at most 1073741824 (1 GiB), not 99999999999999999999..."),
        ("-5", "LMS_MAX_FILE_BYTES must be positive, not '-5'"),
        (" 100000 ", None),
    ],
)
def test_lms_max_file_bytes_is_bounded(
    invoke: Invoke, fixture_args: list[str], value: str, message: str | None
) -> None:
    result = invoke("topics", *fixture_args, env={"LMS_MAX_FILE_BYTES": value})
    if message is None:
        assert result.exit_code == 0, result.stderr
        return
    assert result.exit_code == ExitCode.USAGE, result.stderr
    assert result.stderr.splitlines()[0] == f"Error: {message}"


def test_no_home_and_no_passwd_entry_runs_without_a_cache(
    invoke: Invoke, fixture_args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pwd

    def no_entry(uid: int) -> pwd.struct_passwd:
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.setattr(pwd, "getpwuid", no_entry)  # a uid with no passwd entry (containers, CI)
    unset: dict[str, str | None] = {"HOME": None, "XDG_CACHE_HOME": None, "LMS_CACHE_DIR": None}
    result = invoke("topics", *fixture_args, env=unset)
    assert (result.exit_code, result.stderr) == (0, ""), result.stderr
    assert "first-line" in result.stdout


def test_no_home_falls_back_to_the_passwd_entry(invoke: Invoke, fixture_args: list[str]) -> None:
    from lms_cli.cli.common import Env, cache_root

    env = Env(sys.stdout, sys.stderr, {})
    root = cache_root(env)
    import pwd

    assert root == Path(pwd.getpwuid(os.getuid()).pw_dir) / ".cache" / "lms"
