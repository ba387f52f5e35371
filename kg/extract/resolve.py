"""Resolution: which mentions name the same entity, in one article and across articles."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

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


@dataclass
class Resolution:
    """The outcome of resolving a corpus: entities, and each article's linked mentions."""

    entities: dict[EntityId, Entity]
    mentions: dict[str, list[LinkedMention]]
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


def _corpus_kinds(clusters: Sequence[_Cluster], authority: Authority | None) -> dict[str, str]:
    """Case-folded name -> the kind most of the corpus's mentions of it have, where that
    majority is clear ("Twitter" tagged as a person in one article and an organisation in
    five others is an organisation everywhere)."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for cluster in clusters:
        if _free(cluster, authority):
            votes[cluster.name.casefold()].update(cluster.kinds)
    winners = {}
    for name, kinds in votes.items():
        kind = _majority(kinds)
        count = kinds[kind]
        if len(kinds) > 1 and count >= CORPUS_VOTES and count >= CORPUS_MAJORITY * sum(kinds.values()):
            winners[name] = kind
    return winners


def resolve_corpus(
    articles: Mapping[str, Sequence[Mention]],
    authors: Mapping[str, Sequence[str]] | None = None,
    publishers: Mapping[str, str | None] | None = None,
    authority: Authority | None = None,
    gazetteer: bool = True,
) -> Resolution:
    """Resolve every article, then merge the same entity across articles into one id.

    authors and publishers (by article key) become Person and NewsMediaOrganization
    entities sharing ids with the mentions that name them.
    """
    entities: dict[EntityId, Entity] = {}
    per_article: dict[str, list[tuple[Mention, EntityId]]] = {}
    dropped: dict[str, list[Mention]] = {}

    def entity_for(kind: str, forms: Counter[str]) -> EntityId:
        name = _display(forms)
        entry = authority.find(kind, name) if authority is not None else None
        if entry is not None:
            name = entry.name
        eid = (kind, name.casefold())
        entity = entities.setdefault(eid, Entity(kind=kind, name=name))
        entity.aliases.update(f for f in forms if f != entity.name)
        return eid

    resolved = {key: resolve_article(articles[key], authority) for key in sorted(articles)}
    corpus_kind = _corpus_kinds([c for clusters, _ in resolved.values() for c in clusters], authority)
    for key, (clusters, ambiguous) in resolved.items():
        dropped[key] = ambiguous
        linked = []
        for cluster in clusters:
            kind = corpus_kind.get(cluster.name.casefold(), cluster.kind) if _free(cluster, authority) else cluster.kind
            eid = entity_for(kind, cluster.forms)
            for mention in cluster.mentions:
                linked.append((mention, eid))
                if mention.text != entities[eid].name:
                    entities[eid].aliases.add(mention.text)
                if mention.role and kind == "person":
                    entities[eid].job_titles.add(mention.role)
                if mention.schema_type and KIND_OF_SCHEMA_TYPE[mention.schema_type] == kind:
                    entities[eid].hinted_type = mention.schema_type
        per_article[key] = linked
    for names in (authors or {}).values():
        for name in names:
            entity_for("person", Counter({normalise_name(name): 1}))
    for publisher in (publishers or {}).values():
        if publisher:
            eid = entity_for("organization", Counter({normalise_name(publisher): 1}))
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
    _describe(entities, per_article, redirect, authority, gazetteer)

    mentions = {
        key: sorted(LinkedMention(m.start, m.end, m.text, redirect.get(eid, eid)) for m, eid in linked)
        for key, linked in per_article.items()
    }
    return Resolution(entities=entities, mentions=mentions, dropped=dropped, redirects=redirect, authority=authority)


def _describe(
    entities: dict[EntityId, Entity],
    per_article: Mapping[str, Sequence[tuple[Mention, EntityId]]],
    redirect: Mapping[EntityId, EntityId],
    authority: Authority | None,
    gazetteer: bool,
) -> None:
    """Specific schema.org classes and sameAs links from the authority file, else (for
    places) from the offline gazetteer, using the countries named in the same articles,
    else the class the name's head word implies ("Volgograd Arena": StadiumOrArena)."""
    context: dict[EntityId, set[str]] = defaultdict(set)
    if gazetteer:
        for linked in per_article.values():
            ids = {redirect.get(eid, eid) for _, eid in linked}
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
