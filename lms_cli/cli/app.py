"""The command-line interface: options -> Query, run load -> select -> compose -> render.

The Typer app and the core commands live here; later command groups (refs, report,
cite) live in their own ``cli_*`` modules and are registered at the bottom. Errors
become messages and exit codes in ``cli_common.boundary``. Heavy modules (Rich
renderables, httpx) are imported inside the commands that need them.
"""

import copy
import os
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.main import get_command_name
from typer.models import CommandInfo

from lms_cli import __version__
from lms_cli.cite import CitationStyle
from lms_cli.cli.common import (
    OPTIONS,
    AnswerFormatOpt,
    DebugOpt,
    Env,
    EvidenceOpt,
    FormatOpt,
    MinRankOpt,
    NoBundledOpt,
    NoCacheOpt,
    PlainFormat,
    PopulationOpt,
    SinceOpt,
    SkipInvalidOpt,
    boundary,
    complete_item,
    complete_topic,
    emit_summary,
    make_filters,
    max_bytes,
    read_store,
    topic_base,
)
from lms_cli.cli.report import CitationsOpt, cite, report, resolve_format
from lms_cli.cli.trials import trials as trials_command
from lms_cli.errors import UsageError
from lms_cli.model import RANK_HELP, EvidenceBase, Query, Rank, Summary
from lms_cli.render import Format, pick

RANK_TEXT = "\n".join(f"  {r.value:<15} {RANK_HELP[r]}" for r in Rank)

app = typer.Typer(
    name="lms",
    help=(
        "Summarise published evidence on leiomyosarcoma (LMS): how it spreads and how "
        "metastatic LMS is treated, with numbered, ranked references.\n\n"
        "\b\nExamples:\n"
        "  lms ask spread-to-muscle\n"
        "  lms ask first-line --min-rank rct --format json\n"
        "  lms ask spread-to-muscle | pandoc -o brief.docx\n\n"
        "\b\nEvidence ranks, strongest first (a claim takes its weakest source's rank, or with\n"
        "support: each its strongest):\n" + RANK_TEXT
    ),
    epilog="A summary of published evidence, not medical advice.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Color(StrEnum):
    """When rich output is coloured."""

    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"lms {__version__}\n")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    no_pager: Annotated[bool, typer.Option("--no-pager", help="Never page output taller than the terminal.")] = False,
    color: Annotated[
        Color,
        typer.Option(
            "--color",
            case_sensitive=False,
            help="Colour in rich output: auto (on a terminal), always (e.g. for `| less -R`) or never.",
        ),
    ] = Color.AUTO,
) -> None:
    """lms: evidence summaries for leiomyosarcoma."""
    OPTIONS.no_pager = no_pager
    OPTIONS.color = {Color.ALWAYS: True, Color.NEVER: False}.get(color)


# --- commands -------------------------------------------------------------------------------


@app.command(short_help="Answer one topic, with numbered references.")
def ask(
    topic: Annotated[
        str,
        typer.Argument(
            metavar="TOPIC",
            help="A topic slug (see `lms topics`) or a question in plain words.",
            autocompletion=complete_topic,
        ),
    ],
    best: Annotated[bool, typer.Option("--best", help="When several topics match closely, answer the first.")] = False,
    min_rank: MinRankOpt = None,
    since: SinceOpt = None,
    population: PopulationOpt = None,
    fmt: AnswerFormatOpt = Format.AUTO,
    citations: CitationsOpt = CitationStyle.NUMBERS,
    trials: Annotated[
        bool, typer.Option("--trials", help="Add the open ClinicalTrials.gov trials for the topic (network).")
    ] = False,
    offline: Annotated[bool, typer.Option("--offline", help="With --trials: trials from the cache only.")] = False,
    evidence: EvidenceOpt = None,
    no_bundled: NoBundledOpt = False,
    no_cache: NoCacheOpt = False,
    skip_invalid: SkipInvalidOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Answer one topic: direct answer, key points, advances, implications, references.

    TOPIC is a slug or a question in plain words ("can lms spread to muscle?"); the
    chosen topic is named on stderr. When several topics match closely they are listed
    (exit 2) unless --best is given. Exit 1 when the filters leave no claim, 2 when no
    topic matches, 3 for invalid evidence, 4 when --trials cannot reach the registry.
    """
    env = Env.current()
    with boundary(debug, env):
        from lms_cli.compose import compose
        from lms_cli.select import select

        # Only that topic's claims and references are read (with a warm cache, on any size of base).
        base, slug = topic_base(env, evidence, no_bundled, no_cache, topic, best, skip_invalid=skip_invalid)
        query = Query(slug, make_filters(min_rank, since, population), asked=topic.strip())
        summary = compose(query, select(base, query.topic, query.filters))
        out = resolve_format(env, fmt, citations)
        if trials:  # only now is httpx imported
            from lms_cli.cli.trials import emit_with_trials, find_trials

            if out is Format.HTML:
                raise UsageError("--trials is not drawn in HTML pages yet", "use --format markdown, json or rich")
            emit_with_trials(env, out, summary, citations, find_trials(env, base, query.topic, offline=offline))
        else:
            if offline:
                raise UsageError("--offline applies to --trials", "add --trials, or drop --offline")
            emit_summary(env, out, summary, citations)


@app.command(short_help="Find claims that match words, across topics.")
def search(
    words: Annotated[list[str], typer.Argument(metavar="WORDS...", help="Words to look for in claims.")],
    min_rank: MinRankOpt = None,
    since: SinceOpt = None,
    population: PopulationOpt = None,
    fmt: AnswerFormatOpt = Format.AUTO,
    evidence: EvidenceOpt = None,
    no_bundled: NoBundledOpt = False,
    no_cache: NoCacheOpt = False,
    skip_invalid: SkipInvalidOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Find claims across all topics that match WORDS, best first, grouped by topic.

    Words are normalised as for `ask` (plurals, synonyms, typos); a claim matches when it
    has at least half of them. Exit 2 when no claim matches (as `ask` for what the base does
    not cover), 1 when the filters removed every match.
    """
    env = Env.current()
    with boundary(debug, env):
        from lms_cli.compose import compose_search
        from lms_cli.resolve import TopicIndex
        from lms_cli.select import emptied, filter_claims
        from lms_cli.store import Store

        text = " ".join(words).strip()
        filters = make_filters(min_rank, since, population)

        def matching(store: Store) -> EvidenceBase:
            """The matched claims, best first, and what they cite."""
            keys = TopicIndex(store.topics, store.lexicon()).search(text)
            if not keys:
                raise UsageError(f"not covered: no claim matches {text!r}", "try fewer or other words, or `lms topics`")
            return store.part(keys=keys)

        def composed(base: EvidenceBase) -> Summary:
            """The matches the filters keep, composed; what is not in the summary goes with
            this call, before the (possibly large) answer is written."""
            kept, removed, hidden = filter_claims(list(base.claims), base.reference_map(), filters)
            if removed is not None:
                raise emptied(repr(text), removed)
            return compose_search(Query("", filters, search=text), base.topics, kept, hidden)

        summary = composed(read_store(env, evidence, no_bundled, no_cache, matching, skip_invalid=skip_invalid))
        emit_summary(env, env.resolve(fmt), summary)


@app.command(short_help="List the topics and their questions.")
def topics(
    fmt: FormatOpt = PlainFormat.AUTO,
    evidence: EvidenceOpt = None,
    no_bundled: NoBundledOpt = False,
    no_cache: NoCacheOpt = False,
    skip_invalid: SkipInvalidOpt = False,
    debug: DebugOpt = False,
) -> None:
    """List the topics with their questions and claim counts."""
    env = Env.current()
    with boundary(debug, env):
        from lms_cli.browse import topic_rows

        rows = read_store(env, evidence, no_bundled, no_cache, topic_rows, skip_invalid=skip_invalid)
        env.emit(pick(env.resolve(fmt)).topics(rows))


@app.command(short_help="Show one topic, claim or reference.")
def show(
    item_id: Annotated[
        str,
        typer.Argument(
            metavar="ID",
            help="A topic slug, claim id, or a reference by id, pmid:N, PMID, DOI or PMCID.",
            autocompletion=complete_item,
        ),
    ],
    fmt: FormatOpt = PlainFormat.AUTO,
    evidence: EvidenceOpt = None,
    no_bundled: NoBundledOpt = False,
    no_cache: NoCacheOpt = False,
    skip_invalid: SkipInvalidOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Show one topic, claim or reference with everything that cites it."""
    env = Env.current()
    with boundary(debug, env):
        from lms_cli.browse import detail

        found = read_store(
            env, evidence, no_bundled, no_cache, lambda store: detail(store, item_id.strip()), skip_invalid=skip_invalid
        )
        env.emit(pick(env.resolve(fmt)).detail(found))


@app.command(short_help="Check evidence files (every problem at once).")
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(metavar="[PATH]...", help="Check only these files or directories.")
    ] = None,
    evidence: EvidenceOpt = None,
    no_bundled: NoBundledOpt = False,
    no_cache: NoCacheOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Check evidence files; print every problem as FILE:LINE:COL: message (exit 3 if any)."""
    env = Env.current()
    with boundary(debug, env):
        from lms_cli import load

        if paths:
            missing = [p for p in paths if not p.exists()]
            if missing:
                raise UsageError(f"path not found: {missing[0]}")
            base = load.load(paths, max_bytes(env))
            totals = (len(base.topics), len(base.references), len(base.claims))
        else:
            # warm and unchanged: the counts come from the snapshot, checked when it was written
            totals = read_store(env, evidence, no_bundled, no_cache, lambda store: store.totals())
        env.write(f"OK: {totals[0]} topics, {totals[1]} references, {totals[2]} claims\n")


@app.command(short_help="Print a JSON Schema of evidence files.")
def schema() -> None:
    """Print a JSON Schema for evidence files (for editors that validate YAML as you type)."""
    from lms_cli.load.fields import json_schema
    from lms_cli.render import json as render_json

    Env.current().write(render_json.dumps(json_schema()))


def main() -> Any:
    """Console-script entry point."""
    import gc

    from lms_cli.cli.common import guard_standard_streams

    # One short run: the cyclic collector would walk the answer's objects again and again
    # (25 ms of a 2,000-claim JSON answer) to free almost nothing; reference counting
    # still frees everything that is not a cycle.
    gc.disable()
    guard_standard_streams()
    try:
        app_for(sys.argv[1:])()
    except SystemExit as exc:
        if exc.code is not None and not isinstance(exc.code, int):
            raise
        _leave(exc.code or 0)
    _leave(0)


#: The options of ``_main`` (lms's own, before the command word) that take a value.
GLOBAL_VALUED = frozenset({"--color"})
#: The ones that do not (Typer's completion flags end the run either way); ``--version`` and
#: ``--help`` end it before any command is built.
GLOBAL_FLAGS = frozenset({"--no-pager", "--install-completion", "--show-completion"})


def command_word(args: Sequence[str]) -> str | None:
    """The command ``args`` run, when only lms's own options come before it; else None."""
    rest = iter(args)
    for arg in rest:
        if arg in GLOBAL_VALUED:
            next(rest, None)
        elif arg in GLOBAL_FLAGS or arg.split("=", 1)[0] in GLOBAL_VALUED:
            continue
        else:
            return None if arg.startswith("-") else arg
    return None


def app_for(args: Sequence[str]) -> typer.Typer:
    """``app`` holding only the command that ``args`` run, when that is plain.

    Typer builds the options of every registered command before it runs one (15 ms of each
    run); this builds one. Help, completion and anything it cannot name get the whole app.
    """
    name = command_word(args)
    if name is None or "_LMS_COMPLETE" in os.environ:
        return app
    commands = [c for c in app.registered_commands if _command_name(c) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if len(commands) + len(groups) != 1:
        return app
    one = copy.copy(app)
    one.registered_commands, one.registered_groups = commands, groups
    return one


def _command_name(command: CommandInfo) -> str | None:
    if command.name:
        return command.name
    return get_command_name(command.callback.__name__) if command.callback else None


def _leave(code: int) -> NoReturn:
    """Exit with ``code`` once the output is flushed, skipping the interpreter's teardown: it
    frees every object one by one (30 ms after an answer of 2,000 claims) and there is
    nothing left to do -- files are closed and subprocesses waited for by then. Any trouble
    flushing takes the ordinary way out, which reports it as before."""
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        raise SystemExit(code) from None
    os._exit(code)


class Shell(StrEnum):
    """Shells lms can complete for."""

    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


@app.command(short_help="Print the shell completion script.")
def completion(shell: Annotated[Shell, typer.Argument(help="The shell: bash, zsh or fish.")]) -> None:
    """Print the completion script for SHELL (topics, ids and options complete with Tab).

    Examples:  lms completion bash >> ~/.bashrc;  lms completion zsh > ~/.zfunc/_lms;
    lms completion fish > ~/.config/fish/completions/lms.fish
    """
    env = Env.current()
    with boundary(False, env):
        try:
            from typer._completion_shared import get_completion_script
        except ImportError:  # pragma: no cover - a Typer without it
            raise UsageError("this Typer version cannot write completion scripts; use --show-completion") from None
        env.write(
            get_completion_script(prog_name="lms", complete_var="_LMS_COMPLETE", shell=shell.value).rstrip() + "\n"
        )


# Command groups defined in their own modules (imported here so `lms --help` lists them).
from lms_cli.cli.refs import refs_app  # noqa: E402 - registered after the core commands
from lms_cli.cli.updates import updates  # noqa: E402

app.add_typer(refs_app, name="refs", short_help="Check, list, fetch and add references.")
app.command(short_help="What PubMed added since each review.")(updates)
app.command(short_help="Write a report over several topics.")(report)
app.command(short_help="Export references (Vancouver, BibTeX, ...).")(cite)
app.command(name="trials", short_help="Open clinical trials for a topic.")(trials_command)
