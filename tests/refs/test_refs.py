"""refs: parsing service records, comparing them with references, YAML entries, atomic appends."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from lms_cli import load
from lms_cli.errors import EvidenceError, UsageError
from lms_cli.model import EvidenceBase, Rank, Reference
from lms_cli.refs.entries import Entry, add_to_file, appended, base_id, entry_yaml, guess_design, make_entries
from lms_cli.refs.verify import Status, check, compare, counts, same_journal, surname
from lms_cli.render import json as render_json
from lms_cli.render import markdown as render_markdown
from lms_cli.services.crossref import work_from_crossref
from lms_cli.services.pubmed import work_from_esummary
from lms_cli.services.records import IdKind, Lookup, LookupState, Work, clean_text, parse_identifier
from tests.conftest import BASE, DATA, write

SERVICES = DATA / "services"


def record(pmid: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SERVICES / "esummary" / f"{pmid}.json").read_text(encoding="utf-8"))
    return data


def crossref(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SERVICES / "crossref" / f"{name}.json").read_text(encoding="utf-8"))["message"]
    return data


@pytest.fixture(scope="module")
def base() -> EvidenceBase:
    return load.load([BASE])


def ref(base: EvidenceBase, ref_id: str, **changes: Any) -> Reference:

    return base.reference_map()[ref_id]._replace(**changes)


# --- cleaning and parsing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Loss of &lt;i&gt;ATRX&lt;/i&gt; in LMS.", "Loss of ATRX in LMS."),
        ("&amp;lt;i&amp;gt;MED12&amp;lt;/i&amp;gt; status", "MED12 status"),  # escaped twice
        ("<i>MDM2</i> and <sub>2</sub> <mml:math>x</mml:math>", "MDM2 and 2 x"),
        ("p &lt; 0.05 and q &gt; 1", "p < 0.05 and q > 1"),  # a lone '<' is text, not a tag
        ("  spaced\n  out  ", "spaced out"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_esummary_record_becomes_a_work() -> None:
    work = work_from_esummary(record("23354568"))
    assert work.title == "Predictors of survival and recurrence in primary leiomyosarcoma"  # final stop dropped
    assert work.authors == ("Gladdy RA", "Qin LX", "Moraco N", "Agaram NP", "Brennan MF", "Singer S")
    assert (work.journal, work.journal_full) == ("Ann Surg Oncol", "Annals of surgical oncology")
    assert work.years == (2013,)
    assert (work.volume, work.issue, work.pages) == ("20", "6", "1851-7")
    assert (work.doi, work.pmid, work.pmcid) == ("10.1245/s10434-013-2876-y", "23354568", "PMC3657306")
    assert work.retraction is None


def test_esummary_years_and_entities_and_retraction() -> None:
    judson = work_from_esummary(record("24618336"))
    assert judson.years == (2014,)
    assert judson.authors[-1].startswith("European Organisation")  # a collective name is kept
    html = work_from_esummary(record("39990001"))
    assert html.title == "Loss of ATRX and DAXX in uterine leiomyosarcoma & its precursors: a synthetic record"
    assert html.years == (2025,)  # "2025 Oct-Dec"
    retracted = work_from_esummary(record("39990002"))
    assert retracted.retraction == "PubMed lists it as a Retracted Publication"


def test_esummary_doi_falls_back_to_elocationid() -> None:
    rec = record("29718861")
    rec["articleids"] = [{"idtype": "pubmed", "value": "29718861"}]
    assert work_from_esummary(rec).doi == "10.1097/MD.0000000000010598"


def test_crossref_message_becomes_a_work() -> None:
    work = work_from_crossref(crossref("hensley2015"))
    assert work.source == "Crossref"
    assert work.authors == ("Hensley ML", "Miller A")
    assert (work.journal, work.journal_full) == ("JCO", "Journal of Clinical Oncology")
    assert work.years == (2015,)
    assert work.pages == "1180-1185"
    assert work.retraction is None


def test_crossref_retractions() -> None:
    notice = {
        "DOI": "10.5555/n",
        "title": ["Retraction notice"],
        "update-to": [{"type": "retraction", "DOI": "10.5555/x"}],
    }
    assert work_from_crossref(notice).retraction == "this DOI is a retraction notice"
    retracted = {"DOI": "10.5555/x", "title": ["A <i>study</i>"], "updated-by": [{"type": "retraction"}]}
    assert work_from_crossref(retracted).retraction == "Crossref records a retraction of it"
    assert work_from_crossref(retracted).title == "A study"
    titled = {"DOI": "10.5555/y", "title": ["RETRACTED: A study"]}
    assert work_from_crossref(titled).retraction == "its title says 'RETRACTED'"


# --- comparing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref_id", "pmid"),
    [
        ("judson2014", "24618336"),
        ("pautier2022", "35835135"),
        ("gladdy2013", "23354568"),
        ("mizoshiri2018", "29718861"),
    ],
)
def test_fixture_base_matches_its_records(base: EvidenceBase, ref_id: str, pmid: str) -> None:
    result = check(base.reference_map()[ref_id], Lookup.found("PubMed", work_from_esummary(record(pmid))))
    assert result.mismatches == ()
    assert result.status is Status.VERIFIED


def test_title_mismatch_names_both_values(base: EvidenceBase) -> None:
    wrong = ref(base, "gladdy2013", title="Predictors of survival in primary leiomyosarcoma")
    result = check(wrong, Lookup.found("PubMed", work_from_esummary(record("23354568"))))
    assert result.status is Status.MISMATCH
    assert [(m.field, m.ours, m.theirs) for m in result.mismatches] == [
        (
            "title",
            "Predictors of survival in primary leiomyosarcoma",
            "Predictors of survival and recurrence in primary leiomyosarcoma",
        ),
    ]


def test_titles_compare_without_case_punctuation_or_markup(base: EvidenceBase) -> None:
    work = work_from_esummary(record("39990001"))
    ours = ref(
        base,
        "gladdy2013",
        title="Loss of ATRX and DAXX in Uterine Leiomyosarcoma & its precursors - a synthetic record",
    )
    assert "title" not in [m.field for m in compare(ours, work)]


def test_other_fields_are_compared(base: EvidenceBase) -> None:
    work = work_from_esummary(record("23354568"))
    wrong = ref(base, "gladdy2013", year=2012, journal="Ann Oncol", authors=("Singer S",), doi="10.1245/other")
    fields = {m.field: (m.ours, m.theirs) for m in compare(wrong, work)}
    assert fields == {
        "year": ("2012", "2013"),
        "journal": ("Ann Oncol", "Ann Surg Oncol"),
        "first author": ("Singer S", "Gladdy RA"),
        "doi": ("10.1245/other", "10.1245/s10434-013-2876-y"),
    }


def test_electronic_year_and_accents_are_accepted(base: EvidenceBase) -> None:
    work = work_from_esummary(record("23354568"))
    assert compare(ref(base, "gladdy2013", year=2013), work) == ()
    epub = Work("PubMed", work.title, work.authors, work.journal, years=(2014, 2013))
    assert compare(ref(base, "gladdy2013"), epub) == ()
    assert surname("Schöffski P") == surname("Schoffski P") == "schoffski"
    assert surname("van der Graaf WTA") == surname("Van Der Graaf W") == "vandergraaf"


@pytest.mark.parametrize(
    ("ours", "full", "same"),
    [
        ("J Clin Oncol", "Journal of Clinical Oncology", True),
        ("Lancet Oncol", "The Lancet Oncology", True),
        ("Cancers (Basel)", "Cancers", True),
        ("Radiol Med", "La radiologia medica", True),
        ("Ann Surg Oncol", "Annals of Surgical Oncology", True),
        ("Ann Oncol", "Annals of Surgical Oncology", False),
        ("Cancer", "Journal of Cancer Research", False),
    ],
)
def test_journal_abbreviations(ours: str, full: str, same: bool) -> None:
    assert same_journal(ours, Work("Crossref", "t", journal="JCO", journal_full=full)) is same


def test_check_maps_every_lookup_state(base: EvidenceBase) -> None:
    r = base.reference_map()["judson2014"]
    assert check(r, Lookup(LookupState.NOT_FOUND, "PubMed")).detail == "PubMed has no record for PMID 24618336"
    offline = check(r, Lookup(LookupState.NOT_CACHED, "PubMed"))
    assert (offline.status, offline.unreachable) == (Status.UNCHECKED, False)
    failed = check(r, Lookup(LookupState.FAILED, "PubMed", detail="PubMed could not be reached"))
    assert (failed.status, failed.unreachable) == (Status.UNCHECKED, True)
    assert failed.detail == "PubMed could not be reached"
    retracted = Work("PubMed", r.title, r.authors, r.journal, years=(2014,), retraction="withdrawn")
    assert check(r, Lookup.found("PubMed", retracted)).status is Status.RETRACTED


def test_a_doi_only_reference_checked_against_pubmed_says_what_was_asked(base: EvidenceBase) -> None:
    r = ref(base, "judson2014", pmid=None, doi="10.1016/S1470-2045(14)70063-4")
    work = work_from_esummary(record("24618336"))  # its DOI, a PMID our reference lacks
    verified = check(r, Lookup.found("PubMed", work))
    assert verified.mismatches == ()  # the PMID is not compared: we have none
    assert verified.detail == "DOI 10.1016/S1470-2045(14)70063-4 (PMID 24618336 via PMC) matches PubMed"
    offline = check(r, Lookup(LookupState.NOT_CACHED, "PubMed"))
    assert offline.detail == "offline and DOI 10.1016/S1470-2045(14)70063-4 (via PMC) is not cached"
    assert check(r, Lookup.found("Crossref", work)).detail == "DOI 10.1016/S1470-2045(14)70063-4 matches Crossref"
    other = check(ref(base, "judson2014", pmid="1"), Lookup.found("PubMed", work))
    assert [m.field for m in other.mismatches] == ["pmid"]


def test_reports(base: EvidenceBase) -> None:
    r = ref(base, "gladdy2013", title="A | piped *title*")
    results = [
        check(r, Lookup.found("PubMed", work_from_esummary(record("23354568")))),
        check(base.reference_map()["judson2014"], Lookup(LookupState.NOT_FOUND, "PubMed")),
    ]
    data = json.loads(render_json.verify(results))
    assert data["schema_version"] == 1
    assert data["summary"] == {"verified": 0, "mismatch": 1, "not-found": 1, "retracted": 0, "unchecked": 0}
    assert data["results"][0] == {
        "id": "gladdy2013",
        "pmid": "23354568",
        "doi": "10.1245/s10434-013-2876-y",
        "status": "mismatch",
        "source": "PubMed",
        "mismatches": [
            {
                "field": "title",
                "ours": "A | piped *title*",
                "theirs": "Predictors of survival and recurrence in primary leiomyosarcoma",
            }
        ],
        "detail": None,
    }
    md = render_markdown.verify(results).splitlines()
    assert md[4] == (
        '| gladdy2013 | mismatch | title: ours "A \\| piped \\*title\\*", PubMed "Predictors of survival '
        'and recurrence in primary leiomyosarcoma" |'
    )
    assert md[-1] == "2 references: 1 mismatch, 1 not-found."
    assert counts([]) == {s.value: 0 for s in Status}


# --- identifiers and entries -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("35835135", (IdKind.PMID, "35835135")),
        ("PMID: 35835135", (IdKind.PMID, "35835135")),
        ("pmc3657306", (IdKind.PMCID, "PMC3657306")),
        ("https://doi.org/10.1200/JCO.2014.58.3781", (IdKind.DOI, "10.1200/JCO.2014.58.3781")),
        ("doi:10.1016/S1470-2045(15)70070-7", (IdKind.DOI, "10.1016/S1470-2045(15)70070-7")),
    ],
)
def test_parse_identifier(typed: str, parsed: tuple[IdKind, str]) -> None:
    assert parse_identifier(typed) == parsed


def test_parse_identifier_refuses_other_text() -> None:
    with pytest.raises(UsageError, match="'pautier' is not a PMID, DOI or PMCID"):
        parse_identifier("pautier")


def test_design_guess_and_ids() -> None:
    judson = work_from_esummary(record("24618336"))
    assert guess_design(judson) == (Rank.RCT, "Randomized Controlled Trial")
    assert guess_design(work_from_esummary(record("29718861"))) == (Rank.CASE_SERIES, "Case Reports")
    assert guess_design(work_from_crossref(crossref("hensley2015"))) is None
    assert base_id(judson) == "judson2014"
    assert base_id(Work("PubMed", "t", ("van der Graaf WT",), years=(2012,))) == "vandergraaf2012"
    entries = make_entries([judson, judson], {"judson2014"})
    assert [e.id for e in entries] == ["judson2014b", "judson2014c"]
    assert entries[0].design is Rank.RCT and entries[0].design_comment is not None
    unknown = make_entries([work_from_crossref(crossref("hensley2015"))], set())[0]
    assert unknown.design is None
    assert make_entries([judson], set(), Rank.META_ANALYSIS)[0] == Entry("judson2014", judson, Rank.META_ANALYSIS)


def test_entry_yaml_is_a_valid_reference() -> None:
    work = work_from_esummary(record("24618336"))
    text = "references:\n" + entry_yaml(make_entries([work], set())[0])
    assert text.splitlines()[1:3] == [
        "  - id: judson2014",
        "    design: rct  # guessed from the PubMed publication type 'Randomized Controlled Trial': check it",
    ]
    parsed = load.parse_file(text.encode(), "new.yaml")
    assert parsed.problems == []
    (new,) = parsed.references
    assert new.authors == work.authors and len(new.authors) == 20
    assert (new.title, new.journal, new.year, new.pages) == (work.title, "Lancet Oncol", 2014, "415-23")
    assert (new.doi, new.pmid) == ("10.1016/S1470-2045(14)70063-4", "24618336")


def test_entry_yaml_quotes_hostile_text() -> None:
    work = Work(
        "Crossref", 'Colons: "quotes" # not a comment\n- [x]', ("O'Malley DM",), "J: X", years=(2020,), doi="10.5555/x"
    )
    parsed = load.parse_file(("references:\n" + entry_yaml(Entry("x2020", work, Rank.REVIEW))).encode(), "n.yaml")
    assert parsed.problems == []
    assert parsed.references[0].title == 'Colons: "quotes" # not a comment - [x]'
    assert parsed.references[0].journal == "J: X"


# --- appending to a file ---------------------------------------------------------------------

JUDSON = Entry(
    "newref2014",
    Work("PubMed", "A title", ("Doe J",), "J Test", years=(2014,), pmid="1234", doi="10.5555/n"),
    Rank.REVIEW,
)


def test_append_keeps_text_and_lands_before_the_next_key() -> None:
    original = (
        "# my references\n"
        "references:\n"
        "    - id: a1  # four-space items\n"
        "      design: review\n"
        "      authors: [A B]\n"
        "      title: T\n"
        "      journal: J\n"
        "      year: 2000\n"
        "      pmid: '1'\n"
        "\n"
        "# the claims follow\n"
        "claims: []\n"
    )
    new = appended(original.encode(), "f.yaml", [JUDSON]).decode()
    assert new.startswith(original.split("\n# the claims", 1)[0] + "    - id: newref2014\n      design: review\n")
    assert new.endswith('add findings from the paper."\n\n# the claims follow\nclaims: []\n')
    assert load.parse_file(new.encode(), "f.yaml").problems == []


def test_append_to_a_file_without_references_or_newline_keeps_crlf() -> None:
    new = appended(b"topics:\r\n  - {slug: t, title: T, question: Q?}", "f.yaml", [JUDSON])
    head = b"topics:\r\n  - {slug: t, title: T, question: Q?}\r\n\r\nreferences:\r\n  - id: newref2014\r\n"
    assert new.startswith(head)
    assert b"\n" not in new.replace(b"\r\n", b"")
    parsed = load.parse_file(new, "f.yaml")
    assert parsed.problems == [] and [r.id for r in parsed.references] == ["newref2014"]


def test_append_refuses_a_flow_list() -> None:
    with pytest.raises(UsageError, match=r"written as a \[...\] list"):
        appended(b"references: []\n", "f.yaml", [JUDSON])


def test_add_to_file_appends_atomically(tmp_path: Path, base: EvidenceBase) -> None:
    target = write(
        tmp_path / "refs.yaml",
        "# keep me\nreferences:\n  - id: a1  # and me\n    design: review\n"
        "    authors: [A B]\n    title: T\n    journal: J\n    year: 2000\n"
        "    pmid: '1'\n",
    )
    os.chmod(target, 0o640)
    before = target.read_text()
    add_to_file(target, [JUDSON], base)
    after = target.read_text()
    assert after.startswith(before)
    assert "  - id: newref2014\n" in after
    assert oct(target.stat().st_mode & 0o777) == "0o640"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["refs.yaml"]  # no temporary file left


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            Entry("gladdy2013", Work("PubMed", "t", ("X Y",), "J", years=(2000,), pmid="77"), Rank.REVIEW),
            "reference 'gladdy2013' already has id gladdy2013",
        ),
        (
            Entry("other", Work("PubMed", "t", ("X Y",), "J", years=(2000,), pmid="23354568"), Rank.REVIEW),
            "reference 'gladdy2013' already has PMID 23354568",
        ),
        (
            Entry(
                "other",
                Work("Crossref", "t", ("X Y",), "J", years=(2000,), doi="10.1245/S10434-013-2876-Y"),
                Rank.REVIEW,
            ),
            "reference 'gladdy2013' already has DOI 10.1245/S10434-013-2876-Y",
        ),
        (
            Entry("first-line", Work("Crossref", "t", ("X Y",), "J", years=(2000,), doi="10.5555/new"), Rank.REVIEW),
            "id 'first-line' is already a topic",
        ),
    ],
)
def test_duplicates_are_refused_and_nothing_is_written(
    tmp_path: Path, base: EvidenceBase, entry: Entry, message: str
) -> None:
    target = write(tmp_path / "refs.yaml", "references:\n")
    with pytest.raises(EvidenceError, match=message) as info:
        add_to_file(target, [entry], base)
    assert info.value.hint == "nothing was written"
    assert target.read_text() == "references:\n"


def test_duplicates_within_the_target_file_are_refused(tmp_path: Path) -> None:
    target = write(
        tmp_path / "refs.yaml",
        "references:\n  - id: mine\n    design: review\n    authors: [A B]\n"
        "    title: T\n    journal: J\n    year: 2000\n    pmid: '1234'\n",
    )
    empty = EvidenceBase((), (), ())
    with pytest.raises(EvidenceError, match=f"{target}:2:1: reference 'mine' already has PMID 1234"):
        add_to_file(target, [JUDSON], empty)


def test_add_needs_a_design(tmp_path: Path) -> None:
    entry = Entry("x2000", Work("Crossref", "t", ("X Y",), "J", years=(2000,), doi="10.5555/new"), None)
    with pytest.raises(UsageError, match="design of x2000"):
        add_to_file(tmp_path / "new.yaml", [entry], EvidenceBase((), (), ()))
    assert not (tmp_path / "new.yaml").exists()


def test_interrupted_write_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = write(tmp_path / "refs.yaml", "references:\n")

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        add_to_file(target, [JUDSON], EvidenceBase((), (), ()))
    assert target.read_text() == "references:\n"
    assert [p.name for p in tmp_path.iterdir()] == ["refs.yaml"]


def test_new_and_comment_only_files(tmp_path: Path) -> None:
    empty = EvidenceBase((), (), ())
    add_to_file(tmp_path / "sub" / "new.yaml", [JUDSON], empty)
    assert (tmp_path / "sub" / "new.yaml").read_text().startswith("references:\n  - id: newref2014\n")
    notes = write(tmp_path / "notes.yaml", "# only a comment\n")
    add_to_file(notes, [JUDSON], empty)
    assert notes.read_text().startswith("# only a comment\n\nreferences:\n  - id: newref2014\n")
