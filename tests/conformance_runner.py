"""Reads the W3C SPARQL 1.1 Protocol manifest (HTTP vocabulary) into plain request/response
expectations, and runs one case against a live endpoint with http.client."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")


@dataclass
class Step:
    """One HTTP request and what its response must be."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: set[int]  # acceptable status classes: 2, 3, 4
    fmt: str | None
    boolean: bool | None

    @property
    def is_update(self) -> bool:
        """An update request: update= in a form or query string, a sparql-update body, or
        an update operation sent with the wrong media type."""
        content_type = self.headers.get("content-type", "")
        body = (self.body or b"").lstrip().upper()
        return (
            "sparql-update" in content_type
            or "update=" in self.path
            or body.startswith(b"UPDATE=")
            or body.startswith((b"CLEAR", b"INSERT", b"DELETE", b"DROP", b"LOAD", b"CREATE"))
        )


@dataclass
class Case:
    """One mf:ProtocolTest."""

    name: str
    label: str
    steps: list[Step]
    data: dict[str, Path] = field(default_factory=dict)  # graph name -> N-Triples file

    @property
    def category(self) -> str:
        if self.name.startswith("bad_update") or self.name.startswith("update"):
            return "update"
        return "bad query" if self.name.startswith("bad_") else "query"


def load_manifest(folder: Path) -> list[Case]:
    """Every entry of manifest.ttl, in manifest order."""
    graph = Graph().parse(folder / "manifest.ttl", format="turtle")
    manifest = next(graph.subjects(RDF.type, MF.Manifest))
    cases = []
    for entry in Collection(graph, graph.value(manifest, MF.entries)):
        assert isinstance(entry, URIRef)
        data = {}
        for graph_data in graph.objects(entry, UT.graphData):
            file = graph.value(graph_data, UT.graph)
            data[str(graph.value(graph_data, RDFS.label))] = folder / str(file).rsplit("/", 1)[-1]
        steps = []
        action = graph.value(entry, MF.action)
        for request in Collection(graph, graph.value(action, HT.requests)):
            headers = {}
            header_list = graph.value(request, HT.headers)
            if header_list is not None:
                for header in Collection(graph, header_list):
                    headers[str(graph.value(header, HT.fieldName))] = str(graph.value(header, HT.fieldValue))
            body = None
            body_node = graph.value(request, HT.body)
            if body_node is not None:
                encoding = str(graph.value(body_node, CNT.characterEncoding) or "UTF-8")
                body = str(graph.value(body_node, CNT.chars)).encode(encoding.lower())
            response = graph.value(request, HT.resp)
            statuses = {int(str(s).rsplit("StatusCode", 1)[-1][0]) for s in graph.objects(response, MF.expectedStatus)}
            fmt = graph.value(response, MF.expectedFormat)
            boolean = graph.value(response, MF.expectedBoolean)
            steps.append(
                Step(
                    method=str(graph.value(request, HT.methodName)),
                    path=str(graph.value(request, HT.absolutePath)),
                    headers=headers,
                    body=body,
                    statuses=statuses,
                    fmt=None if fmt is None else str(fmt),
                    boolean=None if boolean is None else bool(boolean.toPython()),
                )
            )
        cases.append(Case(entry.rsplit("#", 1)[-1], str(graph.value(entry, MF.name)), steps, data))
    return cases


def run_step(host: str, port: int, step: Step, endpoint: str = "/sparql") -> tuple[int, str, bytes]:
    """Send one request (the manifest's /sparql/ prefix mapped to endpoint)."""
    path = step.path
    if path.startswith("/sparql/"):
        path = (
            endpoint + path[len("/sparql/") :]
            if path[len("/sparql/") :].startswith("?") or path == "/sparql/"
            else endpoint + "/" + path[len("/sparql/") :]
        )
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        headers = dict(step.headers)
        if step.fmt in ("boolean", "tabular"):
            headers.setdefault("accept", "application/sparql-results+json")
        elif step.fmt == "RDF":
            headers.setdefault("accept", "text/turtle")
        connection.request(step.method, path, body=step.body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("content-type", ""), response.read()
    finally:
        connection.close()


def check(step: Step, status: int, content_type: str, body: bytes) -> str | None:
    """None when the response meets the expectation, else why not."""
    if status // 100 not in step.statuses:
        return f"status {status}, expected {sorted(step.statuses)}xx: {body[:200]!r}"
    if status // 100 != 2:
        return None
    if step.fmt in ("boolean", "tabular"):
        if not content_type.startswith("application/sparql-results+json"):
            return f"content type {content_type}"
        doc = json.loads(body)
        if step.fmt == "boolean" and "boolean" not in doc:
            return "no boolean in the result"
        if step.fmt == "tabular" and "results" not in doc:
            return "no result table"
        if step.boolean is not None and doc.get("boolean") != step.boolean:
            return f"boolean {doc.get('boolean')}, expected {step.boolean}"
    if step.fmt == "RDF":
        Graph().parse(data=body, format="turtle")
    return None
