"""`lms trials` and `ask --trials`: open ClinicalTrials.gov studies for the question asked.

The command layer: it reads LMS_CTGOV_URL into the services ``Config``, runs the search
(``services.ctgov``), filters and marks the studies (``refs.trials``) and maps failures to
exit codes (4: the registry could not be reached, answered badly, or nothing was cached
offline). httpx is imported inside the functions only, so `lms ask` without --trials and
`lms --help` never load it.
"""

import datetime as dt
from dataclasses import replace
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer

from lms_cli.cli.common import (
    DebugOpt,
    Env,
    EvidenceOpt,
    FormatOpt,
    NoBundledOpt,
    NoCacheOpt,
    PlainFormat,
    SkipInvalidOpt,
    boundary,
    choose_topic,
    load_base,
    warn_hidden,
)
from lms_cli.errors import ServiceError, UsageError
from lms_cli.render import Format

if TYPE_CHECKING:
    from lms_cli.cite import CitationStyle
    from lms_cli.model import EvidenceBase, Summary
    from lms_cli.refs.trials import Trials
    from lms_cli.services.http import Config

#: --limit's default and its cap (five pages of 100 studies).
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class StatusChoice(StrEnum):
    """The values --status takes (open: recruiting or not yet recruiting)."""

    OPEN = "open"
    RECRUITING = "recruiting"
    NOT_YET_RECRUITING = "not-yet-recruiting"
    ACTIVE = "active"
    ALL = "all"


OfflineOpt = Annotated[
    bool, typer.Option("--offline", help="Answer from the cache only (the date of the cached data is shown).")
]


def ctgov_config(env: Env, offline: bool, refresh: bool = False) -> "Config":
    """The services Config with the registry's base URL from LMS_CTGOV_URL."""
    from lms_cli.cli.refs import service_config
    from lms_cli.services.http import CTGOV_URL

    url = env.environ.get("LMS_CTGOV_URL") or CTGOV_URL
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    if not url.startswith(("http://", "https://")) or not host:
        raise UsageError(f"LMS_CTGOV_URL must be an http:// or https:// URL, not {url!r}")
    return replace(service_config(env, offline, refresh), ctgov_url=url)


def find_trials(
    env: Env,
    base: "EvidenceBase",
    slug: str | None,
    *,
    status: StatusChoice = StatusChoice.OPEN,
    phase: str | None = None,
    country: str | None = None,
    intervention: str | None = None,
    limit: int = DEFAULT_LIMIT,
    offline: bool = False,
    refresh: bool = False,
) -> "Trials":
    """Search the registry for a topic (or every LMS trial) and return what is shown; Failure -> exit 4."""
    from lms_cli.refs import trials as refs
    from lms_cli.services import ctgov
    from lms_cli.services.http import Failure, Http

    wanted_phase = refs.parse_phase(phase) if phase else None
    topic = base.topic(slug) if slug else None
    terms = topic.trials if topic else None
    if topic is not None and not terms:
        env.warn(f"Note: topic {topic.slug} has no registry words (`trials:`); showing all leiomyosarcoma trials.")
    search = ctgov.Search(
        terms=terms,
        intervention=" ".join(intervention.split()) if intervention and intervention.strip() else None,
        statuses=ctgov.STATUSES[status.value],
        limit=limit,
    )
    config = ctgov_config(env, offline, refresh)
    try:
        with Http(config) as http:
            fetched = ctgov.search(http, search)
    except Failure as exc:
        hint = (
            "run without --offline"
            if offline
            else "check the network (or LMS_CTGOV_URL); --offline answers from the cache"
        )
        raise ServiceError(exc.detail, hint) from None
    kept = refs.keep(fetched.studies, wanted_phase, country)
    query = refs.TrialsQuery(
        topic=topic.slug if topic else None,
        question=topic.question if topic else None,
        condition=ctgov.CONDITION,
        terms=terms,
        intervention=search.intervention,
        status=status.value,
        statuses=search.statuses,
        phase=wanted_phase,
        country=country.strip() if country else None,
        limit=limit,
    )
    return refs.Trials(
        query=query,
        rows=refs.rows(kept, refs.topic_ncts(base, topic)),
        fetched_at=dt.datetime.fromtimestamp(fetched.fetched_at, dt.UTC),
        from_cache=fetched.from_cache > 0,
        more=fetched.more,
        complete=fetched.complete,
    )


def emit_with_trials(env: Env, out: Format, summary: "Summary", citations: "CitationStyle", result: "Trials") -> None:
    """`ask --trials`: the answer with its "Open trials" section, in the resolved format."""
    from lms_cli.render import pick

    warn_hidden(env, out, summary)
    env.emit(pick(out).with_trials(summary, result, citations))


def trials(
    topic: Annotated[
        str | None,
        typer.Argument(metavar="[TOPIC]", help="A topic slug or plain words; none: every leiomyosarcoma trial."),
    ] = None,
    status: Annotated[
        StatusChoice,
        typer.Option("--status", case_sensitive=False, help="Overall status (open: recruiting or not yet)."),
    ] = StatusChoice.OPEN,
    phase: Annotated[
        str | None, typer.Option("--phase", metavar="N", help="Keep trials of this phase: 1, 2, 3, 4 or early-1.")
    ] = None,
    country: Annotated[
        str | None, typer.Option("--country", metavar="NAME", help="Keep trials with a site in this country.")
    ] = None,
    intervention: Annotated[
        str | None,
        typer.Option("--intervention", metavar="WORDS", help="Ask the registry for trials of this intervention."),
    ] = None,
    limit: Annotated[
        int,
        typer.Option("--limit", min=1, max=MAX_LIMIT, help=f"Most studies fetched (pages followed; cap {MAX_LIMIT})."),
    ] = DEFAULT_LIMIT,
    best: Annotated[bool, typer.Option("--best", help="When several topics match closely, take the first.")] = False,
    offline: OfflineOpt = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Ask the registry again even when a cached page is fresh.")
    ] = False,
    fmt: FormatOpt = PlainFormat.AUTO,
    evidence: EvidenceOpt = None,
    no_bundled: NoBundledOpt = False,
    no_cache: NoCacheOpt = False,
    skip_invalid: SkipInvalidOpt = False,
    debug: DebugOpt = False,
) -> None:
    """List clinical trials of leiomyosarcoma on ClinicalTrials.gov, narrowed to a topic.

    Recruiting and not-yet-recruiting trials by default, newest update first; trials the
    topic's evidence cites are marked. Pages are cached for a day. Exit 0 (also when none
    is found), 2 for a wrong option or topic, 4 when the registry cannot be reached.
    """
    env = Env.current()
    with boundary(debug, env):
        base = load_base(env, evidence, no_bundled, no_cache, skip_invalid=skip_invalid)
        slug = choose_topic(env, base, topic, best) if topic and topic.strip() else None
        result = find_trials(
            env,
            base,
            slug,
            status=status,
            phase=phase,
            country=country,
            intervention=intervention,
            limit=limit,
            offline=offline,
            refresh=refresh,
        )
        from lms_cli.render import pick

        env.emit(pick(env.resolve(fmt)).trials(result))
