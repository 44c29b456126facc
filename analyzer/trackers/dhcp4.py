"""DHCP: messages by type, each client's lease lifecycle, servers, and what looks wrong.

Theory of operation
-------------------
Clients are keyed by their hardware address (chaddr), so a client keeps its row across transaction
ids, addresses and servers; every client seen gets exactly one row, even one that only sent INFORM
or DISCOVER. Within a client, transactions are keyed by xid; a transaction remembers which servers
answered it and what they offered, and is dropped `TRANSACTION_TIMEOUT` seconds of packet time after
its last message (or when `MAX_XIDS_PER_CLIENT` is exceeded, counted as overflow).

Per client, packet time drives a small state machine (`state` of the row):

    no_lease --DISCOVER--> (OFFERs from servers) --REQUEST(server id)--> ACK ----------> active
        |                                                           \\-> NAK ----------> nak
        \\--INFORM/ACK(yiaddr 0)--> informed
    active --REQUEST ciaddr, unicast (renewing, ~T1) / broadcast (rebinding, ~T2)--> ACK: active
    active --RELEASE--> released     active --DECLINE--> declined     active --NAK--> nak
    active --no ACK before start + lease_time < capture end--> expired

A REQUEST is classified by its fields (RFC 2131 4.3.2): server id and no ciaddr = selecting;
requested address without server id or ciaddr = init-reboot; ciaddr set = renewing when unicast,
rebinding when broadcast or relayed. An ACK with yiaddr 0.0.0.0 answers an INFORM and grants no
lease. An ACK for the address the client already holds extends that lease (`start` moves,
`bound_since` stays).
An infinite lease (0xffffffff) never expires; expiry is checked whenever the client sends or gets a
message, at each `expire(now)` and at `finish()` against the capture's end (the latest packet time
seen, learned from DHCP messages, expiry calls and finished connections).

Findings: two servers answering one transaction (competing servers), an offer the client did not
request (offer not taken), NAK, DECLINE, RELEASE without a lease, and more than one server in the
capture. Everything is bounded by the named limits below; what does not fit is counted in `overflow`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from analyzer.dissectors.dhcp import INFINITE_LEASE, DhcpMessage
from analyzer.trackers.conn import ConnRecord
from analyzer.trackers.dhcp_common import (
    ENDING_STATES,
    LEASE_MARKS,
    MAX_CLIENTS,
    MAX_OFFERS_PER_XID,
    MAX_SERVER_LEASE_TIMES,
    MAX_SERVERS,
    MAX_XIDS_PER_CLIENT,
    REQUEST_COUNTERS,
    TRANSACTION_TIMEOUT,
    UNSPECIFIED,
    LeaseEvent,
    _addr,
    _Bookkeeping,
    _xid,
)

# --- live state ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Lease:
    assigned_addr: str
    server_addr: str | None
    lease_time: int | None
    start: float
    expires: float | None
    infinite: bool
    bound_since: float
    renewal_time: float | None
    rebinding_time: float | None


@dataclass(slots=True)
class _Txn:
    xid: int
    last_ts: float
    step: str = ""
    offers: dict[str, str | None] = field(default_factory=dict)
    requested_server: str | None = None
    requested: bool = False
    servers: set[str] = field(default_factory=set)
    competing_reported: bool = False


@dataclass(slots=True)
class _Client:
    mac: str
    first_ts: float
    last_ts: float
    state: str = "no_lease"
    lease: _Lease | None = None
    ended: float | None = None
    host_name: str | None = None
    client_id: str | None = None
    client_fqdn: str | None = None
    vendor_class: str | None = None
    domain: str | None = None
    requested_addr: str | None = None
    client_addr: str | None = None
    client_message: str | None = None
    server_message: str | None = None
    msg_types: list[str] = field(default_factory=list)
    timeline: list[LeaseEvent] = field(default_factory=list)
    timeline_dropped: int = 0
    xids: dict[int, _Txn] = field(default_factory=dict)
    uids: list[str] = field(default_factory=list)
    offered_by: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class _Server:
    addr: str
    mac: str
    first_ts: float
    last_ts: float
    by_type: Counter[str] = field(default_factory=Counter)
    clients: set[str] = field(default_factory=set)
    lease_times: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class DhcpLeaseRecord:
    """One row per client: its latest lease, how it ended, and how it got there (dhcp.log names)."""

    ts: float
    """First message of this client."""
    mac: str
    """Client hardware address."""
    state: str
    """One of STATES."""
    assigned_addr: str | None
    """Address of the latest lease."""
    server_addr: str | None
    """Server that granted it."""
    lease_time: int | None
    """Granted lease time in seconds (4294967295 = infinite)."""
    start: float | None
    """Time of the ACK that last granted or extended the lease."""
    expires: float | None
    """start + lease_time (None when infinite or unknown)."""
    infinite: bool
    """The lease never expires."""
    bound_since: float | None
    """First ACK of this binding (renewals move `start`, not this)."""
    ended: float | None
    """When the lease ended (release, decline, NAK or expiry)."""
    renewal_time: float | None
    """T1 in seconds (option 58, else half the lease)."""
    rebinding_time: float | None
    """T2 in seconds (option 59, else 7/8 of the lease)."""
    duration: float
    """Last minus first message time of this client."""
    msg_types: list[str]
    """Message types in order (first MAX_MSG_TYPES_PER_CLIENT)."""
    host_name: str | None
    """Option 12 from the client."""
    client_id: str | None
    """Option 61 from the client."""
    client_fqdn: str | None
    """Option 81 from the client."""
    client_software: str | None
    """Vendor class (option 60) from the client."""
    domain: str | None
    """Option 15 from the server."""
    requested_addr: str | None
    """Last address the client asked for (option 50)."""
    client_addr: str | None
    """Last ciaddr the client used."""
    client_message: str | None
    """Option 56 sent by the client (DECLINE/RELEASE reason)."""
    server_message: str | None
    """Option 56 sent by a server (NAK reason)."""
    leases_granted: int
    """ACKs that granted a new binding."""
    renewals: int
    """Renewing transactions (unicast REQUEST with ciaddr)."""
    rebinds: int
    """Rebinding transactions (broadcast REQUEST with ciaddr)."""
    reboots: int
    """INIT-REBOOT transactions (REQUEST with a requested address only)."""
    offers: int
    """OFFERs received."""
    offered_by: list[str]
    """Servers that made offers."""
    naks: int
    """NAKs received."""
    declines: int
    """DECLINEs sent."""
    releases: int
    """RELEASEs sent."""
    informs: int
    """INFORMs sent."""
    uids: list[str]
    """Flows that carried this client's messages."""
    timeline: list[LeaseEvent]
    """What happened, in order (first MAX_TIMELINE_PER_CLIENT)."""
    timeline_dropped: int
    """Timeline entries beyond the limit."""


Handler = Callable[["DhcpTracker", _Client, _Txn, DhcpMessage], None]


class DhcpTracker(_Bookkeeping):
    """Counts DHCP messages and follows each client's lease (see the module docstring)."""

    EVENT_TYPES: ClassVar[tuple[type, ...]] = (DhcpMessage, ConnRecord)
    HANDLERS: ClassVar[dict[str, Handler]]

    def __init__(self) -> None:
        super().__init__()
        self.clients: dict[str, _Client] = {}
        self.servers: dict[str, _Server] = {}

    # -- input --

    def handle(self, event: DhcpMessage | ConnRecord) -> None:
        if isinstance(event, ConnRecord):
            self._seen(event.ts + event.duration)
            return
        msg = event
        self._count(msg.ts, (msg.msg_type_name,), msg.problems)
        if msg.op == 2:
            self._server_reply(msg)
        client = self._client(msg)
        if client is None:
            return
        self._settle(client, msg.ts)
        txn = self._txn(client, msg)
        self.HANDLERS.get(msg.msg_type_name, DhcpTracker._other)(self, client, txn, msg)
        txn.last_ts = msg.ts

    def expire(self, now: float) -> None:
        self._seen(now)
        for client in self.clients.values():
            stale = [t for t in client.xids.values() if now - t.last_ts > TRANSACTION_TIMEOUT]
            for txn in stale:
                self._close_txn(client, txn, now)
            self._settle(client, now)

    def finish(self) -> dict[str, Any]:
        end = self.end_ts if self.end_ts is not None else 0.0
        for client in self.clients.values():
            for txn in list(client.xids.values()):
                self._close_txn(client, txn, end)
            self._settle(client, end)
        answering = sorted(s.addr for s in self.servers.values() if s.by_type)
        if len(answering) > 1:
            self._finding(end, "multiple_servers", None, None, None, ", ".join(answering))
        rows = [self._row(c) for c in sorted(self.clients.values(), key=lambda c: (c.first_ts, c.mac))]
        servers = [
            {
                "server_addr": s.addr,
                "mac": s.mac,
                "first_ts": s.first_ts,
                "last_ts": s.last_ts,
                "by_message_type": dict(s.by_type.most_common()),
                "clients": len(s.clients),
                "lease_times": sorted(s.lease_times),
            }
            for s in sorted(self.servers.values(), key=lambda s: s.first_ts)
        ]
        return {"dhcp": self._section(rows, servers, end)}

    # -- bookkeeping --

    def _client(self, msg: DhcpMessage) -> _Client | None:
        client = self.clients.get(msg.mac)
        if client is None:
            if len(self.clients) >= MAX_CLIENTS:
                self.overflow["clients"] += 1
                return None
            client = self.clients[msg.mac] = _Client(msg.mac, msg.ts, msg.ts)
        self._note(client, msg.ts, msg.msg_type_name, msg.uid)
        if msg.op == 1:
            client.host_name = msg.host_name or client.host_name
            client.client_id = msg.client_id or client.client_id
            client.client_fqdn = msg.client_fqdn or client.client_fqdn
            client.vendor_class = msg.vendor_class or client.vendor_class
            client.client_message = msg.message or client.client_message
            if msg.ciaddr != UNSPECIFIED:
                client.client_addr = msg.ciaddr
        else:
            client.domain = msg.domain or client.domain
            client.server_message = msg.message or client.server_message
        return client

    def _txn(self, client: _Client, msg: DhcpMessage) -> _Txn:
        txn = client.xids.get(msg.xid)
        if txn is None:
            if len(client.xids) >= MAX_XIDS_PER_CLIENT:
                self.overflow["xids"] += 1
                oldest = next(iter(client.xids.values()))
                self._close_txn(client, oldest, msg.ts)
            txn = client.xids[msg.xid] = _Txn(msg.xid, msg.ts)
        return txn

    def _close_txn(self, client: _Client, txn: _Txn, now: float) -> None:
        for server, addr in txn.offers.items():
            self._finding(
                now, "offer_not_taken", client.mac, server, addr, f"xid {_xid(txn.xid)}: no REQUEST"
            )
        client.xids.pop(txn.xid, None)

    def _server_reply(self, msg: DhcpMessage) -> None:
        addr = msg.server_id or msg.src_h
        server = self.servers.get(addr)
        if server is None:
            if len(self.servers) >= MAX_SERVERS:
                self.overflow["servers"] += 1
                return
            server = self.servers[addr] = _Server(addr, msg.src_mac, msg.ts, msg.ts)
        server.last_ts = max(server.last_ts, msg.ts)
        server.by_type[msg.msg_type_name] += 1
        if len(server.clients) < MAX_CLIENTS:
            server.clients.add(msg.mac)
        if msg.lease_time is not None and len(server.lease_times) < MAX_SERVER_LEASE_TIMES:
            server.lease_times.add(msg.lease_time)

    def _step(
        self,
        client: _Client,
        msg: DhcpMessage,
        step: str,
        server: str | None,
        addr: str | None,
        note: str | None,
    ) -> None:
        self._timeline(client, LeaseEvent(msg.ts, msg.msg_type_name, _xid(msg.xid), step, server, addr, note))

    def _settle(self, client: _Client, now: float) -> None:
        """Mark an active lease expired when its expiry lies before `now`."""
        lease = client.lease
        if client.state != "active" or lease is None or lease.expires is None or lease.expires >= now:
            return
        client.state = "expired"
        client.ended = lease.expires
        entry = LeaseEvent(lease.expires, "-", "", "expired", lease.server_addr, lease.assigned_addr, None)
        self._timeline(client, entry)

    def _answered_by(self, client: _Client, txn: _Txn, msg: DhcpMessage) -> str:
        server = msg.server_id or msg.src_h
        if server not in txn.servers and len(txn.servers) < MAX_OFFERS_PER_XID:
            txn.servers.add(server)
            if len(txn.servers) > 1 and not txn.competing_reported:
                txn.competing_reported = True
                detail = f"xid {_xid(txn.xid)} answered by {', '.join(sorted(txn.servers))}"
                self._finding(msg.ts, "competing_servers", client.mac, server, msg.yiaddr, detail)
        return server

    def _active(self, client: _Client) -> _Lease | None:
        return client.lease if client.state == "active" else None

    # -- message handlers (HANDLERS table below) --

    def _discover(self, client: _Client, txn: _Txn, msg: DhcpMessage) -> None:
        txn.step = txn.step or "discover"
        client.requested_addr = msg.requested_addr or client.requested_addr
        self._step(client, msg, "discover", None, msg.requested_addr, None)

    def _offer(self, client: _Client, txn: _Txn, msg: DhcpMessage) -> None:
        server = self._answered_by(client, txn, msg)
        client.counts["offers"] += 1
        if server not in client.offered_by and len(client.offered_by) < MAX_OFFERS_PER_XID:
            client.offered_by.append(server)
        if txn.requested_server is not None and server != txn.requested_server:
            detail = f"xid {_xid(txn.xid)}: client chose {txn.requested_server}"
            self._finding(msg.ts, "offer_not_taken", client.mac, server, msg.yiaddr, detail)
        elif txn.requested_server is None and len(txn.offers) < MAX_OFFERS_PER_XID:
            txn.offers[server] = msg.yiaddr
        note = f"lease {msg.lease_time}s" if msg.lease_time is not None else None
        self._step(client, msg, "offer", server, msg.yiaddr, note)

    def _request(self, client: _Client, txn: _Txn, msg: DhcpMessage) -> None:
        if msg.ciaddr != UNSPECIFIED:
            # Renewing clients unicast straight to their server; rebinding broadcasts reach a
            # server directly or through a relay (giaddr set).
            step = "rebind" if msg.to_broadcast or msg.giaddr != UNSPECIFIED else "renew"
        elif msg.server_id:
            step = "select"
        elif msg.requested_addr:
            step = "init-reboot"
        else:
            step = "request"
        notes: list[str] = []
        if txn.requested and txn.step == step:
            notes.append("retransmission")
        elif step in REQUEST_COUNTERS:
            client.counts[REQUEST_COUNTERS[step]] += 1
        lease = self._active(client)
        if step in LEASE_MARKS and lease is not None and lease.lease_time and not lease.infinite:
            mark, default = LEASE_MARKS[step]
            due = lease.renewal_time if mark == "T1" else lease.rebinding_time
            frac_due = (due / lease.lease_time) if due is not None else default
            elapsed = (msg.ts - lease.start) / lease.lease_time
            notes.append(f"at {elapsed:.2f} of lease ({mark} at {frac_due:.2f})")
        if step == "select" and msg.server_id:
            txn.requested_server = msg.server_id
            for server, addr in txn.offers.items():
                if server != msg.server_id:
                    detail = f"xid {_xid(txn.xid)}: client chose {msg.server_id}"
                    self._finding(msg.ts, "offer_not_taken", client.mac, server, addr, detail)
        txn.offers.clear()
        txn.step, txn.requested = step, True
        addr = msg.requested_addr or _addr(msg.ciaddr)
        client.requested_addr = msg.requested_addr or client.requested_addr
        self._step(client, msg, step, msg.server_id, addr, "; ".join(notes) or None)

    def _ack(self, client: _Client, txn: _Txn, msg: DhcpMessage) -> None:
        server = self._answered_by(client, txn, msg)
        if msg.yiaddr == UNSPECIFIED or txn.step == "inform":
            if client.state == "no_lease":
                client.state = "informed"
            self._step(client, msg, "inform-ack", server, _addr(msg.ciaddr), None)
            return
        self._grant(client, msg, server, msg.lease_time)

    def _grant(self, client: _Client, msg: DhcpMessage, server: str, lease_time: int | None) -> None:
        held = self._active(client)
        extend = held is not None and held.assigned_addr == msg.yiaddr
        infinite = lease_time == INFINITE_LEASE or (lease_time is None and msg.msg_type is None)
        finite = lease_time if lease_time is not None and not infinite else None
        t1 = msg.renewal_time if msg.renewal_time is not None else (finite * 0.5 if finite else None)
        t2 = msg.rebinding_time if msg.rebinding_time is not None else (finite * 0.875 if finite else None)
        client.lease = _Lease(
            assigned_addr=msg.yiaddr,
            server_addr=server,
            lease_time=lease_time,
            start=msg.ts,
            expires=msg.ts + finite if finite is not None else None,
            infinite=infinite,
            bound_since=held.bound_since if extend and held is not None else msg.ts,
            renewal_time=t1,
            rebinding_time=t2,
        )
        client.state, client.ended = "active", None
        if not extend:
            client.counts["leases_granted"] += 1
        if lease_time is None and msg.msg_type is not None:
            self._finding(msg.ts, "ack_without_lease_time", client.mac, server, msg.yiaddr, "no option 51")
        if infinite:
            note = "infinite lease"
        else:
            note = f"lease {lease_time}s" if lease_time is not None else "no lease time"
        step = "bootp" if msg.msg_type is None else ("extend" if extend else "grant")
        self._step(client, msg, step, server, msg.yiaddr, note)

    def _nak(self, client: _Client, txn: _Txn, msg: DhcpMessage) -> None:
        server = self._answered_by(client, txn, msg)
        client.counts["naks"] += 1
        self._end(client, msg)
        detail = msg.message or f"xid {_xid(msg.xid)} refused"
        self._finding(msg.ts, "nak", client.mac, server, client.requested_addr, detail)
        self._step(client, msg, "nak", server, client.requested_addr, msg.message)

    def _decline(self, client: _Client, txn: _Txn, msg: DhcpMessage) -> None:
        client.counts["declines"] += 1
        lease = self._active(client)
        addr = msg.requested_addr or (lease.assigned_addr if lease else None)
        self._end(client, msg)
        self._finding(msg.ts, "decline", client.mac, msg.server_id, addr, msg.message or "address in use")
        self._step(client, msg, "decline", msg.server_id, addr, msg.message)

    def _release(self, client: _Client, txn: _Txn, msg: DhcpMessage) -> None:
        client.counts["releases"] += 1
        addr = _addr(msg.ciaddr)
        if self._active(client) is None:
            detail = f"state {client.state}"
            self._finding(msg.ts, "release_without_lease", client.mac, msg.server_id, addr, detail)
        else:
            self._end(client, msg)
        self._step(client, msg, "release", msg.server_id, addr, msg.message)

    def _end(self, client: _Client, msg: DhcpMessage) -> None:
        """A RELEASE, DECLINE or NAK: an active lease ends; NAK/DECLINE are the state either way."""
        if self._active(client) is not None:
            client.ended = msg.ts
        client.state = ENDING_STATES[msg.msg_type_name]

    def _inform(self, client: _Client, txn: _Txn, msg: DhcpMessage) -> None:
        client.counts["informs"] += 1
        txn.step = "inform"
        if client.state == "no_lease":
            client.state = "informed"
        self._step(client, msg, "inform", None, _addr(msg.ciaddr), None)

    def _other(self, client: _Client, txn: _Txn, msg: DhcpMessage) -> None:
        if msg.msg_type is None and msg.op == 2 and msg.yiaddr != UNSPECIFIED:
            self._grant(client, msg, self._answered_by(client, txn, msg), None)
            return
        server = msg.server_id or (msg.src_h if msg.op == 2 else None)
        self._step(client, msg, "other", server, None, None)

    # -- output --

    def _row(self, c: _Client) -> DhcpLeaseRecord:
        lease = c.lease
        return DhcpLeaseRecord(
            ts=c.first_ts,
            mac=c.mac,
            state=c.state,
            assigned_addr=lease.assigned_addr if lease else None,
            server_addr=lease.server_addr if lease else None,
            lease_time=lease.lease_time if lease else None,
            start=lease.start if lease else None,
            expires=lease.expires if lease else None,
            infinite=lease.infinite if lease else False,
            bound_since=lease.bound_since if lease else None,
            ended=c.ended,
            renewal_time=lease.renewal_time if lease else None,
            rebinding_time=lease.rebinding_time if lease else None,
            duration=c.last_ts - c.first_ts,
            msg_types=list(c.msg_types),
            host_name=c.host_name,
            client_id=c.client_id,
            client_fqdn=c.client_fqdn,
            client_software=c.vendor_class,
            domain=c.domain,
            requested_addr=c.requested_addr,
            client_addr=c.client_addr,
            client_message=c.client_message,
            server_message=c.server_message,
            leases_granted=c.counts["leases_granted"],
            renewals=c.counts["renewals"],
            rebinds=c.counts["rebinds"],
            reboots=c.counts["reboots"],
            offers=c.counts["offers"],
            offered_by=list(c.offered_by),
            naks=c.counts["naks"],
            declines=c.counts["declines"],
            releases=c.counts["releases"],
            informs=c.counts["informs"],
            uids=list(c.uids),
            timeline=sorted(c.timeline, key=lambda e: e.ts),
            timeline_dropped=c.timeline_dropped,
        )


DhcpTracker.HANDLERS = {
    "DISCOVER": DhcpTracker._discover,
    "OFFER": DhcpTracker._offer,
    "REQUEST": DhcpTracker._request,
    "ACK": DhcpTracker._ack,
    "NAK": DhcpTracker._nak,
    "DECLINE": DhcpTracker._decline,
    "RELEASE": DhcpTracker._release,
    "INFORM": DhcpTracker._inform,
}
"""Message type -> handler; any other type (FORCERENEW, LEASEQUERY, plain BOOTP) goes to `_other`."""
