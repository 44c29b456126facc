"""Live capture through libpcap's memory-mapped ring, drained in C, as dumpcap and tcpdump do.

Theory of operation
-------------------
`open_ring()` first checks what needs no privileges, with the same one-line messages as the socket
path (`live.open_live`): the interface exists and has a supported link type, and the BPF filter
compiles (on a "dead" handle of that link type). Then it opens a libpcap handle: `pcap_create`,
snapshot length `SNAPLEN`, promiscuous mode, the ring's block timeout (`RING_TIMEOUT_MS`), the ring's
size (`--buffer-size`), nanosecond timestamps, `pcap_activate`. On Linux libpcap maps a TPACKET_V3
ring: the kernel writes frames back to back into blocks of that shared memory and hands a whole block
over when it is full or its timeout passed, so a frame costs the kernel a copy and us nothing until
we look, and the ring holds as many frames as fit in its bytes (not one socket buffer per frame, as a
plain socket's receive queue does). The filter is compiled again on the live handle and attached to
the socket (it runs in the kernel). The handle is put in non-blocking mode: the capture loop waits
on its descriptor with `select`, so that it can look at its stop flag, count and clock in between.

Reading never runs Python per frame: `RingDumper.dispatch()` calls `pcap_dispatch` with libpcap's
own C function `pcap_dump` as the callback, which appends each frame of the ready blocks to a pcap
file (the spool, or the --write file) through a stdio buffer of `DUMP_BUFFER_BYTES`. Python runs once
per call: at most `live.MAX_DISPATCH` frames, usually every frame the ring holds. libpcap itself puts
back the VLAN tags the driver stripped, skips a loopback device's outgoing copies, gives `any` as
Linux cooked capture (LINUX_SLL), and counts what the kernel dropped (`pcap_stats`).

`RingSource.frames()` reads frames into Python through a ctypes callback instead, for the in-process
loop (`live.run_capture`); the live command does not use it.

The handle is opened in the analysis process (so errors are reported before "listening on") and used
only by the capture process it forks: fork shares the mapped ring, and the parent never reads it.
"""

from __future__ import annotations

import ctypes
import errno
import os
import select
import sys
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from analyzer.capture import pcaplib
from analyzer.capture.cooked import ANY_INTERFACE
from analyzer.capture.live import (
    RCVBUF_BYTES,
    SNAPLEN,
    Interface,
    LiveCaptureError,
    LivePacket,
    _no_such_interface,
    find_interface,
    permission_message,
)

RING_TIMEOUT_MS = 100
"""Block timeout: the kernel hands over a block that is not full after this long, so a quiet link's
frames reach the analysis within about this delay (tcpdump uses 1000 ms; the live view wants less)."""

DUMP_BUFFER_BYTES = 1 << 20
"""stdio buffer of the file libpcap writes to: one write system call per MiB rather than per 4 KiB
(17,000 a second at 100,000 frames/s of 700 bytes, each costing the capture process a few µs)."""

C_INT_LARGEST = (1 << 31) - 1
"""libpcap takes the ring's size as a C int: `--buffer-size 2048` (2 GiB) asks for one byte less."""

SYS_MAPS = "/proc/self/maps"
"""Where the ring's mapping (named after the socket) shows its size."""


class RingSource:
    """An open libpcap capture (a TPACKET_V3 ring on Linux) and what is known about its frames."""

    def __init__(self, iface: Interface, bpf: str | None, lib: pcaplib.Libpcap, handle: int, asked: int):
        self.interface = iface
        """The interface captured on (`any`: every interface, cooked)."""
        self.filter = bpf
        """The BPF filter running in the kernel, or None."""
        self.lib = lib
        """libpcap."""
        self.handle = handle
        """The pcap_t pointer."""
        self.linktype: int = pcaplib.dlt_to_linktype(lib.pcap.pcap_datalink(handle))
        """pcap link type of every frame (what the files say)."""
        self.snaplen: int = lib.pcap.pcap_snapshot(handle)
        """Bytes kept per frame."""
        self._fd: int = lib.pcap.pcap_get_selectable_fd(handle)
        self.buffer_size = ring_bytes(self._fd) or asked
        """The ring's size in bytes as mapped (libpcap shrinks it when the kernel refuses memory)."""
        self._pending = False  # the last dispatch stopped at its limit: libpcap may hold more
        self._closed = False

    def fileno(self) -> int:
        return self._fd

    def wait(self, timeout: float) -> bool:
        """True when frames can be read within `timeout` seconds."""
        if self._pending:
            return True
        readable, _, _ = select.select([self._fd], [], [], max(0.0, timeout))
        return bool(readable)

    def dispatch(self, limit: int, callback: int, user: Any) -> int:
        """Hand up to `limit` ready frames to the C `callback` (never blocks); how many it got."""
        n = int(self.lib.pcap.pcap_dispatch(self.handle, limit, callback, user))
        if n < 0:
            if n == pcaplib.PCAP_ERROR_BREAK:
                return 0
            message = self.lib.geterr(self.handle)
            raise LiveCaptureError(
                "receive_failed", f"capture on {self.interface.name} failed: {message}"
            ) from None
        self._pending = n >= limit
        return n

    def frames(self, limit: int) -> Iterator[LivePacket]:
        """Up to `limit` frames already in the ring, read into Python (one callback per frame)."""
        got: list[LivePacket] = []

        def on_frame(_user: Any, header: Any, data: Any) -> None:
            h = header.contents
            got.append((int(h.ts.tv_sec), int(h.ts.tv_usec), ctypes.string_at(data, h.caplen), int(h.len)))

        callback = pcaplib.HANDLER(on_frame)
        self.dispatch(limit, int(ctypes.cast(callback, ctypes.c_void_p).value or 0), None)
        yield from got

    def open_dump(self, path: str) -> RingDumper:
        """A dumper appending this capture's frames to the pcap file at `path` (see RingDumper)."""
        return RingDumper(self, path)

    def kernel_stats(self) -> tuple[int, int]:
        """(frames passed by the filter, frames dropped by the kernel) since the capture opened."""
        stat = pcaplib.Stat()
        if self._closed or self.lib.pcap.pcap_stats(self.handle, ctypes.byref(stat)) != 0:
            return 0, 0
        return int(stat.ps_recv), int(stat.ps_drop)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.lib.pcap.pcap_close(self.handle)

    def __enter__(self) -> RingSource:
        return self

    def __exit__(
        self, etype: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class RingDumper:
    """libpcap's dumper on a pcap file: `dispatch()` moves frames from the ring to it in C.

    The file must exist and start with its file header (written by the caller, so that a --write
    path that cannot be created is reported before the capture starts): libpcap writes the same
    header again over it and appends its records, with a buffer of `DUMP_BUFFER_BYTES`."""

    def __init__(self, source: RingSource, path: str) -> None:
        lib = source.lib
        self.source = source
        self.path = path
        fh = lib.libc.fopen(os.fsencode(path), b"r+b")
        if not fh:
            code = ctypes.get_errno()
            raise LiveCaptureError("write_failed", f"cannot write {path}: {os.strerror(code)}")
        lib.libc.setvbuf(fh, None, pcaplib.IOFBF, DUMP_BUFFER_BYTES)
        dumper = lib.pcap.pcap_dump_fopen(source.handle, fh)
        if not dumper:
            lib.libc.fclose(fh)
            raise LiveCaptureError("write_failed", f"cannot write {path}: {lib.geterr(source.handle)}")
        self._dumper: int | None = int(dumper)
        self._fd = int(lib.libc.fileno(lib.pcap.pcap_dump_file(dumper)))

    def dispatch(self, limit: int) -> int:
        """Append up to `limit` frames the ring holds (buffered: `flush()` makes them readable)."""
        return self.source.dispatch(limit, self.source.lib.dump_callback, self._dumper)

    def flush(self) -> int | None:
        """Push the buffer to the file; the file's size then, or None when writing failed (disk full:
        a write that failed inside pcap_dump leaves the file shorter than the dumper's position)."""
        pcap = self.source.lib.pcap
        if self._dumper is None or pcap.pcap_dump_flush(self._dumper) != 0:
            return None
        position = int(pcap.pcap_dump_ftell64(self._dumper))
        try:
            if os.fstat(self._fd).st_size < position and self.path != os.devnull:
                return None
        except OSError:
            return None
        return position

    def close(self) -> None:
        if self._dumper is not None:
            self.source.lib.pcap.pcap_dump_close(self._dumper)
            self._dumper = None


def ring_bytes(fd: int) -> int:
    """Bytes of the ring mapped for packet socket `fd` (0 when it cannot be told)."""
    try:
        inode = os.fstat(fd).st_ino
        with open(SYS_MAPS, encoding="ascii", errors="replace") as fh:
            total = 0
            for line in fh:
                if line.rstrip().endswith(f"socket:[{inode}]"):
                    start, end = line.split(None, 1)[0].split("-")
                    total += int(end, 16) - int(start, 16)
            return total
    except (OSError, ValueError):
        return 0


def check_filter(lib: pcaplib.Libpcap, bpf: str, linktype: int) -> None:
    """Raise LiveCaptureError (libpcap's own message) when `bpf` does not compile for `linktype`."""
    dead = lib.pcap.pcap_open_dead(pcaplib.linktype_to_dlt(linktype), SNAPLEN)
    if not dead:
        raise LiveCaptureError("open_failed", "libpcap could not make a handle to compile the filter")
    try:
        _compile(lib, dead, bpf, attach=False)
    finally:
        lib.pcap.pcap_close(dead)


def _compile(lib: pcaplib.Libpcap, handle: int, bpf: str, *, attach: bool) -> None:
    program = pcaplib.BpfProgram()
    raw = bpf.encode("utf-8", "surrogateescape")
    netmask = pcaplib.PCAP_NETMASK_UNKNOWN
    if lib.pcap.pcap_compile(handle, ctypes.byref(program), raw, pcaplib.BPF_OPTIMIZE, netmask):
        raise LiveCaptureError("bad_filter", f"bad BPF filter {bpf!r}: {lib.geterr(handle)}")
    try:
        if attach and lib.pcap.pcap_setfilter(handle, ctypes.byref(program)):
            raise LiveCaptureError("bad_filter", f"cannot use BPF filter {bpf!r}: {lib.geterr(handle)}")
    finally:
        lib.pcap.pcap_freecode(ctypes.byref(program))


def _activate_error(lib: pcaplib.Libpcap, handle: int, name: str, code: int) -> LiveCaptureError:
    """The one-line error for a failed pcap_activate."""
    if code in (pcaplib.PCAP_ERROR_PERM_DENIED, pcaplib.PCAP_ERROR_PROMISC_PERM_DENIED):
        return LiveCaptureError(
            "permission", permission_message(name, PermissionError(errno.EPERM, os.strerror(errno.EPERM)))
        )
    if code == pcaplib.PCAP_ERROR_NO_SUCH_DEVICE:
        return _no_such_interface(name)
    if code == pcaplib.PCAP_ERROR_IFACE_NOT_UP:
        return LiveCaptureError(
            "interface_down", f"cannot capture on {name}: the interface is down (ip link set {name} up)"
        )
    detail = lib.geterr(handle) if code == pcaplib.PCAP_ERROR else lib.status(code)
    return LiveCaptureError("open_failed", f"cannot capture on {name}: {detail or lib.status(code)}")


def open_ring(
    name: str,
    bpf: str | None = None,
    promisc: bool = True,
    buffer_size: int = RCVBUF_BYTES,
    *,
    cooked: bool = False,
) -> RingSource:
    """Open a live capture on interface `name`, or on every interface (`any`, Linux cooked capture)
    when `cooked`, through libpcap's ring.

    Raises LiveCaptureError (one-line message) for an unknown interface, an unsupported link type, a
    filter that does not compile, an interface that is down, or missing privileges; RuntimeError
    when libpcap is not installed (`sources.open_source` checks first)."""
    if not sys.platform.startswith("linux"):
        raise LiveCaptureError("unsupported_platform", "live capture is supported on Linux only")
    lib = pcaplib.load()
    if lib is None:
        raise RuntimeError("libpcap is not installed")
    iface = ANY_INTERFACE if cooked else find_interface(name)
    if iface.linktype is None:
        raise LiveCaptureError(
            "unsupported_link",
            f"cannot capture on {name}: its hardware type (ARPHRD {iface.arphrd}) is not supported "
            f"(supported: Ethernet, loopback, raw IP, 802.11)",
        )
    if bpf is not None:
        check_filter(lib, bpf, iface.linktype)
    errbuf = ctypes.create_string_buffer(pcaplib.PCAP_ERRBUF_SIZE)
    handle = lib.pcap.pcap_create(os.fsencode(name), errbuf)
    if not handle:
        raise LiveCaptureError(
            "open_failed", f"cannot capture on {name}: {errbuf.value.decode('utf-8', 'replace')}"
        )
    try:
        pcap = lib.pcap
        pcap.pcap_set_snaplen(handle, SNAPLEN)
        pcap.pcap_set_promisc(handle, int(promisc))
        pcap.pcap_set_timeout(handle, RING_TIMEOUT_MS)
        pcap.pcap_set_buffer_size(handle, min(buffer_size, C_INT_LARGEST))
        if pcap.pcap_set_tstamp_precision(handle, pcaplib.PCAP_TSTAMP_PRECISION_NANO):
            raise LiveCaptureError("open_failed", f"cannot capture on {name}: no nanosecond timestamps")
        code = pcap.pcap_activate(handle)
        if code < 0:
            raise _activate_error(lib, handle, name, code)
        if bpf is not None:
            _compile(lib, handle, bpf, attach=True)
        if pcap.pcap_setnonblock(handle, 1, errbuf):
            raise LiveCaptureError(
                "open_failed", f"cannot capture on {name}: {errbuf.value.decode('utf-8', 'replace')}"
            )
        return RingSource(iface, bpf, lib, int(handle), buffer_size)
    except BaseException:
        lib.pcap.pcap_close(handle)
        raise


__all__ = [
    "DUMP_BUFFER_BYTES",
    "RING_TIMEOUT_MS",
    "RingDumper",
    "RingSource",
    "check_filter",
    "open_ring",
    "ring_bytes",
]
