"""JSON renderer: one top-level object, stable key order, never wrapped."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lms_cli.browse import Detail, ReferenceRow, TopicRow
from lms_cli.cite import CitationStyle
from lms_cli.model import Claim, Glance, Hidden, Reference, Summary, SummarySection, Topic
from lms_cli.render import disclaimer
from lms_cli.text import json_safe

if TYPE_CHECKING:
    from lms_cli.refs.updates import Updates
    from lms_cli.refs.verify import Result

SCHEMA_VERSION = 1


def reference_dict(ref: Reference) -> dict[str, Any]:
    """Every metadata field present on a reference (rank under its own name)."""
    out: dict[str, Any] = {"id": ref.id, "rank": ref.rank.value}
    for name in (
        "authors",
        "title",
        "journal",
        "year",
        "volume",
        "issue",
        "pages",
        "doi",
        "pmid",
        "pmcid",
        "n",
        "findings",
        "note",
    ):
        value = getattr(ref, name)
        if value is not None and value != ():
            out[name] = list(value) if isinstance(value, tuple) else value
    if ref.publication.value != "journal-article":
        out["publication"] = ref.publication.value
    for name in ("meeting", "abstract"):
        if (value := getattr(ref, name)) is not None:
            out[name] = value
    if ref.nct:
        out["nct"] = list(ref.nct)
    if ref.seen:
        out["seen"] = [s.value for s in ref.seen]
    if ref.checked:
        out["checked"] = ref.checked.isoformat()
    if ref.authors_partial:
        out["authors_partial"] = True
    out["key"] = ref.key
    return out


def glance_dict(glance: Glance) -> dict[str, Any]:
    """Evidence at a glance as JSON."""
    return {
        "total": glance.total,
        "by_rank": {rank.value: n for rank, n in glance.by_rank},
        "first_year": glance.first_year,
        "last_year": glance.last_year,
    }


def sections_list(parts: tuple[SummarySection, ...]) -> list[dict[str, Any]]:
    """Summary sections with their claims (citations as reference numbers); shared with reports."""
    return [
        {
            "name": part.section.value,
            "heading": part.heading,
            **({"topic": part.topic.slug} if part.topic else {}),
            "claims": [
                {
                    "id": c.claim.id,
                    "statement": c.claim.statement,
                    "rank": c.rank.value,
                    "population": c.claim.population.value,
                    "support": c.claim.support.value,
                    "citations": list(c.numbers),
                }
                for c in part.claims
            ],
        }
        for part in parts
    ]


def summary_dict(summary: Summary) -> dict[str, Any]:
    """A composed summary as the JSON object `lms ask --format json` prints."""
    reviewed = summary.reviewed_through.isoformat() if summary.reviewed_through else None
    return {
        "schema_version": SCHEMA_VERSION,
        "query": {
            "topic": summary.query.topic if summary.query.search is None else None,
            **({"search": summary.query.search} if summary.query.search is not None else {}),
            **summary.query.filters.as_dict(),
        },
        "topic": {
            "slug": summary.topic.slug,
            "title": summary.topic.title,
            "question": summary.topic.question,
        },
        "sections": sections_list(summary.sections),
        "references": [{"number": e.number, **reference_dict(e.reference)} for e in summary.references],
        "glance": glance_dict(summary.glance),
        "hidden": hidden_list(summary.hidden),
        "reviewed_through": reviewed,
        "disclaimer": disclaimer(reviewed),
    }


def hidden_list(hidden: tuple[Hidden, ...]) -> list[dict[str, Any]]:
    """Claims the filters hid: filter, reason (population, no-source, needs-source), count."""
    return [{"filter": h.filter, "reason": h.reason, "claims": h.claims} for h in hidden]


def dumps(data: Any) -> str:
    """Deterministic JSON text ending in a newline."""
    return json_safe(json.dumps(data, ensure_ascii=False, indent=2)) + "\n"


def render(summary: Summary, citations: CitationStyle = CitationStyle.NUMBERS) -> str:
    """A composed summary as JSON text (citation styles are a Markdown matter)."""
    return dumps(summary_dict(summary))


def claim_dict(claim: Claim) -> dict[str, Any]:
    """A claim with its fields, as `lms show` prints it."""
    out: dict[str, Any] = {
        "id": claim.id,
        "topics": list(claim.topics),
        "section": claim.section.value,
        "statement": claim.statement,
        "cites": list(claim.cites),
        "population": claim.population.value,
        "support": claim.support.value,
    }
    if claim.reviewed:
        out["reviewed"] = claim.reviewed.isoformat()
    return out


def topics(rows: list[TopicRow]) -> str:
    """`lms topics --format json`."""
    return dumps({"schema_version": SCHEMA_VERSION, "topics": [r._asdict() for r in rows]})


def detail(d: Detail) -> str:
    """`lms show ID --format json`."""
    item = d.item
    data: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    if isinstance(item, Topic):
        data["topic"] = {
            "slug": item.slug,
            "title": item.title,
            "question": item.question,
            "aliases": list(item.aliases),
        }
        data["claims"] = [claim_dict(c) for c in d.claims]
    elif isinstance(item, Reference):
        data["reference"] = reference_dict(item)
        data["cited_by"] = [claim_dict(c) for c in d.claims]
    else:
        data["claim"] = claim_dict(item)
        data["references"] = [reference_dict(r) for r in d.references]
    return dumps(data)


def verify(results: Sequence[Result]) -> str:
    """`lms refs verify --format json`: one object with the results and a count per status."""
    from lms_cli.refs.verify import counts

    data = {
        "schema_version": SCHEMA_VERSION,
        "results": [
            {
                "id": r.reference.id,
                "pmid": r.reference.pmid,
                "doi": r.reference.doi,
                "status": r.status.value,
                "source": r.source,
                "mismatches": [{"field": m.field, "ours": m.ours, "theirs": m.theirs} for m in r.mismatches],
                "detail": r.detail,
            }
            for r in results
        ],
        "summary": counts(results),
    }
    return dumps(data)


def references(rows: list[ReferenceRow]) -> str:
    """`lms refs list --format json`."""
    return dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "references": [{**r._asdict(), "topics": list(r.topics), "missing": list(r.missing)} for r in rows],
        }
    )


def updates(result: Updates) -> str:
    """`lms updates --format json`: per topic its query, window, counts and ranked new items."""
    data = {
        "schema_version": SCHEMA_VERSION,
        "topics": [
            {
                "slug": t.plan.topic.slug,
                "query": t.plan.query,
                "window": {"from": t.plan.window.start.isoformat(), "to": t.searched_to.isoformat()},
                "counts": t.counts,
                "items": [
                    {
                        "pmid": i.pmid,
                        "doi": i.doi,
                        "title": i.title,
                        "journal": i.journal,
                        "date": i.date,
                        "design": i.design.value,
                        "flags": list(i.flags),
                    }
                    for i in t.items
                ],
                "in_base_doi": [{"pmid": p.pmid, "doi": p.doi, "reference": p.reference} for p in t.present],
            }
            for t in result.topics
        ],
        "skipped": [{"slug": s.slug, "reason": s.reason} for s in result.skipped],
        "summary": {"topics": len(result.topics), "new": result.new},
    }
    return dumps(data)


# --- trials (lms trials, ask --trials) ---------------------------------------------------------

if TYPE_CHECKING:
    from lms_cli.refs.trials import Trials


def trials_dict(result: Trials) -> dict[str, Any]:
    """The registry search and its studies as JSON (a `trials` key of `ask --trials`)."""
    import datetime as dt

    from lms_cli.refs.trials import disclaimer as trials_disclaimer

    q = result.query
    return {
        "schema_version": SCHEMA_VERSION,
        "query": {
            "topic": q.topic,
            "condition": q.condition,
            "terms": q.terms,
            "intervention": q.intervention,
            "status": list(q.statuses) if q.statuses else None,
            "phase": q.phase,
            "country": q.country,
            "limit": q.limit,
        },
        "fetched_at": result.fetched_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "from_cache": result.from_cache,
        "more": result.more,
        "complete": result.complete,
        "studies": [
            {
                "nct": r.study.nct,
                "title": r.study.title,
                "phase": list(r.study.phases),
                "status": r.study.status,
                "conditions": list(r.study.conditions),
                "interventions": list(r.study.interventions),
                "sponsor": r.study.sponsor,
                "enrollment": r.study.enrollment,
                "start": r.study.start,
                "last_update": r.study.last_update,
                "countries": list(r.study.countries),
                "url": r.study.url,
                "cited": r.cited,
            }
            for r in result.rows
        ],
        "disclaimer": trials_disclaimer(result),
    }


def trials(result: Trials) -> str:
    """`lms trials --format json`."""
    return dumps(trials_dict(result))


def with_trials(summary: Summary, result: Trials, citations: CitationStyle = CitationStyle.NUMBERS) -> str:
    """`lms ask --trials --format json`: the summary object with a `trials` key."""
    data = summary_dict(summary)
    data["trials"] = trials_dict(result)
    return dumps(data)
