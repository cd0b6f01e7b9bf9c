"""Open trials for a question: registry studies filtered by phase and country, the cited ones marked.

Pure functions over ``services.ctgov.Study`` values; the CLI fetches, this module decides
what is shown, and the renderers draw a ``Trials``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lms_cli.errors import UsageError
from lms_cli.model import EvidenceBase, Topic

if TYPE_CHECKING:
    from lms_cli.services.ctgov import Study

#: --phase values -> the registry's phase names.
PHASES = {
    "early-1": "EARLY_PHASE1",
    "1": "PHASE1",
    "2": "PHASE2",
    "3": "PHASE3",
    "4": "PHASE4",
}
#: How many trials `ask --trials` lists before pointing to `lms trials`.
ASK_SHOWN = 10


def parse_phase(text: str) -> str:
    """A --phase value (1-4, early-1, or a registry name like PHASE2) -> the registry's name."""
    value = text.strip().upper().replace("-", "_").replace(" ", "")
    names = {k.upper().replace("-", "_"): v for k, v in PHASES.items()} | {v: v for v in PHASES.values()}
    names |= {"EARLY1": "EARLY_PHASE1", "EARLYPHASE1": "EARLY_PHASE1"}
    names |= {f"PHASE_{n}": f"PHASE{n}" for n in "1234"}
    if value in names:
        return names[value]
    raise UsageError(f"--phase {text!r} is not a trial phase", "give 1, 2, 3, 4 or early-1")


def phase_label(phases: Sequence[str]) -> str:
    """Registry phases for people: ("PHASE2", "PHASE3") -> "Phase 2/3"; none -> "n/a"."""
    parts = [p for p in phases if p != "NA"]
    if not parts:
        return "n/a"
    early = [p for p in parts if p == "EARLY_PHASE1"]
    numbers = [p.removeprefix("PHASE") for p in parts if p != "EARLY_PHASE1"]
    text = "Early phase 1" if early else ""
    if numbers:
        text += (", " if text else "") + "Phase " + "/".join(numbers)
    return text


def status_label(status: str | None) -> str:
    """RECRUITING -> "recruiting", NOT_YET_RECRUITING -> "not yet recruiting"."""
    return status.lower().replace("_", " ") if status else "status not given"


@dataclass(frozen=True, slots=True)
class TrialRow:
    """One study as shown, and whether the evidence an answer rests on cites it."""

    study: Study
    cited: bool


@dataclass(frozen=True, slots=True)
class TrialsQuery:
    """What was asked, as shown in every format."""

    topic: str | None  # the topic's slug, or None for every leiomyosarcoma trial
    question: str | None
    condition: str
    terms: str | None
    intervention: str | None
    status: str  # the --status choice
    statuses: tuple[str, ...] | None
    phase: str | None
    country: str | None
    limit: int


@dataclass(frozen=True, slots=True)
class Trials:
    """What `lms trials` (and `ask --trials`) shows."""

    query: TrialsQuery
    rows: tuple[TrialRow, ...]
    fetched_at: dt.datetime  # when the registry sent the data (for cached pages: when they were saved)
    from_cache: bool = False  # some pages came from the cache (their fetch time is shown)
    more: bool = False  # the registry had more than --limit studies
    complete: bool = True  # offline: False when later pages were not cached


def topic_ncts(base: EvidenceBase, topic: Topic | None) -> set[str]:
    """NCT ids of the references the topic's claims cite (every reference's without a topic)."""
    refs = base.reference_map()
    if topic is None:
        return {n for r in base.references for n in r.nct}
    ids = {rid for c in base.claims if topic.slug in c.topics for rid in c.cites}
    return {n for rid in ids if (r := refs.get(rid)) is not None for n in r.nct}


def keep(studies: Iterable[Study], phase: str | None = None, country: str | None = None) -> list[Study]:
    """The studies in ``phase`` (a registry name) run in ``country`` (case-insensitive)."""
    wanted = country.strip().casefold() if country else None
    out = []
    for s in studies:
        if phase and phase not in s.phases:
            continue
        if wanted and wanted not in {c.casefold() for c in s.countries}:
            continue
        out.append(s)
    return out


def rows(studies: Iterable[Study], cited: set[str]) -> tuple[TrialRow, ...]:
    """Each study with its cited mark, in the order given."""
    return tuple(TrialRow(s, s.nct in cited) for s in studies)


def fetched_text(when: dt.datetime) -> str:
    """The fetch time as shown: "2026-12-01 20:15 UTC"."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def disclaimer(trials: Trials) -> str:
    """The closing line of a trials listing: what it is, when it was fetched, whom to ask."""
    cached = " (from the cache)" if trials.from_cache else ""
    return (
        f"Registry listing from ClinicalTrials.gov, fetched {fetched_text(trials.fetched_at)}{cached}; "
        "not medical advice: discuss any trial with the treating team."
    )


def describe_query(q: TrialsQuery) -> str:
    """One sentence saying what was searched."""
    parts = [f"condition {q.condition}"]
    if q.terms:
        parts.append(f"terms {q.terms}")
    if q.intervention:
        parts.append(f"intervention {q.intervention}")
    parts.append("status " + (", ".join(status_label(s) for s in q.statuses) if q.statuses else "any"))
    if q.phase:
        parts.append(phase_label((q.phase,)))
    if q.country:
        parts.append(f"country {q.country}")
    return "ClinicalTrials.gov search: " + "; ".join(parts) + ". Newest update first."


def none_found(trials: Trials) -> str:
    """What to say when no study matched."""
    return "No trial on ClinicalTrials.gov matches this search."


def limit_note(trials: Trials) -> str | None:
    """A line saying the list was cut at --limit or is incomplete offline, or None."""
    if not trials.complete:
        return "Offline: later pages of this search were not cached; the list may be incomplete."
    if trials.more:
        return f"The registry has more matching studies than --limit {trials.query.limit}; raise --limit to see them."
    return None
