"""libpcap through ctypes: the few functions live capture calls, with their C prototypes.

Only the C interface lives here (prototypes, structures, status codes, loading); what a capture does
with it is `analyzer/capture/ring.py`. libpcap is Debian's `libpcap0.8` (libpcap 1.x), already what
compiles BPF filters for us and a dependency of tcpreplay and tshark. `load()` returns None when it
is not installed, and live capture then falls back to a plain packet socket (`live.LiveSource`).

Every call goes through ctypes, which releases the interpreter lock around it. The one per-packet
function, `pcap_dump`, is never wrapped: its C address is handed to `pcap_dispatch` as the callback,
so libpcap copies each frame from the kernel's ring to a file without returning to Python.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any

PCAP_ERRBUF_SIZE = 256
"""libpcap's error buffer size (pcap/pcap.h)."""

# pcap_activate() results (pcap/pcap.h): warnings are positive, errors negative.
PCAP_ERROR = -1
PCAP_ERROR_BREAK = -2
PCAP_ERROR_NO_SUCH_DEVICE = -5
PCAP_ERROR_PERM_DENIED = -8
PCAP_ERROR_IFACE_NOT_UP = -9
PCAP_ERROR_PROMISC_PERM_DENIED = -11
PCAP_ERROR_TSTAMP_PRECISION_NOTSUP = -12

PCAP_TSTAMP_PRECISION_NANO = 1
"""Ask for nanosecond timestamps (the kernel's own resolution); the dump file then says so too."""
PCAP_NETMASK_UNKNOWN = 0xFFFFFFFF
"""Netmask given to pcap_compile when none is known (only `ip broadcast` would need one)."""
BPF_OPTIMIZE = 1
"""Let pcap_compile optimise the program, as tcpdump does."""

IOFBF = 0
"""setvbuf mode: fully buffered (glibc's _IOFBF)."""

DLT_RAW = 12
"""libpcap's DLT for bare IP on Linux; written to files as LINKTYPE_RAW (101)."""
LINKTYPE_RAW = 101
DLT_TO_LINKTYPE = {DLT_RAW: LINKTYPE_RAW, 14: LINKTYPE_RAW}  # 14: DLT_RAW on OpenBSD
"""DLT values that a file records under another LINKTYPE number; every other one is the same."""
LINKTYPE_TO_DLT = {LINKTYPE_RAW: DLT_RAW}
"""The reverse, for compiling a filter for a link type on a "dead" handle."""


class Timeval(ctypes.Structure):
    """struct timeval; with nanosecond precision tv_usec holds nanoseconds."""

    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class PktHdr(ctypes.Structure):
    """struct pcap_pkthdr."""

    _fields_ = [("ts", Timeval), ("caplen", ctypes.c_uint32), ("len", ctypes.c_uint32)]


class Stat(ctypes.Structure):
    """struct pcap_stat: packets passed by the filter, dropped by the kernel, dropped by the interface."""

    _fields_ = [("ps_recv", ctypes.c_uint), ("ps_drop", ctypes.c_uint), ("ps_ifdrop", ctypes.c_uint)]


class BpfProgram(ctypes.Structure):
    """struct bpf_program (the instructions stay libpcap's: freed by pcap_freecode)."""

    _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.c_void_p)]


HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(PktHdr), ctypes.POINTER(ctypes.c_ubyte))
"""pcap_handler: (user, header, bytes). Only the in-process frame reader uses a Python one."""

_P = ctypes.c_void_p
_INT = ctypes.c_int
_STR = ctypes.c_char_p

PROTOTYPES: dict[str, tuple[Any, list[Any]]] = {
    "pcap_create": (_P, [_STR, _STR]),
    "pcap_open_dead": (_P, [_INT, _INT]),
    "pcap_set_snaplen": (_INT, [_P, _INT]),
    "pcap_set_promisc": (_INT, [_P, _INT]),
    "pcap_set_timeout": (_INT, [_P, _INT]),
    "pcap_set_buffer_size": (_INT, [_P, _INT]),
    "pcap_set_tstamp_precision": (_INT, [_P, _INT]),
    "pcap_activate": (_INT, [_P]),
    "pcap_statustostr": (_STR, [_INT]),
    "pcap_geterr": (_STR, [_P]),
    "pcap_compile": (_INT, [_P, ctypes.POINTER(BpfProgram), _STR, _INT, ctypes.c_uint32]),
    "pcap_setfilter": (_INT, [_P, ctypes.POINTER(BpfProgram)]),
    "pcap_freecode": (None, [ctypes.POINTER(BpfProgram)]),
    "pcap_setnonblock": (_INT, [_P, _INT, _STR]),
    "pcap_get_selectable_fd": (_INT, [_P]),
    "pcap_datalink": (_INT, [_P]),
    "pcap_snapshot": (_INT, [_P]),
    "pcap_dispatch": (_INT, [_P, _INT, _P, _P]),
    "pcap_stats": (_INT, [_P, ctypes.POINTER(Stat)]),
    "pcap_dump_fopen": (_P, [_P, _P]),
    "pcap_dump_flush": (_INT, [_P]),
    "pcap_dump_ftell64": (ctypes.c_int64, [_P]),
    "pcap_dump_close": (None, [_P]),
    "pcap_dump_file": (_P, [_P]),
    "pcap_close": (None, [_P]),
}
"""Every libpcap function used, as (result type, argument types): a wrong prototype would corrupt
the stack, so none is called without one."""

LIBC_PROTOTYPES: dict[str, tuple[Any, list[Any]]] = {
    "fopen": (_P, [_STR, _STR]),
    "setvbuf": (_INT, [_P, _P, _INT, ctypes.c_size_t]),
    "fclose": (_INT, [_P]),
    "fileno": (_INT, [_P]),
}
"""The C library's stdio calls that give libpcap's dumper a FILE with a large buffer."""


class Libpcap:
    """libpcap and the C library, with prototypes set."""

    def __init__(self, pcap: ctypes.CDLL, libc: ctypes.CDLL) -> None:
        for name, (restype, argtypes) in PROTOTYPES.items():
            fn = getattr(pcap, name)
            fn.restype, fn.argtypes = restype, argtypes
        for name, (restype, argtypes) in LIBC_PROTOTYPES.items():
            fn = getattr(libc, name)
            fn.restype, fn.argtypes = restype, argtypes
        self.pcap = pcap
        """The library (call its functions as attributes)."""
        self.libc = libc
        """The C library (fopen, setvbuf, fclose, fileno)."""
        self.dump_callback = int(ctypes.cast(pcap.pcap_dump, ctypes.c_void_p).value or 0)
        """The C address of pcap_dump, the callback that writes a frame to a dumper."""

    def geterr(self, handle: int) -> str:
        """The handle's last error message."""
        raw = self.pcap.pcap_geterr(handle)
        return raw.decode("utf-8", "replace") if raw else "unknown error"

    def status(self, code: int) -> str:
        """libpcap's text for a status code."""
        raw = self.pcap.pcap_statustostr(code)
        return raw.decode("utf-8", "replace") if raw else f"error {code}"


@functools.cache
def load() -> Libpcap | None:
    """libpcap, once per process; None when it (or a function we need, libpcap < 1.9) is missing."""
    name = ctypes.util.find_library("pcap")
    libc_name = ctypes.util.find_library("c")
    if name is None or libc_name is None:
        return None
    try:
        return Libpcap(ctypes.CDLL(name, use_errno=True), ctypes.CDLL(libc_name, use_errno=True))
    except (OSError, AttributeError):
        return None


def dlt_to_linktype(dlt: int) -> int:
    """The LINKTYPE a file records for a handle's DLT."""
    return DLT_TO_LINKTYPE.get(dlt, dlt)


def linktype_to_dlt(linktype: int) -> int:
    """The DLT to open a dead handle with for a LINKTYPE."""
    return LINKTYPE_TO_DLT.get(linktype, linktype)


__all__ = [
    "HANDLER",
    "IOFBF",
    "PCAP_ERRBUF_SIZE",
    "BpfProgram",
    "Libpcap",
    "PktHdr",
    "Stat",
    "dlt_to_linktype",
    "linktype_to_dlt",
    "load",
]
