"""Reference formatting: Vancouver, AMA, BibTeX, RIS and CSL-JSON, each parsed back or validated."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import jsonschema
import pytest
import rispy
from bibtexparser.entrypoint import parse_string
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors

from lms_cli import load
from lms_cli.cite import (
    EXPORTERS,
    ExportFormat,
    ama,
    bibtex,
    bibtex_entry,
    bibtex_title,
    csl_item,
    csl_json,
    export,
    page_range,
    ris,
    ris_record,
    split_name,
    vancouver,
)
from lms_cli.model import Rank, Reference
from tests.conftest import BASE, DATA


def ref(**kw: object) -> Reference:
    fields: dict[str, object] = {
        "id": "x",
        "design": Rank.RCT,
        "authors": ("Alpha A",),
        "title": "A title",
        "journal": "Lancet Oncol",
        "year": 2020,
    }
    fields.update(kw)
    return Reference(**fields)  # type: ignore[arg-type]


def test_full_reference() -> None:
    r = ref(
        authors=("Gladdy RA", "Qin LX"),
        volume="20",
        issue="6",
        pages="1851-1857",
        doi="10.1245/x",
        pmid="23354568",
        pmcid="PMC3657306",
    )
    assert vancouver(r) == (
        "Gladdy RA, Qin LX. A title. Lancet Oncol. 2020;20(6):1851-1857. doi:10.1245/x. "
        "PMID: 23354568. PMCID: PMC3657306."
    )


def test_more_than_six_authors_become_et_al() -> None:
    r = ref(authors=tuple(f"Author{i} A" for i in range(1, 9)), pmid="1")
    assert vancouver(r).startswith("Author1 A, Author2 A, Author3 A, Author4 A, Author5 A, Author6 A, et al. A title.")


def test_incomplete_list_ends_with_et_al() -> None:
    r = ref(authors=("Pautier P", "et al."), pmid="1")
    assert vancouver(r).startswith("Pautier P, et al. A title.")


def test_missing_parts_are_left_out() -> None:
    assert vancouver(ref(doi="10.1/x")) == "Alpha A. A title. Lancet Oncol. 2020. doi:10.1/x."
    assert vancouver(ref(pages="e0598", pmid="1")) == "Alpha A. A title. Lancet Oncol. 2020:e0598. PMID: 1."


def test_title_punctuation_is_not_doubled() -> None:
    assert vancouver(ref(title="Is it one disease?", pmid="1")).startswith("Alpha A. Is it one disease? Lancet")
    assert vancouver(ref(journal="Medicine (Baltimore)", pmid="1")).startswith(
        "Alpha A. A title. Medicine (Baltimore). 2020."
    )


# --- shared pieces -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pages", "expected"),
    [
        ("415-23", ("415", "423")),
        ("1044-54", ("1044", "1054")),
        ("1851-1857", ("1851", "1857")),
        ("99-101", ("99", "101")),
        ("S12-5", ("S12", "S15")),
        ("e0598", ("e0598", None)),
    ],
)
def test_page_range_writes_out_elided_pages(pages: str, expected: tuple[str, str | None]) -> None:
    assert page_range(pages) == expected


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("Gladdy RA", {"family": "Gladdy", "given": "R. A."}),
        ("van der Graaf WTA", {"family": "van der Graaf", "given": "W. T. A."}),
        ("Piperno-Neumann S", {"family": "Piperno-Neumann", "given": "S."}),
        ("Smith AB Jr", {"family": "Smith", "given": "A. B.", "suffix": "Jr"}),
        ("ESMO Guidelines Committee", {"literal": "ESMO Guidelines Committee"}),
    ],
)
def test_split_name(name: str, parts: dict[str, str]) -> None:
    assert split_name(name) == parts


def fixture_refs() -> tuple[Reference, ...]:
    return load.load([BASE]).references


def bundled_refs() -> tuple[Reference, ...]:
    return load.load([load.bundled_dir()]).references


def by_id(ref_id: str) -> Reference:
    return next(r for r in fixture_refs() if r.id == ref_id)


# --- AMA ---------------------------------------------------------------------------------------


def test_ama_incomplete_list_shows_three_then_et_al_and_full_pages() -> None:
    assert ama(by_id("judson2014")) == (
        "Judson I, Verweij J, Gelderblom H, et al. Doxorubicin alone versus intensified doxorubicin plus "
        "ifosfamide for first-line treatment of advanced or metastatic soft-tissue sarcoma: a randomised "
        "controlled phase 3 trial. Lancet Oncol. 2014;15(4):415-423. doi:10.1016/S1470-2045(14)70063-4"
    )


def test_ama_lists_six_authors_in_full() -> None:
    assert ama(by_id("gladdy2013")) == (
        "Gladdy RA, Qin LX, Moraco N, Agaram NP, Brennan MF, Singer S. Predictors of Survival and Recurrence "
        "in Primary Leiomyosarcoma. Ann Surg Oncol. 2013;20(6):1851-1857. doi:10.1245/s10434-013-2876-y"
    )


def test_ama_more_than_six_authors_and_no_doi() -> None:
    r = ref(authors=tuple(f"Author{i} A" for i in range(1, 8)), pmid="123")
    assert ama(r) == "Author1 A, Author2 A, Author3 A, et al. A title. Lancet Oncol. 2020. PMID: 123"


# --- BibTeX ------------------------------------------------------------------------------------


def test_bibtex_entry_exact() -> None:
    assert bibtex_entry(by_id("gladdy2013")) == (
        "@article{pmid:23354568,\n"
        "  author = {Gladdy, R. A. and Qin, L. X. and Moraco, N. and Agaram, N. P. and Brennan, M. F. and "
        "Singer, S.},\n"
        "  title = {{Predictors} of {Survival} and {Recurrence} in {Primary} {Leiomyosarcoma}},\n"
        "  journal = {Ann Surg Oncol},\n"
        "  year = {2013},\n"
        "  volume = {20},\n"
        "  number = {6},\n"
        "  pages = {1851--1857},\n"
        "  doi = {10.1245/s10434-013-2876-y},\n"
        "  eprint = {23354568},\n"
        "  eprinttype = {pubmed},\n"
        "  pmcid = {PMC3657306}\n"
        "}\n"
    )


def test_bibtex_protects_capitals_and_escapes_tex() -> None:
    assert bibtex_title("PD-1 blockade in LMS and mTOR") == "{PD-1} blockade in {LMS} and {mTOR}"
    assert bibtex_title("50% & more_x {y}") == r"50\% \& more\_x \{y\}"
    assert bibtex_title("rare \\Case") == r"rare {{\textbackslash{}Case}}"


@pytest.mark.parametrize("refs", [fixture_refs, bundled_refs], ids=["fixture", "bundled"])
def test_bibtex_parses_back(refs: Callable[[], tuple[Reference, ...]]) -> None:
    wanted = refs()
    library = parse_string(bibtex(wanted), append_middleware=[SeparateCoAuthors(), LatexDecodingMiddleware()])
    assert library.failed_blocks == []
    assert [e.key for e in library.entries] == [r.key for r in wanted]
    for entry, r in zip(library.entries, wanted, strict=True):
        fields = entry.fields_dict
        assert entry.entry_type == "article"
        assert fields["title"].value.replace("{", "").replace("}", "") == r.title
        assert fields["year"].value == str(r.year)
        assert len(fields["author"].value) == len(r.authors)  # "et al." becomes "others"
        if r.authors_incomplete:
            assert fields["author"].value[-1] == "others"
        assert ("doi" in fields) == (r.doi is not None)
        assert ("eprint" in fields) == (r.pmid is not None)


def test_bibtex_text_round_trips_through_latex_decoding() -> None:
    title = "PD-1 & mTOR: 50% of LMS had_x #2 \u2014 \u201cquoted\u201d \u00c5ngstr\u00f6m $1 ~"
    library = parse_string(bibtex_entry(ref(title=title, pmid="12")), append_middleware=[LatexDecodingMiddleware()])
    assert library.entries[0].fields_dict["title"].value.replace("{", "").replace("}", "") == title


# --- RIS ---------------------------------------------------------------------------------------


def test_ris_record_exact() -> None:
    assert ris_record(by_id("judson2014")).split("\r\n") == [
        "TY  - JOUR",
        "ID  - pmid:24618336",
        "AU  - Judson, I.",
        "AU  - Verweij, J.",
        "AU  - Gelderblom, H.",
        "TI  - Doxorubicin alone versus intensified doxorubicin plus ifosfamide for first-line treatment of "
        "advanced or metastatic soft-tissue sarcoma: a randomised controlled phase 3 trial",
        "T2  - Lancet Oncol",
        "JO  - Lancet Oncol",
        "PY  - 2014",
        "VL  - 15",
        "IS  - 4",
        "SP  - 415",
        "EP  - 423",
        "DO  - 10.1016/S1470-2045(14)70063-4",
        "UR  - https://doi.org/10.1016/S1470-2045(14)70063-4",
        "AN  - 24618336",
        "N1  - Rank: rct; n=455.",
        "ER  - ",
        "",
    ]


@pytest.mark.parametrize("refs", [fixture_refs, bundled_refs], ids=["fixture", "bundled"])
def test_ris_is_crlf_with_ty_first_and_er_last_and_parses_back(refs: Callable[[], tuple[Reference, ...]]) -> None:
    wanted = refs()
    text = ris(wanted)
    assert "\n" not in text.replace("\r\n", "")  # every line ends CRLF
    records = [r for r in text.split("\r\n\r\n") if r]
    assert len(records) == len(wanted)
    for record in records:
        lines = record.rstrip("\r\n").split("\r\n")
        assert lines[0] == "TY  - JOUR"
        assert lines[-1] == "ER  - "
        assert all(re.fullmatch(r"[A-Z][A-Z0-9]  - .*", line) for line in lines)
    parsed = rispy.loads(text)
    assert [e["id"] for e in parsed] == [r.key for r in wanted]
    for entry, r in zip(parsed, wanted, strict=True):
        assert entry["type_of_reference"] == "JOUR"
        assert entry["title"] == r.title
        assert entry["year"] == str(r.year)
        assert len(entry["authors"]) == len(r.named_authors)
        assert entry.get("doi") == r.doi


# --- CSL-JSON ----------------------------------------------------------------------------------


def csl_validator() -> jsonschema.Draft7Validator:
    schema = json.loads((DATA / "csl-data.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_csl_item_exact() -> None:
    assert csl_item(by_id("judson2014")) == {
        "id": "pmid:24618336",
        "type": "article-journal",
        "title": "Doxorubicin alone versus intensified doxorubicin plus ifosfamide for first-line treatment of "
        "advanced or metastatic soft-tissue sarcoma: a randomised controlled phase 3 trial",
        "author": [
            {"family": "Judson", "given": "I."},
            {"family": "Verweij", "given": "J."},
            {"family": "Gelderblom", "given": "H."},
            {"literal": "others"},
        ],
        "container-title": "Lancet Oncol",
        "container-title-short": "Lancet Oncol",
        "issued": {"date-parts": [[2014]]},
        "volume": "15",
        "issue": "4",
        "page": "415-423",
        "DOI": "10.1016/S1470-2045(14)70063-4",
        "PMID": "24618336",
        "custom": {"lms_id": "judson2014", "rank": "rct", "n": 455},
    }


@pytest.mark.parametrize("refs", [fixture_refs, bundled_refs], ids=["fixture", "bundled"])
def test_csl_json_validates_against_the_csl_schema(refs: Callable[[], tuple[Reference, ...]]) -> None:
    wanted = refs()
    data = json.loads(csl_json(wanted))
    csl_validator().validate(data)
    assert [item["id"] for item in data] == [r.key for r in wanted]
    assert all(item["custom"]["rank"] == r.rank.value for item, r in zip(data, wanted, strict=True))


def test_csl_schema_rejects_lms_fields_at_top_level() -> None:
    item = csl_item(by_id("judson2014"))
    item["rank"] = item["custom"].pop("rank")
    with pytest.raises(jsonschema.ValidationError):
        csl_validator().validate([item])


def test_doi_only_reference_is_keyed_by_doi_with_a_url() -> None:
    r = ref(doi="10.1002/1097-0142(20010515)91:10<1914::aid-cncr1214>3.0.co;2-3")
    # BibTeX readers (pandoc's among them) reject < and > in keys: the key swaps them for _
    key = "doi:10.1002/1097-0142(20010515)91:10_1914::aid-cncr1214_3.0.co;2-3"
    assert csl_item(r)["id"] == key
    assert csl_item(r)["DOI"] == "10.1002/1097-0142(20010515)91:10<1914::aid-cncr1214>3.0.co;2-3"
    assert "PMID" not in csl_item(r)
    assert bibtex_entry(r).startswith("@article{" + key + ",\n")
    assert "ID  - doi:10.1002/" in ris_record(r)
    pubmed_only = csl_item(ref(pmid="42"))
    assert pubmed_only["URL"] == "https://pubmed.ncbi.nlm.nih.gov/42/"


# --- one entry point ---------------------------------------------------------------------------


def test_export_numbers_text_styles_and_dispatches_the_rest() -> None:
    refs = fixture_refs()[:2]
    assert export(refs, ExportFormat.VANCOUVER) == f"1. {vancouver(refs[0])}\n2. {vancouver(refs[1])}\n"
    assert export(refs, ExportFormat.AMA) == f"1. {ama(refs[0])}\n2. {ama(refs[1])}\n"
    assert export(refs, ExportFormat.BIBTEX) == bibtex(refs)
    assert export(refs, ExportFormat.RIS) == ris(refs)
    assert export(refs, ExportFormat.CSL_JSON) == csl_json(refs)
    assert set(EXPORTERS) == set(ExportFormat)


def test_control_characters_never_reach_an_export() -> None:
    r = ref(title="Bad \x1b[31mred\x1b[0m title", pmid="1")
    for fmt in ExportFormat:
        assert "\x1b" not in export([r], fmt)


def test_a_name_holding_and_stays_one_bibtex_author() -> None:
    r = ref(authors=("Smith and Jones J", "Alpha A", "Beta Gamma and Delta"), pmid="12")
    library = parse_string(bibtex_entry(r), append_middleware=[SeparateCoAuthors(), LatexDecodingMiddleware()])
    authors = library.entries[0].fields_dict["author"].value
    assert len(authors) == 3, authors
    assert authors[0].replace("{", "").replace("}", "") == "Smith and Jones, J."


def test_every_bibtex_field_is_escaped_and_parses_as_one_entry() -> None:
    hostile = "x}, title = {pwned} @misc{y,"
    fields = {"title": hostile, "journal": hostile, "volume": hostile, "issue": hostile, "pages": hostile}
    r = ref(**fields, authors=(hostile,), pmid="12", doi="10.1000/x}, title = {pwned}, note = {")
    library = parse_string(bibtex_entry(r), append_middleware=[LatexDecodingMiddleware()])
    assert library.failed_blocks == []
    assert len(library.entries) == 1
    got = library.entries[0].fields_dict
    bare = hostile.replace("{", "").replace("}", "")
    assert got["title"].value.replace("{", "").replace("}", "") == bare
    assert got["journal"].value.replace("{", "").replace("}", "") == bare
    assert "note" not in got and got["doi"].value.startswith("10.1000/x")


def test_ris_fields_cannot_start_a_new_tag() -> None:  # held before issue 13 too: kept so
    hostile = "x\r\nER  - \r\nTY  - JOUR\r\nTI  - pwned"
    r = ref(title=hostile, journal=hostile, authors=(hostile,), pmid="12")
    parsed = rispy.loads(ris_record(r))
    assert len(parsed) == 1
    assert "pwned" in parsed[0]["title"] and parsed[0]["title"].startswith("x")
