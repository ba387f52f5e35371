"""Deterministic generator of realistic raw news pages for benchmarks.

Pages look like the seeds: headline, byline, date line, a body of 400-1,200 words whose
entities follow a Zipf distribution over pools of people, organisations and places, and
some web boilerplate. `python -m bench.generate N DIR` writes N pages into DIR.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path

FIRST = [
    "Anna",
    "Boris",
    "Carlos",
    "Diana",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jamal",
    "Karin",
    "Luis",
    "Maya",
    "Nikolai",
    "Olga",
    "Pavel",
    "Quinn",
    "Rosa",
    "Sergei",
    "Tomas",
]
LAST = [
    "Petrov",
    "Garcia",
    "Okafor",
    "Lindqvist",
    "Tanaka",
    "Moreau",
    "Schmidt",
    "Novak",
    "Haddad",
    "Kowalski",
    "Rossi",
    "Fischer",
    "Ivanova",
    "Mendes",
    "Costa",
    "Nakamura",
]
ORGS = [
    "Ministry of Finance",
    "National Bank",
    "Red Cross",
    "United Nations",
    "World Bank",
    "European Commission",
    "Cato Institute",
    "Interfax",
    "Reuters",
    "Federal Reserve",
    "Supreme Court",
    "Senate Foreign Relations Committee",
    "World Health Organization",
    "International Monetary Fund",
    "Greenpeace",
    "Amnesty International",
]
PLACES = [
    "Moscow",
    "Washington",
    "Berlin",
    "Paris",
    "Tokyo",
    "Nairobi",
    "Lima",
    "Cairo",
    "Helsinki",
    "Ukraine",
    "Syria",
    "Brazil",
    "Canada",
    "India",
    "Kentucky",
    "Texas",
]
VERBS = ["said", "announced", "warned", "argued", "confirmed", "denied", "suggested"]
FILLER = [
    "officials",
    "discussed",
    "the",
    "budget",
    "and",
    "the",
    "timetable",
    "for",
    "the",
    "talks",
    "while",
    "critics",
    "questioned",
    "the",
    "cost",
    "of",
    "the",
    "plan",
    "and",
    "its",
    "effect",
    "on",
    "trade",
    "and",
    "security",
    "in",
    "the",
    "region",
]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def _zipf(rng: random.Random, items: list[str], s: float = 1.1) -> str:
    weights = [1 / (rank**s) for rank in range(1, len(items) + 1)]
    return rng.choices(items, weights=weights)[0]


def page(index: int, seed: int = 42) -> str:
    """One deterministic raw page."""
    rng = random.Random(seed * 1_000_003 + index)
    people = [f"{first} {last}" for first in FIRST for last in LAST]
    rng.shuffle(people)
    day = dt.date(2018, 1, 1) + dt.timedelta(days=rng.randrange(1000))
    who, where, org = _zipf(rng, people), _zipf(rng, PLACES), _zipf(rng, ORGS)
    lines = [
        "ShareThis Page",
        f"{who} visits {where} as {org} weighs new measures |",
        "",
        f"{who} visits {where} as {org} weighs new measures",
        "",
        f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        "",
        f"{MONTHS[day.month - 1]} {day.day}, {day.year}",
        "",
    ]
    words = 0
    target = rng.randint(400, 1200)
    first = True
    while words < target:
        sentences = []
        for _ in range(rng.randint(2, 4)):
            person, place, orgn = _zipf(rng, people), _zipf(rng, PLACES), _zipf(rng, ORGS)
            filler = " ".join(rng.sample(FILLER, 8))
            sentences.append(f"{person} of the {orgn} {rng.choice(VERBS)} in {place} that {filler}.")
        paragraph = " ".join(sentences)
        if first:
            paragraph = f"{where.upper()} — " + paragraph
            first = False
        lines += [paragraph, ""]
        words += len(paragraph.split())
    lines += ["TribLIVE commenting policy", "", "You are solely responsible for your comments."]
    return "\n".join(lines)


def generate(count: int, out: Path, seed: int = 42) -> list[Path]:
    """Write count pages into out (created), named bench-000001.txt ..."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = out / f"bench-{i:06d}.txt"
        path.write_text(page(i, seed), encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("count", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    generate(args.count, args.out, args.seed)


if __name__ == "__main__":
    main()
