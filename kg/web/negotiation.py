"""Content negotiation: one table of representations and one function every route uses.

Precedence: an explicit `?format=` (a name, extension or media type), then a path extension
twin (`/article/x.ttl`), then the `Accept` header with its q-values; no preference at all gives
the route's default (the first offer). Nothing acceptable is a 406 whose plain-text body lists
the media types on offer. Every response carries `Vary: Accept` (set in kg.web.app).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from flask import Response, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import NotAcceptable
from werkzeug.http import parse_accept_header

from kg.formats import BY_NAME, MEDIA_TYPE_ALIASES, RdfFormat
from kg.query import RESULT_TYPES


@dataclass(frozen=True)
class Offer:
    """One representation: short name, media type, file extension and other spellings."""

    name: str
    media_type: str
    extension: str
    label: str
    aliases: tuple[str, ...] = ()  # other names and media types clients use for it
    rdf: RdfFormat | None = None

    def spellings(self) -> set[str]:
        """Every lower-case word that selects this offer in `?format=`."""
        return {self.name, self.extension, self.media_type, *self.aliases}

    def media_types(self) -> list[str]:
        """The media type first, then aliases that are media types."""
        return [self.media_type, *(a for a in self.aliases if "/" in a)]


def _rdf(name: str, label: str, *aliases: str) -> Offer:
    fmt = BY_NAME[name]
    spelled = tuple(alias for alias, target in MEDIA_TYPE_ALIASES.items() if target == fmt.media_type)
    return Offer(name, fmt.media_type, fmt.extension, label, aliases + spelled, fmt)


HTML = Offer("html", "text/html", "html", "HTML", ("htm", "application/xhtml+xml"))
TURTLE = _rdf("turtle", "Turtle", "n3")
NTRIPLES = _rdf("ntriples", "N-Triples", "n-triples")
JSONLD = _rdf("jsonld", "JSON-LD", "json", "json-ld", "application/x-json+ld")
RDFXML = _rdf("rdfxml", "RDF/XML", "xml", "rdf+xml")
TRIG = _rdf("trig", "TriG")
NQUADS = _rdf("nquads", "N-Quads", "nq", "n-quads")
RESULTS_JSON = Offer(
    "json", RESULT_TYPES["json"], "srj", "JSON", ("application/json", "text/javascript", "application/javascript")
)
RESULTS_XML = Offer("xml", RESULT_TYPES["xml"], "srx", "XML", ("application/xml", "text/xml"))
RESULTS_CSV = Offer("csv", RESULT_TYPES["csv"], "csv", "CSV")
RESULTS_TSV = Offer("tsv", RESULT_TYPES["tsv"], "tsv", "TSV")
JSON = Offer("json", "application/json", "json", "JSON")
TEXT = Offer("text", "text/plain", "txt", "plain text", ("plain",))

#: What each kind of route offers; the first is the default.
RESOURCE = (HTML, TURTLE, JSONLD, NTRIPLES, RDFXML, TRIG, NQUADS)
HOME = RESOURCE
DATA = (TURTLE, JSONLD, NTRIPLES, RDFXML, TRIG, NQUADS, HTML)
SOLUTIONS = (RESULTS_JSON, RESULTS_XML, RESULTS_CSV, RESULTS_TSV, HTML)
GRAPH_RESULTS = (TURTLE, NTRIPLES, JSONLD, RDFXML, TRIG, NQUADS, HTML)
LISTING = (HTML, JSON)
MESSAGE = (TEXT, HTML)

#: Extensions that make a path a twin of a resource (`/article/x.ttl`).
TWIN_EXTENSIONS = {o.extension: o for o in RESOURCE}


class NotAcceptableError(NotAcceptable):
    """406 with a plain-text body listing what the route offers."""

    def __init__(self, offers: Sequence[Offer], asked: str) -> None:
        self.offers = tuple(offers)
        self.asked = asked
        super().__init__(f"Nothing offered here matches {asked}.")

    def get_response(self, environ: object = None, scope: object = None) -> Response:
        lines = [
            f"406 Not Acceptable: nothing offered here matches {self.asked}.",
            "Offered media types (Accept):",
            *(f"  {o.media_type}" for o in self.offers),
            "Or ?format= one of: " + ", ".join(o.name for o in self.offers),
            "",
        ]
        response = Response("\n".join(lines), status=406, mimetype="text/plain")
        response.vary.add("Accept")
        return response


def find_offer(offers: Iterable[Offer], word: str) -> Offer | None:
    """The offer a `?format=` value or a file extension names, else None."""
    word = word.split(";", 1)[0].strip().lower()
    return next((o for o in offers if word in o.spellings()), None)


def _accept(header: str) -> MIMEAccept:
    """Accept parsed with every parameter but q dropped ('text/turtle;charset=utf-8' still matches)."""
    items = []
    for item in header.split(","):
        media_type, *params = (part.strip() for part in item.split(";"))
        if not media_type:
            continue
        q = [p for p in params if p.replace(" ", "").lower().startswith("q=")]
        items.append(";".join([media_type, *q[:1]]))
    return parse_accept_header(",".join(items), MIMEAccept)


#: Accept headers up to this long are remembered (browsers send about 135 characters).
REMEMBERED_ACCEPT = 512


def best_for_accept(offers: Sequence[Offer], header: str) -> Offer | None:
    """The offer Accept prefers (q-values, then specificity, then the route's order), or None."""
    if len(header) > REMEMBERED_ACCEPT:
        return _best_for_accept.__wrapped__(tuple(offers), header)
    return _best_for_accept(tuple(offers), header)


@lru_cache(maxsize=1024)
def _best_for_accept(offers: tuple[Offer, ...], header: str) -> Offer | None:
    """best_for_accept, remembered: parsing and matching an Accept header with Werkzeug takes
    70-200 microseconds (a browser's header the most) and clients send the same few headers.
    The bounds (1,024 headers of at most REMEMBERED_ACCEPT characters: half a megabyte) keep
    a client sending a new header each time from growing it."""
    accept = _accept(header)
    if not accept:
        return offers[0]
    candidates = [o.media_type for o in offers] + [m for o in offers for m in o.media_types()[1:]]
    match = accept.best_match(candidates)
    if match is None:
        return None
    return next(o for o in offers if match in o.media_types())


#: Query parameters that choose a format: `format`, and the synonyms other SPARQL servers
#: and clients use (Fuseki takes `output`; SPARQLWrapper sends all three).
FORMAT_PARAMETERS = ("format", "output", "results")


def negotiate(offers: Sequence[Offer], extension: str | None = None) -> Offer:
    """The representation to send for this request, or raise NotAcceptableError (406)."""
    wanted = [w for name in FORMAT_PARAMETERS for w in request.args.getlist(name)]
    if wanted:
        for word in wanted:
            offer = find_offer(offers, word)
            if offer is not None:
                return offer
        raise NotAcceptableError(offers, f"format={wanted[0]}")
    if extension is not None:
        offer = find_offer(offers, extension)
        if offer is None:
            raise NotAcceptableError(offers, f"the extension .{extension}")
        return offer
    header = request.headers.get("Accept", "")
    offer = best_for_accept(offers, header)
    if offer is None:
        raise NotAcceptableError(offers, f"Accept: {header}")
    return offer


def prefers_html() -> bool:
    """Whether a message (an error, a form) should be an HTML page rather than plain text."""
    offer = find_offer(MESSAGE, request.args.get("format", "")) or best_for_accept(
        MESSAGE, request.headers.get("Accept", "")
    )
    return offer is HTML


def split_twin(path: str) -> tuple[str, str] | None:
    """('article/x', 'ttl') for 'article/x.ttl' when the extension names a representation."""
    stem, dot, extension = path.rpartition(".")
    if not dot or "/" in extension or extension.lower() not in TWIN_EXTENSIONS or not stem:
        return None
    return stem, extension.lower()
