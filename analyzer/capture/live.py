"""Live capture on a network interface (Linux), through scapy's layer-2 listening socket: the
fallback when libpcap is not installed (`ring.py` is the normal path), and what every capture path
shares (interfaces, errors, the session loop, the pcap writer, stop requests, the summary block).

Theory of operation
-------------------
`open_live()` checks everything that can be checked without privileges first, so that mistakes get
a precise one-line message even for an unprivileged user: the interface must exist (else the message
lists those that do), its hardware type must map to a pcap link type (`ARPHRD_LINKTYPES`), and the
BPF filter must compile (scapy hands it to libpcap's `pcap_compile` on a "dead" handle of that link
type; the compiler's own message is kept). Only then is the socket opened with `conf.L2listen`
(an AF_PACKET socket): scapy compiles the filter again for the interface and attaches it to the
socket (SO_ATTACH_FILTER), so filtering happens in the kernel and nothing unwanted is copied to us;
it also binds the socket, sets promiscuous mode, discards what arrived before the filter was on, and
enables PACKET_AUXDATA (stripped VLAN tags) and SO_TIMESTAMPNS (kernel capture time in ns).

Receiving does not go through scapy's `recv`, which would build a scapy packet per frame and report
time as a float: `LiveSource.frames()` calls `recvmsg_into` on scapy's socket with one preallocated
buffer of `SNAPLEN` bytes and MSG_TRUNC (so the kernel reports the length on the wire even when the
frame is longer than the buffer), and reads the ancillary data itself: the kernel timestamp as whole
seconds and nanoseconds (packet time; never the wall clock) and the VLAN tag the driver stripped,
which is put back into the frame as libpcap does. On a loopback device outgoing frames are skipped,
since each of them comes back as an incoming one (libpcap does the same).

Nothing is stored: each frame is handed over as soon as it is read, and the only queue is the
socket's receive buffer in the kernel (`RCVBUF_BYTES`); when the reader falls behind, the kernel
drops frames and counts them (PACKET_STATISTICS), which `LiveSource.kernel_stats()` reports.

`run_capture()` is the session loop: wait on the socket for at most `POLL_INTERVAL`, drain up to
`MAX_BATCH` frames, hand each to the caller (and to the optional `PcapWriter`, flushed after every
batch so that a crash keeps what was written), and stop on `count`, on `duration` (monotonic clock:
that limit is about the session, not about packet time) or when the `StopRequest` is set by SIGINT
or SIGTERM. A periodic `tick` (the live view) runs on the same monotonic clock between batches.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import signal
import socket
import struct
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import IO, Any, Protocol

from analyzer.capture import writer
from analyzer.capture.linktypes import (
    LINKTYPE_ETHERNET,
    LINKTYPE_RAW,
    linktype_name,
)
from analyzer.errors import CaptureError

SNAPLEN = 262144
"""Bytes kept of each frame: libpcap's and tcpdump's default snapshot length (MAXIMUM_SNAPLEN); it
holds any frame including loopback's 64 KiB and GRO-merged ones, and bounds our one receive buffer."""

RCVBUF_BYTES = 64 << 20
"""Kernel capture buffer asked for by default (64 MiB, `--buffer-size`): it covers the moments the
capture process waits for the CPU (analyzer/capture/spool.py). As libpcap's TPACKET_V3 ring
(`ring.py`) it holds frames back to back, some 85,000 of 700 bytes: most of a second at 100,000
packets/s. As this module's socket receive buffer (no libpcap) the kernel charges each frame's whole
socket buffer (about 2 to 4 kB on veth and most NICs): some 20,000 frames, a fifth of a second."""

MAX_BATCH = 1024
"""Frames drained per wake-up before the clocks and the stop flag are checked again, so that the
live view and Ctrl-C stay responsive under a flood."""

MAX_DISPATCH = 8192
"""Frames libpcap copies from its ring to the spool per pcap_dispatch call at most (`ring.py`), before
the capture process looks at its stop flag, count, clock and spool size again: about 10 ms of
copying, 80 ms of traffic at 100,000 frames/s."""

POLL_INTERVAL = 0.2
"""Longest wait for a frame (seconds) before the stop flag and the duration are looked at again:
the worst-case delay of a clean stop on an idle interface."""

ANCILLARY_BYTES = 256
"""Room for the ancillary data of one frame: tpacket_auxdata (20 bytes) and a timespec (16 bytes),
each with its cmsg header; generous so the kernel never has to cut them (MSG_CTRUNC)."""

PCAP_NSEC_MAGIC = 0xA1B23C4D
"""Classic pcap magic for nanosecond timestamps (the kernel gives us nanoseconds)."""

PCAP_VERSION = (2, 4)
"""Classic pcap format version written (the only one in use)."""

# Linux constants (linux/if_packet.h, linux/if_arp.h, asm/socket.h, asm-generic/sockios.h).
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_STATISTICS = 6
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
SIOCGSTAMPNS = 0x8907
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
ETH_P_8021Q = 0x8100
ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772

ARPHRD_LINKTYPES: dict[int, int] = {
    ARPHRD_ETHER: LINKTYPE_ETHERNET,
    ARPHRD_LOOPBACK: LINKTYPE_ETHERNET,  # Linux loopback frames carry a (zero) Ethernet header
    65534: LINKTYPE_RAW,  # ARPHRD_NONE: tun, WireGuard: bare IPv4/IPv6 packets
    801: 105,  # ARPHRD_IEEE80211 -> IEEE802_11
    803: 127,  # ARPHRD_IEEE80211_RADIOTAP -> IEEE802_11_RADIO
}
"""Linux hardware type of an interface -> pcap link type of the frames its raw packet socket gives
(libpcap's mapping for SOCK_RAW captures). Other types would need cooked (SLL) capture: refused."""

SKIP_OUTGOING: frozenset[int] = frozenset({ARPHRD_LOOPBACK})
"""Hardware types whose outgoing frames are skipped because they also come back as incoming."""

AUXDATA = struct.Struct("=IIIHHHH")
"""struct tpacket_auxdata: status, len, snaplen, mac, net, vlan_tci, vlan_tpid."""
TIMESPEC: dict[int, struct.Struct] = {16: struct.Struct("=qq"), 8: struct.Struct("=ii")}
"""Size of the timestamp control message -> its layout (64-bit and 32-bit `struct timespec`)."""
TPACKET_STATS = struct.Struct("=II")
"""struct tpacket_stats: packets, drops (reset by each read)."""
PCAP_FILE_HEADER = struct.Struct("<IHHiIII")
"""Classic pcap file header: magic, major, minor, thiszone, sigfigs, snaplen, linktype."""
PCAP_RECORD_HEADER = struct.Struct("<IIII")
"""Classic pcap record header: seconds, nanoseconds, captured length, length on the wire."""

LivePacket = tuple[int, int, bytes, int]
"""(seconds, nanoseconds, data, wirelen) of one captured frame, as the kernel stamped it."""


class LiveCaptureError(CaptureError):
    """A live capture that cannot start or go on; `message` is the one line to print."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        """Short stable key: no_such_interface, permission, bad_filter, unsupported_link, ..."""


@dataclass(frozen=True, slots=True)
class Interface:
    """One network interface of the current network namespace."""

    name: str
    """Interface name (what -i takes)."""
    index: int
    """Kernel interface index."""
    arphrd: int
    """Linux hardware type (ARPHRD_*)."""
    linktype: int | None
    """pcap link type of a capture on it, None when live capture does not support its type."""
    up: bool
    """Administratively up (IFF_UP)."""
    mac: str
    """Hardware address ("" when it has none)."""
    addresses: tuple[str, ...]
    """IPv4 then IPv6 addresses."""

    @property
    def link_type_name(self) -> str:
        """DLT-style name of the link type ("-" when unsupported)."""
        return "-" if self.linktype is None else linktype_name(self.linktype)


@dataclass(slots=True)
class LiveStats:
    """What happened during one capture session."""

    packets: int = 0
    """Frames handed over (after the kernel's filter)."""
    bytes: int = 0
    """Their lengths on the wire, summed."""
    kernel_received: int = 0
    """Frames the kernel passed through the filter to the socket (PACKET_STATISTICS)."""
    kernel_dropped: int = 0
    """Frames the kernel dropped because the socket buffer was full."""
    stopped_by: str = ""
    """Why the session ended: count, duration, interrupt (SIGINT), terminate (SIGTERM) or error."""
    error: str | None = None
    """The one-line message of a receive error that ended the session, else None."""
    queue_dropped: int = 0
    """Frames read from the kernel but not kept: the spool between capture and analysis was full."""
    analysed: int = 0
    """Frames the analysis has taken so far (behind `packets` while it catches up)."""
    interface_dropped: int = 0
    """The interface's own receive drops during the session (tcpdump's "dropped by interface"):
    frames lost before any capture could see them, but also frames the stack discarded after the
    capture saw them (an unknown protocol, say), so they are shown apart, not added to the losses."""


def _scapy_quiet() -> Any:
    """Import scapy's configuration and Linux support (lazily: it costs a few hundred ms) with its
    run-time warnings silenced (they would mix with our output on standard error)."""
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    import scapy.arch  # noqa: F401  (registers the platform's sockets and interface provider)
    from scapy.config import conf

    return conf


def list_interfaces() -> list[Interface]:
    """Every interface of the current network namespace, in kernel index order."""
    conf = _scapy_quiet()
    out = []
    for dev in conf.ifaces.values():
        if getattr(dev, "dummy", False) or not dev.name:
            continue
        ips = dev.ips
        out.append(
            Interface(
                name=str(dev.name),
                index=int(dev.index),
                arphrd=int(dev.type),
                linktype=ARPHRD_LINKTYPES.get(int(dev.type)),
                up=bool(int(dev.flags) & 1),  # IFF_UP
                mac=str(dev.mac or ""),
                addresses=tuple(str(a) for a in (*ips.get(4, ()), *ips.get(6, ()))),
            )
        )
    return sorted(out, key=lambda i: i.index)


def permission_message(iface: str, exc: OSError) -> str:
    """The one line explaining what capturing needs, for an EPERM/EACCES from the socket."""
    python = os.path.realpath(sys.executable)
    return (
        f"no permission to capture on {iface} ({exc.strerror or exc}): capturing needs root or the "
        f"CAP_NET_RAW capability (CAP_NET_ADMIN for promiscuous mode); run as root (sudo), or grant "
        f"them to the interpreter with `sudo setcap cap_net_raw,cap_net_admin+eip {python}`, or, where "
        f"capture goes through a device (/dev/bpf*), join the group that owns it"
    )


def _filter_error(bpf: str, exc: Exception) -> LiveCaptureError:
    """The compiler's message out of scapy's "Failed to compile filter expression 'x' (message)"."""
    text = str(exc)
    if text.startswith("Cannot set filter: "):
        text = text[len("Cannot set filter: ") :]
    prefix = f"Failed to compile filter expression {bpf!r} ("
    if text.startswith(prefix) and text.endswith(")"):
        text = text[len(prefix) : -1]
    if "libpcap is not available" in text:
        return LiveCaptureError(
            "no_libpcap", "BPF filters are compiled by libpcap, which is not installed (Debian: libpcap0.8)"
        )
    return LiveCaptureError("bad_filter", f"bad BPF filter {bpf!r}: {text}")


def compile_filter(bpf: str, linktype: int) -> None:
    """Check that `bpf` compiles for `linktype` (no privileges needed); raise LiveCaptureError."""
    _scapy_quiet()
    from scapy.arch.common import compile_filter as scapy_compile
    from scapy.arch.common import free_filter

    try:
        program = scapy_compile(bpf, linktype=linktype)
    except Exception as exc:  # scapy raises Scapy_Exception or ImportError (no libpcap)
        raise _filter_error(bpf, exc) from None
    free_filter(program)


def find_interface(name: str) -> Interface:
    """The interface called `name`; LiveCaptureError listing the existing ones when there is none."""
    interfaces = list_interfaces()
    for iface in interfaces:
        if iface.name == name:
            return iface
    raise _no_such_interface(name, interfaces)


def _no_such_interface(name: str, interfaces: list[Interface] | None = None) -> LiveCaptureError:
    """The error for a missing interface, naming those that exist."""
    names = ", ".join(i.name for i in (list_interfaces() if interfaces is None else interfaces))
    return LiveCaptureError(
        "no_such_interface", f"no interface named {name!r} (interfaces: {names or 'none'})"
    )


class CaptureSource(Protocol):
    """What the capture loops need of an open capture (`LiveSource`, or `cooked.CookedSource` for
    `any`)."""

    interface: Interface
    linktype: int
    snaplen: int
    buffer_size: int

    def wait(self, timeout: float) -> bool: ...

    def frames(self, limit: int) -> Iterator[LivePacket]: ...

    def kernel_stats(self) -> tuple[int, int]: ...

    def close(self) -> None: ...

    def __enter__(self) -> CaptureSource: ...

    def __exit__(
        self, etype: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class LiveSource:
    """An open live capture: scapy's listening socket and what is known about its frames."""

    def __init__(
        self, iface: Interface, bpf: str | None, scapy_socket: Any, buffer_size: int = RCVBUF_BYTES
    ) -> None:
        self.interface = iface
        """The interface captured on."""
        self.linktype: int = iface.linktype if iface.linktype is not None else LINKTYPE_ETHERNET
        """pcap link type of every frame."""
        self.filter = bpf
        """The BPF filter running in the kernel, or None."""
        self.snaplen = SNAPLEN
        """Bytes kept per frame."""
        self._scapy = scapy_socket
        self._sock: socket.socket = scapy_socket.ins
        self._sock.setblocking(False)
        self._buf = bytearray(SNAPLEN)
        self._view = memoryview(self._buf)
        self._skip_outgoing = iface.arphrd in SKIP_OUTGOING
        self._vlan = self.linktype == LINKTYPE_ETHERNET
        self._received = 0
        self._dropped = 0
        for opt in (SO_RCVBUFFORCE, socket.SO_RCVBUF):  # FORCE passes rmem_max, but needs CAP_NET_ADMIN
            try:
                self._sock.setsockopt(socket.SOL_SOCKET, opt, buffer_size)
                break
            except OSError:
                continue
        self.buffer_size = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        """The kernel buffer granted (Linux reports twice what was asked: its bookkeeping share)."""

    def fileno(self) -> int:
        return self._sock.fileno()

    def wait(self, timeout: float) -> bool:
        """True when a frame can be read within `timeout` seconds."""
        readable, _, _ = select.select([self._sock], [], [], max(0.0, timeout))
        return bool(readable)

    def frames(self, limit: int) -> Iterator[LivePacket]:
        """Up to `limit` frames already waiting in the socket (never blocks)."""
        sock, view = self._sock, self._view
        recv = sock.recvmsg_into
        got = 0
        while got < limit:
            try:
                n, ancdata, _flags, addr = recv([view], ANCILLARY_BYTES, socket.MSG_TRUNC)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno == errno.ENETDOWN:  # interface went down: frames may come back later
                    return
                raise LiveCaptureError(
                    "receive_failed", f"capture on {self.interface.name} failed: {exc.strerror or exc}"
                ) from None
            if self._skip_outgoing and addr[2] == PACKET_OUTGOING:
                continue
            caplen = min(n, SNAPLEN)
            data = bytes(view[:caplen])  # the one copy a frame costs
            wirelen = n
            sec = nsec = -1
            for level, kind, cdata in ancdata:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    layout = TIMESPEC.get(len(cdata))
                    if layout is not None:
                        sec, nsec = layout.unpack(cdata)
                elif level == SOL_PACKET and kind == PACKET_AUXDATA and self._vlan and len(cdata) >= 20:
                    status, _len, _snap, _mac, _net, tci, tpid = AUXDATA.unpack_from(cdata)
                    if tci or status & TP_STATUS_VLAN_VALID:
                        tpid = tpid if status & TP_STATUS_VLAN_TPID_VALID else ETH_P_8021Q
                        data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
                        wirelen += 4
            if sec < 0:
                sec, nsec = self._last_stamp()
            got += 1
            yield sec, nsec, data, wirelen

    def _last_stamp(self) -> tuple[int, int]:
        """Kernel timestamp of the last frame read, by ioctl (when no control message carried it)."""
        import fcntl

        raw = fcntl.ioctl(self._sock.fileno(), SIOCGSTAMPNS, bytes(16))
        sec, nsec = TIMESPEC[16].unpack(raw)
        return int(sec), int(nsec)

    def kernel_stats(self) -> tuple[int, int]:
        """(frames received, frames dropped) by the kernel for this socket since it was opened."""
        try:
            raw = self._sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, TPACKET_STATS.size)
        except OSError:
            return self._received, self._dropped
        received, dropped = TPACKET_STATS.unpack(raw)  # the kernel resets them at each read
        self._received += received
        self._dropped += dropped
        return self._received, self._dropped

    def close(self) -> None:
        self.kernel_stats()
        self._scapy.close()

    def __enter__(self) -> LiveSource:
        return self

    def __exit__(
        self, etype: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_live(
    name: str, bpf: str | None = None, promisc: bool = True, buffer_size: int = RCVBUF_BYTES
) -> CaptureSource:
    """Open a live capture on interface `name` with an optional BPF filter run by the kernel (the
    `any` pseudo-interface is `analyzer.capture.sources.open_source`'s, which calls this for the rest).

    Raises LiveCaptureError (one-line message) for an unknown interface, an unsupported link type, a
    filter that does not compile, or missing privileges."""
    if not sys.platform.startswith("linux"):
        raise LiveCaptureError("unsupported_platform", "live capture is supported on Linux only")
    iface = find_interface(name)
    if iface.linktype is None:
        raise LiveCaptureError(
            "unsupported_link",
            f"cannot capture on {name}: its hardware type (ARPHRD {iface.arphrd}) is not supported "
            f"(supported: Ethernet, loopback, raw IP, 802.11)",
        )
    if bpf is not None:
        compile_filter(bpf, iface.linktype)
    conf = _scapy_quiet()
    from scapy.error import Scapy_Exception

    try:
        sock = conf.L2listen(iface=name, filter=bpf, promisc=promisc)
    except PermissionError as exc:
        raise LiveCaptureError("permission", permission_message(name, exc)) from None
    except Scapy_Exception as exc:
        raise _filter_error(bpf or "", exc) from None
    except OSError as exc:
        if exc.errno in (errno.EPERM, errno.EACCES):
            raise LiveCaptureError("permission", permission_message(name, exc)) from None
        if exc.errno in (errno.ENODEV, errno.ENXIO):  # vanished meanwhile: say which exist
            raise _no_such_interface(name) from None
        raise LiveCaptureError("open_failed", f"cannot capture on {name}: {exc.strerror or exc}") from None
    except ValueError:  # scapy: "Interface 'x' not found !" (vanished meanwhile)
        raise _no_such_interface(name) from None
    return LiveSource(iface, bpf, sock, buffer_size)


class PcapWriter:
    """Streams frames to a classic pcap file with nanosecond timestamps, as they arrive."""

    def __init__(self, path: str, linktype: int, snaplen: int = SNAPLEN) -> None:
        try:
            self._fh: IO[bytes] = open(path, "wb", buffering=1 << 20)  # noqa: SIM115 (closed by close())
        except OSError as exc:
            raise LiveCaptureError("write_failed", f"cannot write {path}: {exc.strerror or exc}") from None
        self.path = path
        """Where the frames go."""
        self.packets = 0
        """Frames written so far."""
        self._fh.write(writer.file_header(linktype, snaplen, nanoseconds=True))
        self._fh.flush()

    def write(self, sec: int, nsec: int, data: bytes, wirelen: int) -> None:
        """Append one frame (call `flush()` to push it to the file)."""
        self._fh.write(writer.record(sec, nsec, data, wirelen))
        self.packets += 1

    def flush(self) -> None:
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


class StopRequest:
    """Set by SIGINT or SIGTERM while active (a context manager); a second SIGINT interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        """A stop was asked for."""
        self.reason = ""
        """"interrupt" (SIGINT) or "terminate" (SIGTERM)."""
        self._previous: dict[int, Any] = {}

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True
        self.reason = "interrupt" if signum == signal.SIGINT else "terminate"

    def __enter__(self) -> StopRequest:
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[signum] = signal.signal(signum, self._handler)
            except ValueError:  # not the main thread: no signal handling, stop by count/duration
                break
        return self

    def __exit__(
        self, etype: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()


SYS_CLASS_NET = "/sys/class/net"
"""Where Linux shows each interface's counters."""


def interface_rx_dropped(name: str) -> int:
    """The receive drops the kernel counted on interface `name` (all of them for `any`); 0 when
    unknown."""
    names = os.listdir(SYS_CLASS_NET) if name == "any" and os.path.isdir(SYS_CLASS_NET) else [name]
    total = 0
    for dev in names:
        try:
            with open(os.path.join(SYS_CLASS_NET, dev, "statistics", "rx_dropped"), encoding="ascii") as fh:
                total += int(fh.read().strip() or 0)
        except (OSError, ValueError):
            continue
    return total


def capture_block(stats: LiveStats, interface: str, buffer_size: int) -> dict[str, Any]:
    """The summary's `capture.live` block: what was captured, and what was lost and where."""
    lost = stats.kernel_dropped + stats.queue_dropped
    return {
        "interface": interface,
        "captured": stats.packets,
        "analysed": stats.analysed,
        "kernel_received": stats.kernel_received,
        "kernel_dropped": stats.kernel_dropped,
        "queue_dropped": stats.queue_dropped,
        "dropped": lost,
        "interface_dropped": stats.interface_dropped,
        "complete": lost == 0 and stats.stopped_by != "error",
        "buffer_size": buffer_size,
        "stopped_by": stats.stopped_by,
    }


FrameHandler = Callable[[float, int, bytes, int], None]
"""Receives (ts, linktype, data, wirelen) of each captured frame: `Pipeline.process` fits."""


def run_capture(
    source: CaptureSource,
    handle: FrameHandler,
    *,
    count: int | None = None,
    duration: float | None = None,
    writer: PcapWriter | None = None,
    tick: Callable[[LiveStats], None] | None = None,
    tick_every: float | None = None,
    stop: StopRequest | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> LiveStats:
    """Capture until `count` frames, `duration` seconds (session time), or a stop request."""
    stats = LiveStats()
    linktype = source.linktype
    start = clock()
    deadline = None if duration is None else start + duration
    next_tick = None if tick is None or not tick_every else start + tick_every
    try:
        while True:
            if stop is not None and stop.requested:
                stats.stopped_by = stop.reason
                break
            if count is not None and stats.packets >= count:
                stats.stopped_by = "count"
                break
            now = clock()
            if deadline is not None and now >= deadline:
                stats.stopped_by = "duration"
                break
            if next_tick is not None and tick is not None and now >= next_tick:
                stats.kernel_received, stats.kernel_dropped = source.kernel_stats()
                tick(stats)
                next_tick = now + (tick_every or POLL_INTERVAL)
            timeout = POLL_INTERVAL
            if deadline is not None:
                timeout = min(timeout, deadline - now)
            if next_tick is not None:
                timeout = min(timeout, next_tick - now)
            if not source.wait(timeout):
                continue
            limit = MAX_BATCH if count is None else min(MAX_BATCH, count - stats.packets)
            try:
                for sec, nsec, data, wirelen in source.frames(limit):
                    if writer is not None:
                        writer.write(sec, nsec, data, wirelen)
                    stats.packets += 1
                    stats.bytes += wirelen
                    handle(sec + nsec / 1e9, linktype, data, wirelen)
                    stats.analysed += 1
            except LiveCaptureError as exc:  # the socket failed: keep what was captured
                stats.stopped_by, stats.error = "error", exc.message
                break
            if writer is not None:
                writer.flush()
    finally:
        if writer is not None:
            writer.flush()
        stats.kernel_received, stats.kernel_dropped = source.kernel_stats()
    return stats


__all__ = [
    "ARPHRD_LINKTYPES",
    "MAX_BATCH",
    "MAX_DISPATCH",
    "POLL_INTERVAL",
    "RCVBUF_BYTES",
    "SNAPLEN",
    "CaptureSource",
    "Interface",
    "LiveCaptureError",
    "LivePacket",
    "LiveSource",
    "LiveStats",
    "PcapWriter",
    "StopRequest",
    "capture_block",
    "compile_filter",
    "find_interface",
    "interface_rx_dropped",
    "list_interfaces",
    "open_live",
    "permission_message",
    "run_capture",
]
