"""A small DOM built with the standard library's html.parser, and the checks every HTML page must pass.

Shared by the renderer's unit tests and the real-browser tests (which parse Chromium's
--dump-dom output), so both hold a page to the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

from lms_cli.render import DOI_URL, PMC_URL, PUBMED_URL

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
LINK_HOSTS = (DOI_URL, PUBMED_URL, PMC_URL)
_URL_CALL = re.compile(r"url\(\s*['\"]?([^'\")]*)", re.IGNORECASE)


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    children: list[Element | str] = field(default_factory=list)

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    def iter(self, tag: str | None = None, cls: str | None = None) -> Iterator[Element]:
        """This element and its descendants, in document order, optionally by tag and class."""
        if (tag is None or self.tag == tag) and (cls is None or cls in self.classes):
            yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter(tag, cls)

    def all(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        return list(self.iter(tag, cls))

    def one(self, tag: str | None = None, cls: str | None = None) -> Element:
        found = self.all(tag, cls)
        assert len(found) == 1, (tag, cls, len(found))
        return found[0]

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def ancestors(self) -> Iterator[Element]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.current = self.root
        self.decl: list[str] = []
        self.skeleton: list[tuple[str, ...]] = []  # every tag with its attribute names, in order

    def handle_decl(self, decl: str) -> None:
        self.decl.append(decl)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        assert len(values) == len(attrs), f"repeated attribute in <{tag}>"
        self.skeleton.append((tag, *sorted(values)))
        node = Element(tag, values, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        self.skeleton.append(("/" + tag,))
        assert self.current.tag == tag, f"</{tag}> closes <{self.current.tag}>"
        assert self.current.parent is not None
        self.current = self.current.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


@dataclass
class Page:
    root: Element
    decl: list[str]
    skeleton: list[tuple[str, ...]]

    def ids(self) -> dict[str, Element]:
        out: dict[str, Element] = {}
        for el in self.root.iter():
            if "id" in el.attrs:
                assert el.attrs["id"] not in out, f"duplicate id {el.attrs['id']!r}"
                out[el.attrs["id"]] = el
        return out


def parse(text: str) -> Page:
    """Parse a whole page; every element must be closed where it was opened."""
    builder = _Builder()
    builder.feed(text)
    builder.close()
    assert builder.current is builder.root, f"<{builder.current.tag}> left open"
    return Page(builder.root, builder.decl, builder.skeleton)


def citations_resolve(page: Page) -> int:
    """Every `#` link lands on an element; every citation on an entry of the reference list."""
    ids = page.ids()
    refs = page.root.one("ol", "refs") if page.root.all("ol", "refs") else None
    cites = page.root.all("a", "cite")
    for a in page.root.iter("a"):
        href = a.attrs["href"]
        if href.startswith("#"):
            assert href[1:] in ids, f"link {href} goes nowhere"
    for a in cites:
        target = ids[a.attrs["href"][1:]]
        assert target.tag == "li" and target.parent is refs, a.attrs["href"]
        assert a.attrs["aria-describedby"] == target.attrs["id"]
        assert a.text() == target.attrs["id"].removeprefix("ref-") == target.attrs["value"]
    return len(cites)


def external_urls(page: Page) -> list[str]:
    """What the page could fetch, or link to outside the three hosts lms builds links for."""
    out = []
    for el in page.root.iter():
        for name, value in el.attrs.items():
            if name in ("src", "srcset", "poster", "data", "action", "formaction", "background", "xlink:href"):
                out.append(f"<{el.tag} {name}={value!r}>")
            elif name == "href" and not (value.startswith("#") or value.startswith(LINK_HOSTS)):
                out.append(f"<{el.tag} href={value!r}>")
            elif name == "style" or (el.tag == "meta" and name == "http-equiv" and value.lower() == "refresh"):
                out.append(f"<{el.tag} {name}={value!r}>")
        if el.tag in ("link", "script", "iframe", "object", "embed", "img", "base", "video", "audio", "image"):
            out.append(f"<{el.tag}>")
        if el.tag == "style":
            out.extend(f"url({u})" for u in _URL_CALL.findall(el.text()) if not u.startswith("data:"))
    return out
