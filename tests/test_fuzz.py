"""Fuzzing with hypothesis: the raw file reader and metadata extractor, and the SPARQL
endpoint's parameter handling. Whatever the input, the outcome is an article, a named
problem, or a 4xx answer: never an unexpected exception or a 5xx."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.extract.metadata import MetadataError, extract_metadata
from kg.sources import SourceError, read_source

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

#: Bytes that look like pages: text lines (any Unicode, any line ending) mixed with raw bytes.
_lines = st.lists(st.text(max_size=80), max_size=12).map(lambda lines: "\n".join(lines))
_page_bytes = st.one_of(
    st.binary(max_size=600),
    _lines.map(lambda t: t.encode("utf-8")),
    st.tuples(_lines, st.sampled_from(["utf-8", "utf-16", "utf-8-sig", "cp1252"])).map(
        lambda pair: pair[0].encode(pair[1], errors="replace")
    ),
    st.tuples(_lines, st.binary(max_size=40), _lines).map(lambda t: t[0].encode() + t[1] + t[2].encode()),
)


@FUZZ
@given(data=_page_bytes)
def test_reader_and_metadata_never_crash(tmp_path_factory: Any, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "page.txt"
    path.write_bytes(data)
    try:
        source = read_source(path)
    except SourceError as exc:
        assert exc.reason and str(path) in str(exc)
        return
    assert "\r" not in source.text and "\x00" not in source.text
    try:
        meta = extract_metadata(source.text)
    except MetadataError as exc:
        assert str(exc)
        return
    assert meta.headline and meta.headline == meta.headline.strip()
    assert meta.body


_names = st.sampled_from(["query", "default-graph-uri", "named-graph-uri", "format", "output", "update", "x", ""])
_values = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["ASK {}", "SELECT * { ?s ?p ?o } LIMIT 1", "json", "xml", "csv", "text/html", "urn:g"]),
)
_raw_pieces = st.sampled_from(["%", "%Z", "%ZZ", "%FF", "%C3%28", "%00", "&", "=", "+", ";", "%E2%82"])


@FUZZ
@given(
    params=st.lists(st.tuples(_names, _values), max_size=4),
    junk=st.lists(_raw_pieces, max_size=3),
    method=st.sampled_from(["GET", "POST-form", "POST-query"]),
    accept=st.sampled_from(["", "*/*", "text/html", "application/sparql-results+json", "text/csv", "x/y;q=bad"]),
)
def test_sparql_parameters_never_give_a_server_error(
    client: Any, params: list[tuple[str, str]], junk: list[str], method: str, accept: str
) -> None:
    encoded = "&".join(f"{quote(n, safe='')}={quote(v, safe='')}" for n, v in params) + "".join(junk)
    headers = {"Accept": accept} if accept else {}
    if method == "GET":
        response = client.get("/sparql?" + encoded, headers=headers)
    elif method == "POST-form":
        response = client.post(
            "/sparql",
            data=encoded.encode("ascii"),
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        )
    else:
        body = next((v for n, v in params if n == "query"), "")
        response = client.post(
            "/sparql", data=body.encode("utf-8"), headers={**headers, "Content-Type": "application/sparql-query"}
        )
    assert response.status_code < 500 or response.status_code == 503, response.get_data(as_text=True)[:300]
    assert b"Traceback" not in response.get_data()
