"""`lms show` reaches a reference by every identifier lms prints; `lms refs list` lists them."""

from __future__ import annotations

import json

import pytest

from lms_cli.errors import ExitCode
from tests.conftest import Invoke


@pytest.mark.parametrize(
    "identifier",
    [
        "pautier2022",
        "pmid:35835135",
        "35835135",
        "10.1016/S1470-2045(22)00380-1",
        "10.1016/s1470-2045(22)00380-1",
        "doi:10.1016/S1470-2045(22)00380-1",
        "https://doi.org/10.1016/S1470-2045(22)00380-1",
        "PMID:35835135",
    ],
)
def test_show_accepts_every_identifier_lms_prints(invoke: Invoke, fixture_args: list[str], identifier: str) -> None:
    result = invoke("show", identifier, "-f", "json", *fixture_args)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["reference"]["id"] == "pautier2022"


def test_show_by_pmcid_and_bundled_keys(invoke: Invoke) -> None:
    listed = json.loads(invoke("refs", "list", "-f", "json").stdout)["references"]
    with_pmid = next(r for r in listed if r["pmid"])
    assert (
        json.loads(invoke("show", f"pmid:{with_pmid['pmid']}", "-f", "json").stdout)["reference"]["id"]
        == (with_pmid["id"])
    )
    shown = json.loads(invoke("show", "pautier2024", "-f", "json").stdout)["reference"]
    assert shown["seen"] and shown["checked"] == "2026-12-01"


def test_show_unknown_identifier_hints_at_the_forms(invoke: Invoke, fixture_args: list[str]) -> None:
    result = invoke("show", "pmid:1", *fixture_args)
    assert result.exit_code == ExitCode.USAGE
    assert "Hint: an id, PMID, pmid:N, DOI or PMCID" in result.stderr


def test_refs_list_filters_and_formats(invoke: Invoke, fixture_args: list[str]) -> None:
    every = json.loads(invoke("refs", "list", "-f", "json", *fixture_args).stdout)["references"]
    assert [r["id"] for r in every] == ["judson2014", "pautier2022", "gladdy2013", "mizoshiri2018"]
    rct = json.loads(invoke("refs", "list", "--min-rank", "rct", "-f", "json", *fixture_args).stdout)["references"]
    assert [r["id"] for r in rct] == ["judson2014", "pautier2022"]
    recent = invoke("refs", "list", "--since", "2018", "-f", "markdown", *fixture_args)
    assert "| pautier2022 | rct | 2022 |" in recent.stdout and "judson2014" not in recent.stdout
    assert recent.stdout.rstrip().endswith("2 references.")
    by_topic = json.loads(invoke("refs", "list", "--topic", "recurrence", "-f", "json", *fixture_args).stdout)
    assert {r["id"] for r in by_topic["references"]} == {"gladdy2013", "mizoshiri2018"}
    bad = invoke("refs", "list", "--missing", "colour", *fixture_args)
    assert bad.exit_code == ExitCode.USAGE and "--missing takes one of" in bad.stderr
    unknown = invoke("refs", "list", "--topic", "recurence", *fixture_args)
    assert unknown.exit_code == ExitCode.USAGE and "did you mean: recurrence?" in unknown.stderr


def test_refs_list_missing_finds_what_to_complete(invoke: Invoke) -> None:
    rows = json.loads(invoke("refs", "list", "--missing", "pmid", "-f", "json").stdout)["references"]
    assert rows and all(r["pmid"] is None and "pmid" in r["missing"] for r in rows)
