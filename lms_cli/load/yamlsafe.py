"""Safe, bounded YAML parsing that keeps the file position of every value.

PyYAML's loaders lose positions, silently keep the last of duplicate keys, expand
aliases without bound and recurse on deep nesting. This module builds plain Python
values from the parser's *event stream* instead, iteratively, with:

- positions (1-based line and column) for every mapping key, value and list item;
- duplicate keys, unknown tags (``!!python/object`` ...), multi-document files,
  recursive aliases, excessive alias expansion and excessive nesting reported as
  problems with a position;
- bounds that make a hostile file fail fast with bounded memory: ``MAX_DEPTH``
  levels of nesting, ``MAX_VALUES`` values per file, aliases that repeat at most
  ``MAX_ALIAS_NODES`` values and ``MAX_ALIAS_CHARS`` characters of text ("billion
  laughs"), and at most ``MAX_PROBLEMS`` duplicate keys listed;
- libyaml's C parser when available; on a syntax error the pure-Python parser is
  re-run so messages and positions do not depend on which parser is installed.

The two parsers are not identical, and that is accepted rather than hidden: libyaml
accepts a few forms that the pure-Python parser (PyYAML's fallback when it was built
without libyaml; PyPI wheels always ship libyaml) rejects as syntax errors -- a tab as a
separator (``a:<TAB>b``, ``[x,<TAB>y]``), ``?`` inside a flow collection
(``{question: Z?}``), a block scalar header such as ``|#`` -- and it reads an empty
value with a bare ``!`` tag as ``''`` where the pure parser reads ``None``. Exotic
placements of a byte-order mark or of NEL/LS/PS line breaks next to indicators can also
be read differently or reported at other positions. A file libyaml rejects is re-read by
the pure parser, whose value or message (and position) is then used; valid evidence gives
the same values and positions with either (tests/test_yamlsafe.py and
tests/test_hostile_yaml.py pin this). Making libyaml as strict would need a second,
slower scan of every file, for forms no evidence file needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from lms_cli.errors import Problem

try:  # libyaml is ~7x faster; fall back to the pure-Python parser when it is absent
    from yaml import CSafeLoader as _FastLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _FastLoader  # type: ignore[assignment]

Pos = tuple[int, int]

#: Deepest nesting of mappings and lists (evidence needs 4; the parsers themselves do not recurse).
MAX_DEPTH = 64
#: Most values (scalars and collections) an alias may repeat, over the whole file.
MAX_ALIAS_NODES = 100_000
#: Most characters of text aliases may repeat, over the whole file: each repeated text is
#: copied when it is checked, so a long anchored string repeated many times is a bomb too.
MAX_ALIAS_CHARS = 1_000_000
#: Most values in one file. Ordinary evidence holds one value per ~25 bytes, so 20 MiB of
#: it is about 850,000 values; a file of tiny values (`[x,x,x,...]`) would otherwise cost
#: about 115 bytes of memory per 2 bytes read.
MAX_VALUES = 1_000_000
#: Most duplicate keys listed before parsing stops (a file full of them is not evidence).
MAX_PROBLEMS = 200

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


class LMap(dict[str, Any]):
    """A mapping that remembers where it, each key and each value were written."""

    pos: Pos
    key_pos: dict[str, Pos]
    val_pos: dict[str, Pos]

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.key_pos = {}
        self.val_pos = {}


class LList(list[Any]):
    """A list that remembers where it and each item were written."""

    pos: Pos
    item_pos: list[Pos]

    def __init__(self, pos: Pos) -> None:
        super().__init__()
        self.pos = pos
        self.item_pos = []


@dataclass(slots=True)
class _Frame:
    container: LMap | LList
    anchor: str | None
    is_list: bool
    size: int = 1
    key: Any = None
    key_at: Pos | None = None
    has_key: bool = False
    drop: bool = False


class _Abort(Exception):
    def __init__(self, pos: Pos, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


_resolver = Resolver()
_constructor = SafeConstructor()
_ALLOWED_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


def _pos(mark: Any) -> Pos:
    return (mark.line + 1, mark.column + 1)


_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"

# The implicit tag of a plain scalar depends on its text alone (no path resolvers are
# registered): ids, slugs and section names repeat thousands of times in a large base.
_resolved: dict[str, str] = {}
_RESOLVED_MAX = 50_000


def _resolve_plain(value: str) -> str:
    tag = _resolved.get(value)
    if tag is None:
        tag = _resolver.resolve(ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
        if len(_resolved) >= _RESOLVED_MAX:
            _resolved.clear()
        _resolved[value] = tag
    return tag


def _scalar(ev: yaml.ScalarEvent) -> Any:
    tag = ev.tag
    if tag is None or tag == "!":
        if ev.style:  # quoted or block scalars are text: skip the resolver (the hot path)
            return ev.value
        tag = _resolve_plain(ev.value) if ev.implicit[0] else _resolver.resolve(ScalarNode, ev.value, ev.implicit)  # type: ignore[no-untyped-call]
        if tag == _STR_TAG:
            return ev.value
        if tag == _INT_TAG:
            text = ev.value
            # plain decimal without a leading zero (which YAML 1.1 reads as octal): int() agrees
            if text.isascii() and text.isdigit() and (text[0] != "0" or len(text) == 1):
                try:
                    return int(text)
                except ValueError:  # over Python's 4300-digit limit: kept as text, refused later
                    return text
    if tag == "tag:yaml.org,2002:merge":
        raise _Abort(_pos(ev.start_mark), "merge keys (<<) are not supported")
    if tag not in _ALLOWED_SCALAR_TAGS:
        raise _Abort(_pos(ev.start_mark), f"tag {tag!r} is not allowed in evidence files")
    node = ScalarNode(tag, ev.value, style=ev.style)
    try:
        # The tag's constructor itself: construct_object() would keep every node in its
        # memo for the life of the process.
        value = _constructor.yaml_constructors[tag](_constructor, node)
    except (ConstructorError, ValueError, IndexError, KeyError, AttributeError, TypeError, OverflowError):
        # e.g. a date-like 2026-13-01: keep the text and let the field's checker say why. PyYAML's
        # constructors assume text their own resolver matched: an explicit "!!int" on an empty
        # value, "!!bool maybe" or "!!timestamp x" fail with IndexError, KeyError, AttributeError.
        return ev.value
    if type(value) is int and value.bit_length() > 64:
        # 0x or 0b with thousands of digits: str() of it would fail, and no field wants it
        return ev.value
    return value


def _text_size(value: Any, known: dict[int, int]) -> int:
    """Characters of text in ``value`` (keys included; other scalars count 1), iteratively.

    ``known`` holds the sizes of anchored collections already measured, by id: an alias
    inside ``value`` is counted from there instead of walked again.
    """
    total = 0
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, (LMap, LList)):
            size = known.get(id(item)) if item is not value else None
            if size is not None:
                total += size
            elif isinstance(item, LMap):
                total += sum(len(k) for k in item)
                todo.extend(item.values())
            else:
                todo.extend(item)
        else:
            total += 1
    known[id(value)] = total
    return total


@dataclass(frozen=True, slots=True)
class _Limits:
    depth: int
    alias_nodes: int
    alias_chars: int
    values: int
    problems: int


def _build(events: Any, limits: _Limits, problems: list[Problem], path: str) -> Any:
    # One flat loop over the event stream; attaching a value to its parent is inlined
    # because it runs for every value in the file (the cold-load hot path).
    stack: list[_Frame] = []
    anchors: dict[str, tuple[Any, int, int]] = {}  # name -> value, values in it, characters in it
    measured: dict[int, int] = {}  # id of an anchored collection -> characters in it
    open_anchors: set[str] = set()
    documents = 0
    root: Any = None
    alias_nodes = alias_chars = 0
    values_left = limits.values
    max_depth = limits.depth
    scalar_event = yaml.ScalarEvent
    for ev in events:
        kind = type(ev)
        if kind is scalar_event:
            value = _scalar(ev)
            mark = ev.start_mark
            at = (mark.line + 1, mark.column + 1)
            values_left -= 1
            if values_left < 0:
                raise _Abort(at, f"more than {limits.values} values in one file; split it into smaller files")
            if ev.anchor:
                anchors[ev.anchor] = (value, 1, len(value) if isinstance(value, str) else 1)
            size = 1
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            frame = stack.pop()
            value = frame.container
            size = frame.size
            at = value.pos
            if frame.anchor:
                open_anchors.discard(frame.anchor)
                anchors[frame.anchor] = (value, size, _text_size(value, measured))
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            at = _pos(ev.start_mark)
            mapping = kind is yaml.MappingStartEvent
            if ev.tag not in (None, "!", _MAP_TAG if mapping else _SEQ_TAG):
                raise _Abort(at, f"tag {ev.tag!r} is not allowed in evidence files")
            if len(stack) >= max_depth:
                raise _Abort(at, f"nesting deeper than {max_depth} levels")
            values_left -= 1
            if values_left < 0:
                raise _Abort(at, f"more than {limits.values} values in one file; split it into smaller files")
            if ev.anchor:
                open_anchors.add(ev.anchor)
            stack.append(_Frame(LMap(at) if mapping else LList(at), ev.anchor, not mapping))
            continue
        elif kind is yaml.AliasEvent:
            at = _pos(ev.start_mark)
            if ev.anchor in open_anchors:
                raise _Abort(at, f"alias *{ev.anchor} refers to itself")
            if ev.anchor not in anchors:
                raise _Abort(at, f"unknown alias *{ev.anchor}")
            value, size, chars = anchors[ev.anchor]
            alias_nodes += size
            alias_chars += chars
            if alias_nodes > limits.alias_nodes:
                raise _Abort(at, f"aliases expand to more than {limits.alias_nodes} values")
            if alias_chars > limits.alias_chars:
                raise _Abort(at, f"aliases repeat more than {limits.alias_chars} characters of text")
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Abort(_pos(ev.start_mark), "only one YAML document is allowed per file")
            continue
        else:
            continue
        # attach `value` (`size` values, written at `at`) to the open container
        if not stack:
            root = value
            continue
        frame = stack[-1]
        frame.size += size
        box = frame.container
        if frame.is_list:
            box.append(value)  # type: ignore[union-attr]
            box.item_pos.append(at)  # type: ignore[union-attr]
        elif not frame.has_key:
            if not isinstance(value, str) or isinstance(value, (LMap, LList)):
                raise _Abort(at, f"mapping keys must be text, not {type(value).__name__}")
            frame.drop = value in box
            if frame.drop:
                if len(problems) >= limits.problems:
                    raise _Abort(at, f"more than {limits.problems} duplicate keys; stopped here")
                first = box.key_pos[value]  # type: ignore[union-attr]
                problems.append(Problem(path, *at, f"duplicate key {value!r} (first at line {first[0]})"))
            frame.key, frame.key_at, frame.has_key = value, at, True
        elif frame.drop:  # the first of duplicate keys wins; the problem is already recorded
            frame.has_key = frame.drop = False
        else:
            key = frame.key
            box[key] = value
            box.key_pos[key] = frame.key_at  # type: ignore[union-attr,assignment]
            box.val_pos[key] = at  # type: ignore[union-attr]
            frame.has_key = False
    return root


def _syntax_problem(path: str, exc: yaml.YAMLError) -> Problem:
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        line, col = _pos(exc.problem_mark)
        what = exc.problem or "syntax error"
        if exc.context:
            what = f"{what} ({exc.context})"
        return Problem(path, line, col, f"YAML syntax error: {what}")
    return Problem(path, 1, 1, f"YAML syntax error: {exc}")


def parse(
    text: str,
    path: str,
    *,
    max_depth: int = MAX_DEPTH,
    max_alias_nodes: int = MAX_ALIAS_NODES,
    max_alias_chars: int = MAX_ALIAS_CHARS,
    max_values: int = MAX_VALUES,
    max_problems: int = MAX_PROBLEMS,
    fast: bool = True,
) -> tuple[Any, list[Problem]]:
    """Parse one YAML document into plain values; return ``(value, problems)``.

    When a problem stops parsing the value is ``None``; duplicate keys are reported
    but do not stop it (the first occurrence is kept) until there are ``max_problems``.
    ``fast=False`` uses only the pure-Python parser (see the module docstring).
    """
    limits = _Limits(max_depth, max_alias_nodes, max_alias_chars, max_values, max_problems)
    loaders: list[Any] = [_FastLoader, yaml.SafeLoader] if fast else [yaml.SafeLoader]
    error: Problem | None = None
    for loader in dict.fromkeys(loaders):  # the same loader twice when libyaml is absent
        problems: list[Problem] = []
        parser: Any = None
        try:
            parser = loader(text)
            try:
                return _build(iter(parser.get_event, None), limits, problems, path), problems
            finally:
                parser.dispose()
        except _Abort as exc:
            return None, [*problems, Problem(path, exc.pos[0], exc.pos[1], exc.message)]
        except UnicodeEncodeError:
            # A lone surrogate in ``text`` (never from decode()): libyaml cannot take it in;
            # the pure-Python reader refuses it as an unacceptable character.
            error = Problem(path, 1, 1, "text holds a lone surrogate")
        except yaml.YAMLError as exc:
            error = _syntax_problem(path, exc)
        except (ValueError, OverflowError) as exc:
            # PyYAML's pure scanner passes an escape such as "\U00110000" to chr() unchecked;
            # libyaml calls it an invalid escape, and its message is kept when there is one.
            if error is None:
                at = _pos(parser.get_mark()) if parser is not None else (1, 1)
                error = Problem(path, *at, f"YAML syntax error: cannot read this value ({str(exc).splitlines()[0]})")
        except RecursionError:  # pragma: no cover - the depth limit comes first
            error = Problem(path, 1, 1, "nesting too deep")
        # libyaml words errors differently: retry with the pure-Python parser for its message.
    assert error is not None
    return None, [error]


def join_surrogates(text: str) -> tuple[str, int | None]:
    """``text`` with escaped surrogate pairs ("\\ud83d\\ude00") joined into one character, as JSON does.

    YAML parsers turn each "\\uXXXX" escape into one code point; a lone surrogate cannot be
    written as UTF-8 and would crash the output far from the file's line. Returns the text
    and ``None``, or ``text`` unchanged and the index of its first lone surrogate.
    """
    try:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le"), None
    except UnicodeDecodeError as exc:
        return text, exc.start // 2


# What PyYAML's reader refuses (YAML 1.1 "printable"): C0 and C1 controls but tab, line
# feed, carriage return and NEL; DEL; surrogates; U+FFFE and U+FFFF.
_UNPRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


def unprintable(text: str, path: str) -> Problem | None:
    """The first character YAML does not allow in ``text``, located as the parser counts lines.

    The parser's own error says only "unacceptable character", without a line: callers
    ask this when a parse failed.
    """
    found = _UNPRINTABLE.search(text)
    if found is None:
        return None
    start = found.start()
    line, line_start = 1, 0
    for brk in _BREAK.finditer(text, 0, start):
        line, line_start = line + 1, brk.end()
    code = ord(text[start])
    return Problem(
        path, line, start - line_start + 1, f"file contains U+{code:04X}, a control character YAML does not allow"
    )


def decode(data: bytes, path: str) -> tuple[str | None, Problem | None]:
    """Decode UTF-8 (a BOM is allowed); NUL and undecodable bytes are problems with a position."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    nul = data.find(b"\x00")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, _byte_problem(data, path, exc.start, "is not valid UTF-8")
    if nul >= 0:
        return None, _byte_problem(data, path, nul, "contains a NUL byte")
    return text, None


def _byte_problem(data: bytes, path: str, offset: int, what: str) -> Problem:
    before = data[:offset]
    line = before.count(b"\n") + 1
    column = offset - (before.rfind(b"\n") + 1) + 1
    return Problem(path, line, column, f"file {what} (byte {offset})")
