"""Composing a Summary: sections, numbering by first use, glance, review date."""

from __future__ import annotations

import datetime as dt

from lms_cli import load
from lms_cli.compose import compose
from lms_cli.model import Filters, Query, Rank, Section
from lms_cli.select import select
from tests.conftest import BASE


def test_summary_numbers_references_by_first_use() -> None:
    base = load.load([BASE])
    query = Query("first-line")
    summary = compose(query, select(base, "first-line", Filters()))
    assert [s.section for s in summary.sections] == [
        Section.ANSWER,
        Section.KEY_POINT,
        Section.ADVANCE,
        Section.IMPLICATION,
    ]
    assert [(e.number, e.reference.id) for e in summary.references] == [
        (1, "judson2014"),
        (2, "pautier2022"),
        (3, "mizoshiri2018"),
        (4, "gladdy2013"),
    ]
    answer = summary.sections[0].claims[0]
    assert answer.numbers == (1, 2)
    assert answer.rank is Rank.RCT
    advance = summary.sections[2].claims[0]
    assert advance.rank is Rank.RETROSPECTIVE  # best of case-series and retrospective
    assert summary.glance.by_rank == ((Rank.RCT, 2), (Rank.RETROSPECTIVE, 1), (Rank.CASE_SERIES, 1))
    assert (summary.glance.first_year, summary.glance.last_year, summary.glance.total) == (2013, 2022, 4)
    assert summary.reviewed_through == dt.date(2026, 2, 1)


def test_reviewed_through_is_none_without_dates() -> None:
    base = load.load([BASE])
    summary = compose(Query("recurrence"), select(base, "recurrence", Filters()))
    assert summary.reviewed_through is None
    assert [e.reference.id for e in summary.references] == ["gladdy2013", "mizoshiri2018"]
