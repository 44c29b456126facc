"""IMAP: tagged commands paired with tagged statuses, untagged responses, literals skipped by count,
LOGIN/AUTHENTICATE without secrets, IDLE/DONE, STARTTLS hand-over to TLS, the tracker, the terminal
tables, and agreement with tshark on real captures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given

from analyzer import registry
from analyzer.dissectors.base import TlsUpgrade
from analyzer.dissectors.imap import MAX_LITERAL, ImapCommand, ImapDissector, ImapResponse, ImapUntagged
from analyzer.dissectors.textproto import AuthContinuation, MailOddLine
from analyzer.errors import Malformed
from analyzer.report.sections.mail import imap_tables
from analyzer.report.terminal import render
from tests.oracle import analyze_json, needs_shared, needs_tshark, require_file, truth_files
from tests.streamkit import (
    FUZZ_GAPS,
    Script,
    bytewise,
    client_hello,
    fuzz_chunks,
    fuzz_feed,
    of,
    server_hello,
    thirds,
    tshark_counter,
    whole,
)
from tests.test_smtp import (
    CAPTURE_TS,
    assert_counts_like_truth,
    assert_counts_like_tshark,
    logical,
    mail_captures,
    make_flow,
    run,
    track,
    write_conversation,
)

BODY = b"Subject: plans\r\n\r\na9 OK this tagged-looking line is message data\r\n* BYE so is this\r\n"

SESSION: Script = [
    (False, b"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] imap.example.net ready\r\n"),
    (True, b"a1 CAPABILITY\r\n"),
    (False, b"* CAPABILITY IMAP4rev1 IDLE\r\na1 OK Capability completed.\r\n"),
    (True, b'a2 LOGIN "bob" hunter2\r\n'),
    (False, b"a2 OK Logged in\r\n"),
    (True, b"a3 SELECT INBOX\r\n"),
    (
        False,
        b"* 2 EXISTS\r\n* 1 RECENT\r\n* OK [UIDVALIDITY 1] UIDs valid\r\n"
        b"a3 OK [READ-WRITE] Select completed.\r\n",
    ),
    (True, b"a4 UID FETCH 2 (FLAGS BODY[])\r\n"),
    (
        False,
        b"* 2 FETCH (UID 2 FLAGS (\\Seen) BODY[] {%d}\r\n" % len(BODY)
        + BODY
        + b")\r\na4 OK Fetch completed.\r\n",
    ),
    (True, b"a5 STORE 2 +FLAGS (\\Deleted)\r\na6 NOOP\r\n"),
    (False, b"* 2 FETCH (FLAGS (\\Deleted))\r\na5 OK Store completed.\r\na6 NO busy\r\n"),
    (True, b"a7 FROB\r\n"),
    (False, b"a7 BAD Unknown command\r\n"),
    (True, b"a8 LOGOUT\r\n"),
    (False, b"* BYE Logging out\r\na8 OK Logout completed.\r\n"),
]


def test_session_commands_statuses_untagged_and_literals() -> None:
    events = run(ImapDissector, SESSION, whole, 143)
    cmds = of(events, ImapCommand)
    assert [(c.tag, c.command, c.uid_prefix) for c in cmds] == [
        ("a1", "CAPABILITY", False), ("a2", "LOGIN", False), ("a3", "SELECT", False), ("a4", "FETCH", True),
        ("a5", "STORE", False), ("a6", "NOOP", False), ("a7", "FROB", False), ("a8", "LOGOUT", False),
    ]  # fmt: skip
    assert [c.arg for c in cmds[1:5]] == ["bob", "INBOX", "2", "2"]
    statuses = of(events, ImapResponse)
    assert [(r.tag, r.status, r.command) for r in statuses] == [
        ("a1", "OK", "CAPABILITY"), ("a2", "OK", "LOGIN"), ("a3", "OK", "SELECT"), ("a4", "OK", "FETCH"),
        ("a5", "OK", "STORE"), ("a6", "NO", "NOOP"), ("a7", "BAD", "FROB"), ("a8", "OK", "LOGOUT"),
    ]  # fmt: skip
    untagged = of(events, ImapUntagged)
    assert [u.keyword for u in untagged] == [
        "OK",
        "CAPABILITY",
        "EXISTS",
        "RECENT",
        "OK",
        "FETCH",
        "FETCH",
        "BYE",
    ]
    assert untagged[5].literal_bytes == len(BODY) and untagged[5].text is None
    assert untagged[0].text == "[CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] imap.example.net ready"
    assert not of(events, MailOddLine)


@pytest.mark.parametrize("cut", [whole, bytewise, thirds], ids=["whole", "bytewise", "thirds"])
def test_any_segmentation_gives_the_same_session(cut: Callable[[bytes], list[bytes]]) -> None:
    expected = logical(run(ImapDissector, SESSION, whole, 143))
    assert logical(run(ImapDissector, SESSION, cut, 143)) == expected


def test_tracker_section_and_row() -> None:
    events = run(ImapDissector, SESSION, whole, 143)
    section = track(events, [events[0].uid])["imap"]
    assert "hunter2" not in repr(section) and "hunter2" not in repr(events)
    assert section["commands"] == {
        "CAPABILITY": 1, "FETCH": 1, "FROB": 1, "LOGIN": 1, "LOGOUT": 1, "NOOP": 1, "SELECT": 1, "STORE": 1,
    }  # fmt: skip
    assert section["response_status"] == {"BAD": 1, "NO": 1, "OK": 6}
    assert section["untagged"] == {"BYE": 1, "CAPABILITY": 1, "EXISTS": 1, "FETCH": 2, "OK": 2, "RECENT": 1}
    assert section["literal_bytes"] == len(BODY)
    (row,) = section["sessions"]
    assert (row["user"], row["login"], row["mailboxes"], row["fetches"]) == ("bob", "success", ["INBOX"], 1)
    assert (row["ok"], row["no"], row["bad"], row["untagged"]) == (6, 1, 1, 8)


def test_login_literals_keep_the_user_not_the_password() -> None:
    script: Script = [
        (False, b"* OK ready\r\n"),
        (True, b"b1 LOGIN {3}\r\n"),
        (False, b"+ ok\r\n"),
        (True, b"bob {7}\r\n"),
        (False, b"+ ok\r\n"),
        (True, b"s3cr3t!\r\n"),
        (False, b"b1 OK done\r\n"),
    ]
    for cut in (whole, bytewise):
        events = run(ImapDissector, script, cut, 143)
        (cmd,) = of(events, ImapCommand)
        assert (cmd.command, cmd.arg, cmd.literal_bytes) == ("LOGIN", "bob", 10)
        assert "s3cr3t" not in repr(events)
        assert [r.command for r in of(events, ImapResponse)] == ["LOGIN"]


def test_authenticate_continuations_and_idle_done_are_not_commands() -> None:
    script: Script = [
        (False, b"* OK ready\r\n"),
        (True, b"a1 AUTHENTICATE PLAIN\r\n"),
        (False, b"+ \r\n"),
        (True, b"AGJvYgBodW50ZXIy\r\n"),
        (False, b"a1 OK authenticated\r\n"),
        (True, b"a2 IDLE\r\n"),
        (False, b"+ idling\r\n"),
        (False, b"* 3 EXISTS\r\n"),
        (True, b"DONE\r\n"),
        (False, b"a2 OK IDLE terminated\r\n"),
        (True, b"a3 AUTHENTICATE XOAUTH2 dXNlcj1ib2IBYXV0aD1CZWFyZXIgdG9rZW4BAQ==\r\n"),
        (False, b"a3 NO bad token\r\n"),
    ]
    events = run(ImapDissector, script, whole, 143)
    assert [(c.command, c.arg) for c in of(events, ImapCommand)] == [
        ("AUTHENTICATE", "PLAIN"), ("IDLE", None), ("AUTHENTICATE", "XOAUTH2"),
    ]  # fmt: skip
    assert len(of(events, AuthContinuation)) == 1
    assert "AGJvYgBodW50ZXIy" not in repr(events) and "dXNlcj1ib2I" not in repr(events)
    assert not of(events, MailOddLine)
    (row,) = track(events, [events[0].uid])["imap"]["sessions"]
    assert (row["auth_mechanism"], row["login"]) == ("XOAUTH2", "failure")


def test_append_literal_is_data_and_refused_literal_is_never_sent() -> None:
    message = b"From: a@b\r\nSubject: x\r\n\r\nz1 LOGOUT\r\n"
    script: Script = [
        (False, b"* OK ready\r\n"),
        (True, b"a1 APPEND Sent {%d}\r\n" % len(message)),
        (False, b"+ go ahead\r\n"),
        (True, message + b"\r\n"),
        (False, b"a1 OK appended\r\n"),
        (True, b"a2 APPEND Sent {99999}\r\n"),
        (False, b"a2 NO [TOOBIG] too big\r\n"),
        (True, b"a3 NOOP\r\n"),
        (False, b"a3 OK\r\n"),
    ]
    events = run(ImapDissector, script, whole, 143)
    cmds = of(events, ImapCommand)
    assert [(c.tag, c.command, c.arg, c.literal_bytes) for c in cmds] == [
        ("a1", "APPEND", "Sent", len(message)), ("a2", "APPEND", "Sent", 0), ("a3", "NOOP", None, 0),
    ]  # fmt: skip
    assert [(r.tag, r.status) for r in of(events, ImapResponse)] == [("a1", "OK"), ("a2", "NO"), ("a3", "OK")]


def test_trailing_data_and_unfinished_literal() -> None:
    script = [*SESSION, (True, b"a9 NOOP\r\n"), (False, b"* 1 FETCH (BODY[] {100}\r\nonly part")]
    events = run(ImapDissector, script, whole, 143)
    assert of(events, ImapCommand)[-1].command == "NOOP"
    last = of(events, ImapUntagged)[-1]
    assert (last.keyword, last.literal_bytes) == ("FETCH", len(b"only part"))


def test_overlong_line_and_absurd_literal_are_malformed() -> None:
    d = ImapDissector(make_flow(143))
    with pytest.raises(Malformed) as exc:
        d.feed(b"* OK " + b"x" * 1_000_000, False, CAPTURE_TS)
    assert exc.value.reason == "imap.line_too_long" and d._server.lines.pending == 0
    d = ImapDissector(make_flow(143))
    with pytest.raises(Malformed) as exc:
        d.feed(b"* 1 FETCH (BODY[] {%d}\r\n" % (MAX_LITERAL + 1), False, CAPTURE_TS)
    assert exc.value.reason == "imap.literal_too_large"


def test_starttls_hands_over_to_tls() -> None:
    from analyzer.dissectors.tls import TlsClientHello

    script: Script = [
        (False, b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n"),
        (True, b"c1 STARTTLS\r\n" + client_hello("imap.example.net")),
        (False, b"c1 OK Begin TLS negotiation now.\r\n" + server_hello()),
    ]
    for cut in (whole, bytewise):
        events = run(ImapDissector, script, cut, 143)
        assert len(of(events, TlsUpgrade)) == 1
        assert [ch.server_name for ch in of(events, TlsClientHello)] == ["imap.example.net"]
        assert not of(events, MailOddLine)
    refused: Script = [(False, b"* OK\r\n"), (True, b"c1 STARTTLS\r\nc2 NOOP\r\n"), (False, b"c1 BAD no\r\n")]
    events = run(ImapDissector, refused, whole, 143)
    assert not of(events, TlsUpgrade)
    assert [c.command for c in of(events, ImapCommand)] == ["STARTTLS", "NOOP"]


@pytest.mark.parametrize("pure_acks", [False, True], ids=["hello-with-ack", "hello-after-ack"])
def test_starttls_pipeline_tls_tracker_sees_client_hello(tmp_path: Path, pure_acks: bool) -> None:
    script: Script = [
        (False, b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"),
        (True, b"c1 STARTTLS\r\n"),
        (False, b"c1 OK Begin TLS negotiation now.\r\n"),
        (True, client_hello("imap.example.net")),
        (False, server_hello()),
    ]
    out = analyze_json(write_conversation(tmp_path / "starttls.pcap", script, 143, pure_acks))
    assert out["imap"]["tls_upgrades"] == 1 and out["imap"]["sessions"][0]["tls"] is True
    assert out["imap"]["commands"] == {"STARTTLS": 1} and out["imap"]["response_status"] == {"OK": 1}
    assert out["tls"]["client_hello"] == 1 and out["tls"]["sni"] == {"imap.example.net": 1}


def test_imap_on_unexpected_port_recognised_by_greeting(tmp_path: Path) -> None:
    out = analyze_json(write_conversation(tmp_path / "imap1143.pcap", SESSION, 1143))
    assert out["imap"]["commands"]["FETCH"] == 1 and out["imap"]["sessions"][0]["id.resp_p"] == 1143


def test_terminal_tables() -> None:
    summary = track(run(ImapDissector, SESSION, whole, 143))
    assert [t.title for t in imap_tables(summary)][:2] == ["IMAP overview", "IMAP commands"]
    text = render(summary, ["imap"])
    assert "INBOX" in text and "hunter2" not in text


def test_registry_wires_imap() -> None:
    assert registry.STREAM_DISSECTORS["imap"] is ImapDissector


IMAP_WORDS = [
    b"* OK x\r\n", b"a1 OK\r\n", b"+ go\r\n", b"a1 LOGIN {3}\r\n", b"* 1 FETCH {5}\r\n", b"a1 STARTTLS\r\n",
    b"a2 AUTHENTICATE PLAIN\r\n", b"a3 IDLE\r\n", b"DONE\r\n", b"{2}\r\n", b"\x16\x03\x01\x00\x05",
]  # fmt: skip
"""Lines that drive the state machine, mixed into the fuzz input so it reaches every mode."""


@given(fuzz_chunks(IMAP_WORDS), FUZZ_GAPS)
def test_fuzz_only_malformed_escapes(chunks: list[tuple[bool, bytes]], gaps: list[int]) -> None:
    events = fuzz_feed(ImapDissector(make_flow(143)), chunks, dict(enumerate(gaps)), CAPTURE_TS)
    if events is not None:
        track(events)


# -- agreement with tshark ------------------------------------------------------------------------

IMAP_CAPTURES = mail_captures("imap")


@needs_tshark
@pytest.mark.parametrize("path", IMAP_CAPTURES, ids=lambda p: Path(p).name)
def test_counts_equal_tshark(path: str) -> None:
    require_file(path)
    assert_counts_like_tshark(
        path,
        "imap",
        "imap && !icmp && !icmpv6",
        {"commands": "imap.request.command", "response_status": "imap.response.status"},
    )


@needs_shared
@pytest.mark.parametrize("rel", truth_files("imap"))
def test_counts_equal_truth_file(rel: str) -> None:
    assert_counts_like_truth(
        rel, "imap", {"commands": ("imap", "commands"), "response_status": ("imap", "response_status")}
    )


@needs_tshark
def test_tshark_parity_on_case_uid_pipelining_and_literals(tmp_path: Path) -> None:
    """Commands as sent (case kept, the word after UID), pipelined lines, a server literal holding a
    tagged-looking line - checked against tshark itself."""
    script: Script = [
        (False, b"* OK ready\r\n"),
        (True, b"a1 capability\r\n"),
        (False, b"* CAPABILITY IMAP4rev1\r\na1 ok done\r\n"),
        (True, b"a3 NOOP\r\na4 NOOP\r\n"),
        (False, b"a3 OK n\r\na4 NO n\r\n"),
        (True, b"a9 uid fetch 1:* FLAGS\r\n"),
        (False, b"* 1 FETCH (UID 1 BODY[] {12}\r\na9 OK fake\r\n)\r\na9 OK Fetch\r\n"),
        (True, b"b2 UID STORE 1 +FLAGS (\\Seen)\r\n"),
        (False, b"b2 OK\r\n"),
    ]
    path = str(write_conversation(tmp_path / "quirks.pcap", script, 143))
    ours = analyze_json(path)["imap"]
    commands = tshark_counter(path, "imap", "imap.request.command")
    assert ours["commands"] == dict(commands) == {"NOOP": 2, "STORE": 1, "capability": 1, "fetch": 1}
    assert ours["response_status"] == dict(tshark_counter(path, "imap", "imap.response.status"))
    assert ours["response_status"] == {"NO": 1, "OK": 3, "ok": 1}
