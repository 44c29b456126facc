"""SMB: NetBIOS framing, SMB1 and SMB2/3 parsing fed whole, byte by byte and cut at odd places;
compounds, AndX chains, NTLMSSP, trees, files, transforms; bogus lengths and gaps; browser datagrams;
counts equal tshark's on the samples and the shared captures; a fuzz test.
"""

from __future__ import annotations

import contextlib
import dataclasses
import struct
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.decode import Decoder
from analyzer.dissectors.smb import (
    MAX_HUNT_BYTES,
    MAX_KEPT,
    MAX_MESSAGE_LENGTH,
    SMB1_COMMANDS,
    SMB2_COMMANDS,
    SMB2_DIALECTS,
    SmbCommand,
    SmbDialects,
    SmbDissector,
    SmbFileRecord,
    SmbSessionRecord,
    SmbTreeRecord,
    SmbWeird,
    parse_datagram,
    parse_ntlmssp,
)
from analyzer.errors import Malformed
from analyzer.flows import Flow
from analyzer.report.terminal import render
from analyzer.trackers.smb import SmbTracker
from tests.oracle import (
    SAMPLES,
    SHARED_PCAPS,
    analyze_json,
    needs_shared,
    needs_tshark,
    shared_entry,
    truth_files,
    truth_names,
    tshark_fields,
)
from tests.streamkit import bytewise, feed_script, flow_of, fuzz_feed, of, whole
from tests.test_ftp import CAPTURE_TS, CLIENT, SERVER, Capture, tcp_frame

# -- kit: building SMB ------------------------------------------------------------------------------


def nbss(msg: bytes, kind: int = 0) -> bytes:
    return bytes([kind]) + len(msg).to_bytes(3, "big") + msg


def smb2(
    cmd: int,
    body: bytes,
    *,
    response: bool = False,
    msg_id: int = 0,
    tree_id: int = 0,
    status: int = 0,
    flags: int = 0,
) -> bytes:
    f = flags | (1 if response else 0)
    head = struct.pack("<HHIHHIIQIIQ", 64, 1, status, cmd, 1, f, 0, msg_id, 0, tree_id, 0x1000)
    return b"\xfeSMB" + head + b"\x00" * 16 + body


def compound(*pdus: bytes) -> bytes:
    """Chain PDUs with NextCommand (each but the last padded to 8 bytes)."""
    out = b""
    for i, pdu in enumerate(pdus):
        if i < len(pdus) - 1:
            pdu += b"\x00" * (-len(pdu) % 8)
            pdu = pdu[:20] + struct.pack("<I", len(pdu)) + pdu[24:]
        out += pdu
    return out


def utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def ntlm_authenticate(user: str, domain: str, host: str) -> bytes:
    d, u, h = utf16(domain), utf16(user), utf16(host)
    lm, nt = b"\x00" * 24, b"\x11" * 24
    payload_at = 72
    fields = b""
    pos = payload_at
    parts = [lm, nt, d, u, h, b""]
    for part in parts:
        fields += struct.pack("<HHI", len(part), len(part), pos)
        pos += len(part)
    msg = (
        b"NTLMSSP\x00"
        + struct.pack("<I", 3)
        + fields
        + struct.pack("<I", 0xE2888215)
        + b"\x06\x01"
        + b"\x00" * 6
    )
    assert len(msg) == payload_at
    return msg + lm + nt + d + u + h


def spnego(token: bytes) -> bytes:
    return b"\xa1\x82" + len(token).to_bytes(2, "big") + b"\x30\x0a\xa2\x08" + token


FID_A = bytes(range(1, 17))
FID_B = bytes(range(17, 33))
RELATED = b"\xff" * 16
STATUS_MORE = 0xC0000016


def negotiate_req(dialects: list[int], msg_id: int = 0) -> bytes:
    body = struct.pack("<HHHHI16sQ", 36, len(dialects), 1, 0, 0x7F, b"G" * 16, 0)
    return smb2(0, body + b"".join(struct.pack("<H", x) for x in dialects), msg_id=msg_id)


def negotiate_resp(dialect: int, msg_id: int = 0) -> bytes:
    body = struct.pack(
        "<HHHH16sIIIIQQHHI", 65, 1, dialect, 0, b"S" * 16, 0x7F, 1 << 20, 1 << 20, 1 << 20, 0, 0, 128, 0, 0
    )
    return smb2(0, body + b"\x00", response=True, msg_id=msg_id)


def session_setup_req(blob: bytes, msg_id: int) -> bytes:
    return smb2(1, struct.pack("<HBBIIHHQ", 25, 0, 1, 0, 0, 88, len(blob), 0) + blob, msg_id=msg_id)


def session_setup_resp(msg_id: int, status: int = 0) -> bytes:
    return smb2(1, struct.pack("<HHHH", 9, 0, 72, 0), response=True, msg_id=msg_id, status=status)


def tree_connect_req(path: str, msg_id: int) -> bytes:
    raw = utf16(path)
    return smb2(3, struct.pack("<HHHH", 9, 0, 72, len(raw)) + raw, msg_id=msg_id)


def tree_connect_resp(share_type: int, msg_id: int, tree_id: int) -> bytes:
    body = struct.pack("<HBBIII", 16, share_type, 0, 0, 0, 0x1F01FF)
    return smb2(3, body, response=True, msg_id=msg_id, tree_id=tree_id)


def create_req(name: str, msg_id: int, tree_id: int, related: bool = False) -> bytes:
    raw = utf16(name)
    body = struct.pack("<HBBIQQIIIIIHHII", 57, 0, 0, 2, 0, 0, 0x80, 0, 7, 1, 0, 120, len(raw), 0, 0)
    return smb2(5, body + raw, msg_id=msg_id, tree_id=tree_id, flags=4 if related else 0)


def create_resp(fid: bytes, msg_id: int, tree_id: int, size: int, action: int = 1, status: int = 0) -> bytes:
    if status:
        return smb2(
            5,
            struct.pack("<HBB", 9, 0, 0) + b"\x00" * 5,
            response=True,
            msg_id=msg_id,
            tree_id=tree_id,
            status=status,
        )
    body = struct.pack("<HBBIQQQQQQII16sII", 89, 0, 0, action, 0, 0, 0, 0, 4096, size, 0x80, 0, fid, 0, 0)
    return smb2(5, body, response=True, msg_id=msg_id, tree_id=tree_id)


def read_req(fid: bytes, length: int, msg_id: int, tree_id: int, related: bool = False) -> bytes:
    body = struct.pack("<HBBIQ16sIIIHH", 49, 0, 0, length, 0, fid, 0, 0, 0, 0, 0) + b"\x00"
    return smb2(8, body, msg_id=msg_id, tree_id=tree_id, flags=4 if related else 0)


def read_resp(data: bytes, msg_id: int, tree_id: int) -> bytes:
    return smb2(
        8,
        struct.pack("<HBBII", 17, 80, 0, len(data), 0) + data,
        response=True,
        msg_id=msg_id,
        tree_id=tree_id,
    )


def write_req(fid: bytes, data: bytes, msg_id: int, tree_id: int) -> bytes:
    body = struct.pack("<HHIQ16sIIHHI", 49, 112, len(data), 0, fid, 0, 0, 0, 0, 0)
    return smb2(9, body + data, msg_id=msg_id, tree_id=tree_id)


def write_resp(count: int, msg_id: int, tree_id: int) -> bytes:
    return smb2(
        9, struct.pack("<HHIIHH", 17, 0, count, 0, 0, 0), response=True, msg_id=msg_id, tree_id=tree_id
    )


def close_req(fid: bytes, msg_id: int, tree_id: int, related: bool = False) -> bytes:
    return smb2(
        6, struct.pack("<HHI16s", 24, 0, 0, fid), msg_id=msg_id, tree_id=tree_id, flags=4 if related else 0
    )


def close_resp(msg_id: int, tree_id: int) -> bytes:
    return smb2(
        6,
        struct.pack("<HHIQQQQQQI", 60, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        response=True,
        msg_id=msg_id,
        tree_id=tree_id,
    )


def ioctl_req(ctl: int, fid: bytes, msg_id: int, tree_id: int) -> bytes:
    body = struct.pack("<HHI16sIIIIIIII", 57, 0, ctl, fid, 0, 0, 0, 0, 0, 0, 0, 0) + b"\x00"
    return smb2(11, body, msg_id=msg_id, tree_id=tree_id)


def ioctl_resp(ctl: int, msg_id: int, tree_id: int) -> bytes:
    body = struct.pack("<HHI16sIIIIII", 49, 0, ctl, FID_B, 0, 0, 0, 0, 0, 0)
    return smb2(11, body, response=True, msg_id=msg_id, tree_id=tree_id)


def simple(cmd: int, msg_id: int, tree_id: int = 0, response: bool = False) -> bytes:
    return smb2(cmd, struct.pack("<HH", 4, 0), response=response, msg_id=msg_id, tree_id=tree_id)


PIPE_TRANSCEIVE = 0x0011C017

SMB2_SCRIPT: list[tuple[bool, bytes]] = [
    (True, nbss(negotiate_req([0x0202, 0x0210, 0x0300, 0x0311]))),
    (False, nbss(negotiate_resp(0x0311))),
    (True, nbss(session_setup_req(spnego(b"NTLMSSP\x00\x01\x00\x00\x00" + b"\x00" * 20), 1))),
    (False, nbss(session_setup_resp(1, STATUS_MORE))),
    (True, nbss(session_setup_req(spnego(ntlm_authenticate("bob", "CORP", "PC1")), 2))),
    (False, nbss(session_setup_resp(2))),
    (True, nbss(tree_connect_req("\\\\srv\\IPC$", 3))),
    (False, nbss(tree_connect_resp(2, 3, tree_id=1))),
    (True, nbss(tree_connect_req("\\\\srv\\data", 4))),
    (False, nbss(tree_connect_resp(1, 4, tree_id=2))),
    (True, nbss(create_req("dir\\a.txt", 5, 2))),
    (False, nbss(create_resp(FID_A, 5, 2, size=0, action=2))),
    (True, nbss(write_req(FID_A, b"w" * 300, 6, 2))),
    (False, nbss(write_resp(300, 6, 2))),
    (True, nbss(close_req(FID_A, 7, 2))),
    (False, nbss(close_resp(7, 2))),
    (
        True,
        nbss(
            compound(
                create_req("b.txt", 8, 2), read_req(RELATED, 100, 9, 2, True), close_req(RELATED, 10, 2, True)
            )
        ),
    ),
    (False, nbss(compound(create_resp(FID_B, 8, 2, size=42), read_resp(b"r" * 42, 9, 2), close_resp(10, 2)))),
    (True, nbss(create_req("missing.txt", 11, 2))),
    (False, nbss(create_resp(b"", 11, 2, size=0, status=0xC0000034))),
    (True, nbss(ioctl_req(PIPE_TRANSCEIVE, FID_B, 12, 1))),
    (False, nbss(ioctl_resp(PIPE_TRANSCEIVE, 12, 1))),
    (True, nbss(simple(13, 13))),  # ECHO
    (False, nbss(simple(13, 13, response=True))),
    (True, nbss(simple(4, 14, tree_id=2))),  # TREE_DISCONNECT
    (False, nbss(simple(4, 14, tree_id=2, response=True))),
    (True, nbss(simple(2, 15))),  # LOGOFF
    (False, nbss(simple(2, 15, response=True))),
    (False, nbss(b"\xfdSMB" + b"\x00" * 48 + b"ciphertext")),
    (True, nbss(b"\xfcSMB" + b"\x00" * 12)),
    (True, nbss(b"", kind=0x85)),  # keep-alive
]


def make_flow(dport: int = 445, sport: int = 49152) -> Flow:
    return flow_of(tcp_frame(CLIENT, SERVER, sport, dport, 1000, 0, 0x02, b""), CAPTURE_TS)


def odd_cuts(data: bytes) -> list[bytes]:
    """Cut right after the NBSS header, mid SMB header and in thirds of the rest."""
    if len(data) < 40:
        return [data]
    rest = data[40:]
    a = len(rest) // 3
    return [p for p in (data[:4], data[4:40], rest[:a], rest[a : 2 * a], rest[2 * a :]) if p]


CUTS = [whole, bytewise, odd_cuts]


def run(
    script: list[tuple[bool, bytes]], cut: Callable[[bytes], list[bytes]] = whole, port: int = 445
) -> list[Any]:
    return feed_script(SmbDissector(make_flow(port)), script, cut, CAPTURE_TS)


def logical(events: list[Any]) -> list[Any]:
    return [(type(e).__name__, dataclasses.asdict(e)) for e in events]


def track(events: list[Any]) -> dict[str, Any]:
    tracker = SmbTracker()
    for e in events:
        if type(e) in SmbTracker.EVENT_TYPES:
            tracker.handle(e)
    section: dict[str, Any] = tracker.finish()["smb"]
    return section


# -- SMB2 stream ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", CUTS, ids=lambda c: c.__name__)
def test_same_events_however_the_stream_is_cut(cut: Callable[[bytes], list[bytes]]) -> None:
    assert logical(run(SMB2_SCRIPT, cut)) == logical(run(SMB2_SCRIPT, whole))


def test_smb2_conversation() -> None:
    events = run(SMB2_SCRIPT)
    assert not of(events, SmbWeird)
    smb = track(events)
    v2 = smb["smb2"]
    assert v2["requests_by_command"] == {
        "CREATE": 3,
        "SESSION_SETUP": 2,
        "TREE_CONNECT": 2,
        "CLOSE": 2,
        "ECHO": 1,
        "IOCTL": 1,
        "LOGOFF": 1,
        "NEGOTIATE": 1,
        "READ": 1,
        "TREE_DISCONNECT": 1,
        "WRITE": 1,
    }
    assert v2["responses_by_command"] == v2["requests_by_command"]
    assert v2["dialects_offered"] == {"SMB 2.0.2": 1, "SMB 2.1": 1, "SMB 3.0": 1, "SMB 3.1.1": 1}
    assert v2["negotiated_dialects"] == {"SMB 3.1.1": 1}
    assert (v2["encrypted"], v2["compressed"]) == (1, 1)
    # session: negotiate, 2 session setups, 2 tree connects, tree disconnect, logoff; messaging: pipe
    # IOCTL and ECHO; file: the rest
    assert smb["functions"] == {"session": 7, "file": 7, "messaging": 2}
    assert smb["status_codes"]["STATUS_MORE_PROCESSING_REQUIRED"] == 1
    assert smb["status_codes"]["STATUS_OBJECT_NAME_NOT_FOUND"] == 1
    assert [(t["path"], t["share_type"]) for t in smb["trees"]] == [
        ("\\\\srv\\IPC$", "PIPE"),
        ("\\\\srv\\data", "DISK"),
    ]
    files = {f["name"]: f for f in smb["files"]}
    assert (
        files["dir\\a.txt"]["action"],
        files["dir\\a.txt"]["bytes_written"],
        files["dir\\a.txt"]["closed"],
    ) == (
        "CREATED",
        300,
        True,
    )
    assert (files["b.txt"]["size"], files["b.txt"]["bytes_read"], files["b.txt"]["closed"]) == (42, 42, True)
    assert files["b.txt"]["path"] == "\\\\srv\\data"
    assert (files["missing.txt"]["status"], files["missing.txt"]["closed"]) == (
        "STATUS_OBJECT_NAME_NOT_FOUND",
        False,
    )
    (session,) = smb["sessions"]
    assert (session["user"], session["domain"], session["host"], session["auth"]) == (
        "bob",
        "CORP",
        "PC1",
        "ntlmssp",
    )
    assert (session["auth_status"], session["dialect"], session["versions"]) == (
        "STATUS_SUCCESS",
        "SMB 3.1.1",
        ["SMB2"],
    )
    assert (
        session["bytes_read"],
        session["bytes_written"],
        session["files_opened"],
        session["encrypted"],
    ) == (42, 300, 2, 1)


def test_compound_related_operations_resolve_to_the_created_file() -> None:
    events = run(SMB2_SCRIPT[16:18])  # the compound alone, no earlier state
    (f,) = of(events, SmbFileRecord)
    assert (f.name, f.bytes_read, f.closed) == ("b.txt", 42, True)
    assert [c.command for c in of(events, SmbCommand)] == ["CREATE", "READ", "CLOSE"] * 2


def test_big_write_is_counted_not_buffered() -> None:
    d = SmbDissector(make_flow())
    data = b"z" * (4 * 1024 * 1024)
    msg = nbss(write_req(FID_A, data, 1, 1))
    events: list[Any] = []
    for i in range(0, len(msg), 65536):
        events += d.feed(msg[i : i + 65536], True, CAPTURE_TS)
        assert len(d._dirs[True].pdu) <= MAX_KEPT
    events += d.feed(nbss(write_resp(len(data), 1, 1)), False, CAPTURE_TS)
    assert [(c.command, c.is_response) for c in of(events, SmbCommand)] == [("WRITE", False), ("WRITE", True)]
    (rec,) = of(d.close(CAPTURE_TS), SmbSessionRecord)
    assert rec.bytes_written == len(data)


# -- framing: bogus lengths, gaps, hunting ----------------------------------------------------------


def test_bogus_length_once_in_sync_is_malformed() -> None:
    d = SmbDissector(make_flow())
    d.feed(nbss(negotiate_req([0x0202])), True, CAPTURE_TS)
    with pytest.raises(Malformed) as exc:
        d.feed(b"\x00\xff\xff\xff\xfeSMB", True, CAPTURE_TS)
    assert exc.value.reason == "smb.message_too_long"
    assert MAX_MESSAGE_LENGTH < 0xFFFFFF


def test_bad_protocol_id_once_in_sync_is_malformed() -> None:
    d = SmbDissector(make_flow())
    d.feed(nbss(negotiate_req([0x0202])), True, CAPTURE_TS)
    with pytest.raises(Malformed, match=r"smb\.bad_protocol_id"):
        d.feed(nbss(b"GET / HTTP/1.1\r\n\r\n"), True, CAPTURE_TS)


def test_short_smb2_header_is_a_weird_and_framing_goes_on() -> None:
    events = run([(True, nbss(b"\xfeSMB" + b"\x00" * 16)), (True, nbss(negotiate_req([0x0210])))])
    assert [w.reason for w in of(events, SmbWeird)] == ["smb2.short_header"]
    assert of(events, SmbDialects)[0].offered == ("SMB 2.1",)


@pytest.mark.parametrize("next_command", [12, 4, 1 << 20])
def test_bogus_next_command_is_a_weird(next_command: int) -> None:
    pdu = negotiate_req([0x0202])
    pdu = pdu[:20] + struct.pack("<I", next_command) + pdu[24:]
    events = run([(True, nbss(pdu)), (True, nbss(simple(13, 1)))])
    assert [w.reason for w in of(events, SmbWeird)] == ["smb2.bad_next_command"]
    assert [c.command for c in of(events, SmbCommand)] == ["NEGOTIATE", "ECHO"]


def test_compound_with_a_foreign_protocol_id_is_a_weird() -> None:
    bad = compound(simple(13, 1), b"\xffSMB" + b"\x00" * 60)
    events = run([(True, nbss(bad)), (True, nbss(simple(13, 2)))])
    assert [w.reason for w in of(events, SmbWeird)] == ["smb2.bad_compound"]
    assert [c.command for c in of(events, SmbCommand)] == ["ECHO", "ECHO"]


def test_garbage_before_sync_is_hunted_through() -> None:
    # the capture starts mid-message: junk, then a real message
    events = run([(True, b"\x17\x42junk\x00\x00data" * 50 + nbss(negotiate_req([0x0300])))], bytewise)
    assert of(events, SmbDialects)[0].offered == ("SMB 3.0",)


def test_hunting_is_bounded() -> None:
    d = SmbDissector(make_flow())
    with pytest.raises(Malformed, match=r"smb\.no_sync"):
        for _ in range(MAX_HUNT_BYTES // 65536 + 2):
            d.feed(b"\x42" * 65536, True, CAPTURE_TS)
            assert len(d._dirs[True].tail) <= 8


def test_gap_inside_a_message_keeps_framing() -> None:
    d = SmbDissector(make_flow())
    msg = nbss(write_req(FID_A, b"d" * 5000, 1, 1))
    events = d.feed(msg[:1000], True, CAPTURE_TS)
    events += d.gap(3000, True, CAPTURE_TS)
    events += d.feed(msg[4000:] + nbss(simple(13, 2)), True, CAPTURE_TS)
    assert [c.command for c in of(events, SmbCommand)] == ["WRITE", "ECHO"]


def test_gap_across_messages_resyncs_on_the_next_one() -> None:
    d = SmbDissector(make_flow())
    first = nbss(simple(13, 1))
    events = d.feed(first[:10], True, CAPTURE_TS)
    events += d.gap(len(first) - 10 + 7, True, CAPTURE_TS)  # the hole also eats 7 bytes of the next one
    events += d.feed(b"x" * 20 + nbss(simple(13, 3)), True, CAPTURE_TS)
    assert [c.command for c in of(events, SmbCommand)] == ["ECHO"]


# -- SMB1 and NetBIOS -------------------------------------------------------------------------------


def smb1(
    cmd: int,
    words: bytes,
    data: bytes,
    *,
    response: bool = False,
    mid: int = 1,
    tid: int = 0,
    status: int = 0,
) -> bytes:
    head = (
        b"\xffSMB"
        + bytes([cmd])
        + struct.pack(
            "<IBHH8sHHHHH", status, 0x80 if response else 0x18, 0xC807, 0, b"\x00" * 8, 0, tid, 99, 0, mid
        )
    )
    return head + bytes([len(words) // 2]) + words + struct.pack("<H", len(data)) + data


def netbios_name(name: str) -> bytes:
    raw = name.upper().ljust(15).encode() + b"\x20"
    return b"\x20" + bytes(c for b in raw for c in (0x41 + (b >> 4), 0x41 + (b & 0x0F))) + b"\x00"


def test_smb1_over_netbios_session_service() -> None:
    negotiate = smb1(0x72, b"", b"\x02NT LM 0.12\x00\x02SMB 2.002\x00\x02SMB 2.???\x00")
    answer = smb1(0x72, struct.pack("<H", 0) + b"\x00" * 32, b"", response=True)
    # SESSION_SETUP_ANDX (extended security, 12 words) chained to TREE_CONNECT_ANDX
    blob = spnego(ntlm_authenticate("carol", "WG", "OLDPC"))
    setup_words_len, tree_words_len = 24, 8
    tree_at = 32 + 1 + setup_words_len + 2 + len(blob)
    tree_path = b"\x00" + utf16("\\\\NAS\\PUBLIC") + b"\x00\x00" + b"?????\x00"
    setup_words = struct.pack("<BBHHHHIHII", 0x75, 0, tree_at, 4356, 50, 0, 0, len(blob), 0, 0x800000D4)
    tree_words = struct.pack("<BBHHH", 0xFF, 0, 0, 0, 1)
    chained = smb1(0x73, setup_words, blob)
    chained += bytes([tree_words_len // 2]) + tree_words + struct.pack("<H", len(tree_path)) + tree_path
    script = [
        (True, nbss(netbios_name("NAS") + netbios_name("WS02"), kind=0x81)),
        (False, nbss(b"", kind=0x82)),
        (True, nbss(negotiate)),
        (False, nbss(answer)),
        (True, nbss(chained, 0)),
        (False, nbss(smb1(0x73, struct.pack("<BBHH", 0xFF, 0, 0, 0), b"", response=True))),
        (True, nbss(smb1(0x2B, struct.pack("<H", 1), b"ping"))),
    ]
    for cut in CUTS:
        events = run(script, cut, port=139)
        commands = of(events, SmbCommand)
        assert [(c.version, c.command, c.is_response, c.chained) for c in commands] == [
            (1, "NEGOTIATE", False, ()),
            (1, "NEGOTIATE", True, ()),
            (1, "SESSION_SETUP_ANDX", False, ("TREE_CONNECT_ANDX",)),
            (1, "SESSION_SETUP_ANDX", True, ()),
            (1, "ECHO", False, ()),
        ]
        assert {c.transport for c in commands} == {"tcp/139"}
        dialects = of(events, SmbDialects)
        assert (
            dialects[0].offered == ("NT LM 0.12", "SMB 2.002", "SMB 2.???")
            and dialects[1].chosen == "NT LM 0.12"
        )
        (session,) = of(events, SmbSessionRecord)
        assert (session.called_name, session.calling_name) == ("NAS", "WS02")
        assert (session.user, session.domain, session.host, session.auth_status) == (
            "carol",
            "WG",
            "OLDPC",
            "STATUS_SUCCESS",
        )
        assert not of(events, SmbWeird)
        assert track(events)["functions"] == {"session": 2, "file": 0, "messaging": 1}


def test_smb1_looping_andx_chain_stops() -> None:
    words = struct.pack("<BBHHHHIHII", 0x73, 0, 32, 4356, 50, 0, 0, 0, 0, 0)  # points back at itself
    events = run([(True, nbss(smb1(0x73, words, b"")))])
    assert [w.reason for w in of(events, SmbWeird)] == ["smb1.bad_andx"]
    assert of(events, SmbCommand)[0].chained == ()


def test_smb1_files_and_trees() -> None:
    tree_req = smb1(
        0x75,
        struct.pack("<BBHHH", 0xFF, 0, 0, 0, 1),
        b"\x00" + utf16("\\\\S\\IPC$") + b"\x00\x00IPC\x00",
        mid=2,
    )
    tree_resp = smb1(0x75, struct.pack("<BBHH", 0xFF, 0, 0, 1), b"IPC\x00", response=True, mid=2, tid=7)
    name = utf16("\\lsarpc")
    create_words = struct.pack(
        "<BBHBHIIIQIIIIIB", 0xFF, 0, 0, 0, len(name), 0, 0, 0x2019F, 0, 0, 3, 1, 0, 2, 0
    )
    create = smb1(0xA2, create_words, b"\x00" + name, mid=3, tid=7)
    resp_words = (
        struct.pack("<BBHBHI", 0xFF, 0, 0, 0, 0x4000, 1)
        + b"\x00" * 32
        + struct.pack("<IQQHHB", 0x80, 0, 0, 2, 0, 0)
    )
    create_resp = smb1(0xA2, resp_words, b"", response=True, mid=3, tid=7)
    write = smb1(
        0x2F, struct.pack("<BBHHIIHHHHH", 0xFF, 0, 0, 0x4000, 0, 0, 0, 0, 0, 68, 64), b"x" * 68, mid=4, tid=7
    )
    write_resp = smb1(
        0x2F, struct.pack("<BBHHHHH", 0xFF, 0, 0, 68, 0, 0, 0), b"", response=True, mid=4, tid=7
    )
    close = smb1(0x04, struct.pack("<HI", 0x4000, 0), b"", mid=5, tid=7)
    close_resp = smb1(0x04, b"", b"", response=True, mid=5, tid=7)
    trans = smb1(0x25, b"\x00" * 28, b"\x00" + utf16("\\PIPE\\") + b"\x00\x00", mid=6, tid=7)
    script = [
        (i % 2 == 1, nbss(m))
        for i, m in enumerate(
            [tree_req, tree_resp, create, create_resp, write, write_resp, close, close_resp]
        )
    ]
    script = [(not c, m) for c, m in script] + [(True, nbss(trans))]
    events = run(script)
    assert not of(events, SmbWeird)
    (tree,) = of(events, SmbTreeRecord)
    assert (tree.path, tree.share_type, tree.service) == ("\\\\S\\IPC$", "PIPE", "IPC")
    (f,) = of(events, SmbFileRecord)
    assert (f.name, f.path, f.action, f.bytes_written, f.closed, f.version) == (
        "\\lsarpc",
        "\\\\S\\IPC$",
        "OPENED",
        68,
        True,
        1,
    )
    functions = [c.function for c in of(events, SmbCommand) if not c.is_response]
    assert functions == ["session", "messaging", "messaging", "messaging", "messaging"]


def nbds(smb: bytes) -> bytes:
    names = netbios_name("WS01") + netbios_name("WORKGROUP")
    body = names + smb
    return struct.pack("!BBH4sHHH", 0x11, 0x02, 7, bytes([192, 0, 2, 10]), 138, len(body), 0) + body


def test_browser_datagram_counts_but_makes_no_session(tmp_path: Path) -> None:
    trans = smb1(0x25, b"\x00" * 34, b"\x00\\MAILSLOT\\BROWSE\x00" + b"\x01" * 20)
    payload = nbds(trans)
    udp = struct.pack("!HHHH", 138, 138, 8 + len(payload), 0) + payload
    ip = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(udp),
        1,
        0,
        64,
        17,
        0,
        bytes([192, 0, 2, 10]),
        bytes([192, 0, 2, 255]),
    )
    frame = b"\xff" * 6 + b"\x00\x00\x5e\x00\x53\x01\x08\x00" + ip + udp
    cap = Capture()
    cap.add(frame)
    smb = analyze_json(str(cap.write(tmp_path / "browser.pcap")))["smb"]
    assert smb["smb1"]["requests_by_command"] == {"TRANSACTION": 1}
    assert smb["functions"]["messaging"] == 1
    assert smb["by_transport"] == {"udp/138": 1}
    assert smb["sessions"] == []


def test_datagram_parser_rejects_junk() -> None:
    frame = tcp_frame(CLIENT, SERVER, 138, 138, 0, 0, 0, b"")
    pkt = Decoder().decode(CAPTURE_TS, 1, frame, len(frame))
    with pytest.raises(Malformed, match=r"nbds\.short"):
        parse_datagram(b"\x11\x02", pkt)
    assert parse_datagram(b"\x14" + b"\x00" * 20, pkt) == []  # a name query carries no SMB


def test_ntlmssp_parser() -> None:
    auth = parse_ntlmssp(b"junk" + ntlm_authenticate("u\u00e9", "D", "H"))
    assert auth is not None and (auth.message_type, auth.user, auth.domain, auth.host) == (
        3,
        "u\u00e9",
        "D",
        "H",
    )
    assert parse_ntlmssp(b"no signature") is None
    assert parse_ntlmssp(b"NTLMSSP\x00\x03\x00\x00\x00" + b"\xff" * 60).user is None  # offsets out of range


def test_names_tables_match_wireshark_codes() -> None:
    assert SMB2_COMMANDS[0x0E] == "QUERY_DIRECTORY" and SMB2_COMMANDS[0x10] == "QUERY_INFO"
    assert SMB2_DIALECTS[0x02FF] == "SMB2 wildcard (0x02FF)" and SMB2_DIALECTS[0x0302] == "SMB 3.0.2"
    assert SMB1_COMMANDS[0xA2] == "NT_CREATE_ANDX"


def test_terminal_tables_escape_wire_text() -> None:
    events = run(
        [
            (True, nbss(tree_connect_req("\\\\srv\\\x1b[31mx", 1))),
            (False, nbss(tree_connect_resp(1, 1, 5))),
        ]
    )
    text = render({"smb": track(events)}, ["smb"])
    assert "\x1b" not in text and "\\e[31mx" in text


# -- differential against tshark --------------------------------------------------------------------


def _tshark_smb(path: Path) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = {
        k: Counter() for k in ("1req", "1resp", "1off", "2req", "2resp", "2off", "2neg")
    }
    rows = tshark_fields(
        str(path),
        "(smb || smb2) && !icmp && !icmpv6",
        ("smb.cmd", "smb.flags.response", "smb.dialect", "smb2.cmd", "smb2.flags.response", "smb2.dialect"),
    )
    for cmd1, resp1, dialect1, cmd2, resp2, dialect2 in rows:
        if cmd1:
            first = cmd1.split(",")[0]
            out["1resp" if resp1.split(",")[0] == "1" else "1req"][SMB1_COMMANDS[int(first, 16)]] += 1
            out["1off"].update(d for d in dialect1.split(",") if d)
        if cmd2:
            flags = resp2.split(",")
            for i, c in enumerate(cmd2.split(",")):
                out["2resp" if flags[i] == "1" else "2req"][SMB2_COMMANDS[int(c)]] += 1
            for d in dialect2.split(","):
                if d:
                    out["2neg" if flags[0] == "1" else "2off"][SMB2_DIALECTS[int(d, 16)]] += 1
    return out


def _assert_like_tshark(path: Path) -> None:
    ts = _tshark_smb(path)
    assert ts["1req"] or ts["2req"], "tshark sees SMB here"
    smb = analyze_json(str(path))["smb"]
    v1, v2 = smb["smb1"], smb["smb2"]
    assert v1["requests_by_command"] == dict(ts["1req"])
    assert v1["responses_by_command"] == dict(ts["1resp"])
    assert v1["dialects_offered"] == dict(ts["1off"])
    assert v2["requests_by_command"] == dict(ts["2req"])
    assert v2["responses_by_command"] == dict(ts["2resp"])
    assert v2["dialects_offered"] == dict(ts["2off"])
    assert v2["negotiated_dialects"] == dict(ts["2neg"])


@needs_tshark
@pytest.mark.parametrize("name", ["smb.pcap", "mixed.pcap"])
def test_samples_like_tshark(name: str) -> None:
    _assert_like_tshark(SAMPLES / name)


@needs_shared
@needs_tshark
@pytest.mark.parametrize("rel", truth_files("smb"))
def test_shared_like_tshark(rel: str) -> None:
    _assert_like_tshark(SHARED_PCAPS / rel)


@needs_shared
@pytest.mark.parametrize("rel", truth_files("smb"))
def test_shared_like_truth(rel: str) -> None:
    t = shared_entry(rel)["smb"]
    smb = analyze_json(str(SHARED_PCAPS / rel))["smb"]
    for version in ("smb1", "smb2"):
        for key in ("requests_by_command", "responses_by_command", "dialects_offered", "negotiated_dialects"):
            if key in t.get(version, {}):
                assert smb[version][key] == truth_names(t[version][key]), (version, key)
    if "encrypted_transform_frames" in t.get("smb2", {}):
        assert smb["smb2"]["encrypted"] == t["smb2"]["encrypted_transform_frames"]
    tcp_frames = sum(v for k, v in t["frames_by_transport_port"].items() if k.startswith("tcp/"))
    assert len(smb["sessions"]) == (1 if tcp_frames else 0)


@needs_shared
def test_shared_session_facts() -> None:
    smb = analyze_json(str(SHARED_PCAPS / "smb/suricata-smb-version-keyword-input.pcap"))["smb"]
    (session,) = smb["sessions"]
    assert (session["user"], session["domain"], session["dialect"]) == ("robin", "cylera.lab", "SMB 2.1")
    assert session["versions"] == ["SMB1", "SMB2"]
    assert {t["path"] for t in smb["trees"]} == {"\\\\ws01.cylera.lab\\IPC$", "\\\\ws01.cylera.lab\\C$"}
    eicar = analyze_json(str(SHARED_PCAPS / "sll/suricata-smb-eicar-file-input.pcap"))["smb"]
    (f,) = eicar["files"]
    assert (f["name"], f["bytes_written"], f["path"], f["closed"]) == (
        "\\eicar",
        68,
        "\\\\192.168.1.3\\PUBLIC",
        True,
    )


# -- fuzz -------------------------------------------------------------------------------------------

_VALID = b"".join(data for _, data in SMB2_SCRIPT)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.booleans(),
            st.one_of(
                st.binary(max_size=200),
                st.builds(
                    lambda i, j: _VALID[min(i, j) : max(i, j)],
                    st.integers(0, len(_VALID)),
                    st.integers(0, len(_VALID)),
                ),
                st.builds(
                    lambda i, b: _VALID[:i] + bytes([b]) + _VALID[i + 1 : i + 400],
                    st.integers(0, len(_VALID) - 1),
                    st.integers(0, 255),
                ),
            ),
        ),
        max_size=8,
    ),
    st.lists(st.integers(0, 7), max_size=2),
)
def test_fuzz_only_malformed_escapes(chunks: list[tuple[bool, bytes]], gaps: list[int]) -> None:
    fuzz_feed(
        SmbDissector(make_flow()), chunks, {i: 1 + i * 37 for i in gaps}, CAPTURE_TS, step=0, close_after=0
    )


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_datagram_and_ntlmssp(data: bytes) -> None:
    frame = tcp_frame(CLIENT, SERVER, 138, 138, 0, 0, 0, b"")
    pkt = Decoder().decode(CAPTURE_TS, 1, frame, len(frame))
    pkt.flow = make_flow(138, 138)
    for payload in (data, nbds(b"\xffSMB" + data)):
        with contextlib.suppress(Malformed):
            parse_datagram(payload, pkt)
    parse_ntlmssp(data)
    parse_ntlmssp(b"NTLMSSP\x00\x03\x00\x00\x00" + data)
