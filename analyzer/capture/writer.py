"""Writing classic pcap files: the one writer behind `live --write`, sample_pcaps/make_samples.py, the
test kits and the benchmark captures.

Classic pcap (the libpcap format): a 24-byte file header (magic, version 2.4, zone 0, sigfigs 0,
snaplen, link type), then per frame a 16-byte record header (seconds, microseconds or nanoseconds,
captured length, original length) and the captured bytes. Little-endian, as libpcap writes on x86.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import IO

MAGIC_USEC = 0xA1B2C3D4
"""Timestamps in microseconds."""
MAGIC_NSEC = 0xA1B23C4D
"""Timestamps in nanoseconds."""
VERSION = (2, 4)
"""The only classic pcap version in use."""
SNAPLEN = 262144
"""tcpdump's default snapshot length since 4.99 (what a capture with no -s records)."""
LINKTYPE_ETHERNET = 1

FILE_HEADER = struct.Struct("<IHHiIII")
"""magic, major, minor, thiszone, sigfigs, snaplen, linktype."""
RECORD_HEADER = struct.Struct("<IIII")
"""ts_sec, ts_usec (or ts_nsec), incl_len, orig_len."""


def file_header(
    linktype: int = LINKTYPE_ETHERNET, snaplen: int = SNAPLEN, nanoseconds: bool = False
) -> bytes:
    """The 24-byte file header."""
    magic = MAGIC_NSEC if nanoseconds else MAGIC_USEC
    return FILE_HEADER.pack(magic, VERSION[0], VERSION[1], 0, 0, snaplen, linktype)


def record(sec: int, frac: int, data: bytes, wirelen: int | None = None) -> bytes:
    """One record: `frac` is microseconds (or nanoseconds in a nanosecond file); `wirelen` defaults to
    the captured length (a frame captured whole)."""
    return RECORD_HEADER.pack(sec, frac, len(data), len(data) if wirelen is None else wirelen) + data


def split_usec(ts: float) -> tuple[int, int]:
    """A float timestamp as (seconds, microseconds), rounded to the microsecond."""
    sec = int(ts)
    return sec, round((ts - sec) * 1e6) % 1_000_000


def pcap_bytes(
    frames: Iterable[tuple[float, bytes]], linktype: int = LINKTYPE_ETHERNET, snaplen: int = SNAPLEN
) -> bytes:
    """A whole microsecond pcap of (timestamp, frame) pairs."""
    out = [file_header(linktype, snaplen)]
    out += [record(*split_usec(ts), data) for ts, data in frames]
    return b"".join(out)


class PcapWriter:
    """Streams frames to an open binary file: the header at once, then one record per `write`."""

    def __init__(
        self,
        fh: IO[bytes],
        linktype: int = LINKTYPE_ETHERNET,
        snaplen: int = SNAPLEN,
        nanoseconds: bool = False,
    ) -> None:
        self._fh = fh
        self.packets = 0
        """Frames written so far."""
        fh.write(file_header(linktype, snaplen, nanoseconds))

    def write(self, sec: int, frac: int, data: bytes, wirelen: int | None = None) -> None:
        """Append one frame (`frac` in the file's resolution)."""
        self._fh.write(record(sec, frac, data, wirelen))
        self.packets += 1

    def write_ts(self, ts: float, data: bytes, wirelen: int | None = None) -> None:
        """Append one frame stamped with a float time (microsecond files)."""
        self.write(*split_usec(ts), data, wirelen)
