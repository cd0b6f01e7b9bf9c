"""The command-line interface: options -> Query, run load -> select -> compose -> render.

This is the one module that reads argv and the environment, writes to stdout/stderr
and knows exit codes. Heavy modules (Rich renderables, httpx) are imported inside the
commands that need them.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from lms_cli import __version__
from lms_cli.errors import ExitCode, LmsError
from lms_cli.model import RANK_HELP, EvidenceBase, Filters, Population, Query, Rank

if TYPE_CHECKING:
    from rich.console import RenderableType


class Format(str, Enum):
    AUTO = "auto"
    RICH = "rich"
    MARKDOWN = "markdown"
    JSON = "json"


class PopulationChoice(str, Enum):
    UTERINE = "uterine"
    EXTRA_UTERINE = "extra-uterine"


RANK_TEXT = "\n".join(f"  {r.value:<15} {RANK_HELP[r]}" for r in Rank)

app = typer.Typer(
    name="lms",
    help=(
        "Summarise published evidence on leiomyosarcoma (LMS): how it spreads and how\n"
        "metastatic LMS is treated, with numbered, ranked references.\n\n"
        "Examples:\n\n"
        "  lms ask spread-to-muscle\n\n"
        "  lms ask first-line --min-rank rct --format json\n\n"
        "  lms ask spread-to-muscle | pandoc -o brief.docx\n\n"
        "Evidence ranks, strongest first:\n\n" + RANK_TEXT.replace("\n", "\n\n")
    ),
    epilog="A summary of published evidence, not medical advice.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# --- the run environment: streams and terminal facts, injectable for tests ---------------


@dataclass
class Env:
    """Where output goes and what the environment says; tests may build their own."""

    stdout: TextIO
    stderr: TextIO
    environ: dict[str, str]

    @classmethod
    def current(cls) -> Env:
        return cls(sys.stdout, sys.stderr, dict(os.environ))

    @property
    def stdout_is_terminal(self) -> bool:
        isatty = getattr(self.stdout, "isatty", None)
        return bool(isatty and isatty())

    def resolve(self, fmt: Format) -> Format:
        if fmt is Format.AUTO:
            return Format.RICH if self.stdout_is_terminal else Format.MARKDOWN
        return fmt

    def write(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def print_rich(self, renderable: RenderableType) -> None:
        from rich.console import Console

        Console(file=self.stdout, highlight=False, soft_wrap=False).print(renderable)

    def warn(self, text: str) -> None:
        self.stderr.write(text.rstrip("\n") + "\n")


@contextmanager
def boundary(debug: bool) -> Iterator[None]:
    """Turn the errors a user can cause into one message and a documented exit code."""
    try:
        yield
    except LmsError as exc:
        if debug:
            traceback.print_exc()
        sys.stderr.write(f"Error: {exc.message}\n")
        if exc.hint:
            sys.stderr.write(f"Hint: {exc.hint}\n")
        raise typer.Exit(int(exc.exit_code)) from None
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        sys.stderr.write("Interrupted.\n")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except BrokenPipeError:
        # The reader went away (`lms ask x | head -1`): stop quietly.
        _silence_stdout()
        raise typer.Exit(int(ExitCode.OK)) from None


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (tests)
        pass


# --- shared options ------------------------------------------------------------------------

EvidenceOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--evidence", "-e", metavar="PATH",
        help="Add an evidence directory or file (repeatable; after LMS_EVIDENCE).",
    ),
]
NoBundledOpt = Annotated[
    bool, typer.Option("--no-bundled", help="Use only --evidence/LMS_EVIDENCE, not the bundled base.")
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")]
FormatOpt = Annotated[
    Format,
    typer.Option(
        "--format", "-f", case_sensitive=False,
        help="Output format; auto is rich on a terminal, Markdown when piped.",
    ),
]
MinRankOpt = Annotated[
    Rank | None,
    typer.Option("--min-rank", case_sensitive=False, help="Keep references of this rank or stronger."),
]
SinceOpt = Annotated[
    int | None,
    typer.Option("--since", metavar="YEAR", min=1800, max=2100, help="Keep references published in YEAR or later."),
]
PopulationOpt = Annotated[
    PopulationChoice | None,
    typer.Option("--population", case_sensitive=False,
                 help="Keep claims about this population (and those about all patients)."),
]


def make_filters(min_rank: Rank | None, since: int | None, population: PopulationChoice | None) -> Filters:
    return Filters(min_rank=min_rank, since=since, population=Population(population.value) if population else None)


def _user_dirs(env: Env, evidence: list[Path] | None) -> list[Path]:
    from_env = [Path(p) for p in env.environ.get("LMS_EVIDENCE", "").split(os.pathsep) if p]
    return from_env + list(evidence or [])


def _max_bytes(env: Env) -> int:
    from lms_cli.errors import UsageError
    from lms_cli.load import MAX_FILE_BYTES

    raw = env.environ.get("LMS_MAX_FILE_BYTES")
    if not raw:
        return MAX_FILE_BYTES
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"LMS_MAX_FILE_BYTES must be a whole number of bytes, not {raw!r}") from None
    if value < 1:
        raise UsageError(f"LMS_MAX_FILE_BYTES must be positive, not {raw!r}")
    return value


def load_base(env: Env, evidence: list[Path] | None, no_bundled: bool) -> EvidenceBase:
    from lms_cli import load

    roots = load.sources(not no_bundled, _user_dirs(env, evidence))
    return load.load(roots, _max_bytes(env))


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"lms {__version__}\n")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """lms: evidence summaries for leiomyosarcoma."""


# --- commands -------------------------------------------------------------------------------


@app.command()
def ask(
    topic: Annotated[str, typer.Argument(metavar="TOPIC", help="Topic slug, e.g. spread-to-muscle (see `lms topics`).")],
    min_rank: MinRankOpt = None,
    since: SinceOpt = None,
    population: PopulationOpt = None,
    fmt: FormatOpt = Format.AUTO,
    evidence: EvidenceOpt = None,
    no_bundled: NoBundledOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Answer one topic: direct answer, key points, advances, implications, references.

    Exit 1 when the filters leave no claim, 2 for an unknown topic, 3 for invalid evidence.
    """
    env = Env.current()
    with boundary(debug):
        from lms_cli.compose import compose
        from lms_cli.select import select

        base = load_base(env, evidence, no_bundled)
        query = Query(topic.strip(), make_filters(min_rank, since, population))
        summary = compose(query, select(base, query.topic, query.filters))
        out = env.resolve(fmt)
        if out is Format.JSON:
            from lms_cli.render import json as render_json

            env.write(render_json.render(summary))
        elif out is Format.MARKDOWN:
            from lms_cli.render import markdown

            env.write(markdown.render(summary))
        else:
            from lms_cli.render import terminal

            env.print_rich(terminal.render(summary))


@app.command()
def topics(
    fmt: FormatOpt = Format.AUTO,
    evidence: EvidenceOpt = None,
    no_bundled: NoBundledOpt = False,
    debug: DebugOpt = False,
) -> None:
    """List the topics with their questions and claim counts."""
    env = Env.current()
    with boundary(debug):
        from lms_cli.browse import topic_rows

        rows = topic_rows(load_base(env, evidence, no_bundled))
        out = env.resolve(fmt)
        if out is Format.JSON:
            from lms_cli.render import json as render_json

            env.write(render_json.topics(rows))
        elif out is Format.MARKDOWN:
            from lms_cli.render import markdown

            env.write(markdown.topics(rows))
        else:
            from lms_cli.render import terminal

            env.print_rich(terminal.topics_table(rows))


@app.command()
def show(
    item_id: Annotated[str, typer.Argument(metavar="ID", help="A topic slug, reference id or claim id.")],
    fmt: FormatOpt = Format.AUTO,
    evidence: EvidenceOpt = None,
    no_bundled: NoBundledOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Show one topic, claim or reference with everything that cites it."""
    env = Env.current()
    with boundary(debug):
        from lms_cli.browse import detail

        found = detail(load_base(env, evidence, no_bundled), item_id.strip())
        if env.resolve(fmt) is Format.JSON:
            from lms_cli.render import json as render_json

            env.write(render_json.detail(found))
        else:  # Markdown reads well on a terminal too
            from lms_cli.render import markdown

            env.write(markdown.detail(found))


@app.command()
def validate(
    paths: Annotated[list[Path] | None, typer.Argument(metavar="[PATH]...", help="Check only these files or directories.")] = None,
    evidence: EvidenceOpt = None,
    no_bundled: NoBundledOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Check evidence files; print every problem as FILE:LINE:COL: message (exit 3 if any)."""
    env = Env.current()
    with boundary(debug):
        from lms_cli import load

        if paths:
            missing = [p for p in paths if not p.exists()]
            if missing:
                from lms_cli.errors import UsageError

                raise UsageError(f"path not found: {missing[0]}")
            base = load.load(paths, _max_bytes(env))
        else:
            base = load_base(env, evidence, no_bundled)
        env.write(
            f"OK: {len(base.topics)} topics, {len(base.references)} references, {len(base.claims)} claims\n"
        )


@app.command()
def schema() -> None:
    """Print a JSON Schema for evidence files (for editors that validate YAML as you type)."""
    from lms_cli.render import json as render_json
    from lms_cli.schema import json_schema

    Env.current().write(render_json.dumps(json_schema()))


def main() -> Any:
    """Console-script entry point."""
    return app()
