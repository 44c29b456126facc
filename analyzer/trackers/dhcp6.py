"""DHCPv6 (RFC 8415): messages by type, each client's bindings (addresses and prefixes) and findings.
See trackers/dhcp4.py for the theory of operation the two trackers share."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

from analyzer.dissectors.dhcp import INFINITE_LEASE, Dhcpv6Message
from analyzer.trackers.conn import ConnRecord
from analyzer.trackers.dhcp_common import (
    MAX_CLIENTS,
    MAX_OFFERS_PER_XID,
    MAX_SERVERS,
    MAX_XIDS_PER_CLIENT,
    TRANSACTION_TIMEOUT,
    LeaseEvent,
    _Bookkeeping,
)

# --- DHCPv6 -------------------------------------------------------------------------------------

MAX_V6_BINDINGS_PER_CLIENT = 16
"""Addresses and prefixes held per DHCPv6 client; a host asks for one or two of each."""
V6_STATUS_FINDING = "status"
"""Finding kind of a DHCPv6 reply carrying a failure status (NoAddrsAvail, NoBinding, ...)."""
V6_FINDING_KINDS: dict[str, str] = {
    "competing_servers": "more than one server advertised for the same transaction",
    V6_STATUS_FINDING: "a server answered with a failure status code",
    "multiple_servers": "more than one DHCPv6 server answered in the capture",
}
"""DHCPv6 finding kinds and what they mean."""
V6_SERVER_TYPES = frozenset({"ADVERTISE", "REPLY", "RECONFIGURE"})
"""Innermost message types sent by a server."""
V6_STEPS: dict[str, str] = {
    "SOLICIT": "solicit",
    "ADVERTISE": "advertise",
    "REQUEST": "request",
    "CONFIRM": "confirm",
    "RENEW": "renew",
    "REBIND": "rebind",
    "REPLY": "reply",
    "RELEASE": "release",
    "DECLINE": "decline",
    "INFORMATION-REQUEST": "inform",
    "RECONFIGURE": "reconfigure",
}
"""Innermost message type -> timeline step (others are "other")."""
V6_COUNTERS: dict[str, str] = {
    "RENEW": "renewals",
    "REBIND": "rebinds",
    "RELEASE": "releases",
    "DECLINE": "declines",
    "CONFIRM": "confirms",
    "INFORMATION-REQUEST": "informs",
}
"""Client message type -> the row counter it increments."""
V6_ENDING_STATES: dict[str, str] = {"RELEASE": "released", "DECLINE": "declined"}
"""Client message that gives its bindings back -> state it leaves."""


@dataclass(frozen=True, slots=True)
class Dhcpv6BindingRecord:
    """An address or delegated prefix a DHCPv6 client holds."""

    kind: str
    """na (address), ta (temporary address) or pd (delegated prefix)."""
    iaid: int
    """Identity association id."""
    addr: str
    """Address, or prefix as addr/len."""
    preferred_lifetime: int
    """Seconds (0xffffffff = infinite)."""
    valid_lifetime: int
    """Seconds (0xffffffff = infinite)."""
    start: float
    """REPLY that granted or last extended it."""
    expires: float | None
    """start + valid lifetime (None when infinite)."""
    server_id: str | None
    """DUID of the server that granted it."""
    server_addr: str
    """IP source of that REPLY."""


@dataclass(frozen=True, slots=True)
class Dhcpv6ClientRecord:
    """One row per DHCPv6 client (DUID): what it holds and how it got there."""

    ts: float
    """First message of this client."""
    client_id: str
    """Client DUID as hex."""
    mac: str | None
    """Link-layer address from the DUID, else the source of its messages."""
    state: str
    """no_lease, informed, active, expired, released, declined or refused."""
    assigned: list[Dhcpv6BindingRecord]
    """Addresses and prefixes held at the end (or when the client ended them)."""
    ended: float | None
    """When the bindings ended (release, decline or expiry)."""
    duration: float
    """Last minus first message time."""
    msg_types: list[str]
    """Innermost message types in order (first MAX_MSG_TYPES_PER_CLIENT)."""
    host_name: str | None
    """Client FQDN (option 39)."""
    client_software: str | None
    """Vendor class (option 16)."""
    status: str | None
    """Last failure status a server sent."""
    renewals: int
    """RENEW messages."""
    rebinds: int
    """REBIND messages."""
    confirms: int
    """CONFIRM messages."""
    releases: int
    """RELEASE messages."""
    declines: int
    """DECLINE messages."""
    informs: int
    """INFORMATION-REQUEST messages."""
    uids: list[str]
    """Flows that carried this client's messages."""
    timeline: list[LeaseEvent]
    """What happened, in order (first MAX_TIMELINE_PER_CLIENT)."""
    timeline_dropped: int
    """Timeline entries beyond the limit."""


@dataclass(slots=True)
class _V6Binding:
    kind: str
    iaid: int
    addr: str
    preferred: int
    valid: int
    start: float
    expires: float | None
    server_duid: str | None
    server_addr: str


@dataclass(slots=True)
class _V6Client:
    duid: str
    first_ts: float
    last_ts: float
    mac: str | None = None
    state: str = "no_lease"
    bindings: dict[str, _V6Binding] = field(default_factory=dict)
    ended: float | None = None
    host_name: str | None = None
    vendor_class: str | None = None
    status: str | None = None
    msg_types: list[str] = field(default_factory=list)
    timeline: list[LeaseEvent] = field(default_factory=list)
    timeline_dropped: int = 0
    xids: dict[int, tuple[float, set[str]]] = field(default_factory=dict)
    uids: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


class Dhcpv6Tracker(_Bookkeeping):
    """DHCPv6 messages by type and one row per client DUID with what it was given.

    Theory of operation: the row's state follows the DHCP one. A REPLY listing addresses or
    prefixes with a valid lifetime binds them (start = the REPLY, expires = start + valid lifetime,
    none for 0xffffffff) and makes the client `active`; a valid lifetime of 0 withdraws one. RELEASE
    and DECLINE give everything back (`released`, `declined`); a failure status without bindings is
    `refused`; INFORMATION-REQUEST alone is `informed`; when every binding's expiry lies before the
    capture's end the client is `expired`. ADVERTISEs from several server DUIDs for one transaction
    are competing servers. Limits are the DHCP ones plus `MAX_V6_BINDINGS_PER_CLIENT`.
    """

    EVENT_TYPES: ClassVar[tuple[type, ...]] = (Dhcpv6Message, ConnRecord)

    def __init__(self) -> None:
        super().__init__()
        self.clients: dict[str, _V6Client] = {}
        self.servers: dict[str, Counter[str]] = {}

    def handle(self, event: Dhcpv6Message | ConnRecord) -> None:
        if isinstance(event, ConnRecord):
            self._seen(event.ts + event.duration)
            return
        msg = event
        self._count(msg.ts, msg.msg_types, msg.problems)
        from_server = msg.msg_type_name in V6_SERVER_TYPES
        if from_server:
            self._server(msg)
        client = self._client(msg, from_server)
        if client is None:
            return
        self._settle(client, msg.ts)
        name = msg.msg_type_name
        if not from_server and name in V6_COUNTERS:
            client.counts[V6_COUNTERS[name]] += 1
        step, addr, note = V6_STEPS.get(name, "other"), None, msg.status
        if name == "ADVERTISE":
            self._advertised(client, msg)
            addr = ", ".join(lease.addr for lease in msg.leases) or None
        elif name == "REPLY":
            step, addr = self._reply(client, msg)
        elif name in V6_ENDING_STATES:
            if client.bindings:
                client.ended = msg.ts
            client.bindings.clear()
            client.state = V6_ENDING_STATES[name]
        elif name == "INFORMATION-REQUEST" and client.state == "no_lease":
            client.state = "informed"
        server = (msg.server_duid or msg.src_h) if from_server else msg.server_duid
        self._timeline(client, LeaseEvent(msg.ts, name, f"0x{msg.xid:06x}", step, server, addr, note))

    def expire(self, now: float) -> None:
        self._seen(now)
        for client in self.clients.values():
            stale = [x for x, (ts, _) in client.xids.items() if now - ts > TRANSACTION_TIMEOUT]
            for xid in stale:
                del client.xids[xid]
            self._settle(client, now)

    def finish(self) -> dict[str, Any]:
        end = self.end_ts if self.end_ts is not None else 0.0
        for client in self.clients.values():
            self._settle(client, end)
        answering = sorted(self.servers)
        if len(answering) > 1:
            self._finding(end, "multiple_servers", None, None, None, ", ".join(answering))
        rows = [self._row(c) for c in sorted(self.clients.values(), key=lambda c: (c.first_ts, c.duid))]
        servers = [
            {"server_id": duid, "by_message_type": dict(types.most_common())}
            for duid, types in sorted(self.servers.items())
        ]
        return {"dhcpv6": self._section(rows, servers, end)}

    # -- bookkeeping --

    def _server(self, msg: Dhcpv6Message) -> None:
        key = msg.server_duid or msg.src_h
        types = self.servers.get(key)
        if types is None:
            if len(self.servers) >= MAX_SERVERS:
                self.overflow["servers"] += 1
                return
            types = self.servers[key] = Counter()
        types[msg.msg_type_name] += 1

    def _client(self, msg: Dhcpv6Message, from_server: bool) -> _V6Client | None:
        if msg.client_duid is None:
            return None
        client = self.clients.get(msg.client_duid)
        if client is None:
            if len(self.clients) >= MAX_CLIENTS:
                self.overflow["clients"] += 1
                return None
            client = self.clients[msg.client_duid] = _V6Client(msg.client_duid, msg.ts, msg.ts)
        self._note(client, msg.ts, msg.msg_type_name, msg.uid)
        client.mac = client.mac or msg.client_mac or (None if from_server else msg.src_mac)
        if not from_server:
            client.host_name = msg.host_name or client.host_name
            client.vendor_class = msg.vendor_class or client.vendor_class
        return client

    def _advertised(self, client: _V6Client, msg: Dhcpv6Message) -> None:
        entry = client.xids.get(msg.xid)
        if entry is None:
            if len(client.xids) >= MAX_XIDS_PER_CLIENT:
                self.overflow["xids"] += 1
                del client.xids[next(iter(client.xids))]
            entry = client.xids[msg.xid] = (msg.ts, set())
        servers = entry[1]
        server = msg.server_duid or msg.src_h
        if server not in servers and len(servers) < MAX_OFFERS_PER_XID:
            servers.add(server)
            if len(servers) == 2:
                detail = f"xid 0x{msg.xid:06x} advertised by {', '.join(sorted(servers))}"
                self._finding(msg.ts, "competing_servers", client.duid, server, None, detail)
        client.xids[msg.xid] = (msg.ts, servers)

    def _reply(self, client: _V6Client, msg: Dhcpv6Message) -> tuple[str, str | None]:
        granted: list[str] = []
        for lease in msg.leases:
            if lease.valid == 0:
                client.bindings.pop(lease.addr, None)
                continue
            if lease.addr not in client.bindings and len(client.bindings) >= MAX_V6_BINDINGS_PER_CLIENT:
                self.overflow["bindings"] += 1
                continue
            expires = None if lease.valid == INFINITE_LEASE else msg.ts + lease.valid
            client.bindings[lease.addr] = _V6Binding(
                lease.kind,
                lease.iaid,
                lease.addr,
                lease.preferred,
                lease.valid,
                msg.ts,
                expires,
                msg.server_duid,
                msg.src_h,
            )
            granted.append(lease.addr)
        if msg.status is not None:
            client.status = msg.status
            self._finding(msg.ts, V6_STATUS_FINDING, client.duid, msg.server_duid, None, msg.status)
        if granted:
            client.state, client.ended = "active", None
            return "grant", ", ".join(granted)
        if msg.status is not None and not client.bindings:
            client.state = "refused"
        return "reply", None

    def _settle(self, client: _V6Client, now: float) -> None:
        if client.state != "active" or not client.bindings:
            return
        ends = [b.expires for b in client.bindings.values()]
        if any(e is None for e in ends):
            return
        last = max(e for e in ends if e is not None)
        if last < now:
            client.state, client.ended = "expired", last
            self._timeline(client, LeaseEvent(last, "-", "", "expired", None, None, None))

    def _row(self, c: _V6Client) -> Dhcpv6ClientRecord:
        return Dhcpv6ClientRecord(
            ts=c.first_ts,
            client_id=c.duid,
            mac=c.mac,
            state=c.state,
            assigned=[
                Dhcpv6BindingRecord(
                    kind=b.kind,
                    iaid=b.iaid,
                    addr=b.addr,
                    preferred_lifetime=b.preferred,
                    valid_lifetime=b.valid,
                    start=b.start,
                    expires=b.expires,
                    server_id=b.server_duid,
                    server_addr=b.server_addr,
                )
                for b in c.bindings.values()
            ],
            ended=c.ended,
            duration=c.last_ts - c.first_ts,
            msg_types=list(c.msg_types),
            host_name=c.host_name,
            client_software=c.vendor_class,
            status=c.status,
            renewals=c.counts["renewals"],
            rebinds=c.counts["rebinds"],
            confirms=c.counts["confirms"],
            releases=c.counts["releases"],
            declines=c.counts["declines"],
            informs=c.counts["informs"],
            uids=list(c.uids),
            timeline=sorted(c.timeline, key=lambda e: e.ts),
            timeline_dropped=c.timeline_dropped,
        )
