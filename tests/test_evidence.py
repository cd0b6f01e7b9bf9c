"""Integrity of the bundled evidence base: complete topics, every source cited, numbers traceable."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from lms_cli import load
from lms_cli.model import Claim, EvidenceBase, Reference, Section

REQUIRED_TOPICS = {
    "spread-to-muscle", "metastatic-sites", "spread-routes", "metastasis-risk", "detection", "first-line",
    "later-line", "targeted-therapy", "local-therapy", "uterine-lms", "prognosis",
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
        "0.41", "95", "0.29", "0.58", "7159", "2", "0.0001",
    }


def test_required_topics_exist(base: EvidenceBase) -> None:
    assert {t.slug for t in base.topics} >= REQUIRED_TOPICS


def test_sizes(base: EvidenceBase) -> None:
    assert len(base.claims) >= 80
    assert len(base.references) >= 45


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
