"""`lms refs`: verify the base's references against PubMed and Crossref, fetch and add new ones.

The command layer: it reads the service settings from the environment into a
``services.Config``, draws a progress bar on a terminal and maps outcomes to exit codes.
httpx (through ``lms_cli.services``) and Rich are imported inside the commands only, so
importing this module (which ``lms --help`` and ``lms ask`` do) stays cheap.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO
from urllib.parse import urlsplit

import typer

from lms_cli.cli.common import (
    DebugOpt,
    Env,
    EvidenceOpt,
    FormatOpt,
    MinRankOpt,
    NoBundledOpt,
    NoCacheOpt,
    PlainFormat,
    SinceOpt,
    SkipInvalidOpt,
    boundary,
    cache_root,
    load_base,
    read_store,
)
from lms_cli.errors import Findings, ServiceError, UsageError
from lms_cli.model import EvidenceBase, Rank
from lms_cli.render import pick
from lms_cli.text import plural

if TYPE_CHECKING:
    from lms_cli.services.http import Config
    from lms_cli.services.records import Lookup, Work
    from lms_cli.store import Store

#: More references than this on a terminal get a progress bar.
PROGRESS_MIN = 5

refs_app = typer.Typer(
    name="refs",
    help=(
        "Check references against PubMed and Crossref, and fetch or add new ones.\n\n"
        "\b\nExamples:\n"
        "  lms refs verify\n"
        "  lms refs fetch 35835135 10.1200/JCO.2014.58.3781 PMC3657306\n"
        "  lms refs add 35835135 --to my-evidence/refs.yaml"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

OfflineOpt = Annotated[bool, typer.Option("--offline", help="Answer from the cache only, and say what was not cached.")]
IdsArg = Annotated[
    list[str], typer.Argument(metavar="ID...", help="PMIDs, DOIs or PMCIDs, e.g. 35835135 10.1056/x PMC3657306.")
]
DesignOpt = Annotated[
    Rank | None,
    typer.Option(
        "--design",
        case_sensitive=False,
        help="The rank of the new entries (else guessed from PubMed publication types).",
    ),
]


def service_config(env: Env, offline: bool, refresh: bool = False) -> "Config":
    """Service URLs, contact address and API key from the environment; the cache under cache_root."""
    from lms_cli.services import http
    from lms_cli.services.http import Config

    e = env.environ
    urls = {}
    for name, default in (
        ("LMS_EUTILS_URL", http.EUTILS_URL),
        ("LMS_CROSSREF_URL", http.CROSSREF_URL),
        ("LMS_IDCONV_URL", http.IDCONV_URL),
    ):
        url = e.get(name) or default
        try:
            host = urlsplit(url).hostname
        except ValueError:
            host = None
        if not url.startswith(("http://", "https://")) or not host:
            raise UsageError(f"{name} must be an http:// or https:// URL, not {http.redact(url)!r}")
        urls[name] = url
    return Config(
        eutils_url=urls["LMS_EUTILS_URL"],
        crossref_url=urls["LMS_CROSSREF_URL"],
        idconv_url=urls["LMS_IDCONV_URL"],
        email=e.get("LMS_EMAIL") or None,
        api_key=e.get("NCBI_API_KEY") or None,
        cache_dir=root / "services" if (root := cache_root(env)) is not None else None,
        offline=offline,
        refresh=refresh,
    )


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def progress_bar(env: Env, total: int, what: str) -> Iterator[Callable[[int], None] | None]:
    """A Rich progress bar on stderr when it is a terminal and there is enough to wait for."""
    if total <= PROGRESS_MIN or not _is_terminal(env.stderr):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(file=env.stderr), transient=True) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)


def email_warning(env: Env, config: "Config") -> None:
    """The LMS_EMAIL hint, before any work, when the services will be asked without a contact address."""
    if not config.offline and not config.email:
        env.warn(
            "Warning: LMS_EMAIL is not set; NCBI and Crossref ask for a contact address "
            "(export LMS_EMAIL=you@example.org)."
        )


def listed(names: Sequence[str], limit: int = 10) -> str:
    """Names joined with commas, the first ``limit`` of them and how many more."""
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


@refs_app.command()
def verify(
    offline: OfflineOpt = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Ask the services again even when a cached answer is fresh.")
    ] = False,
    fmt: FormatOpt = PlainFormat.AUTO,
    evidence: EvidenceOpt = None,
    no_bundled: NoBundledOpt = False,
    no_cache: NoCacheOpt = False,
    skip_invalid: SkipInvalidOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Check every reference: PMIDs against PubMed (ESummary), DOI-only ones against PubMed or Crossref.

    Compares title, year, journal, first author and DOI/PMID, and flags retractions.
    Exit 0 when all are verified, 4 when a service could not be reached, else 1.
    """
    env = Env.current()
    with boundary(debug, env):
        from lms_cli.refs import verify as refs
        from lms_cli.services.client import Client

        base = load_base(env, evidence, no_bundled, no_cache, skip_invalid=skip_invalid)
        config = service_config(env, offline, refresh)
        email_warning(env, config)
        with Client(config) as client, progress_bar(env, len(base.references), "Checking references") as advance:
            lookups = client.lookup_references(base.references, advance)
        results = [refs.check(r, lookups[r.id]) for r in base.references]
        env.emit(pick(env.resolve(fmt)).verify(results))
        missing = [r.reference.id for r in results if r.status is refs.Status.UNCHECKED and not r.unreachable]
        if missing:
            env.warn(
                f"Warning: offline, and nothing cached for {plural(len(missing), 'reference')}: "
                f"{listed(missing)}; run without --offline to check them."
            )
        failed = [r for r in results if r.unreachable]
        if failed:
            # once per service, with the URL actually tried; a service that failed while another
            # answered for it (the PMC ID converter, Crossref standing in) is not a reason
            down = client.failures
            sources = dict.fromkeys(r.source for r in failed)
            reasons = [down[s] for s in sources if s in down]
            reasons = reasons or list(dict.fromkeys(r.detail or r.source for r in failed))
            raise ServiceError(
                f"{plural(len(failed), 'reference')} could not be checked: " + "; ".join(reasons),
                "check the network (or LMS_EUTILS_URL / LMS_CROSSREF_URL); --offline answers from the cache",
            )
        if any(r.status is not refs.Status.VERIFIED for r in results):
            raise Findings


def _works(config: "Config", ids: Sequence[str], env: Env) -> "list[Work]":
    """Metadata for each ID typed, or one error naming every ID without it."""
    from lms_cli.services.client import Client
    from lms_cli.services.records import LookupState, parse_identifier

    parsed = [parse_identifier(i) for i in ids]
    email_warning(env, config)
    with Client(config) as client:
        lookups: list[Lookup] = client.works(parsed)
    shown = [f"{kind.value} {value}" for kind, value in parsed]
    failed = [(s, lk) for s, lk in zip(shown, lookups, strict=True) if lk.state is LookupState.FAILED]
    if failed:
        raise ServiceError(
            "; ".join(dict.fromkeys(lk.detail or lk.service for _, lk in failed)),
            "check the network, or the LMS_*_URL settings",
        )
    uncached = [s for s, lk in zip(shown, lookups, strict=True) if lk.state is LookupState.NOT_CACHED]
    if uncached:
        raise ServiceError(f"offline, and nothing cached for {listed(uncached)}", "run without --offline")
    unknown = [f"{s} ({lk.service})" for s, lk in zip(shown, lookups, strict=True) if lk.state is LookupState.NOT_FOUND]
    if unknown:
        raise UsageError(f"no record for {listed(unknown)}", "check the identifier")
    return [lk.work for lk in lookups if lk.work is not None]


def _design_warning(env: Env, entries: Sequence[Any]) -> None:
    unknown = [e.id for e in entries if e.design is None]
    if unknown:
        env.warn(
            f"Warning: the metadata does not tell the design of {listed(unknown)}: "
            "set it by hand (or pass --design RANK)."
        )


@refs_app.command("list")
def list_(
    min_rank: MinRankOpt = None,
    since: SinceOpt = None,
    topic: Annotated[
        str | None, typer.Option("--topic", metavar="SLUG", help="Only references this topic cites.")
    ] = None,
    missing: Annotated[
        str | None,
        typer.Option(
            "--missing",
            metavar="FIELD",
            help="Only references without FIELD (pmid, doi, pmcid, volume, issue, pages, n, findings).",
        ),
    ] = None,
    fmt: FormatOpt = PlainFormat.AUTO,
    evidence: EvidenceOpt = None,
    no_bundled: NoBundledOpt = False,
    no_cache: NoCacheOpt = False,
    skip_invalid: SkipInvalidOpt = False,
    debug: DebugOpt = False,
) -> None:
    """List references with their ids, rank, year and the claims citing them.

    Every id it prints works with `lms show`; --missing finds references to complete.
    """
    env = Env.current()
    with boundary(debug, env):
        from lms_cli.browse import CHECKED_FIELDS, ReferenceRow, reference_rows
        from lms_cli.select import find_topic

        if missing is not None and missing not in CHECKED_FIELDS:
            raise UsageError(f"--missing takes one of {', '.join(CHECKED_FIELDS)}, not {missing!r}")

        def rows_of(store: "Store") -> "list[ReferenceRow]":
            if topic is not None:
                find_topic(EvidenceBase(store.topics, (), ()), topic)
            return reference_rows(store, min_rank=min_rank, since=since, topic=topic, missing=missing)

        rows = read_store(env, evidence, no_bundled, no_cache, rows_of, skip_invalid=skip_invalid)
        env.emit(pick(env.resolve(fmt)).references(rows))


@refs_app.command()
def fetch(
    ids: IdsArg,
    design: DesignOpt = None,
    offline: OfflineOpt = False,
    evidence: EvidenceOpt = None,
    no_bundled: NoBundledOpt = False,
    no_cache: NoCacheOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Print ready-to-paste YAML reference entries (paste them under a `references:` key).

    Authors complete, NLM journal abbreviation and DOI from PubMed; a DOI that PubMed does
    not know is fetched from Crossref; a PMCID goes through the PMC ID converter. Ids are
    picked so they do not clash with the loaded base.
    """
    env = Env.current()
    with boundary(debug, env):
        from lms_cli.refs import entries as refs

        base = load_base(env, evidence, no_bundled, no_cache)
        works = _works(service_config(env, offline), ids, env)
        taken = {t.slug for t in base.topics} | {r.id for r in base.references} | {c.id for c in base.claims}
        entries = refs.make_entries(works, taken, design)
        env.write(refs.entries_yaml(entries))
        _design_warning(env, entries)


@refs_app.command()
def add(
    ids: IdsArg,
    to: Annotated[Path, typer.Option("--to", metavar="FILE", help="The evidence file to append to (made if absent).")],
    design: DesignOpt = None,
    entry_id: Annotated[
        str | None, typer.Option("--id", metavar="ID", help="The new reference's id (only with one ID).")
    ] = None,
    offline: OfflineOpt = False,
    evidence: EvidenceOpt = None,
    no_bundled: NoBundledOpt = False,
    no_cache: NoCacheOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Append reference entries to an evidence file, atomically, keeping its text and comments.

    A paper already in the base or the file (same id, PMID or DOI) is refused with exit 3 and
    nothing is written.
    """
    env = Env.current()
    with boundary(debug, env):
        from lms_cli import load
        from lms_cli.refs import entries as refs

        if entry_id is not None:
            if len(ids) != 1:
                raise UsageError("--id names one reference: give exactly one ID with it")
            if not load.ID_RE.match(entry_id):
                raise UsageError(f"{entry_id!r} is not a valid id", "use lowercase letters, digits, '-', '_', '.'")
        if to.is_dir():
            raise UsageError(f"--to needs a file, not the directory {to}")
        from lms_cli.atomic import target

        target(to)  # the write policy, before anything is fetched: exit 5 for a file lms must not write
        base = load_base(env, evidence, no_bundled, no_cache)
        works = _works(service_config(env, offline), ids, env)
        taken = {t.slug for t in base.topics} | {r.id for r in base.references} | {c.id for c in base.claims}
        if to.exists():
            taken |= {r.id for r in load.read_file(to).references}
        entries = refs.make_entries(works, taken, design, entry_id)
        refs.add_to_file(to, entries, base)
        env.write("".join(f"Added {e.id} ({_ident(e.work)}) to {to}\n" for e in entries))


def _ident(work: "Work") -> str:
    return f"PMID {work.pmid}" if work.pmid else f"DOI {work.doi}"
