"""Resolution: which mentions name the same entity, in one article and across articles."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from kg.extract.entities import Mention

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
_KIND_TYPES = {"person": "Person", "organization": "Organization", "place": "Place", "event": "Event"}
_KIND_PRIORITY = ("person", "organization", "place", "event")

EntityId = tuple[str, str]  # (kind, case-folded canonical name)


@dataclass
class Entity:
    """One resolved entity: kind, display name, the other names it was written as."""

    kind: str
    name: str
    aliases: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)

    @property
    def id(self) -> EntityId:
        return (self.kind, self.name.casefold())

    @property
    def schema_type(self) -> str:
        if self.kind == "organization" and (self.name in NEWS_MEDIA or "news" in self.roles):
            return "NewsMediaOrganization"
        return _KIND_TYPES[self.kind]


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

    def entity(self, eid: EntityId) -> Entity:
        """The entity an id resolved to, following cross-article merges."""
        return self.entities[self.redirects.get(eid, eid)]


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
    """Join one-word person/organisation clusters to the only full person name ending in
    that word ('Paul' -> 'Rand Paul'); return mentions left ambiguous (two such names)."""
    full_by_last: dict[str, list[str]] = defaultdict(list)
    for key, cluster in clusters.items():
        words = cluster.name.split()
        if cluster.kind == "person" and len(words) >= 2:
            full_by_last[words[-1].casefold()].append(key)
    ambiguous: list[Mention] = []
    for key in sorted(clusters):
        cluster = clusters[key]
        if " " in cluster.name or cluster.kind not in ("person", "organization"):
            continue
        targets = full_by_last.get(key, [])
        if len(targets) == 1:
            target = clusters[targets[0]]
            target.forms.update(cluster.forms)
            target.mentions.extend(cluster.mentions)
            target.forced_kind = "person"
            del clusters[key]
        elif len(targets) > 1:
            ambiguous.extend(cluster.mentions)
            del clusters[key]
    return ambiguous


def resolve_article(mentions: Iterable[Mention]) -> tuple[list[_Cluster], list[Mention]]:
    """Cluster one article's mentions; return (clusters, ambiguous mentions)."""
    clusters: dict[str, _Cluster] = {}
    for mention in sorted(mentions):
        form = normalise_name(mention.text)
        clusters.setdefault(form.casefold(), _Cluster()).add(mention, form)
    ambiguous = _merge_surnames(clusters)
    return list(clusters.values()), ambiguous


def resolve_corpus(
    articles: Mapping[str, Sequence[Mention]],
    authors: Mapping[str, Sequence[str]] | None = None,
    publishers: Mapping[str, str | None] | None = None,
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
        eid = (kind, name.casefold())
        entity = entities.setdefault(eid, Entity(kind=kind, name=name))
        entity.aliases.update(f for f in forms if f != entity.name)
        return eid

    for key in sorted(articles):
        clusters, ambiguous = resolve_article(articles[key])
        dropped[key] = ambiguous
        linked = []
        for cluster in clusters:
            eid = entity_for(cluster.kind, cluster.forms)
            for mention in cluster.mentions:
                linked.append((mention, eid))
                if mention.text != entities[eid].name:
                    entities[eid].aliases.add(mention.text)
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

    mentions = {
        key: sorted(
            LinkedMention(m.start, m.end, m.text, redirect.get(eid, eid)) for m, eid in linked
        )
        for key, linked in per_article.items()
    }
    return Resolution(entities=entities, mentions=mentions, dropped=dropped, redirects=redirect)


def author_id(name: str) -> EntityId:
    """The entity id an author's name resolves to (before cross-article merging)."""
    return ("person", normalise_name(name).casefold())


def publisher_id(name: str) -> EntityId:
    return ("organization", normalise_name(name).casefold())
