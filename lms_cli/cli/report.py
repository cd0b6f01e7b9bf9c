"""The `report` and `cite` commands, and the `--citations` option shared with `ask`.

Plain functions registered by ``lms_cli.cli``. This is the CLI layer: it reads the spec
file, the clock and SOURCE_DATE_EPOCH, and writes output files atomically.
"""

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from lms_cli.cite import CitationStyle, ExportFormat
from lms_cli.cli.common import (
    DebugOpt,
    Env,
    EvidenceOpt,
    MinRankOpt,
    NoBundledOpt,
    NoCacheOpt,
    PopulationOpt,
    SinceOpt,
    SkipInvalidOpt,
    boundary,
    complete_topic,
    load_base,
    make_filters,
    max_bytes,
    read_store,
    topic_base,
)
from lms_cli.errors import NoResultsError, UsageError
from lms_cli.render import Format

CitationsOpt = Annotated[
    CitationStyle,
    typer.Option(
        "--citations",
        case_sensitive=False,
        help="Cite by reference number, or by pandoc key ([@pmid:N]) for `pandoc --citeproc`.",
    ),
]


def resolve_format(env: Env, fmt: Format, citations: CitationStyle) -> Format:
    """The output format; pandoc citations exist only in Markdown (auto picks it)."""
    if citations is CitationStyle.NUMBERS:
        return env.resolve(fmt)
    if fmt in (Format.AUTO, Format.MARKDOWN):
        return Format.MARKDOWN
    raise UsageError(f"--citations pandoc needs Markdown output, not --format {fmt.value}")


# --- dates and files ------------------------------------------------------------------------


def report_date(env: Env) -> dt.date:
    """SOURCE_DATE_EPOCH (reproducible builds) as a UTC date, else today in UTC."""
    raw = env.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not raw:
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.datetime.fromtimestamp(int(raw), dt.UTC).date()
    except (ValueError, OverflowError, OSError):
        raise UsageError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970-01-01, not {raw!r}") from None


def write_exact(env: Env, text: str) -> None:
    """Write to stdout with line endings unchanged (RIS needs CRLF on every platform)."""
    env.write_exact(text)


# --- commands ---------------------------------------------------------------------------------


class ReportFormat(StrEnum):
    """The formats `lms report` writes."""

    MARKDOWN = "markdown"
    JSON = "json"
    HTML = "html"


def report(
    spec: Annotated[Path, typer.Argument(metavar="SPEC.yaml", help="The report spec (see examples/report.yaml).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="Write to FILE (atomically), not stdout.")
    ] = None,
    fmt: Annotated[
        ReportFormat | None,
        typer.Option(
            "--format", "-f", case_sensitive=False, help="Output format (default: from -o's suffix, else markdown)."
        ),
    ] = None,
    citations: CitationsOpt = CitationStyle.NUMBERS,
    evidence: EvidenceOpt = None,
    no_bundled: NoBundledOpt = False,
    no_cache: NoCacheOpt = False,
    skip_invalid: SkipInvalidOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Write a multi-topic report from a YAML spec, with one reference list for all sections.

    The date comes from the spec, else SOURCE_DATE_EPOCH, else today (UTC). Exit 3 for an
    invalid spec (every problem as FILE:LINE:COL) and 5 when FILE cannot be written.
    """
    env = Env.current()
    with boundary(debug, env):
        from lms_cli.render import report as render_report
        from lms_cli.report import compose_report, parse_spec

        if fmt is None:
            suffix = output.suffix.lower() if output is not None and str(output) != "-" else ""
            fmt = {".html": ReportFormat.HTML, ".htm": ReportFormat.HTML, ".json": ReportFormat.JSON}.get(
                suffix, ReportFormat.MARKDOWN
            )
        if fmt is not ReportFormat.MARKDOWN and citations is CitationStyle.PANDOC:
            raise UsageError(f"--citations pandoc needs Markdown output, not --format {fmt.value}")
        from lms_cli.load import read_bytes

        # the evidence reader's rules: regular files only (a FIFO would hang), size-limited
        data, _, unreadable = read_bytes(spec, str(spec), max_bytes(env))
        if unreadable is not None:
            why = unreadable.problems[0].message.removeprefix("cannot read file: ")
            raise UsageError(f"cannot read report spec {spec}: {why}")
        assert data is not None
        base = load_base(env, evidence, no_bundled, no_cache, skip_invalid=skip_invalid)
        parsed = parse_spec(data, str(spec), [t.slug for t in base.topics])
        composed = compose_report(parsed, base, report_date(env))
        if fmt is ReportFormat.JSON:
            text = render_report.json(composed)
        elif fmt is ReportFormat.HTML:
            from lms_cli.render import html

            text = html.report(composed)
        else:
            text = render_report.markdown(composed, citations)
        if output is None or str(output) == "-":
            env.write(text)
        else:
            from lms_cli.atomic import write_atomic

            write_atomic(output, text)


def cite(
    topic: Annotated[
        str | None,
        typer.Argument(
            metavar="[TOPIC]",
            help="Export the references this topic cites (a slug or plain words).",
            autocompletion=complete_topic,
        ),
    ] = None,
    all_refs: Annotated[bool, typer.Option("--all", help="Export every reference instead of one topic's.")] = False,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", case_sensitive=False, help="Reference format.")
    ] = ExportFormat.VANCOUVER,
    min_rank: MinRankOpt = None,
    since: SinceOpt = None,
    population: PopulationOpt = None,
    evidence: EvidenceOpt = None,
    no_bundled: NoBundledOpt = False,
    no_cache: NoCacheOpt = False,
    skip_invalid: SkipInvalidOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Export references: a topic's (after filters, in citation order) or --all of them.

    Every format keys a reference as pandoc cites it: pmid:N, else doi:... (the CSL-JSON
    id, the BibTeX key, the RIS ID).
    """
    env = Env.current()
    with boundary(debug, env):
        from lms_cli.cite import export

        if (topic is None) == (not all_refs):
            raise UsageError(
                "give a TOPIC or --all, not both" if all_refs else "give a TOPIC or --all",
                "run `lms topics` to list topics",
            )
        filters = make_filters(min_rank, since, population)
        if topic is not None:
            from lms_cli.compose import compose
            from lms_cli.model import Query
            from lms_cli.select import select

            base, slug = topic_base(env, evidence, no_bundled, no_cache, topic, skip_invalid=skip_invalid)
            query = Query(slug, filters)
            refs = [e.reference for e in compose(query, select(base, query.topic, filters)).references]
        else:
            if population is not None:
                raise UsageError("--population selects claims: use it with a TOPIC, not --all")
            every = read_store(
                env, evidence, no_bundled, no_cache, lambda store: store.references(), skip_invalid=skip_invalid
            )
            refs = [
                r
                for r in every
                if (min_rank is None or r.rank.at_least(min_rank)) and (since is None or r.year >= since)
            ]
            if not refs:
                raise NoResultsError("no references left after the filters", "relax --min-rank or --since")
        write_exact(env, export(refs, fmt))
