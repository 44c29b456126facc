"""Terminal tables of the DNS section (and a short summary of the mDNS and LLMNR sections)."""

from __future__ import annotations

from typing import Any

from analyzer.report.text import Table, endpoint, safe, share_table

MULTICAST_SERVICES = {"mdns": "mDNS", "llmnr": "LLMNR"}
"""Sections summarised in one table after the DNS tables, with their display names."""
TRANSACTION_HEADERS = [
    "answered",
    "unanswered",
    "retransmissions",
    "unmatched resp.",
    "referrals",
    "RTT median ms",
    "RTT p95 ms",
]
"""Columns of the one-row transactions table."""
MIX_SHOWN = 4
"""Record types listed in one "query mix" cell."""


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def _mix(counts: dict[str, int]) -> str:
    parts = [f"{safe(k)} {v}" for k, v in list(counts.items())[:MIX_SHOWN]]
    if len(counts) > MIX_SHOWN:
        parts.append(f"+{len(counts) - MIX_SHOWN} more")
    return ", ".join(parts)


def _names(title: str, entries: list[dict[str, Any]]) -> Table:
    table = Table(title, ["name", "count"])
    for e in entries:
        table.rows.append([safe(e["name"]), e["count"]])
    return table


def dns_tables(summary: dict[str, Any]) -> list[Table]:
    dns = summary.get("dns") or {}
    tables: list[Table] = []
    if dns.get("query_count") or dns.get("response_count"):
        tables.append(
            share_table(
                f"DNS queries by type ({dns['query_count']} queries)", "qtype", dns["queries_by_qtype"]
            )
        )
        tables.append(
            share_table(
                f"DNS responses by rcode ({dns['response_count']} responses)",
                "rcode",
                dns["responses_by_rcode"],
            )
        )
        opcodes = dns.get("opcodes") or {}
        if set(opcodes) - {"QUERY"}:
            tables.append(share_table("DNS messages by opcode", "opcode", opcodes))
        tx = dns["transactions"]
        summary_table = Table("DNS transactions", list(TRANSACTION_HEADERS))
        summary_table.rows.append(
            [
                tx["answered"],
                tx["unanswered"],
                tx["retransmissions"],
                tx.get("unmatched_responses", 0),
                dns.get("referrals", 0),
                _ms(tx["rtt_median"]),
                _ms(tx["rtt_p95"]),
            ]
        )
        tables.append(summary_table)
        resolvers = Table("DNS resolvers (RA set)", ["host", "clients", "responses", "RA responses"])
        for r in dns.get("resolvers", []):
            resolvers.rows.append([safe(r["host"]), r["clients"], r["responses"], r["ra_responses"]])
        tables.append(resolvers)
        auth = Table("DNS authoritative answers (AA set)", ["host", "AA responses", "responses", "clients"])
        for a in dns.get("authoritative", []):
            auth.rows.append([safe(a["host"]), a["aa_responses"], a["responses"], a["clients"]])
        tables.append(auth)
        tables.append(_names("DNS top queried names", dns.get("top_names", [])))
        tables.append(_names("DNS NXDOMAIN names", dns.get("nxdomain_names", [])))
        clients = Table("DNS clients (query mix)", ["client", "queries", "mix"])
        for c in dns.get("clients", []):
            clients.rows.append([safe(c["host"]), c["queries"], _mix(c["qtypes"])])
        tables.append(clients)
        unanswered = Table("DNS unanswered queries", ["client", "server", "query", "qtype"])
        for u in dns.get("unanswered", []):
            unanswered.rows.append(
                [
                    endpoint(u["id.orig_h"], u["id.orig_p"]),
                    endpoint(u["id.resp_h"], u["id.resp_p"]),
                    safe(u["query"] or "-"),
                    safe(u["qtype_name"] or "-"),
                ]
            )
        tables.append(unanswered)
        answers = Table(
            "DNS answers (one row per answered query)",
            ["client", "server", "query", "qtype", "rcode", "rtt ms", "answers"],
            optional=("rtt ms", "rcode"),
        )
        for a in dns.get("answers", []):
            answers.rows.append(
                [
                    endpoint(a["id.orig_h"], a["id.orig_p"]),
                    endpoint(a["id.resp_h"], a["id.resp_p"]),
                    safe(a["query"] or "-"),
                    safe(a["qtype_name"] or "-"),
                    safe(a["rcode_name"] or "-"),
                    _ms(a["rtt"]),
                    safe(", ".join(str(x) for x in a["answers"]) or "-"),
                ]
            )
        tables.append(answers)
        if dns.get("malformed"):
            tables.append(share_table("DNS malformed messages", "reason", dns["malformed"]))
    multicast = Table(
        "Multicast name resolution", ["protocol", "queries", "responses", "query mix", "top names"]
    )
    for key, label in MULTICAST_SERVICES.items():
        sec = summary.get(key) or {}
        if not (sec.get("query_count") or sec.get("response_count")):
            continue
        names = ", ".join(safe(n["name"]) for n in sec.get("top_names", [])[:3])
        multicast.rows.append(
            [label, sec["query_count"], sec["response_count"], _mix(sec["queries_by_qtype"]), names]
        )
    tables.append(multicast)
    silent = Table(
        "Multicast name resolution: unanswered queries", ["protocol", "client", "group", "query", "qtype"]
    )
    for key, label in MULTICAST_SERVICES.items():
        for u in (summary.get(key) or {}).get("unanswered", []):
            silent.rows.append(
                [
                    label,
                    endpoint(u["id.orig_h"], u["id.orig_p"]),
                    endpoint(u["id.resp_h"], u["id.resp_p"]),
                    safe(u["query"] or "-"),
                    safe(u["qtype_name"] or "-"),
                ]
            )
    tables.append(silent)
    return tables
