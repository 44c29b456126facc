"""POP3: commands and statuses (counted per segment as tshark does), multi-line answers with
dot-unstuffing, USER/PASS/APOP/AUTH without secrets, DELE, STLS hand-over to TLS, the tracker, the
terminal tables, and agreement with tshark on real captures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given

from analyzer import registry
from analyzer.dissectors.base import TlsUpgrade
from analyzer.dissectors.pop3 import Pop3Command, Pop3Data, Pop3Dissector, Pop3Reply
from analyzer.dissectors.textproto import AuthContinuation, MailOddLine
from analyzer.errors import Malformed
from analyzer.report.sections.mail import pop3_tables
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

BODY = (
    b"Subject: Lunch?\r\n"
    b"\r\n"
    b"+OK this body line is not a status\r\n"
    b"..a dot-stuffed line\r\n"
    b"-ERR nor is this one\r\n"
)
BODY_SIZE = len(BODY) - 1

SESSION: Script = [
    (False, b"+OK POP3 server ready <1896.697170952@pop.example.net>\r\n"),
    (True, b"USER bob\r\n"),
    (False, b"+OK\r\n"),
    (True, b"PASS hunter2\r\n"),
    (False, b"+OK Logged in.\r\n"),
    (True, b"STAT\r\n"),
    (False, b"+OK 2 2650\r\n"),
    (True, b"LIST\r\n"),
    (False, b"+OK 2 messages:\r\n1 1200\r\n2 1450\r\n.\r\n"),
    (True, b"LIST 2\r\n"),
    (False, b"+OK 2 1450\r\n"),
    (True, b"RETR 1\r\n"),
    (False, b"+OK %d octets\r\n" % BODY_SIZE + BODY + b".\r\n"),
    (True, b"DELE 1\r\n"),
    (False, b"+OK Marked to be deleted.\r\n"),
    (True, b"QUIT\r\n"),
    (False, b"+OK Logging out, messages deleted.\r\n"),
]


def test_session_commands_statuses_and_bodies() -> None:
    events = run(Pop3Dissector, SESSION, whole, 110)
    cmds = of(events, Pop3Command)
    assert [c.command for c in cmds] == ["USER", "PASS", "STAT", "LIST", "LIST", "RETR", "DELE", "QUIT"]
    assert [c.arg for c in cmds] == ["bob", None, None, None, "2", "1", "1", None]
    replies = of(events, Pop3Reply)
    assert [(r.indicator, r.command) for r in replies] == [
        ("+OK", None), ("+OK", "USER"), ("+OK", "PASS"), ("+OK", "STAT"), ("+OK", "LIST"), ("+OK", "LIST"),
        ("+OK", "RETR"), ("+OK", "DELE"), ("+OK", "QUIT"),
    ]  # fmt: skip
    data = of(events, Pop3Data)
    assert [(d.command, d.lines, d.complete) for d in data] == [("LIST", 2, True), ("RETR", 5, True)]
    assert data[1].size == BODY_SIZE
    assert not of(events, MailOddLine)


@pytest.mark.parametrize("cut", [whole, bytewise, thirds], ids=["whole", "bytewise", "thirds"])
def test_any_segmentation_gives_the_same_session(cut: Callable[[bytes], list[bytes]]) -> None:
    expected = logical(run(Pop3Dissector, SESSION, whole, 110), ("counted",))
    assert logical(run(Pop3Dissector, SESSION, cut, 110), ("counted",)) == expected


def test_tracker_row_never_holds_the_password() -> None:
    events = run(Pop3Dissector, SESSION, whole, 110)
    section = track(events, [events[0].uid])["pop3"]
    assert "hunter2" not in repr(section) and "hunter2" not in repr(events)
    assert section["commands"] == {
        "DELE": 1,
        "LIST": 2,
        "PASS": 1,
        "QUIT": 1,
        "RETR": 1,
        "STAT": 1,
        "USER": 1,
    }
    assert section["responses"] == {"+OK": 9}
    assert section["retr"] == {"count": 1, "bytes": BODY_SIZE} and section["dele"] == 1
    assert section["clear_text_passwords"] == 1
    (row,) = section["sessions"]
    assert row["user"] == "bob" and row["clear_text_password"] is True and row["login"] == "success"
    assert row["deleted"] == ["1"] and row["retr"] == 1 and row["retr_bytes"] == BODY_SIZE
    assert row["greeting"] == "POP3 server ready <1896.697170952@pop.example.net>"


def test_pipelined_lines_counted_like_tshark() -> None:
    """tshark 4.0 reports only the first line of each segment."""
    d = Pop3Dissector(make_flow(110))
    events = d.feed(b"+OK ready\r\n", False, CAPTURE_TS)
    events += d.feed(b"STAT\r\nLIST\r\n", True, CAPTURE_TS)
    events += d.feed(b"+OK 2 20\r\n+OK 2 msgs\r\n1 10\r\n2 10\r\n.\r\n", False, CAPTURE_TS)
    assert [(c.command, c.counted) for c in of(events, Pop3Command)] == [("STAT", True), ("LIST", False)]
    assert [(r.command, r.counted) for r in of(events, Pop3Reply)] == [
        (None, True),
        ("STAT", True),
        ("LIST", False),
    ]
    section = track(events)["pop3"]
    assert section["commands"] == {"STAT": 1} and section["pipelined_commands"] == {"LIST": 1}
    assert section["responses"] == {"+OK": 2} and section["pipelined_responses"] == {"+OK": 1}


def test_sasl_lines_are_not_commands_and_not_kept() -> None:
    script: Script = [
        (False, b"+OK ready\r\n"),
        (True, b"AUTH PLAIN\r\n"),
        (False, b"+ \r\n"),
        (True, b"AGJvYgBodW50ZXIy\r\n"),
        (False, b"+OK logged in\r\n"),
        (True, b"AUTH LOGIN\r\n"),
        (False, b"+ VXNlcm5hbWU6\r\n"),
        (True, b"Ym9i\r\n"),
        (False, b"+ UGFzc3dvcmQ6\r\n"),
        (True, b"aHVudGVyMg==\r\n"),
        (False, b"-ERR no\r\n"),
        (True, b"APOP bob c4c9334bac560ecc979e58001b3e22fb\r\n"),
        (False, b"+OK maildrop locked\r\n"),
    ]
    events = run(Pop3Dissector, script, whole, 110)
    assert [(c.command, c.arg) for c in of(events, Pop3Command)] == [
        ("AUTH", "PLAIN"), ("AUTH", "LOGIN"), ("APOP", "bob"),
    ]  # fmt: skip
    assert len(of(events, AuthContinuation)) == 3
    section = track(events, [events[0].uid])["pop3"]
    for secret in ("AGJvYgBodW50ZXIy", "Ym9i", "aHVudGVyMg", "c4c9334bac560ecc979e58001b3e22fb"):
        assert secret not in repr(section) and secret not in repr(events)
    assert section["sasl_lines"] == 3
    (row,) = section["sessions"]
    assert row["apop"] is True and row["user"] == "bob" and row["auth_mechanism"] == "LOGIN"


def test_garbage_answer_lines_are_odd_not_statuses() -> None:
    """Like zeek-pop3-unknown-commands.pcap: junk before the real +OK."""
    d = Pop3Dissector(make_flow(110))
    events = d.feed(b"STAT\n", True, CAPTURE_TS)
    events += d.feed(b"+\r\r..\r\r..x\r\r\n", False, CAPTURE_TS)
    events += d.feed(b".\r\r\t\t'\n", False, CAPTURE_TS)
    events += d.feed(b"+ok lower case\n", False, CAPTURE_TS)
    events += d.feed(b"+OK 1 236\n", False, CAPTURE_TS)
    assert [(r.indicator, r.command) for r in of(events, Pop3Reply)] == [("+OK", "STAT")]
    assert len(of(events, MailOddLine)) == 3


def test_unfinished_body_is_reported_at_close() -> None:
    script: Script = [(False, b"+OK\r\n"), (True, b"RETR 1\r\n"), (False, b"+OK\r\nSubject: x\r\n\r\ncut")]
    events = run(Pop3Dissector, script, whole, 110)
    (data,) = of(events, Pop3Data)
    assert (data.command, data.lines, data.complete) == ("RETR", 2, False)


def test_trailing_data_after_quit() -> None:
    events = run(Pop3Dissector, [*SESSION, (True, b"NOOP\r\nSTA")], whole, 110)
    assert [c.command for c in of(events, Pop3Command)][-2:] == ["QUIT", "NOOP"]


def test_overlong_line_is_malformed_and_bounded() -> None:
    d = Pop3Dissector(make_flow(110))
    with pytest.raises(Malformed) as exc:
        d.feed(b"+OK " + b"x" * 1_000_000, False, CAPTURE_TS)
    assert exc.value.reason == "pop3.line_too_long"
    assert d._server.lines.pending == 0


def test_stls_hands_over_to_tls() -> None:
    from analyzer.dissectors.tls import TlsClientHello

    script: Script = [
        (False, b"+OK ready\r\n"),
        (True, b"STLS\r\n" + client_hello("pop.example.net")),
        (False, b"+OK Begin TLS\r\n" + server_hello()),
    ]
    for cut in (whole, bytewise):
        events = run(Pop3Dissector, script, cut, 110)
        assert len(of(events, TlsUpgrade)) == 1
        assert [c.command for c in of(events, Pop3Command)] == ["STLS"]
        assert [ch.server_name for ch in of(events, TlsClientHello)] == ["pop.example.net"]
    refused: Script = [(False, b"+OK\r\n"), (True, b"STLS\r\nUSER bob\r\n"), (False, b"-ERR no TLS\r\n")]
    events = run(Pop3Dissector, refused, whole, 110)
    assert not of(events, TlsUpgrade)
    assert [c.command for c in of(events, Pop3Command)] == ["STLS", "USER"]


@pytest.mark.parametrize("pure_acks", [False, True], ids=["hello-with-ack", "hello-after-ack"])
def test_stls_pipeline_tls_tracker_sees_client_hello(tmp_path: Path, pure_acks: bool) -> None:
    script: Script = [
        (False, b"+OK POP3 ready\r\n"),
        (True, b"STLS\r\n"),
        (False, b"+OK Begin TLS negotiation\r\n"),
        (True, client_hello("pop.example.net")),
        (False, server_hello()),
    ]
    out = analyze_json(write_conversation(tmp_path / "stls.pcap", script, 110, pure_acks))
    assert out["pop3"]["tls_upgrades"] == 1 and out["pop3"]["sessions"][0]["tls"] is True
    assert out["pop3"]["commands"] == {"STLS": 1} and out["pop3"]["responses"] == {"+OK": 2}
    assert out["tls"]["client_hello"] == 1 and out["tls"]["sni"] == {"pop.example.net": 1}


def test_pop3_on_unexpected_port_recognised_by_greeting(tmp_path: Path) -> None:
    out = analyze_json(write_conversation(tmp_path / "pop1110.pcap", SESSION, 1110))
    assert out["pop3"]["commands"]["RETR"] == 1 and out["pop3"]["sessions"][0]["id.resp_p"] == 1110


def test_terminal_tables() -> None:
    summary = track(run(Pop3Dissector, SESSION, whole, 110))
    tables = pop3_tables(summary)
    assert [t.title for t in tables] == ["POP3 overview", "POP3 commands", "POP3 responses", "POP3 sessions"]
    text = render(summary, ["pop3"])
    assert "bob" in text and "hunter2" not in text


def test_registry_wires_pop3() -> None:
    assert registry.STREAM_DISSECTORS["pop3"] is Pop3Dissector


POP3_WORDS = [
    b"+OK\r\n", b"-ERR\r\n", b".\r\n", b"RETR 1\r\n", b"LIST\r\n", b"AUTH PLAIN\r\n", b"+ \r\n", b"STLS\r\n",
    b"..x\r\n", b"\x16\x03\x01\x00\x05",
]  # fmt: skip
"""Lines that drive the state machine, mixed into the fuzz input so it reaches every mode."""


@given(fuzz_chunks(POP3_WORDS), FUZZ_GAPS)
def test_fuzz_only_malformed_escapes(chunks: list[tuple[bool, bytes]], gaps: list[int]) -> None:
    events = fuzz_feed(Pop3Dissector(make_flow(110)), chunks, dict(enumerate(gaps)), CAPTURE_TS)
    if events is not None:
        track(events)


# -- agreement with tshark ------------------------------------------------------------------------

POP3_CAPTURES = mail_captures("pop")


@needs_tshark
@pytest.mark.parametrize("path", POP3_CAPTURES, ids=lambda p: Path(p).name)
def test_counts_equal_tshark(path: str) -> None:
    require_file(path)
    assert_counts_like_tshark(
        path,
        "pop3",
        "pop && !icmp && !icmpv6",
        {"commands": "pop.request.command", "responses": "pop.response.indicator"},
    )


@needs_shared
@pytest.mark.parametrize("rel", truth_files("pop"))
def test_counts_equal_truth_file(rel: str) -> None:
    assert_counts_like_truth(
        rel, "pop3", {"commands": ("pop", "commands"), "responses": ("pop", "response_indicators")}
    )


@needs_tshark
def test_tshark_quirks_we_reproduce(tmp_path: Path) -> None:
    """Pipelined commands and answers, a body segment, a split status line - checked against tshark."""
    script: Script = [
        (False, b"+OK ready\r\n"),
        (True, b"USER a\r\nPASS b\r\n"),
        (False, b"+OK\r\n"),
        (False, b"+OK\r\n"),
        (True, b"STAT\r\nLIST\r\n"),
        (False, b"+OK 2 20\r\n+OK 2 msgs\r\n1 10\r\n2 10\r\n.\r\n"),
        (True, b"RETR 1\r\n"),
        (False, b"+OK 10 octets\r\nSubj"),
        (False, b"ect: a\r\n\r\nbody\r\n.\r\n"),
        (True, b"DELE 1\r\n"),
        (False, b"+OK del\r\n"),
        (True, b"QUIT\r\n"),
        (False, b"+OK bye\r\n"),
    ]
    path = str(write_conversation(tmp_path / "quirks.pcap", script, 110))
    ours = analyze_json(path)["pop3"]
    commands = tshark_counter(path, "pop", "pop.request.command")
    assert ours["commands"] == dict(commands) == {"DELE": 1, "QUIT": 1, "RETR": 1, "STAT": 1, "USER": 1}
    assert ours["responses"] == dict(tshark_counter(path, "pop", "pop.response.indicator")) == {"+OK": 7}
    assert ours["pipelined_commands"] == {"LIST": 1, "PASS": 1}
