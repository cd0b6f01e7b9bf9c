"""refs.trials: phase and country filters, cited marks, labels (pure functions, no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms_cli import load
from lms_cli.errors import UsageError
from lms_cli.model import EvidenceBase
from lms_cli.refs import trials
from lms_cli.services.ctgov import Study
from tests.conftest import write

A = Study("NCT01000001", "A", phases=("PHASE2", "PHASE3"), countries=("France", "United States"))
B = Study("NCT01000002", "B", phases=("PHASE1",), countries=("Japan",))
C = Study("NCT01000003", "C", phases=("EARLY_PHASE1",))


@pytest.mark.parametrize(
    ("typed", "name"),
    [("1", "PHASE1"), ("3", "PHASE3"), ("phase4", "PHASE4"), ("PHASE2", "PHASE2"), ("early-1", "EARLY_PHASE1")],
)
def test_parse_phase(typed: str, name: str) -> None:
    assert trials.parse_phase(typed) == name


@pytest.mark.parametrize("typed", ["5", "two", "", "NA"])
def test_parse_phase_refuses_what_is_not_a_phase(typed: str) -> None:
    with pytest.raises(UsageError, match="is not a trial phase"):
        trials.parse_phase(typed)


def test_keep_filters_by_phase_and_country_case_insensitively() -> None:
    assert trials.keep([A, B, C], phase="PHASE3") == [A]
    assert trials.keep([A, B, C], phase="EARLY_PHASE1") == [C]
    assert trials.keep([A, B, C], country="united states") == [A]
    assert trials.keep([A, B, C], country=" JAPAN ") == [B]
    assert trials.keep([A, B, C], phase="PHASE1", country="France") == []
    assert trials.keep([A, B, C]) == [A, B, C]


def test_labels() -> None:
    assert trials.phase_label(("PHASE2", "PHASE3")) == "Phase 2/3"
    assert trials.phase_label(("EARLY_PHASE1",)) == "Early phase 1"
    assert trials.phase_label(("NA",)) == "n/a"
    assert trials.status_label("NOT_YET_RECRUITING") == "not yet recruiting"
    assert trials.status_label(None) == "status not given"


def base(tmp_path: Path) -> EvidenceBase:
    root = tmp_path
    write(
        root / "ev.yaml",
        """\
topics:
  - {slug: later, title: Later line, question: What after first line?, trials: trabectedin}
  - {slug: other, title: Other, question: Other?}
references:
  - {id: r1, design: rct, authors: [A A], title: T1, journal: J, year: 2020, pmid: "1", nct: [NCT01000001]}
  - {id: r2, design: rct, authors: [B B], title: T2, journal: J, year: 2021, pmid: "2", nct: [NCT01000002]}
claims:
  - {id: c1, topics: [later], section: answer, statement: S1., cites: [r1]}
  - {id: c2, topics: [other], section: answer, statement: S2., cites: [r2]}
""",
    )
    return load.load([root], load.MAX_FILE_BYTES)


def test_cited_trials_are_those_of_the_topics_references(tmp_path: Path) -> None:
    b = base(tmp_path)
    later = b.topic("later")
    assert trials.topic_ncts(b, later) == {"NCT01000001"}
    assert trials.topic_ncts(b, None) == {"NCT01000001", "NCT01000002"}
    rows = trials.rows([A, B], trials.topic_ncts(b, later))
    assert [(r.study.nct, r.cited) for r in rows] == [("NCT01000001", True), ("NCT01000002", False)]
