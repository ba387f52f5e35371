"""What the head word of a multi-word name says about the thing it names: "Volgograd
Arena" is a stadium (a place), "Taipei Lantern Festival" a festival (an event), "Edmonton
Sun" a newspaper, "Museum of Flight" a museum, whatever the NER model guessed.

The head is the last word, or the word before "of"/"for"/"on" ("University of Sheffield",
"Center for ...", "Council on ..."). One-word names have no head here: "Sun" or "Union"
alone say nothing. Words that are also common surnames ("Hall", "Park", "Street") only
correct organisation and place guesses, never a name the model tagged as a person
("John Hall")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.extract.kinds import KIND_OF_SCHEMA_TYPE


@dataclass(frozen=True)
class Head:
    """The schema.org class a head word implies, and whether it may overrule PERSON."""

    schema_type: str
    over_person: bool = True

    @property
    def kind(self) -> str:
        return KIND_OF_SCHEMA_TYPE[self.schema_type]


def _heads(schema_type: str, words: str, over_person: bool = True) -> dict[str, Head]:
    return {w: Head(schema_type, over_person) for w in words.split()}


#: Head word (case-folded) -> what it names.
HEADS: dict[str, Head] = {
    # places: buildings and structures
    **_heads("StadiumOrArena", "stadium arena velodrome"),
    **_heads("Airport", "airport airfield"),
    **_heads("Museum", "museum"),
    **_heads("Mosque", "mosque masjid"),
    **_heads("Church", "cathedral basilica chapel"),
    **_heads("Synagogue", "synagogue"),
    **_heads("PlaceOfWorship", "shrine"),
    **_heads("CivicStructure", "galleries station"),
    **_heads("CivicStructure", "hall", over_person=False),
    **_heads("Park", "park", over_person=False),
    **_heads("Bridge", "bridge", over_person=False),
    **_heads("LandmarksOrHistoricalBuildings", "palace memorial monument fortress"),
    **_heads("LandmarksOrHistoricalBuildings", "castle", over_person=False),
    **_heads("Place", "base prison square plaza", over_person=False),
    **_heads("Place", "street road avenue boulevard highway motorway strasse straße", over_person=False),
    # places: land and water
    **_heads("RiverBodyOfWater", "river"),
    **_heads("LakeBodyOfWater", "lake", over_person=False),
    **_heads("SeaBodyOfWater", "sea"),
    **_heads("OceanBodyOfWater", "ocean"),
    **_heads("Mountain", "mountain mountains volcano"),
    **_heads("Landform", "island islands peninsula desert valley canyon plains strait gulf"),
    **_heads("AdministrativeArea", "county province prefecture oblast governorate constituency"),
    # organisations
    **_heads("CollegeOrUniversity", "university college"),
    **_heads("EducationalOrganization", "academy school"),
    **_heads(
        "GovernmentOrganization",
        "ministry department agency bureau commission parliament senate congress police",
    ),
    **_heads("PoliticalParty", "party"),
    **_heads("Corporation", "corporation corp. inc. inc ltd ltd. plc llc gmbh airlines airways"),
    **_heads(
        "Organization",
        "foundation association society federation institute organisation organization council "
        "committee league club coalition alliance",
    ),
    **_heads("Organization", "union", over_person=False),
    **_heads(
        "NewsMediaOrganization",
        "times news herald gazette journal tribune chronicle telegraph guardian magazine broadcasting television radio",
    ),
    **_heads("NewsMediaOrganization", "post sun star observer press", over_person=False),
    # events
    **_heads("Festival", "festival carnival"),
    **_heads("ExhibitionEvent", "expo exposition exhibition fair"),
    **_heads("SportsEvent", "olympics olympiad championship championships cup games marathon tournament"),
    **_heads("Event", "summit election elections referendum war massacre bombing earthquake"),
}

#: Two-word heads that beat their last word ("Convention Centre" is a venue, not a
#: generic centre; "School District" is a public body, not a school).
_TWO_WORD_HEADS: dict[str, Head] = {
    "convention centre": Head("EventVenue"),
    "convention center": Head("EventVenue"),
    "space center": Head("Place"),
    "space centre": Head("Place"),
    "school district": Head("GovernmentOrganization"),
    "air force": Head("GovernmentOrganization"),
    "news agency": Head("NewsMediaOrganization"),
    "national park": Head("Park"),
    "world cup": Head("SportsEvent"),
}
_PREPOSITION = re.compile(r"\s(?:of|for|on)\s")
#: A final ordinal that is not the head ("World War II", "Apollo 11").
_NUMBERING = re.compile(r"^(?:[IVX]+|\d+)$")


def head_of(name: str) -> Head | None:
    """What a multi-word name's head word says it is, or None."""
    before = _PREPOSITION.split(name, maxsplit=1)[0]
    words = before.split()
    if len(words) > 2 and _NUMBERING.match(words[-1]):
        words.pop()
    if len(words) < 2 and before == name:
        return None
    last_two = " ".join(words[-2:]).casefold()
    if last_two in _TWO_WORD_HEADS:
        return _TWO_WORD_HEADS[last_two]
    if words[-1].casefold() == "centre" or words[-1].casefold() == "center":
        return None  # "Pew Research Center" is an organisation, "Udvar-Hazy Center" a place
    return HEADS.get(words[-1].casefold())


def kind_from_head(name: str, kind: str) -> str:
    """The kind a name's head word gives it, else the model's kind."""
    head = head_of(name)
    if head is None or (kind == "person" and not head.over_person):
        return kind
    return head.kind
