"""Mention evidence as W3C Web Annotations with text position and quote selectors.

Mentions are most of a build's statements (17 of them each, over 90% of the quads), so they
are written straight as N-Quads text, in the canonical form pyoxigraph writes, instead of
through rdflib and pyoxigraph term objects.
"""

from __future__ import annotations

from collections.abc import Iterable

from kg.iris import Minter
from kg.namespaces import OA, PROV, RDF, XSD
from kg.terms import nt_string

#: Characters of context kept before and after the quoted mention.
CONTEXT_CHARS = 32


def _iri(term: str) -> str:
    return f"<{term}>"


_TYPE, _INTEGER = _iri(RDF.type), _iri(XSD.integer)
#: One annotation's statements; {a} the annotation, {t} its target, {p} the position
#: selector, {q} the quote selector, {g} the article graph; the other fields are filled in.
_TEMPLATE = "".join(
    f"{s} {p} {o} {{g}} .\n"
    for s, p, o in [
        ("{a}", _TYPE, _iri(OA.Annotation)),
        ("{a}", _iri(OA.motivatedBy), _iri(OA.identifying)),
        ("{a}", _iri(OA.hasBody), "{entity}"),
        ("{a}", _iri(OA.hasTarget), "{t}"),
        ("{a}", _iri(PROV.wasGeneratedBy), "{build}"),
        ("{a}", _iri(PROV.wasAttributedTo), "{extractor}"),
        ("{t}", _TYPE, _iri(OA.SpecificResource)),
        ("{t}", _iri(OA.hasSource), "{article}"),
        ("{t}", _iri(OA.hasSelector), "{p}"),
        ("{t}", _iri(OA.hasSelector), "{q}"),
        ("{p}", _TYPE, _iri(OA.TextPositionSelector)),
        ("{p}", _iri(OA.start), f'"{{start}}"^^{_INTEGER}'),
        ("{p}", _iri(OA.end), f'"{{end}}"^^{_INTEGER}'),
        ("{q}", _TYPE, _iri(OA.TextQuoteSelector)),
        ("{q}", _iri(OA.exact), "{exact}"),
        ("{q}", _iri(OA.prefix), "{prefix}"),
        ("{q}", _iri(OA.suffix), "{suffix}"),
    ]
)


def mention_nquads(
    minter: Minter,
    key: str,
    body: str,
    mentions: Iterable[tuple[int, int, str]],
    *,
    build: str,
    extractor: str,
) -> str:
    """N-Quads, in the article's graph, of one oa:Annotation for each (start, end, entity
    IRI) of the article: body[start:end] identifies the entity (with its target, position
    and quote selectors; the quote keeps CONTEXT_CHARS of context either side)."""
    fixed = {
        "g": _iri(minter.article_graph(key)),
        "article": _iri(minter.article(key)),
        "build": _iri(build),
        "extractor": _iri(extractor),
    }
    out = []
    for start, end, entity in mentions:
        a, t, p, q = minter.mention_iris(key, start, end)
        out.append(
            _TEMPLATE.format(
                **fixed,
                a=_iri(a),
                t=_iri(t),
                p=_iri(p),
                q=_iri(q),
                entity=_iri(entity),
                start=start,
                end=end,
                exact=nt_string(body[start:end]),
                prefix=nt_string(body[max(0, start - CONTEXT_CHARS) : start]),
                suffix=nt_string(body[end : end + CONTEXT_CHARS]),
            )
        )
    return "".join(out)
