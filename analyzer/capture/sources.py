"""Which live source an interface name opens: libpcap's ring (`ring.open_ring`, frames copied to the
spool in C) when libpcap is installed, else a plain packet socket, one Python iteration per frame: a
real interface (`live.open_live`) or tcpdump's `any` pseudo-interface (`cooked.CookedSource`, Linux
cooked capture across every interface) where the system has no interface of that name. Kept apart
so that `live`, `cooked` and `ring` do not import each other."""

from __future__ import annotations

import sys

from analyzer.capture import live, pcaplib, ring
from analyzer.capture.cooked import ANY, CookedSource
from analyzer.capture.live import RCVBUF_BYTES, CaptureSource


def open_source(
    name: str, bpf: str | None = None, promisc: bool = True, buffer_size: int = RCVBUF_BYTES
) -> CaptureSource:
    """Open a live capture on `name` (an interface, or `any`); see `live.open_live` for the errors."""
    is_any = (
        name == ANY
        and sys.platform.startswith("linux")
        and not any(i.name == ANY for i in live.list_interfaces())
    )
    if pcaplib.load() is not None and sys.platform.startswith("linux"):
        return ring.open_ring(ANY if is_any else name, bpf, promisc, buffer_size, cooked=is_any)
    if is_any:
        return CookedSource(bpf, buffer_size)
    return live.open_live(name, bpf, promisc, buffer_size)
