"""Mention evidence as W3C Web Annotations with text position and quote selectors.

Mentions are most of a build's statements (17 of them each, over 90% of the quads), so they
are written straight as N-Quads text, in the canonical form pyoxigraph writes, instead of
through rdflib and pyoxigraph term objects.
"""

from __future__ import annotations

from collections.abc import Iterable

from kg.iris import Minter
from kg.namespaces import OA, PROV, RDF, XSD
from kg.terms import nt_iri, nt_string

#: Characters of context kept before and after the quoted mention.
CONTEXT_CHARS = 32


_TYPE, _INTEGER = nt_iri(RDF.type), nt_iri(XSD.integer)
#: One annotation's statements; {a} the annotation, {t} its target, {p} the position
#: selector, {q} the quote selector, {g} the article graph; the other fields are filled in.
_TEMPLATE = "".join(
    f"{s} {p} {o} {{g}} .\n"
    for s, p, o in [
        ("{a}", _TYPE, nt_iri(OA.Annotation)),
        ("{a}", nt_iri(OA.motivatedBy), nt_iri(OA.identifying)),
        ("{a}", nt_iri(OA.hasBody), "{entity}"),
        ("{a}", nt_iri(OA.hasTarget), "{t}"),
        ("{a}", nt_iri(PROV.wasGeneratedBy), "{build}"),
        ("{a}", nt_iri(PROV.wasAttributedTo), "{extractor}"),
        ("{t}", _TYPE, nt_iri(OA.SpecificResource)),
        ("{t}", nt_iri(OA.hasSource), "{article}"),
        ("{t}", nt_iri(OA.hasSelector), "{p}"),
        ("{t}", nt_iri(OA.hasSelector), "{q}"),
        ("{p}", _TYPE, nt_iri(OA.TextPositionSelector)),
        ("{p}", nt_iri(OA.start), f'"{{start}}"^^{_INTEGER}'),
        ("{p}", nt_iri(OA.end), f'"{{end}}"^^{_INTEGER}'),
        ("{q}", _TYPE, nt_iri(OA.TextQuoteSelector)),
        ("{q}", nt_iri(OA.exact), "{exact}"),
        ("{q}", nt_iri(OA.prefix), "{prefix}"),
        ("{q}", nt_iri(OA.suffix), "{suffix}"),
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
        "g": nt_iri(minter.article_graph(key)),
        "article": nt_iri(minter.article(key)),
        "build": nt_iri(build),
        "extractor": nt_iri(extractor),
    }
    out = []
    for start, end, entity in mentions:
        a, t, p, q = minter.mention_iris(key, start, end)
        out.append(
            _TEMPLATE.format(
                **fixed,
                a=nt_iri(a),
                t=nt_iri(t),
                p=nt_iri(p),
                q=nt_iri(q),
                entity=nt_iri(entity),
                start=start,
                end=end,
                exact=nt_string(body[start:end]),
                prefix=nt_string(body[max(0, start - CONTEXT_CHARS) : start]),
                suffix=nt_string(body[end : end + CONTEXT_CHARS]),
            )
        )
    return "".join(out)
