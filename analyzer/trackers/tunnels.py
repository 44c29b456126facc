"""Tunnels (Zeek's tunnel.log): which tunnels carried traffic, between which outer endpoints.

Theory of operation
-------------------
The decoder records every tunnel a packet crossed (IP in IP, GRE, Teredo, VXLAN, Geneve, GTP-U) with
its outer endpoints. When the pipeline creates a flow from such a packet, it gives the flow the uids
of its tunnels (`tunnel_parents` on the conn record, as Zeek does) and emits one `TunnelFlow` per
tunnel. This tracker keeps one entry per tunnel uid (first time seen, outer endpoints, type) and
counts the inner flows, and, from the conn records that name it as a parent, their packets and
bytes. A tunnel's uid is derived from its type and outer endpoints, direction-independent, so every
run and every `--jobs` worker agrees. At most MAX_TUNNELS are kept; further ones are only counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

from analyzer.decode import TunnelHop, ip_text
from analyzer.flows import flow_key, make_uid
from analyzer.records import to_jsonable
from analyzer.trackers.conn import ConnRecord

MAX_TUNNELS = 10_000
"""Tunnels kept with their details (a mirror or a mobile core shows a few; more is a scan)."""
TUNNEL_KIND_CODES = {
    "IP": 4,
    "GRE": 47,
    "MPLS": 137,
    "TEREDO": 250,
    "VXLAN": 251,
    "GENEVE": 252,
    "GTPv1": 253,
}
"""Tunnel kind -> the byte mixed into its uid in place of an IP protocol (IP and GRE tunnels use theirs;
UDP tunnels get unassigned protocol numbers), so two kinds between the same endpoints differ."""


def tunnel_uid(hop: TunnelHop) -> str:
    """The uid of a tunnel: from its kind and outer endpoints, the same in both directions."""
    code = TUNNEL_KIND_CODES.get(hop.kind, 0)
    return make_uid(0.0, flow_key(code, hop.src_ip, hop.sport, hop.dst_ip, hop.dport))


@dataclass(frozen=True, slots=True)
class TunnelFlow:
    """A new inner flow seen through a tunnel (one event per tunnel the flow's first packet crossed)."""

    ts: float
    """First packet of the inner flow."""
    uid: str
    """The tunnel's uid (as in the inner conn record's tunnel_parents)."""
    tunnel_type: str
    """Zeek's Tunnel::Type: Tunnel::IP, Tunnel::GRE, Tunnel::TEREDO, Tunnel::VXLAN, ..."""
    orig_h: str
    """Outer source address of that first packet."""
    orig_p: int
    """Outer source port (0 for IP and GRE tunnels)."""
    resp_h: str
    """Outer destination address."""
    resp_p: int
    """Outer destination port (0 for IP and GRE tunnels)."""
    inner_uid: str
    """uid of the inner flow."""


def tunnel_flows(ts: float, hops: tuple[TunnelHop, ...], inner_uid: str) -> list[TunnelFlow]:
    """The TunnelFlow events of a new inner flow."""
    return [
        TunnelFlow(
            ts=ts,
            uid=tunnel_uid(h),
            tunnel_type=f"Tunnel::{h.kind}",
            orig_h=ip_text(h.src_ip),
            orig_p=h.sport,
            resp_h=ip_text(h.dst_ip),
            resp_p=h.dport,
            inner_uid=inner_uid,
        )
        for h in hops
    ]


@dataclass(slots=True)
class _Tunnel:
    first: TunnelFlow
    inner_flows: int = 0
    inner_pkts: int = 0
    inner_bytes: int = 0


class TunnelTracker:
    """Builds the "tunnels" section."""

    EVENT_TYPES: ClassVar[tuple[type, ...]] = (TunnelFlow, ConnRecord)

    def __init__(self, ctx: object = None) -> None:
        self.tunnels: dict[str, _Tunnel] = {}
        self.by_type: Counter[str] = Counter()
        self.inner_flows_by_type: Counter[str] = Counter()
        self.dropped = 0

    def handle(self, event: Any) -> None:
        if isinstance(event, TunnelFlow):
            self._flow(event)
        elif isinstance(event, ConnRecord) and event.tunnel_parents:
            for uid in event.tunnel_parents:
                t = self.tunnels.get(uid)
                if t is not None:
                    t.inner_pkts += event.orig_pkts + event.resp_pkts
                    t.inner_bytes += event.orig_ip_bytes + event.resp_ip_bytes

    def _flow(self, ev: TunnelFlow) -> None:
        self.inner_flows_by_type[ev.tunnel_type] += 1
        t = self.tunnels.get(ev.uid)
        if t is None:
            self.by_type[ev.tunnel_type] += 1
            if len(self.tunnels) >= MAX_TUNNELS:
                self.dropped += 1
                return
            t = self.tunnels[ev.uid] = _Tunnel(ev)
        t.inner_flows += 1

    def expire(self, now: float) -> None:
        pass  # a tunnel is listed for the whole capture, like a conn record's parents

    def finish(self) -> dict[str, Any]:
        if not self.by_type:
            return {}
        rows = []
        for t in sorted(self.tunnels.values(), key=lambda t: (t.first.ts, t.first.uid)):
            row = to_jsonable(t.first)
            del row["inner_uid"]
            row.update(inner_flows=t.inner_flows, inner_pkts=t.inner_pkts, inner_bytes=t.inner_bytes)
            rows.append(row)
        return {
            "tunnels": {
                "count": sum(self.by_type.values()),
                "by_type": dict(sorted(self.by_type.items())),
                "inner_flows_by_type": dict(sorted(self.inner_flows_by_type.items())),
                "tunnels": rows,
                "dropped_records": self.dropped,
            }
        }
