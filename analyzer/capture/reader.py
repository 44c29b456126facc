"""Streaming reader for classic pcap, pcapng and their gzip-compressed forms.

Theory of operation
-------------------
`open_capture()` opens the source (a path, or "-" for standard input), sniffs the first bytes (gzip
magic 1f 8b, then the capture magic inside), parses the classic pcap file header, and returns a
`CaptureReader`. The format is decided by magic bytes only, never by the file name.

Iteration walks records in place inside one `bytes` buffer that holds a window of the (decompressed)
stream: CHUNK_SIZE bytes are read at a time, each record header is decoded with a precompiled
`struct.Struct.unpack_from`, the packet bytes are one slice, and when the next record does not fit
the buffer keeps only the unconsumed tail and appends the next chunk. Memory is therefore bounded by
CHUNK_SIZE plus the largest record the limits allow (MAX_CAPLEN / MAX_BLOCK_LEN), never by the file.

pcapng is a small state machine over blocks:
  - a Section Header Block (SHB) starts a section: it sets the byte order (from its byte-order magic)
    for every block up to the next SHB and forgets the section's interfaces;
  - an Interface Description Block (IDB) appends an interface to the section (link type, snaplen,
    `if_tsresol`, `if_tsoffset`, `if_name`) and to `reader.interfaces`;
  - Enhanced (type 6), Simple (type 3) and obsolete Packet Blocks (type 2) yield frames;
  - every other block type is skipped by its length.

Interface numbering: `Frame.interface` (and `reader.interfaces`) count IDBs across the whole file,
so the section-local interface ids of a second section are remapped (as Wireshark does) and an index
never means two different interfaces.

Timestamps are float seconds since the epoch. pcapng ticks are divided by an exact integer divisor
(10**n or 2**n) so the division rounds once. A Simple Packet Block has no timestamp: it gets the
timestamp of the previous packet in the file (0.0 if none) so packet time never jumps back to 1970.

Errors
------
Anything that stops the framing is a `CaptureError` whose message names the file:
  - at open: missing file, directory, permission denied, empty file, not a capture (with its first
    bytes in hex), a cut file header, a corrupt gzip header;
  - while iterating, after every complete record before the problem has been yielded: a truncated
    capture ("record header" / "record data cut at byte offset N", where N is the offset of the start
    of the incomplete record in the uncompressed stream, i.e. where the valid data ends), a classic
    pcap caplen over MAX_CAPLEN (a lying length: there is no way to find the next record), a pcapng
    block length under 12, not a multiple of 4, over MAX_BLOCK_LEN or different from its trailing
    copy, an unsupported pcapng major version, a gzip stream that is corrupt, cut short or that
    expands more than MAX_GZIP_EXPANSION_RATIO (gzip bomb), more than MAX_INTERFACES interfaces.

Where the pcapng framing is still intact, a bad block is skipped and counted instead, in
`reader.skipped` (keys are stable): "pcapng.unknown_interface" (a packet naming an interface that no
IDB of its section described), "pcapng.caplen_exceeds_block" (a captured length that runs past its
block), "pcapng.short_block" (a packet or interface block too short for its fixed fields),
"pcapng.bad_options" (an IDB whose option list runs past the block; the options read up to there are
kept).
"""

from __future__ import annotations

import gzip
import os
import stat
import struct
import sys
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any, BinaryIO, Final

from analyzer.capture.frame import Frame
from analyzer.errors import CaptureError

CHUNK_SIZE = 1 << 20
"""Bytes read per refill: large enough that the per-read cost vanishes, small enough to not matter."""

MAX_CAPLEN: Final = 262144
"""Largest classic-pcap record caplen accepted: libpcap's MAXIMUM_SNAPLEN and Wireshark's
WTAP_MAX_PACKET_SIZE_STANDARD (256 KiB). A bigger value is a corrupt length field, and since classic
pcap has no resync marker the reader must stop instead of reading garbage as packets."""

MAX_BLOCK_LEN: Final = 16 << 20
"""Largest pcapng block accepted (16 MiB, Wireshark's limit too): room for any packet plus large
non-packet blocks (name resolution, decryption secrets), while a corrupt length cannot make the
reader buffer an arbitrary amount of memory."""

MAX_INTERFACES: Final = 65536
"""Most pcapng interfaces kept across all sections (an interface id in the obsolete Packet Block is
16 bits); bounds `reader.interfaces` against a file made of endless IDBs."""

MAX_GZIP_EXPANSION_RATIO = 200
"""Most decompressed bytes per compressed byte read. Real captures compress 2-20x and a synthetic
benchmark capture ~50x; deflate's own ceiling is about 1032x. The limit must stay well below that
ceiling: the compressed count runs ahead of the data decompressed from it (GzipFile reads 128 KiB at
a time), so at 1000x a 200 KiB bomb of zeros was fully inflated (200 MiB) before being refused."""

GZIP_EXPANSION_FLOOR = 16 << 20
"""Decompressed bytes always allowed before the expansion ratio is enforced (16 MiB), so that a small
but highly repetitive capture is never refused. Kept modest because a bomb is inflated and analysed
up to here: 16 MiB of zeros is a million empty frames, a few seconds of work."""

SNIFF_LEN: Final = 4
"""Bytes needed to recognise a format by its magic number (gzip needs 2, captures 4)."""

PCAP_HEADER: Final = struct.Struct("<IHHiIII")
"""Classic pcap file header: magic, major, minor, thiszone, sigfigs, snaplen, linktype (+FCS bits)."""

LINKTYPE_MASK: Final = 0xFFFF
"""Low 16 bits of the pcap header's link-type field; the bits above carry FCS length flags."""

GZIP_MAGIC: Final = b"\x1f\x8b"
"""First two bytes of every gzip member."""

PCAPNG_SHB_TYPE: Final = 0x0A0D0D0A
"""Block type of the pcapng Section Header Block; a palindrome, so readable in either byte order."""

PCAPNG_BYTE_ORDER_MAGIC: Final = 0x1A2B3C4D
"""pcapng SHB byte-order magic, read in the section's byte order."""

PCAPNG_MAJOR_VERSION: Final = 1
"""The only pcapng major version that exists; another one means an incompatible layout."""

MIN_BLOCK_LEN: Final = 12
"""Smallest pcapng block: type, length and the trailing length copy."""

MIN_SHB_LEN: Final = 28
"""SHB fixed part: block header (8), byte-order magic (4), versions (4), section length (8), trailer."""

MIN_IDB_LEN: Final = 20
"""IDB fixed part: block header (8), link type (2), reserved (2), snaplen (4), trailer (4)."""

MIN_EPB_LEN: Final = 32
"""EPB fixed part: block header (8), interface, ts high, ts low, caplen, wirelen (20), trailer (4)."""

MIN_SPB_LEN: Final = 16
"""SPB fixed part: block header (8), original length (4), trailer (4)."""

MIN_PB_LEN: Final = 32
"""Obsolete PB fixed part: header (8), iface (2), drops (2), ts high/low, caplen, wirelen, trailer."""

BT_PB: Final = 2
"""pcapng obsolete Packet Block."""
BT_IDB: Final = 1
"""pcapng Interface Description Block."""
BT_SPB: Final = 3
"""pcapng Simple Packet Block."""
BT_EPB: Final = 6
"""pcapng Enhanced Packet Block."""

OPT_ENDOFOPT: Final = 0
"""pcapng option code that ends an option list."""
OPT_IF_NAME: Final = 2
"""IDB option: interface name (UTF-8)."""
OPT_IF_TSRESOL: Final = 9
"""IDB option: timestamp resolution, one byte; high bit set = power of 2, else power of 10."""
OPT_IF_TSOFFSET: Final = 14
"""IDB option: signed 64-bit seconds added to every timestamp of the interface."""

DEFAULT_TSRESOL_DIVISOR: Final = 1_000_000
"""pcapng ticks per second when an IDB has no if_tsresol (microseconds)."""

PcapFormat = tuple[str, str]
"""(format name, byte order) as a magic number reveals them."""

MAGICS: Final[dict[bytes, PcapFormat]] = {
    b"\xd4\xc3\xb2\xa1": ("pcap", "little"),
    b"\xa1\xb2\xc3\xd4": ("pcap", "big"),
    b"\x4d\x3c\xb2\xa1": ("pcap-nsec", "little"),
    b"\xa1\xb2\x3c\x4d": ("pcap-nsec", "big"),
    b"\x34\xcd\xb2\xa1": ("pcap-modified", "little"),
    b"\xa1\xb2\xcd\x34": ("pcap-modified", "big"),
}
"""Classic pcap magic bytes as they appear on disk -> (format, byte order)."""

PCAP_RECORD_FIELDS: Final = 16
"""The four 32-bit fields every classic record header starts with: seconds, fraction, caplen, len."""
PCAP_RECORD_LEN: Final[dict[str, int]] = {"pcap": 16, "pcap-nsec": 16, "pcap-modified": 24}
"""Record header length per classic format; the modified (Kuznetsov) one appends ifindex, protocol,
pkt_type and a pad byte after the usual four fields."""

PCAP_FRACTION_DIVISOR: Final[dict[str, float]] = {"pcap": 1e6, "pcap-nsec": 1e9, "pcap-modified": 1e6}
"""Sub-second ticks per second per classic format."""

ENDIAN_PREFIX: Final[dict[str, str]] = {"little": "<", "big": ">"}
"""struct prefix per byte order."""

Record = tuple[float, int, bytes, int, int]
"""(ts, linktype, data, wirelen, interface): a frame as a plain tuple."""

RawRecord = tuple[float, int, bytes, int, int, int, int]
"""(ts, linktype, buffer, start, end, wirelen, interface): a frame that is `buffer[start:end]`, not yet
copied out of the read buffer. The analysis loop takes these, so the bulk frames it only counts are
never copied (`CaptureReader.raw_records`)."""


@dataclass(frozen=True, slots=True)
class CaptureInfo:
    """What the file header says about the whole capture."""

    format: str
    """"pcap", "pcap-nsec", "pcap-modified" or "pcapng"."""
    byte_order: str
    """"little" or "big" (for pcapng: of the first section)."""
    compressed: bool
    """True when the file is gzip-compressed."""


@dataclass(frozen=True, slots=True)
class InterfaceInfo:
    """One capturing interface (the single one of a classic pcap, or one pcapng IDB)."""

    linktype: int
    """LINKTYPE_* value of the frames captured on this interface."""
    snaplen: int
    """Maximum captured bytes per frame as declared (0 = no limit in pcapng)."""
    ts_resolution: float
    """Seconds per timestamp tick (1e-6, 1e-9, 2**-20, ...)."""
    name: str | None
    """pcapng `if_name`, or None."""
    ts_offset: int = 0
    """pcapng `if_tsoffset`: seconds added to every timestamp of this interface."""


@dataclass(frozen=True, slots=True)
class _NgStructs:
    """Precompiled pcapng structures for one byte order."""

    head: struct.Struct
    """Block type and block total length."""
    u32: struct.Struct
    """One unsigned 32-bit integer (the trailing length copy, the SPB original length)."""
    head_epb: struct.Struct
    """Block header and EPB fields: type, length, interface, ts high, ts low, caplen, wirelen."""
    pb: struct.Struct
    """Obsolete PB fields after the block header: interface, drops, ts high, ts low, caplen, wirelen."""
    shb: struct.Struct
    """SHB fields after the block header: byte-order magic, major, minor."""
    idb: struct.Struct
    """IDB fields after the block header: link type, reserved, snaplen."""
    opt: struct.Struct
    """Option header: code and length."""
    i64: struct.Struct
    """One signed 64-bit integer (if_tsoffset)."""


def _ng_structs(order: str) -> _NgStructs:
    p = ENDIAN_PREFIX[order]
    return _NgStructs(
        head=struct.Struct(p + "II"),
        u32=struct.Struct(p + "I"),
        head_epb=struct.Struct(p + "IIIIIII"),
        pb=struct.Struct(p + "HHIIII"),
        shb=struct.Struct(p + "IHH"),
        idb=struct.Struct(p + "HHI"),
        opt=struct.Struct(p + "HH"),
        i64=struct.Struct(p + "q"),
    )


NG_STRUCTS: Final[dict[str, _NgStructs]] = {order: _ng_structs(order) for order in ENDIAN_PREFIX}
"""pcapng structures per byte order."""

NG_ORDER_BY_BOM: Final[dict[bytes, str]] = {
    b"\x4d\x3c\x2b\x1a": "little",
    b"\x1a\x2b\x3c\x4d": "big",
}
"""SHB byte-order magic bytes as on disk -> byte order of the section."""

_SectionIf = tuple[int, int, int, int]
"""A section's interface as the hot loop needs it: (global index, linktype, ticks/s, offset s)."""


class _CountingReader:
    """A binary stream wrapper that counts the bytes read from the underlying file."""

    __slots__ = ("count", "raw")

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.count += len(data)
        return data


class _PrefixedReader:
    """Replays bytes already sniffed from a stream, then continues with the stream itself."""

    __slots__ = ("prefix", "raw")

    def __init__(self, prefix: bytes, raw: _CountingReader) -> None:
        self.prefix = prefix
        self.raw = raw

    def read(self, n: int = -1) -> bytes:
        if self.prefix:
            if n < 0 or n >= len(self.prefix):
                head, self.prefix = self.prefix, b""
                rest = self.raw.read(n - len(head)) if n > len(head) else b""
                return head + rest
            head, self.prefix = self.prefix[:n], self.prefix[n:]
            return head
        return self.raw.read(n)


class CaptureReader:
    """An open capture: header facts in `info`, frames by iteration or `records()`.

    Records are produced once: iterating again (or calling `records()` again) continues where the
    previous iteration stopped.
    """

    def __init__(
        self,
        display: str,
        info: CaptureInfo,
        counter: _CountingReader,
        read: Callable[[int], bytes],
        buf: bytes,
        total_bytes: int | None,
        closers: list[IO[bytes] | gzip.GzipFile],
    ) -> None:
        self.info = info
        """Format, byte order and compression of the capture."""
        self.interfaces: list[InterfaceInfo] = []
        """Capturing interfaces seen so far; `Frame.interface` indexes this list."""
        self.skipped: dict[str, int] = {}
        """Packet/interface blocks skipped with intact framing, per stable reason key."""
        self.total_bytes = total_bytes
        """Size of the file on disk, or None for standard input and pipes."""
        self._display = display
        self._counter = counter
        self._read = read
        self._buf = buf
        self._base = 0
        self._eof = False
        self._gzip_problem: str | None = None
        self._closers = closers
        self._gen: Generator[RawRecord, None, None] | None = None
        self._pcap_linktype = 0

    # -- public API ---------------------------------------------------------------------------

    @property
    def bytes_consumed(self) -> int:
        """Bytes of the file (compressed, if gzip) read so far; runs ahead by at most one chunk."""
        return self._counter.count

    def raw_records(self) -> Generator[RawRecord, None, None]:
        """Every frame as a `RawRecord`: `(ts, linktype, buffer, start, end, wirelen, interface)`."""
        if self._gen is None:
            if self.info.format == "pcapng":
                self._gen = self._pcapng_records()
            else:
                self._gen = self._pcap_records()
        return self._gen

    def records(self) -> Generator[Record, None, None]:
        """Every frame as a plain `(ts, linktype, data, wirelen, interface)` tuple."""
        for ts, linktype, buf, start, end, wirelen, interface in self.raw_records():
            yield (ts, linktype, buf[start:end], wirelen, interface)

    def __iter__(self) -> Iterator[Frame]:
        for rec in self.records():
            yield Frame(*rec)

    def close(self) -> None:
        """Stop iteration and close the file (standard input is left open)."""
        if self._gen is not None:
            self._gen.close()
        self._gen = _exhausted()
        for f in self._closers:
            f.close()
        self._closers = []

    def __enter__(self) -> CaptureReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- buffer management --------------------------------------------------------------------

    def _error(self, what: str, offset: int | None) -> CaptureError:
        return CaptureError(f"{self._display}: {what}", offset)

    def _refill(self, buf: bytes, pos: int, need: int) -> bytes:
        """Return buf[pos:] followed by more of the stream: at least `need` bytes unless it ends."""
        self._base += pos
        tail = buf[pos:]
        if self._eof:
            return tail
        parts = [tail]
        have = len(tail)
        want = max(CHUNK_SIZE, need - have)
        while True:
            try:
                data = self._read(want)
            except (EOFError, OSError, zlib.error) as exc:
                # gzip: a stream cut short, a bad CRC, or garbage between members. Keep what was
                # decompressed; the walker yields its complete records, then reports the problem.
                if not self.info.compressed:
                    raise self._error(f"read error: {exc}", self._base + have) from exc
                self._eof = True
                self._gzip_problem = str(exc) or type(exc).__name__
                break
            if not data:
                self._eof = True
                break
            parts.append(data)
            have += len(data)
            want -= len(data)
            if have >= need:
                break
        if self.info.compressed:
            produced = self._base + have
            compressed = self._counter.count
            if produced > GZIP_EXPANSION_FLOOR and produced > MAX_GZIP_EXPANSION_RATIO * compressed:
                raise self._error(
                    f"gzip stream expands more than {MAX_GZIP_EXPANSION_RATIO}x "
                    f"({compressed} compressed bytes gave {produced}): refusing a likely gzip bomb",
                    produced,
                )
        return b"".join(parts) if len(parts) > 1 else tail

    def _end_of_data(self, buf: bytes, header_len: int, need: int) -> CaptureError | None:
        """At the end of the stream with `buf` holding an incomplete record (or nothing)."""
        gz = f" (gzip stream problem: {self._gzip_problem})" if self._gzip_problem else ""
        if not buf:
            if self._gzip_problem:
                return self._error(f"corrupt or truncated gzip stream: {self._gzip_problem}", self._base)
            return None
        part = "record header" if len(buf) < header_len else "record data"
        return self._error(
            f"truncated capture: {part} cut at byte offset {self._base} (the record starting there "
            f"needs {need} bytes, the data ends after {len(buf)}){gz}",
            self._base,
        )

    # -- classic pcap -------------------------------------------------------------------------

    def _pcap_records(self) -> Generator[RawRecord, None, None]:
        fmt = self.info.format
        hl = PCAP_RECORD_LEN[fmt]
        div = PCAP_FRACTION_DIVISOR[fmt]
        unpack = struct.Struct(ENDIAN_PREFIX[self.info.byte_order] + "IIII").unpack_from
        little = self.info.byte_order == "little"
        lt = self._pcap_linktype
        maxcap = MAX_CAPLEN
        buf = self._buf
        self._buf = b""
        pos = 0
        while True:
            end = len(buf)
            while pos + PCAP_RECORD_FIELDS <= end:
                # The four 32-bit fields read byte by byte: native arithmetic once compiled, where
                # struct would build and unpack a tuple for every record.
                if little:
                    sec = buf[pos] | buf[pos + 1] << 8 | buf[pos + 2] << 16 | buf[pos + 3] << 24
                    frac = buf[pos + 4] | buf[pos + 5] << 8 | buf[pos + 6] << 16 | buf[pos + 7] << 24
                    caplen = buf[pos + 8] | buf[pos + 9] << 8 | buf[pos + 10] << 16 | buf[pos + 11] << 24
                    wirelen = buf[pos + 12] | buf[pos + 13] << 8 | buf[pos + 14] << 16 | buf[pos + 15] << 24
                else:
                    sec, frac, caplen, wirelen = unpack(buf, pos)
                start = pos + hl
                nxt = start + caplen
                if nxt > end or caplen > maxcap:
                    break
                yield (sec + frac / div, lt, buf, start, nxt, wirelen, 0)
                pos = nxt
            need = hl
            if pos + hl <= end:
                caplen = unpack(buf, pos)[2]
                if caplen > maxcap:
                    raise self._error(
                        f"record at byte offset {self._base + pos} claims caplen {caplen} > "
                        f"MAX_CAPLEN {maxcap}: corrupt record length, cannot find the next record",
                        self._base + pos,
                    )
                need = hl + caplen
            buf = self._refill(buf, pos, need)
            pos = 0
            if len(buf) < need:
                err = self._end_of_data(buf, hl, need)
                if err is not None:
                    raise err
                return

    # -- pcapng -------------------------------------------------------------------------------

    def _count(self, key: str) -> None:
        self.skipped[key] = self.skipped.get(key, 0) + 1

    def _ng_block_len(self, s: _NgStructs, buf: bytes, pos: int) -> tuple[_NgStructs, int, int]:
        """Block type and checked length at `pos` (12+ bytes available); an SHB switches byte order."""
        btype, blen = s.head.unpack_from(buf, pos)
        if btype == PCAPNG_SHB_TYPE:
            order = NG_ORDER_BY_BOM.get(buf[pos + 8 : pos + 12])
            if order is None:
                raise self._error(
                    f"pcapng section header at byte offset {self._base + pos} has a bad byte-order "
                    f"magic 0x{buf[pos + 8 : pos + 12].hex()}",
                    self._base + pos,
                )
            s = NG_STRUCTS[order]
            btype, blen = s.head.unpack_from(buf, pos)
        self._ng_check_len(btype, blen, pos)
        return s, btype, blen

    def _ng_check_len(self, btype: int, blen: int, pos: int) -> None:
        minimum = MIN_SHB_LEN if btype == PCAPNG_SHB_TYPE else MIN_BLOCK_LEN
        if blen < minimum or blen % 4 or blen > MAX_BLOCK_LEN:
            raise self._error(
                f"pcapng block (type 0x{btype:08x}) at byte offset {self._base + pos} has an invalid "
                f"length {blen} (must be a multiple of 4 between {minimum} and {MAX_BLOCK_LEN})",
                self._base + pos,
            )

    def _ng_section(self, s: _NgStructs, buf: bytes, pos: int) -> None:
        _, major, minor = s.shb.unpack_from(buf, pos + 8)
        if major != PCAPNG_MAJOR_VERSION:
            raise self._error(
                f"unsupported pcapng version {major}.{minor} in the section at byte offset "
                f"{self._base + pos}",
                self._base + pos,
            )

    def _ng_interface(self, s: _NgStructs, buf: bytes, pos: int, blen: int) -> _SectionIf | None:
        """Parse an IDB into `reader.interfaces`; return its hot-loop entry (None if too short)."""
        if blen < MIN_IDB_LEN:
            self._count("pcapng.short_block")
            return None
        if len(self.interfaces) >= MAX_INTERFACES:
            raise self._error(
                f"more than MAX_INTERFACES ({MAX_INTERFACES}) pcapng interfaces", self._base + pos
            )
        linktype, _, snaplen = s.idb.unpack_from(buf, pos + 8)
        divisor = DEFAULT_TSRESOL_DIVISOR
        offset = 0
        name: str | None = None
        opt = pos + 16
        end = pos + blen - 4
        while opt + 4 <= end:
            code, olen = s.opt.unpack_from(buf, opt)
            if code == OPT_ENDOFOPT:
                break
            vstart = opt + 4
            vend = vstart + olen
            if vend > end:
                self._count("pcapng.bad_options")
                break
            if code == OPT_IF_TSRESOL and olen >= 1:
                v = buf[vstart]
                divisor = 2 ** (v & 0x7F) if v & 0x80 else 10**v
            elif code == OPT_IF_TSOFFSET and olen >= 8:
                offset = s.i64.unpack_from(buf, vstart)[0]
            elif code == OPT_IF_NAME:
                name = buf[vstart:vend].rstrip(b"\x00").decode("utf-8", "replace")
            opt = vstart + ((olen + 3) & ~3)
        index = len(self.interfaces)
        self.interfaces.append(InterfaceInfo(linktype, snaplen, 1 / divisor, name, offset))
        return (index, linktype, divisor, offset)

    def _ng_other_packet(
        self, s: _NgStructs, btype: int, buf: bytes, pos: int, blen: int, ifs: list[_SectionIf], last: float
    ) -> RawRecord | None:
        """A Simple or obsolete Packet Block as a record, or None when it has to be skipped."""
        if btype == BT_SPB:
            if blen < MIN_SPB_LEN:
                self._count("pcapng.short_block")
                return None
            if not ifs:
                self._count("pcapng.unknown_interface")
                return None
            gidx, lt, _, _ = ifs[0]
            wirelen = s.u32.unpack_from(buf, pos + 8)[0]
            caplen = min(wirelen, blen - MIN_SPB_LEN)
            snaplen = self.interfaces[gidx].snaplen
            if snaplen:
                caplen = min(caplen, snaplen)
            return (last, lt, buf, pos + 12, pos + 12 + caplen, wirelen, gidx)
        # obsolete Packet Block
        if blen < MIN_PB_LEN:
            self._count("pcapng.short_block")
            return None
        iid, _, hi, lo, caplen, wirelen = s.pb.unpack_from(buf, pos + 8)
        if iid >= len(ifs):
            self._count("pcapng.unknown_interface")
            return None
        if caplen > blen - MIN_PB_LEN:
            self._count("pcapng.caplen_exceeds_block")
            return None
        gidx, lt, div, off = ifs[iid]
        return (((hi << 32) | lo) / div + off, lt, buf, pos + 28, pos + 28 + caplen, wirelen, gidx)

    def _pcapng_records(self) -> Generator[RawRecord, None, None]:
        s = NG_STRUCTS[self.info.byte_order]
        ifs: list[_SectionIf] = []
        nifs = 0
        last = 0.0
        buf = self._buf
        self._buf = b""
        pos = 0
        maxlen = MAX_BLOCK_LEN
        epb_at = s.head_epb.unpack_from
        trailer_at = s.u32.unpack_from
        while True:
            end = len(buf)
            while pos + MIN_BLOCK_LEN <= end:
                try:
                    btype, blen, iid, hi, lo, caplen, wirelen = epb_at(buf, pos)
                except struct.error:  # under 28 bytes left: not a complete EPB anyway
                    btype, blen = s.head.unpack_from(buf, pos)
                    iid = hi = lo = caplen = wirelen = 0
                if btype == BT_EPB and MIN_EPB_LEN <= blen <= maxlen and not blen & 3:
                    nxt = pos + blen
                    if nxt > end:
                        break
                    if trailer_at(buf, nxt - 4)[0] != blen:
                        raise self._trailer_error(s, buf, pos, blen)
                    if iid < nifs:
                        if caplen <= blen - MIN_EPB_LEN:
                            gidx, lt, div, off = ifs[iid]
                            last = ((hi << 32) | lo) / div + off
                            yield (last, lt, buf, pos + 28, pos + 28 + caplen, wirelen, gidx)
                        else:
                            self._count("pcapng.caplen_exceeds_block")
                    else:
                        self._count("pcapng.unknown_interface")
                    pos = nxt
                    continue
                # every other block, and an EPB whose length is invalid (reported below)
                s2, btype, blen = self._ng_block_len(s, buf, pos)
                nxt = pos + blen
                if nxt > end:
                    break
                if s2.u32.unpack_from(buf, nxt - 4)[0] != blen:
                    raise self._trailer_error(s2, buf, pos, blen)
                if btype == PCAPNG_SHB_TYPE:
                    self._ng_section(s2, buf, pos)
                    s = s2
                    epb_at = s.head_epb.unpack_from
                    trailer_at = s.u32.unpack_from
                    ifs = []
                    nifs = 0
                elif btype == BT_IDB:
                    entry = self._ng_interface(s, buf, pos, blen)
                    if entry is not None:
                        ifs.append(entry)
                        nifs += 1
                elif btype == BT_EPB:
                    self._count("pcapng.short_block")
                elif btype in (BT_SPB, BT_PB):
                    rec = self._ng_other_packet(s, btype, buf, pos, blen, ifs, last)
                    if rec is not None:
                        last = rec[0]
                        yield rec
                pos = nxt
            # the block at `pos` is not complete in the buffer
            need = MIN_BLOCK_LEN
            if pos + MIN_BLOCK_LEN <= end:
                need = self._ng_block_len(s, buf, pos)[2]
            buf = self._refill(buf, pos, need)
            pos = 0
            if len(buf) < need:
                err = self._end_of_data(buf, 8, need)
                if err is not None:
                    raise err
                return

    def _trailer_error(self, s: _NgStructs, buf: bytes, pos: int, blen: int) -> CaptureError:
        trailer = s.u32.unpack_from(buf, pos + blen - 4)[0]
        return self._error(
            f"pcapng block at byte offset {self._base + pos} has length {blen} but its trailing "
            f"copy says {trailer}: corrupt block framing",
            self._base + pos,
        )


def _exhausted() -> Generator[RawRecord, None, None]:
    """A record generator that has nothing left (what a closed reader iterates over)."""
    yield from ()


def _open_source(path: str, display: str) -> tuple[BinaryIO, int | None, bool]:
    """The raw binary stream, the file size (None if not a regular file) and whether to close it."""
    if path == "-":
        return sys.stdin.buffer, None, False
    try:
        if os.path.isdir(path):
            raise CaptureError(f"{display}: is a directory, not a capture file")
        f = open(path, "rb")  # noqa: SIM115 - the reader owns the file until close()
    except FileNotFoundError:
        raise CaptureError(f"{display}: no such file") from None
    except IsADirectoryError:
        raise CaptureError(f"{display}: is a directory, not a capture file") from None
    except PermissionError:
        raise CaptureError(f"{display}: permission denied") from None
    except OSError as exc:
        raise CaptureError(f"{display}: cannot open: {exc.strerror or exc}") from None
    try:
        st = os.fstat(f.fileno())
    except OSError:
        return f, None, True
    return f, (st.st_size if stat.S_ISREG(st.st_mode) else None), True


def _read_exactly(read: Callable[[int], bytes], n: int) -> bytes:
    parts: list[bytes] = []
    have = 0
    while have < n:
        data = read(n - have)
        if not data:
            break
        parts.append(data)
        have += len(data)
    return b"".join(parts)


def open_capture(path: str | os.PathLike[str]) -> CaptureReader:
    """Open a pcap/pcapng capture, gzip-compressed or not; "-" reads standard input.

    Raises CaptureError (message naming the file) when the source cannot be opened or is not a
    capture. Use as a context manager so the file is closed.
    """
    path = os.fspath(path)
    display = "<stdin>" if path == "-" else path
    raw, total, owned = _open_source(path, display)
    closers: list[Any] = [raw] if owned else []
    try:
        return _start(raw, total, closers, display)
    except BaseException:
        for f in closers:
            f.close()
        raise


def _start(raw: BinaryIO, total: int | None, closers: list[Any], display: str) -> CaptureReader:
    counter = _CountingReader(raw)
    read: Callable[[int], bytes] = counter.read
    try:
        head = _read_exactly(read, SNIFF_LEN)
    except OSError as exc:
        raise CaptureError(f"{display}: read error: {exc}") from None
    if not head:
        raise CaptureError(f"{display}: empty file")
    compressed = head.startswith(GZIP_MAGIC)
    if compressed:
        gz = gzip.GzipFile(fileobj=_PrefixedReader(head, counter), mode="rb")  # type: ignore[call-overload]
        closers.insert(0, gz)
        read = _GzipReader(gz).read
        try:
            head = _read_exactly(read, SNIFF_LEN)
        except (EOFError, OSError, zlib.error) as exc:
            raise CaptureError(f"{display}: corrupt gzip file: {exc}") from None
        if not head:
            raise CaptureError(f"{display}: empty file (after gzip decompression)")
    inner = " inside gzip" if compressed else ""
    if head[:4] == PCAPNG_SHB_TYPE.to_bytes(4, "big"):
        rest = _read_with(read, display, 8)
        buf = head + rest
        if len(buf) < MIN_BLOCK_LEN:
            raise CaptureError(
                f"{display}: truncated capture: file header cut at byte offset 0 "
                f"({len(buf)} bytes of a pcapng section header)",
                0,
            )
        order = NG_ORDER_BY_BOM.get(buf[8:12])
        if order is None:
            raise CaptureError(
                f"{display}: not a pcap or pcapng capture{inner} (starts with 0x{buf[:12].hex()}: "
                "pcapng section header without a valid byte-order magic)"
            )
        info = CaptureInfo("pcapng", order, compressed)
        return CaptureReader(display, info, counter, read, buf, total, closers)
    fmt = MAGICS.get(head[:4])
    if fmt is None:
        raise CaptureError(f"{display}: not a pcap or pcapng capture{inner} (starts with 0x{head.hex()})")
    name, order = fmt
    header = head + _read_with(read, display, PCAP_HEADER.size - len(head))
    if len(header) < PCAP_HEADER.size:
        raise CaptureError(
            f"{display}: truncated capture: file header cut at byte offset 0 "
            f"({len(header)} of {PCAP_HEADER.size} bytes)",
            0,
        )
    fields = struct.unpack(ENDIAN_PREFIX[order] + PCAP_HEADER.format[1:], header)
    snaplen, linktype = fields[5], fields[6] & LINKTYPE_MASK
    reader = CaptureReader(display, CaptureInfo(name, order, compressed), counter, read, b"", total, closers)
    reader._base = PCAP_HEADER.size
    reader._pcap_linktype = linktype
    reader.interfaces.append(InterfaceInfo(linktype, snaplen, 1 / PCAP_FRACTION_DIVISOR[name], None))
    return reader


def _read_with(read: Callable[[int], bytes], display: str, n: int) -> bytes:
    try:
        return _read_exactly(read, n)
    except (EOFError, OSError, zlib.error) as exc:
        raise CaptureError(f"{display}: read error: {exc}") from None


class _GzipReader:
    """read(n) over a GzipFile that never loses data decompressed before a stream error.

    `GzipFile.read(n)` drops what it had gathered when the stream turns out to be cut short;
    `read1` returns each decompressed piece as soon as it exists, so the pieces are joined here, and
    an error met after some data is held back and raised by the next call.
    """

    __slots__ = ("gz", "pending")

    def __init__(self, gz: gzip.GzipFile) -> None:
        self.gz = gz
        self.pending: BaseException | None = None

    def read(self, n: int) -> bytes:
        if self.pending is not None:
            exc, self.pending = self.pending, None
            raise exc
        parts: list[bytes] = []
        have = 0
        while have < n:
            try:
                data = self.gz.read1(n - have)
            except (EOFError, OSError, zlib.error) as exc:
                if not parts:
                    raise
                self.pending = exc
                break
            if not data:
                break
            parts.append(data)
            have += len(data)
        return b"".join(parts)
