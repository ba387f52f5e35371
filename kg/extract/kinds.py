"""The entity kinds and the schema.org classes that refine them (one table, used by
resolution, mapping and evaluation)."""

from __future__ import annotations

KINDS = ("person", "organization", "place", "event")

#: schema.org class local name -> entity kind.
KIND_OF_SCHEMA_TYPE = {
    "Person": "person",
    "Organization": "organization",
    "NewsMediaOrganization": "organization",
    "GovernmentOrganization": "organization",
    "CollegeOrUniversity": "organization",
    "Corporation": "organization",
    "SportsTeam": "organization",
    "SportsOrganization": "organization",
    "NGO": "organization",
    "PoliticalParty": "organization",
    "EducationalOrganization": "organization",
    "Place": "place",
    "Country": "place",
    "State": "place",
    "City": "place",
    "Continent": "place",
    "AdministrativeArea": "place",
    "LandmarksOrHistoricalBuildings": "place",
    "CivicStructure": "place",
    "GovernmentBuilding": "place",
    "StadiumOrArena": "place",
    "Airport": "place",
    "Museum": "place",
    "PlaceOfWorship": "place",
    "Mosque": "place",
    "Church": "place",
    "Synagogue": "place",
    "EventVenue": "place",
    "Park": "place",
    "Bridge": "place",
    "Landform": "place",
    "BodyOfWater": "place",
    "RiverBodyOfWater": "place",
    "LakeBodyOfWater": "place",
    "SeaBodyOfWater": "place",
    "OceanBodyOfWater": "place",
    "Mountain": "place",
    "Event": "event",
    "SportsEvent": "event",
    "Festival": "event",
    "ExhibitionEvent": "event",
}

#: The generic class of each kind.
SCHEMA_TYPE_OF_KIND = {"person": "Person", "organization": "Organization", "place": "Place", "event": "Event"}
