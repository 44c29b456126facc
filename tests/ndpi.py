"""Named-share measurement: the share of TCP/UDP flows a classifier names, ours against nDPI's
`ndpiReader` (Debian's libndpi-bin) on the same capture."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

NDPI_READER = shutil.which("ndpiReader")
"""Path of nDPI's demo reader, or None where it is not installed."""
_FLOW_LINE = re.compile(rb"^\s+\d+\s+(TCP|UDP) .*?\[proto: ([^\]]*)\]", re.M)


def ndpi_flows(path: str) -> tuple[int, int]:
    """(TCP/UDP flows, named flows) as ndpiReader lists them with -v 2: a flow is named when its
    protocol is not "Unknown" (a port guess counts as named, as nDPI counts it)."""
    assert NDPI_READER is not None
    out = subprocess.run(
        [NDPI_READER, "-q", "-i", path, "-v", "2"], capture_output=True, timeout=300, check=False
    ).stdout
    total = named = 0
    for m in _FLOW_LINE.finditer(out):
        total += 1
        named += not m.group(2).endswith(b"/Unknown")
    return total, named


def our_flows(summary: dict[str, Any]) -> tuple[int, int]:
    """(TCP/UDP flows, named flows) of one of our JSON summaries."""
    by_proto = summary.get("flows", {}).get("by_proto", {})
    total = by_proto.get("tcp", 0) + by_proto.get("udp", 0)
    unknown = summary.get("services", {}).get("unknown", {}).get("flows", 0)
    return total, total - unknown
