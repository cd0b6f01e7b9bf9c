"""Report specs and composition: FILE:LINE:COL problems, shared numbering, empty sections, the date."""

from __future__ import annotations

import datetime as dt

import pytest

from lms_cli import load
from lms_cli.errors import EvidenceError, ExitCode
from lms_cli.model import EvidenceBase, Population, Rank, Topic
from lms_cli.report import Report, ReportSpec, SpecError, compose_report, parse_spec
from tests.conftest import BASE, DATA

TODAY = dt.date(2030, 1, 2)


def base() -> EvidenceBase:
    return load.load([BASE])


def spec(text: str) -> ReportSpec:
    return parse_spec(text.encode(), "r.yaml")


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        spec(text)
    return [str(p) for p in info.value.problems]


def build(text: str) -> Report:
    return compose_report(spec(text), base(), TODAY)


def test_parses_every_field() -> None:
    parsed = parse_spec((DATA / "report.yaml").read_bytes(), "report.yaml")
    assert parsed.title == "LMS fixture report: first-line therapy and recurrence"
    assert parsed.subtitle == "A small report for the golden-file tests"
    assert parsed.author == ("A. Writer", "B. Reviewer")
    assert parsed.date == dt.date(2026, 3, 1)
    assert [s.topic for s in parsed.sections] == ["first-line", "recurrence", "recurrence", "first-line"]
    assert parsed.sections[0].intro == "Randomised trials of first-line chemotherapy."
    assert parsed.sections[1].heading == "How often LMS recurs"
    assert parsed.sections[2].filters.min_rank is Rank.RCT
    last = parsed.sections[3].filters
    assert (last.since, last.population, last.min_rank) == (2022, Population.UTERINE, None)
    assert parsed.sections[0].at == (7, 12)


def test_minimal_spec_and_single_author() -> None:
    parsed = spec("title: T\nauthor: Someone\nsections:\n  - topic: first-line\n")
    assert (parsed.author, parsed.subtitle, parsed.date) == (("Someone",), None, None)


def test_every_problem_is_reported_with_its_position() -> None:
    text = (
        "title: [not, text]\n"
        "subtitel: x\n"
        "date: 2026-13-01\n"
        "sections:\n"
        "  - topic: first-line\n"
        "    min_rank: rtc\n"
        "    since: 1700\n"
        "    population: all\n"
        "  - heading: no topic\n"
        "  - just text\n"
    )
    assert problems(text) == [
        "r.yaml:1:8: field 'title' must be text, not a list",
        "r.yaml:2:1: unknown field 'subtitel' in the report spec (did you mean 'subtitle'?)",
        "r.yaml:3:7: field 'date' must be a date like 2026-11-27, not '2026-13-01'",
        "r.yaml:6:15: field 'min_rank' 'rtc' is not one of guideline, meta-analysis, rct, prospective, "
        "retrospective, case-series, review, expert-opinion (did you mean 'rct'?)",
        "r.yaml:7:12: field 'since' 1700 is not a year between 1800 and 2100",
        "r.yaml:8:17: field 'population' 'all' is not one of uterine, extra-uterine",
        "r.yaml:9:5: section 2 is missing required field 'topic'",
        "r.yaml:10:5: each section must be a mapping with a topic, not text",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["r.yaml:1:1: file is empty: expected a report spec with title and sections"]),
        ("- a list\n", ["r.yaml:1:1: a report spec must be a mapping, not a list"]),
        ("title: T\n", ["r.yaml:1:1: the report spec is missing required field 'sections'"]),
        ("title: T\nsections: []\n", ["r.yaml:2:11: field 'sections' must be a non-empty list of sections"]),
        ("sections:\n  - topic: x\n", ["r.yaml:1:1: the report spec is missing required field 'title'"]),
        ("title: T\ntitle: U\nsections:\n  - topic: x\n", ["r.yaml:2:1: duplicate key 'title' (first at line 1)"]),
        (
            "title: [unclosed\n",
            [
                "r.yaml:2:1: YAML syntax error: expected ',' or ']', but got '<stream end>' "
                "(while parsing a flow sequence)"
            ],
        ),
        (
            "title: !!python/object:os.system x\n",
            ["r.yaml:1:8: tag 'tag:yaml.org,2002:python/object:os.system' is not allowed in evidence files"],
        ),
    ],
)
def test_spec_file_problems(text: str, expected: list[str]) -> None:
    assert problems(text) == expected


def test_spec_error_is_an_evidence_error_with_its_own_heading() -> None:
    with pytest.raises(EvidenceError) as info:
        spec("title: T\n")
    assert info.value.exit_code is ExitCode.INVALID_EVIDENCE
    assert info.value.message == (
        "1 problem in the report spec:\nr.yaml:1:1: the report spec is missing required field 'sections'"
    )


def test_undecodable_spec_is_a_problem() -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(b"title: \xff\n", "r.yaml")
    assert [str(p) for p in info.value.problems] == ["r.yaml:1:8: file is not valid UTF-8 (byte 7)"]


def test_unknown_topic_is_a_spec_problem_at_the_slug() -> None:
    with pytest.raises(SpecError) as info:
        build("title: T\nsections:\n  - topic: first-line\n  - topic: first-lines\n  - topic: nothing-like\n")
    assert [str(p) for p in info.value.problems] == [
        "r.yaml:4:12: unknown topic 'first-lines' (did you mean 'first-line'?)",
        "r.yaml:5:12: unknown topic 'nothing-like'",
    ]
    assert info.value.hint == "run `lms topics` to list them"


def test_numbering_is_shared_across_sections() -> None:
    report = build("title: T\nsections:\n  - topic: first-line\n  - topic: recurrence\n")
    assert [(e.number, e.reference.id) for e in report.references] == [
        (1, "judson2014"),
        (2, "pautier2022"),
        (3, "mizoshiri2018"),
        (4, "gladdy2013"),
    ]
    recurrence = report.sections[1]
    answer = recurrence.parts[0].claims[0]
    assert answer.claim.id == "rec-answer"
    assert answer.numbers == (4,)  # gladdy2013 keeps the number it got in the first section
    assert [c.numbers for p in recurrence.parts for c in p.claims] == [(4,), (3, 4)]
    assert report.glance.total == 4


def test_numbers_follow_first_use_in_report_order() -> None:
    report = build("title: T\nsections:\n  - topic: recurrence\n  - topic: first-line\n")
    assert [e.reference.id for e in report.references] == ["gladdy2013", "mizoshiri2018", "judson2014", "pautier2022"]
    first_line_answer = report.sections[1].parts[0].claims[0]
    assert first_line_answer.numbers == (3, 4)


def test_a_section_the_filters_empty_says_why_and_others_still_render() -> None:
    report = build(
        "title: T\nsections:\n  - topic: recurrence\n    min_rank: rct\n"
        "  - topic: recurrence\n    since: 2020\n  - topic: first-line\n    since: 2022\n"
    )
    empty, since, kept = report.sections
    assert empty.parts == ()
    assert empty.empty == "No claims left after the filters: min-rank rct removed the last 2 claims."
    assert since.empty == "No claims left after the filters: since 2020 removed the last 2 claims."
    assert kept.empty is None
    assert [e.reference.id for e in report.references] == ["pautier2022"]


def test_a_topic_without_claims_says_so() -> None:
    evidence = base()
    empty_topic = EvidenceBase(
        (*evidence.topics, Topic("lonely", "Lonely", "Nothing here?")), evidence.references, evidence.claims
    )
    report = compose_report(spec("title: T\nsections:\n  - topic: lonely\n"), empty_topic, TODAY)
    assert report.sections[0].empty == "No claims on this topic in the evidence base."
    assert report.references == ()
    assert report.glance.total == 0
    assert report.reviewed_through is None


def test_date_comes_from_the_spec_else_the_given_day() -> None:
    assert build("title: T\ndate: 2026-03-01\nsections:\n  - topic: first-line\n").date == dt.date(2026, 3, 1)
    assert build("title: T\nsections:\n  - topic: first-line\n").date == TODAY


def test_heading_defaults_to_topic_title_and_review_date_spans_sections() -> None:
    report = build("title: T\nsections:\n  - topic: recurrence\n  - topic: first-line\n    heading: Mine\n")
    assert [s.heading for s in report.sections] == ["Recurrence", "Mine"]
    assert report.reviewed_through == dt.date(2026, 2, 1)


def test_spec_problems_are_capped_like_evidence_problems() -> None:
    text = "title: T\nsections:\n" + "".join(f"  - topic: no-such-{i}\n    colour: red\n" for i in range(5001))
    with pytest.raises(SpecError) as info:
        compose_report(spec(text), base(), TODAY)  # 5,001 unknown topics, or 5,001 unknown fields
    listed = info.value.problems
    assert len(listed) == load.MAX_PROBLEMS + 1
    assert listed[-1].message.startswith(f"stopped after {load.MAX_PROBLEMS} problems in this spec (")
    assert len(info.value.message.splitlines()) == load.MAX_PROBLEMS + 2


def test_ten_thousand_sections_render_with_linear_heading_ids() -> None:
    from lms_cli.render import report as render_report

    class Probes(set[str]):
        count = 0

        def __contains__(self, item: object) -> bool:
            Probes.count += 1
            return super().__contains__(item)

    texts = ["Same heading"] * 10_000 + ["Same heading-3", "Same heading"]
    ids = render_report.unique_ids(texts, Probes())
    assert ids[:3] == ["same-heading", "same-heading-1", "same-heading-2"]
    assert ids[-2:] == ["same-heading-3-1", "same-heading-10000"]
    assert len(set(ids)) == len(ids)
    assert Probes.count <= 3 * len(texts)  # was n^2/2: 50 million probes for 10,000 sections
    text = "title: T\nsections:\n" + "  - topic: first-line\n" * 2000
    out = render_report.markdown(build(text))
    assert out.count("](#first-line-therapy") == 2000 and "](#first-line-therapy-1999)" in out  # contents links
