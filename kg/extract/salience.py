"""Which entities an article is mainly about: salience from frequency and position."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

#: At most this many entities are what an article is about.
MAX_ABOUT = 3
#: Weight of a name in the headline, and of a mention in the opening of the body.
HEADLINE_WEIGHT = 3.0
LEAD_WEIGHT = 1.0
LEAD_CHARS = 400


def salient(linked: Sequence[Any], headline: str, names_of: Callable[[Any], Iterable[str]]) -> list[Any]:
    """Entities with a salience of at least half the top score (and at least 3), most
    salient first: one point a mention, LEAD_WEIGHT more for a mention in the lead,
    HEADLINE_WEIGHT more when one of its names is in the headline."""
    scores: dict[Hashable, float] = {}
    for mention in linked:
        bonus = LEAD_WEIGHT if mention.start < LEAD_CHARS else 0.0
        scores[mention.entity] = scores.get(mention.entity, 0.0) + 1 + bonus
    folded = headline.casefold()
    for entity in list(scores):
        if any(len(name) > 2 and name.casefold() in folded for name in names_of(entity)):
            scores[entity] += HEADLINE_WEIGHT
    if not scores:
        return []
    top = max(scores.values())
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return [e for e, score in ranked if score >= max(3.0, top / 2)][:MAX_ABOUT]
