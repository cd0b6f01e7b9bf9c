"""Report specs -> a composed multi-topic Report: one reference list numbered across all sections.

A spec is YAML, validated like evidence files (every problem as FILE:LINE:COL)::

    title: Leiomyosarcoma: spread and treatment      # required
    subtitle: For the tumour board                   # optional
    author: A. Writer                                # optional: text or a list of texts
    date: 2026-03-01                                 # optional; else the date the CLI passes in
    sections:                                        # required, in display order
      - topic: first-line                            # a topic slug
        heading: First-line treatment                # optional (default: the topic's title)
        intro: Why this matters here.                # optional paragraph
        min_rank: rct                                # optional filters, as on `lms ask`
        since: 2015
        population: uterine                          # uterine | extra-uterine
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from lms_cli.compose import Numbering, glance, sections
from lms_cli.errors import EvidenceError, Problem
from lms_cli.load import yamlsafe
from lms_cli.load.fields import FieldError, date_field, text_field
from lms_cli.load.parse import MAX_PROBLEMS
from lms_cli.model import (
    YEAR_MAX,
    YEAR_MIN,
    EvidenceBase,
    Filters,
    Glance,
    Hidden,
    NumberedReference,
    Population,
    Rank,
    Selection,
    SummarySection,
    Topic,
)
from lms_cli.select import filter_claims
from lms_cli.text import did_you_mean, kind_of, plural

Pos = tuple[int, int]


class SpecError(EvidenceError):
    """A report spec is invalid; holds every problem found (exit 3, like invalid evidence)."""

    def __init__(self, problems: list[Problem], hint: str | None = None) -> None:
        super().__init__(problems, hint)
        count = len(self.problems)
        if count > MAX_PROBLEMS:  # as evidence files: a screenful, not 10,000 lines
            last = self.problems[MAX_PROBLEMS - 1]
            stop = f"stopped after {MAX_PROBLEMS} problems in this spec ({count} in all)"
            self.problems = [*self.problems[:MAX_PROBLEMS], Problem(last.path, last.line, last.column, stop)]
        head = f"{plural(count, 'problem')} in the report spec"
        self.message = f"{head}:\n" + "\n".join(str(p) for p in self.problems)
        self.args = (self.message,)


@dataclass(frozen=True, slots=True)
class SectionSpec:
    """One entry of a spec's `sections`; `at` is where its topic slug was written."""

    topic: str
    heading: str | None
    intro: str | None
    filters: Filters
    at: Pos


@dataclass(frozen=True, slots=True)
class ReportSpec:
    """A parsed report spec: title, byline, date and sections."""

    path: str
    title: str
    sections: tuple[SectionSpec, ...]
    subtitle: str | None = None
    author: tuple[str, ...] = ()
    date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class ReportSection:
    """A composed section: its summary parts, or why nothing is shown (`empty`)."""

    topic: Topic
    heading: str
    intro: str | None
    filters: Filters
    parts: tuple[SummarySection, ...]
    empty: str | None
    hidden: tuple[Hidden, ...] = ()  # claims this section's filters hid, and why


@dataclass(frozen=True, slots=True)
class Report:
    """Everything a report renderer needs; citation numbers are fixed across all sections."""

    title: str
    subtitle: str | None
    author: tuple[str, ...]
    date: dt.date
    sections: tuple[ReportSection, ...]
    references: tuple[NumberedReference, ...]
    glance: Glance
    reviewed_through: dt.date | None


# --- spec checking ----------------------------------------------------------------------------


def _authors(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        if not value:
            raise FieldError("must not be an empty list")
        return tuple(text_field(v) for v in value)
    return (text_field(value),)


def _year(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise FieldError(f"must be a year like 2015, not {kind_of(value)}")
    if not YEAR_MIN <= value <= YEAR_MAX:
        raise FieldError(f"{value} is not a year between {YEAR_MIN} and {YEAR_MAX}")
    return value


def _rank(value: Any) -> Rank:
    return Rank(_one_of(value, [r.value for r in Rank]))


def _population(value: Any) -> Population:
    # the same choices as `lms ask --population`
    return Population(_one_of(value, [Population.UTERINE.value, Population.EXTRA_UTERINE.value]))


def _one_of(value: Any, names: list[str]) -> str:
    text = text_field(value)
    if text not in names:
        raise FieldError(f"{text!r} is not one of {', '.join(names)}{did_you_mean(text, names)}")
    return text


_TOP: dict[str, tuple[Callable[[Any], Any], bool]] = {
    "title": (text_field, True),
    "subtitle": (text_field, False),
    "author": (_authors, False),
    "date": (date_field, False),
    "sections": (lambda v: v, True),  # checked item by item below
}
_SECTION: dict[str, tuple[Callable[[Any], Any], bool]] = {
    "topic": (text_field, True),
    "heading": (text_field, False),
    "intro": (text_field, False),
    "min_rank": (_rank, False),
    "since": (_year, False),
    "population": (_population, False),
}


def _fields(
    item: yamlsafe.LMap,
    schema: dict[str, tuple[Callable[[Any], Any], bool]],
    what: str,
    path: str,
    problems: list[Problem],
) -> dict[str, Any] | None:
    """Check one mapping against a schema; None when any field is wrong."""
    out: dict[str, Any] = {}
    ok = True
    for key, value in item.items():
        if key not in schema:
            problems.append(
                Problem(path, *item.key_pos[key], f"unknown field {key!r} in {what}{did_you_mean(key, schema)}")
            )
            ok = False
            continue
        try:
            out[key] = schema[key][0](value)
        except FieldError as bad:
            problems.append(Problem(path, *item.val_pos[key], f"field {key!r} {bad}"))
            ok = False
    for name, (_, required) in schema.items():
        if required and name not in item:
            problems.append(Problem(path, *item.pos, f"{what} is missing required field {name!r}"))
            ok = False
    return out if ok else None


def parse_spec(data: bytes, path: str, topics: Collection[str] | None = None) -> ReportSpec:
    """Read a report spec; raise SpecError listing every problem as FILE:LINE:COL.

    With ``topics`` (the slugs of the base), an unknown topic is one of those problems, so
    one run reports everything.
    """
    text, problem = yamlsafe.decode(data, path)
    if problem is not None:
        raise SpecError([problem])
    assert text is not None
    root, problems = yamlsafe.parse(text, path)
    if not isinstance(root, yamlsafe.LMap):
        if root is not None:
            problems.append(Problem(path, 1, 1, f"a report spec must be a mapping, not {kind_of(root)}"))
        elif not problems:
            problems.append(Problem(path, 1, 1, "file is empty: expected a report spec with title and sections"))
        raise SpecError(problems)
    # duplicate keys do not stop parsing: they are reported with everything else below
    top = _fields(root, _TOP, "the report spec", path, problems)
    specs: list[SectionSpec] = []
    items = root.get("sections")
    if isinstance(items, yamlsafe.LList) and items:
        for i, item in enumerate(items):
            if not isinstance(item, yamlsafe.LMap):
                problems.append(
                    Problem(
                        path, *items.item_pos[i], f"each section must be a mapping with a topic, not {kind_of(item)}"
                    )
                )
                continue
            fields = _fields(item, _SECTION, f"section {i + 1}", path, problems)
            slug = item.get("topic")
            if topics is not None and isinstance(slug, str) and slug not in topics:
                problems.append(
                    Problem(path, *item.val_pos["topic"], f"unknown topic {slug!r}{did_you_mean(slug, topics)}")
                )
                continue
            if fields is not None:
                filters = Filters(fields.get("min_rank"), fields.get("since"), fields.get("population"))
                specs.append(
                    SectionSpec(
                        fields["topic"], fields.get("heading"), fields.get("intro"), filters, item.val_pos["topic"]
                    )
                )
    elif "sections" in root:
        problems.append(
            Problem(path, *root.val_pos["sections"], "field 'sections' must be a non-empty list of sections")
        )
    if problems or top is None:
        unknown = any(p.message.startswith("unknown topic ") for p in problems)
        raise SpecError(problems, "run `lms topics` to list them" if unknown else None)
    return ReportSpec(path, top["title"], tuple(specs), top.get("subtitle"), top.get("author", ()), top.get("date"))


# --- composition ------------------------------------------------------------------------------


def _empty_note(removed: tuple[str, int] | None) -> str:
    if removed is None:
        return "No claims on this topic in the evidence base."
    name, count = removed
    return f"No claims left after the filters: {name.removeprefix('--')} removed the last {plural(count, 'claim')}."


def compose_report(spec: ReportSpec, base: EvidenceBase, today: dt.date) -> Report:
    """Compose every section with one shared Numbering; unknown topics are spec problems.

    ``today`` is used when the spec has no date (the CLI passes SOURCE_DATE_EPOCH or the
    UTC date, so the core reads neither the environment nor the clock).
    """
    problems = []
    for s in spec.sections:
        if base.topic(s.topic) is None:
            hint = did_you_mean(s.topic, [t.slug for t in base.topics])
            problems.append(Problem(spec.path, *s.at, f"unknown topic {s.topic!r}{hint}"))
    if problems:
        raise SpecError(problems, "run `lms topics` to list them")
    numbering = Numbering()
    refs = base.reference_map()
    out = []
    for s in spec.sections:
        topic = base.topic(s.topic)
        assert topic is not None
        claims = [c for c in base.claims if s.topic in c.topics]
        kept, removed, hidden = filter_claims(claims, refs, s.filters)
        parts = sections(Selection(topic, tuple(kept)), numbering) if kept else ()
        out.append(
            ReportSection(
                topic,
                s.heading or topic.title,
                s.intro,
                s.filters,
                parts,
                None if kept else _empty_note(removed),
                hidden,
            )
        )
    numbered = numbering.references()
    reviewed = [c.claim.reviewed for s in out for p in s.parts for c in p.claims if c.claim.reviewed]
    return Report(
        title=spec.title,
        subtitle=spec.subtitle,
        author=spec.author,
        date=spec.date or today,
        sections=tuple(out),
        references=numbered,
        glance=glance([n.reference for n in numbered]),
        reviewed_through=max(reviewed) if reviewed else None,
    )
