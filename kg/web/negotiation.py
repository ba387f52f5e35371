"""Content negotiation, decided in one place for every route.

An explicit choice (`?format=` or a file-extension twin such as `/article/x.ttl`) beats the
`Accept` header; `Accept` q-values are honoured; no Accept header (or `*/*`) gets the route's
first offer; an unsupported type is a 406 listing what is offered."""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import MIMEAccept

from kg.formats import BY_EXTENSION, FORMATS, MEDIA_TYPE_ALIASES

HTML = "text/html"

#: Short names accepted by ?format=, and file-extension twins, -> media type.
FORMAT_NAMES: dict[str, str] = {
    "html": HTML,
    **{f.name: f.media_type for f in FORMATS},
    **{f.extension: f.media_type for f in FORMATS},
    "json": "application/ld+json",
}
#: What a resource offers, in order of preference when the client does not mind (*/*).
RESOURCE_TYPES: tuple[str, ...] = (HTML, *(f.media_type for f in FORMATS if not f.datasets))
#: The extension of each machine-readable twin of a page.
TWIN_EXTENSIONS: dict[str, str] = {f.media_type: f.extension for f in FORMATS if not f.datasets}


@dataclass(frozen=True)
class Choice:
    """The negotiated media type, or why none could be chosen."""

    media_type: str | None
    explicit: bool = False
    error: str | None = None


def split_extension(path: str) -> tuple[str, str | None]:
    """'article/x.ttl' -> ('article/x', 'text/turtle'); unknown extensions stay in the path."""
    if "." in path.rsplit("/", 1)[-1]:
        stem, ext = path.rsplit(".", 1)
        if ext.lower() == "html":
            return stem, HTML
        if ext.lower() in BY_EXTENSION:
            return stem, BY_EXTENSION[ext.lower()].media_type
    return path, None


def negotiate(accept: MIMEAccept, offered: tuple[str, ...], explicit: str | None = None) -> Choice:
    """Pick a media type from offered: explicit (a format name or media type) first, then
    Accept with q-values; no Accept header gets the first offered type."""
    if explicit:
        key = explicit.lower()
        media_type = FORMAT_NAMES.get(key, MEDIA_TYPE_ALIASES.get(key, key))
        if media_type in offered:
            return Choice(media_type, explicit=True)
        return Choice(None, explicit=True, error=f"format {explicit!r} is not offered here")
    if not accept:
        return Choice(offered[0])
    aliased = {alias: canonical for alias, canonical in MEDIA_TYPE_ALIASES.items() if canonical in offered}
    best = accept.best_match([*offered, *aliased])
    if best is None:
        return Choice(None, error="none of the types in Accept is offered here")
    return Choice(aliased.get(best, best))
