"""refs.updates: windows from review dates, triage strongest design first, counts (pure, no network)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from lms_cli import load
from lms_cli.model import EvidenceBase
from lms_cli.refs import updates
from lms_cli.refs.updates import Design
from lms_cli.services.pubmed import work_from_esummary
from lms_cli.services.records import Lookup, LookupState
from tests.conftest import DATA

DEC1 = dt.date(2026, 12, 1)
RECORDS = json.loads((DATA / "services" / "updates" / "esummary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def base() -> EvidenceBase:
    return load.load([DATA / "updates"])


def found(*pmids: str) -> dict[str, Lookup]:
    return {p: Lookup.found("PubMed", work_from_esummary(RECORDS[p])) for p in pmids}


@pytest.mark.parametrize(
    ("pubtypes", "design"),
    [
        (["Journal Article", "Practice Guideline", "Review"], Design.GUIDELINE),
        (["Consensus Development Conference"], Design.GUIDELINE),
        (["Systematic Review"], Design.META_ANALYSIS),
        (["Meta-Analysis", "Randomized Controlled Trial"], Design.META_ANALYSIS),
        (["Clinical Trial, Phase III", "Randomized Controlled Trial"], Design.RCT),
        (["Clinical Trial, Phase II"], Design.CLINICAL_TRIAL),
        (["Clinical Trial"], Design.CLINICAL_TRIAL),
        (["Journal Article", "Review"], Design.OTHER),
        ([], Design.OTHER),
    ],
)
def test_design_from_publication_types(pubtypes: list[str], design: Design) -> None:
    assert updates.design_of(pubtypes) is design


def test_flags() -> None:
    assert updates.flags_of(["Journal Article", "Retracted Publication"]) == ("retracted",)
    assert updates.flags_of(["Published Erratum"]) == ("erratum",)
    assert updates.flags_of(["Journal Article", "Retraction of Publication"]) == ()


# --- windows ----------------------------------------------------------------------------------


def test_the_window_starts_at_the_earliest_review_of_the_topic(base: EvidenceBase) -> None:
    plans, skipped = updates.plan(base, [], None, DEC1)
    assert [(p.topic.slug, p.window) for p in plans] == [
        ("first-line", updates.Window(dt.date(2026, 1, 15), DEC1)),
        ("recurrence", updates.Window(dt.date(2026, 3, 10), DEC1)),
    ]
    assert plans[0].query == base.topics[0].pubmed and skipped == []


def test_since_overrides_the_review_dates_and_slugs_select(base: EvidenceBase) -> None:
    plans, _ = updates.plan(base, ["recurrence"], dt.date(2020, 1, 1), DEC1)
    assert [(p.topic.slug, p.window.start) for p in plans] == [("recurrence", dt.date(2020, 1, 1))]


def test_topics_without_a_query_or_a_review_date_are_skipped(base: EvidenceBase) -> None:
    no_query = base.topics[0]._replace(pubmed=None)
    unreviewed = base._replace(
        topics=(no_query, base.topics[1]), claims=tuple(c._replace(reviewed=None) for c in base.claims)
    )
    plans, skipped = updates.plan(unreviewed, [], None, DEC1)
    assert plans == []
    assert skipped == [
        updates.Skipped("first-line", "no pubmed: query"),
        updates.Skipped("recurrence", "no claim has a reviewed date (give --since DATE)"),
    ]
    plans, _ = updates.plan(unreviewed, [], dt.date(2026, 6, 1), DEC1)
    assert [p.topic.slug for p in plans] == ["recurrence"]


# --- triage -----------------------------------------------------------------------------------

FIRST_LINE = ["24618336", "39990104", "39990105", "39990107", "39990102", "39990103", "39990101"]


def test_to_summarise_drops_the_base_pmids_and_repeats(base: EvidenceBase) -> None:
    assert updates.to_summarise([FIRST_LINE, ["39990102", "39990106"]], base) == [
        "39990104",
        "39990105",
        "39990107",
        "39990102",
        "39990103",
        "39990101",
        "39990106",
    ]


def test_triage_ranks_the_strongest_first_and_recognises_the_base(base: EvidenceBase) -> None:
    plans, _ = updates.plan(base, ["first-line"], None, DEC1)
    lookups = found(*FIRST_LINE[1:])
    result = updates.triage(plans[0], DEC1, 9, FIRST_LINE, lookups, base)
    assert [(i.pmid, i.design.value, i.flags) for i in result.items] == [
        ("39990103", "guideline", ()),
        ("39990101", "meta-analysis", ()),
        ("39990102", "rct", ()),
        ("39990107", "clinical-trial", ()),
        ("39990104", "other", ("retracted",)),
    ]
    # 39990105 has a new PMID but the DOI of a DOI-only reference (compared case-blind)
    assert result.present == (updates.Present("39990105", "10.5555/lms.test.0105", "doionly2026"),)
    assert result.counts == {
        "found": 9,
        "in_base_pmid": 1,
        "in_base_doi": 1,
        "new": 5,
        "retracted": 1,
        "errata": 0,
        "not_listed": 2,
        "not_summarised": 0,
    }


def test_within_a_design_newest_first_undated_last(base: EvidenceBase) -> None:
    plans, _ = updates.plan(base, ["recurrence"], None, DEC1)
    lookups = found("39990106", "39990108", "39990104")
    result = updates.triage(plans[0], DEC1, 3, ["39990108", "39990104", "39990106"], lookups, base)
    assert [(i.pmid, i.date, i.flags) for i in result.items] == [
        ("39990106", "2026-06-10", ("erratum",)),
        ("39990104", "2026-04-01", ("retracted",)),
        ("39990108", None, ()),
    ]


def test_records_missing_are_counted_not_listed(base: EvidenceBase) -> None:
    plans, _ = updates.plan(base, ["recurrence"], None, DEC1)
    lookups = {
        "39990106": Lookup(LookupState.NOT_CACHED, "PubMed"),
        "39990108": Lookup(LookupState.NOT_FOUND, "PubMed"),
    }
    result = updates.triage(plans[0], DEC1, 2, ["39990106", "39990108"], lookups, base)
    assert result.items == () and result.uncached == ("39990106",) and result.unavailable == ("39990108",)
    assert result.counts["not_summarised"] == 2


def test_summary_lines(base: EvidenceBase) -> None:
    plans, _ = updates.plan(base, [], None, DEC1)
    empty = updates.Updates(tuple(updates.triage(p, DEC1, 0, [], {}, base) for p in plans))
    assert updates.summary_line(empty) == "Nothing new in 2 topics."
    one = updates.triage(plans[0], DEC1, 1, ["39990101"], found("39990101"), base)
    assert updates.summary_line(updates.Updates((one, empty.topics[1]))) == (
        "1 new publication in 1 topic of 2; take one in with `lms refs add PMID --to FILE`."
    )
