"""Charts for the HTML report, drawn by matplotlib and embedded as inline SVG (no JavaScript needed).

matplotlib is imported on first use only (the other commands never pay for it), with the Agg backend
and a fixed SVG hash salt and no date metadata, so the same summary gives the same bytes. Text is
kept as SVG text (smaller, selectable, searchable); matplotlib escapes it for XML. Labels that came
off the wire first go through `safe()` (control characters shown escaped, cut to LABEL_CHARS) and get
their `$` escaped, because matplotlib would read `$...$` as a formula.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from analyzer.report.text import endpoint, safe, utc
from analyzer.report.timeline import TrafficSeries

BAR_LIMIT = 12
"""Bars in a count chart; the remaining keys are summed into one "other" bar."""
TOP_TALKERS = 10
"""Conversations in the top-talkers chart (of the flows section's top list)."""
MAX_LEASE_BARS = 40
"""Clients drawn in the DHCP lease timeline (the first ones by first message)."""
LABEL_CHARS = 160
"""Characters of a wire-derived axis label before it is cut with an ellipsis: room for two whole
IPv6 endpoints and a service name (identifiers are never cut), a bound for a hostile string."""
FIGURE_WIDTH = 8.0
"""Inches (at 72 pt per inch in SVG) of every chart's width."""
BAR_HEIGHT = 0.28
"""Inches per bar of a horizontal bar chart, so a chart grows with its rows."""
MIN_TIME_PAD = 60.0
"""Seconds of margin on each side of the lease timeline (a lone message still gets a readable axis)."""
MIN_LEASE_SHARE = 0.004
"""Narrowest lease bar as a share of the time axis, so a one-minute lease in a day stays visible."""
PALETTE = ("#4878a8", "#e49444", "#6a9f58", "#d1615d", "#85b6b2", "#967662", "#a87c9f", "#e7ca60")
"""Colours used in order (colour-blind-friendly, muted)."""
STATE_COLOURS: dict[str, str] = {
    "active": "#6a9f58",
    "released": "#4878a8",
    "expired": "#e49444",
    "declined": "#d1615d",
    "nak": "#a87c9f",
    "informed": "#85b6b2",
    "no_lease": "#967662",
}
"""DHCP client state -> colour of its lease bar."""
_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "pcap-analyzer",
    "font.size": 9.0,
    "font.family": "DejaVu Sans",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10.0,
    "axes.titleweight": "bold",
    "timezone": "UTC",
}
"""matplotlib settings every chart is drawn with."""
_SVG_START = re.compile(r"<svg\b")
_SVG_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_SVG_ID = re.compile(r'(\bid="|url\(#|href="#)')
"""Where matplotlib writes or references an element id."""


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart ready to embed."""

    key: str
    """Stable identifier (used as the HTML id)."""
    title: str
    """Caption shown under the chart."""
    svg: str
    """The <svg> element."""


def _mpl() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    return matplotlib


def label(text: Any, limit: int = LABEL_CHARS) -> str:
    """A wire-derived string made safe as matplotlib text."""
    return safe(text, limit).replace("$", r"\$")


def _svg(fig: Any, key: str) -> str:
    """The figure as an <svg> element whose ids are prefixed with `key` (several charts share a page)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue()
    m = _SVG_START.search(text)
    text = _SVG_METADATA.sub("", text[m.start() :] if m else text).strip()
    return _SVG_ID.sub(lambda g: f"{g.group(1)}{key}-", text)


def _figure(height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(FIGURE_WIDTH, height), layout="constrained")


def bar_chart(key: str, title: str, counts: dict[str, Any], unit: str = "count") -> Chart | None:
    """Horizontal bars, largest first, values printed at the bar ends; None when there is nothing."""
    items = [(str(k), int(v)) for k, v in counts.items() if isinstance(v, int | float) and v > 0]
    if not items:
        return None
    items.sort(key=lambda kv: -kv[1])
    if len(items) > BAR_LIMIT:
        rest = items[BAR_LIMIT - 1 :]
        items = [*items[: BAR_LIMIT - 1], (f"other ({len(rest)})", sum(v for _, v in rest))]
    mpl = _mpl()
    with mpl.rc_context(_RC):
        fig = _figure(0.6 + BAR_HEIGHT * len(items))
        ax = fig.add_subplot()
        ys = list(range(len(items)))
        values = [v for _, v in items]
        bars = ax.barh(ys, values, color=PALETTE[0])
        ax.set_yticks(ys, [label(k) for k, _ in items])
        ax.invert_yaxis()
        ax.bar_label(bars, labels=[f"{v:,}" for v in values], padding=3, fontsize=8)
        ax.set_xlabel(unit)
        ax.margins(x=0.12)
        return Chart(key, title, _svg(fig, key))


def _human_interval(seconds: float) -> str:
    for size, name in ((86400.0, "d"), (3600.0, "h"), (60.0, "min"), (1.0, "s")):
        if seconds >= size:
            return f"{seconds / size:g} {name}"
    return f"{seconds * 1000:g} ms"


def _when(ts: float) -> dt.datetime:
    return utc(ts)


def traffic_chart(series: TrafficSeries | None) -> Chart | None:
    """Packets and bytes per interval, two panels sharing the time axis."""
    if series is None or not any(series.packets):
        return None
    mpl = _mpl()
    from matplotlib import dates as mdates

    with mpl.rc_context(_RC):
        fig = _figure(3.6)
        top, bottom = fig.subplots(2, 1, sharex=True)
        edges = [
            mdates.date2num(_when(series.start + i * series.interval)) for i in range(len(series.packets) + 1)
        ]
        step = _human_interval(series.interval)
        top.stairs(series.packets, edges, fill=True, color=PALETTE[0])
        top.set_ylabel(f"packets / {step}")
        bottom.stairs(series.bytes, edges, fill=True, color=PALETTE[1])
        bottom.set_ylabel(f"bytes / {step}")
        locator = mdates.AutoDateLocator()
        bottom.xaxis.set_major_locator(locator)
        bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        bottom.set_xlabel("time (UTC)")
        return Chart("traffic", f"Traffic over time (packets and bytes per {step})", _svg(fig, "traffic"))


def _lease_span(lease: dict[str, Any], capture_end: float | None) -> tuple[float, float] | None:
    begin = lease.get("bound_since") or lease.get("start")
    if begin is None:
        return None
    end = lease.get("ended")
    if end is None:
        end = capture_end if lease.get("infinite") or lease.get("state") == "active" else lease.get("expires")
    if end is None:
        end = capture_end if capture_end is not None else begin
    return float(begin), float(max(begin, end))


def lease_chart(summary: dict[str, Any]) -> Chart | None:
    """One bar per DHCP client from the grant of its lease to its release or expiry (a cross for a
    client that never got a lease), coloured by how it ended."""
    dhcp = summary.get("dhcp") or {}
    leases = [lease for lease in dhcp.get("leases") or [] if isinstance(lease, dict)][:MAX_LEASE_BARS]
    if not leases:
        return None
    capture_end = dhcp.get("capture_end") or (summary.get("capture") or {}).get("last_ts")
    spans = [_lease_span(lease, capture_end) for lease in leases]
    times = [t for s in spans if s for t in s] + [float(lease["ts"]) for lease in leases if lease.get("ts")]
    if not times:
        return None
    mpl = _mpl()
    from matplotlib import dates as mdates
    from matplotlib.patches import Patch

    with mpl.rc_context(_RC):
        fig = _figure(0.9 + BAR_HEIGHT * len(leases))
        ax = fig.add_subplot()
        lo, hi = mdates.date2num(_when(min(times))), mdates.date2num(_when(max(times)))
        min_width = max(hi - lo, 1e-6) * MIN_LEASE_SHARE
        states: dict[str, str] = {}
        names = []
        for y, (lease, span) in enumerate(zip(leases, spans, strict=True)):
            state = str(lease.get("state") or "no_lease")
            colour = STATE_COLOURS.get(state, PALETTE[-1])
            states.setdefault(state, colour)
            name = " ".join(str(x) for x in (lease.get("mac"), lease.get("host_name")) if x)
            addr = lease.get("assigned_addr")
            names.append(label(f"{name} {addr}" if addr else name))
            if span is None:
                if lease.get("ts"):
                    ax.plot([mdates.date2num(_when(float(lease["ts"])))], [y], "x", color=colour, ms=7)
                continue
            start = mdates.date2num(_when(span[0]))
            width = max(mdates.date2num(_when(span[1])) - start, min_width)
            ax.barh([y], [width], left=[start], color=colour, height=0.6)
        ax.set_yticks(list(range(len(leases))), names)
        ax.invert_yaxis()
        pad = max((hi - lo) * 0.02, MIN_TIME_PAD / 86400.0)
        ax.set_xlim(lo - pad, hi + pad)
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.set_xlabel("time (UTC)")
        ax.legend(
            handles=[Patch(color=c, label=s) for s, c in states.items()],
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
        )
        return Chart(
            "dhcp-leases",
            "DHCP lease timeline (grant to release or expiry, per client)",
            _svg(fig, "dhcp-leases"),
        )


def protocol_mix(summary: dict[str, Any]) -> Chart | None:
    return bar_chart(
        "protocol-mix", "Protocol mix (frames containing each layer)", summary.get("protocols") or {}
    )


def top_talkers(summary: dict[str, Any]) -> Chart | None:
    counts: dict[str, int] = {}
    for f in ((summary.get("flows") or {}).get("top") or [])[:TOP_TALKERS]:
        service = f" ({f['service']})" if f.get("service") else ""
        icmp = f.get("proto") in ("icmp", "icmpv6")
        resp = endpoint(f.get("id.resp_h"), None if icmp else f.get("id.resp_p"))
        name = f"{endpoint(f.get('id.orig_h'))} → {resp}{service}"
        counts[name] = counts.get(name, 0) + int(f.get("orig_ip_bytes", 0)) + int(f.get("resp_ip_bytes", 0))
    return bar_chart("top-talkers", "Top talkers (conversations by wire bytes)", counts, "bytes")


def dns_qtypes(summary: dict[str, Any]) -> Chart | None:
    dns = summary.get("dns") or {}
    return bar_chart("dns-qtypes", "DNS queries by record type", dns.get("queries_by_qtype") or {})


def tls_versions(summary: dict[str, Any]) -> Chart | None:
    tls = summary.get("tls") or {}
    return bar_chart("tls-versions", "TLS versions negotiated", tls.get("versions") or {}, "handshakes")


def http_codes(summary: dict[str, Any]) -> Chart | None:
    http = summary.get("http") or {}
    return bar_chart("http-codes", "HTTP responses by status code", http.get("responses_by_code") or {})


SECTION_CHARTS: dict[str, list[Callable[[dict[str, Any]], Chart | None]]] = {
    "capture": [protocol_mix],
    "flows": [top_talkers],
    "dhcp": [lease_chart],
    "dns": [dns_qtypes],
    "tls": [tls_versions],
    "http": [http_codes],
}
"""Section name -> the charts drawn above its tables, from the summary JSON."""
