"""Shared command-line plumbing: the run environment, the error boundary, shared options.

Every command module (``cli``, ``cli_refs``, ``cli_report``) uses these, so there is one
place that turns LmsError into "Error: ..." on stderr and a documented exit code.
"""

from __future__ import annotations

import errno
import io
import os
import shlex
import shutil
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import StrEnum
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO, TypeVar

import typer

from lms_cli.errors import ExitCode, LmsError, OutputError
from lms_cli.model import YEAR_MAX, YEAR_MIN, EvidenceBase, Filters, Population, Rank, Summary
from lms_cli.render import Format
from lms_cli.text import plural

if TYPE_CHECKING:
    from lms_cli.cite import CitationStyle
    from lms_cli.store import Store


T = TypeVar("T")


class PopulationChoice(StrEnum):
    """The values --population takes."""

    UTERINE = "uterine"
    EXTRA_UTERINE = "extra-uterine"


# --- the run environment: streams and terminal facts, injectable for tests ---------------


class _Closed(io.TextIOBase):
    """What stdout is when the process was started with it closed (``lms ... >&-``)."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "it is closed")


@dataclass
class _Options:
    """Options given before the command (`lms --no-pager ask ...`), set anew by every invocation."""

    no_pager: bool = False
    color: bool | None = None  # --color always (True), never (False), auto (None)


OPTIONS = _Options()

#: Text is written in slices of this many characters (``Env.write``).
WRITE_CHUNK = 1 << 16


@dataclass
class Env:
    """Where output goes and what the environment says; tests may build their own.

    Output survives its terminal: characters the stream's encoding lacks (cp1252 consoles
    and redirects) are replaced, never raised; a full or closed stdout is one
    ``OutputError`` line (exit 5); a reader that went away is a quiet exit 0 (``boundary``).
    """

    stdout: TextIO
    stderr: TextIO
    environ: dict[str, str]

    @classmethod
    def current(cls) -> Env:
        for stream, errors in ((sys.stdout, "replace"), (sys.stderr, "backslashreplace")):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                with suppress(ValueError, OSError):  # a stream that refuses keeps its errors
                    reconfigure(errors=errors)
        stdout: TextIO = sys.stdout if sys.stdout is not None else _Closed()  # type: ignore[assignment]
        stderr: TextIO = sys.stderr if sys.stderr is not None else open(os.devnull, "w")  # noqa: SIM115
        environ = dict(os.environ)
        if OPTIONS.no_pager:  # `lms --no-pager` counts as LMS_NO_PAGER=1
            environ["LMS_NO_PAGER"] = "1"
        return cls(stdout, stderr, environ)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        try:
            yield
        except BrokenPipeError:
            raise  # the boundary's quiet exit 0
        except OSError as exc:  # ENOSPC (`> /dev/full`), EIO, a closed stdout
            _silence_stdout()  # the interpreter's last flush must not fail again
            raise OutputError(f"cannot write to standard output: {exc.strerror or exc}") from None

    def _encodable(self, text: str) -> str:
        encoding = getattr(self.stdout, "encoding", None) or "utf-8"
        try:
            text.encode(encoding)
        except UnicodeEncodeError:
            return text.encode(encoding, "replace").decode(encoding)
        except LookupError:
            pass
        return text

    def write_exact(self, text: str) -> None:
        """Write with line endings unchanged (RIS needs CRLF on every platform)."""
        buffer = getattr(self.stdout, "buffer", None)
        if buffer is None:
            self.write(text)
            return
        with self._writing():
            self.stdout.flush()
            buffer.write(text.encode(getattr(self.stdout, "encoding", None) or "utf-8", "replace"))
            buffer.flush()

    @property
    def stdout_is_terminal(self) -> bool:
        isatty = getattr(self.stdout, "isatty", None)
        return bool(isatty and isatty())

    def resolve(self, fmt: Format | PlainFormat) -> Format:
        """The format to write: ``auto`` is rich on a terminal and Markdown when piped."""
        chosen = Format(fmt.value)
        if chosen is Format.AUTO:
            return Format.RICH if self.stdout_is_terminal else Format.MARKDOWN
        return chosen

    def write(self, text: str) -> None:
        """Write ``text`` a slice at a time: neither it nor its encoding is copied whole."""
        with self._writing():
            for start in range(0, len(text), WRITE_CHUNK):
                self.stdout.write(self._encodable(text[start : start + WRITE_CHUNK]))
            self.stdout.flush()

    def print_rich(self, renderable: Any) -> None:
        """Draw on the terminal; taller than the screen, through a pager as git and gh do.

        The pager is $LMS_PAGER, else $PAGER, else `less -FRX` (colour kept, quits when the
        text fits); `lms --no-pager` or an empty LMS_PAGER turns it off. The pager starts
        once a screenful is drawn and is fed the rest as it is drawn: quitting it stops
        the drawing.
        """
        from lms_cli.render import terminal

        pager = self.pager()
        if pager is None:
            with self._writing():
                terminal.print_to(self.stdout, renderable, OPTIONS.color)
            return
        pieces = terminal.drawing(renderable, color=OPTIONS.color)
        screen = shutil.get_terminal_size().lines
        head: list[str] = []
        lines = 0
        for piece in pieces:
            head.append(piece)
            lines += piece.count("\n")
            if lines >= screen:
                break
        else:  # it fits on the screen
            self.write("".join(head))
            return
        if not self._page(pager, chain(head, pieces)):
            self.write("".join(chain(head, pieces)))

    def pager(self) -> list[str] | None:
        """The pager command to use, or None (not a terminal, or paging turned off)."""
        if not self.stdout_is_terminal or self.environ.get("LMS_NO_PAGER"):
            return None
        raw = self.environ.get("LMS_PAGER", self.environ.get("PAGER", "less -FRX"))
        try:
            return shlex.split(raw) or None
        except ValueError:
            return None

    def _page(self, command: list[str], pieces: Iterable[str]) -> bool:
        """Run the pager on ``pieces``, each written as it comes; False when the pager cannot
        start (then nothing was taken from ``pieces``: the caller prints them)."""
        import subprocess

        env = {**self.environ, "LESSCHARSET": self.environ.get("LESSCHARSET", "utf-8")}
        try:
            pager = subprocess.Popen(command, stdin=subprocess.PIPE, env=env)
        except OSError:
            return False
        assert pager.stdin is not None
        try:
            with suppress(BrokenPipeError):  # the pager was quit: nothing more is drawn
                try:
                    for piece in pieces:
                        pager.stdin.write(piece.encode("utf-8", "replace"))
                finally:
                    pager.stdin.close()
        except BaseException:  # Ctrl-C while paging: the pager goes too, as with subprocess.run
            pager.kill()
            pager.wait()
            raise
        pager.wait()
        return True

    def emit(self, output: Any) -> None:
        """Write what a renderer returned: text as it is, pieces of text as they come, a Rich
        renderable through Rich."""
        if isinstance(output, str):
            self.write(output)
        elif isinstance(output, Iterator):
            for piece in output:
                self.write(piece)
        else:
            self.print_rich(output)

    def warn(self, text: str) -> None:
        self.stderr.write(text.rstrip("\n") + "\n")


@contextmanager
def boundary(debug: bool, env: Env | None = None) -> Iterator[None]:
    """Turn the errors a user can cause into one message and a documented exit code.

    The one place exit codes are decided: every command runs inside it. Messages go to
    ``env``'s stderr (the current process's by default).
    """
    err = (env or Env.current()).stderr
    try:
        yield
    except LmsError as exc:
        if debug:
            traceback.print_exc(file=err)
        if exc.message:
            err.write(f"Error: {exc.message}\n")
        if exc.hint:
            err.write(f"Hint: {exc.hint}\n")
        raise typer.Exit(int(exc.exit_code)) from None
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc(file=err)
        err.write("Interrupted.\n")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    except BrokenPipeError:
        # The reader went away (`lms ask x | head -1`): stop quietly.
        _silence_stdout()
        raise typer.Exit(int(ExitCode.OK)) from None


def guard_standard_streams() -> None:
    """Give /dev/null the number of a closed stdin, stdout or stderr (``lms ... >&-``).

    Otherwise the next file lms opens (a cache, an output file) would take that number and
    become "stdout". Python has already set ``sys.stdout`` to None: writes report it closed.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # the lowest free number: this one


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
        "--evidence",
        "-e",
        metavar="PATH",
        help="Add an evidence directory or file (repeatable; after LMS_EVIDENCE).",
    ),
]
NoBundledOpt = Annotated[
    bool, typer.Option("--no-bundled", help="Use only --evidence/LMS_EVIDENCE, not the bundled base.")
]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Parse every evidence file now; neither read nor write the cache.")
]
SkipInvalidOpt = Annotated[
    bool,
    typer.Option("--skip-invalid", help="Leave out evidence files with problems (named on stderr) and use the rest."),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")]


class PlainFormat(StrEnum):
    """The formats of commands that print tables and records (no html page)."""

    AUTO = "auto"
    RICH = "rich"
    MARKDOWN = "markdown"
    JSON = "json"


FormatOpt = Annotated[
    PlainFormat,
    typer.Option(
        "--format",
        "-f",
        case_sensitive=False,
        help="Output format; auto is rich on a terminal, Markdown when piped.",
    ),
]
AnswerFormatOpt = Annotated[
    Format,
    typer.Option(
        "--format",
        "-f",
        case_sensitive=False,
        help="Output format; auto is rich on a terminal, Markdown when piped; html is a self-contained page.",
    ),
]
MinRankOpt = Annotated[
    Rank | None,
    typer.Option("--min-rank", case_sensitive=False, help="Keep references of this rank or stronger."),
]
SinceOpt = Annotated[
    int | None,
    typer.Option(
        "--since", metavar="YEAR", min=YEAR_MIN, max=YEAR_MAX, help="Keep references published in YEAR or later."
    ),
]
PopulationOpt = Annotated[
    PopulationChoice | None,
    typer.Option(
        "--population", case_sensitive=False, help="Keep claims about this population (and those about all patients)."
    ),
]


def make_filters(min_rank: Rank | None, since: int | None, population: PopulationChoice | None) -> Filters:
    """The Filters the options ask for."""
    return Filters(min_rank=min_rank, since=since, population=Population(population.value) if population else None)


def user_dirs(env: Env, evidence: list[Path] | None) -> list[Path]:
    """The user's evidence directories: LMS_EVIDENCE first, then each --evidence."""
    from_env = [Path(p) for p in env.environ.get("LMS_EVIDENCE", "").split(os.pathsep) if p]
    return from_env + list(evidence or [])


#: The largest LMS_MAX_FILE_BYTES: an evidence file is read whole into memory, and parsed
#: YAML takes ~10 times its size; 1 GiB is 50 times the default.
MAX_FILE_BYTES_LIMIT = 2**30


def max_bytes(env: Env) -> int:
    """The evidence file size limit: LMS_MAX_FILE_BYTES, or the default."""
    from lms_cli.errors import UsageError
    from lms_cli.load import MAX_FILE_BYTES

    raw = env.environ.get("LMS_MAX_FILE_BYTES", "").strip()
    if not raw:
        return MAX_FILE_BYTES
    if not raw.lstrip("-").isdecimal() or not raw.isascii():
        raise UsageError(f"LMS_MAX_FILE_BYTES must be a whole number of bytes, not {raw[:40]!r}")
    if raw.startswith("-") or not raw.strip("0"):
        raise UsageError(f"LMS_MAX_FILE_BYTES must be positive, not {raw[:40]!r}")
    digits = raw.lstrip("0")
    if len(digits) > len(str(MAX_FILE_BYTES_LIMIT)) or int(digits) > MAX_FILE_BYTES_LIMIT:
        shown = digits if len(digits) <= 40 else digits[:20] + "..."  # int() of 5,000 digits is refused
        raise UsageError(f"LMS_MAX_FILE_BYTES must be at most {MAX_FILE_BYTES_LIMIT} (1 GiB), not {shown}")
    return int(digits)


def warn_hidden(env: Env, out: Format, summary: Summary) -> None:
    """Say on stderr, once, how many claims the filters hid and why (JSON has it as a field)."""
    if out is not Format.JSON:
        from lms_cli.render import hidden_note

        if note := hidden_note(summary.hidden):
            env.warn(note)


def emit_summary(env: Env, out: Format, summary: Summary, citations: CitationStyle | None = None) -> None:
    """Write a composed summary in the resolved format (the one place `ask` and `search` print).

    What the filters hid goes to stderr, once, except in JSON, where it is a field.
    """
    warn_hidden(env, out, summary)
    from lms_cli.cite import CitationStyle
    from lms_cli.render import page, pick

    style = citations or CitationStyle.NUMBERS
    env.emit(page(summary) if out is Format.HTML else pick(out).streamed(summary, style))


def choose_topic(env: Env, base: EvidenceBase | Store, text: str, best: bool = False) -> str:
    """The slug a TOPIC argument means (a slug or plain words); names the choice on stderr."""
    if any(t.slug == text for t in base.topics):  # an exact slug: no need for the resolver
        return text
    from lms_cli.resolve import TopicIndex, choose, resolve

    index = TopicIndex(base) if isinstance(base, EvidenceBase) else TopicIndex(base.topics, base.lexicon())
    resolution = resolve(index, text)
    chosen = choose(resolution, index, best)
    if not resolution.exact:
        env.warn(f"Answering: {chosen.question} ({chosen.slug})")
    pointer = resolution.pointer
    if pointer is not None and chosen.slug not in pointer.topics:
        env.warn(
            f"Note: a claim in {pointer.topics[0]} matches every word of the question: "
            f"`lms show {pointer.id}`, or `lms search {text}`"
        )
    return chosen.slug


def cache_root(env: Env) -> Path | None:
    """LMS_CACHE_DIR, else the user cache directory (XDG_CACHE_HOME/lms, ~/.cache/lms).

    Without HOME the passwd entry's home is used; a user with neither gets no cache
    (None): every load parses, every service answer is asked for again.
    """
    if explicit := env.environ.get("LMS_CACHE_DIR"):
        return Path(explicit)
    if xdg := env.environ.get("XDG_CACHE_HOME"):
        return Path(xdg) / "lms"
    home = env.environ.get("HOME")
    if not home:
        import pwd

        try:
            home = pwd.getpwuid(os.getuid()).pw_dir
        except (KeyError, OSError):
            return None
    return Path(home) / ".cache" / "lms" if home else None


def _roots(env: Env, evidence: list[Path] | None, no_bundled: bool, no_cache: bool) -> tuple[list[Path], Path | None]:
    """The evidence roots (bundled, then LMS_EVIDENCE, then --evidence) and the cache directory."""
    from lms_cli import load

    roots = load.sources(not no_bundled, user_dirs(env, evidence))
    root = None if no_cache else cache_root(env)
    return roots, (root / "evidence" if root is not None else None)


def load_base(
    env: Env,
    evidence: list[Path] | None,
    no_bundled: bool,
    no_cache: bool = False,
    topic: str | None = None,
    *,
    skip_invalid: bool | None = None,
) -> EvidenceBase:
    """The evidence base the user asked for: bundled, then LMS_EVIDENCE, then --evidence.

    Parsed files are cached under ``cache_root(env) / "evidence"`` unless ``no_cache``.
    ``topic``: the TOPIC an `ask` names; when it is a topic's slug only what that topic
    needs is loaded (see ``load.for_topic``), else the whole base. ``skip_invalid``: see
    ``skipping``.
    """
    from lms_cli import load

    roots, cache = _roots(env, evidence, no_bundled, no_cache)
    limit = max_bytes(env)

    def loaded(skip: frozenset[str]) -> EvidenceBase:
        part = _topic_part(roots, limit, cache, topic, skip) if topic is not None else None
        return part if part is not None else load.load(roots, limit, cache=cache, skip=skip)

    return skipping(env, skip_invalid, loaded)


def _topic_part(
    roots: list[Path], limit: int, cache: Path | None, text: str, skip: frozenset[str]
) -> EvidenceBase | None:
    """The part of the base topic ``text`` needs when ``text`` is a topic's slug, else None.

    Only a slug-shaped text can name a topic, and only with a cache is the part read alone
    (without one, a second load would parse everything again).
    """
    from lms_cli import load

    if cache is None or not load.SLUG_RE.match(text):
        return None
    part = load.load(roots, limit, cache=cache, topic=text, skip=skip)
    return part if part.topic(text) is not None else None


def skipping(env: Env, skip_invalid: bool | None, run: Callable[[frozenset[str]], T]) -> T:
    """``run`` over every evidence file; with ``skip_invalid``, over those left once the files
    with problems are set aside (again, while leaving one out breaks another: a claim citing
    a reference of a file left out goes too), each named on stderr. ``skip_invalid`` None:
    the command does not offer --skip-invalid (so the error does not suggest it)."""
    from lms_cli.errors import EvidenceError

    skip: frozenset[str] = frozenset()
    while True:
        try:
            result = run(skip)
        except EvidenceError as exc:
            bad = {p.path for p in exc.problems} - skip
            if skip_invalid and bad:
                skip |= bad
                continue
            if skip_invalid is False and not exc.hint:
                exc.hint = "fix them (`lms validate` lists them all), or add --skip-invalid to use the other files"
            raise
        break
    if skip:
        env.warn(f"Warning: left out {plural(len(skip), 'invalid evidence file')}: {', '.join(sorted(skip))}")
        env.warn("  (`lms validate` lists their problems)")
    return result


def read_store(
    env: Env,
    evidence: list[Path] | None,
    no_bundled: bool,
    no_cache: bool,
    answer: Callable[[Store], T],
    *,
    skip_invalid: bool | None = None,
) -> T:
    """``answer`` applied to the base the user asked for (as ``load_base``) as a Store: with a
    warm cache, each command reads only the rows its answer needs (see ``load.with_store``)."""
    from lms_cli import load

    roots, cache = _roots(env, evidence, no_bundled, no_cache)
    limit = max_bytes(env)
    return skipping(env, skip_invalid, lambda skip: load.with_store(roots, answer, limit, cache=cache, skip=skip))


def topic_base(
    env: Env,
    evidence: list[Path] | None,
    no_bundled: bool,
    no_cache: bool,
    text: str,
    best: bool = False,
    *,
    skip_invalid: bool | None = None,
) -> tuple[EvidenceBase, str]:
    """The slug a TOPIC argument means and the part of the base that topic's answer needs."""
    from lms_cli import load

    text = text.strip()
    roots, cache = _roots(env, evidence, no_bundled, no_cache)
    limit = max_bytes(env)

    def answer(store: Store) -> tuple[EvidenceBase, str]:
        slug = choose_topic(env, store, text, best)
        return store.part(topic=slug), slug

    def run(skip: frozenset[str]) -> tuple[EvidenceBase, str]:
        part = _topic_part(roots, limit, cache, text, skip)
        return (part, text) if part is not None else load.with_store(roots, answer, limit, cache=cache, skip=skip)

    return skipping(env, skip_invalid, run)


# --- shell completion ---------------------------------------------------------------------------


def complete_ids(incomplete: str, *, topics: bool = True, items: bool = False) -> list[str]:
    """Shell completion: topic slugs (and reference and claim ids) of the loaded base starting with
    what was typed. Completion must never print a traceback into the shell, so any failure is none."""

    def names(store: Store) -> list[str]:
        if items:
            return store.ids() if topics else store.ids()[len(store.topics) :]
        return [t.slug for t in store.topics] if topics else []

    try:
        found = read_store(Env.current(), None, False, False, names)
    except Exception:
        return []
    return [n for n in found if n.startswith(incomplete)]


def complete_topic(incomplete: str) -> list[str]:
    """Shell completion for TOPIC arguments."""
    return complete_ids(incomplete)


def complete_item(incomplete: str) -> list[str]:
    """Shell completion for `lms show ID`: topics, references and claims."""
    return complete_ids(incomplete, items=True)
