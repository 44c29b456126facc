"""FTP: the control dissector fed whole, byte by byte and cut at odd places; AUTH TLS hand-over; the
data channel linked to its control session through the pipeline; counts equal tshark's on the samples
and on the shared captures; bounded lines; a fuzz test.

The kit at the top (a multi-connection pcap builder) is also used by tests/test_services.py.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.dissectors.base import ExpectedConnection, TlsUpgrade
from analyzer.dissectors.ftp import (
    MAX_LINE,
    FtpCommand,
    FtpDataDissector,
    FtpDataRecord,
    FtpDissector,
    FtpRecord,
    FtpReply,
    FtpResponseCode,
    FtpSessionEnd,
    parse_eprt_arg,
    parse_epsv_reply,
    parse_port_arg,
    sniff_mime,
)
from analyzer.dissectors.tls import TlsClientHello
from analyzer.errors import Malformed
from analyzer.flows import Flow
from analyzer.pipeline import Pipeline
from analyzer.report.sections.ftp import ftp_tables
from analyzer.report.terminal import render
from analyzer.trackers.conn import ConnRecord
from analyzer.trackers.ftp import FtpTracker
from tests import streamkit
from tests.oracle import (
    SAMPLES,
    SHARED_PCAPS,
    analyze_json,
    needs_shared,
    needs_tshark,
    shared_entry,
    truth_files,
    tshark_fields,
)
from tests.streamkit import (
    Script,
    bytewise,
    client_hello,
    feed_script,
    flow_of,
    fuzz_feed,
    ip4,
    of,
    thirds,
    whole,
    write_pcap,
)

# -- kit: a pcap of several TCP connections ----------------------------------------------------------

CAPTURE_TS = 1_700_000_000.0
CLIENT = "192.0.2.10"
SERVER = "198.51.100.21"


def tcp_frame(
    src: str, dst: str, sport: int, dport: int, seq: int, ack: int, flags: int, data: bytes
) -> bytes:
    """An Ethernet/IPv4/TCP frame with correct IP and TCP checksums."""
    return streamkit.tcp_frame(
        ip4(src), ip4(dst), sport, dport, seq, ack, flags, data, tcp_checksum=True, dont_fragment=True
    )


class Capture:
    """Frames in the order they are made, 1 ms apart."""

    def __init__(self) -> None:
        self.frames: list[tuple[float, bytes]] = []
        self.ts = CAPTURE_TS

    def add(self, frame: bytes) -> None:
        self.ts += 0.001
        self.frames.append((self.ts, frame))

    def connect(self, client: str, cport: int, server: str, sport: int) -> Tcp:
        return Tcp(self, client, cport, server, sport)

    def write(self, path: Path) -> Path:
        return write_pcap(path, ((int(ts), round((ts - int(ts)) * 1e6), fr) for ts, fr in self.frames))


class Tcp:
    """One TCP connection: handshake at creation, `send` one segment (acknowledged), `close`."""

    def __init__(self, cap: Capture, client: str, cport: int, server: str, sport: int) -> None:
        self.cap, self.c, self.cp, self.s, self.sp = cap, client, cport, server, sport
        self.cseq, self.sseq = 1000 + cport, 50_000 + sport
        cap.add(tcp_frame(client, server, cport, sport, self.cseq, 0, 0x02, b""))
        self.cseq += 1
        cap.add(tcp_frame(server, client, sport, cport, self.sseq, self.cseq, 0x12, b""))
        self.sseq += 1
        cap.add(tcp_frame(client, server, cport, sport, self.cseq, self.sseq, 0x10, b""))

    def send(self, from_client: bool, data: bytes) -> None:
        if from_client:
            self.cap.add(tcp_frame(self.c, self.s, self.cp, self.sp, self.cseq, self.sseq, 0x18, data))
            self.cseq += len(data)
            self.cap.add(tcp_frame(self.s, self.c, self.sp, self.cp, self.sseq, self.cseq, 0x10, b""))
        else:
            self.cap.add(tcp_frame(self.s, self.c, self.sp, self.cp, self.sseq, self.cseq, 0x18, data))
            self.sseq += len(data)
            self.cap.add(tcp_frame(self.c, self.s, self.cp, self.sp, self.cseq, self.sseq, 0x10, b""))

    def close(self) -> None:
        self.cap.add(tcp_frame(self.c, self.s, self.cp, self.sp, self.cseq, self.sseq, 0x11, b""))
        self.cap.add(tcp_frame(self.s, self.c, self.sp, self.cp, self.sseq, self.cseq + 1, 0x11, b""))
        self.cap.add(tcp_frame(self.c, self.s, self.cp, self.sp, self.cseq + 1, self.sseq + 1, 0x10, b""))


def make_flow(dport: int = 21, sport: int = 50000) -> Flow:
    return flow_of(tcp_frame(CLIENT, SERVER, sport, dport, 1000, 0, 0x02, b""), CAPTURE_TS)


def events_of(path: Path) -> list[Any]:
    """Every event and record the pipeline produces for a capture."""
    out: list[Any] = []
    pipe = Pipeline(event_sink=out.append)
    pipe.run_file(str(path))
    return out


# -- kit: feeding a dissector --------------------------------------------------------------------------

CUTS = [whole, bytewise, thirds]


def run(script: Script, cut: Callable[[bytes], list[bytes]] = whole, flow: Flow | None = None) -> list[Any]:
    return feed_script(FtpDissector(flow or make_flow()), script, cut, CAPTURE_TS)


def logical(events: list[Any]) -> list[Any]:
    """Events that do not depend on segmentation (FtpCommand.at_segment_start and FtpResponseCode do)."""
    out = []
    for e in events:
        if isinstance(e, FtpResponseCode):
            continue
        d = dataclasses.asdict(e)
        d.pop("at_segment_start", None)
        out.append((type(e).__name__, d))
    return out


SESSION: Script = [
    (False, b"220-Welcome to the test FTP service.\r\n220-Be nice.\r\n220 Ready.\r\n"),
    (True, b"USER alice\r\n"),
    (False, b"331 Password required.\r\n"),
    (True, b"PASS hunter2-secret\r\n"),
    (False, b"230 Logged in.\r\n"),
    (True, b"PWD\r\n"),
    (False, b'257 "/home/alice" is the current directory\r\n'),
    (True, b"CWD pub\r\n"),
    (False, b"250 OK.\r\n"),
    (True, b"SIZE big.iso\r\n"),
    (False, b"213 123456789\r\n"),
    (True, b"PASV\r\n"),
    (False, b"227 Entering Passive Mode (198,51,100,21,195,80).\r\n"),
    (True, b"RETR big.iso\r\n"),
    (False, b"150 Opening BINARY mode data connection.\r\n"),
    (False, b"226 Transfer complete.\r\n"),
    (True, b"EPSV\r\n"),
    (False, b"229 Entering Extended Passive Mode (|||50001|)\r\n"),
    (True, b"STOR up.bin\r\n"),
    (False, b"150 Ok to send data.\r\n226 Transfer complete.\r\n"),
    (True, b"PORT 192,0,2,10,200,10\r\n"),
    (False, b"200 PORT command successful.\r\n"),
    (True, b"LIST\r\n"),
    (False, b"150 Here comes the listing.\r\n"),
    (False, b"226 Directory send OK.\r\n"),
    (True, b"EPRT |2|2001:db8::0:10|6275|\r\n"),
    (False, b"200 EPRT command successful.\r\n"),
    (True, b"QUIT\r\n"),
    (False, b"221 Goodbye.\r\n"),
]


# -- the control dissector -------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", CUTS, ids=lambda c: c.__name__)
def test_same_events_however_the_stream_is_cut(cut: Callable[[bytes], list[bytes]]) -> None:
    assert logical(run(SESSION, cut)) == logical(run(SESSION, whole))


def test_session_records() -> None:
    events = run(SESSION)
    records = {r.command: r for r in of(events, FtpRecord)}
    assert set(records) == {"PASV", "RETR", "EPSV", "STOR", "PORT", "LIST", "EPRT"}
    retr = records["RETR"]
    assert (retr.user, retr.password, retr.arg, retr.file_size) == ("alice", "<hidden>", "big.iso", 123456789)
    assert (retr.reply_code, retr.reply_msg, retr.cwd) == (226, "Transfer complete.", "/home/alice/pub")
    assert (retr.data_channel_passive, retr.data_channel_resp_h, retr.data_channel_resp_p) == (
        True,
        SERVER,
        50000,
    )
    assert (records["STOR"].data_channel_resp_p, records["STOR"].reply_code) == (50001, 226)
    port = records["PORT"]
    assert (port.data_channel_passive, port.data_channel_orig_h) == (False, SERVER)
    assert (port.data_channel_resp_h, port.data_channel_resp_p) == (CLIENT, 51210)
    assert (records["EPRT"].data_channel_resp_h, records["EPRT"].data_channel_resp_p) == (
        "2001:db8::10",
        6275,
    )
    expected = of(events, ExpectedConnection)
    assert [(e.resp_h, e.resp_p, e.service, e.orig_h) for e in expected] == [
        (SERVER, 50000, "ftp-data", CLIENT),
        (SERVER, 50001, "ftp-data", CLIENT),
        (CLIENT, 51210, "ftp-data", SERVER),
        ("2001:db8::10", 6275, "ftp-data", SERVER),
    ]
    (end,) = of(events, FtpSessionEnd)
    assert (end.banner, end.user, end.password_sent, end.logged_in) == (
        "Welcome to the test FTP service.",
        "alice",
        True,
        True,
    )
    assert (end.commands, end.transfers, end.tls_upgraded) == (13, 3, False)
    replies = of(events, FtpReply)
    assert replies[0].code == 220 and replies[0].lines == 3


def test_password_is_never_kept() -> None:
    for cut in CUTS:
        events = run(SESSION, cut)
        assert "hunter2" not in repr(events)
        (pass_cmd,) = [e for e in of(events, FtpCommand) if e.command == "PASS"]
        assert pass_cmd.arg == "<hidden>"


def test_counts_follow_tshark_first_line_of_each_segment() -> None:
    # tshark 4.0 parses only the first line of a segment: 220 counted twice here (two segments start
    # with a coded line), the final "220 Ready." shares its segment and is not counted
    script: Script = [
        (False, b"220-Welcome\r\n"),
        (False, b"220-More\r\n220 Ready.\r\n"),
        (True, b"USER a\r\nPASS b\r\n"),
    ]
    events = run(script)
    assert [e.code for e in of(events, FtpResponseCode)] == [220, 220]
    assert [(e.command, e.at_segment_start) for e in of(events, FtpCommand)] == [
        ("USER", True),
        ("PASS", False),
    ]
    assert [(r.code, r.lines) for r in of(events, FtpReply)] == [(220, 3)]


def test_command_split_across_segments() -> None:
    events = run([(False, b"220 Hi\r\n"), (True, b"RE"), (True, b"TR file.txt\r\n"), (False, b"550 No.\r\n")])
    (cmd,) = of(events, FtpCommand)
    assert (cmd.command, cmd.arg, cmd.at_segment_start) == ("RETR", "file.txt", True)
    (rec,) = of(events, FtpRecord)
    assert (rec.command, rec.arg, rec.reply_code) == ("RETR", "file.txt", 550)


def test_command_case_kept_in_counts_upper_in_records() -> None:
    events = run([(True, b"retr x\r\n"), (False, b"226 ok\r\n")])
    assert of(events, FtpCommand)[0].command == "retr"
    assert of(events, FtpRecord)[0].command == "RETR"


def test_gap_drops_the_cut_line_and_resumes() -> None:
    d = FtpDissector(make_flow())
    d.feed(b"220 Hi\r\nUSER al", True, CAPTURE_TS)
    d.gap(10, True, CAPTURE_TS)
    events = d.feed(b"ice\r\nSYST\r\n", True, CAPTURE_TS)
    assert [e.command for e in of(events, FtpCommand)] == ["SYST"]


@pytest.mark.parametrize("chunk", [1 << 20, 64 * 1024, 4096])
def test_megabyte_line_without_newline_is_malformed_and_bounded(chunk: int) -> None:
    d = FtpDissector(make_flow())
    line = b"A" * (1 << 20)
    with pytest.raises(Malformed) as exc:
        for i in range(0, len(line), chunk):
            d.feed(line[i : i + chunk], False, CAPTURE_TS)
            assert len(d._server.buf) <= MAX_LINE
    assert exc.value.reason == "ftp.line_too_long"
    assert len(d._server.buf) == 0


def test_long_line_with_newline_is_malformed() -> None:
    with pytest.raises(Malformed, match=r"ftp\.line_too_long"):
        run([(True, b"USER " + b"x" * (MAX_LINE + 10) + b"\r\n")])


def test_unterminated_last_line_is_parsed_at_close() -> None:
    events = run([(False, b"220 Hi\r\n"), (True, b"QUIT")])
    assert [e.command for e in of(events, FtpCommand)] == ["QUIT"]


# -- AUTH TLS -----------------------------------------------------------------------------------------------


AUTH_TLS: Script = [
    (False, b"220 (vsFTPd 3.0.5)\r\n"),
    (True, b"AUTH TLS\r\n"),
    (False, b"234 Proceed with negotiation.\r\n"),
    (True, client_hello("ftp.example.com")),
]


@pytest.mark.parametrize("cut", CUTS, ids=lambda c: c.__name__)
def test_auth_tls_hands_the_stream_to_tls(cut: Callable[[bytes], list[bytes]]) -> None:
    events = run(AUTH_TLS, cut)
    (upgrade,) = of(events, TlsUpgrade)
    assert (upgrade.protocol, upgrade.command) == ("ftp", "AUTH TLS")
    (hello,) = of(events, TlsClientHello)
    assert hello.server_name == "ftp.example.com"
    assert [e.command for e in of(events, FtpCommand)] == ["AUTH"]  # the hello is not read as commands
    assert of(events, FtpSessionEnd)[0].tls_upgraded


def test_client_hello_sent_with_the_auth_command_is_held_until_234() -> None:
    events = run(
        [(False, b"220 Hi\r\n"), (True, b"AUTH SSL\r\n" + client_hello("a.example")), (False, b"234 Go\r\n")]
    )
    assert of(events, TlsClientHello)[0].server_name == "a.example"
    assert of(events, TlsUpgrade)[0].command == "AUTH SSL"


def test_refused_auth_tls_keeps_parsing_ftp() -> None:
    events = run(
        [(False, b"220 Hi\r\n"), (True, b"AUTH TLS\r\nUSER bob\r\n"), (False, b"504 No.\r\n331 Pw.\r\n")]
    )
    assert not of(events, TlsUpgrade)
    assert [e.command for e in of(events, FtpCommand)] == ["AUTH", "USER"]
    assert of(events, FtpSessionEnd)[0].user == "bob"


# -- helpers ------------------------------------------------------------------------------------------------


def test_address_parsers() -> None:
    assert parse_port_arg(b"192,0,2,10,200,10") == ("192.0.2.10", 51210)
    assert parse_port_arg(b"300,0,2,10,200,10") is None
    assert parse_port_arg(b"1,2,3") is None
    assert parse_eprt_arg(b"|1|132.235.1.2|6275|") == ("132.235.1.2", 6275)
    assert parse_eprt_arg(b"!2!2001:DB8::1!80!") == ("2001:db8::1", 80)
    assert parse_eprt_arg(b"|3|x|1|") is None
    assert parse_eprt_arg(b"|1|1.2.3.4|70000|") is None
    assert parse_epsv_reply(b"Entering Extended Passive Mode (|||6446|)") == 6446
    assert parse_epsv_reply(b"Entering Extended Passive Mode (|||0|)") is None


def test_mime_sniffing() -> None:
    assert sniff_mime(b"") is None
    assert sniff_mime(b"%PDF-1.7\n") == "application/pdf"
    assert sniff_mime(b"<!DOCTYPE HTML><html>") == "text/html"
    assert sniff_mime(b"User-agent: *\nDisallow: /\n") == "text/plain"
    assert sniff_mime("caf\u00e9".encode()[:-1]) == "text/plain"  # a cut multibyte character
    assert sniff_mime(bytes(range(256))) == "application/octet-stream"


def test_data_dissector_counts_and_records() -> None:
    flow = make_flow(50000, 54001)
    flow.parent_uid = "Cparent"
    d = FtpDataDissector(flow)
    d.feed(b"%PDF-1.4 " + b"x" * 100, False, CAPTURE_TS)
    d.gap(50, False, CAPTURE_TS)
    d.feed(b"ack", True, CAPTURE_TS)
    (rec,) = d.close(CAPTURE_TS + 1)
    assert isinstance(rec, FtpDataRecord)
    assert (rec.parent_uid, rec.orig_bytes, rec.resp_bytes, rec.missed_bytes, rec.mime_type) == (
        "Cparent",
        3,
        109,
        50,
        "application/pdf",
    )


# -- through the pipeline: data channels linked to their control session ---------------------------------


def ftp_capture(
    tmp_path: Path, server_port: int = 21, banner: bytes = b"220 Test FTP server ready.\r\n"
) -> Path:
    """A control session with a passive RETR and an active LIST, each with its data connection."""
    cap = Capture()
    ctl = cap.connect(CLIENT, 54000, SERVER, server_port)
    ctl.send(False, banner)
    for cmd, reply in [
        (b"USER bob\r\n", b"331 Pw.\r\n"),
        (b"PASS x\r\n", b"230 Ok.\r\n"),
        (b"PASV\r\n", b"227 Entering Passive Mode (198,51,100,21,195,80).\r\n"),
    ]:
        ctl.send(True, cmd)
        ctl.send(False, reply)
    data = cap.connect(CLIENT, 54001, SERVER, 50000)  # passive: the client connects to the announced port
    ctl.send(True, b"RETR notes.txt\r\n")
    ctl.send(False, b"150 Opening BINARY mode data connection for notes.txt (11 bytes).\r\n")
    data.send(False, b"hello world")
    data.close()
    ctl.send(False, b"226 Transfer complete.\r\n")
    ctl.send(True, b"PORT 192,0,2,10,200,10\r\n")
    ctl.send(False, b"200 PORT command successful.\r\n")
    ctl.send(True, b"LIST\r\n")
    active = Tcp(cap, SERVER, 20, CLIENT, 51210)  # active: the server connects from port 20
    ctl.send(False, b"150 Here comes the directory listing.\r\n")
    active.send(True, b"-rw-r--r-- 1 ftp ftp 11 Jan 01 00:00 notes.txt\r\n")
    active.close()
    ctl.send(False, b"226 Directory send OK.\r\n")
    ctl.send(True, b"QUIT\r\n")
    ctl.send(False, b"221 Goodbye.\r\n")
    ctl.close()
    return cap.write(tmp_path / "ftp.pcap")


def test_data_connections_are_linked_to_the_control_session(tmp_path: Path) -> None:
    events = events_of(ftp_capture(tmp_path))
    conns = {(c.resp_p if c.resp_p != 51210 else c.orig_p): c for c in of(events, ConnRecord)}
    control = conns[21]
    assert (control.service, control.service_how) == ("ftp", "both")
    passive = conns[50000]
    assert (passive.service, passive.service_how, passive.parent_uid) == ("ftp-data", "expected", control.uid)
    active = next(c for c in of(events, ConnRecord) if 20 in (c.orig_p, c.resp_p))
    assert (active.service, active.service_how, active.parent_uid) == ("ftp-data", "expected", control.uid)
    data = {d.uid: d for d in of(events, FtpDataRecord)}
    assert data[passive.uid].resp_bytes == 11 and data[active.uid].parent_uid == control.uid


def test_ftp_section_joins_transfers_and_data(tmp_path: Path) -> None:
    ftp = analyze_json(str(ftp_capture(tmp_path)))["ftp"]
    assert ftp["commands"] == {"USER": 1, "PASS": 1, "PASV": 1, "RETR": 1, "PORT": 1, "LIST": 1, "QUIT": 1}
    assert ftp["reply_codes"]["226"] == 2 and ftp["reply_codes"]["150"] == 2
    channels = {c["command"]: c for c in ftp["data_channels"]}
    assert (channels["RETR"]["passive"], channels["RETR"]["arg"], channels["RETR"]["bytes"]) == (
        True,
        "notes.txt",
        11,
    )
    assert (channels["RETR"]["direction"], channels["RETR"]["mime_type"]) == ("download", "text/plain")
    assert (channels["LIST"]["passive"], channels["LIST"]["id.orig_p"]) == (False, 20)
    retr = next(s for s in ftp["sessions"] if s["command"] == "RETR")
    assert (retr["user"], retr["password"], retr["file_size"], retr["mime_type"]) == (
        "bob",
        "<hidden>",
        11,
        "text/plain",
    )
    assert retr["data_channel.passive"] is True and retr["data_channel.resp_p"] == 50000
    assert "id.orig_h" in retr and "data_channel_passive" not in retr
    json.dumps(ftp)


def test_ftp_on_an_unusual_port_is_recognised_by_its_greeting(tmp_path: Path) -> None:
    path = ftp_capture(tmp_path, server_port=2121, banner=b"220 ProFTPD Server (mail.example.com)\r\n")
    summary = analyze_json(str(path))
    assert summary["ftp"]["commands"]["RETR"] == 1
    assert summary["services"]["ftp"]["by"]["payload"] == 1
    assert summary["services"]["ftp-data"]["by"]["expected"] == 2


def test_sample_data_channels_linked() -> None:
    events = events_of(SAMPLES / "ftp.pcap")
    conns = of(events, ConnRecord)
    (control,) = [c for c in conns if c.service == "ftp"]
    data = [c for c in conns if c.service == "ftp-data"]
    assert len(data) == 3
    assert {(c.service_how, c.parent_uid) for c in data} == {("expected", control.uid)}
    ftp = analyze_json(str(SAMPLES / "ftp.pcap"))["ftp"]
    assert {(c["command"], c["arg"], c["bytes"]) for c in ftp["data_channels"]} == {
        ("RETR", "readme.txt", 900),
        ("STOR", "upload.bin", 1000),
        ("LIST", None, 274),
    }


# -- differential against tshark ---------------------------------------------------------------------------

FTP_FILTER = "ftp && !icmp && !icmpv6"


def _tshark_ftp(path: Path) -> tuple[Counter[str], Counter[str]]:
    """tshark's ftp.request.command and ftp.response.code occurrences (one tshark run)."""
    commands: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    for cmd, code in tshark_fields(str(path), FTP_FILTER, ("ftp.request.command", "ftp.response.code")):
        commands.update(v for v in cmd.split(",") if v)
        codes.update(v for v in code.split(",") if v)
    return commands, codes


def _assert_like_tshark(path: Path) -> None:
    ftp = analyze_json(str(path)).get("ftp") or {}
    commands, codes = _tshark_ftp(path)
    assert commands, "tshark sees FTP here"
    assert ftp.get("commands", {}) == dict(commands)
    assert ftp.get("reply_codes", {}) == dict(codes)


@needs_tshark
@pytest.mark.parametrize("name", ["ftp.pcap", "mixed.pcap"])
def test_samples_like_tshark(name: str) -> None:
    _assert_like_tshark(SAMPLES / name)


@needs_shared
@needs_tshark
@pytest.mark.parametrize("rel", truth_files("ftp"))
def test_shared_like_tshark(rel: str) -> None:
    _assert_like_tshark(SHARED_PCAPS / rel)


@needs_shared
@pytest.mark.parametrize("rel", truth_files("ftp"))
def test_shared_like_truth(rel: str) -> None:
    entry = shared_entry(rel)
    ftp = analyze_json(str(SHARED_PCAPS / rel))["ftp"]
    assert ftp["commands"] == entry["ftp"]["commands"]
    assert ftp["reply_codes"] == entry["ftp"]["reply_codes"]
    if "data" in entry["ftp"]:  # we link at least the data connections tshark links
        assert len(ftp["data_channels"]) >= entry["ftp"]["data"]["connections"]


@needs_shared
def test_shared_auth_tls_upgrade_is_seen() -> None:
    summary = analyze_json(str(SHARED_PCAPS / "ftp/zeek-ftp-auth-tls.pcap"))
    assert summary["ftp"]["connections"][0]["tls_upgraded"] is True
    assert [(u["protocol"], u["command"]) for u in summary["upgrades"]] == [("ftp", "AUTH TLS")]
    assert summary["tls"]["client_hello"] == 1


# -- tracker and terminal ------------------------------------------------------------------------------------


def test_tracker_bounds_verbs_and_renders_safely() -> None:
    tracker = FtpTracker()
    for i in range(300):
        tracker.handle(FtpCommand(CAPTURE_TS, "C1", f"X{i}", "", True))
    section = tracker.finish()["ftp"]
    assert len(section["commands"]) == 257 and section["commands"]["(other)"] == 44
    events = run([(False, b"220 \x1b[31mevil\r\n"), (True, b"USER \x1b[2Jroot\r\n"), (False, b"230 ok\r\n")])
    tracker = FtpTracker()
    for e in events:
        tracker.handle(e)
    text = render({"ftp": tracker.finish()["ftp"]}, ["ftp"])
    assert "\x1b" not in text and "\\e[2Jroot" in text
    assert ftp_tables({}) == []


# -- fuzz ---------------------------------------------------------------------------------------------

_FTP_WORDS = [
    b"220 ",
    b"220-",
    b"227 (1,2,3,4,5,6)",
    b"229 (|||7|)",
    b"234 go",
    b"150 (12 bytes)",
    b"USER ",
    b"PASS ",
    b"PORT 1,2,3,4,5,6",
    b"EPRT |2|::1|5|",
    b"AUTH TLS",
    b"PASV",
    b"RETR x",
    b"\r\n",
    b"\n",
    b"\xff\xf4",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.booleans(),
            st.one_of(
                st.binary(max_size=64), st.lists(st.sampled_from(_FTP_WORDS), max_size=8).map(b"".join)
            ),
        ),
        max_size=30,
    ),
    st.lists(st.integers(0, 20), max_size=3),
)
def test_fuzz_only_malformed_escapes(chunks: list[tuple[bool, bytes]], gaps: list[int]) -> None:
    fuzz_feed(FtpDissector(make_flow()), chunks, {i: i + 1 for i in gaps}, CAPTURE_TS)


def test_counter_shape_for_agree_tool() -> None:
    tracker = FtpTracker()
    for e in run(SESSION):
        if type(e) in FtpTracker.EVENT_TYPES:
            tracker.handle(e)
    ftp = tracker.finish()["ftp"]
    assert Counter(ftp["commands"]) == Counter(
        {
            "USER": 1,
            "PASS": 1,
            "PWD": 1,
            "CWD": 1,
            "SIZE": 1,
            "PASV": 1,
            "RETR": 1,
            "EPSV": 1,
            "STOR": 1,
            "PORT": 1,
            "LIST": 1,
            "EPRT": 1,
            "QUIT": 1,
        }
    )
    assert ftp["replies"]["226"] == 3 and ftp["reply_codes"]["226"] == 2  # one 226 shares a segment with 150
