"""`lms updates`: what PubMed holds for each topic that appeared since the topic was reviewed.

The command layer: it loads the base, asks ESearch once per topic and ESummary in batches
for the PMIDs the base lacks (through the one HTTP policy of ``lms_cli.services``), hands
the answers to the pure triage in ``refs/updates.py``, prints, and maps the outcome to an
exit code: 0 nothing new, 1 candidates, 4 PubMed unreachable or not cached offline.
"""

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from lms_cli.cli.common import (
    DebugOpt,
    Env,
    EvidenceOpt,
    FormatOpt,
    NoBundledOpt,
    NoCacheOpt,
    PlainFormat,
    boundary,
    choose_topic,
    load_base,
)
from lms_cli.cli.refs import OfflineOpt, email_warning, listed, progress_bar, service_config
from lms_cli.cli.report import report_date
from lms_cli.errors import Findings, ServiceError, UsageError
from lms_cli.render import Format
from lms_cli.text import plural

TopicsArg = Annotated[
    list[str] | None,
    typer.Argument(metavar="[TOPIC]...", help="Topic slugs (or plain words); default: every topic with a query."),
]
SinceDateOpt = Annotated[
    str | None,
    typer.Option(
        "--since", metavar="DATE", help="Search from DATE (YYYY-MM-DD) instead of each topic's earliest review."
    ),
]
RefreshOpt = Annotated[bool, typer.Option("--refresh", help="Ask PubMed again even when a cached answer is fresh.")]


def parse_date(text: str) -> dt.date:
    """A --since value as a date, or a usage error."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--since takes a date as YYYY-MM-DD, not {text!r}") from None


def updates(
    topics: TopicsArg = None,
    since: SinceDateOpt = None,
    offline: OfflineOpt = False,
    refresh: RefreshOpt = False,
    fmt: FormatOpt = PlainFormat.AUTO,
    evidence: EvidenceOpt = None,
    no_bundled: NoBundledOpt = False,
    no_cache: NoCacheOpt = False,
    debug: DebugOpt = False,
) -> None:
    """List what PubMed added since each topic was reviewed, strongest design first.

    Each topic's `pubmed:` query is searched by Entrez date from the earliest `reviewed`
    date of its claims (or --since) to today; papers already in the base (by PMID or DOI)
    are left out. Exit 0 when nothing is new, 1 when there are candidates, 4 when PubMed
    could not be reached (or, with --offline, nothing was cached).
    """
    env = Env.current()
    with boundary(debug, env):
        run(env, topics or [], since, offline, refresh, fmt, evidence, no_bundled, no_cache)


def run(
    env: Env,
    topics: list[str],
    since: str | None,
    offline: bool,
    refresh: bool,
    fmt: Format | PlainFormat,
    evidence: list[Path] | None,
    no_bundled: bool,
    no_cache: bool,
) -> None:
    """The command's work in a given run environment (tests pass one whose stderr is a terminal)."""
    from lms_cli.refs import updates as job
    from lms_cli.render import pick
    from lms_cli.services import pubmed
    from lms_cli.services.client import Client
    from lms_cli.services.http import Failure
    from lms_cli.services.records import LookupState

    start = parse_date(since) if since is not None else None
    today = report_date(env)
    if start is not None and start > today:
        raise UsageError(f"--since {start.isoformat()} is after today ({today.isoformat()})")
    base = load_base(env, evidence, no_bundled, no_cache)
    slugs = list(dict.fromkeys(choose_topic(env, base, t) for t in topics))
    plans, skipped = job.plan(base, slugs, start, today)
    if slugs and not plans:
        raise UsageError("; ".join(f"{s.slug}: {s.reason}" for s in skipped), "add a `pubmed:` query to the topic")
    config = service_config(env, offline, refresh)
    email_warning(env, config)
    searches: dict[str, pubmed.Search | None] = {}
    with Client(config) as client:
        try:
            with progress_bar(env, len(plans), "Searching PubMed") as advance:
                for p in plans:
                    searches[p.topic.slug] = pubmed.esearch(client, p.query, p.window.start, p.window.end)
                    if advance:
                        advance(1)
            new = job.to_summarise((s.pmids for s in searches.values() if s is not None), base)
            with progress_bar(env, len(new), "Fetching records") as advance:
                lookups = client.esummary(new, advance)
        except Failure as exc:
            raise _service_error(exc.detail) from None
        failed = [lk.detail or lk.service for lk in lookups.values() if lk.state is LookupState.FAILED]
        if failed:
            raise _service_error(failed[0])
    results = []
    for p in plans:
        found = searches[p.topic.slug]
        if found is None:
            continue
        searched_to = dt.datetime.strptime(found.maxdate, "%Y/%m/%d").date()
        results.append(job.triage(p, searched_to, found.count, found.pmids, lookups, base))
    result = job.Updates(tuple(results), tuple(skipped))
    missing_topics = [p.topic.slug for p in plans if searches[p.topic.slug] is None]
    if result.topics or not missing_topics:  # offline with nothing cached: no empty report
        env.emit(pick(env.resolve(fmt)).updates(result))
    for t in result.topics:
        if t.found > t.listed:
            env.warn(
                f"Warning: {t.plan.topic.slug}: PubMed found {t.found}, lms lists the first {t.listed}; "
                "narrow the window with --since."
            )
    missing_records = [pmid for t in result.topics for pmid in t.uncached]
    if missing_topics or missing_records:
        what = []
        if missing_topics:
            what.append(f"the search of {plural(len(missing_topics), 'topic')} ({listed(missing_topics)})")
        if missing_records:
            what.append(f"{plural(len(missing_records), 'record')} (PMID {listed(missing_records)})")
        raise ServiceError("offline, and nothing cached for " + " and ".join(what), "run without --offline")
    if result.new:
        raise Findings


def _service_error(detail: str) -> ServiceError:
    if detail.startswith("malformed"):
        return ServiceError(detail)  # the one line says it all; the network is fine
    return ServiceError(detail, "check the network (or LMS_EUTILS_URL); --offline answers from the cache")
