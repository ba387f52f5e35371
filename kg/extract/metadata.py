"""Article metadata from plain-text news pages: headline, byline, date, dateline,
captions, publisher, and the cleaned article body."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field

from kg.extract.dates import CAPTION_DATE, find_date, is_date_line, parse_date_line

#: Longest headline accepted; news headlines are under 200 characters.
MAX_HEADLINE_CHARS = 1_000


class MetadataError(ValueError):
    """The page cannot be read as an article (e.g. it has no headline or no body)."""


@dataclass(frozen=True)
class ArticleMetadata:
    """What a news page says about itself; body is the cleaned articleBody."""

    headline: str
    body: str
    authors: tuple[str, ...] = ()
    date_published: dt.date | None = None
    dateline: str | None = None
    publisher: str | None = None
    captions: tuple[str, ...] = ()
    word_count: int = 0
    notes: tuple[str, ...] = field(default=())


_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
#: Whole lines that are web furniture, not journalism.
_BOILERPLATE_LINE = re.compile(
    r"^(?:share ?this(?: page| article| story)?|advertisement|skip to (?:main )?content"
    r"|click here to (?:share|subscribe|comment).*|sign up for our newsletter.*"
    r"|(?:facebook|twitter|email|print)(?:\s*\|\s*(?:facebook|twitter|email|print))*)$",
    re.IGNORECASE,
)
#: A footer that ends the article ("TribLIVE commenting policy"); group 'pub' names the site.
_FOOTER = re.compile(r"^(?P<pub>[A-Z][\w.&' -]{1,40}?) commenting policy$")
_GENERIC_FOOTER = re.compile(
    r"^(?:commenting policy|comments policy|terms of service|privacy policy"
    r"|copyright ©?.*all rights reserved\.?)$",
    re.IGNORECASE,
)
_BYLINE_PREFIX = re.compile(r"^by\s+", re.IGNORECASE)
_NAME_WORD = re.compile(r"^(?:[A-Z][\w'’.-]*|de|van|von|der|da|di|la|le|bin|al)$")
_AUTHOR_SPLIT = re.compile(r"\s*(?:,\s*and\s+|,\s*|\s+and\s+|\s*&\s*)\s*")
_DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z.'’-]+(?: [A-Z][A-Z.'’-]+)*(?:, [A-Z][A-Za-z.]+(?: [A-Z][A-Za-z.]+)*)?)"
    r"\s*(?:\([^)]{1,40}\)\s*)?[—–]|^(?P<place2>[A-Z][A-Z.'’-]+(?: [A-Z][A-Z.'’-]+)*) -- "
)
_CAPTION_CREDIT = re.compile(r"\((?:AP|Reuters|AFP|Getty)[^)]*Photo[^)]*\)|\bPhoto(?:graph)?:\s", re.I)


def strip_markup(text: str) -> str:
    """Remove inline tags such as <u>…</u> and decode character references."""
    return html.unescape(_TAG.sub("", text))


def _blocks(lines: list[str]) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _byline_authors(line: str) -> tuple[str, ...] | None:
    """Author names if the line is a byline ('By A and B', 'Amie Ferris-Rotman'), else None."""
    text = line.strip()
    had_by = bool(_BYLINE_PREFIX.match(text))
    text = _BYLINE_PREFIX.sub("", text).strip()
    if not text or len(text) > 120 or text[-1] in '.!?:;"”' or is_date_line(text):
        return None
    names = [n.strip() for n in _AUTHOR_SPLIT.split(text) if n.strip()]
    if not names:
        return None
    for name in names:
        words = name.split()
        if not (2 <= len(words) <= 5 or (had_by and len(words) == 1)):
            return None
        if not all(_NAME_WORD.match(w) for w in words):
            return None
    return tuple(names)


def _is_caption(line: str) -> bool:
    words = line.split()
    return len(words) >= 8 and bool(CAPTION_DATE.search(line) or _CAPTION_CREDIT.search(line))


def _clean_headline(line: str) -> str:
    return re.sub(r"\s*\|\s*$", "", line).strip()


def _word_count(body: str) -> int:
    return sum(1 for token in body.split() if any(ch.isalnum() for ch in token))


def extract_metadata(text: str) -> ArticleMetadata:
    """Read a plain-text news page. Raises MetadataError when no headline or body is found."""
    notes: list[str] = []
    publisher: str | None = None
    kept: list[str] = []
    for raw_line in strip_markup(text).split("\n"):
        line = raw_line.rstrip()
        stripped = line.strip()
        footer = _FOOTER.match(stripped)
        if footer:
            publisher = footer["pub"].strip()
            break
        if _GENERIC_FOOTER.match(stripped):
            break
        if _BOILERPLATE_LINE.match(stripped):
            continue
        kept.append(line)

    blocks = _blocks(kept)
    if not blocks:
        raise MetadataError("no headline: the page has no text after removing boilerplate")
    headline = _clean_headline(blocks[0][0])
    if not headline:
        raise MetadataError("no headline: the first line is empty after cleaning")
    if len(headline) > MAX_HEADLINE_CHARS:
        raise MetadataError(
            f"the headline (first line) is {len(headline):,} characters; the limit is {MAX_HEADLINE_CHARS:,}: "
            "is the page's first line really a headline?"
        )
    # the rest of the first block, then the other blocks, as a stream of header candidates
    rest: list[list[str]] = ([blocks[0][1:]] if len(blocks[0]) > 1 else []) + blocks[1:]

    authors: tuple[str, ...] = ()
    date_published: dt.date | None = None
    date_line_seen = False
    captions: list[str] = []
    body_blocks: list[list[str]] = []
    in_header = True
    for block in rest:
        if not in_header:
            body_blocks.append(block)
            continue
        body_part: list[str] = []
        for line in block:
            if body_part:
                body_part.append(line)
            elif _clean_headline(line) == headline:
                continue  # the repeated headline of web pages ("Headline |" then "Headline")
            elif is_date_line(line) and not date_line_seen:
                date_line_seen = True
                date_published = parse_date_line(line)
                if date_published is None:
                    notes.append(f"date line {line.strip()!r} is not a valid date")
            elif not authors and not date_line_seen and _byline_authors(line):
                authors = _byline_authors(line) or ()
            elif _is_caption(line):
                captions.append(line)
            else:
                body_part.append(line)
        if body_part:
            in_header = False
            body_blocks.append(body_part)

    body = "\n\n".join("\n".join(block) for block in body_blocks).strip()
    if not body:
        raise MetadataError("no article body after the headline and header lines")
    if date_published is None and not date_line_seen:
        date_published = next(filter(None, (find_date(c) for c in captions)), None)
    dateline_match = _DATELINE.match(body)
    dateline = None
    if dateline_match:
        dateline = (dateline_match["place"] or dateline_match["place2"]).strip()
    return ArticleMetadata(
        headline=headline,
        body=body,
        authors=authors,
        date_published=date_published,
        dateline=dateline,
        publisher=publisher,
        captions=tuple(captions),
        word_count=_word_count(body),
        notes=tuple(notes),
    )
