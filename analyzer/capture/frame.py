"""The unit the capture layer yields: one frame as it was recorded."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured frame, before any header is decoded."""

    ts: float
    """Capture timestamp, seconds since the epoch (packet time, never the wall clock)."""
    linktype: int
    """LINKTYPE_* value of the interface the frame came from (1 = Ethernet, 113 = Linux SLL, ...)."""
    data: bytes
    """The captured bytes (caplen of them)."""
    wirelen: int
    """Original length on the wire; larger than len(data) when the snaplen cut the frame."""
    interface: int = 0
    """Index of the capturing interface (pcapng IDB order; 0 for classic pcap)."""
