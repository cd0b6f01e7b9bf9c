"""Plain-words questions -> topics: normalisation, scoring, and the "clear winner" rule.

A question is normalised (case, punctuation, plurals and simple word forms, the
abbreviations LMS/uLMS/STS, synonyms such as spread ≈ metastasis, treatment ≈ therapy,
muscle ≈ skeletal muscle/soft tissue), then scored against each topic. A query word
found in a topic's slug, title or aliases weighs 3, in its question 2, and in its claims'
text up to 0.5; each weight is multiplied by the word's rarity across topics (idf), and a
whole alias found in the question adds 1 per alias word (3 when the question is exactly
that alias). Typos are corrected to the
closest known word.

The best topic is a **clear winner** when the runner-up scores less than ``CLOSE`` (0.8)
times the best; otherwise the candidates are *close* and the caller lists them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import NamedTuple

from lms_cli.errors import UsageError
from lms_cli.model import Claim, EvidenceBase, Topic
from lms_cli.store import Key, Lexicon, MemoryLexicon, Store
from lms_cli.text import close_matches
from lms_cli.words import _SYNONYMS, tokens, word_pairs

__all__ = [
    "CLOSE",
    "MIN_SCORE",
    "Candidate",
    "Resolution",
    "TopicIndex",
    "choose",
    "resolve",
    "search",
    "tokens",
    "word_pairs",
]

CLOSE = 0.8
MIN_SCORE = 1.0


#: Other diseases: a question naming one and not LMS is out of the base's scope.
_OTHER_DISEASE = re.compile(
    r"\b(?:(?:lipo|osteo|rhabdomyo|chondro|angio|fibro|myxofibro|carcino|kaposi'?s?\s+)sarcomas?"
    r"|ewing'?s?(?:\s+sarcoma)?|synovial\s+sarcomas?|desmoids?(?:\s+tumou?rs?)?|gists?"
    r"|gastrointestinal\s+stromal\s+tumou?rs?|leiomyomas?|fibroids?(?=\s+treatment)|melanomas?|lymphomas?"
    r"|leuka?emias?|myelomas?|gliomas?|glioblastomas?|mesotheliomas?|(?:adeno)?carcinomas?"
    r"|(?:breast|lung|prostate|colon|colorectal|pancreatic|ovarian|cervical|endometrial|bladder|kidney|renal"
    r"|thyroid|skin|liver|stomach|gastric|brain|bowel|testicular|head\s+and\s+neck)\s+cancers?)\b"
)
_NAMES_LMS = re.compile(r"\b(?:u?lms|leiomyosarcomas?|leio)\b")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Words a question may hold that say nothing about its subject: when the base lacks them,
#: the question is not thereby out of scope ("what is LMS exactly", "best option after...").
_GENERIC = _words(
    # asking and telling
    "tell know explain ask asked please question answer info information advice overview summary list "
    # general verbs
    "make makes made turn turns turned appear appears appeared show shows showed shown look looks happen happens "
    "happened occur occurs occurred develop develops developed grow grows grew affect affects cause causes caused "
    "involve involves involved require requires required recommend recommended suggest suggested consider "
    "considered expect expected increase increases reduce reduces improve improves improved change changes "
    "remove removed removing take takes taking took give gives given giving need needs needed mean means work "
    "works working worked help helps helped use uses used using try tried want wants like start starts begin "
    "begins stop stops keep keeps put go goes going went come comes coming came leave left find become becomes "
    "say says said "
    # general adjectives and adverbs
    "useful useless dangerous safe safer effective good better best bad worse worst new newer newest latest "
    "recent current possible necessary normal different same similar typical main major usual high higher low "
    "lower big bigger large larger small smaller early earlier late later long short second last next other "
    "more most less least some all every each only just even still yet again already now then often usually "
    "really much many exactly also ever important likely unlikely true real right wrong okay ok "
    # particles, prepositions and fillers
    "out up down back off over around through without within between during before while way ways thing "
    "things kind kinds type types sort lot lots bit someone anyone something anything everything nothing "
    "doctor doctors oncologist oncologists well"
)
#: A word found in fewer claims than this, and in no topic's title, question or aliases, is
#: not covered: one passing mention does not make a topic (the claim is pointed at instead).
MIN_CLAIMS = 2


class Candidate(NamedTuple):
    """A topic a question may mean, with its score."""

    topic: Topic
    score: float


class Resolution(NamedTuple):
    """How a query was resolved: the chosen topic (None when none is clear) and the ranking."""

    query: str
    topic: Topic | None
    exact: bool
    ranked: tuple[Candidate, ...]
    corrections: tuple[tuple[str, str], ...] = ()
    uncovered: tuple[str, ...] = ()  # words of the question (as typed) that the base does not cover
    other_disease: str | None = None  # another disease the question names, instead of LMS
    pointer: Claim | None = None  # a claim outside the chosen topic that holds every word


class TopicIndex:
    """Token statistics of the topics, and of their claims through a ``Lexicon``, read word by word.

    Only the words a question holds are looked up, so a store that reads rows on demand
    answers a question without reading every claim.
    """

    def __init__(self, topics: Sequence[Topic] | EvidenceBase, lexicon: Lexicon | None = None) -> None:
        if isinstance(topics, EvidenceBase):
            lexicon = lexicon or MemoryLexicon(topics.claims)
            topics = topics.topics
        if lexicon is None:
            raise TypeError("a TopicIndex of topics needs their claims' lexicon")
        self.topics = tuple(topics)
        self.lexicon = lexicon
        self.strong: dict[str, set[str]] = {}
        self.question: dict[str, set[str]] = {}
        self.aliases: dict[str, list[list[str]]] = {}
        for t in self.topics:
            self.strong[t.slug] = set(tokens(t.slug.replace("-", " ") + " " + t.title + " " + " ".join(t.aliases)))
            self.question[t.slug] = set(tokens(t.question))
            self.aliases[t.slug] = [a for a in (tokens(x) for x in (*t.aliases, t.title)) if a]
        self.topic_words: set[str] = set().union(*self.strong.values(), *self.question.values())
        self._idf: dict[str, float | None] = {}
        self._known: list[str] | None = None
        self._held: dict[tuple[str, ...], dict[Key, tuple[str, ...]]] = {}

    def idf(self, word: str) -> float | None:
        """The word's rarity across topics, log(1 + topics / topics holding it); None when none does."""
        if word not in self._idf:
            in_claims = self.lexicon.topic_counts(word)
            df = sum(
                1
                for t in self.topics
                if word in self.strong[t.slug] or word in self.question[t.slug] or in_claims.get(t.slug, 0) > 0
            )
            self._idf[word] = math.log(1 + max(len(self.topics), 1) / df) if df else None
        return self._idf[word]

    def known(self) -> list[str]:
        """Every word typos are corrected towards (as typed too: "spred" -> "spread", then re-normalised)."""
        if self._known is None:
            self._known = sorted(set(self.lexicon.vocabulary()) | self.topic_words | set(_SYNONYMS))
        return self._known

    def correct(self, words: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
        """Replace unknown words by the closest known word (typos), when one is close enough."""
        fixed, changes = [], []
        for w in words:
            if len(w) < 4 or w.isdigit() or self.idf(w) is not None:
                fixed.append(w)
                continue
            close = close_matches(w, self.known(), n=1, cutoff=0.8)
            if close:
                changes.append((w, close[0]))
            fixed.append(close[0] if close else w)
        return fixed, changes

    def read(self, text: str) -> tuple[list[str], tuple[tuple[str, str], ...]]:
        """The normalised words of a query, typos corrected, and the corrections made."""
        fixed, corrections = self.fix(text)
        return tokens(fixed), corrections

    def fix(self, text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The query with its typos corrected (a fix may complete a phrase: "frist line"), and the fixes."""
        _, corrections = self.correct(tokens(text))
        for typo, fix in corrections:
            text = re.sub(rf"\b{re.escape(typo)}\b", fix, text, flags=re.IGNORECASE)
        return text, tuple(corrections)

    def score(self, words: list[str], slug: str) -> float:
        total = 0.0
        for w in dict.fromkeys(words):
            idf = self.idf(w) or 0.0
            if w in self.strong[slug]:
                weight = 3.0
            elif w in self.question[slug]:
                weight = 2.0
            else:
                weight = 0.5 * min(1.0, self.lexicon.topic_counts(w).get(slug, 0) / 3)
            total += weight * idf
        total += self._claim_bonus(words, slug)
        joined = " " + " ".join(words) + " "
        for alias in self.aliases[slug]:
            if alias == words:
                total += 3.0  # the whole question is this alias
            elif len(alias) > 1 and f" {' '.join(alias)} " in joined:
                total += 1.0 * len(alias)
        return total

    def _holding_all(self, words: list[str]) -> dict[Key, tuple[str, ...]]:
        """The claims holding every one of ``words`` (two or more distinct): key -> topics."""
        memo = tuple(sorted(set(words)))
        if memo in self._held:
            return self._held[memo]
        wanted = sorted(memo, key=lambda w: len(self.lexicon.holders(w)))
        if len(wanted) < 2:
            return {}
        held = dict(self.lexicon.holders(wanted[0]))
        for w in wanted[1:]:
            if not held:
                break
            other = self.lexicon.holders(w)
            held = {k: v for k, v in held.items() if k in other}
        self._held[memo] = held
        return held

    def _claim_bonus(self, words: list[str], slug: str) -> float:
        """A topic with one claim holding every word (two or more) answers precisely: its rarity, once."""
        if any(slug in topics for topics in self._holding_all(words).values()):
            return sum(self.idf(w) or 0.0 for w in set(words))
        return 0.0

    def covered(self, word: str) -> bool:
        """True when a topic names the word, or enough claims hold it to answer about it."""
        return word in self.topic_words or len(self.lexicon.holders(word)) >= MIN_CLAIMS

    def holding(self, words: list[str]) -> Claim | None:
        """The first claim (in load order) holding every one of ``words`` (two or more), or None."""
        held = self._holding_all(words)
        return self.lexicon.claims([min(held)])[0] if held else None

    def rank(self, words: list[str]) -> list[Candidate]:
        ranked = [Candidate(t, self.score(words, t.slug)) for t in self.topics]
        ranked = [c for c in ranked if c.score > 0]
        return sorted(ranked, key=lambda c: (-c.score, c.topic.slug))

    def search(self, query: str) -> list[Key]:
        """Claims whose text holds at least half of the query's words, best first (ties in load order)."""
        words, _ = self.read(query)
        wanted = list(dict.fromkeys(words))
        if not wanted:
            return []
        need = math.ceil(len(wanted) / 2)
        # per claim, the sum of its words' weights (added in the query's order) and how many it
        # holds: two numbers a hit, however many there are
        score: dict[Key, float] = {}
        held: dict[Key, int] = {}
        for w in wanted:
            weight = idf if (idf := self.idf(w)) is not None else 1.0
            for key in self.lexicon.holders(w):
                score[key] = score.get(key, 0.0) + weight
                held[key] = held.get(key, 0) + 1
        found = sorted(key for key, n in held.items() if n >= need)  # load order
        found.sort(key=score.__getitem__, reverse=True)  # stable: ties stay in load order
        return found


def resolve(base: EvidenceBase | TopicIndex, query: str) -> Resolution:
    """Find the topic a slug or plain-words question is about (topic None when unclear)."""
    index = base if isinstance(base, TopicIndex) else TopicIndex(base)
    text = query.strip()
    slugish = re.sub(r"[\s_]+", "-", text.lower()).strip("-?!. ")
    exact = next((t for t in index.topics if t.slug == slugish), None)
    if exact is not None:
        return Resolution(query, exact, True, (Candidate(exact, math.inf),))
    fixed, corrections = index.fix(text)  # once: the words and the uncovered ones both come from it
    words = tokens(fixed)
    lowered = text.lower()
    other = _OTHER_DISEASE.search(lowered)
    if other is not None and not _NAMES_LMS.search(lowered):
        return Resolution(query, None, False, tuple(index.rank(words)), corrections, other_disease=other.group(0))
    if not words and _NAMES_LMS.search(lowered):  # "lms", "leiomyosarcoma?": the disease itself
        words = ["definition"]
    uncovered = tuple(
        dict.fromkeys(
            raw
            for raw, word in word_pairs(fixed)
            if raw not in _GENERIC and word not in _GENERIC and not index.covered(word)
        )
    )
    known = [w for w in words if index.covered(w)]
    ranked = tuple(index.rank(known))
    if uncovered or not known:
        return Resolution(query, None, False, ranked, corrections, uncovered=uncovered or (query.strip(),))
    best = None
    if ranked and ranked[0].score >= MIN_SCORE and (len(ranked) == 1 or ranked[1].score < CLOSE * ranked[0].score):
        best = ranked[0].topic
    pointer = None
    if best is not None and index._claim_bonus(known, best.slug) == 0.0:
        pointer = index.holding(known)  # a claim elsewhere holds every word: say where
    return Resolution(query, best, False, ranked, corrections, pointer=pointer)


def choose(resolution: Resolution, base: EvidenceBase | Store | TopicIndex, best: bool = False) -> Topic:
    """The topic to answer, or a UsageError: not covered, or the close candidates listed."""
    if resolution.other_disease is not None:
        raise UsageError(
            f"not covered: {resolution.query!r} is about {resolution.other_disease}; lms covers leiomyosarcoma only",
            "run `lms topics` to see what it covers",
        )
    if resolution.uncovered:
        nearest = [c.topic.slug for c in resolution.ranked[:3] if c.score >= MIN_SCORE]
        hint = ("nearest topics: " + ", ".join(nearest)) if nearest else "run `lms topics` to see what it covers"
        mentions = [w for w in resolution.uncovered if w.isalnum()]
        if mentions:
            hint += f"; to find any passing mention, try `lms search {' '.join(mentions)}`"
        raise UsageError(
            f"not covered: the base has nothing on: {', '.join(resolution.uncovered)}",
            hint,
        )
    if resolution.topic is not None:
        return resolution.topic
    ranked = [c for c in resolution.ranked if c.score >= MIN_SCORE]
    if ranked and best:
        return ranked[0].topic
    if ranked:
        close = [c for c in ranked if c.score >= CLOSE * ranked[0].score]
        listing = "".join(f"\n  {c.topic.slug:<18} {c.topic.question}" for c in close)
        raise UsageError(
            f"{resolution.query!r} matches several topics:{listing}",
            "ask again with one of these slugs, or add --best to answer the first",
        )
    weak = [c.topic.slug for c in resolution.ranked[:3]]
    near = weak or close_matches(resolution.query.lower(), [t.slug for t in base.topics], cutoff=0.4)
    hint = ("nearest topics: " + ", ".join(near)) if near else "run `lms topics` to see what it covers"
    raise UsageError(f"not covered: no topic of the base answers {resolution.query!r}", hint)


def search(base: EvidenceBase, query: str) -> list[Claim]:
    """Claims whose text matches the query words, best first (ties keep file order).

    A claim matches when it contains at least half of the query's content words
    (after normalisation and typo correction); each matching word counts its rarity
    across topics.
    """
    index = TopicIndex(base)
    return index.lexicon.claims(index.search(query))
