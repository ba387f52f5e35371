"""An authority file: known names and aliases of entities, their schema.org class, and
identifiers elsewhere on the web (schema:sameAs). CSV with a header row:

    name,type,aliases,same_as
    Vladimir Putin,Person,Putin|Vladimir V. Putin,https://www.wikidata.org/entity/Q7747

`aliases` and `same_as` hold several values separated by `|`. `type` is a schema.org class
local name (Person, GovernmentOrganization, City, ...)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from kg.extract.kinds import KIND_OF_SCHEMA_TYPE


class AuthorityError(ValueError):
    """The authority file cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class AuthorityEntry:
    """One known entity."""

    name: str
    schema_type: str
    aliases: tuple[str, ...] = ()
    same_as: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return KIND_OF_SCHEMA_TYPE[self.schema_type]


@dataclass
class Authority:
    """Entries by (kind, case-folded name or alias)."""

    entries: list[AuthorityEntry] = field(default_factory=list)
    _by_name: dict[tuple[str, str], AuthorityEntry] = field(default_factory=dict)
    _any_kind: dict[str, list[AuthorityEntry]] = field(default_factory=dict)

    def add(self, entry: AuthorityEntry) -> None:
        self.entries.append(entry)
        for written in (entry.name, *entry.aliases):
            self._by_name[(entry.kind, written.casefold())] = entry
            self._any_kind.setdefault(written.casefold(), []).append(entry)

    def find(self, kind: str, name: str) -> AuthorityEntry | None:
        """The entry for this kind and name or alias."""
        return self._by_name.get((kind, name.casefold()))

    def find_any(self, name: str) -> AuthorityEntry | None:
        """The only entry of any kind with this name or alias (None if none or several)."""
        found = self._any_kind.get(name.casefold(), [])
        return found[0] if len({e.name for e in found}) == 1 else None


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split("|") if v.strip())


def load_authority(path: Path | None) -> Authority:
    """Read the CSV authority file (an absent path or file gives an empty authority)."""
    authority = Authority()
    if path is None or not path.is_file():
        return authority
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"name", "type"} - set(reader.fieldnames or [])
        if missing:
            raise AuthorityError(f"{path}: line 1: missing column(s) {', '.join(sorted(missing))}")
        for row in reader:
            line = reader.line_num
            name, schema_type = (row.get("name") or "").strip(), (row.get("type") or "").strip()
            if not name:
                raise AuthorityError(f"{path}: line {line}: empty name")
            if schema_type not in KIND_OF_SCHEMA_TYPE:
                known = ", ".join(sorted(KIND_OF_SCHEMA_TYPE))
                raise AuthorityError(f"{path}: line {line}: unknown type {schema_type!r} (one of {known})")
            same_as = _split(row.get("same_as"))
            bad = [iri for iri in same_as if not iri.startswith(("http://", "https://"))]
            if bad:
                raise AuthorityError(f"{path}: line {line}: same_as must be http(s) IRIs, not {bad[0]!r}")
            authority.add(AuthorityEntry(name, schema_type, _split(row.get("aliases")), same_as))
    return authority
