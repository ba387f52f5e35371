"""Compare a build's entities and mentions with gold annotations: precision, recall and F1
per type for mentions (exact and overlapping spans) and per-article entity sets, plus
cross-article merge accuracy.

Gold formats: the JSON of ../shared/datasets/gum-news (one document per file, a list of
documents, or a folder of them) and NIF 2.0 Turtle (nif:Context + nif:Phrase with
itsrdf:taIdentRef / itsrdf:taClassRef)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF

from kg.extract.kinds import KIND_OF_SCHEMA_TYPE, SCHEMA_TYPE_OF_KIND

TYPES = ("Person", "Organization", "Place", "Event")
#: The type of gold annotations that name an entity without typing it (NIF collections
#: such as the N3 news sets give only a DBpedia link): they match a prediction of any type.
UNTYPED = "Untyped"
NIF = Namespace("http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#")
ITSRDF = Namespace("http://www.w3.org/2005/11/its/rdf#")

#: schema.org (or DBpedia) class local names -> the four evaluation types.
KIND_OF_TYPE = {
    **{name: SCHEMA_TYPE_OF_KIND[kind] for name, kind in KIND_OF_SCHEMA_TYPE.items()},
    # DBpedia ontology names used by NIF gold collections
    "Organisation": "Organization",
    "Company": "Organization",
    "Location": "Place",
    "PopulatedPlace": "Place",
    # NER labels (CoNLL, OntoNotes/spaCy), for gold written with them
    "PER": "Person",
    "PERSON": "Person",
    "ORG": "Organization",
    "LOC": "Place",
    "GPE": "Place",
    "FAC": "Place",
    "EVENT": "Event",
}
#: The same, by case-folded name ("person", "organisation" as GUM writes its types).
_KIND_OF_FOLDED = {name.casefold(): kind for name, kind in KIND_OF_TYPE.items()} | {"organisation": "Organization"}


class GoldError(ValueError):
    """Gold annotations that cannot be read; the message names the file."""


@dataclass(frozen=True)
class Span:
    """A mention: offsets into the document text, its type, and the entity it names."""

    start: int
    end: int
    type: str
    entity: str


@dataclass
class Document:
    """Gold or predicted annotations of one document."""

    id: str
    text: str
    spans: list[Span] = field(default_factory=list)

    def entities(self) -> dict[str, list[Span]]:
        grouped: dict[str, list[Span]] = defaultdict(list)
        for span in self.spans:
            grouped[span.entity].append(span)
        return grouped


# --- reading gold -------------------------------------------------------------------------


def _type_of(name: str) -> str | None:
    local = name.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1].rsplit(":", 1)[-1]
    return KIND_OF_TYPE.get(local) or _KIND_OF_FOLDED.get(local.casefold())


def _json_documents(data: Any, path: Path) -> list[Document]:
    items = data if isinstance(data, list) else [data]
    docs = []
    for item in items:
        try:
            doc = Document(id=str(item["id"]), text=item["text"])
            for entity in item["entities"]:
                kind = _type_of(entity["type"]) if entity.get("type") else UNTYPED
                if kind is None:
                    continue  # a type kg does not extract (a product, a work)
                for m in entity["mentions"]:
                    doc.spans.append(Span(int(m["start"]), int(m["end"]), kind, str(entity["key"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise GoldError(f"{path}: not a gold document ({exc!r} missing or malformed)") from exc
        docs.append(doc)
    return docs


def _nif_documents(path: Path) -> list[Document]:
    graph = Graph()
    try:
        graph.parse(path, format="turtle")
    except Exception as exc:  # rdflib raises many parser exception types
        raise GoldError(f"{path}: {exc}") from exc
    docs: dict[URIRef, Document] = {}
    for node in graph.subjects(RDF.type, NIF.Context):
        text = graph.value(node, NIF.isString)
        if text is not None:
            docs[URIRef(str(node))] = Document(id=str(node), text=str(text))
    for phrase in graph.subjects(NIF.referenceContext, None):
        context = graph.value(phrase, NIF.referenceContext)
        if not isinstance(context, URIRef) or context not in docs:
            continue
        classes = [_type_of(str(c)) for c in graph.objects(phrase, ITSRDF.taClassRef)]
        kind = next((c for c in classes if c), None) if classes else UNTYPED
        ident = graph.value(phrase, ITSRDF.taIdentRef)
        begin, end = graph.value(phrase, NIF.beginIndex), graph.value(phrase, NIF.endIndex)
        if kind is None or begin is None or end is None:
            continue
        entity = str(ident) if ident is not None else f"{context}#{begin}"
        docs[context].spans.append(Span(int(str(begin)), int(str(end)), kind, entity))
    return list(docs.values())


def load_gold(path: Path) -> list[Document]:
    """Gold documents from a JSON file, a NIF Turtle file, or a folder of them."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in (".json", ".ttl"))
        if not files:
            raise GoldError(f"{path}: no .json or .ttl gold files in this folder")
        return [doc for f in files for doc in load_gold(f)]
    if not path.is_file():
        raise GoldError(f"{path}: no such file")
    if path.suffix == ".ttl":
        return _nif_documents(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GoldError(f"{path}: {exc}") from exc
    return _json_documents(data, path)


# --- reading predictions from a build ------------------------------------------------------

_PREDICTIONS = """
SELECT ?key ?body ?entity ?type ?start ?end WHERE {
  ?article a schema:Article ; schema:identifier ?key ; schema:articleBody ?body .
  OPTIONAL {
    ?ann oa:hasTarget ?target ; oa:hasBody ?entity .
    ?target oa:hasSource ?article ; oa:hasSelector ?sel .
    ?sel oa:start ?start ; oa:end ?end .
    ?entity a ?type .
  }
}"""


def predictions_from_store(store: Any) -> list[Document]:
    """Predicted documents (one per article) from a built store."""
    docs: dict[str, Document] = {}
    seen: set[tuple[str, int, int, str]] = set()
    for row in store.query(_PREDICTIONS.replace("schema:Article", "<http://schema.org/NewsArticle>")):
        key, body = row["key"].value, row["body"].value
        doc = docs.setdefault(key, Document(id=key, text=body))
        if row["entity"] is None:
            continue
        kind = _type_of(row["type"].value)
        span = (row["entity"].value, int(row["start"].value), int(row["end"].value), kind or "")
        if kind is None or span in seen:
            continue
        seen.add(span)
        doc.spans.append(Span(span[1], span[2], kind, span[0]))
    return list(docs.values())


# --- scoring -------------------------------------------------------------------------------


@dataclass
class Counts:
    """True positives, false positives, false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0 if not self.fn else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0 if not self.fp else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def _closeness(a: Span, b: Span) -> float:
    """Shared characters over the characters of either span (1.0 for the same span)."""
    shared = min(a.end, b.end) - max(a.start, b.start)
    return shared / (max(a.end, b.end) - min(a.start, b.start))


def _match_mentions(gold: Sequence[Span], pred: Sequence[Span], exact: bool) -> list[tuple[Span, Span]]:
    """One-to-one matches of predicted to gold spans of the same type: the same offsets
    (exact), or the closest overlapping gold span not matched yet."""
    pairs = []
    used: set[int] = set()
    for p in sorted(pred, key=lambda s: (s.start, s.end)):
        candidates = [
            (_closeness(g, p), -i)
            for i, g in enumerate(gold)
            if i not in used
            and g.type == p.type
            and ((g.start, g.end) == (p.start, p.end) if exact else _overlaps(g, p))
        ]
        if candidates:
            i = -max(candidates)[1]
            used.add(i)
            pairs.append((gold[i], p))
    return pairs


def _match_entities(gold: Document, pred: Document) -> dict[str, str]:
    """Gold entity key -> predicted entity, one-to-one by the most overlapping mentions."""
    scores: list[tuple[int, float, str, str]] = []
    for gkey, gspans in gold.entities().items():
        for pkey, pspans in pred.entities().items():
            if gspans[0].type != pspans[0].type:
                continue
            pairs = [(g, p) for g in gspans for p in pspans if _overlaps(g, p)]
            if pairs:
                scores.append((len(pairs), sum(_closeness(g, p) for g, p in pairs), gkey, pkey))
    matched: dict[str, str] = {}
    taken: set[str] = set()
    # most overlapping mentions first; among equals, the closest spans ("Ohio" pairs with
    # gold "Ohio" before gold "Wright-Patterson Air Force Base in Ohio")
    for _count, _close, gkey, pkey in sorted(scores, key=lambda t: (-t[0], -t[1], t[2], t[3])):
        if gkey not in matched and pkey not in taken:
            matched[gkey] = pkey
            taken.add(pkey)
    return matched


@dataclass
class Evaluation:
    """All scores of one comparison."""

    documents: int
    mentions_exact: dict[str, Counts]
    mentions_overlap: dict[str, Counts]
    entities: dict[str, Counts]
    entity_f1_per_document: dict[str, float]
    merge_pairs: int
    merge_correct: int
    merge_predicted_pairs: int
    merge_predicted_correct: int
    unmatched_gold: list[str]

    @property
    def macro_entity_f1(self) -> float:
        values = list(self.entity_f1_per_document.values())
        return sum(values) / len(values) if values else 0.0

    @property
    def merge_accuracy(self) -> float:
        return self.merge_correct / self.merge_pairs if self.merge_pairs else 1.0

    @property
    def merge_precision(self) -> float:
        return self.merge_predicted_correct / self.merge_predicted_pairs if self.merge_predicted_pairs else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "mentions_exact": {t: c.as_dict() for t, c in self.mentions_exact.items()},
            "mentions_overlap": {t: c.as_dict() for t, c in self.mentions_overlap.items()},
            "entities": {t: c.as_dict() for t, c in self.entities.items()},
            "entity_f1_macro": round(self.macro_entity_f1, 4),
            "entity_f1_per_document": {k: round(v, 4) for k, v in sorted(self.entity_f1_per_document.items())},
            "merge": {
                "gold_pairs": self.merge_pairs,
                "correct": self.merge_correct,
                "accuracy": round(self.merge_accuracy, 4),
                "predicted_pairs": self.merge_predicted_pairs,
                "predicted_correct": self.merge_predicted_correct,
                "precision": round(self.merge_precision, 4),
            },
            "unmatched_gold_documents": self.unmatched_gold,
        }


def _by_type(counts: dict[str, Counts]) -> dict[str, Counts]:
    total = Counts()
    for t in (*TYPES, UNTYPED):
        total.add(counts[t])
    untyped = counts[UNTYPED]
    shown = (*TYPES, UNTYPED) if untyped.tp or untyped.fp or untyped.fn else TYPES
    return {**{t: counts[t] for t in shown}, "all": total}


def _untyped(doc: Document) -> Document:
    """The document with every span's type forgotten (to compare with untyped gold)."""
    return Document(doc.id, doc.text, [Span(s.start, s.end, UNTYPED, s.entity) for s in doc.spans])


def _by_contained_text(gold: Document, pred_by_text: dict[str, Document]) -> tuple[Document | None, Document | None]:
    """The article whose body is the gold text less surrounding text (a headline, a trailing
    newline), or contains it once, with the gold spans moved onto the body's offsets;
    spans outside the body are left out. (None, None) when no single article fits."""
    fits = []
    for text, pred in pred_by_text.items():
        if len(gold.text) >= len(text) and text.strip() and gold.text.count(text) == 1:
            fits.append((pred, gold.text.index(text)))  # gold offsets count from further left
        elif len(gold.text) < len(text) and gold.text.strip() and text.count(gold.text) == 1:
            fits.append((pred, -text.index(gold.text)))
    if len(fits) != 1:
        return None, None
    pred, shift = fits[0]
    spans = [
        Span(s.start - shift, s.end - shift, s.type, s.entity)
        for s in gold.spans
        if s.start - shift >= 0 and s.end - shift <= len(pred.text)
    ]
    return pred, Document(gold.id, pred.text, spans)


def evaluate(gold_docs: Iterable[Document], predicted: Iterable[Document]) -> Evaluation:
    """Score predictions against gold; documents pair up by id, else by identical text."""
    pred_by_id = {d.id: d for d in predicted}
    pred_by_text = {d.text: d for d in pred_by_id.values()}
    exact: dict[str, Counts] = defaultdict(Counts)
    overlap: dict[str, Counts] = defaultdict(Counts)
    entities: dict[str, Counts] = defaultdict(Counts)
    per_doc: dict[str, float] = {}
    unmatched: list[str] = []
    links: list[tuple[str, str, str | None]] = []  # (doc, gold key, predicted entity or None)
    predicted_links: list[tuple[str, str, str | None]] = []  # (doc, predicted entity, gold key)
    documents = 0
    for original in gold_docs:
        pred = pred_by_id.get(original.id) or pred_by_text.get(original.text)
        gold = original if pred is not None else None
        if pred is None:
            pred, gold = _by_contained_text(original, pred_by_text)
        if pred is None or gold is None:
            unmatched.append(original.id)
            continue
        if any(span.type == UNTYPED for span in gold.spans):
            gold, pred = _untyped(gold), _untyped(pred)
        documents += 1
        for table, is_exact in ((exact, True), (overlap, False)):
            pairs = _match_mentions(gold.spans, pred.spans, is_exact)
            for t in (*TYPES, UNTYPED):
                tp = sum(1 for g, _ in pairs if g.type == t)
                table[t].add(
                    Counts(
                        tp,
                        sum(1 for s in pred.spans if s.type == t) - tp,
                        sum(1 for s in gold.spans if s.type == t) - tp,
                    )
                )
        matched = _match_entities(gold, pred)
        doc_counts = Counts()
        gold_entities, pred_entities = gold.entities(), pred.entities()
        for t in (*TYPES, UNTYPED):
            g_n = sum(1 for spans in gold_entities.values() if spans[0].type == t)
            p_n = sum(1 for spans in pred_entities.values() if spans[0].type == t)
            tp = sum(1 for gkey in matched if gold_entities[gkey][0].type == t)
            c = Counts(tp, p_n - tp, g_n - tp)
            entities[t].add(c)
            doc_counts.add(c)
        per_doc[gold.id] = doc_counts.f1
        inverse = {p: g for g, p in matched.items()}
        links += [(gold.id, gkey, matched.get(gkey)) for gkey in gold_entities if "#" not in gkey]
        predicted_links += [(gold.id, pkey, inverse.get(pkey)) for pkey in pred_entities]
    gold_pairs = correct = 0
    by_key: dict[str, list[str | None]] = defaultdict(list)
    for _doc, gold_key, pred_key in links:
        by_key[gold_key].append(pred_key)
    for preds in by_key.values():
        for a, b in combinations(preds, 2):
            gold_pairs += 1
            correct += a is not None and a == b
    pred_pairs = pred_correct = 0
    by_pred: dict[str, list[str | None]] = defaultdict(list)
    for _doc, pred_entity, gold_entity in predicted_links:
        by_pred[str(pred_entity)].append(gold_entity)
    for golds in by_pred.values():
        for first, second in combinations(golds, 2):
            pred_pairs += 1
            pred_correct += first is not None and first == second and "#" not in first
    return Evaluation(
        documents=documents,
        mentions_exact=_by_type(exact),
        mentions_overlap=_by_type(overlap),
        entities=_by_type(entities),
        entity_f1_per_document=per_doc,
        merge_pairs=gold_pairs,
        merge_correct=correct,
        merge_predicted_pairs=pred_pairs,
        merge_predicted_correct=pred_correct,
        unmatched_gold=unmatched,
    )


def format_text(evaluation: Evaluation, title: str = "kg") -> str:
    """A readable report: one table per measure, rows by type."""
    lines = [f"{title}: {evaluation.documents} documents"]
    for name, table in (
        ("mentions, exact span", evaluation.mentions_exact),
        ("mentions, overlapping span", evaluation.mentions_overlap),
        ("entities per article", evaluation.entities),
    ):
        lines.append(f"\n{name}")
        lines.append(f"  {'type':<13}{'P':>7}{'R':>7}{'F1':>7}{'tp':>6}{'fp':>6}{'fn':>6}")
        for t, c in table.items():
            lines.append(f"  {t:<13}{c.precision:>7.3f}{c.recall:>7.3f}{c.f1:>7.3f}{c.tp:>6}{c.fp:>6}{c.fn:>6}")
    per_doc = evaluation.entity_f1_per_document
    lines.append(
        f"\nentity-set F1 per article: macro {evaluation.macro_entity_f1:.3f}, "
        f"min {min(per_doc.values(), default=0):.3f}, max {max(per_doc.values(), default=0):.3f}"
    )
    lines.append(
        f"cross-article merges: {evaluation.merge_correct}/{evaluation.merge_pairs} gold pairs "
        f"joined (accuracy {evaluation.merge_accuracy:.3f}); "
        f"{evaluation.merge_predicted_correct}/{evaluation.merge_predicted_pairs} predicted pairs "
        f"right (precision {evaluation.merge_precision:.3f})"
    )
    if evaluation.unmatched_gold:
        lines.append(f"gold documents with no article in the build: {', '.join(evaluation.unmatched_gold)}")
    return "\n".join(lines) + "\n"


def raw_model_predictions(gold_docs: Sequence[Document], nlp: Any) -> list[Document]:
    """The bare spaCy model on the gold texts: its spans as they come, one entity per
    distinct surface text and type in a document (the baseline kg must beat)."""
    from kg.extract.entities import LABEL_KINDS

    labels = {label: SCHEMA_TYPE_OF_KIND[kind] for label, kind in LABEL_KINDS.items()}
    docs = []
    for gold, parsed in zip(gold_docs, nlp.pipe([d.text for d in gold_docs]), strict=True):
        doc = Document(id=gold.id, text=gold.text)
        for ent in parsed.ents:
            kind = labels.get(ent.label_)
            if kind:
                doc.spans.append(Span(ent.start_char, ent.end_char, kind, f"{kind}:{ent.text}"))
        docs.append(doc)
    return docs
