"""Which live source an interface name opens: a real interface (`live.open_live`), or tcpdump's `any`
pseudo-interface (`cooked.CookedSource`, Linux cooked capture across every interface) where the
system has no interface of that name. Kept apart so that `live` and `cooked` do not import each
other."""

from __future__ import annotations

import sys

from analyzer.capture import live
from analyzer.capture.cooked import ANY, CookedSource
from analyzer.capture.live import RCVBUF_BYTES, CaptureSource


def open_source(
    name: str, bpf: str | None = None, promisc: bool = True, buffer_size: int = RCVBUF_BYTES
) -> CaptureSource:
    """Open a live capture on `name` (an interface, or `any`); see `live.open_live` for the errors."""
    if (
        name == ANY
        and sys.platform.startswith("linux")
        and not any(i.name == ANY for i in live.list_interfaces())
    ):
        return CookedSource(bpf, buffer_size)
    return live.open_live(name, bpf, promisc, buffer_size)
