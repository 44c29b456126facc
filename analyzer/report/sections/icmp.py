"""Terminal tables of the `icmp` and `ndp` sections."""

from __future__ import annotations

from typing import Any

from analyzer.report.text import Table, aggregate, safe

INFINITE_LIFETIME = 0xFFFFFFFF
"""ND lifetime value meaning "infinite" (RFC 4861 section 4.6.2)."""


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _lifetime(seconds: int) -> str:
    return "infinite" if seconds == INFINITE_LIFETIME else str(seconds)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def icmp_tables(summary: dict[str, Any]) -> list[Table]:
    icmp = summary.get("icmp") or {}
    if not icmp:
        return []
    counts = Table("ICMP messages by type/code", ["ver", "type/code", "name", "count"])
    refused: list[list[Any]] = []
    dropped_total = 0
    for version, label in (("v4", "ICMP"), ("v6", "ICMPv6")):
        part = icmp.get(version) or {}
        names = part.get("names") or {}
        for key, n in (part.get("by_type_code") or {}).items():
            counts.rows.append([label, key, safe(names.get(key, "")), n])
        for record in (part.get("unreachable") or []) + (part.get("errors") or []):
            refused.append([label, safe(record["description"]), record["refused_uid"] or "-"])
        dropped_total += part.get("unreachable_dropped", 0) + part.get("errors_dropped", 0)
    heads, folded = aggregate(["ver", "what happened", "refused flow"], refused)
    distinct = f", {len(folded)} distinct" if len(folded) < len(refused) else ""
    errors = Table(
        f"ICMP errors and the datagrams they refuse ({len(refused) + dropped_total} errors{distinct}"
        f"{f', {dropped_total} not kept' if dropped_total else ''})",
        heads,
        folded,
        optional=("refused flow",),
        total=len(folded),
    )
    echo = icmp.get("echo") or {}
    reach = Table(
        f"Echo reachability ({echo.get('requests', 0)} requests, {echo.get('answered', 0)} answered, "
        f"{echo.get('unanswered', 0)} unanswered, {echo.get('unmatched_replies', 0)} unmatched replies)",
        ["destination", "requests", "answered", "unanswered", "rtt min ms", "rtt avg ms", "rtt max ms"],
    )
    for row in echo.get("destinations") or []:
        rtt = row.get("rtt") or {}
        reach.rows.append(
            [
                safe(row["dst"]),
                row["requests"],
                row["answered"],
                row["unanswered"],
                _ms(rtt.get("min")),
                _ms(rtt.get("avg")),
                _ms(rtt.get("max")),
            ]
        )
    tables = [counts, errors, reach]
    malformed = icmp.get("malformed") or {}
    if malformed:
        tables.append(
            Table("Malformed ICMP", ["reason", "count"], [[safe(k), v] for k, v in malformed.items()])
        )
    return tables


def ndp_tables(summary: dict[str, Any]) -> list[Table]:
    ndp = summary.get("ndp") or {}
    by_type = ndp.get("by_type") or {}
    if not any(by_type.values()):
        return []
    counts = Table("Neighbor Discovery messages", ["type", "count"], [[k, v] for k, v in by_type.items()])
    routers = Table(
        "Routers (from Router Advertisements)",
        [
            "router",
            "mac",
            "RAs",
            "lifetime s",
            "M",
            "O",
            "prefixes (valid/preferred s)",
            "mtu",
            "dns",
            "mean interval s",
            "vs 200 s",
        ],
    )
    for r in ndp.get("routers") or []:
        prefixes = ", ".join(
            f"{p['prefix']}{' L' if p['on_link'] else ''}{' A' if p['autonomous'] else ''}"
            f" {_lifetime(p['valid_lifetime'])}/{_lifetime(p['preferred_lifetime'])}"
            for p in r["prefixes"]
        )
        routers.rows.append(
            [
                safe(r["address"]),
                safe(r["mac"] or "-"),
                r["ra_count"],
                r["router_lifetime"],
                _yes(r["managed"]),
                _yes(r["other_config"]),
                safe(prefixes or "-"),
                r["mtu"] if r["mtu"] is not None else "-",
                safe(", ".join(r["rdnss"] + r["dnssl"]) or "-"),
                _seconds(r["interval_mean"]),
                r["interval_vs_nominal"] or "-",
            ]
        )
    answered, unanswered = ndp.get("rs_answered", 0), ndp.get("rs_unanswered", 0)
    rs = Table(
        f"Router solicitations ({answered} answered, {unanswered} unanswered)",
        ["src", "mac", "answered by", "delay ms"],
    )
    solicited: list[list[Any]] = []
    for s in ndp.get("solicitations") or []:
        solicited.append(
            [
                safe(s["src"]),
                safe(s["mac"] or "-"),
                safe(s["answered_by"] or "no answer"),
                _ms(s["delay"]),
            ]
        )
    rs.headers, rs.rows = aggregate(rs.headers, solicited)
    bindings = Table("Address → MAC bindings", ["address", "mac", "learned from", "conflict"])
    for b in ndp.get("bindings") or []:
        macs = ", ".join(b["macs"]) if b["conflict"] else b["mac"]
        bindings.rows.append(
            [safe(b["address"]), safe(macs), ", ".join(b["learned_from"]), _yes(b["conflict"])]
        )
    dad = Table("Duplicate Address Detection", ["tentative address", "mac", "probes", "conflict", "defender"])
    for d in ndp.get("dad") or []:
        defender = f"{d['defender']} ({d['defender_mac'] or '?'})" if d["conflict"] else "-"
        dad.rows.append(
            [
                safe(d["target"]),
                safe(d["mac"] or "-"),
                d["probes"],
                d["conflict_kind"] or "no",
                safe(defender),
            ]
        )
    unsolicited = Table("Unsolicited neighbor advertisements", ["target", "mac", "from", "to", "override"])
    for u in ndp.get("unsolicited_na") or []:
        unsolicited.rows.append(
            [
                safe(u["target"]),
                safe(u["mac"] or "-"),
                safe(u["src"]),
                safe(u["dst"]),
                _yes(u["override"]),
            ]
        )
    redirects = Table("Redirects", ["router", "host", "destination", "better first hop", "triggered by"])
    for r in ndp.get("redirects") or []:
        redirects.rows.append(
            [
                safe(r["router"]),
                safe(r["host"]),
                safe(r["destination"]),
                safe(f"{r['target']} ({r['target_mac'] or '?'})"),
                safe(r["redirected"] or "-"),
            ]
        )
    tables = [counts, routers, rs, bindings, dad, unsolicited, redirects]
    malformed = ndp.get("malformed") or {}
    if malformed:
        tables.append(
            Table("Malformed NDP", ["reason", "count"], [[safe(k), v] for k, v in malformed.items()])
        )
    return tables
