"""A remote SPARQL 1.1 store: the build loads each named graph with the Graph Store
Protocol (HTTP PUT replaces the graph, so a rebuild is idempotent) or, without a GSP URL,
with SPARQL Update; the web app and the CLI query it over the SPARQL 1.1 Protocol.

The endpoint's default graph must be the union of its named graphs, as kg's embedded store
has it: Oxigraph `serve --union-default-graph`, Fuseki with `tdb2:unionDefaultGraph true`,
Virtuoso and QLever by default. Only the standard library speaks HTTP here."""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pyoxigraph as ox

from kg.namespaces import PREFIXES

#: What queries ask for: SELECT/ASK results as JSON, CONSTRUCT/DESCRIBE as N-Triples.
ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"
_TERM = ox.NamedNode | ox.BlankNode | ox.Literal


class RemoteStoreError(Exception):
    """The remote store refused a request, could not be reached or did not answer in time
    (timed_out); str() names the URL."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class _Http:
    """One kept-alive connection per thread to one host (a build sends thousands of PUTs)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._local = threading.local()

    def request(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, str, bytes]:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RemoteStoreError(f"{url}: not an http(s) URL")
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        for attempt in (1, 2):  # a kept-alive connection the server has closed fails once
            conn = self._connection(parts)
            try:
                conn.request(method, target, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                return response.status, response.getheader("Content-Type") or "", data
            except (http.client.HTTPException, OSError) as exc:
                conn.close()
                self._local.connections.pop((parts.scheme, parts.netloc), None)
                timed_out = isinstance(exc, TimeoutError)
                if attempt == 2 or timed_out:
                    reason = "no answer in time" if timed_out else str(exc) or type(exc).__name__
                    raise RemoteStoreError(f"{method} {url}: {reason}", timed_out=timed_out) from exc
        raise AssertionError("unreachable")

    def _connection(self, parts: urllib.parse.SplitResult) -> http.client.HTTPConnection:
        connections: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__.setdefault(
            "connections", {}
        )
        key = (parts.scheme, parts.netloc)
        if key not in connections:
            factory = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            connections[key] = factory(parts.netloc, timeout=self.timeout)
        return connections[key]


def _prologue(base_iri: str | None) -> str:
    """kg's predeclared prefixes (and base) as SPARQL; a query may redeclare any of them."""
    lines = [f"BASE <{base_iri}>"] if base_iri else []
    lines += [f"PREFIX {name}: <{iri}>" for name, iri in sorted(PREFIXES.items())]
    return "\n".join(lines) + "\n"


def _term(term: object | None, variable: str) -> str:
    return f"?{variable}" if term is None else str(term)


class SparqlStore:
    """A SPARQL 1.1 endpoint (query, optional update) and Graph Store Protocol service."""

    def __init__(
        self,
        endpoint: str,
        *,
        update_endpoint: str = "",
        gsp: str = "",
        timeout: float = 60.0,
    ) -> None:
        if not endpoint:
            raise RemoteStoreError("no SPARQL endpoint URL (setting sparql_endpoint, flag --endpoint)")
        self.endpoint = endpoint
        self.update_endpoint = update_endpoint
        self.gsp = gsp
        self.path = None  # not on this machine: /sparql queries go straight to the endpoint
        self._http = _Http(timeout)

    # --- reading ------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        default_graph: Sequence[ox.NamedNode] | None = None,
        named_graphs: Sequence[ox.NamedNode] | None = None,
        base_iri: str | None = None,
        dataset_in_query: bool = False,
    ) -> Any:
        """Send the query (kg's prefixes prepended) by POST; SELECT/ASK come back as
        pyoxigraph QuerySolutions/QueryBoolean, CONSTRUCT/DESCRIBE as a list of triples.
        A query the endpoint rejects raises SyntaxError with its message (a 400)."""
        form: list[tuple[str, str]] = [("query", _prologue(base_iri) + sparql)]
        form += [("default-graph-uri", g.value) for g in default_graph or ()]
        form += [("named-graph-uri", g.value) for g in named_graphs or ()]
        status, media_type, data = self._http.request(
            "POST",
            self.endpoint,
            urllib.parse.urlencode(form).encode("utf-8"),
            {"Content-Type": "application/x-www-form-urlencoded", "Accept": ACCEPT},
        )
        if status == 400:
            raise SyntaxError(data.decode("utf-8", errors="replace").strip()[:2000])
        if status != 200:
            raise RemoteStoreError(f"{self.endpoint} answered {status}: {data[:500].decode('utf-8', 'replace')}")
        kind = media_type.split(";")[0].strip().lower()
        if kind == "application/sparql-results+json":
            return ox.parse_query_results(data, format=ox.QueryResultsFormat.JSON)
        if kind in ("application/n-triples", "text/plain"):
            return list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
        raise RemoteStoreError(f"{self.endpoint} answered with {kind or 'no media type'}, not JSON or N-Triples")

    def match(
        self,
        subject: ox.NamedNode | ox.BlankNode | None = None,
        predicate: ox.NamedNode | None = None,
        obj: _TERM | None = None,
        graph: ox.NamedNode | None = None,
    ) -> Iterator[ox.Quad]:
        """Quads matching the pattern, over the endpoint's named graphs."""
        where = f"GRAPH {_term(graph, 'g')} {{ {_term(subject, 's')} {_term(predicate, 'p')} {_term(obj, 'o')} }}"
        for row in self.query(f"SELECT * WHERE {{ {where} }}"):
            yield ox.Quad(
                subject if subject is not None else row["s"],
                predicate if predicate is not None else row["p"],
                obj if obj is not None else row["o"],
                graph if graph is not None else row["g"],
            )

    def match_many(
        self, subjects: Iterable[ox.NamedNode], predicates: Sequence[ox.NamedNode] | None = None
    ) -> list[ox.Quad]:
        """Quads whose subject (and predicate, unless None) are among the given ones, over
        the endpoint's named graphs (a query per 200 subjects)."""
        subjects = sorted(set(subjects), key=str)
        wanted = "" if predicates is None else f"VALUES ?p {{ {' '.join(str(p) for p in predicates)} }}"
        out: list[ox.Quad] = []
        for i in range(0, len(subjects), 200):
            values = " ".join(str(s) for s in subjects[i : i + 200])
            query = f"SELECT * WHERE {{ VALUES ?s {{ {values} }} {wanted} GRAPH ?g {{ ?s ?p ?o }} }}"
            rows = [ox.Quad(row["s"], row["p"], row["o"], row["g"]) for row in self.query(query)]
            out += sorted(rows, key=lambda q: str(q.subject))  # grouped by subject, as the subjects are
        return out

    def named_graphs(self) -> list[ox.NamedNode]:
        rows = self.query("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
        return [row["g"] for row in rows if isinstance(row["g"], ox.NamedNode)]

    def __len__(self) -> int:
        rows = list(self.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"))
        return int(rows[0]["n"].value) if rows else 0

    # --- writing ------------------------------------------------------------------------

    def load(self, quads: Iterable[ox.Quad]) -> None:
        """Replace each named graph the quads name by exactly those quads."""
        self.replace_graphs(quads, keep=lambda graph: True)

    def replace_graphs(self, quads: Iterable[ox.Quad], *, keep: Any) -> list[str]:
        """Put each named graph of quads (replacing what the store had under that name),
        then drop the store's other graphs for which keep(iri) is false (a deleted raw
        file's graph). Returns the IRIs of the dropped graphs."""
        graphs: dict[str, list[ox.Triple]] = defaultdict(list)
        for q in quads:
            name = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else ""
            graphs[name].append(ox.Triple(q.subject, q.predicate, q.object))
        for name in sorted(graphs):
            self._put_graph(name, graphs[name])
        stale = sorted(g.value for g in self.named_graphs() if g.value not in graphs and not keep(g.value))
        for name in stale:
            self._drop_graph(name)
        return stale

    def _put_graph(self, name: str, triples: list[ox.Triple]) -> None:
        data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        if self.gsp:
            target = f"{self.gsp}?{urllib.parse.urlencode({'graph': name}) if name else 'default'}"
            self._expect_ok("PUT", target, data, {"Content-Type": "application/n-triples"})
            return
        graph = f"GRAPH <{name}>" if name else "DEFAULT"
        inside = f"GRAPH <{name}> {{ {data.decode('utf-8')} }}" if name else data.decode("utf-8")
        self._update(f"DROP SILENT {graph} ;\nINSERT DATA {{ {inside} }}")

    def _drop_graph(self, name: str) -> None:
        if self.gsp:
            target = f"{self.gsp}?{urllib.parse.urlencode({'graph': name})}"
            status, _, data = self._http.request("DELETE", target, None, {})
            if status not in (200, 204, 404):
                raise RemoteStoreError(f"DELETE {target} answered {status}: {data[:300].decode('utf-8', 'replace')}")
            return
        self._update(f"DROP SILENT GRAPH <{name}>")

    def _update(self, update: str) -> None:
        if not self.update_endpoint:
            raise RemoteStoreError(
                f"{self.endpoint}: loading needs a Graph Store Protocol URL (--gsp) or an update endpoint "
                "(--update-endpoint)"
            )
        body = urllib.parse.urlencode({"update": update}).encode("utf-8")
        self._expect_ok("POST", self.update_endpoint, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def _expect_ok(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> None:
        status, _, data = self._http.request(method, url, body, headers)
        if status not in (200, 201, 204):
            raise RemoteStoreError(f"{method} {url} answered {status}: {data[:300].decode('utf-8', 'replace')}")

    def close(self) -> None:
        """Nothing is held open but idle HTTP connections."""
