"""Connection records (Zeek's conn.log) and the `flows` section: counts, states, top talkers."""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

from analyzer.frozen import interpreted_inits
from analyzer.records import to_jsonable

TOP_FLOWS = 25
"""Conversations kept for the "top by bytes" table; a bounded heap, whatever the capture size."""


@dataclass(frozen=True, slots=True, init=False)
class ConnRecord:
    """One finished conversation, as Zeek's conn.log has it."""

    ts: float
    """First packet's timestamp."""
    uid: str
    """Connection uid, shared by every event of this flow."""
    orig_h: str
    """Originator address."""
    orig_p: int
    """Originator port (ICMP: type)."""
    resp_h: str
    """Responder address."""
    resp_p: int
    """Responder port (ICMP: code)."""
    proto: str
    """tcp, udp or icmp."""
    service: str | None
    """Service label from classification."""
    service_how: str | None
    """How the label was reached: port, payload, both or expected."""
    duration: float
    """Last minus first packet time."""
    orig_bytes: int
    """Payload bytes sent by the originator."""
    resp_bytes: int
    """Payload bytes sent by the responder."""
    conn_state: str
    """Zeek conn_state (S0, S1, SF, REJ, RSTO, RSTR, OTH, ...)."""
    missed_bytes: int
    """Bytes missing from the reassembled streams."""
    history: str
    """Zeek history letters (upper case: originator)."""
    orig_pkts: int
    """Packets from the originator."""
    orig_ip_bytes: int
    """Wire bytes from the originator."""
    resp_pkts: int
    """Packets from the responder."""
    resp_ip_bytes: int
    """Wire bytes from the responder."""
    parent_uid: str | None = None
    """uid of the flow that announced this one (FTP data channels)."""
    tunnel_parents: tuple[str, ...] = ()
    """uids of the tunnels that carried this flow, outermost first (Zeek's tunnel_parents)."""

    def __init__(
        self,
        ts: float,
        uid: str,
        orig_h: str,
        orig_p: int,
        resp_h: str,
        resp_p: int,
        proto: str,
        service: str | None,
        service_how: str | None,
        duration: float,
        orig_bytes: int,
        resp_bytes: int,
        conn_state: str,
        missed_bytes: int,
        history: str,
        orig_pkts: int,
        orig_ip_bytes: int,
        resp_pkts: int,
        resp_ip_bytes: int,
        parent_uid: str | None = None,
        tunnel_parents: tuple[str, ...] = (),
    ) -> None:
        self.ts = ts  # type: ignore[misc]
        self.uid = uid  # type: ignore[misc]
        self.orig_h = orig_h  # type: ignore[misc]
        self.orig_p = orig_p  # type: ignore[misc]
        self.resp_h = resp_h  # type: ignore[misc]
        self.resp_p = resp_p  # type: ignore[misc]
        self.proto = proto  # type: ignore[misc]
        self.service = service  # type: ignore[misc]
        self.service_how = service_how  # type: ignore[misc]
        self.duration = duration  # type: ignore[misc]
        self.orig_bytes = orig_bytes  # type: ignore[misc]
        self.resp_bytes = resp_bytes  # type: ignore[misc]
        self.conn_state = conn_state  # type: ignore[misc]
        self.missed_bytes = missed_bytes  # type: ignore[misc]
        self.history = history  # type: ignore[misc]
        self.orig_pkts = orig_pkts  # type: ignore[misc]
        self.orig_ip_bytes = orig_ip_bytes  # type: ignore[misc]
        self.resp_pkts = resp_pkts  # type: ignore[misc]
        self.resp_ip_bytes = resp_ip_bytes  # type: ignore[misc]
        self.parent_uid = parent_uid  # type: ignore[misc]
        self.tunnel_parents = tunnel_parents  # type: ignore[misc]


class ConnTracker:
    """Counts conversations by protocol, state and service and keeps the top ones by bytes."""

    EVENT_TYPES: ClassVar[tuple[type, ...]] = (ConnRecord,)

    def __init__(self) -> None:
        self.count = 0
        self.by_proto: Counter[str] = Counter()
        self.by_state: Counter[str] = Counter()
        self._top: list[tuple[int, str, ConnRecord]] = []

    def handle(self, rec: ConnRecord) -> None:
        self.count += 1
        self.by_proto[rec.proto] += 1
        self.by_state[rec.conn_state] += 1
        total = rec.orig_ip_bytes + rec.resp_ip_bytes
        item = (total, rec.uid, rec)
        if len(self._top) < TOP_FLOWS:
            heapq.heappush(self._top, item)
        elif item[:2] > self._top[0][:2]:
            heapq.heapreplace(self._top, item)

    def expire(self, now: float) -> None:
        pass

    def finish(self) -> dict[str, Any]:
        top = [rec for _, _, rec in sorted(self._top, key=lambda t: (-t[0], t[1]))]
        return {
            "flows": {
                "count": self.count,
                "by_proto": dict(sorted(self.by_proto.items())),
                "by_conn_state": dict(self.by_state.most_common()),
                "top": [to_jsonable(r) for r in top],
            }
        }


interpreted_inits(ConnRecord)
