"""The terminal live view of a capture in progress, and the live-capture facts of the final report.

`LiveView` is the pipeline's event sink while a capture runs: it keeps, in small bounded deques, the
newest DNS queries, DHCP leases, TLS server names and unreachables as the pipeline's dissectors
report them, and `render()` combines them with the pipeline's own counters (packets, bytes, protocol
layers, live flows, malformed) into one text block. Nothing here parses bytes or reads the wall
clock: times shown are packet times; the rate is computed by the caller's session clock (`elapsed`).
Every string that came off the wire goes through `safe()` (control characters escaped, cut short).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from tabulate import tabulate

from analyzer.dissectors.dhcp import DhcpMessage, Dhcpv6Message
from analyzer.dissectors.dns import DnsMessageEvent
from analyzer.dissectors.icmp import IcmpError
from analyzer.dissectors.tls import TlsClientHello
from analyzer.report.text import Table, safe, utc

if TYPE_CHECKING:
    from analyzer.capture.live import LiveStats
    from analyzer.pipeline import Pipeline

LIVE_ROWS = 6
"""Newest entries kept and shown per panel: four panels and the header fit a 40-line terminal."""

PROTOCOL_MIX_TOP = 10
"""Protocol layers shown in the mix line (the most frequent), so the line stays near 100 columns."""

HOST_CELL = 39
"""Characters of an address cell: a full-length IPv6 address."""

NAME_CELL = 48
"""Characters of a name cell (query name, SNI, host name) before it is cut."""

INFINITE_LEASE = 0xFFFFFFFF
"""DHCP lease time meaning "infinite" (RFC 2131 3.3)."""

CLEAR_SCREEN = "\x1b[H\x1b[2J"
"""ANSI: cursor home, erase the screen (the view is redrawn in place on a terminal)."""

UNREACHABLE_TYPES: frozenset[tuple[int, int]] = frozenset({(4, 3), (6, 1)})
"""(IP version, ICMP type) of Destination Unreachable in ICMPv4 and ICMPv6."""

PANELS: dict[str, tuple[str, list[str]]] = {
    "dns": ("Newest DNS queries", ["time", "client", "query", "type", "via"]),
    "leases": ("Newest DHCP leases", ["time", "client", "address", "lease", "server"]),
    "snis": ("Newest TLS server names", ["time", "client", "server", "SNI"]),
    "unreachables": ("Newest unreachables", ["time", "reporter", "to", "what", "about"]),
}
"""Panel key -> (title, column headers), in display order; the number of entries seen follows the title."""

IP_PROTO_NAMES: dict[int, str] = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6", 132: "sctp"}
"""IP protocol numbers of quoted datagrams, as shown."""


def _time(ts: float) -> str:
    """Packet time as UTC hours, minutes, seconds."""
    return utc(ts).strftime("%H:%M:%S")


def _lease(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    return "infinite" if seconds == INFINITE_LEASE else f"{seconds}s"


def _endpoint(host: str, port: int | None) -> str:
    """host:port, with IPv6 addresses in brackets so the port cannot be read as part of them."""
    if port is None:
        return host
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


class LiveView:
    """Bounded newest-first panels fed by the pipeline's events, rendered with its counters."""

    def __init__(self, interface: str, link_type: str, bpf: str | None) -> None:
        self.interface = interface
        """Interface captured on."""
        self.link_type = link_type
        """Its link type name."""
        self.filter = bpf
        """The kernel filter, or None."""
        self.panels: dict[str, deque[list[str]]] = {key: deque(maxlen=LIVE_ROWS) for key in PANELS}
        """Panel key -> its newest rows, newest first (columns as in PANELS)."""
        self.counts: dict[str, int] = dict.fromkeys(PANELS, 0)
        """Entries seen per panel (the panels keep only the newest LIVE_ROWS)."""
        self._last: tuple[float, int] = (0.0, 0)
        self._handlers: dict[type, Callable[[Any], None]] = {
            DnsMessageEvent: self._dns,
            DhcpMessage: self._dhcp,
            Dhcpv6Message: self._dhcpv6,
            TlsClientHello: self._tls,
            IcmpError: self._icmp,
        }

    # -- events (the pipeline's event sink) --

    def on_event(self, event: object) -> None:
        """Take note of one event, record or weird from the pipeline (most are ignored)."""
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def _dns(self, ev: DnsMessageEvent) -> None:
        msg = ev.message
        if msg.qr or not msg.questions:
            return
        q = msg.questions[0]
        self.counts["dns"] += 1
        self.panels["dns"].appendleft(
            [_time(ev.ts), safe(ev.src_h, HOST_CELL), safe(q.name, NAME_CELL), safe(q.qtype_name), ev.service]
        )

    def _dhcp(self, msg: DhcpMessage) -> None:
        if msg.msg_type_name != "ACK" or msg.yiaddr in ("", "0.0.0.0"):
            return  # an ACK to INFORM grants no address
        self.counts["leases"] += 1
        client = msg.mac + (f" ({msg.host_name})" if msg.host_name else "")
        self.panels["leases"].appendleft(
            [
                _time(msg.ts),
                safe(client, NAME_CELL),
                safe(msg.yiaddr, HOST_CELL),
                _lease(msg.lease_time),
                safe(msg.server_id or msg.src_h, HOST_CELL),
            ]
        )

    def _dhcpv6(self, msg: Dhcpv6Message) -> None:
        if msg.msg_type_name != "REPLY" or not msg.leases:
            return
        client = msg.client_mac or msg.client_duid or "-"
        for lease in msg.leases:
            if not lease.valid:
                continue  # a withdrawn address is no lease
            self.counts["leases"] += 1
            self.panels["leases"].appendleft(
                [
                    _time(msg.ts),
                    safe(client, NAME_CELL),
                    safe(lease.addr, HOST_CELL + 4),
                    _lease(lease.valid),
                    safe(msg.src_h, HOST_CELL),
                ]
            )

    def _tls(self, hello: TlsClientHello) -> None:
        if not hello.server_name:
            return
        self.counts["snis"] += 1
        self.panels["snis"].appendleft(
            [
                _time(hello.ts),
                safe(hello.orig_h, HOST_CELL),
                safe(_endpoint(hello.resp_h, hello.resp_p), HOST_CELL + 8),
                safe(hello.server_name, NAME_CELL),
            ]
        )

    def _icmp(self, err: IcmpError) -> None:
        if (err.ip_version, err.icmp_type) not in UNREACHABLE_TYPES:
            return
        self.counts["unreachables"] += 1
        target = "-"
        if err.resp_h is not None:
            proto = IP_PROTO_NAMES.get(err.proto or -1, str(err.proto))
            port = err.resp_p if proto in ("tcp", "udp", "sctp") else None
            target = f"{proto} {_endpoint(err.resp_h, port)}"
        self.panels["unreachables"].appendleft(
            [
                _time(err.ts),
                safe(err.reporter, HOST_CELL),
                safe(err.notified, HOST_CELL),
                safe(err.name, NAME_CELL),
                safe(target, HOST_CELL + 12),
            ]
        )

    # -- rendering --

    def render(
        self,
        pipe: Pipeline,
        stats: LiveStats,
        elapsed: float,
        width: int | None = None,
        height: int | None = None,
    ) -> str:
        """The whole view as text: header, counters, protocol mix and the four panels. Given a
        terminal's `width` and `height`, it fits: no line is longer than `width` (cut, never
        wrapped), the header and counters always show, and the panels shrink, then drop, to fit."""
        last_elapsed, last_packets = self._last
        span = elapsed - last_elapsed
        rate = (pipe.packets - last_packets) / span if span > 0 else 0.0
        average = pipe.packets / elapsed if elapsed > 0 else 0.0
        self._last = (elapsed, pipe.packets)
        where = f"{safe(self.interface)} ({self.link_type})"
        if self.filter:
            where += f", filter {safe(self.filter, 60)!r}"
        behind = max(0, stats.packets - stats.analysed)
        lines = [
            f"pcap-analyzer live: {where}, running {_clock(elapsed)} (Ctrl-C stops and prints the summary)",
            f"packets {pipe.packets}  bytes {_size(pipe.bytes)}  rate {rate:.1f} pkt/s (avg "
            f"{average:.1f})  flows {len(pipe.flows)}  malformed {sum(pipe.malformed.values())}",
            f"captured {stats.packets}  analysis behind {behind}  kernel drops {stats.kernel_dropped}  "
            f"queue drops {stats.queue_dropped}",
        ]
        total = pipe.packets or 1
        mix = "  ".join(
            f"{safe(name, 16)} {100 * n / total:.0f}%"
            for name, n in pipe.protocols.most_common(PROTOCOL_MIX_TOP)
        )
        lines.append(f"protocols  {mix or '-'}")
        room = None if height is None else height - len(lines) - 1  # the cursor's own last line
        lines += self._panels(room)
        if width is not None:
            lines = [line[:width] for line in lines]
        return "\n".join(lines) + "\n"

    def _panels(self, room: int | None) -> list[str]:
        """The panels' lines, in at most `room` lines (None: all of them, LIVE_ROWS rows each).

        A panel takes a blank line, its title, and its table (header, rule, rows) or "(none yet)".
        With too little room, every panel shows fewer rows (the newest), then panels that do not
        fit even with one row are dropped from the end, each leaving only its title if that fits."""
        blocks: list[tuple[str, list[str]]] = []
        for key, (title, headers) in PANELS.items():
            rows = self.panels[key]
            table = ["  (none yet)"]
            if rows:
                text = tabulate(list(rows), headers=headers, tablefmt="simple", disable_numparse=True)
                table = text.split("\n")
            blocks.append((f"{title} ({self.counts[key]})", table))
        if room is None:
            return [line for title, table in blocks for line in ("", title, *table)]
        for shown in range(LIVE_ROWS, 0, -1):  # fewest rows dropped first
            cut = [(title, table[: 2 + shown] if len(table) > 2 else table) for title, table in blocks]
            if sum(2 + len(table) for _, table in cut) <= room:
                return [line for title, table in cut for line in ("", title, *table)]
        out: list[str] = []
        for title, table in blocks:  # one row each, as many panels as fit; then titles alone
            small = table[:3] if len(table) > 2 else table
            if len(out) + 2 + len(small) <= room:
                out += ["", title, *small]
            elif len(out) + 1 <= room:
                out.append(title)
        return out


class Screen:
    """Where the view goes: redrawn in place on a terminal, appended as plain blocks elsewhere."""

    def __init__(self, stream: TextIO, terminal: bool) -> None:
        self.stream = stream
        """Standard error, normally."""
        self.terminal = terminal
        """True: clear and redraw; False: no escape codes, blocks separated by a blank line."""

    def show(self, text: str) -> None:
        self.stream.write(CLEAR_SCREEN + text if self.terminal else text + "\n")
        self.stream.flush()


def live_tables(live: dict[str, Any], block: dict[str, Any] | None = None) -> list[Table]:
    """The "live" section of a live capture's report (interface, filter, drops, why it stopped);
    `block` is the summary's `capture.live` (what was lost and where)."""
    rows = [
        ["interface", safe(live.get("interface"))],
        ["link type", live.get("link_type", "-")],
        ["filter", safe(live.get("filter") or "-", 80)],
        ["packets captured", live.get("packets", 0)],
        ["dropped by the kernel", live.get("kernel_dropped", 0)],
        ["stopped by", live.get("stopped_by") or "-"],
    ]
    if block is not None:
        rows[5:5] = [
            ["dropped by the capture queue", block.get("queue_dropped", 0)],
            ["dropped by the interface", block.get("interface_dropped", 0)],
            ["complete (nothing dropped)", "yes" if block.get("complete") else "NO"],
        ]
    if live.get("write"):
        rows.append(["written to", safe(live["write"], 80)])
    return [Table("Live capture", ["", ""], rows)]


def render_live_tables(live: dict[str, Any], block: dict[str, Any] | None = None) -> str:
    """`live_tables` as text, in the terminal report's style."""
    out = []
    for table in live_tables(live, block):
        out.append(f"== {table.title} ==")
        out.append(tabulate(table.rows, headers=table.headers, tablefmt="simple", disable_numparse=True))
        out.append("")
    return "\n".join(out) + "\n"


__all__ = ["LIVE_ROWS", "LiveView", "Screen", "live_tables", "render_live_tables"]
