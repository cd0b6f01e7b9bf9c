"""Browsing the base: topic rows for `lms topics` and one item with its links for `lms show`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from lms_cli.errors import UsageError
from lms_cli.model import Claim, EvidenceBase, Reference, Topic
from lms_cli.text import close_matches


class TopicRow(NamedTuple):
    """One row of `lms topics`: a topic and how many claims and references it has."""

    slug: str
    title: str
    question: str
    claims: int
    references: int


def topic_rows(base: EvidenceBase) -> list[TopicRow]:
    """Every topic in file order with how many claims and distinct references it has."""
    rows = []
    for t in base.topics:
        claims = [c for c in base.claims if t.slug in c.topics]
        refs = {r for c in claims for r in c.cites}
        rows.append(TopicRow(t.slug, t.title, t.question, len(claims), len(refs)))
    return rows


@dataclass(frozen=True)
class Detail:
    """One item and what it links to: a topic's claims, a claim's references, a reference's citers."""

    item: Topic | Claim | Reference
    claims: tuple[Claim, ...]
    references: tuple[Reference, ...]


def detail(base: EvidenceBase, item_id: str) -> Detail:
    """One topic, claim or reference by id, with what cites it or what it cites."""
    refs = base.reference_map()
    if (topic := base.topic(item_id)) is not None:
        return Detail(topic, tuple(c for c in base.claims if item_id in c.topics), ())
    if item_id in refs:
        return Detail(refs[item_id], tuple(c for c in base.claims if item_id in c.cites), ())
    for claim in base.claims:
        if claim.id == item_id:
            return Detail(claim, (), tuple(refs[r] for r in claim.cites))
    ids = [t.slug for t in base.topics] + list(refs) + [c.id for c in base.claims]
    close = close_matches(item_id, ids)
    raise UsageError(
        f"no topic, reference or claim with id {item_id!r}",
        ("did you mean: " + ", ".join(close) + "?") if close else "run `lms topics` to list topics",
    )
