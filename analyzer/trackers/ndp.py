"""The `ndp` section: Neighbor Discovery counts and inventory (routers, bindings, DAD, RS answers).

Theory of operation
-------------------
Every `NdpMessage` is counted by type (RS, RA, NS, NA, Redirect), malformed or not; a malformed one
(fixed part cut, bad option) adds nothing else, since its fields cannot be trusted.

Routers: each RA updates its sender's row (link-local address, MAC from the source link-layer option
or the frame): flags, lifetimes, prefixes, MTU, DNS options, and the interval since its previous RA,
whose mean is compared with the 200 s the protocol notes give (`RA_NOMINAL_INTERVAL`).

Solicitations: an RS waits in `pending_rs`. An RA sent within `RS_ANSWER_WINDOW` after it, to the
soliciting address or to a multicast group, answers it (one multicast RA answers every waiting RS);
an RS still waiting after the window (at `expire`, at the next RA/RS, or at the end) went unanswered.

Bindings: address -> MAC pairs learned from NS (source + source link-layer option), NA (target +
target link-layer option, else the frame's MAC), RS/RA (source + source link-layer option) and
Redirect (target + target link-layer option). An address seen with two MACs is a conflict.

DAD: an NS from the unspecified address :: probes its target. A probe row is keyed by (target, MAC);
within `DAD_WINDOW` after the last probe, an NA for the same target from another MAC, or a probe for
the same target from another MAC, is a conflict (the address is taken). An NA with the solicited
flag clear that answers no probe is an unsolicited NA (address announcement or MAC change).

Every table is bounded (named limits below); what does not fit is counted as dropped.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from typing import Any, ClassVar

from analyzer.dissectors.ndp import NDP_TYPES, NdpMessage, PrefixInfo
from analyzer.records import to_jsonable
from analyzer.trackers.icmp import datagram_words

MAX_ROUTERS = 256
"""Routers with an inventory row; a LAN has one or two, hundreds means an RA flood."""
MAX_PREFIXES_PER_ROUTER = 32
"""Distinct prefixes remembered per router (an RA flood rotates random prefixes)."""
MAX_DNS_PER_ROUTER = 16
"""RDNSS addresses and DNSSL domains remembered per router."""
MAX_PENDING_RS = 1024
"""Router solicitations waiting for an RA at once."""
MAX_SOLICITATION_ROWS = 512
"""Resolved router solicitations listed (answered or not); more are only counted."""
MAX_BINDINGS = 4096
"""Address -> MAC bindings kept (a /22 worth of hosts)."""
MAX_MACS_PER_ADDRESS = 8
"""MACs remembered for one address; two already make a conflict."""
MAX_DAD_ROWS = 1024
"""DAD probe rows kept."""
MAX_UNSOLICITED_NA_ROWS = 512
"""Unsolicited NAs listed."""
MAX_REDIRECT_ROWS = 256
"""Redirects listed."""

RA_NOMINAL_INTERVAL = 200.0
"""Seconds between periodic RAs according to the protocol notes (RFC 4861's defaults are a random
interval between MinRtrAdvInterval 198 s and MaxRtrAdvInterval 600 s)."""
RA_INTERVAL_TOLERANCE = 0.1
"""Share of RA_NOMINAL_INTERVAL within which the mean interval counts as "about" the nominal one."""
RS_ANSWER_WINDOW = 4.0
"""Seconds an RS waits for its RA: a router answers within MIN_DELAY_BETWEEN_RAS + MAX_RA_DELAY_TIME
(3.5 s, RFC 4861), and the host sends its next RS after RTR_SOLICITATION_INTERVAL (4 s)."""
DAD_WINDOW = 5.0
"""Seconds after a DAD probe during which a defending NA means a conflict (RetransTimer 1 s times a
few DupAddrDetectTransmits, plus the initial random delay)."""

UNSPECIFIED = "::"


@dataclass(frozen=True, slots=True)
class RouterRecord:
    """A router seen sending Router Advertisements."""

    address: str
    """Its (link-local) source address."""
    mac: str | None
    """Its link-layer address (source link-layer option, else the frame's)."""
    first_seen: float
    """Time of its first RA."""
    last_seen: float
    """Time of its last RA."""
    ra_count: int
    """RAs sent."""
    solicited_ras: int
    """RAs that answered a router solicitation."""
    default_router: bool
    """Router lifetime above 0 in the last RA: hosts may use it as default router."""
    router_lifetime: int
    """Router lifetime of the last RA, seconds."""
    cur_hop_limit: int
    """Hop limit advertised (0 = unspecified)."""
    managed: bool
    """M flag: addresses from DHCPv6."""
    other_config: bool
    """O flag: other configuration from DHCPv6."""
    preference: str
    """Default router preference (RFC 4191)."""
    reachable_time: int
    """Reachable time advertised, ms."""
    retrans_timer: int
    """Retransmission timer advertised, ms."""
    mtu: int | None
    """MTU option, when sent."""
    prefixes: tuple[PrefixInfo, ...]
    """Prefixes advertised (latest values of each)."""
    rdnss: tuple[str, ...]
    """DNS servers advertised (RDNSS)."""
    dnssl: tuple[str, ...]
    """DNS search domains advertised (DNSSL)."""
    interval_count: int
    """Intervals measured between successive RAs."""
    interval_min: float | None
    """Shortest interval, seconds."""
    interval_mean: float | None
    """Mean interval, seconds."""
    interval_max: float | None
    """Longest interval, seconds."""
    nominal_interval: float
    """The interval the mean is compared with (200 s)."""
    interval_vs_nominal: str | None
    """shorter, about or longer than the nominal interval (None without an interval)."""


@dataclass(frozen=True, slots=True)
class SolicitationRecord:
    """A router solicitation and whether an RA answered it."""

    ts: float
    """When the RS was sent."""
    src: str
    """Its source (:: before the host has an address)."""
    mac: str | None
    """The soliciting host's MAC."""
    answered: bool
    """Whether an RA followed within the answer window."""
    answered_by: str | None
    """The router that answered."""
    delay: float | None
    """Seconds until the answer."""


@dataclass(frozen=True, slots=True)
class BindingRecord:
    """An IPv6 address and the link-layer address(es) it was seen with."""

    address: str
    """IPv6 address."""
    mac: str
    """Latest MAC."""
    macs: tuple[str, ...]
    """Every MAC seen for it (more than one: a conflict, a MAC change or spoofing)."""
    first_seen: float
    """First time seen."""
    last_seen: float
    """Last time seen."""
    learned_from: tuple[str, ...]
    """Message types that taught the binding (NS, NA, RS, RA, Redirect)."""
    conflict: bool
    """Seen with more than one MAC."""


@dataclass(frozen=True, slots=True)
class DadRecord:
    """A Duplicate Address Detection probe (NS from ::) and its outcome."""

    ts: float
    """First probe."""
    target: str
    """The tentative address."""
    mac: str | None
    """The probing host's MAC."""
    probes: int
    """Probes sent."""
    conflict: bool
    """Another node defended or probed the same address."""
    conflict_kind: str | None
    """defended (an NA answered) or simultaneous (another node probed too)."""
    defender: str | None
    """Source address of the defending NA (or :: of the rival probe)."""
    defender_mac: str | None
    """MAC of the defender."""
    conflict_ts: float | None
    """When the conflict was seen."""


@dataclass(frozen=True, slots=True)
class UnsolicitedNaRecord:
    """A Neighbor Advertisement nobody asked for (solicited flag clear, answering no DAD probe)."""

    ts: float
    """When it was seen."""
    src: str
    """IPv6 source."""
    dst: str
    """IPv6 destination (usually ff02::1)."""
    target: str
    """Announced address."""
    mac: str | None
    """Announced MAC (target link-layer option, else the frame's)."""
    router: bool
    """R flag."""
    override: bool
    """O flag: receivers should replace their cached MAC."""


@dataclass(frozen=True, slots=True)
class RedirectRecord:
    """An ND Redirect: a router tells a host about a better first hop."""

    ts: float
    """When it was seen."""
    uid: str
    """uid of the ICMPv6 flow."""
    router: str
    """Redirecting router."""
    host: str
    """Redirected host."""
    target: str
    """Better first hop (or the destination itself, when on-link)."""
    destination: str
    """Destination being redirected."""
    target_mac: str | None
    """Target link-layer option."""
    redirected: str | None
    """The packet that triggered it, in words."""


class _Router:
    """Mutable inventory state of one router."""

    __slots__ = (
        "count",
        "dns",
        "first",
        "icount",
        "imax",
        "imin",
        "isum",
        "last",
        "last_msg",
        "mac",
        "prefixes",
        "solicited",
    )

    def __init__(self, msg: NdpMessage) -> None:
        self.first = self.last = msg.ts
        self.last_msg = msg
        self.mac: str | None = None
        self.count = 0
        self.solicited = 0
        self.icount = 0
        self.isum = 0.0
        self.imin = float("inf")
        self.imax = 0.0
        self.prefixes: dict[str, PrefixInfo] = {}
        self.dns: tuple[dict[str, None], dict[str, None]] = ({}, {})


class _Binding:
    __slots__ = ("first", "last", "macs", "sources")

    def __init__(self, ts: float) -> None:
        self.first = self.last = ts
        self.macs: dict[str, None] = {}
        self.sources: dict[str, None] = {}


class _Dad:
    __slots__ = ("conflict", "first", "last", "probes")

    def __init__(self, ts: float) -> None:
        self.first = self.last = ts
        self.probes = 0
        self.conflict: tuple[str, str | None, str | None, float] | None = None  # kind, who, mac, ts


class _Rs:
    __slots__ = ("mac", "src", "ts")

    def __init__(self, ts: float, src: str, mac: str | None) -> None:
        self.ts, self.src, self.mac = ts, src, mac


class NdpTracker:
    """Builds the `ndp` section from NdpMessage events."""

    EVENT_TYPES: ClassVar[tuple[type, ...]] = (NdpMessage,)

    def __init__(self) -> None:
        self._by_type: Counter[str] = Counter({name: 0 for name in NDP_TYPES.values()})
        self._malformed: Counter[str] = Counter()
        self._hop_limit_not_255 = 0
        self._routers: dict[str, _Router] = {}
        self._routers_dropped = 0
        self._pending_rs: deque[_Rs] = deque()
        self._rs_evicted = 0
        self._solicitations: list[SolicitationRecord] = []
        self._solicitations_dropped = 0
        self._rs_answered = self._rs_unanswered = 0
        self._bindings: dict[str, _Binding] = {}
        self._bindings_dropped = 0
        self._dad: dict[tuple[str, str | None], _Dad] = {}
        self._latest_probe: dict[str, tuple[str, str | None]] = {}
        self._dad_dropped = 0
        self._unsolicited: list[UnsolicitedNaRecord] = []
        self._unsolicited_dropped = 0
        self._redirects: list[RedirectRecord] = []
        self._redirects_dropped = 0
        self._handlers = {
            133: self._rs,
            134: self._ra,
            135: self._ns,
            136: self._na,
            137: self._redirect,
        }

    def handle(self, msg: NdpMessage) -> None:
        self._by_type[msg.msg_name] += 1
        if msg.malformed:
            self._malformed[msg.malformed] += 1
            return
        if msg.hop_limit != 255:
            self._hop_limit_not_255 += 1
        self._resolve_rs(msg.ts)
        handler = self._handlers.get(msg.msg_type)
        if handler is not None:
            handler(msg)

    def expire(self, now: float) -> None:
        self._resolve_rs(now)

    # -- RS / RA --

    def _rs(self, msg: NdpMessage) -> None:
        mac = msg.options.source_ll or msg.l2_src
        if msg.src != UNSPECIFIED and msg.options.source_ll:
            self._bind(msg.src, msg.options.source_ll, "RS", msg.ts)
        if len(self._pending_rs) >= MAX_PENDING_RS:
            self._settle(self._pending_rs.popleft(), None, None)
            self._rs_evicted += 1
        self._pending_rs.append(_Rs(msg.ts, msg.src, mac))

    def _ra(self, msg: NdpMessage) -> None:
        ra = msg.ra
        if ra is None:
            return
        mac = msg.options.source_ll or msg.l2_src
        if msg.options.source_ll:
            self._bind(msg.src, msg.options.source_ll, "RA", msg.ts)
        answered = 0
        waiting: deque[_Rs] = deque()
        for rs in self._pending_rs:
            if msg.dst.startswith("ff") or msg.dst == rs.src:
                self._settle(rs, msg.src, msg.ts - rs.ts)
                answered += 1
            else:
                waiting.append(rs)
        self._pending_rs = waiting
        router = self._routers.get(msg.src)
        if router is None:
            if len(self._routers) >= MAX_ROUTERS:
                self._routers_dropped += 1
                return
            router = self._routers[msg.src] = _Router(msg)
        elif msg.ts >= router.last:
            gap = msg.ts - router.last
            router.icount += 1
            router.isum += gap
            router.imin = min(router.imin, gap)
            router.imax = max(router.imax, gap)
        router.count += 1
        router.solicited += bool(answered)
        router.last = max(router.last, msg.ts)
        router.last_msg = msg
        router.mac = mac or router.mac
        for prefix in msg.options.prefixes:
            if prefix.prefix in router.prefixes or len(router.prefixes) < MAX_PREFIXES_PER_ROUTER:
                router.prefixes[prefix.prefix] = prefix
        for seen, values in zip(router.dns, (msg.options.rdnss, msg.options.dnssl), strict=True):
            for value in values:
                if len(seen) < MAX_DNS_PER_ROUTER:
                    seen[value] = None

    def _resolve_rs(self, now: float) -> None:
        while self._pending_rs and now - self._pending_rs[0].ts > RS_ANSWER_WINDOW:
            self._settle(self._pending_rs.popleft(), None, None)

    def _settle(self, rs: _Rs, router: str | None, delay: float | None) -> None:
        if router is None:
            self._rs_unanswered += 1
        else:
            self._rs_answered += 1
        if len(self._solicitations) >= MAX_SOLICITATION_ROWS:
            self._solicitations_dropped += 1
            return
        self._solicitations.append(
            SolicitationRecord(rs.ts, rs.src, rs.mac, router is not None, router, delay)
        )

    # -- NS / NA --

    def _ns(self, msg: NdpMessage) -> None:
        if msg.target is None:
            return
        if msg.src != UNSPECIFIED:
            if msg.options.source_ll:
                self._bind(msg.src, msg.options.source_ll, "NS", msg.ts)
            return
        self._probe(msg.target, msg.l2_src, msg.ts)

    def _probe(self, target: str, mac: str | None, ts: float) -> None:
        key = (target, mac)
        dad = self._dad.get(key)
        if dad is None:
            if len(self._dad) >= MAX_DAD_ROWS:
                self._dad_dropped += 1
                return
            dad = self._dad[key] = _Dad(ts)
        rival_key = self._latest_probe.get(target)
        if rival_key is not None and rival_key != key:
            rival = self._dad[rival_key]
            if ts - rival.last <= DAD_WINDOW:
                if rival.conflict is None:
                    rival.conflict = ("simultaneous", UNSPECIFIED, mac, ts)
                if dad.conflict is None:
                    dad.conflict = ("simultaneous", UNSPECIFIED, rival_key[1], ts)
        dad.probes += 1
        dad.last = ts
        self._latest_probe[target] = key

    def _na(self, msg: NdpMessage) -> None:
        na, target = msg.na, msg.target
        if na is None or target is None:
            return
        mac = msg.options.target_ll or msg.l2_src
        if mac:
            self._bind(target, mac, "NA", msg.ts)
        probe_key = self._latest_probe.get(target)
        if probe_key is not None:
            dad = self._dad[probe_key]
            if msg.ts - dad.last <= DAD_WINDOW and mac != probe_key[1]:
                if dad.conflict is None:
                    dad.conflict = ("defended", msg.src, mac, msg.ts)
                return
        if not na.solicited:
            if len(self._unsolicited) >= MAX_UNSOLICITED_NA_ROWS:
                self._unsolicited_dropped += 1
                return
            self._unsolicited.append(
                UnsolicitedNaRecord(msg.ts, msg.src, msg.dst, target, mac, na.router, na.override)
            )

    # -- Redirect --

    def _redirect(self, msg: NdpMessage) -> None:
        if msg.target is None or msg.destination is None:
            return
        if msg.options.target_ll:
            self._bind(msg.target, msg.options.target_ll, "Redirect", msg.ts)
        if len(self._redirects) >= MAX_REDIRECT_ROWS:
            self._redirects_dropped += 1
            return
        quoted = msg.options.redirected
        redirected = None
        if quoted is not None:
            redirected = datagram_words(quoted.proto, quoted.src, quoted.sport, quoted.dst, quoted.dport)
        self._redirects.append(
            RedirectRecord(
                msg.ts,
                msg.uid,
                msg.src,
                msg.dst,
                msg.target,
                msg.destination,
                msg.options.target_ll,
                redirected,
            )
        )

    # -- bindings --

    def _bind(self, address: str, mac: str, source: str, ts: float) -> None:
        binding = self._bindings.get(address)
        if binding is None:
            if len(self._bindings) >= MAX_BINDINGS:
                self._bindings_dropped += 1
                return
            binding = self._bindings[address] = _Binding(ts)
        binding.last = max(binding.last, ts)
        if mac in binding.macs:
            del binding.macs[mac]  # re-insert: the dict's last key is the latest MAC
            binding.macs[mac] = None
        elif len(binding.macs) < MAX_MACS_PER_ADDRESS:
            binding.macs[mac] = None
        binding.sources[source] = None

    # -- output --

    def finish(self) -> dict[str, Any]:
        while self._pending_rs:
            self._settle(self._pending_rs.popleft(), None, None)
        section = {
            "by_type": dict(self._by_type),
            "routers": [self._router_record(addr, r) for addr, r in self._routers.items()],
            "routers_dropped": self._routers_dropped,
            "solicitations": self._solicitations,
            "solicitations_dropped": self._solicitations_dropped,
            "rs_answered": self._rs_answered,
            "rs_unanswered": self._rs_unanswered,
            "rs_evicted": self._rs_evicted,
            "bindings": [
                BindingRecord(
                    address=addr,
                    mac=next(reversed(b.macs)),
                    macs=tuple(b.macs),
                    first_seen=b.first,
                    last_seen=b.last,
                    learned_from=tuple(b.sources),
                    conflict=len(b.macs) > 1,
                )
                for addr, b in self._bindings.items()
            ],
            "bindings_dropped": self._bindings_dropped,
            "dad": [self._dad_record(key, d) for key, d in self._dad.items()],
            "dad_dropped": self._dad_dropped,
            "unsolicited_na": self._unsolicited,
            "unsolicited_na_dropped": self._unsolicited_dropped,
            "redirects": self._redirects,
            "redirects_dropped": self._redirects_dropped,
            "hop_limit_not_255": self._hop_limit_not_255,
            "malformed": dict(self._malformed.most_common()),
        }
        return {"ndp": to_jsonable(section)}

    @staticmethod
    def _router_record(address: str, r: _Router) -> RouterRecord:
        ra = r.last_msg.ra
        assert ra is not None  # only RAs create routers
        intervals = r.icount
        mean = r.isum / intervals if intervals > 0 else None
        verdict = None
        if mean is not None:
            low = RA_NOMINAL_INTERVAL * (1 - RA_INTERVAL_TOLERANCE)
            high = RA_NOMINAL_INTERVAL * (1 + RA_INTERVAL_TOLERANCE)
            verdict = "shorter" if mean < low else "longer" if mean > high else "about"
        return RouterRecord(
            address=address,
            mac=r.mac,
            first_seen=r.first,
            last_seen=r.last,
            ra_count=r.count,
            solicited_ras=r.solicited,
            default_router=ra.router_lifetime > 0,
            router_lifetime=ra.router_lifetime,
            cur_hop_limit=ra.cur_hop_limit,
            managed=ra.managed,
            other_config=ra.other_config,
            preference=ra.preference,
            reachable_time=ra.reachable_time,
            retrans_timer=ra.retrans_timer,
            mtu=r.last_msg.options.mtu,
            prefixes=tuple(r.prefixes.values()),
            rdnss=tuple(r.dns[0]),
            dnssl=tuple(r.dns[1]),
            interval_count=intervals,
            interval_min=r.imin if intervals > 0 else None,
            interval_mean=mean,
            interval_max=r.imax if intervals > 0 else None,
            nominal_interval=RA_NOMINAL_INTERVAL,
            interval_vs_nominal=verdict,
        )

    @staticmethod
    def _dad_record(key: tuple[str, str | None], d: _Dad) -> DadRecord:
        kind, who, mac, when = d.conflict if d.conflict is not None else (None, None, None, None)
        return DadRecord(
            ts=d.first,
            target=key[0],
            mac=key[1],
            probes=d.probes,
            conflict=d.conflict is not None,
            conflict_kind=kind,
            defender=who,
            defender_mac=mac,
            conflict_ts=when,
        )


__all__ = [
    "DAD_WINDOW",
    "RA_NOMINAL_INTERVAL",
    "RS_ANSWER_WINDOW",
    "BindingRecord",
    "DadRecord",
    "NdpTracker",
    "RedirectRecord",
    "RouterRecord",
    "SolicitationRecord",
    "UnsolicitedNaRecord",
]
