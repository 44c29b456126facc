"""Tests for the streaming capture reader (analyzer.capture): every variant is built here with struct."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import analyzer.capture.reader as reader_mod
from analyzer.capture import (
    LINKTYPE_NAMES,
    CaptureInfo,
    CaptureReader,
    Frame,
    InterfaceInfo,
    linktype_name,
    open_capture,
)
from analyzer.errors import CaptureError

PCAPS = Path(__file__).resolve().parents[2] / "shared" / "pcaps"

# ---------------------------------------------------------------------------------------------------
# builders


Rec = tuple[int, int, bytes, int]  # (seconds, sub-second ticks, data, wirelen)

PCAP_MAGIC = {"pcap": 0xA1B2C3D4, "pcap-nsec": 0xA1B23C4D, "pcap-modified": 0xA1B2CD34}


def pcap_bytes(
    records: list[Rec], order: str = "<", fmt: str = "pcap", linktype: int = 1, snaplen: int = 65535
) -> bytes:
    """A classic pcap file in the given byte order ("<" or ">") and format."""
    out = [struct.pack(order + "IHHiIII", PCAP_MAGIC[fmt], 2, 4, 0, 0, snaplen, linktype)]
    for sec, frac, data, wirelen in records:
        out.append(struct.pack(order + "IIII", sec, frac, len(data), wirelen))
        if fmt == "pcap-modified":
            out.append(struct.pack(order + "iHBB", 3, 0x0800, 0, 0))
        out.append(data)
    return b"".join(out)


def pad4(b: bytes) -> bytes:
    return b + b"\x00" * (-len(b) % 4)


def block(order: str, btype: int, body: bytes) -> bytes:
    body = pad4(body)
    n = len(body) + 12
    return struct.pack(order + "II", btype, n) + body + struct.pack(order + "I", n)


def option(order: str, code: int, value: bytes) -> bytes:
    return struct.pack(order + "HH", code, len(value)) + pad4(value)


def shb(order: str, major: int = 1) -> bytes:
    return block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, major, 0, -1))


def idb(order: str, linktype: int, snaplen: int = 0, tsresol: int | None = None, **opts: object) -> bytes:
    body = struct.pack(order + "HHI", linktype, 0, snaplen)
    options = b""
    if tsresol is not None:
        options += option(order, 9, bytes([tsresol]))
    if "name" in opts:
        options += option(order, 2, str(opts["name"]).encode())
    if "tsoffset" in opts:
        options += option(order, 14, struct.pack(order + "q", int(str(opts["tsoffset"]))))
    if options:
        options += option(order, 0, b"")
    return block(order, 1, body + options)


def epb(order: str, iid: int, ticks: int, data: bytes, wirelen: int | None = None) -> bytes:
    wl = len(data) if wirelen is None else wirelen
    fixed = struct.pack(order + "IIIII", iid, ticks >> 32, ticks & 0xFFFFFFFF, len(data), wl)
    return block(order, 6, fixed + data)


def spb(order: str, data: bytes, wirelen: int) -> bytes:
    return block(order, 3, struct.pack(order + "I", wirelen) + data)


def pb(order: str, iid: int, ticks: int, data: bytes) -> bytes:
    fixed = struct.pack(order + "HHIIII", iid, 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data))
    return block(order, 2, fixed + data)


def write(tmp_path: Path, data: bytes, name: str = "c.bin") -> str:
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def read_all(path: str) -> tuple[CaptureReader, list[Frame]]:
    with open_capture(path) as r:
        frames = list(r)
    return r, frames


def read_until_error(path: str) -> tuple[list[Frame], CaptureError]:
    frames: list[Frame] = []
    with open_capture(path) as r, pytest.raises(CaptureError) as ei:
        for f in r:
            frames.append(f)
    return frames, ei.value


REC3: list[Rec] = [
    (1_700_000_000, 1, b"\x01" * 60, 60),
    (1_700_000_001, 999_999, b"\x02" * 10, 1514),
    (1_700_000_002, 0, b"", 0),
]

# ---------------------------------------------------------------------------------------------------
# classic pcap


@pytest.mark.parametrize("order,byte_order", [("<", "little"), (">", "big")])
@pytest.mark.parametrize("fmt,div", [("pcap", 1e6), ("pcap-nsec", 1e9), ("pcap-modified", 1e6)])
def test_classic_pcap_variants(tmp_path: Path, order: str, byte_order: str, fmt: str, div: float) -> None:
    path = write(tmp_path, pcap_bytes(REC3, order, fmt, linktype=113, snaplen=1234))
    r, frames = read_all(path)
    assert r.info == CaptureInfo(fmt, byte_order, False)
    assert r.interfaces == [InterfaceInfo(113, 1234, 1 / div, None)]
    assert [(f.linktype, f.data, f.wirelen, f.interface) for f in frames] == [
        (113, d, w, 0) for _, _, d, w in REC3
    ]
    assert [f.ts for f in frames] == [pytest.approx(s + t / div, abs=1e-9) for s, t, _, _ in REC3]
    assert r.total_bytes == r.bytes_consumed == len(Path(path).read_bytes())


def test_nanosecond_timestamp_not_read_as_microseconds(tmp_path: Path) -> None:
    path = write(tmp_path, pcap_bytes([(100, 500_000_000, b"x", 1)], fmt="pcap-nsec"))
    _, frames = read_all(path)
    assert frames[0].ts == 100.5


def test_fcs_bits_above_link_type_are_masked(tmp_path: Path) -> None:
    path = write(tmp_path, pcap_bytes(REC3, linktype=0x14000000 | 1))
    r, frames = read_all(path)
    assert r.interfaces[0].linktype == 1
    assert {f.linktype for f in frames} == {1}


def test_records_are_plain_tuples_equal_to_frames(tmp_path: Path) -> None:
    path = write(tmp_path, pcap_bytes(REC3))
    with open_capture(path) as r:
        recs = list(r.records())
    _, frames = read_all(path)
    assert all(type(x) is tuple and len(x) == 5 for x in recs)
    assert [Frame(*x) for x in recs] == frames
    assert all(type(x[2]) is bytes for x in recs)


def test_iteration_is_streaming_and_resumes(tmp_path: Path) -> None:
    path = write(tmp_path, pcap_bytes(REC3))
    with open_capture(path) as r:
        first = next(iter(r))
        rest = list(r.records())
    assert first.data == REC3[0][2]
    assert [x[2] for x in rest] == [REC3[1][2], REC3[2][2]]


def test_close_ends_iteration(tmp_path: Path) -> None:
    path = write(tmp_path, pcap_bytes(REC3))
    r = open_capture(path)
    it = r.records()
    next(it)
    r.close()
    assert list(r.records()) == []


@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_records_across_chunk_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    recs: list[Rec] = [(i, i, bytes([i]) * (i * 7 % 300), 300) for i in range(60)]
    path = write(tmp_path, pcap_bytes(recs))
    monkeypatch.setattr(reader_mod, "CHUNK_SIZE", chunk)
    _, frames = read_all(path)
    assert [f.data for f in frames] == [d for _, _, d, _ in recs]


# ---------------------------------------------------------------------------------------------------
# pcapng


def two_section_pcapng() -> tuple[bytes, list[tuple[float, int, bytes, int, int]]]:
    """Section 1 little-endian (Ethernet ns + raw IP 2^-20), section 2 big-endian (SLL default µs)."""
    ns_ticks = 1_700_000_000_123_456_789
    bin_ticks = 3 * 2**20 + 2**19  # 3.5 s
    s1 = (
        shb("<")
        + idb("<", 1, snaplen=65535, tsresol=9, name="eth0")
        + idb("<", 101, tsresol=0x80 | 20, tsoffset=1000)
        + block("<", 0xDEAD0001, b"unknown block, skipped by its length")
        + epb("<", 0, ns_ticks, b"A" * 50, 1500)
        + epb("<", 1, bin_ticks, b"B" * 21)
        + spb("<", b"C" * 64, 100)  # caplen: min(snaplen 65535, wirelen 100, 64 bytes in the block)
        + pb("<", 1, bin_ticks * 2, b"D" * 7)
        + block("<", 5, b"\x00" * 16)  # Interface Statistics Block: skipped
    )
    s2 = shb(">") + idb(">", 113, snaplen=32) + epb(">", 0, 5_000_001, b"E" * 30) + spb(">", b"F" * 40, 90)
    expected = [
        (ns_ticks / 10**9, 1, b"A" * 50, 1500, 0),
        (1003.5, 101, b"B" * 21, 21, 1),
        (1003.5, 1, b"C" * 64, 100, 0),  # SPB has no timestamp: previous packet's time
        (1007.0, 101, b"D" * 7, 7, 1),
        (5.000001, 113, b"E" * 30, 30, 2),
        (5.000001, 113, b"F" * 32, 90, 2),  # SPB caplen = min(snaplen 32, wirelen 90)
    ]
    return s1 + s2, expected


def test_pcapng_sections_interfaces_and_block_types(tmp_path: Path) -> None:
    data, expected = two_section_pcapng()
    path = write(tmp_path, data)
    with open_capture(path) as r:
        assert r.info == CaptureInfo("pcapng", "little", False)
        recs = list(r.records())
        assert r.skipped == {}
        assert r.interfaces == [
            InterfaceInfo(1, 65535, 1e-9, "eth0", 0),
            InterfaceInfo(101, 0, 2**-20, None, 1000),
            InterfaceInfo(113, 32, 1e-6, None, 0),
        ]
    assert [(lt, d, w, i) for _, lt, d, w, i in recs] == [(lt, d, w, i) for _, lt, d, w, i in expected]
    assert [ts for ts, *_ in recs] == [pytest.approx(ts, abs=1e-6) for ts, *_ in expected]
    assert recs[1][0] == 1003.5  # 2^-20 resolution is exact


def test_pcapng_big_endian_first_section(tmp_path: Path) -> None:
    data = shb(">") + idb(">", 1, tsresol=3) + epb(">", 0, 12_345, b"xyz")
    r, frames = read_all(write(tmp_path, data))
    assert r.info.byte_order == "big"
    assert frames == [Frame(12.345, 1, b"xyz", 3, 0)]


def test_pcapng_unknown_interface_and_bad_caplen_are_counted(tmp_path: Path) -> None:
    bad_caplen = bytearray(epb("<", 0, 1, b"z" * 8))
    struct.pack_into("<I", bad_caplen, 20, 9)  # caplen 9 in an 8-byte data area
    data = (
        shb("<")
        + spb("<", b"s", 1)  # no interface yet
        + idb("<", 1)
        + epb("<", 3, 1, b"q")  # interface 3 does not exist
        + bytes(bad_caplen)
        + block("<", 6, b"\x00" * 8)  # EPB too short for its fixed fields
        + epb("<", 0, 2_000_000, b"ok")
    )
    r, frames = read_all(write(tmp_path, data))
    assert [f.data for f in frames] == [b"ok"]
    assert r.skipped == {
        "pcapng.unknown_interface": 2,
        "pcapng.caplen_exceeds_block": 1,
        "pcapng.short_block": 1,
    }


def test_pcapng_overrunning_option_keeps_interface(tmp_path: Path) -> None:
    body = struct.pack("<HHI", 105, 0, 0) + option("<", 9, b"\x09") + struct.pack("<HH", 2, 200) + b"eth0"
    data = shb("<") + block("<", 1, body) + epb("<", 0, 2_500_000_000, b"w")
    r, frames = read_all(write(tmp_path, data))
    assert r.skipped == {"pcapng.bad_options": 1}
    assert r.interfaces == [InterfaceInfo(105, 0, 1e-9, None, 0)]
    assert frames == [Frame(2.5, 105, b"w", 1, 0)]


def test_pcapng_interfaces_reset_at_each_section(tmp_path: Path) -> None:
    data = (
        shb("<") + idb("<", 1) + shb("<") + epb("<", 0, 1, b"orphan") + idb("<", 228) + epb("<", 0, 1, b"v4")
    )
    r, frames = read_all(write(tmp_path, data))
    assert [(f.data, f.linktype, f.interface) for f in frames] == [(b"v4", 228, 1)]
    assert r.skipped == {"pcapng.unknown_interface": 1}


@pytest.mark.parametrize("chunk", [1, 13, 100])
def test_pcapng_across_chunk_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    data, expected = two_section_pcapng()
    monkeypatch.setattr(reader_mod, "CHUNK_SIZE", chunk)
    _, frames = read_all(write(tmp_path, data))
    assert [f.data for f in frames] == [e[2] for e in expected]


def test_pcapng_tiny_final_block_is_read(tmp_path: Path) -> None:
    data = shb("<") + idb("<", 1) + epb("<", 0, 1, b"a") + block("<", 0x99, b"")  # 12-byte last block
    _, frames = read_all(write(tmp_path, data))
    assert [f.data for f in frames] == [b"a"]


# ---------------------------------------------------------------------------------------------------
# gzip and standard input

VARIANTS: dict[str, Callable[[], bytes]] = {
    "pcap-le": lambda: pcap_bytes(REC3, "<"),
    "pcap-be": lambda: pcap_bytes(REC3, ">"),
    "pcap-nsec-le": lambda: pcap_bytes(REC3, "<", "pcap-nsec"),
    "pcap-nsec-be": lambda: pcap_bytes(REC3, ">", "pcap-nsec"),
    "pcap-modified": lambda: pcap_bytes(REC3, ">", "pcap-modified"),
    "pcapng": lambda: two_section_pcapng()[0],
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_gzip_of_each_variant(tmp_path: Path, variant: str) -> None:
    raw = VARIANTS[variant]()
    plain_reader, plain = read_all(write(tmp_path, raw, "plain"))
    gz = gzip.compress(raw)
    gz_path = write(tmp_path, gz, "capture.pcap")  # the name lies: the magic decides
    gz_reader, frames = read_all(gz_path)
    assert frames == plain
    assert gz_reader.info == CaptureInfo(plain_reader.info.format, plain_reader.info.byte_order, True)
    assert gz_reader.total_bytes == gz_reader.bytes_consumed == len(gz)


def test_multi_member_gzip(tmp_path: Path) -> None:
    raw = pcap_bytes(REC3)
    _, frames = read_all(write(tmp_path, gzip.compress(raw[:30]) + gzip.compress(raw[30:])))
    assert [f.data for f in frames] == [d for _, _, d, _ in REC3]


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("variant", ["pcap-le", "pcapng"])
def test_stdin(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variant: str, compress: bool) -> None:
    raw = VARIANTS[variant]()
    _, expected = read_all(write(tmp_path, raw))
    payload = gzip.compress(raw) if compress else raw
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BytesIO(payload)))
    with open_capture("-") as r:
        frames = list(r)
        assert r.total_bytes is None
        assert r.bytes_consumed == len(payload)
        assert r.info.compressed is compress
    assert frames == expected


def test_stdin_not_a_capture_names_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(buffer=io.BytesIO(b"hello world")))
    with pytest.raises(
        CaptureError, match=r"^<stdin>: not a pcap or pcapng capture \(starts with 0x68656c6c\)"
    ):
        open_capture("-")


def test_gzip_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader_mod, "GZIP_EXPANSION_FLOOR", 1 << 16)
    monkeypatch.setattr(reader_mod, "MAX_GZIP_EXPANSION_RATIO", 20)
    path = write(tmp_path, gzip.compress(pcap_bytes([]) + b"\x00" * (4 << 20)))
    _, err = read_until_error(path)
    assert "gzip bomb" in err.message
    assert err.message.startswith(path + ": ")


def test_ordinary_gzip_is_not_a_bomb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader_mod, "GZIP_EXPANSION_FLOOR", 1 << 16)
    recs: list[Rec] = [(i, 0, i.to_bytes(4, "big") * 50, 200) for i in range(2000)]
    _, frames = read_all(write(tmp_path, gzip.compress(pcap_bytes(recs))))
    assert len(frames) == 2000


def test_truncated_gzip_yields_frames_then_errors(tmp_path: Path) -> None:
    recs: list[Rec] = [(i, 0, bytes(range(256)) * 4, 1024) for i in range(500)]
    gz = gzip.compress(pcap_bytes(recs), compresslevel=0)  # stored: the cut lands mid-records
    frames, err = read_until_error(write(tmp_path, gz[: len(gz) // 2]))
    assert 0 < len(frames) < 500
    assert all(f.data == recs[0][2] for f in frames)
    assert err.offset == 24 + len(frames) * (16 + 1024)
    assert "truncated capture" in err.message


def test_corrupt_gzip_header(tmp_path: Path) -> None:
    path = write(tmp_path, b"\x1f\x8b\x09\x00garbage")
    with pytest.raises(CaptureError, match="corrupt gzip"):
        open_capture(path)


# ---------------------------------------------------------------------------------------------------
# truncation and lying lengths


@pytest.mark.parametrize("fmt,hl", [("pcap", 16), ("pcap-modified", 24)])
@pytest.mark.parametrize("compress", [False, True])
def test_truncated_record_header(tmp_path: Path, fmt: str, hl: int, compress: bool) -> None:
    raw = pcap_bytes(REC3, fmt=fmt)
    cut_at = 24 + (hl + 60) + (hl + 10)  # start of the third record
    raw = raw[: cut_at + 5]
    frames, err = read_until_error(write(tmp_path, gzip.compress(raw) if compress else raw))
    assert [f.data for f in frames] == [REC3[0][2], REC3[1][2]]
    assert err.offset == cut_at
    assert f"record header cut at byte offset {cut_at}" in err.message


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_record_data(tmp_path: Path, compress: bool) -> None:
    raw = pcap_bytes(REC3)[: 24 + 16 + 60 + 16 + 4]  # second record: header + 4 of its 10 bytes
    frames, err = read_until_error(write(tmp_path, gzip.compress(raw) if compress else raw))
    assert [f.data for f in frames] == [REC3[0][2]]
    assert err.offset == 24 + 16 + 60
    assert f"truncated capture: record data cut at byte offset {24 + 16 + 60}" in err.message
    assert err.message.startswith(str(tmp_path))


def test_truncated_file_header(tmp_path: Path) -> None:
    path = write(tmp_path, pcap_bytes([])[:20])
    with pytest.raises(CaptureError, match="file header cut"):
        open_capture(path)


def test_lying_caplen_over_max(tmp_path: Path) -> None:
    raw = bytearray(pcap_bytes(REC3))
    struct.pack_into("<I", raw, 24 + 16 + 60 + 8, reader_mod.MAX_CAPLEN + 1)  # caplen of record 2
    frames, err = read_until_error(write(tmp_path, bytes(raw) + b"\x00" * 300_000))
    assert [f.data for f in frames] == [REC3[0][2]]
    assert err.offset == 24 + 16 + 60
    assert "MAX_CAPLEN" in err.message and "corrupt record length" in err.message


def test_caplen_beyond_end_of_file(tmp_path: Path) -> None:
    raw = bytearray(pcap_bytes(REC3))
    struct.pack_into("<I", raw, 24 + 16 + 60 + 8, 5000)
    frames, err = read_until_error(write(tmp_path, bytes(raw)))
    assert len(frames) == 1
    assert err.offset == 24 + 16 + 60
    assert "record data cut" in err.message and "needs 5016 bytes" in err.message


def pcapng_prefix() -> bytes:
    return shb("<") + idb("<", 1) + epb("<", 0, 1, b"first")


@pytest.mark.parametrize(
    "bad_len,why",
    [(8, "invalid length 8"), (30, "invalid length 30"), ((16 << 20) + 4, "invalid length")],
)
def test_pcapng_bad_block_length(tmp_path: Path, bad_len: int, why: str) -> None:
    prefix = pcapng_prefix()
    bad = struct.pack("<II", 6, bad_len) + b"\x00" * 40
    frames, err = read_until_error(write(tmp_path, prefix + bad))
    assert [f.data for f in frames] == [b"first"]
    assert err.offset == len(prefix)
    assert why in err.message


def test_pcapng_trailer_mismatch(tmp_path: Path) -> None:
    prefix = pcapng_prefix()
    bad = bytearray(epb("<", 0, 1, b"second"))
    struct.pack_into("<I", bad, len(bad) - 4, 999)
    frames, err = read_until_error(write(tmp_path, prefix + bytes(bad) + epb("<", 0, 2, b"third")))
    assert [f.data for f in frames] == [b"first"]
    assert err.offset == len(prefix)
    assert "trailing copy says 999" in err.message


def test_pcapng_truncated_block_header_and_data(tmp_path: Path) -> None:
    prefix = pcapng_prefix()
    second = epb("<", 0, 2, b"second")
    frames, err = read_until_error(write(tmp_path, prefix + second[:5], "h"))
    assert len(frames) == 1 and err.offset == len(prefix) and "record header cut" in err.message
    frames, err = read_until_error(write(tmp_path, prefix + second[:-3], "d"))
    assert len(frames) == 1 and err.offset == len(prefix) and "record data cut" in err.message


def test_pcapng_unsupported_version(tmp_path: Path) -> None:
    frames, err = read_until_error(write(tmp_path, shb("<", major=2) + idb("<", 1)))
    assert frames == [] and "unsupported pcapng version 2.0" in err.message and err.offset == 0


def test_pcapng_bad_byte_order_magic_is_not_a_capture(tmp_path: Path) -> None:
    data = bytearray(shb("<"))
    data[8:12] = b"abcd"
    with pytest.raises(CaptureError, match="not a pcap or pcapng capture"):
        open_capture(write(tmp_path, bytes(data)))


def test_pcapng_second_section_bad_byte_order_magic(tmp_path: Path) -> None:
    second = bytearray(shb(">"))
    second[8:12] = b"abcd"
    frames, err = read_until_error(write(tmp_path, pcapng_prefix() + bytes(second)))
    assert len(frames) == 1 and "bad byte-order magic" in err.message


# ---------------------------------------------------------------------------------------------------
# files that are not captures


def test_not_a_capture(tmp_path: Path) -> None:
    path = write(tmp_path, b"GET / HTTP/1.1\r\n", "looks.pcap")
    with pytest.raises(CaptureError) as ei:
        open_capture(path)
    assert ei.value.message == f"{path}: not a pcap or pcapng capture (starts with 0x47455420)"


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, b"")
    with pytest.raises(CaptureError, match=r": empty file$"):
        open_capture(path)


def test_empty_gzip(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="empty file"):
        open_capture(write(tmp_path, gzip.compress(b"")))


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match=re.escape(f"{tmp_path}: is a directory")):
        open_capture(str(tmp_path))


def test_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.pcap")
    with pytest.raises(CaptureError, match=re.escape(f"{path}: no such file")):
        open_capture(path)


SETPRIV = shutil.which("setpriv")
DROP_FILE_CAPABILITIES = ("--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search")
"""Still uid 0, but without the capabilities that let root read any file: the kernel's own check."""


@pytest.mark.requires("setpriv")
def test_permission_denied(tmp_path: Path) -> None:
    """A file the user may not read: a real EACCES from the kernel, through the installed command."""
    path = Path(write(tmp_path, pcap_bytes(REC3)))
    path.chmod(0)
    prefix = [SETPRIV or "setpriv", *DROP_FILE_CAPABILITIES] if os.geteuid() == 0 else []
    cmd = [*prefix, sys.executable, "-m", "analyzer", "analyze", str(path)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr == f"pcap-analyzer: {path}: permission denied\n"


def test_short_garbage(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match=r"starts with 0x4142\)"):
        open_capture(write(tmp_path, b"AB"))


# ---------------------------------------------------------------------------------------------------
# link-type names


def test_linktype_names() -> None:
    assert linktype_name(1) == "EN10MB"
    assert linktype_name(276) == "LINUX_SLL2"
    assert linktype_name(113) == "LINUX_SLL"
    assert linktype_name(127) == "IEEE802_11_RADIO"
    assert linktype_name(65000) == "LINKTYPE_65000"
    assert LINKTYPE_NAMES[0] == "NULL" and LINKTYPE_NAMES[108] == "LOOP"


# ---------------------------------------------------------------------------------------------------
# the real reference captures

# Wireshark encapsulation short names (as capinfos prints them) -> LINKTYPE numbers.
WTAP_TO_LINKTYPE = {"ether": 1, "ppp": 9, "null": 0, "linux-sll": 113, "linux-sll2": 276, "raw": 101}
WTAP_TO_LINKTYPE.update({"ieee-802-11": 105, "ieee-802-11-radiotap": 127})


def truth_params() -> list[object]:
    truth = PCAPS / "TRUTH.json"
    if not truth.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"reference captures absent: {truth}"))]
    files = json.loads(truth.read_text())["files"]
    return [pytest.param(f, id=f["file"]) for f in files]


@pytest.mark.parametrize("entry", truth_params())
def test_reference_capture_matches_truth(entry: dict[str, object]) -> None:
    capture = entry["capture"]
    assert isinstance(capture, dict)
    path = PCAPS / str(entry["file"])
    count = 0
    linktypes: set[int] = set()
    with open_capture(str(path)) as r:
        try:
            for _, lt, _, _, _ in r.records():
                count += 1
                linktypes.add(lt)
        except CaptureError:
            assert str(entry["file"]).startswith("truncated/"), "only truncated/ files may end in an error"
        assert r.skipped == {}
    expected_lts = set()
    for desc in capture["link_types"]:
        m = re.search(r"\(\d+ - ([\w-]+)\)$", desc)
        assert m and m.group(1) in WTAP_TO_LINKTYPE, f"unmapped link type {desc!r}"
        expected_lts.add(WTAP_TO_LINKTYPE[m.group(1)])
    assert count == capture["packet_count"]
    assert linktypes == expected_lts


# ---------------------------------------------------------------------------------------------------
# fuzz: only frames or CaptureError, whatever follows a valid header

HEADERS = {
    "pcap": pcap_bytes([]),
    "pcap-modified-be": pcap_bytes([], ">", "pcap-modified"),
    "pcapng": shb("<") + idb("<", 1) + idb("<", 101, tsresol=0x80 | 20),
    "pcapng-be": shb(">") + idb(">", 1, tsresol=9),
}


def drain(path: str) -> None:
    try:
        with open_capture(path) as r:
            for ts, lt, data, wirelen, iface in r.records():
                assert isinstance(ts, float) and isinstance(data, bytes)
                assert 0 <= iface < len(r.interfaces) and r.interfaces[iface].linktype == lt
                assert wirelen >= 0
    except CaptureError as exc:
        assert exc.message.startswith(path + ": ")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.sampled_from(sorted(HEADERS)), tail=st.binary(max_size=400), gz=st.booleans())
def test_fuzz_arbitrary_tail(tmp_path: Path, header: str, tail: bytes, gz: bool) -> None:
    raw = HEADERS[header] + tail
    drain(write(tmp_path, gzip.compress(raw) if gz else raw, "fuzz"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    variant=st.sampled_from(sorted(VARIANTS)),
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=6),
    cut=st.integers(min_value=0),
)
def test_fuzz_mutated_captures(tmp_path: Path, variant: str, edits: list[tuple[int, int]], cut: int) -> None:
    raw = bytearray(VARIANTS[variant]())
    for at, value in edits:
        raw[at % len(raw)] = value
    del raw[len(raw) - cut % 64 :]
    drain(write(tmp_path, bytes(raw), "fuzz"))


@pytest.mark.parametrize("name", ["mixed.pcap", "mixed.pcapng"])
def test_raw_records_are_the_records_still_in_the_buffer(name: str) -> None:
    """`raw_records` (what the analysis loop reads) and `records` describe the same frames."""
    path = str(Path(__file__).resolve().parents[1] / "sample_pcaps" / name)
    with open_capture(path) as r:
        raw = [(ts, lt, buf[start:end], wl, i) for ts, lt, buf, start, end, wl, i in r.raw_records()]
    with open_capture(path) as r:
        assert raw == list(r.records())
    assert len(raw) == 536
