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
    "EducationalOrganization": "organization",
    "CollegeOrUniversity": "organization",
    "Corporation": "organization",
    "SportsTeam": "organization",
    "SportsOrganization": "organization",
    "NGO": "organization",
    "PoliticalParty": "organization",
    "Place": "place",
    "Country": "place",
    "State": "place",
    "City": "place",
    "Continent": "place",
    "AdministrativeArea": "place",
    "LandmarksOrHistoricalBuildings": "place",
    "CivicStructure": "place",
    "GovernmentBuilding": "place",
    "Event": "event",
    "SportsEvent": "event",
}

#: The generic class of each kind.
SCHEMA_TYPE_OF_KIND = {"person": "Person", "organization": "Organization", "place": "Place", "event": "Event"}
