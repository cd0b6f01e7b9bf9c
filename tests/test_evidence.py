"""Integrity of the bundled evidence base: complete topics, every source cited, numbers traceable."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from lms_cli import load
from lms_cli.model import Claim, EvidenceBase, Publication, Reference, Section, Seen

REQUIRED_TOPICS = {
    "spread-to-muscle",
    "metastatic-sites",
    "spread-routes",
    "metastasis-risk",
    "detection",
    "first-line",
    "later-line",
    "targeted-therapy",
    "local-therapy",
    "uterine-lms",
    "prognosis",
    "about-lms",
    "adjuvant-therapy",
    "retroperitoneal-vascular",
    "surveillance",
    "uterine-surgery",
    "immunotherapy",
}

# A number: digits, optionally with decimal or thousands separators; "BRCA2" is not a number.
NUMBER = re.compile(r"(?<![A-Za-z0-9_])\d+(?:[.,]\d+)*")
THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+")


def numbers(text: str) -> set[str]:
    """Every number in the text, thousands separators removed ("7,159" -> "7159")."""
    out: set[str] = set()
    for token in NUMBER.findall(text):
        if THOUSANDS.fullmatch(token):
            out.add(token.replace(",", ""))
        else:
            out.update(part for part in token.split(",") if part)
    return out


@pytest.fixture(scope="module")
def base() -> EvidenceBase:
    return load.load([load.bundled_dir()])


def test_number_extraction() -> None:
    assert numbers("HR 0.41 (95% CI 0.29-0.58), 7,159 patients, BRCA2, phase 2, p<0.0001.") == {
        "0.41",
        "95",
        "0.29",
        "0.58",
        "7159",
        "2",
        "0.0001",
    }


def test_required_topics_exist(base: EvidenceBase) -> None:
    assert {t.slug for t in base.topics} >= REQUIRED_TOPICS


def test_sizes(base: EvidenceBase) -> None:
    assert len(base.claims) >= 200
    assert len(base.references) >= 110


@pytest.mark.parametrize("slug", sorted(REQUIRED_TOPICS))
def test_topic_has_required_sections_and_sources(base: EvidenceBase, slug: str) -> None:
    claims = [c for c in base.claims if slug in c.topics]
    sections = Counter(c.section for c in claims)
    assert sections[Section.ANSWER] >= 1, f"{slug} has no answer claim"
    assert sections[Section.KEY_POINT] >= 4, f"{slug} has {sections[Section.KEY_POINT]} key points"
    assert len({r for c in claims for r in c.cites}) >= 3, f"{slug} cites fewer than 3 references"


def test_every_reference_is_cited(base: EvidenceBase) -> None:
    cited = {r for c in base.claims for r in c.cites}
    assert [r.id for r in base.references if r.id not in cited] == []


def test_identifiers_are_unique(base: EvidenceBase) -> None:
    for field in ("doi", "pmid", "pmcid"):
        values = [getattr(r, field).lower() for r in base.references if getattr(r, field)]
        dupes = [v for v, n in Counter(values).items() if n > 1]
        assert dupes == [], f"duplicate {field}: {dupes}"


def test_every_reference_says_where_it_was_checked(base: EvidenceBase) -> None:
    assert [r.id for r in base.references if not r.note] == []


def test_incomplete_author_lists_end_with_et_al(base: EvidenceBase) -> None:
    for ref in base.references:
        assert "et al." not in ref.authors[:-1], f"{ref.id}: 'et al.' must be the last author item"
        for name in ref.named_authors:
            assert re.fullmatch(r"[^\d,;]+ [A-Z][A-Za-z]{0,3}", name), f"{ref.id}: author {name!r} not 'Surname AB'"


def _claim_numbers_traced(claim: Claim, refs: dict[str, Reference]) -> set[str]:
    sources: set[str] = set()
    for ref_id in claim.cites:
        ref = refs[ref_id]
        for finding in ref.findings:
            sources |= numbers(finding)
        sources.add(str(ref.year))
        if ref.n:
            sources.add(str(ref.n))
    return numbers(claim.statement) - sources


def test_every_number_in_a_claim_is_in_a_cited_finding(base: EvidenceBase) -> None:
    refs = base.reference_map()
    untraced = {c.id: sorted(missing) for c in base.claims if (missing := _claim_numbers_traced(c, refs))}
    assert untraced == {}


def test_the_number_check_can_fail(base: EvidenceBase) -> None:
    refs = base.reference_map()
    claim = next(c for c in base.claims if numbers(c.statement))
    mistyped = Claim(claim.id, claim.topics, claim.section, claim.statement + " In 98765 patients.", claim.cites)
    assert _claim_numbers_traced(mistyped, refs) == {"98765"}


def test_claims_are_reviewed(base: EvidenceBase) -> None:
    assert [c.id for c in base.claims if c.reviewed is None] == []


# --- the revised base (issue 12): complete references, provenance, recent advances ----------

#: Host names and addresses do not belong in a note: provenance is the `seen` kinds and date.
HOST = re.compile(r"https?://|www\.|\b\d{1,3}(?:\.\d{1,3}){3}\b|\b[a-z0-9-]+\.(?:com|org|gov|net|app|cn|edu)\b")


def short_author_lists(refs: tuple[Reference, ...]) -> list[str]:
    """References whose author list breaks the Vancouver rule: all up to six, else six then et al."""
    bad = []
    for ref in refs:
        named = len(ref.named_authors)
        if (ref.authors_incomplete and named < 6 and not ref.authors_partial) or (
            not ref.authors_incomplete and named > 6
        ):
            bad.append(ref.id)
    return bad


def test_author_lists_are_complete_or_marked_partial(base: EvidenceBase) -> None:
    assert short_author_lists(base.references) == []


def test_the_author_rule_can_fail(base: EvidenceBase) -> None:
    ref = next(r for r in base.references if len(r.named_authors) >= 2 and not r.authors_partial)
    cut = ref._replace(authors=(ref.authors[0], "et al."))
    assert short_author_lists((cut,)) == [ref.id]
    assert short_author_lists((cut._replace(authors_partial=True),)) == []


def test_every_reference_records_where_and_when_it_was_seen(base: EvidenceBase) -> None:
    assert [r.id for r in base.references if not r.seen or r.checked is None] == []


def test_notes_name_no_hosts(base: EvidenceBase) -> None:
    assert {r.id: HOST.findall(r.note) for r in base.references if r.note and HOST.search(r.note)} == {}
    assert HOST.search("seen on 47.251.13.51:8081/123") and HOST.search("see pubmed.ncbi.nlm.nih.gov")


def test_conference_abstracts_are_flagged_in_every_claim_citing_them(base: EvidenceBase) -> None:
    abstracts = {r.id: r for r in base.references if r.publication is Publication.CONFERENCE_ABSTRACT}
    assert [r.id for r in abstracts.values() if not r.meeting] == []
    unflagged = [
        c.id
        for c in base.claims
        if set(c.cites) & set(abstracts)
        and not ("presented at" in c.statement and "not yet fully published" in c.statement)
    ]
    assert unflagged == []


def test_advances_cite_sources_from_2020_on(base: EvidenceBase) -> None:
    refs = base.reference_map()
    old = {c.id: [r for r in c.cites if refs[r].year < 2020] for c in base.claims if c.section is Section.ADVANCE}
    assert {k: v for k, v in old.items() if v} == {}


def test_pmids_seen_only_on_a_mirror_are_marked(base: EvidenceBase) -> None:
    # a PMID comes from the PubMed record or PMC, or is marked as seen elsewhere (mirror,
    # secondary): those are the ones `lms refs verify` checks first
    said = {Seen.PUBMED, Seen.PMC, Seen.MIRROR, Seen.SECONDARY}
    assert [r.id for r in base.references if r.pmid and not set(r.seen) & said] == []


def _balanced(query: str) -> bool:
    depth = 0
    for ch in query:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0 and query.count('"') % 2 == 0


def test_every_topic_has_a_well_formed_pubmed_search(base: EvidenceBase) -> None:
    bad = [
        t.slug
        for t in base.topics
        if not t.pubmed
        or not _balanced(t.pubmed)
        or not re.search(r"\[(?:tiab|ti|mh|majr|pt)\]", t.pubmed)
        or re.search(r"\b(?:AND|OR|NOT)\s*(?:\)|$)", t.pubmed)
    ]
    assert bad == []
    assert not _balanced("leiomyosarcoma[tiab] AND (a OR b") and not _balanced('"x')


#: PubMed search field tags a topic query may use (PubMed Help, "Search Field Descriptions and Tags").
FIELD_TAGS = {"tiab", "ti", "ab", "tw", "mh", "mh:noexp", "majr", "sh", "pt", "la", "au", "nm"}


def query_problems(query: str) -> list[str]:
    """Why a PubMed query is not well formed (beyond balance): tags, operators, truncation."""
    problems = []
    tags = re.findall(r"\[([^\]]*)\]", query)
    problems += [f"unknown field tag [{t}]" for t in tags if t.lower() not in FIELD_TAGS]
    if re.search(r"\b(?:and|or|not)\b", re.sub(r'"[^"]*"', '""', query)):
        problems.append("a lower-case operator (PubMed reads it as a word)")
    if re.search(r"(?:^|\(|\b(?:AND|OR|NOT))\s*(?:AND|OR|NOT)\b", query):
        problems.append("an operator with nothing before it")
    if re.search(r"\(\s*\)", query):
        problems.append("empty parentheses")
    # PubMed truncates a term only when at least four characters come before the *
    problems += [f"truncation {w!r} too short" for w in re.findall(r"(?<![\w-])([\w-]{1,3})\*", query)]
    if re.search(r'"[^"]*\*[^"]*"', query):
        problems.append("a * inside a quoted phrase")
    return problems


def test_every_topic_query_uses_known_tags_and_well_placed_operators(base: EvidenceBase) -> None:
    assert {t.slug: p for t in base.topics if t.pubmed and (p := query_problems(t.pubmed))} == {}


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("leiomyosarcoma[tab]", "unknown field tag [tab]"),
        ("leiomyosarcoma[tiab] and muscle[tiab]", "a lower-case operator (PubMed reads it as a word)"),
        ("(OR leiomyosarcoma[tiab])", "an operator with nothing before it"),
        ("leiomyosarcoma[tiab] AND OR muscle[tiab]", "an operator with nothing before it"),
        ("leiomyosarcoma[tiab] AND ()", "empty parentheses"),
        ("leiomyosarcoma[tiab] AND met*[tiab]", "truncation 'met' too short"),
        ('"soft tiss*"[tiab]', "a * inside a quoted phrase"),
    ],
)
def test_the_query_check_can_fail(query: str, problem: str) -> None:
    assert problem in query_problems(query)
