"""The in-memory cache of rendered pages and RDF twins (kg.web.response_cache): the same
answers as rendering afresh, one cache per build, bounded, and expiring with a remote store."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Response

from kg.settings import Settings, SettingsError, load_settings
from kg.web.app import create_app
from kg.web.caching import GZIP_MIN_BYTES
from kg.web.response_cache import ENTRY_OVERHEAD, ResponseCache
from kg.web.site import Site
from tests.conftest import Clock

PERSON = "/person/rand-paul"
KEY = "000_45883e71d61e1347"


def _site(app: Any) -> Site:
    site = app.extensions["kg"].current()
    assert isinstance(site, Site)
    return site


def _ok(body: bytes) -> Response:
    return Response(body, mimetype="text/plain")


def _headers(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k != "Date"}


def test_least_recently_used_goes_first_and_the_budget_holds() -> None:
    probe = ResponseCache(max_bytes=10**6).put(("a", ""), _ok(b"x" * 1000))
    assert probe is not None
    one = probe.size  # the same for every entry below: same body, headers and key length
    cache = ResponseCache(max_bytes=4 * one)
    for name in "abcd":
        assert cache.put((name, ""), _ok(b"x" * 1000)) is not None
    assert cache.get(("a", "")) is not None  # a is now the most recently used
    cache.put(("e", ""), _ok(b"x" * 1000))
    assert cache.get(("b", "")) is None  # the least recently used went
    assert all(cache.get((n, "")) is not None for n in "acde")
    assert len(cache) == 4 and cache.used == 4 * one <= cache.max_bytes


def test_what_is_not_kept() -> None:
    cache = ResponseCache(max_bytes=40_000)
    assert cache.put(("big", ""), _ok(b"x" * 10_001)) is None  # over a quarter of the budget
    assert cache.put(("missing", ""), Response(b"no", status=404)) is None
    assert cache.put(("streamed", ""), Response(iter([b"a", b"b"]))) is None
    assert len(cache) == 0 and cache.used == 0
    off = ResponseCache(max_bytes=0)
    assert not off.enabled and off.put(("a", ""), _ok(b"x")) is None


def test_the_key_and_headers_count_against_the_budget() -> None:
    """A GET query may be 100,000 characters: kept answers to such URLs count them."""
    cache = ResponseCache(max_bytes=10**6)
    entry = cache.put(("/sparql?query=" + "x" * 100_000, "*/*"), _ok(b"yes"))
    assert entry is not None
    headers = sum(len(k) + len(v) for k, v in entry.headers.items())
    assert entry.size == 3 + len("/sparql?query=") + 100_000 + 3 + headers + ENTRY_OVERHEAD
    for n in range(20):  # 20 such answers do not fit in 1 MB
        cache.put((f"/sparql?query={n}" + "x" * 100_000, "*/*"), _ok(b"yes"))
    assert cache.used <= 10**6 and len(cache) < 10


def test_a_gzipped_body_counts_against_the_budget() -> None:
    cache = ResponseCache(max_bytes=100_000)
    entry = cache.put(("a", ""), _ok(b"abc" * 1000))
    assert entry is not None
    before = entry.size
    zipped = cache.gzip(entry, lambda body: gzip.compress(body, mtime=0))
    assert cache.used == entry.size == before + len(zipped)
    assert cache.gzip(entry, lambda body: b"never called") is zipped
    gone = ResponseCache(max_bytes=100_000)
    dropped = gone.put(("b", ""), _ok(b"abc" * 1000))
    assert dropped is not None
    gone._drop(("b", ""))
    gone.gzip(dropped, lambda body: b"zz")
    assert gone.used == 0  # an entry no longer kept is not counted


def test_entries_expire_after_the_ttl_when_there_is_one() -> None:
    clock = Clock()
    cache = ResponseCache(max_bytes=100_000, ttl=60.0, clock=clock)
    cache.put(("a", ""), _ok(b"one"))
    clock.now += 60.0
    assert cache.get(("a", "")) is not None
    clock.now += 0.5
    assert cache.get(("a", "")) is None and len(cache) == 0 and cache.used == 0
    forever = ResponseCache(max_bytes=100_000, clock=clock)
    forever.put(("a", ""), _ok(b"one"))
    clock.now = 1e9
    assert forever.get(("a", "")) is not None


#: A page, twins in three syntaxes, the home page and the dataset description.
PAGE_KINDS = [
    (PERSON, "text/html"),
    (PERSON, "text/turtle"),
    (PERSON + ".jsonld", "*/*"),
    (f"/article/{KEY}", "application/n-quads"),
    ("/", "text/html"),
    ("/dataset?format=ttl", "*/*"),
]


@pytest.mark.parametrize(("path", "accept"), PAGE_KINDS)
def test_a_kept_answer_is_the_rendered_one(app: Any, path: str, accept: str) -> None:
    """The second request is answered from the cache, with the same status, headers and body
    as the first (and as a server without the cache)."""
    client = app.test_client()
    cache = _site(app).responses
    first = client.get(path, headers={"Accept": accept})
    assert first.status_code == 200 and cache.misses == 1 and len(cache) == 1
    second = client.get(path, headers={"Accept": accept})
    assert cache.hits == 1
    assert second.status_code == 200 and second.get_data() == first.get_data()
    assert _headers(second) == _headers(first)
    uncached = create_app(Settings(out_dir=_site(app).out_dir, response_cache_mb=0)).test_client()
    fresh = uncached.get(path, headers={"Accept": accept})
    assert fresh.get_data() == first.get_data() and _headers(fresh) == _headers(first)
    assert "Date" in second.headers  # the time of this answer, not of the kept one


def test_each_representation_and_query_has_its_own_entry(client: Any, app: Any) -> None:
    html = client.get(PERSON, headers={"Accept": "text/html"})
    turtle = client.get(PERSON, headers={"Accept": "text/turtle"})
    page2 = client.get(PERSON + "?page=2", headers={"Accept": "text/html"})
    assert html.mimetype == "text/html" and turtle.mimetype == "text/turtle"
    assert page2.status_code == 404  # rand-paul is in two articles: one page
    assert len(_site(app).responses) == 2  # the 404 is not kept
    again = client.get(PERSON, headers={"Accept": "text/turtle"})
    assert again.get_data() == turtle.get_data()


def test_the_mount_point_is_part_of_the_key(client: Any) -> None:
    """Links on a page carry the mount point (SCRIPT_NAME), so a page rendered for one mount
    point is never served for another."""
    plain = client.get(PERSON, headers={"Accept": "text/html"}).get_data(as_text=True)
    mounted = client.get(PERSON, headers={"Accept": "text/html"}, environ_overrides={"SCRIPT_NAME": "/kg"})
    assert f'href="/article/{KEY}"' in plain
    assert f'href="/kg/article/{KEY}"' in mounted.get_data(as_text=True)


def test_a_kept_answer_still_gets_304_and_gzip(client: Any, app: Any) -> None:
    client.get(PERSON, headers={"Accept": "text/html"})
    plain = client.get(PERSON, headers={"Accept": "text/html"})
    assert _site(app).responses.hits == 1
    etag = plain.headers["ETag"]
    unchanged = client.get(PERSON, headers={"Accept": "text/html", "If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    packed = client.get(PERSON, headers={"Accept": "text/html", "Accept-Encoding": "gzip"})
    again = client.get(PERSON, headers={"Accept": "text/html", "Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == again.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()) == plain.get_data() == gzip.decompress(again.get_data())
    assert packed.headers["ETag"] == etag and int(packed.headers["Content-Length"]) == len(packed.get_data())
    cache = _site(app).responses
    (entry,) = [cache.get(key) for key in list(cache._entries)]
    assert entry is not None and cache.used == entry.size
    assert entry.size > len(entry.body) + len(packed.get_data()) + ENTRY_OVERHEAD


def test_head_is_answered_from_the_cache_without_a_body(client: Any) -> None:
    get = client.get(PERSON, headers={"Accept": "text/turtle"})
    head = client.head(PERSON, headers={"Accept": "text/turtle"})
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    assert head.headers["ETag"] == get.headers["ETag"]


def test_off_keeps_nothing(settings: Settings) -> None:
    app = create_app(settings.replace(response_cache_mb=0))
    client = app.test_client()
    for _ in range(2):
        assert client.get(PERSON).status_code == 200
    cache = _site(app).responses
    assert not cache.enabled and len(cache) == 0 and cache.hits == 0


def test_the_setting(tmp_path: Path) -> None:
    assert Settings().response_cache_mb == 64
    assert load_settings(environ={"KG_RESPONSE_CACHE_MB": "8"}).response_cache_mb == 8
    with pytest.raises(SettingsError, match="response_cache_mb.*must be 0 \\(off\\) or more, not -1"):
        load_settings(environ={"KG_RESPONSE_CACHE_MB": "-1"})


def _publish_a_new_build(out: Path) -> None:
    """Publish a "new build" into out as kg build does: the same files in a new directory (a
    new inode), finished in 2030."""
    staged = out.with_name("staged")
    shutil.copytree(out, staged)
    build_json = staged / "build.json"
    build_json.write_text(build_json.read_text().replace('"finished": "', '"finished": "2030-01-01T00:00:00Z", "x": "'))
    os.rename(out, out.with_name("old"))
    os.rename(staged, out)


def test_a_new_build_starts_an_empty_cache(out_copy: Path, settings: Settings) -> None:
    """A build published into the served folder gets a new Site and so a new cache: nothing
    rendered from the old build is served after the switch."""
    app = create_app(settings.replace(out_dir=out_copy))
    client = app.test_client()
    before = client.get("/dataset", headers={"Accept": "text/turtle"}).get_data(as_text=True)
    assert client.get("/dataset", headers={"Accept": "text/turtle"}).get_data(as_text=True) == before
    old = _site(app)
    assert old.responses.hits == 1
    _publish_a_new_build(out_copy)
    after = client.get("/dataset", headers={"Accept": "text/turtle"})
    new = _site(app)
    assert new is not old and new.responses is not old.responses
    assert new.responses.misses == 1 and new.responses.hits == 0
    assert after.headers["Last-Modified"] == "Tue, 01 Jan 2030 00:00:00 GMT"


def test_a_request_is_served_from_one_build_looked_up_once(
    out_copy: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The served folder is looked at once per request (each look is a system call), and a
    build published while a request runs is the next request's: the request keeps its own."""
    from kg.web.site import LiveSite, current_site

    looks: list[object] = []
    stat = LiveSite._stat
    monkeypatch.setattr(LiveSite, "_stat", lambda self: looks.append(self) or stat(self))
    app = create_app(settings.replace(out_dir=out_copy, response_cache_mb=0))
    client = app.test_client()
    for path, accept in [("/sparql?query=ASK%7B%7D", "application/sparql-results+json"), ("/", "text/html")]:
        looks.clear()
        assert client.get(path, headers={"Accept": accept}).status_code == 200
        assert len(looks) == 1, path
    with app.test_request_context("/"):
        during = current_site()
        _publish_a_new_build(out_copy)
        assert current_site() is during
    assert client.get("/dataset", headers={"Accept": "text/turtle"}).headers["Last-Modified"] == (
        "Tue, 01 Jan 2030 00:00:00 GMT"
    )
    assert _site(app) is not during


SELECT_NAMES = "SELECT ?name WHERE { ?e a schema:Person ; schema:name ?name } ORDER BY ?name"


def _sparql(client: Any, query: str, accept: str = "application/sparql-results+json", **kw: Any) -> Any:
    return client.get("/sparql", query_string={"query": query}, headers={"Accept": accept}, **kw)


def test_sparql_answers_to_get_are_kept(app: Any, client: Any) -> None:
    cache = _site(app).responses
    first = _sparql(client, SELECT_NAMES)
    second = _sparql(client, SELECT_NAMES)
    assert first.status_code == second.status_code == 200 and cache.hits == 1
    assert second.get_data() == first.get_data() and _headers(second) == _headers(first)
    other_format = _sparql(client, SELECT_NAMES, "text/csv")
    assert other_format.mimetype == "text/csv" and cache.hits == 1  # its own entry
    posted = client.post("/sparql", data={"query": SELECT_NAMES}, headers={"Accept": "application/sparql-results+json"})
    assert posted.get_data() == first.get_data() and cache.hits == 1 and len(cache) == 2  # POST: never kept


@pytest.mark.parametrize(
    ("query", "kept"),
    [
        ("SELECT (NOW() AS ?t) WHERE {}", False),
        ("SELECT (RAND() AS ?r) WHERE {}", False),
        ("SELECT (uuid() AS ?u) WHERE {}", False),
        ("SELECT (STRUUID() AS ?u) WHERE {}", False),
        ("CONSTRUCT { ?s schema:x ?b } WHERE { ?s schema:name ?n BIND(BNODE() AS ?b) } LIMIT 1", False),
        ("SELECT ?now WHERE { BIND(1 AS ?now) }", True),  # a variable, not the function
        ('SELECT ?n WHERE { ?e schema:name ?n FILTER(?n != "NOW() RAND()") } LIMIT 1', True),  # in a literal
        ("SELECT ?s WHERE { ?s <http://example.org/now> ?o } LIMIT 1", True),  # in an IRI
    ],
)
def test_sparql_answers_that_may_change_are_not_kept(app: Any, client: Any, query: str, kept: bool) -> None:
    accept = "text/turtle" if query.startswith("CONSTRUCT") else "application/sparql-results+json"
    assert _sparql(client, query, accept).status_code == 200
    assert len(_site(app).responses) == (1 if kept else 0)


def test_a_kept_sparql_answer_costs_no_query_budget(settings: Settings) -> None:
    app = create_app(settings.replace(client_query_seconds=1e-9))  # one query spends the minute's budget
    client = app.test_client()
    first = _sparql(client, SELECT_NAMES)
    assert first.status_code == 200
    assert _sparql(client, "ASK { ?s ?p ?o }").status_code == 429
    again = _sparql(client, SELECT_NAMES)
    assert again.status_code == 200 and again.get_data() == first.get_data()


def test_the_host_is_part_of_the_key(client: Any) -> None:
    """The service description names the endpoint by the URL it was asked at."""
    one = client.get("/sparql", headers={"Accept": "text/turtle", "Host": "one.example"}).get_data(as_text=True)
    two = client.get("/sparql", headers={"Accept": "text/turtle", "Host": "two.example"}).get_data(as_text=True)
    assert "<http://one.example/sparql>" in one and "<http://two.example/sparql>" in two


def test_same_answer_every_time() -> None:
    from kg.query import same_answer_every_time

    assert same_answer_every_time("SELECT * WHERE { ?s ?p ?o }")
    assert same_answer_every_time("SELECT ?rand WHERE { ?s <urn:uuid> ?rand } # NOW()")
    assert not same_answer_every_time("SELECT * WHERE { SERVICE <http://x/sparql> { ?s ?p ?o } }")
    assert not same_answer_every_time("SELECT (now() AS ?t) {}")


def test_health_says_how_full_the_cache_is(client: Any) -> None:
    client.get(PERSON, headers={"Accept": "text/turtle"})
    client.get(PERSON, headers={"Accept": "text/turtle"})
    kept = client.get("/health").get_json()["kept"]
    assert kept["answers"] == 1 and kept["hits"] == 1 and kept["misses"] == 1
    assert 0 < kept["bytes"] < kept["max_bytes"] == 64 * 2**20


# The WSGI fast path (KeptAnswers): a kept answer that went out through Flask once goes out
# again without Flask; what it sends is what Flask sent.

ALL_KINDS = [*PAGE_KINDS, ("/sparql?query=" + SELECT_NAMES.replace(" ", "+"), "application/sparql-results+json")]


def _flask_calls(app: Any) -> list[str]:
    """A list that gets the path of every request Flask itself handles."""
    from flask import request

    calls: list[str] = []
    app.before_request(lambda: calls.append(request.path) and None)
    return calls


@pytest.mark.parametrize(("path", "accept"), ALL_KINDS)
@pytest.mark.parametrize("encoding", ["", "gzip"])
def test_a_kept_answer_goes_out_without_flask_as_flask_sent_it(
    settings: Settings, path: str, accept: str, encoding: str
) -> None:
    app = create_app(settings)
    calls = _flask_calls(app)
    client = app.test_client()
    headers = {"Accept": accept, "Accept-Encoding": encoding}
    first = client.get(path, headers=headers)  # made by Flask, kept, and how it went out noted
    second = client.get(path, headers=headers)
    third = client.get(path, headers=headers)
    head = client.head(path, headers=headers)
    assert len(calls) == 1  # none of these reached Flask
    # Flask's way for the same answer: a validator that does not match still gets the 200.
    through_flask = client.get(path, headers={**headers, "If-None-Match": '"not-this-one"'})
    assert len(calls) == 2
    for response in (second, third, through_flask):
        assert response.status_code == 200
        assert response.get_data() == first.get_data()
        assert _headers(response) == _headers(first)
    assert "Date" in third.headers
    assert head.status_code == 200 and head.get_data() == b"" and _headers(head) == _headers(first)
    zipped = first.headers.get("Content-Encoding") == "gzip"
    body = gzip.decompress(first.get_data()) if zipped else first.get_data()
    assert zipped == (encoding == "gzip" and len(body) >= GZIP_MIN_BYTES)  # small ones go as they are
    cache = _site(app).responses
    assert cache.hits == 4  # second, third, HEAD and the conditional one
    (entry,) = cache._entries.values()
    assert set(entry.sent) == {encoding == "gzip"}  # how it went out, for this encoding
    assert cache.used == entry.size  # counted against the budget


def test_what_the_fast_path_leaves_to_flask(settings: Settings) -> None:
    app = create_app(settings)
    calls = _flask_calls(app)
    client = app.test_client()
    turtle = {"Accept": "text/turtle"}
    for _ in range(3):
        client.get(PERSON, headers=turtle)
    assert len(calls) == 1
    etag = client.get(PERSON, headers=turtle).headers["ETag"]
    assert len(calls) == 1
    unchanged = client.get(PERSON, headers={**turtle, "If-None-Match": etag})
    assert unchanged.status_code == 304 and len(calls) == 2
    since = client.get(PERSON, headers={**turtle, "If-Modified-Since": "Sun, 06 Dec 2099 00:00:00 GMT"})
    assert since.status_code == 304 and len(calls) == 3
    ranged = client.get(PERSON, headers={**turtle, "Range": "bytes=0-9"})
    assert ranged.status_code == 200 and len(calls) == 4  # Range on a generated answer: ignored, as before
    posted = client.post("/sparql", data={"query": SELECT_NAMES})
    client.post("/sparql", data={"query": SELECT_NAMES})
    assert posted.status_code == 200 and len(calls) == 6
    other = client.get(PERSON, headers={"Accept": "text/turtle", "Host": "other.example"})
    assert other.status_code == 200 and len(calls) == 7  # another host: another answer
    client.get("/health")
    client.get("/health")
    assert len(calls) == 9  # never kept


def test_the_fast_path_serves_the_build_being_served(out_copy: Path, settings: Settings) -> None:
    """After a new build is published, kept answers of the old one are not served."""
    app = create_app(settings.replace(out_dir=out_copy))
    calls = _flask_calls(app)
    client = app.test_client()
    for _ in range(3):
        client.get("/dataset", headers={"Accept": "text/turtle"})
    assert len(calls) == 1
    _publish_a_new_build(out_copy)
    after = client.get("/dataset", headers={"Accept": "text/turtle"})
    assert len(calls) == 2 and after.headers["Last-Modified"] == "Tue, 01 Jan 2030 00:00:00 GMT"


def test_the_access_log(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    """One line per request, from Flask or from memory; none with access_log off."""
    caplog.set_level("INFO", logger="kg.web")
    client = create_app(settings).test_client()
    for _ in range(3):
        client.get(PERSON + "?x=1", headers={"Accept": "text/turtle"})
    lines = [r.getMessage() for r in caplog.records if r.name == "kg.web"]
    assert len(lines) == 3 and lines[0].startswith("GET /person/rand-paul?x=1 200 ") and lines[0].endswith("ms")
    assert lines[2] == "GET /person/rand-paul?x=1 200 kept"
    caplog.clear()
    quiet = create_app(settings.replace(access_log=False)).test_client()
    for _ in range(3):
        assert quiet.get(PERSON, headers={"Accept": "text/turtle"}).status_code == 200
    assert quiet.get("/no/such/thing").status_code == 404
    assert not [r for r in caplog.records if r.name == "kg.web"]


def test_the_access_log_setting() -> None:
    assert Settings().access_log is True
    assert load_settings(environ={"KG_ACCESS_LOG": "false"}).access_log is False
    with pytest.raises(SettingsError, match="access_log.*expected true or false"):
        load_settings(environ={"KG_ACCESS_LOG": "sometimes"})


def test_the_fast_path_keeps_to_the_ttl() -> None:
    """With a remote store an answer lives at most the TTL, below Flask as well."""
    from kg.web.response_cache import KeptAnswers, request_key

    clock = Clock()
    cache = ResponseCache(max_bytes=100_000, ttl=60.0, clock=clock)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/x", "HTTP_HOST": "h", "HTTP_ACCEPT": "text/plain"}
    entry = cache.put(request_key(environ), _ok(b"kept"))
    assert entry is not None
    cache.note_sent(entry, False, ("200 OK", [("Content-Type", "text/plain")], False))
    behind: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        behind.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"made again"]

    fast = KeptAnswers(app, lambda environ: cache)
    statuses: list[str] = []
    assert fast(dict(environ), lambda status, headers: statuses.append(status)) == [b"kept"] and behind == []
    clock.now += 60.5
    assert fast(dict(environ), lambda status, headers: statuses.append(status)) == [b"made again"]
    assert behind == ["/x"] and len(cache) == 0
