"""Claim support: filters and rank badges never show a sentence backed by sources that do not state it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms_cli import load
from lms_cli.compose import claim_rank, compose
from lms_cli.errors import NoResultsError
from lms_cli.model import (
    Claim,
    EvidenceBase,
    Filters,
    Hidden,
    Population,
    Query,
    Rank,
    Reference,
    Section,
    Support,
    Topic,
)
from lms_cli.render import hidden_note
from lms_cli.select import filter_claims, select
from tests.conftest import Invoke

TOPIC = Topic("t", "T", "Q?")


def ref(ref_id: str, rank: Rank, year: int) -> Reference:
    return Reference(ref_id, rank, ("Author A",), "Title", "J", year, doi=f"10.1000/{ref_id}")


REFS = {
    "guide2010": ref("guide2010", Rank.GUIDELINE, 2010),
    "trial2024": ref("trial2024", Rank.RCT, 2024),
    "review2022": ref("review2022", Rank.REVIEW, 2022),
    "case2019": ref("case2019", Rank.CASE_SERIES, 2019),
}


def claim(
    claim_id: str, cites: tuple[str, ...], support: Support = Support.TOGETHER, population: Population = Population.ALL
) -> Claim:
    return Claim(
        claim_id, ("t",), Section.KEY_POINT, f"Statement {claim_id}.", cites, population, dt.date(2026, 12, 1), support
    )


def kept_ids(claims: list[Claim], filters: Filters) -> list[tuple[str, list[str]]]:
    kept, _, _ = filter_claims(claims, REFS, filters)
    return [(c.id, [r.id for r in rs]) for c, rs in kept]


# --- select ---------------------------------------------------------------------------------


def test_a_together_claim_that_loses_a_source_is_hidden_whole() -> None:
    claims = [claim("both", ("review2022", "guide2010"))]
    assert kept_ids(claims, Filters()) == [("both", ["review2022", "guide2010"])]
    assert kept_ids(claims, Filters(min_rank=Rank.GUIDELINE)) == []  # the review's half would be miscited
    assert kept_ids(claims, Filters(since=2020)) == []


def test_an_each_claim_keeps_the_sources_left_while_one_is() -> None:
    claims = [claim("any", ("review2022", "guide2010"), Support.EACH)]
    assert kept_ids(claims, Filters(min_rank=Rank.GUIDELINE)) == [("any", ["guide2010"])]
    assert kept_ids(claims, Filters(since=2020)) == [("any", ["review2022"])]
    assert kept_ids(claims, Filters(min_rank=Rank.GUIDELINE, since=2020)) == []


def test_a_filter_removing_every_source_of_one_claim_and_part_of_another() -> None:
    claims = [
        claim("old-only", ("guide2010",)),
        claim("mixed-together", ("trial2024", "guide2010")),
        claim("mixed-each", ("trial2024", "guide2010"), Support.EACH),
        claim("new-only", ("trial2024",)),
    ]
    kept, removed, hidden = filter_claims(claims, REFS, Filters(since=2020))
    assert [(c.id, [r.id for r in rs]) for c, rs in kept] == [
        ("mixed-each", ["trial2024"]),
        ("new-only", ["trial2024"]),
    ]
    assert removed is None
    assert hidden == (Hidden("--since 2020", "needs-source", 1), Hidden("--since 2020", "no-source", 1))
    assert hidden_note(hidden) == (
        "Note: the filters hid 2 claims (--since 2020: 1 missing a source they need "
        "(support: together), 1 left with no source)."
    )


def test_one_source_claims_behave_the_same_under_both_kinds() -> None:
    for filters in (Filters(), Filters(min_rank=Rank.RCT), Filters(since=2020), Filters(since=2025)):
        assert kept_ids([claim("a", ("trial2024",))], filters) == kept_ids(
            [claim("a", ("trial2024",), Support.EACH)], filters
        )


def test_population_hides_claims_for_other_patients_and_says_so() -> None:
    claims = [claim("u", ("trial2024",), population=Population.UTERINE), claim("a", ("trial2024",))]
    kept, _, hidden = filter_claims(claims, REFS, Filters(population=Population.EXTRA_UTERINE))
    assert [c.id for c, _ in kept] == ["a"]
    assert hidden == (Hidden("--population extra-uterine", "population", 1),)


def test_the_filter_that_emptied_the_answer_is_still_named() -> None:
    base = EvidenceBase((TOPIC,), tuple(REFS.values()), (claim("both", ("review2022", "guide2010")),))
    with pytest.raises(NoResultsError) as info:
        select(base, "t", Filters(min_rank=Rank.GUIDELINE))
    assert info.value.message == "no claims left for 't': --min-rank guideline removed the last 1 claim"


# --- rank badges ----------------------------------------------------------------------------


def test_a_together_claim_is_as_strong_as_its_weakest_source() -> None:
    c = claim("both", ("trial2024", "guide2010"))
    assert claim_rank(c, (REFS["trial2024"], REFS["guide2010"])) is Rank.RCT


def test_an_each_claim_is_as_strong_as_its_strongest_shown_source() -> None:
    c = claim("any", ("case2019", "trial2024"), Support.EACH)
    assert claim_rank(c, (REFS["case2019"], REFS["trial2024"])) is Rank.RCT
    assert claim_rank(c, (REFS["case2019"],)) is Rank.CASE_SERIES


def test_compose_carries_what_was_hidden() -> None:
    base = EvidenceBase(
        (TOPIC,), tuple(REFS.values()), (claim("both", ("review2022", "guide2010")), claim("new", ("trial2024",)))
    )
    summary = compose(Query("t", Filters(since=2020)), select(base, "t", Filters(since=2020)))
    assert summary.hidden == (Hidden("--since 2020", "needs-source", 1),)
    assert [c.claim.id for s in summary.sections for c in s.claims] == ["new"]


# --- property: over generated bases and filters ---------------------------------------------

RANKS = list(Rank)


@st.composite
def bases(draw: st.DrawFn) -> tuple[dict[str, Reference], list[Claim]]:
    n_refs = draw(st.integers(1, 6))
    refs = {f"r{i}": ref(f"r{i}", draw(st.sampled_from(RANKS)), draw(st.integers(2000, 2026))) for i in range(n_refs)}
    claims = []
    for i in range(draw(st.integers(1, 8))):
        cites = draw(st.lists(st.sampled_from(sorted(refs)), min_size=1, max_size=n_refs, unique=True))
        claims.append(
            claim(f"c{i}", tuple(cites), draw(st.sampled_from(list(Support))), draw(st.sampled_from(list(Population))))
        )
    return refs, claims


filters_st = st.builds(
    Filters,
    min_rank=st.none() | st.sampled_from(RANKS),
    since=st.none() | st.integers(2000, 2027),
    population=st.none() | st.sampled_from([Population.UTERINE, Population.EXTRA_UTERINE]),
)


@settings(max_examples=300, deadline=None)
@given(bases(), filters_st)
def test_every_shown_claim_is_backed_by_sources_that_state_it(
    base: tuple[dict[str, Reference], list[Claim]], filters: Filters
) -> None:
    refs, claims = base
    kept, _, hidden = filter_claims(claims, refs, filters)
    for c, shown in kept:
        assert shown, "a claim is never shown without a source"
        assert {r.id for r in shown} <= set(c.cites), "every citation shown is one of the claim's sources"
        if c.support is Support.TOGETHER:
            assert [r.id for r in shown] == list(c.cites), "a together claim is shown only with all its sources"
        for r in shown:
            assert filters.min_rank is None or r.rank.at_least(filters.min_rank)
            assert filters.since is None or r.year >= filters.since
        strengths = [r.rank.strength for r in shown]
        expected = max(strengths) if c.support is Support.TOGETHER else min(strengths)
        assert claim_rank(c, shown).strength == expected
    assert len(kept) + sum(h.claims for h in hidden) == len(claims)


# --- the three cases users found, on the bundled base ------------------------------------------


def _shown(invoke: Invoke, *args: str) -> tuple[dict[str, Any], dict[str, Claim], dict[int, str]]:
    result = invoke("ask", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""  # in JSON, what was hidden is a field
    data = json.loads(result.stdout)
    base = load.load([load.bundled_dir()])
    claims = {c.id: c for c in base.claims}
    numbers = {r["number"]: r["id"] for r in data["references"]}
    return data, claims, numbers


def _assert_sources_state_it(data: dict[str, Any], claims: dict[str, Claim], numbers: dict[int, str]) -> None:
    for section in data["sections"]:
        for shown in section["claims"]:
            claim = claims[shown["id"]]
            cited = [numbers[n] for n in shown["citations"]]
            assert set(cited) <= set(claim.cites)
            if claim.support is Support.TOGETHER:
                assert sorted(cited) == sorted(claim.cites), claim.id


def test_a_guideline_filter_never_leaves_a_review_finding_cited_to_a_guideline(invoke: Invoke) -> None:
    data, claims, numbers = _shown(invoke, "first-line", "--min-rank", "guideline")
    _assert_sources_state_it(data, claims, numbers)
    statements = " ".join(c["statement"] for s in data["sections"] for c in s["claims"])
    assert "review found" not in statements
    assert data["hidden"] and all(h["filter"] == "--min-rank guideline" for h in data["hidden"])
    markdown = invoke("ask", "first-line", "--min-rank", "guideline", "--format", "markdown")
    assert "2022 review found that no first-line regimen" not in markdown.stdout
    assert markdown.stderr.startswith("Note: the filters hid ")


def test_since_never_cites_a_guideline_sentence_to_a_trial_alone(invoke: Invoke) -> None:
    data, claims, numbers = _shown(invoke, "first-line", "--since", "2020")
    _assert_sources_state_it(data, claims, numbers)
    ranks = {r["id"]: r["rank"] for r in data["references"]}
    for section in data["sections"]:
        for shown in section["claims"]:
            if "guideline" in shown["statement"].lower():
                assert any(ranks[numbers[n]] == "guideline" for n in shown["citations"]), shown["id"]


def test_a_claim_about_a_trial_is_not_badged_with_older_guidelines(invoke: Invoke) -> None:
    data, claims, numbers = _shown(invoke, "first-line")
    _assert_sources_state_it(data, claims, numbers)
    (badge,) = [
        c["rank"]
        for s in data["sections"]
        for c in s["claims"]
        if "rests on one randomised phase 3 trial" in c["statement"]
    ]
    assert badge == "rct"
