"""The pipeline: frames in, Summary out. The one place where `Malformed` becomes a counted weird.

Theory of operation
-------------------
For each frame: decode the headers, count the frame and its protocol layers, find its flow, and hand
the payload to whoever wants it:

- UDP: the datagram parser of the flow's service (chosen once, by port, when the flow is created;
  the first datagrams may then name a flow the port did not, by payload signature, see classify.py);
- UDP with state across datagrams (QUIC): a per-flow dissector fed each datagram whole, attached
  when the flow is created, by port or by the first datagram's signature (`registry.UDP_SIGNATURES`);
- ICMP/ICMPv6: the ICMP parser;
- TCP: at the first payload of a direction the flow is classified (port proposes, payload confirms).
  A flow whose service has a stream dissector gets one, with a reassembler started at the ISN seen
  in the SYN; from then on every segment goes through the reassembler and the in-order bytes and
  gaps reach the dissector. A flow nobody wants costs a header decode and counters, nothing more.

Events from dissectors are routed by type to the trackers that declared them. `Malformed` raised by a
dissector is counted by reason in `malformed` and recorded in a bounded weird list; a stream
dissector that raised is detached from its flow. Any other exception is a bug and propagates.

Flows end by idle expiry (packet time), by eviction when the table is full, or at the end of each
input file; then their dissector is flushed and closed and a ConnRecord goes to the trackers (a flow
no payload named takes its port's proposal then).
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from analyzer import registry
from analyzer.capture import linktype_name, open_capture
from analyzer.capture.reader import RawRecord
from analyzer.classify import classify, classify_datagram, port_only, port_service
from analyzer.decode import ICMP, ICMPV6, TCP, TEREDO_PORT, UDP, Decoder, Packet, ip_text
from analyzer.decode.tunnels import UDP_TUNNEL_PORTS
from analyzer.dissectors.base import ExpectedConnection
from analyzer.errors import CaptureError, Malformed
from analyzer.flows import FAST_LAYOUTS, FastPath, Flow, FlowTable, plain_ipv4_proto
from analyzer.frozen import interpreted_inits
from analyzer.ports import udp_port_service
from analyzer.signatures import RTP_HEADER, is_rtp_header, rtp_pair
from analyzer.summary import CoreCounts, Summary
from analyzer.tcp import Delivery, Gap, TcpReassembler
from analyzer.trackers.conn import ConnRecord
from analyzer.trackers.tunnels import tunnel_flows, tunnel_uid

MAX_RTP_CANDIDATES: Final = 4096
"""UDP flows whose first datagram looked like RTP, waiting for a second to agree (bounded: beyond
it a flow is not tried as RTP)."""
MAX_WEIRDS: Final = 1000
"""Malformed/weird entries kept with their details (all are counted by reason regardless)."""
MAX_EXPECTATIONS: Final = 1024
"""Announced connections (FTP data channels) waiting to show up; oldest dropped beyond this."""
EXPECTATION_TIMEOUT: Final = 300.0
"""Seconds of packet time an announced connection stays expected."""
CLASSIFY_TRIES: Final = 2
"""First payloads (one per direction) looked at before a TCP flow is left unclassified."""
PROGRESS_EVERY: Final = 65536
"""Frames between two progress callbacks."""
TRACKER_TICK: Final = 10.0
"""Seconds of packet time between two `expire(now)` calls to the trackers."""
MAX_OWNER_CACHE: Final = 1 << 18
"""Worker mode: host pairs whose owner is remembered (a cache; beyond it the hash is recomputed)."""
_FIN_RST: Final = 0x01 | 0x04


def _is_plain_ipv4_end_host(data: bytes, at: int, end: int) -> bool:
    """A plain IPv4 TCP, UDP (not Teredo) or ICMP packet in `data[at:end]`: its outer addresses are the
    ones `_owns` decides by, so a worker can skip it unread when they belong to another worker.
    Tunnels and fragments are always decoded."""
    proto = plain_ipv4_proto(data, at, end)
    if proto == 17:
        return (
            end - at >= 42
            and data[at + 34 : at + 36] != _TEREDO
            and data[at + 36 : at + 38] != _TEREDO
            and data[at + 34 : at + 36] not in _UDP_TUNNEL_PORTS
            and data[at + 36 : at + 38] not in _UDP_TUNNEL_PORTS
        )
    return proto == 6 or proto == 1


_TEREDO: Final = TEREDO_PORT.to_bytes(2, "big")
_UDP_TUNNEL_PORTS: Final = frozenset(p.to_bytes(2, "big") for p in UDP_TUNNEL_PORTS)
"""Ports of UDP tunnels (VXLAN, Geneve, GTP-U): a worker must decode them, the inner addresses decide."""


def _reassembler_of(flow: Flow) -> TcpReassembler | None:
    """`flow.reassembler` as it is now. Read through a call where a call before may have changed it:
    mypy keeps an attribute narrowed across calls, and mypyc would enforce that narrowed type."""
    return flow.reassembler


def _owner(a: bytes, b: bytes, parts: int) -> int:
    """The worker (of `parts`) that owns the unordered host pair (a, b)."""
    return zlib.crc32(a + b if a <= b else b + a) % parts


@dataclass(frozen=True, slots=True, init=False)
class Weird:
    """One malformed thing seen, Zeek weird.log style."""

    @staticmethod
    def log_path() -> str:
        """Zeek log (`_path`) of this event in `events`."""
        return "weird"

    @staticmethod
    def log_renames() -> tuple[tuple[str, str], ...]:
        """Fields renamed to the names weird.log uses."""
        return (("detail", "addl"),)

    ts: float
    """When it was seen."""
    uid: str | None
    """The flow it belongs to, if any."""
    name: str
    """The malformed reason (e.g. dns.name_loop)."""
    detail: str
    """Free-form detail (Zeek's addl)."""

    def __init__(self, ts: float, uid: str | None, name: str, detail: str) -> None:
        self.ts = ts  # type: ignore[misc]
        self.uid = uid  # type: ignore[misc]
        self.name = name  # type: ignore[misc]
        self.detail = detail  # type: ignore[misc]


@dataclass(slots=True)
class FileStats:
    """Per-input-file facts for the capture section."""

    path: str
    format: str | None = None
    byte_order: str | None = None
    compressed: bool = False
    packets: int = 0
    bytes: int = 0
    first_ts: float | None = None
    last_ts: float | None = None
    link_types: Counter[str] = field(default_factory=Counter)
    error: str | None = None
    error_offset: int | None = None
    file_size: int | None = None
    """Bytes of the file as stored (compressed, when gzip), as capinfos' "File size"."""
    interfaces: list[dict[str, Any]] = field(default_factory=list)
    """Capturing interfaces declared by the file: name, link_type, snaplen (0: no limit declared)."""


def _note_interfaces(stats: FileStats, reader: Any) -> None:
    """Copy the reader's interfaces and file size onto the file's stats (capinfos' capture facts)."""
    stats.file_size = reader.total_bytes if reader.total_bytes is not None else reader.bytes_consumed
    stats.interfaces = [
        {"name": i.name, "link_type": linktype_name(i.linktype), "snaplen": i.snaplen}
        for i in reader.interfaces
    ]


class Pipeline:
    """Holds all analysis state for one run (one or several files, or a live capture)."""

    def __init__(
        self,
        event_sink: Callable[[object], None] | None = None,
        partition: tuple[int, int] | None = None,
        fast_path: bool = True,
        trackers: bool = True,
    ) -> None:
        self.event_sink = event_sink
        """Receives every event, record and weird as it is produced (for `pcap-analyzer events`)."""
        self.partition = partition
        """(k, n): analyse only the packets of host pairs whose hash is k modulo n (a --jobs worker)."""
        self._owner_cache: dict[bytes, bool] = {}
        """Worker mode: IPv4 address pair bytes (as in the frame) -> whether this worker owns them."""
        self.frame_no = 0
        """Index of the frame being processed, counted over all input files (orders merged events)."""
        self.now = 0.0
        """Packet time of the frame being processed."""
        self._next_tick = float("-inf")
        self.fragment_counts: dict[str, int] | None = None
        self.tolerated = registry.TOLERATED_MALFORMED
        """Event types carrying tolerated malformations; a --jobs worker leaves them to the parent."""
        if not trackers:  # a --jobs worker: the parent runs the trackers and counts the tolerated
            self.tolerated = {}
        self.decoder = Decoder()
        self.flows = FlowTable()
        self._layer_paths: dict[tuple[str, ...], int] = {}
        """Frames by the protocol layers they crossed, outermost first (`protocols` adds them up:
        one dict update per frame instead of one per layer)."""
        self.malformed: Counter[str] = Counter()
        self.weirds: list[Weird] = []
        self.link_types: Counter[str] = Counter()
        self.packets = 0
        self.bytes = 0
        self.first_ts: float | None = None
        self.last_ts: float | None = None
        self.files: list[FileStats] = []
        self._expected: dict[tuple[str, int], ExpectedConnection] = {}
        self._fast = FastPath(CLASSIFY_TRIES)
        """Frames of undissected Ethernet/IPv4/TCP flows counted without decoding (flows.FastPath)."""
        self.fast_path = fast_path
        """False: every frame takes the per-frame path and every byte reaches its dissector, none is
        skipped (the fast path's and the skip zones' equality test)."""
        self._rtp_first: dict[str, bytes] = {}
        """UDP flow uid -> RTP header of its first datagram, until its second datagram arrives."""
        self._linktype_names: dict[int, str] = {}
        self._file_first: float | None = None
        self._file_last: float | None = None
        self.trackers = [cls() for cls in registry.TRACKERS] if trackers else []
        self._routes: dict[type, list[Any]] = {}
        for tracker in self.trackers:
            for etype in tracker.EVENT_TYPES:
                self._routes.setdefault(etype, []).append(tracker)

    # -- input --

    def run_file(self, path: str, progress: Callable[[int, int | None], None] | None = None) -> FileStats:
        """Analyse one capture file; a CaptureError is recorded on the returned FileStats."""
        stats = FileStats(path)
        self.files.append(stats)
        packets0, bytes0, links0 = self.packets, self.bytes, Counter(self.link_types)
        self._file_first = self._file_last = None
        try:
            with open_capture(path) as reader:
                stats.format = reader.info.format
                stats.byte_order = reader.info.byte_order
                stats.compressed = reader.info.compressed
                try:
                    self._run(reader.raw_records(), reader, progress)
                finally:
                    self._count_skipped(reader.skipped)
                    _note_interfaces(stats, reader)
        except CaptureError as exc:
            stats.error, stats.error_offset = exc.message, exc.offset
        self.end_of_input()
        stats.packets, stats.bytes = self.packets - packets0, self.bytes - bytes0
        stats.link_types = self.link_types - links0
        stats.first_ts, stats.last_ts = self._file_span()
        return stats

    def _file_span(self) -> tuple[float | None, float | None]:
        # Read through a call: mypy keeps `self._file_first` narrowed to None from the assignment
        # above across `_run`, and mypyc (setup.py) would trust that narrowing at run time.
        return self._file_first, self._file_last

    def _run(
        self,
        records: Iterable[RawRecord],
        reader: Any,
        progress: Callable[[int, int | None], None] | None,
    ) -> None:
        """The hot loop, over frames still in the reader's buffer (`RawRecord`). Frames of flows that
        no dissector wants take the fast path (`flows.FastPath.count`) when they come in time order,
        before the next expiry sweep: they only update their flow's counters, without being copied
        out of the buffer. Everything else is copied and goes through `process`."""
        fast = self._fast
        fast_entries = fast.entries
        fast_layouts0 = list(fast.layout_frames)
        flows = self.flows
        owner_cache = self._owner_cache
        part_k, part_n = self.partition or (0, 0)
        base = self.frame_no
        fast0, fast_bytes0 = fast.frames, fast.wire_bytes
        n = 0
        last_was_fast = False
        try:
            for ts, linktype, buf, at, end, wirelen, iface in records:
                n += 1
                if progress is not None and n % PROGRESS_EVERY == 0:
                    progress(reader.bytes_consumed, reader.total_bytes)
                if part_n and linktype == 1 and _is_plain_ipv4_end_host(buf, at, end):
                    pair = buf[at + 26 : at + 34]
                    mine = owner_cache.get(pair)
                    if mine is None:
                        mine = _owner(pair[:4], pair[4:], part_n) == part_k
                        if len(owner_cache) < MAX_OWNER_CACHE:
                            owner_cache[pair] = mine
                    if not mine:
                        continue  # another worker's host pair: not even decoded
                if (
                    linktype == 1
                    and fast_entries
                    and self._file_last is not None
                    and self._file_last <= ts < flows.next_sweep
                    and fast.count(buf, at, end, ts, wirelen)
                ):
                    self._file_last = ts
                    last_was_fast = True
                    continue
                last_was_fast = False
                self.frame_no = base + n
                self.process(ts, linktype, buf[at:end], wirelen, iface)
        finally:
            self.frame_no = base + n
            fast_n = fast.frames - fast0
            if fast_n:
                self.packets += fast_n
                self.bytes += fast.wire_bytes - fast_bytes0
                self.link_types["EN10MB"] += fast_n
                for layers, before, after in zip(
                    FAST_LAYOUTS, fast_layouts0, fast.layout_frames, strict=True
                ):
                    if after > before:
                        self._layer_paths[layers] = self._layer_paths.get(layers, 0) + after - before
                if self.last_ts is None or (self._file_last is not None and self._file_last > self.last_ts):
                    self.last_ts = self._file_last
            if last_was_fast and self._file_last is not None:
                self.now = self._file_last  # as if the last frame had gone through `process`

    def process(self, ts: float, linktype: int, data: bytes, wirelen: int, interface: int = 0) -> None:
        """Analyse one frame."""
        pkt = self.decoder.decode(ts, linktype, data, wirelen, interface)
        if self.partition is not None and not self._owns(pkt):
            return
        self.now = ts
        self.packets += 1
        self.bytes += wirelen
        name = self._linktype_names.get(linktype)
        if name is None:
            name = self._linktype_names[linktype] = linktype_name(linktype)
        self.link_types[name] += 1
        if self.first_ts is None or ts < self.first_ts:
            self.first_ts = ts
        if self.last_ts is None or ts > self.last_ts:
            self.last_ts = ts
        if self._file_first is None or ts < self._file_first:
            self._file_first = ts
        if self._file_last is None or ts > self._file_last:
            self._file_last = ts
        path = tuple(pkt.layers)
        self._layer_paths[path] = self._layer_paths.get(path, 0) + 1
        if pkt.malformed is not None:
            self._weird(ts, None, pkt.malformed, "")
        proto = pkt.proto
        if pkt.payload_end == 0 or proto not in (TCP, UDP, ICMP, ICMPV6):
            if pkt.carrier:  # SMB over NetBIOS Frames or IPX: no IP, no flow
                self._carried(pkt)
            return  # no transport header decoded
        if self.flows.due(ts):
            self._expire(ts)
        flow, from_orig, evicted = self.flows.find(pkt)
        for old in evicted:
            self._close_flow(old, ts)
        if flow.orig_pkts == 0 and flow.resp_pkts == 0:
            self._new_flow(flow, pkt)
        flow.update(pkt, from_orig)
        pkt.flow = flow
        if proto == TCP:
            if flow.reassembler is not None or (pkt.payload_len and flow.classify_tries < CLASSIFY_TRIES):
                self._tcp(flow, pkt, from_orig)
                if flow.reassembler is not None and pkt.tcp_flags & _FIN_RST and flow.closed:
                    self._end_stream(flow)
            if self.fast_path and linktype == 1 and not pkt.tunnels:
                self._fast.learn(data, pkt.layers, flow, from_orig)
        elif proto == UDP:
            if pkt.payload_len and flow.classify_tries < CLASSIFY_TRIES:
                self._classify_datagram(flow, pkt.payload, from_orig)
            if flow.dissector is not None:  # a per-flow UDP dissector (QUIC): one datagram per feed
                self._deliver(flow, ((from_orig, pkt.payload),), pkt.ts)
                return
            parser = registry.DATAGRAM_PARSERS.get(flow.service or "")
            if parser is not None:
                self._datagram(parser, pkt, flow)
        else:
            icmp_parser = registry.ICMP_PARSERS.get(proto)
            if icmp_parser is not None:
                self._datagram(icmp_parser, pkt, flow)

    # -- flows --

    def _owns(self, pkt: Packet) -> bool:
        """Worker mode: whether this worker analyses `pkt`. Packets are split by their unordered pair
        of IP addresses, so a flow, and an FTP control channel with its data channels, stay whole in
        one worker; frames without IP go to worker 0."""
        k, n = self.partition or (0, 1)
        if not pkt.src_ip:
            return k == 0
        return _owner(pkt.src_ip, pkt.dst_ip, n) == k

    def _carried(self, pkt: Packet) -> None:
        """A frame whose payload travels without IP (SMB over NetBIOS Frames or IPX)."""
        parser = registry.CARRIER_PARSERS.get(pkt.carrier)
        if parser is None:
            return
        try:
            events = parser(pkt.payload, pkt)
        except Malformed as exc:
            self._weird(pkt.ts, None, exc.reason, exc.detail)
            return
        self._route(events)

    def _tunnelled(self, flow: Flow, pkt: Packet) -> None:
        """A new flow seen inside tunnels: record its tunnel parents (Zeek's tunnel.log)."""
        flow.tunnel_parents = tuple(tunnel_uid(h) for h in pkt.tunnels)
        self._route(list(tunnel_flows(pkt.ts, pkt.tunnels, flow.uid)))

    def _new_flow(self, flow: Flow, pkt: Packet) -> None:
        if pkt.tunnels:
            self._tunnelled(flow, pkt)
        if flow.proto == UDP:
            svc = registry.UDP_SERVICES.get(flow.resp_port) or registry.UDP_SERVICES.get(flow.orig_port)
            if svc:
                flow.service, flow.service_how = svc, "port"
            self._attach_udp(flow, pkt)
        elif flow.proto == TCP and self._expected:
            exp = self._expected.pop((flow.resp_h, flow.resp_port), None)
            if exp is None:  # active FTP: the announced side connects out
                exp = self._expected.pop((flow.orig_h, flow.orig_port), None)
            if exp is not None:
                flow.service, flow.service_how, flow.parent_uid = exp.service, "expected", exp.parent_uid
                self._attach(flow, exp.service)

    def _attach_udp(self, flow: Flow, pkt: Packet) -> None:
        """A new UDP flow whose protocol keeps state across datagrams gets its per-flow dissector:
        by port, or on any port where the first datagram carries the protocol's signature."""
        if flow.service is None:
            payload = pkt.payload
            for name, looks_like in registry.UDP_SIGNATURES.items():
                if looks_like(payload):
                    flow.service, flow.service_how = name, "payload"
                    break
        factory = registry.UDP_DISSECTORS.get(flow.service or "")
        if factory is not None:
            flow.dissector = factory(flow)

    def _attach(self, flow: Flow, service: str) -> bool:
        """Give `flow` the stream dissector of `service` and a reassembler; False if it has none."""
        factory = registry.STREAM_DISSECTORS.get(service)
        if factory is None:
            return False
        flow.dissector = factory(flow)
        flow.reassembler = TcpReassembler()
        if flow.isn_orig is not None:
            flow.reassembler.segment(True, flow.isn_orig, b"", 0x02)
        if flow.isn_resp is not None:
            flow.reassembler.segment(False, flow.isn_resp, b"", 0x02)
        return True

    def _tcp(self, flow: Flow, pkt: Packet, from_orig: bool) -> None:
        if flow.reassembler is None:
            flow.classify_tries += 1
            payload = pkt.payload
            proposed = port_service(flow.orig_port, flow.resp_port)
            service, how = classify(proposed, payload, from_orig)
            if service is None:
                return
            flow.service, flow.service_how = service, how
            if not self._attach(flow, service):
                if how != "port":  # a port-only label may still be confirmed by the other side
                    flow.classify_tries = CLASSIFY_TRIES  # labelled, but nobody dissects it
                return
        reassembler = flow.reassembler
        if reassembler is None:  # `_attach` gave the flow one; mypy cannot see through the call
            return
        try:
            deliveries = reassembler.segment(from_orig, pkt.seq, pkt.payload, pkt.tcp_flags)
        except Malformed as exc:
            self._weird(pkt.ts, flow.uid, exc.reason, exc.detail)
            return
        if not deliveries:
            return
        self._deliver(flow, ((from_orig, d) for d in deliveries), pkt.ts)
        dissector = flow.dissector
        if dissector is not None and flow.reassembler is reassembler and self.fast_path:
            side = reassembler.client if from_orig else reassembler.server
            if not side.skipping:  # DESIGN rule 11: bytes the dissector will not read are swallowed
                side.skip(dissector.opaque(from_orig))

    def _classify_datagram(self, flow: Flow, payload: bytes, from_orig: bool) -> None:
        """Name a UDP flow by its first datagrams (its port proposed a service when it was created).
        A port whose service has a datagram parser keeps it, as tshark dissects by port."""
        flow.classify_tries += 1
        proposed = udp_port_service(flow.orig_port, flow.resp_port)
        service, how = classify_datagram(proposed, payload, from_orig)
        if how in (None, "port"):  # RTP is told by two datagrams that agree, not by one
            first = self._rtp_first.pop(flow.uid, None)
            if first is not None and rtp_pair(first, payload):
                service, how = "rtp", "payload"
            elif (
                flow.classify_tries == 1
                and is_rtp_header(payload)
                and len(self._rtp_first) < MAX_RTP_CANDIDATES
            ):
                self._rtp_first[flow.uid] = payload[:RTP_HEADER]
        keeps = flow.service in registry.DATAGRAM_PARSERS or flow.dissector is not None
        if service is None or (keeps and service != flow.service):
            return  # a flow already parsed as its port's service (or given a dissector) keeps it
        flow.service, flow.service_how = service, how
        if how != "port":
            flow.classify_tries = CLASSIFY_TRIES
        factory = registry.UDP_DISSECTORS.get(service)
        if factory is not None and flow.dissector is None:  # named by payload on an odd port (QUIC)
            flow.dissector = factory(flow)

    def _deliver(self, flow: Flow, deliveries: Iterable[tuple[bool, Delivery]], ts: float) -> None:
        dissector = flow.dissector
        for from_orig, item in deliveries:
            if dissector is None:
                return
            try:
                if isinstance(item, bytes):
                    events = dissector.feed(item, from_orig, ts)
                elif isinstance(item, Gap):
                    events = dissector.gap(item.size, from_orig, ts)
                else:
                    events = dissector.skipped(item.size, from_orig, ts)
            except Malformed as exc:
                self._weird(ts, flow.uid, exc.reason, exc.detail)
                flow.dissector = dissector = None
                flow.reassembler = None
                flow.classify_tries = CLASSIFY_TRIES  # detached for good: never re-attached mid-stream
                return
            self._route(events)

    def _datagram(self, parser: Callable[[bytes, Packet], list[Any]], pkt: Packet, flow: Flow) -> None:
        try:
            events = parser(pkt.payload, pkt)
        except Malformed as exc:
            self._weird(pkt.ts, flow.uid, exc.reason, exc.detail)
            return
        self._route(events)

    def _end_stream(self, flow: Flow) -> None:
        """Flush the reassembler and close the dissector: when the flow ends, or as soon as both
        sides closed it (FIN/RST), so the heavy per-stream state of many short connections does not
        wait for the flow's linger time. Late segments are then counted, no longer dissected."""
        if flow.reassembler is not None:
            self._deliver(flow, flow.reassembler.flush(), flow.last_ts)
            reassembler = _reassembler_of(flow)  # `_deliver` detaches it when the dissector fails
            if reassembler is not None:
                flow.missed_bytes += reassembler.client.missed_bytes + reassembler.server.missed_bytes
                self._reassembly_weirds(flow)
        if flow.dissector is not None:
            try:
                self._route(flow.dissector.close(flow.last_ts))
            except Malformed as exc:
                self._weird(flow.last_ts, flow.uid, exc.reason, exc.detail)
        flow.dissector = flow.reassembler = None
        flow.classify_tries = CLASSIFY_TRIES

    def _close_flow(self, flow: Flow, now: float) -> None:
        if self._fast:
            self._fast.forget(flow)
        self._end_stream(flow)
        if self._rtp_first:
            self._rtp_first.pop(flow.uid, None)
        if flow.service is None:  # no payload named it: its port may still propose a service
            flow.service, flow.service_how = port_only(flow.proto_name, flow.orig_port, flow.resp_port)
        missed = flow.missed_bytes
        self._route(
            [
                ConnRecord(
                    ts=flow.first_ts,
                    uid=flow.uid,
                    orig_h=flow.orig_h,
                    orig_p=flow.orig_port,
                    resp_h=flow.resp_h,
                    resp_p=flow.resp_port,
                    proto=flow.proto_name,
                    service=flow.service,
                    service_how=flow.service_how,
                    duration=flow.duration,
                    orig_bytes=flow.orig_bytes,
                    resp_bytes=flow.resp_bytes,
                    conn_state=flow.conn_state,
                    missed_bytes=missed,
                    history=flow.history,
                    orig_pkts=flow.orig_pkts,
                    orig_ip_bytes=flow.orig_ip_bytes,
                    resp_pkts=flow.resp_pkts,
                    resp_ip_bytes=flow.resp_ip_bytes,
                    parent_uid=flow.parent_uid,
                    tunnel_parents=flow.tunnel_parents,
                )
            ]
        )

    def _expire(self, now: float) -> None:
        for flow in self.flows.sweep(now):
            self._close_flow(flow, now)
        stale = [k for k, e in self._expected.items() if now - e.ts > EXPECTATION_TIMEOUT]
        for k in stale:
            del self._expected[k]

    def end_of_input(self) -> None:
        """Close every live flow (end of a file or of a live capture)."""
        now = self.last_ts or 0.0
        for flow in self.flows.drain():
            self._close_flow(flow, now)

    # -- events --

    def _route(self, events: list[Any]) -> None:
        if not events:
            return
        if self.now >= self._next_tick:  # trackers expire by packet time, on the event stream's clock
            self._next_tick = self.now + TRACKER_TICK
            for tracker in self.trackers:
                tracker.expire(self.now)
        sink = self.event_sink
        tolerated = self.tolerated
        for event in events:
            if sink is not None:
                sink(event)
            noted = tolerated.get(type(event))
            if noted is not None:
                for reason, detail in noted(event):
                    ts = getattr(event, "ts", self.now)
                    self._note(Weird(ts, getattr(event, "uid", None), reason, detail))
            if isinstance(event, ExpectedConnection):
                self._expect(event)
                continue
            for tracker in self._routes.get(type(event), ()):
                tracker.handle(event)

    def _expect(self, exp: ExpectedConnection) -> None:
        if len(self._expected) >= MAX_EXPECTATIONS:
            del self._expected[next(iter(self._expected))]
        self._expected[(exp.resp_h, exp.resp_p)] = exp

    def _count_skipped(self, skipped: dict[str, int]) -> None:
        """Blocks the reader skipped with intact framing (pcapng.unknown_interface, ...) become weirds.
        In --jobs mode every worker reads every block, so only worker 0 counts them."""
        if self.partition is not None and self.partition[0] != 0:
            return
        for reason, count in skipped.items():
            self._weird(self._file_last or 0.0, None, reason, f"{count} blocks skipped")
            self.malformed[reason] += count - 1  # one weird entry, every skipped block counted

    def _reassembly_weirds(self, flow: Flow) -> None:
        """Report, once per direction, what reassembly of a dissected TCP flow had to tolerate."""
        assert flow.reassembler is not None
        for side, name in ((flow.reassembler.client, "client"), (flow.reassembler.server, "server")):
            if side.overlap_conflicts:
                self._weird(
                    flow.last_ts,
                    flow.uid,
                    "tcp.overlap_conflict",
                    f"{name}: {side.overlap_conflicts} segments",
                )
            if side.buffer_limit_hits:
                self._weird(
                    flow.last_ts,
                    flow.uid,
                    "tcp.buffer_limit",
                    f"{name}: {side.buffer_limit_hits} holes skipped at MAX_BUFFERED_*_PER_DIRECTION",
                )

    def _weird(self, ts: float, uid: str | None, name: str, detail: str) -> None:
        weird = Weird(ts, uid, name, detail)
        self._note(weird)
        if self.event_sink is not None:
            self.event_sink(weird)

    def _note(self, weird: Weird) -> None:
        """Count a malformation by reason and keep its details (bounded)."""
        self.malformed[weird.name] += 1
        if len(self.weirds) < MAX_WEIRDS:
            self.weirds.append(weird)

    # -- output --

    @property
    def protocols(self) -> Counter[str]:
        """Frames by protocol layer, each layer counted once per frame, in the order first seen."""
        counts: Counter[str] = Counter()
        for path, frames in self._layer_paths.items():
            for name in dict.fromkeys(path):
                counts[name] += frames
        return counts

    @property
    def fast_path_frames(self) -> int:
        """Frames counted by the fast path so far (they are also in `packets`)."""
        return self._fast.frames

    def fragment_stats(self) -> dict[str, int]:
        """IP fragment reassembly counters (merged counts override them in a --jobs parent)."""
        if self.fragment_counts is not None:
            return dict(self.fragment_counts)
        fr = self.decoder.fragments
        return {
            "reassembled": fr.reassembled,
            "expired": fr.expired,
            "evicted": fr.evicted,
            "overlaps": fr.overlaps,
            "incomplete_at_end": fr.pending,
        }

    def replay(self, event: object) -> None:
        """Route one event that a --jobs worker produced (in frame order) to the trackers. A worker's
        weird is kept with its details (bounded) but not counted again: the worker counted it."""
        if isinstance(event, Weird):
            if len(self.weirds) < MAX_WEIRDS:
                self.weirds.append(event)
        elif not isinstance(event, ExpectedConnection):  # already acted on inside the worker
            self._route([event])

    def finish_trackers(self) -> dict[str, Any]:
        """Finish every tracker; their sections, merged (call once)."""
        sections: dict[str, Any] = {}
        for tracker in self.trackers:
            sections.update(tracker.finish())
        return sections

    def core_counts(self) -> CoreCounts:
        """This pipeline's own counters, for `Summary.build`."""
        return CoreCounts(
            files=self.files,
            packets=self.packets,
            bytes=self.bytes,
            first_ts=self.first_ts,
            last_ts=self.last_ts,
            link_types=self.link_types,
            protocols=self.protocols,
            malformed=self.malformed,
            weirds=self.weirds,
            evicted=self.flows.evicted,
            fragments=self.fragment_stats(),
        )

    def summary(self) -> Summary:
        """Finish every tracker and assemble the Summary (call once, after end_of_input)."""
        sections = self.finish_trackers()
        return Summary.build(self.core_counts(), sections)


def analyze(
    paths: list[str], progress: Callable[[int, int | None], None] | None = None
) -> tuple[Summary, list[FileStats]]:
    """Analyse capture files in order; returns the summary and per-file stats (with any errors)."""
    pipe = Pipeline()
    stats = [pipe.run_file(p, progress) for p in paths]
    return pipe.summary(), stats


__all__ = ["FileStats", "Pipeline", "Weird", "analyze", "ip_text"]


interpreted_inits(Weird)
