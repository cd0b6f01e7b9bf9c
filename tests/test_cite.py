"""Vancouver formatting."""

from __future__ import annotations

from lms_cli.cite import vancouver
from lms_cli.model import Rank, Reference


def ref(**kw: object) -> Reference:
    fields: dict[str, object] = {
        "id": "x", "design": Rank.RCT, "authors": ("Alpha A",), "title": "A title",
        "journal": "Lancet Oncol", "year": 2020,
    }
    fields.update(kw)
    return Reference(**fields)  # type: ignore[arg-type]


def test_full_reference() -> None:
    r = ref(authors=("Gladdy RA", "Qin LX"), volume="20", issue="6", pages="1851-1857",
            doi="10.1245/x", pmid="23354568", pmcid="PMC3657306")
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
    assert vancouver(ref(journal="Medicine (Baltimore)", pmid="1")) .startswith(
        "Alpha A. A title. Medicine (Baltimore). 2020.")
