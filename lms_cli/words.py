"""Words of a text as lms compares them: case, punctuation, plurals, phrases and synonyms folded.

``tokens`` is what both the resolver (questions -> topics) and search read, and what the
evidence cache indexes; it lives in the base layer so that both can use it.
"""

from __future__ import annotations

import re

#: (pattern, replacement, needles): a text holding none of the needles (substrings every match
#: contains) cannot match, so the pattern is not run -- most claims skip most patterns.
_PHRASES = [
    (r"\bsoft[\s-]+tissue\s+sarcomas?\b", " sarcoma ", ("soft",)),
    (r"\bsoft[\s-]+tissues?\b", " muscle ", ("soft",)),
    (r"\bstage\s+(?:4|iv)\b", " metastasis ", ("stage",)),
    (r"\bfirst[\s-]+line\b", " firstline ", ("first",)),
    (r"\b1st[\s-]+line\b", " firstline ", ("1st",)),
    (r"\b(?:second|2nd|third|3rd|later)[\s-]+lines?\b", " laterline ", ("line",)),
    (r"\bpet[\s/-]+ct\b", " pet ct ", ("pet",)),
    (r"\blymph[\s-]+nodes?\b", " lymph ", ("lymph",)),
    (r"\bhow\s+long\b", " survival ", ("how",)),
    (
        r"\bhow\s+(?:does|do|can|is|did)\s+(?:\w+\s+){0,2}?(?:spread|metastasi[sz]e)",
        " route metastasis ",
        ("how",),
    ),
    (r"\bafter\s+(?:the\s+)?(?:firstline|first|doxorubicin|chemo\w*)", " laterline ", ("after",)),
    # "what is LMS?", "define leiomyosarcoma": a question naming only the disease is about the disease
    (r"^\W*(?:what|who)\s+(?:is|are)\s+(?:an?\s+)?(?:lms|leiomyosarcomas?)\b", " definition lms ", ("wh",)),
    (r"\b(?:start|begin|starting|beginning)\s+(?:with|on)\b", " firstline ", ("start", "begin")),
    (r"\bfirst\s+(?:treatment|therapy|chemo\w*|drugs?|options?)\b", " firstline ", ("first",)),
    (r"\b(?:stops?|stopped|no\s+longer|isn'?t|doesn'?t)\s+working\b", " laterline ", ("working",)),
    (r"\bsmooth[\s-]+muscle\b", " smoothmuscle ", ("smooth",)),
    (
        r"\b(?:go|goes|going|went|travel|travels|move|moves|jump|jumps)\s+(?:in)?to\b",
        " metastasis ",
        ("go", "went", "travel", "move", "jump"),
    ),
    (
        r"\bwhere\b(.{0,40}?)\b(?:start|starts|begin|begins|come\s+from|comes\s+from)\b",
        r" arise \1 ",
        ("where",),
    ),
    (r"\bhow\s+(?:common|rare|frequent|many)\b", " incidence ", ("how",)),
    (r"\bcome\s+back\b|\bcomes\s+back\b|\bcoming\s+back\b", " recurrence ", ("back",)),
    (r"\bfollow(?:ed)?[\s-]*ups?\b", " surveillance ", ("follow",)),
]

_SYNONYMS = {
    **dict.fromkeys(
        [
            "spread",
            "spreads",
            "spreading",
            "spreaded",
            "metastasis",
            "metastases",
            "metastasize",
            "metastasise",
            "metastasizes",
            "metastasises",
            "metastasized",
            "metastasised",
            "metastasizing",
            "metastatic",
            "mets",
            "met",
            "secondaries",
            "secondary",
        ],
        "metastasis",
    ),
    **dict.fromkeys(
        [
            "treatment",
            "treatments",
            "treat",
            "treated",
            "treating",
            "therapy",
            "therapies",
            "therapeutic",
            "management",
            "manage",
            "managed",
        ],
        "therapy",
    ),
    **dict.fromkeys(["muscle", "muscles", "muscular", "intramuscular", "skeletal", "tissue", "tissues"], "muscle"),
    **dict.fromkeys(
        [
            "extremity",
            "extremities",
            "limb",
            "limbs",
            "leg",
            "legs",
            "arm",
            "arms",
            "thigh",
            "thighs",
            "calf",
            "forearm",
            "buttock",
        ],
        "extremity",
    ),
    **dict.fromkeys(
        ["mutation", "mutations", "mutated", "alteration", "alterations", "variant", "variants"], "alteration"
    ),
    **dict.fromkeys(["arise", "arises", "arising", "originate", "originates", "origin", "occurs"], "arise"),
    **dict.fromkeys(["lms", "leiomyosarcoma", "leiomyosarcomas", "leio"], "lms"),
    **dict.fromkeys(["ulms", "uterus", "uterine", "womb", "gynecologic", "gynaecologic", "gynecological"], "uterine"),
    "sts": "sarcoma",
    **dict.fromkeys(["chemo", "chemotherapy", "chemotherapies"], "chemotherapy"),
    **dict.fromkeys(["lymphatic", "lymphatics", "nodal", "node", "nodes"], "lymph"),
    **dict.fromkeys(["bloodstream", "hematogenous", "haematogenous", "blood"], "blood"),
    **dict.fromkeys(["tumour", "tumours", "tumor", "tumors"], "tumor"),
    **dict.fromkeys(["radiation", "radiotherapy", "radiosurgery"], "radiotherapy"),
    **dict.fromkeys(
        ["surgery", "surgical", "operation", "operate", "resection", "resect", "removal", "remove", "excision"],
        "surgery",
    ),
    **dict.fromkeys(["survive", "survival", "surviving", "live", "living", "lifespan", "expectancy"], "survival"),
    **dict.fromkeys(["scan", "scans", "scanning", "imaging", "image", "images", "radiology"], "imaging"),
    **dict.fromkeys(["find", "found", "detect", "detected", "detection"], "detection"),
    **dict.fromkeys(
        [
            "diagnose",
            "diagnosed",
            "diagnosis",
            "diagnosing",
            "diagnostic",
            "pathology",
            "pathologist",
            "pathologists",
            "histology",
            "immunohistochemistry",
        ],
        "diagnosis",
    ),
    **dict.fromkeys(["stage", "staged", "staging", "figo"], "stage"),
    **dict.fromkeys(["define", "definition", "meaning"], "definition"),
    **dict.fromkeys(["incidence", "prevalence", "frequency", "common", "rare", "rarity"], "incidence"),
    **dict.fromkeys(
        ["recur", "recurs", "recurred", "recurrence", "recurrences", "recurrent", "relapse", "relapses", "relapsed"],
        "recurrence",
    ),
    **dict.fromkeys(["surveillance", "monitoring", "monitor", "checkup", "checkups"], "surveillance"),
    **dict.fromkeys(["parp", "parpi"], "parp"),
    **dict.fromkeys(["when", "timing", "time"], "timing"),
    **dict.fromkeys(["prognosis", "prognostic", "outlook", "outcome", "outcomes"], "prognosis"),
    **dict.fromkeys(
        [
            "refractory",
            "pretreated",
            "fail",
            "fails",
            "failed",
            "failure",
            "progressed",
            "progression",
            "subsequent",
        ],
        "laterline",
    ),
    **dict.fromkeys(["immunotherapy", "immune", "checkpoint"], "immunotherapy"),
    **dict.fromkeys(["where", "site", "sites", "organ", "organs", "location", "locations"], "site"),
    **dict.fromkeys(
        [
            "risk",
            "risks",
            "likely",
            "likelihood",
            "chance",
            "odds",
            "predict",
            "predictor",
            "predictors",
            "factor",
            "factors",
        ],
        "risk",
    ),
}

_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "could",
        "do",
        "does",
        "did",
        "for",
        "from",
        "get",
        "gets",
        "got",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "should",
        "so",
        "that",
        "the",
        "their",
        "them",
        "there",
        "they",
        "this",
        "to",
        "was",
        "we",
        "what",
        "which",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "lms",
        "cancer",
        "patient",
        "patients",
        "people",
        "person",
        "about",
        "any",
        "vs",
        "versus",
        "usually",
        "typically",
        "generally",
        "normally",
        "commonly",
        # function words: never a subject, and never a typo's correction ("weather" is not "whether")
        "whether",
        "than",
        "not",
        "no",
        "but",
        "these",
        "those",
        "such",
        "both",
        "either",
        "neither",
        "nor",
        "been",
        "were",
        "being",
        "because",
        "however",
        "although",
        "whereas",
    }
)


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


_WORD = re.compile(r"[a-z0-9]+")
_POSSESSIVE = re.compile(r"'s\b")
#: raw word -> its normalised form ("" for a stopword): words repeat, so each is folded once.
_NORMAL: dict[str, str] = {}
_NORMAL_MAX = 200_000  # a bound on the memo for hostile texts of endless distinct words


def _normal(raw: str) -> str:
    if raw in _STOPWORDS:  # before stemming: "does" is not the plural of "doe"
        return ""
    word = _stem(_SYNONYMS.get(raw, raw))
    word = _SYNONYMS.get(word, word)
    return "" if word in _STOPWORDS else word


def _folded(text: str) -> tuple[list[str], str]:
    """The raw words of a text after its phrases are folded."""
    text = text.lower().replace("\u2019", "'")
    if "'s" in text:
        text = _POSSESSIVE.sub("", text)
    for pattern, repl, needles in _PHRASES:
        for needle in needles:
            if needle in text:
                text = re.sub(pattern, repl, text)  # compiled on first use, then from re's cache
                break
    return _WORD.findall(text), text


def word_pairs(text: str) -> list[tuple[str, str]]:
    """(word as typed, normalised word) for each content word of a text, in order."""
    out = []
    normal = _NORMAL
    for raw in _folded(text)[0]:
        word = normal.get(raw)
        if word is None:
            if len(normal) >= _NORMAL_MAX:
                normal.clear()
            word = normal[raw] = _normal(raw)
        if word:
            out.append((raw, word))
    return out


def tokens(text: str) -> list[str]:
    """Normalised content words of a text, in order."""
    return [word for _, word in word_pairs(text)]
