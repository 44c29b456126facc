"""SMTP: commands, multi-line replies counted as tshark does, DATA/BDAT bodies, AUTH, STARTTLS hand-over
to TLS, findings, the tracker's rows, the terminal tables, and agreement with tshark on real captures.

The first part is the SMTP side of the kit (the shared builders and feeding helpers are in
tests/streamkit.py); the POP3 and IMAP tests import it too.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

from analyzer import registry
from analyzer.dissectors.base import TlsUpgrade
from analyzer.dissectors.lines import MAX_LINE
from analyzer.dissectors.smtp import DATA_END, SmtpCommand, SmtpDissector, SmtpMessage, SmtpReply
from analyzer.dissectors.textproto import (
    MAX_HELD_BYTES,
    AuthContinuation,
    MailGap,
    MailOddLine,
)
from analyzer.errors import Malformed
from analyzer.flows import Flow
from analyzer.report.sections.mail import smtp_tables
from analyzer.report.terminal import render
from analyzer.trackers.conn import ConnRecord
from analyzer.trackers.mail import MailTracker
from tests.oracle import (
    SAMPLES,
    SHARED_PCAPS,
    analyze_json,
    needs_shared,
    needs_tshark,
    require_file,
    shared_entry,
    truth_files,
)
from tests.streamkit import (
    FUZZ_GAPS,
    Script,
    bytewise,
    client_hello,
    conversation_frames,
    feed_script,
    flow_of,
    fuzz_chunks,
    fuzz_feed,
    of,
    server_hello,
    tcp_frame,
    thirds,
    tshark_counter,
    tshark_lines,
    whole,
    write_pcap,
)

# -- kit: wire builders and feeding ---------------------------------------------------------------

CLIENT_IP = bytes([192, 0, 2, 10])
SERVER_IP = bytes([198, 51, 100, 25])
CAPTURE_TS = 1_700_000_000.0


def write_conversation(
    path: Path, exchanges: list[tuple[bool, bytes]], dport: int, pure_acks: bool = True
) -> Path:
    """A pcap of one TCP connection: handshake, each (from_client, data) segment in order, FIN teardown.

    With `pure_acks` every data segment is acknowledged by an empty segment of the other side before
    the next one; without, the acknowledgement rides on the other side's next data segment.
    """
    frames = conversation_frames(CLIENT_IP, SERVER_IP, dport, exchanges, pure_acks=pure_acks, final_ack=True)
    return write_pcap(path, ((int(CAPTURE_TS) + i // 10, (i % 10) * 1000, fr) for i, fr in enumerate(frames)))


def make_flow(dport: int) -> Flow:
    return flow_of(tcp_frame(CLIENT_IP, SERVER_IP, 50000, dport, 1000, 0, 0x02, b""), CAPTURE_TS)


def run(
    factory: Callable[[Flow], Any], script: Script, cut: Callable[[bytes], list[bytes]], port: int
) -> list[Any]:
    """Feed a script to a fresh dissector, every message cut by `cut`; then close it."""
    return feed_script(factory(make_flow(port)), script, cut, CAPTURE_TS)


def logical(events: list[Any], chunk_fields: tuple[str, ...] = ()) -> list[Any]:
    """Events without time and without the fields that depend on TCP segmentation (tshark parity)."""
    out = []
    for e in events:
        d = dataclasses.asdict(e)
        for name in ("ts", *chunk_fields):
            d.pop(name, None)
        out.append((type(e).__name__, d))
    return out


def track(events: list[Any], conn_uids: Iterable[str] = ()) -> dict[str, Any]:
    """Run events through a MailTracker (closing the given connections) and return its sections."""
    tracker = MailTracker()
    for e in events:
        if type(e) in MailTracker.EVENT_TYPES:
            tracker.handle(e)
    for uid in conn_uids:
        tracker.handle(conn_record(uid))
    return tracker.finish()


def conn_record(uid: str) -> ConnRecord:
    """The end of a connection, as the pipeline reports it after the dissector's last events."""
    return ConnRecord(
        ts=CAPTURE_TS, uid=uid, orig_h="192.0.2.10", orig_p=50000, resp_h="198.51.100.25", resp_p=25,
        proto="tcp", service="smtp", service_how="both", duration=1.0, orig_bytes=0, resp_bytes=0,
        conn_state="SF", missed_bytes=0, history="ShAdDaFf", orig_pkts=1, orig_ip_bytes=1, resp_pkts=1,
        resp_ip_bytes=1,
    )  # fmt: skip


# -- SMTP scripts ---------------------------------------------------------------------------------

MESSAGE = (
    b"From: Alice <alice@example.com>\r\n"
    b"To: Bob <bob@example.net>, carol@example.net\r\n"
    b"Subject: Hello\r\n"
    b"Date: Fri, 01 Mar 2024 16:00:00 +0000\r\n"
    b"Message-ID: <1@example.com>\r\n"
    b"Received: from relay.example.com ([203.0.113.7]) by mx.example.net\r\n"
    b"\r\n"
    b"MAIL FROM:<inside@body> is not a command\r\n"
    b"..starts with a dot\r\n"
)
UNSTUFFED_SIZE = len(MESSAGE) - 1

DELIVERY: Script = [
    (False, b"220 mx.example.net ESMTP ready\r\n"),
    (True, b"ehlo client.example.com\r\n"),
    (False, b"250-mx.example.net\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"),
    (True, b"AUTH LOGIN\r\n"),
    (False, b"334 VXNlcm5hbWU6\r\n"),
    (True, b"Ym9i\r\n"),
    (False, b"334 UGFzc3dvcmQ6\r\n"),
    (True, b"aHVudGVyMg==\r\n"),
    (False, b"235 2.7.0 Authentication successful\r\n"),
    (
        True,
        b"MAIL FROM:<alice@example.com> SIZE=100\r\nRCPT TO:<bob@example.net>\r\nRCPT TO:<x@example.net>\r\n",
    ),
    (False, b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <x@example.net>: unknown user\r\n"),
    (True, b"DATA\r\n"),
    (False, b"354 End data with <CR><LF>.<CR><LF>\r\n"),
    (True, MESSAGE + b".\r\n"),
    (False, b"250 2.0.0 Ok: queued as ABC\r\n"),
    (True, b"QUIT\r\n"),
    (False, b"221 2.0.0 Bye\r\n"),
]


# -- dissector ------------------------------------------------------------------------------------


def test_delivery_commands_replies_and_message() -> None:
    events = run(SmtpDissector, DELIVERY, whole, 25)
    assert [e.command for e in of(events, SmtpCommand)] == [
        "EHLO",
        "AUTH",
        "MAIL",
        "RCPT",
        "RCPT",
        "DATA",
        "QUIT",
    ]
    replies = of(events, SmtpReply)
    assert [(r.code, r.command) for r in replies] == [
        (220, None), (250, "EHLO"), (334, "AUTH"), (334, "AUTH"), (235, "AUTH"), (250, "MAIL"),
        (250, "RCPT"), (550, "RCPT"), (354, "DATA"), (250, DATA_END), (221, "QUIT"),
    ]  # fmt: skip
    ehlo = replies[1]
    assert ehlo.lines == 4 and ehlo.code_lines == 1
    assert ehlo.extensions == ("PIPELINING", "STARTTLS", "AUTH PLAIN LOGIN")
    assert of(events, SmtpCommand)[1].arg == "LOGIN"
    assert [c.arg for c in of(events, SmtpCommand)[2:5]] == [
        "alice@example.com",
        "bob@example.net",
        "x@example.net",
    ]
    assert len(of(events, AuthContinuation)) == 2
    (msg,) = of(events, SmtpMessage)
    assert msg.complete and msg.via == "DATA" and msg.size == UNSTUFFED_SIZE
    headers = dict(msg.headers)
    assert headers["subject"] == "Hello" and headers["msg_id"] == "<1@example.com>"
    assert headers["to"] == ("Bob <bob@example.net>", "carol@example.net")
    assert msg.received_path == ("203.0.113.7",)
    assert not of(events, MailOddLine)


def test_secrets_never_reach_events_or_json() -> None:
    events = run(SmtpDissector, DELIVERY, whole, 25)
    blob = repr(events) + repr(track(events))
    for secret in ("Ym9i", "aHVudGVyMg", "hunter2"):
        assert secret not in blob
    plain = [*DELIVERY[:3], (True, b"AUTH PLAIN AGJvYgBodW50ZXIy\r\n"), (False, b"235 ok\r\n")]
    events = run(SmtpDissector, plain, whole, 25)
    assert of(events, SmtpCommand)[-1].arg == "PLAIN"
    assert "AGJvYgBodW50ZXIy" not in repr(events)


@pytest.mark.parametrize("cut", [whole, bytewise, thirds], ids=["whole", "bytewise", "thirds"])
def test_any_segmentation_gives_the_same_session(cut: Callable[[bytes], list[bytes]]) -> None:
    expected = logical(run(SmtpDissector, DELIVERY, whole, 25), ("code_lines",))
    assert logical(run(SmtpDissector, DELIVERY, cut, 25), ("code_lines",)) == expected


def test_commands_split_at_every_position() -> None:
    data = b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n"
    for i in range(1, len(data)):
        d = SmtpDissector(make_flow(25))
        events = d.feed(data[:i], True, CAPTURE_TS) + d.feed(data[i:], True, CAPTURE_TS)
        assert [(c.command, c.arg) for c in of(events, SmtpCommand)] == [("MAIL", "a@b"), ("RCPT", "c@d")]


def test_trailing_data_after_quit_and_unfinished_line() -> None:
    script = [*DELIVERY, (True, b"NOOP\r\nRSET")]
    events = run(SmtpDissector, script, whole, 25)
    assert [c.command for c in of(events, SmtpCommand)][-2:] == ["QUIT", "NOOP"]  # RSET never ended


def test_code_lines_follow_segments_like_tshark() -> None:
    """tshark gives smtp.response.code once per segment piece of a multi-line reply."""
    reply = b"250-mx\r\n250-SIZE 1\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
    d = SmtpDissector(make_flow(25))
    d.feed(b"EHLO x\r\n", True, CAPTURE_TS)
    events = d.feed(reply[:20], False, CAPTURE_TS) + d.feed(reply[20:], False, CAPTURE_TS)
    (r,) = of(events, SmtpReply)
    assert (r.lines, r.code_lines) == (4, 2)
    d = SmtpDissector(make_flow(25))
    d.feed(b"EHLO x\r\n", True, CAPTURE_TS)
    events = [e for i in range(len(reply)) for e in d.feed(reply[i : i + 1], False, CAPTURE_TS)]
    assert of(events, SmtpReply)[0].code_lines == 4  # one line per segment: one code per line


def test_pipelined_replies_in_one_segment_each_carry_a_code() -> None:
    d = SmtpDissector(make_flow(25))
    d.feed(b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n", True, CAPTURE_TS)
    events = d.feed(b"250 ok\r\n550 no\r\n554 no valid recipients\r\n", False, CAPTURE_TS)
    assert [(r.command, r.code, r.code_lines) for r in of(events, SmtpReply)] == [
        ("MAIL", 250, 1), ("RCPT", 550, 1), ("DATA", 554, 1),
    ]  # fmt: skip
    # DATA was refused: the client's next lines are commands again, not a body
    events = d.feed(b"RSET\r\nQUIT\r\n", True, CAPTURE_TS)
    assert [c.command for c in of(events, SmtpCommand)] == ["RSET", "QUIT"]


def test_bdat_chunks_are_not_commands() -> None:
    chunk1 = b"Subject: chunked\r\n\r\nRSET\r\n"
    chunk2 = b"QUIT\r\n"
    script: Script = [
        (False, b"220 mx ESMTP\r\n"),
        (True, b"EHLO c\r\n"),
        (False, b"250-mx\r\n250 CHUNKING\r\n"),
        (True, b"MAIL FROM:<a@b>\r\n"),
        (False, b"250 ok\r\n"),
        (True, b"RCPT TO:<c@d>\r\n"),
        (False, b"250 ok\r\n"),
        (True, b"BDAT %d\r\n" % len(chunk1) + chunk1),
        (False, b"250 ok\r\n"),
        (True, b"BDAT %d LAST\r\n" % len(chunk2) + chunk2),
        (False, b"250 queued\r\n"),
        (True, b"QUIT\r\n"),
        (False, b"221 bye\r\n"),
    ]
    for cut in (whole, bytewise):
        events = run(SmtpDissector, script, cut, 25)
        assert [c.command for c in of(events, SmtpCommand)] == [
            "EHLO",
            "MAIL",
            "RCPT",
            "BDAT",
            "BDAT",
            "QUIT",
        ]
        (msg,) = of(events, SmtpMessage)
        assert (msg.via, msg.size, msg.complete) == ("BDAT", len(chunk1) + len(chunk2), True)
        assert dict(msg.headers)["subject"] == "chunked"
    rows = track(run(SmtpDissector, script, whole, 25))["smtp"]["sessions"]
    assert [(r["trans_depth"], r["subject"], r["last_reply"]) for r in rows] == [(1, "chunked", "250 queued")]


def test_empty_line_and_codeless_reply_are_odd_lines() -> None:
    d = SmtpDissector(make_flow(25))
    events = d.feed(b"hello there\r\n", False, CAPTURE_TS) + d.feed(b"\r\n", True, CAPTURE_TS)
    assert [e.reason for e in of(events, MailOddLine)] == ["reply_without_code", "empty_command"]
    assert not of(events, SmtpCommand) and not of(events, SmtpReply)


def test_overlong_line_is_malformed_and_bounded() -> None:
    d = SmtpDissector(make_flow(25))
    d.feed(b"220 mx ESMTP\r\n", False, CAPTURE_TS)
    with pytest.raises(Malformed) as exc:
        d.feed(b"A" * 1_000_000, False, CAPTURE_TS)
    assert exc.value.reason == "smtp.line_too_long"
    assert d._server.lines.pending == 0  # nothing of the megabyte was kept
    d = SmtpDissector(make_flow(25))
    with pytest.raises(Malformed):
        for _ in range(MAX_LINE // 1000 + 2):
            d.feed(b"B" * 1000, True, CAPTURE_TS)
    assert d._client.lines.pending <= MAX_LINE


def test_long_body_lines_are_tolerated() -> None:
    long_line = b"x" * 200_000
    script = [*DELIVERY[:11], (True, b"DATA\r\n"), (False, b"354 go\r\n"), (True, b"Subject: big\r\n\r\n"),
              (True, long_line), (True, b"\r\n.\r\n"), (False, b"250 ok\r\n")]  # fmt: skip
    events = run(SmtpDissector, script, whole, 25)
    (msg,) = of(events, SmtpMessage)
    assert msg.size == len(b"Subject: big\r\n\r\n") + len(long_line) + 2
    assert of(events, SmtpReply)[-1].command == DATA_END


def test_gap_in_command_line_resyncs_at_next_line() -> None:
    d = SmtpDissector(make_flow(25))
    events = d.feed(b"MAIL FROM:<a", True, CAPTURE_TS)
    events += d.gap(10, True, CAPTURE_TS)
    events += d.feed(b"rest of lost line\r\nRCPT TO:<c@d>\r\n", True, CAPTURE_TS)
    assert [c.command for c in of(events, SmtpCommand)] == ["RCPT"]
    assert [g.size for g in of(events, MailGap)] == [10]


# -- STARTTLS -------------------------------------------------------------------------------------

STARTTLS_HEAD: Script = [
    (False, b"220 mail.example.com ESMTP\r\n"),
    (True, b"EHLO c.example.com\r\n"),
    (False, b"250-mail.example.com\r\n250 STARTTLS\r\n"),
    (True, b"STARTTLS\r\n"),
]


def test_starttls_hands_bytes_to_tls_even_when_pipelined() -> None:
    from analyzer.dissectors.tls import TlsClientHello, TlsServerHello

    hello = client_hello("mail.example.com")
    # the client sends its ClientHello without waiting; the server's 220 and ServerHello share a segment
    script = [*STARTTLS_HEAD[:3], (True, b"STARTTLS\r\n" + hello), (False, b"220 go\r\n" + server_hello())]
    for cut in (whole, bytewise):
        events = run(SmtpDissector, script, cut, 25)
        assert len(of(events, TlsUpgrade)) == 1
        assert [c.command for c in of(events, SmtpCommand)] == ["EHLO", "STARTTLS"]
        (ch,) = of(events, TlsClientHello)
        assert ch.server_name == "mail.example.com"
        assert len(of(events, TlsServerHello)) == 1
        assert not of(events, MailOddLine)


def test_refused_starttls_releases_held_commands() -> None:
    script = [
        *STARTTLS_HEAD[:3],
        (True, b"STARTTLS\r\nMAIL FROM:<a@b>\r\n"),
        (False, b"454 TLS not available\r\n"),
    ]
    events = run(SmtpDissector, script, whole, 25)
    assert not of(events, TlsUpgrade)
    assert [c.command for c in of(events, SmtpCommand)] == ["EHLO", "STARTTLS", "MAIL"]


def test_unanswered_starttls_is_bounded() -> None:
    d = SmtpDissector(make_flow(25))
    d.feed(b"STARTTLS\r\n", True, CAPTURE_TS)
    with pytest.raises(Malformed) as exc:
        for _ in range(MAX_HELD_BYTES // 4096 + 2):
            d.feed(b"\x17" * 4096, True, CAPTURE_TS)
    assert exc.value.reason == "smtp.starttls_unanswered"


@pytest.mark.parametrize("pure_acks", [False, True], ids=["hello-with-ack", "hello-after-ack"])
def test_starttls_pipeline_tls_tracker_sees_client_hello(tmp_path: Path, pure_acks: bool) -> None:
    """Through the pipeline: the ClientHello rides on the ACK of the 220, or follows a pure ACK."""
    ready = (False, b"220 2.0.0 Ready to start TLS\r\n")
    script = [*STARTTLS_HEAD, ready, (True, client_hello("mail.example.com")), (False, server_hello())]
    out = analyze_json(write_conversation(tmp_path / "starttls.pcap", script, 25, pure_acks))
    assert out["smtp"]["tls_upgrades"] == 1
    assert out["smtp"]["commands"] == {"EHLO": 1, "STARTTLS": 1}
    assert out["smtp"]["sessions"][0]["tls"] is True
    assert out["tls"]["client_hello"] == 1
    assert out["tls"]["sni"] == {"mail.example.com": 1}


def test_smtp_on_unexpected_port_recognised_by_greeting(tmp_path: Path) -> None:
    out = analyze_json(write_conversation(tmp_path / "smtp2525.pcap", DELIVERY, 2525))
    assert out["smtp"]["commands"] == {"AUTH": 1, "DATA": 1, "EHLO": 1, "MAIL": 1, "QUIT": 1, "RCPT": 2}
    assert out["smtp"]["sessions"][0]["id.resp_p"] == 2525


# -- tracker and report ---------------------------------------------------------------------------


def test_tracker_rows_counts_and_findings() -> None:
    events = run(SmtpDissector, DELIVERY, whole, 25)
    uid = events[0].uid
    section = track(events, [uid])["smtp"]
    assert section["commands"] == {"AUTH": 1, "DATA": 1, "EHLO": 1, "MAIL": 1, "QUIT": 1, "RCPT": 2}
    assert section["reply_codes"] == {"220": 1, "221": 1, "235": 1, "250": 4, "334": 2, "354": 1, "550": 1}
    assert section["auth_continuations"] == 2 and section["messages"] == 1
    assert section["reply_classes"] == {
        "permanent_negative": 1, "positive_completion": 7, "positive_intermediate": 3,
    }  # fmt: skip
    (row,) = section["sessions"]
    assert (
        row["helo"] == "client.example.com"
        and row["auth_mechanism"] == "LOGIN"
        and row["auth_success"] is True
    )
    assert (
        row["rcptto"] == ["bob@example.net", "x@example.net"] and row["from"] == "Alice <alice@example.com>"
    )
    assert row["path"] == ["198.51.100.25", "192.0.2.10", "203.0.113.7"]
    assert row["last_reply"] == "250 2.0.0 Ok: queued as ABC" and row["msg_size"] == UNSTUFFED_SIZE
    (finding,) = section["findings"]
    assert finding["kind"] == "permanent" and finding["codes"] == {"550": 1}
    assert finding["recipients"] == ["x@example.net"] and finding["sender"] == "alice@example.com"


def test_repeated_greylisting_attempts_are_one_finding() -> None:
    attempt: Script = [
        (False, b"220 mx ESMTP\r\n"),
        (True, b"HELO c\r\n"),
        (False, b"250 mx\r\n"),
        (True, b"MAIL FROM:<alice@example.com>\r\n"),
        (False, b"250 ok\r\n"),
        (True, b"RCPT TO:<dave@example.net>\r\n"),
        (False, b"451 4.7.1 Greylisted, try again later\r\n"),
        (True, b"QUIT\r\n"),
        (False, b"221 bye\r\n"),
    ]
    tracker = MailTracker()
    for n in range(3):
        flow = make_flow(25)
        flow.uid = f"Cattempt{n}"
        d = SmtpDissector(flow)
        for i, (from_client, data) in enumerate(attempt):
            for e in d.feed(data, from_client, CAPTURE_TS + 600 * n + i):
                tracker.handle(e)
    section = tracker.finish()["smtp"]
    (finding,) = section["findings"]
    assert finding["kind"] == "transient" and finding["attempts"] == 3 and finding["sessions"] == 3
    assert finding["last_ts"] - finding["first_ts"] == 1200
    assert len(section["sessions"]) == 3


def test_terminal_tables_escape_wire_text() -> None:
    script = [(False, b"220 evil\x1b[31m ESMTP\r\n"), (True, b"HELO \x1b[2Jx\r\n"), (False, b"250 ok\r\n")]
    summary = track(run(SmtpDissector, script, whole, 25))
    tables = smtp_tables(summary)
    assert tables and any(t.rows for t in tables)
    text = render(summary, ["smtp"])
    assert "\x1b" not in text and "\\e[2Jx" in text


def test_registry_wires_smtp() -> None:
    assert registry.STREAM_DISSECTORS["smtp"] is SmtpDissector
    assert MailTracker in registry.TRACKERS


# -- fuzz -----------------------------------------------------------------------------------------

SMTP_WORDS = [
    b"DATA\r\n", b"354 go\r\n", b".\r\n", b"BDAT 3\r\n", b"BDAT 2 LAST\r\n", b"AUTH LOGIN\r\n", b"334 x\r\n",
    b"STARTTLS\r\n", b"220 go\r\n", b"250-a\r\n", b"250 b\r\n", b"EHLO x\r\n", b"\x16\x03\x01\x00\x05",
]  # fmt: skip
"""Lines that drive the state machine, mixed into the fuzz input so it reaches every mode."""


@given(fuzz_chunks(SMTP_WORDS), FUZZ_GAPS)
def test_fuzz_only_malformed_escapes(chunks: list[tuple[bool, bytes]], gaps: list[int]) -> None:
    events = fuzz_feed(SmtpDissector(make_flow(25)), chunks, dict(enumerate(gaps)), CAPTURE_TS)
    if events is not None:
        track(events)


# -- agreement with tshark ------------------------------------------------------------------------


def smtp_tshark(path: Path | str) -> tuple[Counter[str], Counter[str]]:
    """(first word of each smtp.command_line upper-cased, smtp.response.code counts), as TRUTH.json."""
    verbs: Counter[str] = Counter()
    for line in tshark_lines(path, "smtp.command_line && !icmp && !icmpv6", "smtp.command_line"):
        words = line.replace("\\r\\n", " ").replace("\\n", " ").split()
        if words:
            verbs[words[0].upper()] += 1
    codes = tshark_counter(path, "smtp && !icmp && !icmpv6", "smtp.response.code")
    return verbs, codes


def mail_captures(section: str) -> list[str]:
    """The samples that hold mail, then the shared captures with a `section` in TRUTH.json."""
    return [str(SAMPLES / "mail.pcap"), str(SAMPLES / "mixed.pcap")] + [
        str(SHARED_PCAPS / f) for f in truth_files(section)
    ]


def assert_counts_like_tshark(path: str, section: str, display_filter: str, fields: dict[str, str]) -> None:
    """Our `section` counters (key -> the tshark field counted) equal tshark's; skip an absent file."""
    require_file(path)
    ours = analyze_json(path).get(section, {})
    for key, field in fields.items():
        assert ours.get(key, {}) == dict(tshark_counter(path, display_filter, field)), key


def assert_counts_like_truth(rel: str, section: str, fields: dict[str, tuple[str, str]]) -> None:
    """Our `section` counters (key -> (TRUTH.json section, key)) equal the shared capture's truth."""
    entry = shared_entry(rel)
    ours = analyze_json(str(SHARED_PCAPS / rel))[section]
    for key, (truth_section, truth_key) in fields.items():
        assert ours[key] == entry[truth_section][truth_key], key


SMTP_CAPTURES = mail_captures("smtp")


@needs_tshark
@pytest.mark.parametrize("path", SMTP_CAPTURES, ids=lambda p: Path(p).name)
def test_counts_equal_tshark(path: str) -> None:
    require_file(path)
    verbs, codes = smtp_tshark(path)
    ours = analyze_json(path).get("smtp", {})
    assert ours.get("commands", {}) == dict(verbs)
    assert ours.get("reply_codes", {}) == dict(codes)


@needs_shared
@pytest.mark.parametrize("rel", truth_files("smtp"))
def test_counts_equal_truth_file(rel: str) -> None:
    assert_counts_like_truth(
        rel,
        "smtp",
        {"commands": ("smtp", "command_verbs_from_command_line"), "reply_codes": ("smtp", "reply_codes")},
    )


@needs_tshark
def test_tshark_quirks_we_reproduce(tmp_path: Path) -> None:
    """A multi-line reply cut at a line boundary and pipelined commands, checked against tshark itself."""
    script: Script = [
        (False, b"220 mx ESMTP\r\n"),
        (True, b"ehlo x\r\n"),
        (False, b"250-mx\r\n250-SI"),
        (False, b"ZE 1\r\n250-PIPELINING\r\n250 8BITMIME\r\n"),
        (True, b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\nDATA\r\n"),
        (False, b"250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n"),
        (True, b"Subject: x\r\n\r\nhello\r\nMAIL FROM:<x>\r\n"),
        (True, b"..dot\r\n.\r\n"),
        (False, b"250 queued\r\n"),
        (True, b"auth cram-md5\r\n"),
        (False, b"334 PDQ1MDMuMTIzQGV4YW1wbGU+\r\n"),
        (True, b"dXNlciBhYmNkZWY=\r\n"),
        (False, b"535 bad\r\n"),
        (True, b"QUIT\r\n"),
        (False, b"221 bye\r\n"),
    ]
    path = write_conversation(tmp_path / "quirks.pcap", script, 25)
    verbs, codes = smtp_tshark(path)
    ours = analyze_json(str(path))["smtp"]
    assert codes["250"] == 5  # the EHLO reply spans two segments: two codes
    assert (
        ours["commands"] == dict(verbs) == {"AUTH": 1, "DATA": 1, "EHLO": 1, "MAIL": 1, "QUIT": 1, "RCPT": 2}
    )
    assert ours["reply_codes"] == dict(codes)
