"""What commands read from an evidence base, behind one interface, so each reads only what it prints.

A ``Store`` answers the questions commands ask -- the topics, one topic's part, a claim or
a reference by id, who cites a reference, how big each topic is -- and its ``Lexicon``
answers the word questions of the resolver and of search. Two implementations give the
same answers: ``MemoryStore`` over a loaded ``EvidenceBase``, and the evidence cache's
snapshot store (``load.snapshot``), which reads only the rows an answer needs.

Claims are named by a ``Key``: a pair that sorts in load order (file position, place in
the file), so "first in the base" and "ties keep file order" mean the same in both.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import NamedTuple, Protocol

from lms_cli.model import Claim, EvidenceBase, Reference, Topic

#: A claim's place in the load order: (file position, place in the file).
Key = tuple[int, int]


class Cited(NamedTuple):
    """How a reference is cited: by how many claims, and their topics in order of first citation."""

    claims: int
    topics: tuple[str, ...]


class Size(NamedTuple):
    """How many claims a topic has, and how many distinct references they cite."""

    claims: int
    references: int


class Totals(NamedTuple):
    """How many topics, references and claims a base holds."""

    topics: int
    references: int
    claims: int


class Lexicon(Protocol):
    """The normalised words (``words.tokens``) of a base's claims."""

    def vocabulary(self) -> Iterable[str]:
        """Every word some claim holds."""
        ...

    def has(self, word: str) -> bool:
        """True when some claim holds the word."""
        ...

    def topic_counts(self, word: str) -> Mapping[str, int]:
        """Topic slug -> how many times the word occurs in that topic's claims (topics without it left out)."""
        ...

    def holders(self, word: str) -> Mapping[Key, tuple[str, ...]]:
        """The claims holding the word: key -> the claim's topics."""
        ...

    def claims(self, keys: Sequence[Key]) -> list[Claim]:
        """The claims with these keys, in the order given."""
        ...


class Store(Protocol):
    """The reads commands make of an evidence base."""

    topics: tuple[Topic, ...]

    def lexicon(self) -> Lexicon:
        """The base's words, for questions and search."""
        ...

    def part(self, *, topic: str | None = None, keys: Sequence[Key] | None = None) -> EvidenceBase:
        """Every topic, the claims of ``topic`` (or those of ``keys``, in that order), and the references
        those claims cite, in load order."""
        ...

    def claim(self, claim_id: str) -> Claim | None:
        """The claim with this id."""
        ...

    def reference(self, ref_id: str) -> Reference | None:
        """The reference with this id."""
        ...

    def references(self) -> tuple[Reference, ...]:
        """Every reference, in load order."""
        ...

    def citing(self, ref_id: str) -> tuple[Claim, ...]:
        """The claims citing a reference, in load order."""
        ...

    def cited(self) -> dict[str, Cited]:
        """How each cited reference is cited (references no claim cites are left out)."""
        ...

    def sizes(self) -> dict[str, Size]:
        """Each topic's claims and distinct references, by slug."""
        ...

    def totals(self) -> Totals:
        """How many topics, references and claims there are."""
        ...

    def ids(self) -> list[str]:
        """Every topic slug, reference id and claim id, in that order."""
        ...


class MemoryLexicon:
    """The words of every claim of a loaded base, tokenised once."""

    def __init__(self, claims: Sequence[Claim]) -> None:
        from lms_cli.words import tokens

        self._claims = claims
        self._counts: dict[str, dict[str, int]] = {}
        self._holders: dict[str, dict[Key, tuple[str, ...]]] = {}
        for i, claim in enumerate(claims):
            key = (0, i)
            words = tokens(claim.statement)
            for word in words:
                for slug in claim.topics:
                    counts = self._counts.setdefault(word, {})
                    counts[slug] = counts.get(slug, 0) + 1
            for word in dict.fromkeys(words):
                self._holders.setdefault(word, {})[key] = claim.topics

    def vocabulary(self) -> Iterable[str]:
        return self._counts.keys()

    def has(self, word: str) -> bool:
        return word in self._counts

    def topic_counts(self, word: str) -> Mapping[str, int]:
        return self._counts.get(word, {})

    def holders(self, word: str) -> Mapping[Key, tuple[str, ...]]:
        return self._holders.get(word, {})

    def claims(self, keys: Sequence[Key]) -> list[Claim]:
        return [self._claims[i] for _, i in keys]


class MemoryStore:
    """A Store over a loaded base (every read is a scan; the lexicon is built on first use)."""

    def __init__(self, base: EvidenceBase) -> None:
        self.base = base
        self.topics = base.topics
        self._lexicon: MemoryLexicon | None = None

    def lexicon(self) -> Lexicon:
        if self._lexicon is None:
            self._lexicon = MemoryLexicon(self.base.claims)
        return self._lexicon

    def part(self, *, topic: str | None = None, keys: Sequence[Key] | None = None) -> EvidenceBase:
        if keys is not None:
            claims: Collection[Claim] = [self.base.claims[i] for _, i in keys]
        else:
            claims = [c for c in self.base.claims if topic in c.topics]
        cited = {r for c in claims for r in c.cites}
        return EvidenceBase(self.topics, tuple(r for r in self.base.references if r.id in cited), tuple(claims))

    def claim(self, claim_id: str) -> Claim | None:
        return next((c for c in self.base.claims if c.id == claim_id), None)

    def reference(self, ref_id: str) -> Reference | None:
        return next((r for r in self.base.references if r.id == ref_id), None)

    def references(self) -> tuple[Reference, ...]:
        return self.base.references

    def citing(self, ref_id: str) -> tuple[Claim, ...]:
        return tuple(c for c in self.base.claims if ref_id in c.cites)

    def cited(self) -> dict[str, Cited]:
        claims: dict[str, int] = {}
        topics: dict[str, dict[str, None]] = {}
        for c in self.base.claims:
            for r in c.cites:
                claims[r] = claims.get(r, 0) + 1
                topics.setdefault(r, {}).update(dict.fromkeys(c.topics))
        return {r: Cited(n, tuple(topics[r])) for r, n in claims.items()}

    def sizes(self) -> dict[str, Size]:
        claims: dict[str, int] = {t.slug: 0 for t in self.topics}
        refs: dict[str, set[str]] = {t.slug: set() for t in self.topics}
        for c in self.base.claims:
            for slug in c.topics:
                if slug in claims:
                    claims[slug] += 1
                    refs[slug].update(c.cites)
        return {slug: Size(n, len(refs[slug])) for slug, n in claims.items()}

    def totals(self) -> Totals:
        return Totals(len(self.base.topics), len(self.base.references), len(self.base.claims))

    def ids(self) -> list[str]:
        return [t.slug for t in self.topics] + [r.id for r in self.base.references] + [c.id for c in self.base.claims]
