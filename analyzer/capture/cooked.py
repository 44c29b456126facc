"""`live -i any`: Linux cooked capture across every interface, as tcpdump and libpcap do it.

Theory of operation
-------------------
One AF_PACKET socket of type SOCK_DGRAM, bound to no interface, receives every frame of every
interface of the network namespace with its link-layer header removed; the kernel says, per frame,
which interface and link type it came from, the packet type (to us, broadcast, outgoing, ...), the
link-layer source address and the protocol. From those `CookedSource.frames()` builds the 16-byte
Linux "cooked" header (LINKTYPE_LINUX_SLL, libpcap's `any` format) in front of the network-layer
bytes, so the rest of the pipeline sees the link type tcpdump users know. A VLAN tag stripped by the
driver is put back after that header (protocol 802.1Q, then the tag and the inner protocol), as
libpcap does; outgoing frames on loopback are skipped, since each comes back as an incoming one.

A BPF filter is compiled by libpcap for LINUX_SLL, whose offsets count from the start of the cooked
header, while the kernel runs it on the network-layer bytes of a SOCK_DGRAM socket. As libpcap's own
`fix_program`, `cooked_filter()` moves every packet load 16 bytes back and turns loads of the
header's packet type and protocol into the kernel's ancillary loads; a filter that reads any other
header field cannot run in the kernel and is refused with a one-line message.
"""

from __future__ import annotations

import ctypes
import errno
import socket
import struct
from collections.abc import Iterator
from types import TracebackType

from analyzer.capture.linktypes import LINKTYPE_LINUX_SLL
from analyzer.capture.live import (
    ANCILLARY_BYTES,
    ARPHRD_LOOPBACK,
    AUXDATA,
    ETH_P_8021Q,
    PACKET_AUXDATA,
    PACKET_OUTGOING,
    PACKET_STATISTICS,
    RCVBUF_BYTES,
    SIOCGSTAMPNS,
    SNAPLEN,
    SO_RCVBUFFORCE,
    SO_TIMESTAMPNS,
    SOL_PACKET,
    TIMESPEC,
    TP_STATUS_VLAN_TPID_VALID,
    TP_STATUS_VLAN_VALID,
    TPACKET_STATS,
    Interface,
    LiveCaptureError,
    LivePacket,
    permission_message,
)

ANY = "any"
"""The pseudo-interface name (tcpdump's)."""
ETH_P_ALL = 0x0003
"""Every protocol (linux/if_ether.h)."""
SLL_HEADER = struct.Struct("!HHH8sH")
"""Linux cooked header v1: packet type, ARPHRD type, address length, address (8 bytes), protocol."""
SLL_LEN = SLL_HEADER.size
"""16 bytes."""
SO_ATTACH_FILTER = 26
"""setsockopt: attach a classic BPF program."""
SKF_AD_OFF = -0x1000
SKF_AD_PROTOCOL = 0
SKF_AD_PKTTYPE = 4
SLL_PKTTYPE_OFFSET = 0
"""Offset of the packet type in the cooked header."""
SLL_PROTOCOL_OFFSET = 14
"""Offset of the protocol in the cooked header."""
BPF_LD, BPF_LDX = 0x00, 0x01
BPF_ABS, BPF_IND, BPF_MSH = 0x20, 0x40, 0xA0

ANY_INTERFACE = Interface(
    name=ANY, index=0, arphrd=0, linktype=LINKTYPE_LINUX_SLL, up=True, mac="", addresses=()
)
"""What `live -i any` captures on."""


class BpfInsn(ctypes.Structure):
    """struct sock_filter / bpf_insn."""

    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class SockFprog(ctypes.Structure):
    """struct sock_fprog."""

    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(BpfInsn))]


def fix_cooked_load(k: int) -> int | None:
    """The offset a cooked-header-relative load must use on a SOCK_DGRAM socket (libpcap's
    fix_offset for DLT_LINUX_SLL); None when the field has no kernel equivalent."""
    if k >= SLL_LEN:
        return k - SLL_LEN
    if k == SLL_PKTTYPE_OFFSET:
        return (SKF_AD_OFF + SKF_AD_PKTTYPE) & 0xFFFFFFFF
    if k == SLL_PROTOCOL_OFFSET:
        return (SKF_AD_OFF + SKF_AD_PROTOCOL) & 0xFFFFFFFF
    return None


def cooked_filter(bpf: str) -> ctypes.Array[BpfInsn]:
    """`bpf` compiled for LINUX_SLL and fixed to run in the kernel on a cooked socket."""
    from analyzer.capture.live import _filter_error, _scapy_quiet

    _scapy_quiet()
    from scapy.arch.common import compile_filter as scapy_compile
    from scapy.arch.common import free_filter

    try:
        program = scapy_compile(bpf, linktype=LINKTYPE_LINUX_SLL)
    except Exception as exc:  # scapy raises Scapy_Exception or ImportError (no libpcap)
        raise _filter_error(bpf, exc) from None
    try:
        n = int(program.bf_len)
        insns = (BpfInsn * n)()
        for i in range(n):
            src = program.bf_insns[i]
            code, k = int(src.code), int(src.k)
            if (code & 0x07) in (BPF_LD, BPF_LDX) and (code & 0xE0) in (BPF_ABS, BPF_IND, BPF_MSH):
                fixed = fix_cooked_load(k)
                if fixed is None:
                    raise LiveCaptureError(
                        "bad_filter",
                        f"filter {bpf!r} reads a cooked-header field the kernel cannot give on 'any'",
                    )
                k = fixed
            insns[i] = BpfInsn(code, int(src.jt), int(src.jf), k)
    finally:
        free_filter(program)
    return insns


class CookedSource:
    """An open `any` capture: one SOCK_DGRAM packet socket over every interface."""

    def __init__(self, bpf: str | None, buffer_size: int = RCVBUF_BYTES) -> None:
        self.interface = ANY_INTERFACE
        self.linktype = LINKTYPE_LINUX_SLL
        self.filter = bpf
        self.snaplen = SNAPLEN
        program = cooked_filter(bpf) if bpf is not None else None
        try:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
        except PermissionError as exc:
            raise LiveCaptureError("permission", permission_message(ANY, exc)) from None
        except OSError as exc:
            if exc.errno in (errno.EPERM, errno.EACCES):
                raise LiveCaptureError("permission", permission_message(ANY, exc)) from None
            raise LiveCaptureError("open_failed", f"cannot capture on any: {exc.strerror or exc}") from None
        self._sock = sock
        if program is not None:
            prog = SockFprog(len(program), ctypes.cast(program, ctypes.POINTER(BpfInsn)))
            sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, bytes(prog))
            self._program = program  # the kernel copied it; kept only while attaching
            _discard_queued(sock)  # what arrived before the filter was on
        sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        for opt in (SO_RCVBUFFORCE, socket.SO_RCVBUF):
            try:
                sock.setsockopt(socket.SOL_SOCKET, opt, buffer_size)
                break
            except OSError:
                continue
        self.buffer_size = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        sock.setblocking(False)
        self._buf = bytearray(SNAPLEN)
        self._view = memoryview(self._buf)
        self._received = 0
        self._dropped = 0

    def fileno(self) -> int:
        return self._sock.fileno()

    def wait(self, timeout: float) -> bool:
        """True when a frame can be read within `timeout` seconds."""
        import select

        readable, _, _ = select.select([self._sock], [], [], max(0.0, timeout))
        return bool(readable)

    def frames(self, limit: int) -> Iterator[LivePacket]:
        """Up to `limit` frames already waiting, each behind its cooked header (never blocks)."""
        recv, view = self._sock.recvmsg_into, self._view
        got = 0
        while got < limit:
            try:
                n, ancdata, _flags, addr = recv([view], ANCILLARY_BYTES, socket.MSG_TRUNC)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno == errno.ENETDOWN:
                    return
                raise LiveCaptureError(
                    "receive_failed", f"capture on any failed: {exc.strerror or exc}"
                ) from None
            _ifname, proto, pkttype, hatype, hwaddr = addr[:5]
            if pkttype == PACKET_OUTGOING and hatype == ARPHRD_LOOPBACK:
                continue
            sec = nsec = -1
            tag = b""
            for level, kind, cdata in ancdata:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    layout = TIMESPEC.get(len(cdata))
                    if layout is not None:
                        sec, nsec = layout.unpack(cdata)
                elif level == SOL_PACKET and kind == PACKET_AUXDATA and len(cdata) >= AUXDATA.size:
                    status, _len, _snap, _mac, _net, tci, tpid = AUXDATA.unpack_from(cdata)
                    if tci or status & TP_STATUS_VLAN_VALID:
                        tpid = tpid if status & TP_STATUS_VLAN_TPID_VALID else ETH_P_8021Q
                        tag = struct.pack("!HH", tci, proto)
                        proto = tpid
            header = SLL_HEADER.pack(pkttype, hatype, min(len(hwaddr), 8), bytes(hwaddr[:8]), proto)
            caplen = min(n, SNAPLEN - SLL_LEN - len(tag))
            data = header + tag + bytes(view[:caplen])
            if sec < 0:
                raw = _ioctl_stamp(self._sock)
                sec, nsec = raw
            got += 1
            yield sec, nsec, data, n + SLL_LEN + len(tag)

    def kernel_stats(self) -> tuple[int, int]:
        """(frames received, frames dropped) by the kernel for this socket since it was opened."""
        try:
            raw = self._sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, TPACKET_STATS.size)
        except OSError:
            return self._received, self._dropped
        received, dropped = TPACKET_STATS.unpack(raw)
        self._received += received
        self._dropped += dropped
        return self._received, self._dropped

    def close(self) -> None:
        self.kernel_stats()
        self._sock.close()

    def __enter__(self) -> CookedSource:
        return self

    def __exit__(
        self, etype: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _discard_queued(sock: socket.socket) -> None:
    """Drop frames queued before the filter was attached (they were not filtered)."""
    sock.setblocking(False)
    while True:
        try:
            sock.recv(1, socket.MSG_TRUNC)
        except (BlockingIOError, InterruptedError):
            return


def _ioctl_stamp(sock: socket.socket) -> tuple[int, int]:
    import fcntl

    raw = fcntl.ioctl(sock.fileno(), SIOCGSTAMPNS, bytes(16))
    sec, nsec = TIMESPEC[16].unpack(raw)
    return int(sec), int(nsec)


__all__ = ["ANY", "ANY_INTERFACE", "CookedSource", "cooked_filter", "fix_cooked_load"]
