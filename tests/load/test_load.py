"""Loading evidence directories: every problem found in one run, each with FILE:LINE:COL."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms_cli import load
from lms_cli.errors import EvidenceError, UsageError
from lms_cli.model import Population, Rank, Section
from tests.conftest import BASE, write

GOOD_REF = """\
  - id: ref1
    design: rct
    authors: [Judson I, et al.]
    title: A title
    journal: Lancet Oncol
    year: 2014
    pmid: "24618336"
"""


def problems(tmp_path: Path, text: str, name: str = "e.yaml") -> list[str]:
    write(tmp_path / name, text)
    with pytest.raises(EvidenceError) as info:
        load.load([tmp_path])
    prefix = str(tmp_path) + "/"
    return [str(p).removeprefix(prefix) for p in info.value.problems]


def test_fixture_base_loads_in_file_order() -> None:
    base = load.load([BASE])
    assert [t.slug for t in base.topics] == ["first-line", "recurrence"]
    assert [c.id for c in base.claims][:2] == ["fl-answer", "fl-kp-pfs"]
    judson = base.reference_map()["judson2014"]
    assert judson.rank is Rank.RCT
    assert judson.authors_incomplete
    assert judson.named_authors == ("Judson I", "Verweij J", "Gelderblom H")
    assert judson.key == "pmid:24618336"
    claim = base.claims[3]
    assert claim.population is Population.UTERINE
    assert claim.section is Section.IMPLICATION
    assert judson.where is not None and judson.where.line == 2


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = (
        "references:\n" + GOOD_REF + "  - id: ref2\n    design: rtc\n    titel: X\n"
        "claims:\n  - id: c1\n    topics: [nope]\n    section: answer\n    statement: S.\n    cites: [ref1, ref9]\n"
        "    reviewed: 2026-13-01\n"
    )
    assert problems(tmp_path, text) == [
        "e.yaml:9:5: reference is missing required field 'authors'",
        "e.yaml:9:5: reference is missing required field 'journal'",
        "e.yaml:9:5: reference is missing required field 'title'",
        "e.yaml:9:5: reference is missing required field 'year'",
        "e.yaml:10:13: field 'design' 'rtc' is not one of guideline, meta-analysis, rct, prospective, "
        "retrospective, case-series, review, expert-opinion (did you mean 'rct'?)",
        "e.yaml:11:5: unknown field 'titel' in reference (did you mean 'title'?)",
        "e.yaml:14:14: unknown topic 'nope'",
        "e.yaml:17:19: unknown reference 'ref9' (did you mean 'ref1'?)",
        "e.yaml:18:15: field 'reviewed' must be a date like 2026-11-27, not '2026-13-01'",
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pmid", '"PMID123"', "'PMID123' is not a PMID (digits only)"),
        ("pmid", '"1\u0662\u0663"', "is not a PMID (digits only)"),  # Arabic-Indic digits are not a PMID
        ("pmcid", '"PMC\u0661\u0662"', "is not a PMCID like PMC1234567"),
        ("doi", "https://doi.org/10.1/x", "is not a DOI like 10.1000/xyz"),
        ("pmcid", '"12345"', "'12345' is not a PMCID like PMC1234567"),
        ("year", "'2014'", "must be a year like 2014, not text"),
        ("year", "1492", "1492 is not a plausible publication year"),
        ("n", "-3", "must be a positive whole number, not -3"),
        ("findings", "just text", "must be a list, not text"),
        ("authors", "[]", "must not be an empty list"),
        ("title", "''", "must not be empty"),
    ],
)
def test_malformed_fields(tmp_path: Path, field: str, value: str, message: str) -> None:
    kept = [line for line in GOOD_REF.splitlines() if not line.strip().startswith(field + ":")]
    ref = "\n".join(kept) + f"\n    {field}: {value}\n"
    found = problems(tmp_path, "references:\n" + ref)
    assert len(found) == 1
    assert message in found[0]
    assert found[0].startswith("e.yaml:")


def test_list_items_point_at_the_item(tmp_path: Path) -> None:
    found = problems(tmp_path, "references:\n" + GOOD_REF + "    findings:\n      - ok\n      - 12\n")
    assert found == ["e.yaml:11:9: findings[2] must be text, not the number 12"]


def test_reference_needs_doi_or_pmid(tmp_path: Path) -> None:
    found = problems(tmp_path, "references:\n" + GOOD_REF.replace('    pmid: "24618336"\n', ""))
    assert found == ["e.yaml:2:5: reference needs a doi or a pmid"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "e.yaml:1:1: file is empty: expected topics, references or claims"),
        ("- a\n- b\n", "e.yaml:1:1: file must be a mapping with topics, references or claims, not a list"),
        ("just text\n", "e.yaml:1:1: file must be a mapping with topics, references or claims, not text"),
        ("claims: 3\n", "e.yaml:1:9: 'claims' must be a list, not the number 3"),
        ("claims: [x]\n", "e.yaml:1:10: each of claims must be a mapping of fields, not text"),
        (
            "claim: []\n",
            "e.yaml:1:1: unknown top-level key 'claim' (did you mean 'claims'?); expected topics, references or claims",
        ),
    ],
)
def test_file_shape_problems(tmp_path: Path, text: str, expected: str) -> None:
    assert problems(tmp_path, text) == [expected]


def test_duplicate_ids_across_directories_name_both_places(tmp_path: Path) -> None:
    write(tmp_path / "a" / "x.yaml", "references:\n" + GOOD_REF)
    write(tmp_path / "b" / "y.yaml", "topics:\n  - {slug: ref1, title: T, question: Q?}\n")
    with pytest.raises(EvidenceError) as info:
        load.load([tmp_path / "a", tmp_path / "b"])
    (problem,) = info.value.problems
    assert problem.path.endswith("b/y.yaml")
    assert problem.message == f"duplicate id 'ref1' (topic); first defined at {tmp_path / 'a' / 'x.yaml'}:2"


def test_duplicate_keys_are_problems(tmp_path: Path) -> None:
    found = problems(tmp_path, "references:\n" + GOOD_REF + "    year: 2015\n")
    assert found == ["e.yaml:9:5: duplicate key 'year' (first at line 7)"]


def test_files_are_found_recursively_and_sorted(tmp_path: Path) -> None:
    write(tmp_path / "z.yml", "topics:\n  - {slug: zz, title: Z, question: Z?}\n")
    write(tmp_path / "sub" / "a.yaml", "topics:\n  - {slug: aa, title: A, question: A?}\n")
    write(tmp_path / "notes.txt", "not evidence")
    base = load.load([tmp_path])
    assert [t.slug for t in base.topics] == ["aa", "zz"]


def test_symlink_loop_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "d" / "a.yaml", "topics:\n  - {slug: aa, title: A, question: A?}\n")
    (tmp_path / "d" / "loop").symlink_to(tmp_path / "d")
    base = load.load([tmp_path / "d"])
    assert [t.slug for t in base.topics] == ["aa"]


def test_empty_directory_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(EvidenceError) as info:
        load.load([tmp_path / "empty"])
    assert info.value.problems[0].message == "no .yaml or .yml evidence files here"


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "big.yaml", "topics: []\n" + "#" * 200 + "\n")
    with pytest.raises(EvidenceError) as info:
        load.load([tmp_path], max_bytes=100)
    assert "over the limit of 100" in info.value.problems[0].message


def test_sources_order_and_usage_errors(tmp_path: Path) -> None:
    assert load.sources(True, [tmp_path]) == [load.bundled_dir(), tmp_path]
    with pytest.raises(UsageError, match="--no-bundled needs"):
        load.sources(False, [])
    with pytest.raises(UsageError, match="evidence path not found"):
        load.sources(True, [tmp_path / "missing"])


def test_bundled_base_is_found() -> None:
    assert (load.bundled_dir() / "topics").is_dir()


@pytest.mark.parametrize(
    "doi",
    ["'10.1000/a}b'", "'10.1000/a{b'", """'10.1000/a"b'""", r"'10.1000/a\b'", r'"10.1000/a\u0085b"', r'"10.1/a\tb"'],
)
def test_a_doi_with_characters_that_break_exports_is_refused(tmp_path: Path, doi: str) -> None:
    ref = GOOD_REF + f"    doi: {doi}\n"  # a YAML scalar
    found = problems(tmp_path, "references:\n" + ref)
    assert len(found) == 1 and "is not a DOI like 10.1000/xyz" in found[0], found


def test_registered_doi_shapes_still_load(tmp_path: Path) -> None:
    dois = [
        "10.1002/(SICI)1097-0142(19990101)85:1<1::AID-CNCR1>3.0.CO;2-6",
        "10.1016/S1470-2045(14)70063-4",
        "10.1000/a#b%c",
    ]
    refs = "".join(
        GOOD_REF.replace("ref1", f"ref{i}").replace("24618336", str(24618336 + i)) + f'    doi: "{d}"\n'
        for i, d in enumerate(dois)
    )
    write(tmp_path / "e.yaml", "references:\n" + refs)
    assert [r.doi for r in load.load([tmp_path]).references] == dois


def test_a_citation_of_an_invalid_reference_says_so_not_unknown(tmp_path: Path) -> None:
    write(
        tmp_path / "e.yaml",
        "topics:\n  - {slug: t, title: T, question: Q?}\n"
        "references:\n  - {id: smith2020, design: rct, authors: [Smith J], title: X, journal: J, year: 20200,"
        " doi: 10.1000/x}\n  - {id: jones2021, design: rct, authors: [Jones J], title: Y, journal: J, year: 2021}\n"
        "claims:\n  - {id: c, topics: [t], section: answer, statement: S., cites: [smith2020, jones2021, nobody]}\n",
    )
    with pytest.raises(EvidenceError) as info:
        load.load([tmp_path])
    messages = [p.message for p in info.value.problems]
    assert "reference 'smith2020' has problems of its own (listed), so it cannot be cited" in messages
    assert "reference 'jones2021' has problems of its own (listed), so it cannot be cited" in messages
    assert "unknown reference 'nobody'" in messages
