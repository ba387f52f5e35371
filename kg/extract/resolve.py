"""Resolution: which mentions name the same entity, in one article and across articles."""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, NamedTuple, TypeVar

from kg.extract.authority import Authority
from kg.extract.entities import Mention
from kg.extract.gazetteer import candidates, country_codes, lookup_place
from kg.extract.heads import head_of
from kg.extract.kinds import KIND_OF_SCHEMA_TYPE, SCHEMA_TYPE_OF_KIND

#: Written forms of one name that are the same entity everywhere.
NAME_ALIASES = {
    "U.S.": "United States",
    "US": "United States",
    "U.S.A.": "United States",
    "USA": "United States",
    "the United States": "United States",
    "U.K.": "United Kingdom",
    "UK": "United Kingdom",
    "U.N.": "United Nations",
    "UN": "United Nations",
    "EU": "European Union",
    "E.U.": "European Union",
}
#: Organisations whose schema.org type is NewsMediaOrganization.
NEWS_MEDIA = {"Interfax", "RT", "TASS", "Reuters", "Associated Press", "AP", "TribLIVE"}
_KIND_PRIORITY = ("person", "organization", "place", "event")

EntityId = tuple[str, str]  # (kind, case-folded canonical name)


@dataclass
class Entity:
    """One resolved entity: kind, display name, the other names it was written as."""

    kind: str
    name: str
    aliases: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    job_titles: set[str] = field(default_factory=set)
    same_as: set[str] = field(default_factory=set)
    specific_type: str | None = None
    hinted_type: str | None = None  # a class the text showed ("SportsTeam")

    @property
    def id(self) -> EntityId:
        return (self.kind, self.name.casefold())

    def names(self) -> set[str]:
        """The name and every alias."""
        return {self.name, *self.aliases}

    @property
    def schema_type(self) -> str:
        if self.specific_type:
            return self.specific_type
        if self.kind == "organization" and (self.name in NEWS_MEDIA or "news" in self.roles):
            return "NewsMediaOrganization"
        return SCHEMA_TYPE_OF_KIND[self.kind]


@dataclass(frozen=True, order=True)
class LinkedMention:
    """A mention and the entity it names."""

    start: int
    end: int
    text: str
    entity: EntityId


_T = TypeVar("_T", bound=Hashable)


class _Table(Generic[_T]):
    """Distinct values, each numbered once (texts, entity ids shared by many mentions)."""

    def __init__(self) -> None:
        self.values: list[_T] = []
        self._index: dict[_T, int] = {}

    def index(self, value: _T) -> int:
        found = self._index.get(value)
        if found is None:
            found = self._index[value] = len(self.values)
            self.values.append(value)
        return found


#: Numbers a mention row holds: start, end, text number, entity (or cluster) number.
_ROW = 4
_NUMBER = _ROW - 1  # where in a row the entity (or cluster) number is


class LinkedMentions(Mapping[str, list[LinkedMention]]):
    """Each article's linked mentions, kept compactly: per article one array of (start,
    end, text number, entity number) rows, the texts and entity ids numbered once for the
    corpus. linked[key] rebuilds that one article's LinkedMentions, in the order added."""

    def __init__(self) -> None:
        self._rows: dict[str, array[int]] = {}
        self._texts: _Table[str] = _Table()
        self._entities: _Table[EntityId] = _Table()
        self._count = 0

    def add(self, key: str, linked: Iterable[LinkedMention]) -> None:
        """Keep (or replace) an article's linked mentions."""
        rows = array("i")
        for m in linked:
            rows.extend((m.start, m.end, self._texts.index(m.text), self._entities.index(m.entity)))
        self._count += len(rows) // _ROW - len(self._rows.get(key, ())) // _ROW
        self._rows[key] = rows

    def __getitem__(self, key: str) -> list[LinkedMention]:
        rows, texts, entities = self._rows[key], self._texts.values, self._entities.values
        return [
            LinkedMention(rows[i], rows[i + 1], texts[rows[i + 2]], entities[rows[i + 3]])
            for i in range(0, len(rows), _ROW)
        ]

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def count(self) -> int:
        """How many linked mentions all the articles have."""
        return self._count


@dataclass
class Resolution:
    """The outcome of resolving a corpus: entities, and each article's linked mentions."""

    entities: dict[EntityId, Entity]
    mentions: LinkedMentions
    dropped: dict[str, list[Mention]]
    redirects: dict[EntityId, EntityId] = field(default_factory=dict)
    authority: Authority | None = None

    def entity(self, eid: EntityId) -> Entity:
        """The entity an id resolved to, following cross-article merges."""
        return self.entities[self.redirects.get(eid, eid)]

    def find(self, kind: str, name: str) -> Entity:
        """The entity a name of that kind (an author's, a publisher's) resolved to."""
        form = normalise_name(name)
        entry = self.authority.find(kind, form) if self.authority is not None else None
        return self.entity((kind, (entry.name if entry else form).casefold()))


def normalise_name(text: str) -> str:
    """The canonical spelling of one written form ('U.S.' -> 'United States')."""
    text = " ".join(text.split())
    return NAME_ALIASES.get(text, text)


def _display(forms: Counter[str]) -> str:
    """Best display form: the fullest name ('Rand Paul' over 'Paul'), then the most
    frequent, never one written in capitals ('WASHINGTON') when another form exists."""
    ranked = sorted(
        forms.items(),
        key=lambda kv: (kv[0].isupper() and len(kv[0]) > 3, -len(kv[0].split()), -kv[1], kv[0]),
    )
    best = ranked[0][0]
    return best.title() if best.isupper() and len(best) > 3 else best


def _majority(kinds: Counter[str]) -> str:
    return sorted(kinds.items(), key=lambda kv: (-kv[1], _KIND_PRIORITY.index(kv[0])))[0][0]


@dataclass
class _Cluster:
    forms: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    mentions: list[Mention] = field(default_factory=list)
    forced_kind: str | None = None

    def add(self, mention: Mention, form: str) -> None:
        self.forms[form] += 1
        self.kinds[mention.kind] += 1
        self.mentions.append(mention)

    @property
    def kind(self) -> str:
        return self.forced_kind or _majority(self.kinds)

    @property
    def name(self) -> str:
        return _display(self.forms)


def _merge_surnames(clusters: dict[str, _Cluster]) -> list[Mention]:
    """Join one-word clusters to the only full person name ending in that word ('Paul' ->
    'Rand Paul'), else to the only one starting with it ('Ahmed' -> 'Ahmed Mohamed'),
    whatever kind the model gave the word, unless the word is a country, state or continent
    ('Jordan'); return person mentions left ambiguous (two such names)."""
    full_by_last: dict[str, list[str]] = defaultdict(list)
    full_by_first: dict[str, list[str]] = defaultdict(list)
    for key, cluster in clusters.items():
        words = cluster.name.split()
        if cluster.kind == "person" and len(words) >= 2:
            full_by_last[words[-1].casefold()].append(key)
            full_by_first[words[0].casefold()].append(key)
    ambiguous: list[Mention] = []
    for key in sorted(clusters):
        cluster = clusters[key]
        if " " in cluster.name or cluster.kind == "event" or (cluster.kind == "place" and _is_region(cluster.name)):
            continue
        targets = full_by_last.get(key) or full_by_first.get(key, [])
        if len(targets) == 1:
            target = clusters[targets[0]]
            target.forms.update(cluster.forms)
            target.mentions.extend(cluster.mentions)
            target.forced_kind = "person"
            del clusters[key]
        elif len(targets) > 1 and cluster.kind in ("person", "organization"):
            ambiguous.extend(cluster.mentions)
            del clusters[key]
    return ambiguous


def _is_region(name: str) -> bool:
    """Whether name is a country, US state or continent (never a person's name part here)."""
    return any(c.schema_type != "City" and c.name.casefold() == name.casefold() for c in candidates(name))


def _authorised(mention: Mention, authority: Authority | None) -> tuple[Mention, str]:
    """The mention (kind fixed by the authority file if it knows the name) and its
    canonical form."""
    form = normalise_name(mention.text)
    if authority is not None:
        entry = authority.find(mention.kind, form) or authority.find_any(form)
        if entry is None and form != mention.text:
            entry = authority.find(mention.kind, mention.text) or authority.find_any(mention.text)
        if entry is not None:
            if entry.kind != mention.kind:
                mention = Mention(mention.start, mention.end, mention.text, entry.kind, mention.role)
            return mention, entry.name
    return mention, form


def resolve_article(
    mentions: Iterable[Mention], authority: Authority | None = None
) -> tuple[list[_Cluster], list[Mention]]:
    """Cluster one article's mentions; return (clusters, ambiguous mentions)."""
    clusters: dict[str, _Cluster] = {}
    for raw in sorted(mentions):
        mention, form = _authorised(raw, authority)
        clusters.setdefault(form.casefold(), _Cluster()).add(mention, form)
    ambiguous = _merge_surnames(clusters)
    return list(clusters.values()), ambiguous


#: A name's kind across the corpus overrules one article's guess when at least this share
#: of its mentions, and at least CORPUS_VOTES of them, agree.
CORPUS_MAJORITY = 2 / 3
CORPUS_VOTES = 3


def _free(cluster: _Cluster, authority: Authority | None) -> bool:
    """Whether a cluster's kind is only the model's guess (not fixed by a full name it
    joined, by the article's own evidence such as a match report, or by the authority file)."""
    if cluster.forced_kind or any(m.schema_type for m in cluster.mentions):
        return False
    return authority is None or authority.find_any(cluster.name) is None


def _vote(votes: dict[str, Counter[str]], cluster: _Cluster, authority: Authority | None) -> bool:
    """Count a cluster's mentions towards its name's kind across the corpus, if its kind is
    only the model's guess; returns whether it was (the cluster is free)."""
    free = _free(cluster, authority)
    if free:
        votes[cluster.name.casefold()].update(cluster.kinds)
    return free


def _corpus_kinds(votes: Mapping[str, Counter[str]]) -> dict[str, str]:
    """Case-folded name -> the kind most of the corpus's mentions of it have, where that
    majority is clear ("Twitter" tagged as a person in one article and an organisation in
    five others is an organisation everywhere)."""
    winners = {}
    for name, kinds in votes.items():
        kind = _majority(kinds)
        count = kinds[kind]
        if len(kinds) > 1 and count >= CORPUS_VOTES and count >= CORPUS_MAJORITY * sum(kinds.values()):
            winners[name] = kind
    return winners


class _Group(NamedTuple):
    """One article's cluster, reduced to what resolving across articles needs (articles
    whose cluster is the same share one)."""

    name: str  # display name
    kind: str  # the kind the article gave it
    free: bool  # that kind is only the model's guess: the corpus may overrule it
    forms: tuple[str, ...]  # canonical forms
    texts: tuple[str, ...]  # the written forms of its mentions
    roles: tuple[str, ...]  # job titles written before its mentions
    hinted: str | None  # the last schema.org class of its kind its mentions showed


def _group(cluster: _Cluster, free: bool) -> _Group:
    kind = cluster.kind
    hinted = None
    for mention in cluster.mentions:
        if mention.schema_type and KIND_OF_SCHEMA_TYPE[mention.schema_type] == kind:
            hinted = mention.schema_type
    return _Group(
        name=cluster.name,
        kind=kind,
        free=free,
        forms=tuple(sorted(cluster.forms)),
        texts=tuple(sorted({m.text for m in cluster.mentions})),
        roles=tuple(sorted({m.role for m in cluster.mentions if m.role})),
        hinted=hinted,
    )


def resolve_corpus(
    articles: Mapping[str, Sequence[Mention]],
    authors: Mapping[str, Sequence[str]] | None = None,
    publishers: Mapping[str, str | None] | None = None,
    authority: Authority | None = None,
    gazetteer: bool = True,
    *,
    consume: bool = False,
) -> Resolution:
    """Resolve every article, then merge the same entity across articles into one id.

    authors and publishers (by article key) become Person and NewsMediaOrganization
    entities sharing ids with the mentions that name them. With consume, articles (then a
    mutable mapping) is emptied as it is read, so that each article's raw mentions can be
    freed as soon as they are clustered.
    """
    if consume and not isinstance(articles, MutableMapping):
        raise TypeError("consume=True needs a mutable mapping of articles")
    entities: dict[EntityId, Entity] = {}
    dropped: dict[str, list[Mention]] = {}

    def entity_for(kind: str, name: str, forms: Iterable[str]) -> EntityId:
        entry = authority.find(kind, name) if authority is not None else None
        if entry is not None:
            name = entry.name
        eid = (kind, name.casefold())
        entity = entities.setdefault(eid, Entity(kind=kind, name=name))
        entity.aliases.update(f for f in forms if f != entity.name)
        return eid

    # each article's clusters, as numbered groups, and its mentions as (start, end, text
    # number, cluster position) rows; the raw mentions are not kept
    groups: _Table[_Group] = _Table()
    texts: _Table[str] = _Table()
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    clustered: dict[str, tuple[array[int], array[int]]] = {}
    for key in sorted(articles):
        raw = articles.pop(key) if isinstance(articles, MutableMapping) and consume else articles[key]
        clusters, dropped[key] = resolve_article(raw, authority)
        del raw
        ids, rows = array("i"), array("i")
        for position, cluster in enumerate(clusters):
            ids.append(groups.index(_group(cluster, _vote(votes, cluster, authority))))
            for mention in cluster.mentions:
                rows.extend((mention.start, mention.end, texts.index(mention.text), position))
        clustered[key] = (ids, rows)
    corpus_kind = _corpus_kinds(votes)

    # the entities, in the order of the articles and their clusters; each row's cluster
    # position becomes its entity's number
    eids: _Table[EntityId] = _Table()
    per_article: dict[str, array[int]] = {}
    for key in list(clustered):
        ids, rows = clustered.pop(key)
        local = []
        for number in ids:
            group = groups.values[number]
            kind = corpus_kind.get(group.name.casefold(), group.kind) if group.free else group.kind
            eid = entity_for(kind, group.name, group.forms)
            entity = entities[eid]
            entity.aliases.update(text for text in group.texts if text != entity.name)
            if kind == "person":
                entity.job_titles.update(group.roles)
            if group.hinted:
                entity.hinted_type = group.hinted
            local.append(eids.index(eid))
        for i in range(_NUMBER, len(rows), _ROW):
            rows[i] = local[rows[i]]
        per_article[key] = rows
    del groups
    for names in (authors or {}).values():
        for name in names:
            form = normalise_name(name)
            entity_for("person", form, (form,))
    for publisher in (publishers or {}).values():
        if publisher:
            form = normalise_name(publisher)
            eid = entity_for("organization", form, (form,))
            entities[eid].roles.add("news")

    # across articles: a one-word person joins the only full person name ending in it
    full_by_last: dict[str, list[EntityId]] = defaultdict(list)
    for eid, entity in entities.items():
        words = entity.name.split()
        if entity.kind == "person" and len(words) >= 2:
            full_by_last[words[-1].casefold()].append(eid)
    redirect: dict[EntityId, EntityId] = {}
    for eid, entity in list(entities.items()):
        if entity.kind == "person" and " " not in entity.name:
            targets = full_by_last.get(entity.name.casefold(), [])
            if len(targets) == 1:
                redirect[eid] = targets[0]
                entities[targets[0]].aliases |= entity.aliases | {entity.name}
                del entities[eid]
    for entity in entities.values():
        entity.aliases.discard(entity.name)
    in_articles = ({eids.values[rows[i]] for i in range(_NUMBER, len(rows), _ROW)} for rows in per_article.values())
    _describe(entities, in_articles, redirect, authority, gazetteer)

    mentions = LinkedMentions()
    final = [redirect.get(eid, eid) for eid in eids.values]
    for key in list(per_article):
        rows = per_article.pop(key)
        mentions.add(
            key,
            sorted(
                LinkedMention(rows[i], rows[i + 1], texts.values[rows[i + 2]], final[rows[i + 3]])
                for i in range(0, len(rows), _ROW)
            ),
        )
    return Resolution(entities=entities, mentions=mentions, dropped=dropped, redirects=redirect, authority=authority)


def _describe(
    entities: dict[EntityId, Entity],
    in_articles: Iterable[set[EntityId]],
    redirect: Mapping[EntityId, EntityId],
    authority: Authority | None,
    gazetteer: bool,
) -> None:
    """Specific schema.org classes and sameAs links from the authority file, else (for
    places) from the offline gazetteer, using the countries named in the same articles,
    else the class the name's head word implies ("Volgograd Arena": StadiumOrArena)."""
    context: dict[EntityId, set[str]] = defaultdict(set)
    if gazetteer:
        for found in in_articles:  # each article's entity ids
            ids = {redirect.get(eid, eid) for eid in found}
            places = [entities[eid].name for eid in ids if eid in entities and entities[eid].kind == "place"]
            countries = country_codes(places)
            for eid in ids:
                context[eid] |= countries
    for eid, entity in entities.items():
        entry = authority.find(entity.kind, entity.name) if authority is not None else None
        if entry is not None:
            entity.specific_type = entry.schema_type
            entity.same_as.update(entry.same_as)
            continue
        if gazetteer and entity.kind == "place":
            place = lookup_place(entity.name, sorted(context[eid]))
            if place is not None:
                entity.specific_type = place.schema_type
                entity.same_as.add(place.iri)
                continue
        head = head_of(entity.name)
        if head is not None and head.kind == entity.kind and head.schema_type != SCHEMA_TYPE_OF_KIND[entity.kind]:
            entity.specific_type = head.schema_type
        elif entity.hinted_type:
            entity.specific_type = entity.hinted_type
