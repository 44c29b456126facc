"""Tests for the HTTP/1.x stream dissector, its tracker and its terminal tables.

Stream tests feed real message bytes whole, byte by byte, at random cut points and with trailing
data; differential tests compare request methods, status codes, hosts, URIs and user agents with
tshark on the samples and on every shared capture whose truth has an http section.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.dissectors.http import (
    MAX_CONTENT_LENGTH_DIGITS,
    MAX_HEADER_BYTES,
    MAX_HEADER_FIELDS,
    MAX_LINE_BYTES,
    MAX_PENDING_REQUESTS,
    REQUEST_METHODS,
    HttpDissector,
    HttpRequest,
    HttpResponse,
    HttpTransaction,
    HttpUpgrade,
    is_http_start,
)
from analyzer.errors import Malformed
from analyzer.flows import Flow
from analyzer.report.sections.http import http_tables
from analyzer.trackers.http import MAX_DISTINCT_VALUES, OTHER, BoundedCounter, HttpTracker
from tests.oracle import (
    SAMPLES,
    SHARED_PCAPS,
    analyze_json,
    needs_shared,
    needs_tshark,
    shared_entry,
    shared_files,
    tshark_count,
    tshark_fields,
)
from tests.streamkit import flow_of, ip4, tcp_frame


def _http_flow() -> Flow:
    """A real flow (the dissector may be compiled and then accepts nothing else), with a fixed uid."""
    syn = tcp_frame(ip4("192.0.2.10"), ip4("198.51.100.80"), 50000, 80, 1, 0, 0x02, b"")
    flow = flow_of(syn, 1.0)
    flow.uid = "CHttpT1"
    return flow


FLOW = _http_flow()

Step = tuple[bool, bytes | int]
"""(from_client, bytes to feed, or the size of a gap)."""

REQUEST_FILTER = "http.request.method && tcp && !icmp && !icmpv6"
RESPONSE_FILTER = "http.response.code && tcp && !icmp && !icmpv6"


def req(method: str, uri: str, *headers: str, body: bytes = b"", version: str = "HTTP/1.1") -> bytes:
    head = f"{method} {uri} {version}\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n"
    return head.encode() + body


def resp(status: str, *headers: str, body: bytes = b"", version: str = "HTTP/1.1") -> bytes:
    head = f"{version} {status}\r\n" + "".join(h + "\r\n" for h in headers) + "\r\n"
    return head.encode() + body


def chunked(*chunks: bytes, trailers: Sequence[str] = ()) -> bytes:
    body = b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks)
    return body + b"0\r\n" + "".join(t + "\r\n" for t in trailers).encode() + b"\r\n"


def run(steps: Iterable[Step], cut: str = "whole", seed: int = 7, close: bool = True) -> list[object]:
    """Feed a script of steps to a fresh dissector; `cut` re-splits every data step."""
    d = HttpDissector(FLOW)
    rng = random.Random(seed)
    events: list[object] = []
    for from_client, item in steps:
        if isinstance(item, int):
            events += d.gap(item, from_client, 1.0)
            continue
        for piece in _pieces(item, cut, rng):
            events += d.feed(piece, from_client, 1.0)
    if close:
        events += d.close(2.0)
    return events


def _pieces(data: bytes, cut: str, rng: random.Random) -> list[bytes]:
    if cut == "whole":
        return [data]
    if cut == "bytes":
        return [data[i : i + 1] for i in range(len(data))]
    points = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, 6))) if len(data) > 1 else []
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


def of(events: Iterable[object], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


CUTS = ["whole", "bytes", "random"]


# --------------------------------------------------------------------------------------------------
# Whole, byte by byte, random cuts, trailing data
# --------------------------------------------------------------------------------------------------

KEEPALIVE: list[Step] = [
    (True, req("GET", "/index.html", "Host: www.example.com", "User-Agent: curl/8.5", "Referer: http://a/")),
    (
        False,
        resp("200 OK", "Content-Type: text/html; charset=utf-8", "Content-Length: 11", body=b"hello world"),
    ),
    (True, req("POST", "/api", "Host: www.example.com", "Content-Length: 4", body=b"abcd")),
    (False, resp("201 Created", "Content-Length: 2", body=b"ok")),
]


@pytest.mark.parametrize("cut", CUTS)
def test_keepalive_exchange_any_chunking(cut: str) -> None:
    events = run(KEEPALIVE, cut)
    assert events == run(KEEPALIVE, "whole")
    reqs, resps, txns = of(events, HttpRequest), of(events, HttpResponse), of(events, HttpTransaction)
    assert [(r.method, r.uri, r.host, r.version) for r in reqs] == [
        ("GET", "/index.html", "www.example.com", "1.1"),
        ("POST", "/api", "www.example.com", "1.1"),
    ]
    assert reqs[0].user_agent == "curl/8.5" and reqs[0].referrer == "http://a/"
    assert [(r.status_code, r.status_msg, r.trans_depth) for r in resps] == [
        (200, "OK", 1),
        (201, "Created", 2),
    ]
    assert [
        (t.trans_depth, t.method, t.status_code, t.request_body_len, t.response_body_len) for t in txns
    ] == [
        (1, "GET", 200, 0, 11),
        (2, "POST", 201, 4, 2),
    ]
    assert txns[0].resp_mime_types == ("text/html",)
    assert (txns[0].uid, txns[0].orig_h, txns[0].resp_p) == ("CHttpT1", "192.0.2.10", 80)


def test_trailing_data_waits_for_the_rest() -> None:
    first = req("GET", "/a", "Host: h")
    partial = b"GET /b HTTP/1.1\r\nHo"
    d = HttpDissector(FLOW)
    events = d.feed(first + partial, True, 1.0)
    assert [r.uri for r in of(events, HttpRequest)] == ["/a"]
    events = d.feed(b"st: h2\r\n\r\n", True, 1.5)
    assert [(r.uri, r.host) for r in of(events, HttpRequest)] == [("/b", "h2")]
    # a response followed by the first bytes of the next one
    events = d.feed(resp("200 OK", "Content-Length: 1", body=b"x") + b"HTTP/1.1 404", False, 2.0)
    assert [r.status_code for r in of(events, HttpResponse)] == [200]
    events = d.feed(b" Not Found\r\nContent-Length: 0\r\n\r\n", False, 2.5)
    assert [r.status_code for r in of(events, HttpResponse)] == [404]
    assert [t.uri for t in of(events, HttpTransaction)] == ["/b"]


@pytest.mark.parametrize("cut", CUTS)
def test_pipelined_requests_in_one_segment_pair_in_order(cut: str) -> None:
    three = req("GET", "/1", "Host: h") + req("HEAD", "/2", "Host: h") + req("GET", "/3", "Host: h")
    answers = (
        resp("200 OK", "Content-Length: 3", body=b"one")
        + resp("200 OK", "Content-Length: 1234")  # HEAD: the length describes a body that is not sent
        + resp("404 Not Found", "Content-Length: 5", body=b"three")
    )
    events = run([(True, three), (False, answers)], cut)
    txns = of(events, HttpTransaction)
    assert [(t.uri, t.method, t.status_code, t.response_body_len) for t in txns] == [
        ("/1", "GET", 200, 3),
        ("/2", "HEAD", 200, 0),
        ("/3", "GET", 404, 5),
    ]
    assert [t.trans_depth for t in txns] == [1, 2, 3]


@pytest.mark.parametrize("cut", CUTS)
def test_chunked_response_with_trailers(cut: str) -> None:
    body = chunked(b'{"event": 1}\n', b"x" * 300, b"[done]\n", trailers=["Expires: never", "X-Checksum: 42"])
    script: list[Step] = [
        (True, req("GET", "/feed", "Host: h") + req("GET", "/next", "Host: h")),
        (False, resp("200 OK", "Transfer-Encoding: chunked", body=body)),
        (False, resp("204 No Content")),
    ]
    txns = of(run(script, cut), HttpTransaction)
    assert [(t.uri, t.status_code, t.response_body_len) for t in txns] == [
        ("/feed", 200, 13 + 300 + 7),
        ("/next", 204, 0),
    ]


def test_trailers_are_part_of_the_message_not_a_resync() -> None:
    d = HttpDissector(FLOW)
    d.feed(req("GET", "/t"), True, 1.0)
    answer = resp("200 OK", "Transfer-Encoding: chunked", body=chunked(b"ab", trailers=["X-T: 1"]))
    events = d.feed(answer, False, 1.0)
    assert [t.response_body_len for t in of(events, HttpTransaction)] == [2]
    assert d._sides[False].state == "start"  # ready for the next message, not hunting for one


@pytest.mark.parametrize("cut", CUTS)
def test_chunked_request_body_with_extensions(cut: str) -> None:
    body = b"4;name=value\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n"
    script: list[Step] = [
        (True, req("POST", "/up", "Transfer-Encoding: gzip, chunked", body=body)),
        (False, resp("200 OK", "Content-Length: 0")),
    ]
    (txn,) = of(run(script, cut), HttpTransaction)
    assert (txn.method, txn.request_body_len, txn.status_code) == ("POST", 7, 200)


def test_headers_split_across_segments_and_obs_fold() -> None:
    raw = req("GET", "/x", "Host: example.org", "User-Agent: Mozilla/5.0", "\t(folded part)", "Referer: r")
    for cuts in ([5, 19, 40], [len(raw) - 1], [17, 18, 19]):
        d = HttpDissector(FLOW)
        events: list[object] = []
        for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True):
            events += d.feed(raw[a:b], True, 1.0)
        (r,) = of(events, HttpRequest)
        assert (r.host, r.user_agent, r.referrer) == ("example.org", "Mozilla/5.0 (folded part)", "r")


def test_bare_lf_line_endings_and_leading_empty_lines() -> None:
    events = run(
        [(True, b"\r\n\r\nGET / HTTP/1.1\nHost: lf.example\n\n"), (False, b"HTTP/1.0 200 OK\n\nbody")]
    )
    (r,) = of(events, HttpRequest)
    (t,) = of(events, HttpTransaction)
    assert r.host == "lf.example"
    assert (t.status_code, t.response_body_len, t.version) == (200, 4, "1.0")


# --------------------------------------------------------------------------------------------------
# Framing rules
# --------------------------------------------------------------------------------------------------


def test_interim_100_continue_keeps_the_request_waiting() -> None:
    script: list[Step] = [
        (True, req("PUT", "/f", "Expect: 100-continue", "Content-Length: 3")),
        (False, resp("100 Continue")),
        (True, b"abc"),
        (False, resp("200 OK", "Content-Length: 0")),
    ]
    events = run(script)
    assert [r.status_code for r in of(events, HttpResponse)] == [100, 200]
    (t,) = of(events, HttpTransaction)
    assert (t.info_code, t.info_msg, t.status_code, t.request_body_len) == (100, "Continue", 200, 3)


@pytest.mark.parametrize("status", ["204 No Content", "304 Not Modified"])
def test_no_body_statuses_ignore_content_length(status: str) -> None:
    script: list[Step] = [
        (True, req("GET", "/a") + req("GET", "/b")),
        (False, resp(status, "Content-Length: 50") + resp("200 OK", "Content-Length: 2", body=b"ok")),
    ]
    txns = of(run(script), HttpTransaction)
    assert [(t.uri, t.status_code, t.response_body_len) for t in txns] == [
        ("/a", int(status[:3]), 0),
        ("/b", 200, 2),
    ]


def test_response_without_length_lasts_until_close() -> None:
    d = HttpDissector(FLOW)
    d.feed(req("GET", "/old", version="HTTP/1.0"), True, 1.0)
    events = d.feed(resp("200 OK", "Connection: close", version="HTTP/1.0", body=b"a" * 100), False, 1.1)
    assert of(events, HttpTransaction) == []  # not finished before the close
    d.feed(b"HTTP/1.1 200 OK\r\n\r\n" + b"b" * 50, False, 1.2)  # still body, not a new response
    events = d.close(2.0)
    (t,) = of(events, HttpTransaction)
    assert (t.status_code, t.response_body_len) == (200, 100 + 19 + 50)


def test_transfer_encoding_wins_over_content_length() -> None:
    script: list[Step] = [
        (True, req("GET", "/")),
        (False, resp("200 OK", "Content-Length: 3", "Transfer-Encoding: chunked", body=chunked(b"hello"))),
        (True, req("GET", "/2")),
        (False, resp("200 OK", "Content-Length: 0")),
    ]
    txns = of(run(script), HttpTransaction)
    assert [(t.uri, t.response_body_len) for t in txns] == [("/", 5), ("/2", 0)]


def test_http09_request_answered_by_a_bare_body() -> None:
    page = b"<html>\n<body>hi</body>\n</html>\n"
    for cut in CUTS:
        events = run([(True, b"GET /\r\n\r\n"), (False, page)], cut)
        (r,) = of(events, HttpRequest)
        assert (r.method, r.uri, r.version) == ("GET", "/", None)
        assert of(events, HttpResponse) == []  # no status line: tshark has no response code either
        (t,) = of(events, HttpTransaction)
        assert (t.status_code, t.response_body_len) == (None, len(page))


def test_response_without_request_and_request_from_the_responder_side() -> None:
    # Asymmetric capture: only the server's side is in this flow.
    events = run([(False, resp("200 OK", "Content-Length: 2", body=b"ok") + resp("404 Not Found"))])
    txns = of(events, HttpTransaction)
    assert [(t.method, t.status_code, t.trans_depth) for t in txns] == [(None, 200, 1), (None, 404, 2)]
    # Orientation guessed the other way round: the kind of message comes from its start line.
    events = run([(False, req("GET", "/swapped", "Host: s")), (True, resp("200 OK", "Content-Length: 0"))])
    (t,) = of(events, HttpTransaction)
    assert (t.method, t.uri, t.status_code) == ("GET", "/swapped", 200)


def test_unanswered_requests_are_logged_at_close_and_bounded() -> None:
    d = HttpDissector(FLOW)
    n = MAX_PENDING_REQUESTS + 6
    events = d.feed(b"".join(req("GET", f"/{i}") for i in range(n)), True, 1.0)
    early = of(events, HttpTransaction)
    assert [t.uri for t in early] == [f"/{i}" for i in range(6)]  # the oldest, pushed out of the queue
    assert all(t.status_code is None for t in early)
    late = of(d.close(2.0), HttpTransaction)
    assert [t.uri for t in late] == [f"/{i}" for i in range(6, n)]


# --------------------------------------------------------------------------------------------------
# Upgrade and CONNECT
# --------------------------------------------------------------------------------------------------


def test_websocket_upgrade_ends_http_parsing() -> None:
    script: list[Step] = [
        (True, req("GET", "/chat", "Host: ws", "Connection: Upgrade", "Upgrade: websocket")),
        (False, resp("101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade")),
        (True, b"\x81\x85GET / HTTP/1.1\r\n\r\n"),  # frames that happen to look like HTTP
        (False, b"HTTP/1.1 200 OK\r\n\r\n"),
    ]
    for cut in CUTS:
        events = run(script, cut)
        (up,) = of(events, HttpUpgrade)
        assert (up.protocol, up.status_code, up.trans_depth) == ("websocket", 101, 1)
        assert len(of(events, HttpRequest)) == 1 and [r.status_code for r in of(events, HttpResponse)] == [
            101
        ]
        (t,) = of(events, HttpTransaction)
        assert t.upgrade == "websocket"


def test_connect_2xx_opens_a_tunnel_but_407_does_not() -> None:
    tls_hello = b"\x16\x03\x01\x00\x05hello"
    script: list[Step] = [
        (True, req("CONNECT", "example.com:443", "Host: example.com:443")),
        (False, resp("407 Proxy Authentication Required", "Content-Length: 0")),
        (True, req("CONNECT", "example.com:443", "Proxy-Authorization: Basic eA==")),
        (False, resp("200 Connection established")),
        (True, tls_hello + req("GET", "/not-http")),
    ]
    events = run(script)
    assert [r.uri for r in of(events, HttpRequest)] == ["example.com:443", "example.com:443"]
    (up,) = of(events, HttpUpgrade)
    assert (up.protocol, up.status_code, up.trans_depth) == ("CONNECT", 200, 2)
    assert [t.status_code for t in of(events, HttpTransaction)] == [407, 200]


# --------------------------------------------------------------------------------------------------
# Gaps and resync
# --------------------------------------------------------------------------------------------------


def test_gap_inside_a_sized_body_keeps_the_framing() -> None:
    script: list[Step] = [
        (True, req("GET", "/big") + req("GET", "/small")),
        (False, resp("200 OK", "Content-Length: 1000", body=b"a" * 100)),
        (False, 800),
        (False, b"b" * 100 + resp("200 OK", "Content-Length: 1", body=b"c")),
    ]
    txns = of(run(script), HttpTransaction)
    assert [(t.uri, t.status_code, t.response_body_len) for t in txns] == [
        ("/big", 200, 1000),
        ("/small", 200, 1),
    ]


def test_gap_past_the_body_resyncs_on_the_next_status_line() -> None:
    script: list[Step] = [
        (True, req("GET", "/1") + req("GET", "/2") + req("GET", "/3")),
        (False, resp("200 OK", "Content-Length: 10", body=b"12345")),
        (False, 500),  # the rest of the body and the whole second response are missing
        (False, b"ml>\n" + resp("302 Found", "Location: /", "Content-Length: 0")),
    ]
    events = run(script)
    assert [r.status_code for r in of(events, HttpResponse)] == [200, 302]
    txns = of(events, HttpTransaction)
    assert (txns[0].uri, txns[0].response_body_len) == ("/1", 10)
    assert [(t.uri, t.status_code) for t in txns[1:]] == [("/2", 302), ("/3", None)]


def test_gap_in_headers_emits_what_was_seen_then_resyncs() -> None:
    script: list[Step] = [
        (True, b"GET /cut HTTP/1.1\r\nHost: cut.example\r\nUser-Ag"),
        (True, 40),
        (True, b"more junk\r\n\r\n" + req("GET", "/after", "Host: h2")),
    ]
    events = run(script)
    assert [(r.uri, r.host) for r in of(events, HttpRequest)] == [("/cut", "cut.example"), ("/after", "h2")]


def test_start_line_cut_by_a_gap_is_still_read() -> None:
    # snaplen 96 (truncated/zeek-communityid-tcp.pcap): tshark still reports GET and 200
    script: list[Step] = [
        (True, b"GET /images/sf.net_box.gif HTT"),
        (True, 466),
        (False, b"HTTP/1.1 200 OK\r\nDate: Tue, 16"),
        (False, 1418),
        (False, b"\x91\xf8\xf6\xd6\x0c\xf2}\x00h\xbc#F\xdad"),
    ]
    events = run(script)
    assert [(r.method, r.uri) for r in of(events, HttpRequest)] == [("GET", "/images/sf.net_box.gif")]
    assert [r.status_code for r in of(events, HttpResponse)] == [200]
    (t,) = of(events, HttpTransaction)
    assert (t.method, t.status_code) == ("GET", 200)


def test_gap_in_chunk_data_and_bad_chunk_size_resync() -> None:
    script: list[Step] = [
        (True, req("GET", "/a") + req("GET", "/b") + req("GET", "/c")),
        (False, resp("200 OK", "Transfer-Encoding: chunked", body=b"a\r\n01234")),
        (False, 9999),
        (False, b"\r\n" + resp("200 OK", "Transfer-Encoding: chunked", body=b"zz\r\n")),
        (False, resp("404 Not Found", "Content-Length: 0")),
    ]
    events = run(script)
    assert [r.status_code for r in of(events, HttpResponse)] == [200, 200, 404]
    assert [(t.uri, t.status_code) for t in of(events, HttpTransaction)] == [
        ("/a", 200),
        ("/b", 200),
        ("/c", 404),
    ]


# --------------------------------------------------------------------------------------------------
# What counts as a request or a response (tshark's rules)
# --------------------------------------------------------------------------------------------------


def test_malformed_request_lines_are_not_counted_but_their_400_is() -> None:
    # the request lines of http/zeek-methods.pcap that tshark does not read as requests
    for line in (
        b"OPTIONSHTTP/1.1",
        b"GET/ HTTP/1.1",
        b"CCM_POST/HTTP/1.1",
        b"\xc3\x83\xc3\x82\xc3\x83 / HTTP/1.",
    ):
        events = run(
            [
                (True, line + b"\nHost: www.google.com\n\n"),
                (False, resp("400 Bad Request", version="HTTP/1.0")),
            ]
        )
        assert of(events, HttpRequest) == [], line
        assert [r.status_code for r in of(events, HttpResponse)] == [400]
    # ... and those it does read, however odd
    for line, method, uri, version in (
        (b"OPTIONS\n", "OPTIONS", "", None),
        (b"OPTIONS HTTP/1.1\n", "OPTIONS", "HTTP/1.1", None),
        (b"GET /HTTP/1.1\n", "GET", "/HTTP/1.1", None),
        (b"CCM_POST / HTTP/1.\n", "CCM_POST", "/", "1."),
        (b"M-SEARCH * HTTP/1.1\n", "M-SEARCH", "*", "1.1"),
    ):
        (r,) = of(run([(True, line + b"\n")]), HttpRequest)
        assert (r.method, r.uri, r.version) == (method, uri, version)


def test_garbage_then_a_valid_request_on_the_same_connection() -> None:
    script: list[Step] = [
        (True, b"get / http/1.1\r\nHost: lower\r\n\r\nPRI * HTTP/2.0\r\n\r\n" + req("PUT", "/ok"))
    ]
    assert [(r.method, r.uri) for r in of(run(script), HttpRequest)] == [("PUT", "/ok")]


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"HTTP/1.1 200 OK", 200),
        (b"HTTP/1.1 2000 Odd", 200),
        (b"HTTP/1.1  302 Found", 302),
        (b"HTTP/1.0 200", 200),
        (b"HTTP/2 200 OK", 200),
        (b"ICY 200 OK", 200),
        (b"HTTP/1.1 abc OK", 0),
        (b"HTTP/1.1 20 OK", None),
        (b"HTTP/1.1", None),
    ],
)
def test_status_codes_as_tshark_reads_them(line: bytes, code: int | None) -> None:
    events = run([(False, line + b"\r\nContent-Length: 0\r\n\r\n")])
    assert [r.status_code for r in of(events, HttpResponse)] == ([] if code is None else [code])
    (t,) = of(events, HttpTransaction)
    assert t.status_code == code


def test_is_http_start_for_classification() -> None:
    for method in REQUEST_METHODS:
        assert is_http_start(method + b" / HTTP/1.1\r\n"), method
    assert is_http_start(b"M-SEARCH * HTTP/1.1\r\n")
    assert is_http_start(b"HTTP/1.1 200 OK\r\n")
    for data in (b"get / HTTP/1.1", b"PRI * HTTP/2.0", b"GET/ HTTP/1.1", b"\x16\x03\x01", b"SSH-2.0-x", b""):
        assert not is_http_start(data), data


# --------------------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", CUTS)
def test_header_line_longer_than_the_limit_is_malformed(cut: str) -> None:
    raw = req("GET", "/", "Cookie: " + "c" * MAX_LINE_BYTES)
    with pytest.raises(Malformed) as info:
        run([(True, raw)], cut)
    assert info.value.reason == "http.line_too_long"
    # a line just under the limit is fine
    (r,) = of(run([(True, req("GET", "/", "Cookie: " + "c" * (MAX_LINE_BYTES - 10)))], cut), HttpRequest)
    assert r.method == "GET"


def test_start_line_longer_than_the_limit_is_malformed() -> None:
    with pytest.raises(Malformed) as info:
        run([(True, b"GET /" + b"a" * MAX_LINE_BYTES)], close=False)  # no LF yet: still too long
    assert info.value.reason == "http.line_too_long"


def test_too_many_fields_and_too_large_a_head_are_malformed() -> None:
    many = [f"X-F{i}: v" for i in range(MAX_HEADER_FIELDS + 1)]
    with pytest.raises(Malformed) as info:
        run([(True, req("GET", "/", *many))])
    assert info.value.reason == "http.too_many_headers"
    big = [
        f"X-Big{i}: " + "v" * (MAX_LINE_BYTES - 100) for i in range(MAX_HEADER_BYTES // MAX_LINE_BYTES + 1)
    ]
    with pytest.raises(Malformed) as info:
        run([(False, resp("200 OK", *big))])
    assert info.value.reason == "http.header_too_large"


def test_absurd_content_length_is_invalid_not_a_crash() -> None:
    script: list[Step] = [
        (True, req("POST", "/x", "Content-Length: " + "9" * 5000) + req("GET", "/next")),
        (False, resp("200 OK", "Content-Length: " + "9" * (MAX_CONTENT_LENGTH_DIGITS + 1), body=b"rest")),
    ]
    events = run(script)
    assert [r.uri for r in of(events, HttpRequest)] == ["/x", "/next"]  # resynced on the next request
    assert [(t.uri, t.status_code) for t in of(events, HttpTransaction)] == [("/x", 200), ("/next", None)]


def test_non_http_bytes_are_skipped_without_buffering() -> None:
    d = HttpDissector(FLOW)
    blob = random.Random(3).randbytes(200_000).replace(b"\n", b"\x00")
    for i in range(0, len(blob), 1400):
        assert d.feed(blob[i : i + 1400], True, 1.0) == []
    assert all(len(side.buf) <= MAX_LINE_BYTES for side in d._sides.values())
    assert of(d.feed(b"\n" + req("GET", "/after-garbage"), True, 1.0), HttpRequest)[0].uri == "/after-garbage"


# --------------------------------------------------------------------------------------------------
# Fuzz
# --------------------------------------------------------------------------------------------------

FRAGMENTS = [
    b"GET / HTTP/1.1\r\n",
    b"HEAD /h HTTP/1.0\r\n",
    b"CONNECT a:443 HTTP/1.1\r\n",
    b"M-SEARCH * HTTP/1.1\r\n",
    b"GET /\r\n",
    b"HTTP/1.1 200 OK\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\n",
    b"HTTP/1.1 100 Continue\r\n",
    b"HTTP/1.1 204 No Content\r\n",
    b"ICY 200 OK\r\n",
    b"Host: a\r\n",
    b"Upgrade: websocket\r\n",
    b"Content-Length: 5\r\n",
    b"Content-Length: 5, 6\r\n",
    b"Content-Length: x\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Transfer-Encoding: gzip\r\n",
    b" folded\r\n",
    b"\r\n",
    b"\n",
    b"5\r\nhello\r\n",
    b"5;ext=1\r\nab",
    b"0\r\n\r\n",
    b"fffffffffffffffffff\r\n",
]
STREAM = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=24)), max_size=24).map(b"".join)


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True) if b > a]


def _feed_all(client: Sequence[bytes], server: Sequence[bytes]) -> tuple[list[object], str | None]:
    d = HttpDissector(FLOW)
    events: list[object] = []
    try:
        for piece in client:
            events += d.feed(piece, True, 1.0)
        for piece in server:
            events += d.feed(piece, False, 1.0)
        events += d.close(2.0)
    except Malformed as exc:
        return events, exc.reason
    return events, None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(client=STREAM, server=STREAM, cuts=st.lists(st.integers(0, 10_000), max_size=8))
def test_fuzz_chunking_does_not_change_the_result(client: bytes, server: bytes, cuts: list[int]) -> None:
    whole, whole_error = _feed_all([client], [server])
    split, split_error = _feed_all(_split(client, cuts), _split(server, cuts))
    assert whole_error == split_error
    if whole_error is None:
        assert whole == split
        # every request ends up in exactly one transaction
        depths = [t.trans_depth for t in of(whole, HttpTransaction)]
        assert len(depths) == len(set(depths))
        assert {r.trans_depth for r in of(whole, HttpRequest)} <= set(depths)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(
        st.tuples(st.booleans(), st.one_of(STREAM, st.integers(1, 5000), st.binary(max_size=200))),
        max_size=12,
    )
)
def test_fuzz_with_gaps_only_malformed_escapes(steps: list[tuple[bool, bytes | int]]) -> None:
    try:
        events = run(steps)
    except Malformed as exc:
        assert exc.reason.startswith("http.")
        return
    depths = [t.trans_depth for t in of(events, HttpTransaction)]
    assert len(depths) == len(set(depths))


# --------------------------------------------------------------------------------------------------
# Tracker and terminal tables
# --------------------------------------------------------------------------------------------------


def test_tracker_counts_and_section_shape() -> None:
    tracker = HttpTracker()
    for event in run(KEEPALIVE) + run([(False, resp("500 Oops", "Content-Length: 0"))]):
        tracker.handle(event)
    section = tracker.finish()["http"]
    assert set(section) == {
        "request_count",
        "response_count",
        "requests_by_method",
        "responses_by_code",
        "hosts",
        "uris",
        "user_agents",
        "upgrades",
        "transactions",
    }
    assert (section["request_count"], section["response_count"]) == (2, 3)
    assert section["requests_by_method"] == {"GET": 1, "POST": 1}
    assert section["responses_by_code"] == {"200": 1, "201": 1, "500": 1}
    assert section["hosts"] == {"www.example.com": 2}
    assert section["user_agents"] == {"curl/8.5": 1}
    first = section["transactions"][0]
    assert (
        first["id.orig_h"] == "192.0.2.10"
        and first["method"] == "GET"
        and first["resp_mime_types"] == ["text/html"]
    )
    titles = [t.title for t in http_tables({"http": section})]
    assert titles[0] == "HTTP requests by method (2 requests)"
    assert http_tables({"http": HttpTracker().finish()["http"]}) == []


def test_bounded_counter_sums_late_values_under_other() -> None:
    counter = BoundedCounter(limit=3)
    for key in ["a", "b", "a", "c", "d", "e", "a"]:
        counter.add(key)
    assert counter.counts == Counter({"a": 3, "b": 1, "c": 1, OTHER: 2})
    assert list(counter.top(2)) == ["a", OTHER]
    assert MAX_DISTINCT_VALUES >= 1000


def test_terminal_escapes_wire_strings() -> None:
    events = run([(True, req("GET", "/\x1b[31mred", "Host: evil\x1b[2J"))])
    tracker = HttpTracker()
    for event in events:
        tracker.handle(event)
    text = repr([t.rows for t in http_tables(tracker.finish())])
    assert "\x1b" not in text and "\\\\e[2J" in text


# --------------------------------------------------------------------------------------------------
# Against tshark
# --------------------------------------------------------------------------------------------------


REQUEST_FIELDS = ("http.request.method", "http.host", "http.request.uri", "http.user_agent")
"""tshark fields per request frame, in the order of the keys of `_tshark_view`."""


def _tshark_view(path: Path) -> dict[str, Counter[str]]:
    """tshark's methods, codes, hosts, URIs and user agents (two tshark runs per capture)."""
    view = {key: Counter[str]() for key in ("methods", "hosts", "uris", "user_agents")}
    for row in tshark_fields(str(path), REQUEST_FILTER, REQUEST_FIELDS):
        several = "," in row[0]  # pipelined requests in one frame: values are comma-joined
        for key, value in zip(view, row, strict=True):
            for v in value.split(",") if several else [value]:
                if v:
                    view[key][v] += 1
    view["codes"] = tshark_count(str(path), RESPONSE_FILTER, "http.response.code")
    return view


def _compare(path: Path) -> dict[str, Any]:
    ours: dict[str, Any] = analyze_json(str(path))["http"]
    theirs = _tshark_view(path)
    assert Counter(ours["requests_by_method"]) == theirs["methods"]
    assert Counter(ours["responses_by_code"]) == theirs["codes"]
    assert ours["request_count"] == sum(theirs["methods"].values())
    assert ours["response_count"] == sum(theirs["codes"].values())
    assert Counter(ours["hosts"]) == theirs["hosts"]
    assert Counter(ours["user_agents"]) == theirs["user_agents"]
    # tshark prints an empty URI as an absent field
    assert Counter({k: v for k, v in ours["uris"].items() if k}) == theirs["uris"]
    return ours


@needs_tshark
@pytest.mark.parametrize("name", ["http.pcap", "mixed.pcap"])
def test_samples_agree_with_tshark(name: str) -> None:
    _compare(SAMPLES / name)


BODY_CUT = {"tunnels/zeek-erspan.pcap", "tunnels/zeek-gtp1_gn_normal_incl_fragmentation.pcap"}
"""Captures with HTTP responses whose body is cut: tshark (http.desegment_body) drops those responses,
we count their header; tests/test_encapsulations.py compares them with tshark without body
desegmentation, where the counts agree."""
HTTP_TRUTH_FILES = [f for f in shared_files() if "http" in shared_entry(f) and f not in BODY_CUT]


@needs_shared
@needs_tshark
@pytest.mark.parametrize("rel", HTTP_TRUTH_FILES)
def test_shared_captures_agree_with_tshark(rel: str) -> None:
    ours = _compare(SHARED_PCAPS / rel)
    truth = shared_entry(rel)["http"]
    assert ours["requests_by_method"] == truth["requests_by_method"]
    assert ours["responses_by_code"] == truth["responses_by_code"]


@needs_shared
def test_docker_upgrade_and_asymmetric_capture_records() -> None:
    docker = analyze_json(str(SHARED_PCAPS / "http/zeek-docker-http-upgrade.pcap"))["http"]
    assert docker["upgrades"] == 1
    (switched,) = [t for t in docker["transactions"] if t["upgrade"]]
    assert (switched["status_code"], switched["upgrade"], switched["method"]) == (101, "tcp", "POST")
    asym = analyze_json(str(SHARED_PCAPS / "pcapng-multi-if/ndpi-http_asymmetric.pcapng"))["http"]
    requests = [t for t in asym["transactions"] if t["method"]]
    responses = [t for t in asym["transactions"] if t["status_code"] is not None]
    assert [t["uri"] for t in requests] == ["/", "/icons/ubuntu-logo.png", "/favicon.ico"]
    assert [t["status_code"] for t in responses] == [200, 200, 404]
    assert [t["response_body_len"] for t in responses] == [3138, 3338, 297]


@needs_shared
def test_truncated_and_http09_captures() -> None:
    cut = analyze_json(str(SHARED_PCAPS / "truncated/zeek-communityid-tcp.pcap"))["http"]
    assert [(t["method"], t["uri"], t["status_code"]) for t in cut["transactions"]] == [
        ("GET", "/images/sf.net_box.gif", 200)
    ]
    vlan = analyze_json(str(SHARED_PCAPS / "vlan/zeek-mixed-vlan-mpls.pcap"))["http"]
    http09 = [t for t in vlan["transactions"] if t["version"] is None]
    assert len(http09) == 1 and http09[0]["status_code"] is None and http09[0]["response_body_len"] > 3000
