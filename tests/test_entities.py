"""Entity clean-up and resolution, on hand-made spans (independent of the model)."""

from __future__ import annotations

import re

from kg.extract.entities import Mention, clean_mentions
from kg.extract.resolve import resolve_corpus


def _clean(body: str, *spans: tuple[str, str]) -> list[tuple[str, str]]:
    found = []
    for text, label in spans:
        start = body.index(text)
        found.append((start, start + len(text), label))
    return [(m.text, m.kind) for m in clean_mentions(body, found)]


def test_trims_determiners_possessives_and_lowercase_tails() -> None:
    body = "He met the Cato Institute's head, Interfax news agency said, after the Cold War days."
    assert _clean(body, ("the Cato Institute's", "ORG"), ("Interfax news", "GPE"), ("the Cold War days", "EVENT")) == [
        ("Cato Institute", "organization"),
        ("Interfax", "organization"),
        ("Cold War", "event"),
    ]


def test_titles_are_not_names_and_make_a_person() -> None:
    body = "Sen. Rand Paul met Republican Don Huffines in the U.S."
    assert _clean(body, ("Sen. Rand Paul", "PERSON"), ("Republican Don Huffines", "ORG"), ("U.S.", "GPE")) == [
        ("Rand Paul", "person"),
        ("Don Huffines", "person"),
        ("U.S.", "place"),
    ]


def test_offsets_always_quote_the_body() -> None:
    body = "“Kosachev, Kosachev said”, and the foreign relations committee agreed."
    mentions = clean_mentions(body, [(1, 19, "PERSON"), (35, 64, "ORG"), (0, 3, "DATE")])
    assert [(m.text, m.start, m.end) for m in mentions] == [("Kosachev", 1, 9)]
    assert all(body[m.start : m.end] == m.text for m in mentions)


def _m(text: str, start: int, kind: str = "person") -> Mention:
    return Mention(start, start + len(text), text, kind)


def test_surname_joins_the_full_name_in_the_article() -> None:
    res = resolve_corpus({"a": [_m("Rand Paul", 0), _m("Paul", 20), _m("Paul", 40, "organization")]})
    assert {e.name for e in res.entities.values()} == {"Rand Paul"}
    assert res.entities[("person", "rand paul")].aliases == {"Paul"}
    assert len(res.mentions["a"]) == 3


def test_shared_surname_stays_ambiguous() -> None:
    res = resolve_corpus({"a": [_m("Rand Paul", 0), _m("Ron Paul", 20), _m("Paul", 40)]})
    assert {e.name for e in res.entities.values()} == {"Rand Paul", "Ron Paul"}
    assert [m.text for m in res.dropped["a"]] == ["Paul"]


def test_same_entity_across_articles_is_one_id_with_aliases() -> None:
    res = resolve_corpus(
        {
            "a": [_m("U.S.", 0, "place"), _m("Vladimir Putin", 10)],
            "b": [_m("United States", 0, "place"), _m("Putin", 30), _m("WASHINGTON", 50, "place")],
            "c": [_m("Washington", 5, "place")],
        },
        authors={"a": ["Amie Ferris-Rotman"]},
        publishers={"b": "TribLIVE"},
    )
    us = res.entities[("place", "united states")]
    assert us.aliases == {"U.S."}
    assert res.mentions["b"][1].entity == ("person", "vladimir putin")
    assert res.entities[("place", "washington")].name == "Washington"
    assert res.entities[("organization", "triblive")].schema_type == "NewsMediaOrganization"
    assert ("person", "amie ferris-rotman") in res.entities


def test_job_titles_and_events_from_the_text() -> None:
    body = "Sen. Rand Paul praised the Helsinki summit; Mr. Smith did not."
    spans = [
        (body.index(t), body.index(t) + len(t), label)
        for t, label in (("Rand Paul", "PERSON"), ("Helsinki", "GPE"), ("Smith", "PERSON"))
    ]
    mentions = clean_mentions(body, spans)
    assert [(m.text, m.kind, m.role) for m in mentions] == [
        ("Rand Paul", "person", "Senator"),
        ("Helsinki", "place", None),
        ("Helsinki summit", "event", None),
        ("Smith", "person", None),
    ]


def test_authority_names_types_and_links(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kg.extract.authority import load_authority

    csv = tmp_path / "a.csv"
    csv.write_text(
        "name,type,aliases,same_as\nDonald Trump,Person,Trump,https://www.wikidata.org/entity/Q22686\n"
        "Washington,City,WASHINGTON,https://sws.geonames.org/4140963/\n",
        encoding="utf-8",
    )
    authority = load_authority(csv)
    res = resolve_corpus(
        {"a": [_m("Trump", 0, "organization"), _m("WASHINGTON", 10, "place"), _m("Moscow", 30, "place")]},
        authority=authority,
    )
    trump = res.entities[("person", "donald trump")]
    assert trump.same_as == {"https://www.wikidata.org/entity/Q22686"}
    assert res.entities[("place", "washington")].schema_type == "City"
    moscow = res.entities[("place", "moscow")]
    assert (moscow.schema_type, moscow.same_as) == ("City", {"https://sws.geonames.org/524901/"})


def test_bad_authority_file_names_file_and_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from kg.extract.authority import AuthorityError, load_authority

    csv = tmp_path / "a.csv"
    csv.write_text("name,type\nX,Person\nY,Spaceship\n", encoding="utf-8")
    with pytest.raises(AuthorityError, match=r"a\.csv: line 3: unknown type 'Spaceship'"):
        load_authority(csv)


def test_shipped_authority_geonames_ids_match_the_gazetteer() -> None:
    import re

    from kg.extract.authority import load_authority
    from kg.extract.gazetteer import candidates
    from tests.conftest import ROOT

    for entry in load_authority(ROOT / "authority.csv").entries:
        for iri in entry.same_as:
            found = re.search(r"geonames\.org/(\d+)/", iri)
            if found:
                ids = {c.geonames_id for n in (entry.name, *entry.aliases) for c in candidates(n)}
                assert int(found.group(1)) in ids, entry.name


def test_salience_prefers_headline_and_frequent_entities() -> None:
    from kg.extract.resolve import LinkedMention
    from kg.extract.salience import salient

    linked = [LinkedMention(i * 500, i * 500 + 4, "Paul", ("person", "rand paul")) for i in range(4)]
    linked += [
        LinkedMention(10, 16, "Moscow", ("place", "moscow")),
        LinkedMention(900, 905, "Texas", ("place", "texas")),
    ]
    names = {("person", "rand paul"): {"Rand Paul"}, ("place", "moscow"): {"Moscow"}, ("place", "texas"): {"Texas"}}
    assert salient(linked, "Rand Paul goes to Moscow", names.__getitem__) == [
        ("person", "rand paul"),
        ("place", "moscow"),
    ]


def test_names_sharing_a_slug_get_distinct_iris() -> None:
    from kg.iris import Minter

    iris = Minter("http://example.org/").entity_iris(
        [("person", "Tomas Petrov"), ("person", "Tomás Petrov"), ("place", "Tomas Petrov")]
    )
    assert str(iris[("person", "Tomas Petrov")]) == "http://example.org/person/tomas-petrov"
    assert iris[("person", "Tomás Petrov")].startswith("http://example.org/person/tomas-petrov-")
    assert str(iris[("place", "Tomas Petrov")]) == "http://example.org/place/tomas-petrov"


def test_leading_dashes_are_not_part_of_names() -> None:
    body = "PARIS — Tomas Petrov said."
    assert [(m.text, m.start) for m in clean_mentions(body, [(6, 20, "PERSON")])] == [("Tomas Petrov", 8)]


def test_parallel_extraction_gives_the_same_mentions(extractor) -> None:  # type: ignore[no-untyped-def]
    from kg.extract.metadata import extract_metadata
    from kg.sources import read_source
    from tests.conftest import RAW

    bodies = [extract_metadata(read_source(p).text).body for p in sorted(RAW.glob("*.txt"))] * 2
    serial = extractor.extract_many(bodies, jobs=1)
    extractor.PARALLEL_FROM = 1
    try:
        parallel = extractor.extract_many(bodies, jobs=2)
    finally:
        del extractor.PARALLEL_FROM
    assert parallel == serial


def test_nationalities_are_not_places_but_places_ending_alike_are() -> None:
    body = "Ukrainian elections and Danish voters in Brasilia and Taipei."
    spans = [(body.index(t), body.index(t) + len(t), "GPE") for t in ("Ukrainian", "Danish", "Brasilia", "Taipei")]
    assert [m.text for m in clean_mentions(body, spans)] == ["Brasilia", "Taipei"]


def test_head_word_types_a_name_whatever_the_model_said() -> None:
    body = "At the Volgograd Arena fans read the Edmonton Sun; Emily Post, John Hall and the Taipei Lantern Festival."
    labels = {
        "Volgograd Arena": "ORG",
        "Edmonton Sun": "GPE",
        "Emily Post": "PERSON",
        "John Hall": "PERSON",
        "Taipei Lantern Festival": "GPE",
    }
    spans = [(body.index(t), body.index(t) + len(t), label) for t, label in labels.items()]
    assert {(m.text, m.kind) for m in clean_mentions(body, spans)} >= {
        ("Volgograd Arena", "place"),
        ("Edmonton Sun", "organization"),
        ("Emily Post", "person"),  # words that are also surnames never overrule PERSON
        ("John Hall", "person"),
        ("Taipei Lantern Festival", "event"),
    }


def test_head_word_gives_the_specific_schema_class() -> None:
    from kg.extract.heads import head_of

    assert head_of("Museum of Flight").schema_type == "Museum"  # type: ignore[union-attr]
    assert head_of("University of Sheffield").schema_type == "CollegeOrUniversity"  # type: ignore[union-attr]
    assert head_of("World War II").schema_type == "Event"  # type: ignore[union-attr]
    assert head_of("Metro Toronto Convention Centre").schema_type == "EventVenue"  # type: ignore[union-attr]
    assert head_of("Pew Research Center") is None and head_of("Sun") is None
    res = resolve_corpus({"a": [_m("Volgograd Arena", 0, "place"), _m("Toronto Star", 30, "organization")]})
    assert res.entities[("place", "volgograd arena")].schema_type == "StadiumOrArena"
    assert res.entities[("organization", "toronto star")].schema_type == "NewsMediaOrganization"


def test_every_kind_class_is_in_the_ontology() -> None:
    from rdflib import RDFS, Graph, URIRef

    from kg.extract.heads import HEADS
    from kg.extract.kinds import KIND_OF_SCHEMA_TYPE, SCHEMA_TYPE_OF_KIND
    from tests.conftest import ROOT

    ontology = Graph().parse(ROOT / "ontology" / "kg-ontology.ttl")
    for name, kind in KIND_OF_SCHEMA_TYPE.items():
        cls = URIRef(f"http://schema.org/{name}")
        top = URIRef(f"http://schema.org/{SCHEMA_TYPE_OF_KIND[kind]}")
        assert top in set(ontology.transitive_objects(cls, RDFS.subClassOf)), name
    assert {h.schema_type for h in HEADS.values()} <= set(KIND_OF_SCHEMA_TYPE)


def test_names_stop_at_a_line_break_and_lose_a_credit_label() -> None:
    body = "Student Ahmed Mohamed Image: Twitter.\n\nNASA Administrator\n\nFile image of a launch."
    spans = [(8, 27, "PERSON"), (body.index("NASA"), body.index("File") + 4, "ORG")]
    assert [(m.text, m.kind) for m in clean_mentions(body, spans)] == [
        ("Ahmed Mohamed", "person"),
        ("NASA", "organization"),
    ]


def test_descriptions_handles_addresses_and_abstract_nouns_are_not_entities() -> None:
    body = "The State said @POTUS posted on Gawker.com about Islamophobia at 10:00 GMT."
    spans = [
        (body.index(t), body.index(t) + len(t), "ORG") for t in ("State", "@POTUS", "Gawker.com", "Islamophobia", "GMT")
    ]
    assert clean_mentions(body, spans) == []


def test_a_name_found_once_is_found_where_else_it_is_written() -> None:
    body = "The Toronto Star said so. Later the Toronto Star's editor and NASA agreed; NASA, not Star, paid."
    first = body.index("Toronto Star")
    spans = [(first, first + 12, "ORG"), (body.index("NASA"), body.index("NASA") + 4, "ORG")]
    found = [(m.text, m.start) for m in clean_mentions(body, spans) if m.kind == "organization"]
    assert found == [
        ("Toronto Star", first),
        ("Toronto Star", body.index("Toronto Star", first + 1)),
        ("NASA", body.index("NASA")),
        ("NASA", body.rindex("NASA")),
    ]


def test_places_inside_other_names_are_mentions_too() -> None:
    body = "She studied at the University of Sheffield and read the Toronto Star in Mobile Suits Inc."
    spans = [
        (body.index(t), body.index(t) + len(t), "ORG")
        for t in ("University of Sheffield", "Toronto Star", "Mobile Suits Inc.")
    ]
    places = [m.text for m in clean_mentions(body, spans) if m.kind == "place"]
    assert places == ["Sheffield", "Toronto"]  # Mobile, Alabama is too small to be named without help


def test_one_word_names_join_the_only_full_person_name() -> None:
    res = resolve_corpus(
        {
            "a": [
                _m("Ahmed Mohamed", 0),
                _m("Ahmed", 20),
                _m("Lukaku", 30, "place"),
                _m("Romelu Lukaku", 40),
                _m("Jordan", 60, "place"),
                _m("Michael Jordan", 70),
            ]
        }
    )
    assert {e.name: e.kind for e in res.entities.values()} == {
        "Ahmed Mohamed": "person",
        "Romelu Lukaku": "person",
        "Michael Jordan": "person",
        "Jordan": "place",  # a country is never a person's name part
    }


def test_countries_with_scores_in_a_match_report_are_teams() -> None:
    body = (
        "Sweden defeated South Korea 1 – 0 in Nizhny Novgorod; Belgium beat debutants Panama 3 – 0. "
        "The coach praised the striker after the match, and the goalkeeper saved a penalty. "
        "Fans flew from Sweden and Belgium to Russia."
    )
    spans = [
        (m.start(), m.end(), "GPE")
        for m in re.finditer(r"Sweden|South Korea|Belgium|Panama|Russia|Nizhny Novgorod", body)
    ]
    found = {(m.text, m.kind, m.schema_type) for m in clean_mentions(body, spans)}
    assert ("Sweden", "organization", "SportsTeam") in found and ("Panama", "organization", "SportsTeam") in found
    assert ("Russia", "place", None) in found and ("Nizhny Novgorod", "place", None) in found  # no score, no result
    assert ("Sweden", "place", None) not in found  # the team everywhere in the article
    res = resolve_corpus({"a": clean_mentions(body, spans)})
    assert res.entities[("organization", "belgium")].schema_type == "SportsTeam"
    prose = "Sweden defeated the proposal; Belgium beat the deadline."
    assert {m.kind for m in clean_mentions(prose, [(0, 6, "GPE"), (30, 37, "GPE")])} == {"place"}  # no match report


def test_uk_nations_are_countries_in_the_gazetteer() -> None:
    res = resolve_corpus({"a": [_m("England", 0, "place"), _m("Wales", 20, "place")]})
    assert res.entities[("place", "england")].same_as == {"https://sws.geonames.org/6269131/"}
    assert res.entities[("place", "wales")].schema_type == "Country"


def test_the_corpus_majority_decides_a_names_kind() -> None:
    articles = {f"a{i}": [_m("Twitter", 0, "organization")] for i in range(4)}
    articles["b"] = [_m("Twitter", 0, "person")]
    articles["c"] = [_m("Jane Twitter", 0), _m("Twitter", 20, "organization")]  # joined the full name: stays a person
    res = resolve_corpus(articles)
    assert {m.entity for m in res.mentions["b"]} == {("organization", "twitter")}
    assert {m.entity for m in res.mentions["c"]} == {("person", "jane twitter")}
    split = resolve_corpus({"a": [_m("Mercury", 0, "place")], "b": [_m("Mercury", 0, "person")]})
    assert len(split.entities) == 2  # no clear majority: each article keeps the model's guess


def test_linked_mentions_are_kept_compactly_and_rebuilt_per_article() -> None:
    from kg.extract.resolve import LinkedMention, LinkedMentions

    linked = LinkedMentions()
    a = [
        LinkedMention(0, 9, "Rand Paul", ("person", "rand paul")),
        LinkedMention(20, 24, "Paul", ("person", "rand paul")),
    ]
    linked.add("a", a)
    linked.add("b", [])
    linked.add("c", [LinkedMention(3, 7, "Paul", ("person", "rand paul"))])
    assert list(linked) == ["a", "b", "c"] and len(linked) == 3
    assert linked["a"] == a and linked["b"] == [] and linked.get("z", []) == []
    assert linked.count() == 3
    linked.add("c", [])  # replaced
    assert linked.count() == 2


def test_resolving_can_consume_the_raw_mentions() -> None:
    from kg.extract.resolve import LinkedMention

    def corpus() -> dict[str, list[Mention]]:
        articles = {f"a{i}": [_m("Twitter", 0, "organization"), _m("Rand Paul", 10), _m("Paul", 30)] for i in range(4)}
        articles["b"] = [_m("Twitter", 0, "person"), _m("Texas", 20, "place")]
        articles["c"] = [_m("Paul", 0), _m("Moscow", 10, "place")]
        return articles

    kept = resolve_corpus(corpus())
    articles = corpus()
    consumed = resolve_corpus(articles, consume=True)
    assert articles == {}
    assert dict(consumed.mentions) == dict(kept.mentions) and consumed.entities == kept.entities
    assert consumed.mentions["c"][0] == LinkedMention(0, 4, "Paul", ("person", "rand paul"))
    assert [m.entity for m in consumed.mentions["b"]] == [("organization", "twitter"), ("place", "texas")]


def test_only_the_ner_component_runs(extractor) -> None:  # type: ignore[no-untyped-def]
    """kg reads nothing but the model's entities (and capitalisation): the tagger, parser and
    lemmatizer are removed, which halves the small English model's time."""
    assert extractor.nlp.pipe_names == ["ner"]


def test_ner_keeps_the_layer_it_listens_to() -> None:
    """A pipeline whose NER reads a shared tok2vec keeps that tok2vec (other models than the
    small English one are built that way); a pipeline without NER is refused by name."""
    import pytest
    import spacy

    from kg.extract.entities import ner_only

    nlp = spacy.blank("en")
    nlp.add_pipe("tok2vec")
    listener = {"@architectures": "spacy.Tok2VecListener.v1", "width": 96, "upstream": "tok2vec"}
    ner_model = {"@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "tok2vec": listener}
    nlp.add_pipe("ner", config={"model": ner_model}).add_label("PERSON")
    nlp.add_pipe("sentencizer")
    nlp.initialize()
    assert ner_only(nlp, "test").pipe_names == ["tok2vec", "ner"]
    with pytest.raises(RuntimeError, match="spaCy model 'blank' has no 'ner' component"):
        ner_only(spacy.blank("en"), "blank")


def test_capitalised_runs_of_uncommon_words_are_names() -> None:
    """Without a tagger, a name the model left out is a run of capitalised words that are not
    common words: "The", "I", "Many" or the "To The" of a title-case line are not part of one."""
    import spacy

    from kg.extract.entities import unlabelled_names

    text = (
        "The Shandao Station closed. I saw it.\nThe Toronto Star said the Bay Bridge Station was shut."
        "\nSubscribe To The Daily Star\nMany Toronto residents left."
    )
    found = [text[start:end] for start, end, _ in unlabelled_names(spacy.blank("en")(text))]
    assert found == ["Shandao Station", "Toronto Star", "Bay Bridge Station", "Daily Star", "Toronto"]


def test_whole_word_search_equals_the_regex_it_replaced() -> None:
    """_repeated finds a name's other places with str.find; what it finds must be exactly
    what the regex it replaced found, boundaries included (random bodies and names)."""
    import random

    from kg.extract.entities import _whole_word_places

    rng = random.Random(7)
    for _ in range(5000):
        body = "".join(rng.choice("ab a-.'_é1 \n") for _ in range(rng.randint(0, 30)))
        text = "".join(rng.choice("ab '.-") for _ in range(rng.randint(1, 4)))
        pattern = r"(?<![\w.-])" + re.escape(text) + r"(?![\w-]|'\w\w)"
        assert list(_whole_word_places(body, text)) == [m.start() for m in re.finditer(pattern, body)], (body, text)
