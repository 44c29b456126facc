"""Findings: what deserves a look first, drawn from every area of a finished summary.

A finding is one row: a severity, a kind, a one-line summary, how many occurrences it stands for,
the packet time of the first one, the connection uids and a Wireshark display filter that shows it
(`frames` lists frame numbers where an area records them). Findings are derived from the summary JSON
alone (the trackers' sections and records), never from live pipeline state: so one process, `--jobs`
and a cluster, which merge into the same summary, give the same findings.

Every kind is a row of FINDING_KINDS (kind -> severity, builder). A builder reads the summary and
returns the findings of its kind; `derive_findings` runs them all, orders the result (most severe
first, then by the table's order, then by first packet time, then by summary text) and keeps at most
MAX_FINDINGS. Names of users are masked; passwords are never in the summary at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from analyzer.endpoints import endpoint_text
from analyzer.records import to_jsonable

MAX_FINDINGS = 50
"""Findings kept in the summary; a report opens with them, so they must fit a reader's attention."""
MAX_PER_KIND = 10
"""Findings of one kind kept, the largest groups first: a flood of one kind (NXDOMAIN for every host
of a network) must not push every other kind out of MAX_FINDINGS."""
MAX_UIDS = 10
"""Connection uids listed per finding (the filter and the area's own section show the rest)."""
MAX_FRAMES = 10
"""Frame numbers listed per finding."""
LARGE_FLOW_BYTES = 1_000_000
"""IP bytes above which a conversation with no identified service is worth a finding."""
SEVERITY_RANK: dict[str, int] = {"high": 0, "medium": 1, "low": 2, "info": 3}
"""Severity -> sort rank (most severe first)."""
LEGACY_TLS = frozenset({"SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1"})
"""Negotiated versions that are deprecated (RFC 8996) and worth a finding."""
BLOCKED_ICMP: frozenset[tuple[int, int, int]] = frozenset({(4, 3, 9), (4, 3, 10), (4, 3, 13), (6, 1, 1)})
"""(IP version, ICMP type, code) that say "administratively prohibited": a filter blocked the flow."""
REFUSED_ICMP: frozenset[tuple[int, int, int]] = frozenset({(4, 3, 3), (6, 1, 4)})
"""(IP version, ICMP type, code) that say "port unreachable": nothing listens, the host refused."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding, as the `findings` list of the summary holds it."""

    severity: str
    """high, medium, low or info (SEVERITY_RANK)."""
    kind: str
    """Key of FINDING_KINDS (e.g. dns_nxdomain, clear_text_credentials)."""
    summary: str
    """One line for a reader."""
    count: int
    """Occurrences this finding stands for."""
    first_ts: float | None
    """Packet time of the first occurrence (None when the area does not record it)."""
    frames: tuple[int, ...]
    """Frame numbers to open in Wireshark (at most MAX_FRAMES; empty when not recorded)."""
    uids: tuple[str, ...]
    """Connection uids involved (at most MAX_UIDS)."""
    filter: str
    """Wireshark display filter that shows the occurrences."""


@dataclass(frozen=True, slots=True)
class Draft:
    """What a builder returns: a finding without its severity and kind (the table supplies them)."""

    summary: str
    """One line for a reader."""
    count: int
    """Occurrences."""
    first_ts: float | None
    """Packet time of the first occurrence."""
    uids: tuple[str, ...]
    """Connection uids involved (cut to MAX_UIDS when the finding is made)."""
    filter: str
    """Wireshark display filter."""
    frames: tuple[int, ...] = ()
    """Frame numbers, where the area records them."""


Builder = Callable[[dict[str, Any]], list[Draft]]


# ---- helpers ----------------------------------------------------------------------------------


def _list(section: Any, key: str) -> list[dict[str, Any]]:
    value = section.get(key) if isinstance(section, dict) else None
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _dict(section: Any, key: str) -> dict[str, Any]:
    value = section.get(key) if isinstance(section, dict) else None
    return value if isinstance(value, dict) else {}


def _ip(addr: Any) -> str:
    """Wireshark's address field for this address (ip or ipv6)."""
    return "ipv6" if ":" in str(addr) else "ip"


def _q(text: Any) -> str:
    """A string literal for a display filter."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _first(values: Iterable[Any]) -> float | None:
    times = [v for v in values if isinstance(v, int | float)]
    return min(times) if times else None


def _uids(records: Iterable[dict[str, Any]], key: str = "uid") -> tuple[str, ...]:
    out: list[str] = []
    for rec in records:
        value = rec.get(key)
        for uid in value if isinstance(value, list) else [value]:
            if isinstance(uid, str) and uid and uid not in out:
                out.append(uid)
    return tuple(out)


def mask(name: Any) -> str:
    """A user name shown without giving it away: first character, then asterisks."""
    text = str(name or "")
    return (text[:1] + "***") if text else "(no user)"


def _group(records: Iterable[dict[str, Any]], *keys: str) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for rec in records:
        groups.setdefault(tuple(rec.get(k) for k in keys), []).append(rec)
    return groups


def _endpoint_filter(host: Any, port: Any, proto: str = "tcp") -> str:
    return f"{_ip(host)}.addr == {host} && {proto}.port == {port}"


# ---- builders, one per kind -------------------------------------------------------------------


def _clear_text_credentials(s: dict[str, Any]) -> list[Draft]:
    logins: list[tuple[str, dict[str, Any], str]] = []  # (protocol, record, filter verb)
    for rec in _list(s.get("ftp"), "connections"):
        if rec.get("password_sent") and not rec.get("tls_upgraded"):
            logins.append(("FTP", rec, 'ftp.request.command == "PASS"'))
    for rec in _list(s.get("pop3"), "sessions"):
        if rec.get("clear_text_password") and not rec.get("tls"):
            logins.append(("POP3", rec, 'pop.request.command == "PASS"'))
    for rec in _list(s.get("imap"), "sessions"):
        if rec.get("user") and not rec.get("tls") and not rec.get("auth_mechanism"):
            logins.append(("IMAP", rec, 'imap.request.command == "LOGIN"'))
    for proto in ("smtp", "pop3", "imap"):
        for rec in _list(s.get(proto), "sessions"):
            mech = str(rec.get("auth_mechanism") or "").upper()
            if mech in ("PLAIN", "LOGIN") and not rec.get("tls"):
                verb = {"smtp": "smtp.req.command", "pop3": "pop.request.command"}.get(proto)
                check = f'{verb} == "AUTH"' if verb else 'imap.request.command == "AUTHENTICATE"'
                logins.append((proto.upper(), rec, check))
    out: list[Draft] = []
    for (name, server), group in sorted(
        _group_logins(logins).items(), key=lambda kv: (kv[0][0], str(kv[0][1]))
    ):
        users = sorted({mask(rec.get("user")) for _, rec, _ in group})
        out.append(
            Draft(
                f"{name} login in clear text to {server} (users {', '.join(users)})",
                len(group),
                _first(rec.get("ts") for _, rec, _ in group),
                _uids(rec for _, rec, _ in group),
                f"{group[0][2]} && {_ip(server)}.addr == {server}",
            )
        )
    return out


def _group_logins(
    logins: list[tuple[str, dict[str, Any], str]],
) -> dict[tuple[str, Any], list[tuple[str, dict[str, Any], str]]]:
    groups: dict[tuple[str, Any], list[tuple[str, dict[str, Any], str]]] = {}
    for login in logins:
        groups.setdefault((login[0], login[1].get("id.resp_h")), []).append(login)
    return groups


def _dhcp_kind(kinds: tuple[str, ...], text: str, filter_: str) -> Builder:
    """A builder for DHCP tracker findings of these kinds (v4 and v6), grouped by server."""

    def build(s: dict[str, Any]) -> list[Draft]:
        out: list[Draft] = []
        for area in ("dhcp", "dhcpv6"):
            found = [f for f in _list(s.get(area), "findings") if f.get("kind") in kinds]
            for (server,), group in sorted(_group(found, "server_addr").items(), key=lambda kv: str(kv[0])):
                detail = str(group[0].get("detail") or "")
                who = f" from {server}" if server else ""
                filt = filter_ if area == "dhcp" else "dhcpv6"
                if server and area == "dhcp":
                    filt = f"{filter_} && dhcp.option.dhcp_server_id == {server}"
                out.append(
                    Draft(
                        f"{area.upper()} {text}{who}: {detail}",
                        len(group),
                        _first(f.get("ts") for f in group),
                        (),
                        filt,
                    )
                )
        return out

    return build


def _dns_rcode(rcode_name: str, rcode: int) -> Builder:
    """A builder for DNS answers with this rcode, grouped by client."""

    def build(s: dict[str, Any]) -> list[Draft]:
        answers = [a for a in _list(s.get("dns"), "answers") if a.get("rcode_name") == rcode_name]
        out: list[Draft] = []
        for (client,), group in sorted(_group(answers, "id.orig_h").items(), key=lambda kv: str(kv[0])):
            names = sorted({str(a.get("query")) for a in group})
            shown = ", ".join(names[:3]) + (f" (+{len(names) - 3})" if len(names) > 3 else "")
            out.append(
                Draft(
                    f"{rcode_name} for {client}: {shown}",
                    len(group),
                    _first(a.get("ts") for a in group),
                    _uids(group),
                    f"dns.flags.rcode == {rcode} && {_ip(client)}.dst == {client}",
                )
            )
        return out

    return build


def _dns_unanswered(s: dict[str, Any]) -> list[Draft]:
    records = _list(s.get("dns"), "unanswered")
    out: list[Draft] = []
    for (client,), group in sorted(_group(records, "id.orig_h").items(), key=lambda kv: str(kv[0])):
        servers = sorted({str(r.get("id.resp_h")) for r in group})
        out.append(
            Draft(
                f"{len(group)} DNS queries from {client} unanswered (to {', '.join(servers[:3])})",
                len(group),
                _first(r.get("ts") for r in group),
                _uids(group),
                f"dns.flags.response == 0 && !dns.response_in && !icmp && !icmpv6 && !mdns && !llmnr"
                f" && {_ip(client)}.src == {client}",
            )
        )
    return out


def _tls_failed(s: dict[str, Any]) -> list[Draft]:
    failed = [h for h in _list(s.get("tls"), "handshakes") if h.get("established") is False]
    out: list[Draft] = []
    groups = _group(failed, "id.resp_h", "id.resp_p")
    for (host, port), group in sorted(groups.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        alerts = sorted({str(h.get("last_alert")) for h in group if h.get("last_alert")})
        names = sorted({str(h.get("server_name")) for h in group if h.get("server_name")})
        why = f"alert {', '.join(alerts)}" if alerts else "no ServerHello/Finished"
        sni = f" ({', '.join(names[:2])})" if names else ""
        out.append(
            Draft(
                f"TLS handshake to {host}:{port}{sni} failed: {why}",
                len(group),
                _first(h.get("ts") for h in group),
                _uids(group),
                _endpoint_filter(host, port) + " && tls",
            )
        )
    return out


def _tls_legacy(s: dict[str, Any]) -> list[Draft]:
    old = [h for h in _list(s.get("tls"), "handshakes") if h.get("version") in LEGACY_TLS]
    out: list[Draft] = []
    for (version,), group in sorted(_group(old, "version").items(), key=lambda kv: str(kv[0])):
        servers = sorted({endpoint_text(h.get("id.resp_h"), h.get("id.resp_p")) for h in group})
        out.append(
            Draft(
                f"{version} negotiated with {', '.join(servers[:3])}",
                len(group),
                _first(h.get("ts") for h in group),
                _uids(group),
                "tls.handshake.type == 2 && tls.handshake.version < 0x0303",
            )
        )
    return out


def _tls_downgrade(s: dict[str, Any]) -> list[Draft]:
    """The client offered TLS 1.3 (its JA4 says t13) but the server chose an older version."""
    down = [
        h
        for h in _list(s.get("tls"), "handshakes")
        if str(h.get("ja4") or "").startswith("t13") and h.get("version") not in (None, "TLS 1.3")
    ]
    out: list[Draft] = []
    for (host, port), group in sorted(
        _group(down, "id.resp_h", "id.resp_p").items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))
    ):
        out.append(
            Draft(
                f"{endpoint_text(host, port)} answered a TLS 1.3 offer with {group[0].get('version')}",
                len(group),
                _first(h.get("ts") for h in group),
                _uids(group),
                _endpoint_filter(host, port) + " && tls.handshake.type == 2",
            )
        )
    return out


def _certificate(flag: str, text: str) -> Builder:
    """A builder for server certificates with this flag set (expired, self_signed, ...)."""

    def build(s: dict[str, Any]) -> list[Draft]:
        tls = s.get("tls")
        where = {h.get("uid"): h for h in _list(tls, "handshakes")}
        certs = [
            c
            for c in _list(tls, "certificates")
            if c.get(flag) is True and not c.get("client_cert") and c.get("chain_index", 0) == 0
        ]
        out: list[Draft] = []
        by_subject = _group(certs, "certificate.subject")
        for (subject,), group in sorted(by_subject.items(), key=lambda kv: str(kv[0])):
            hs = where.get(group[0].get("uid")) or {}
            host, port = hs.get("id.resp_h"), hs.get("id.resp_p")
            filt = "tls.handshake.type == 11"
            if host is not None:
                filt = _endpoint_filter(host, port) + " && " + filt
            sni = f" for {group[0].get('sni')}" if group[0].get("sni") else ""
            out.append(
                Draft(
                    f"{text} certificate {subject}{sni}",
                    len(group),
                    _first(c.get("ts") for c in group),
                    _uids(group),
                    filt,
                )
            )
        return out

    return build


def _certificate_mismatch(s: dict[str, Any]) -> list[Draft]:
    tls = s.get("tls")
    where = {h.get("uid"): h for h in _list(tls, "handshakes")}
    certs = [
        c
        for c in _list(tls, "certificates")
        if c.get("sni_matches") is False and c.get("chain_index", 0) == 0 and not c.get("client_cert")
    ]
    out: list[Draft] = []
    for (sni,), group in sorted(_group(certs, "sni").items(), key=lambda kv: str(kv[0])):
        hs = where.get(group[0].get("uid")) or {}
        host, port = hs.get("id.resp_h"), hs.get("id.resp_p")
        filt = f"tls.handshake.extensions_server_name == {_q(sni)}"
        if host is not None:
            filt = _endpoint_filter(host, port) + " && tls.handshake.type == 11"
        out.append(
            Draft(
                f"certificate {group[0].get('certificate.subject')} does not name {sni}",
                len(group),
                _first(c.get("ts") for c in group),
                _uids(group),
                filt,
            )
        )
    return out


def _icmp(codes: frozenset[tuple[int, int, int]] | None, text: str) -> Builder:
    """A builder for ICMP unreachables with these (version, type, code) (None: all others)."""
    special = BLOCKED_ICMP | REFUSED_ICMP

    def build(s: dict[str, Any]) -> list[Draft]:
        icmp = s.get("icmp")
        records = _list(_dict(icmp, "v4"), "unreachable") + _list(_dict(icmp, "v6"), "unreachable")

        def key(r: dict[str, Any]) -> tuple[int, int, int]:
            return (int(r.get("ip_version") or 4), int(r.get("icmp_type") or 0), int(r.get("icmp_code") or 0))

        wanted = [r for r in records if (key(r) in codes if codes is not None else key(r) not in special)]
        out: list[Draft] = []
        groups = _group(wanted, "ip_version", "icmp_type", "icmp_code", "reporter")
        for (ver, typ, code, reporter), group in sorted(groups.items(), key=lambda kv: str(kv[0])):
            proto = "icmp" if ver == 4 else "icmpv6"
            targets = sorted({_target(r) for r in group})
            shown = ", ".join(targets[:3]) + (f" (+{len(targets) - 3})" if len(targets) > 3 else "")
            out.append(
                Draft(
                    f"{text} by {reporter} ({group[0].get('name')}): {shown}",
                    len(group),
                    _first(r.get("ts") for r in group),
                    _uids(group, "refused_uid") or _uids(group),
                    f"{proto}.type == {typ} && {proto}.code == {code} && {_ip(reporter)}.src == {reporter}",
                )
            )
        return out

    return build


def _target(rec: dict[str, Any]) -> str:
    host, port = rec.get("id.resp_h"), rec.get("id.resp_p")
    if host is None:
        return "?"
    return endpoint_text(host, port)


def _conn_state(state: str, text: str, filter_: str) -> Builder:
    """A builder for flows in this Zeek conn_state (REJ, S0), counted over all flows."""

    def build(s: dict[str, Any]) -> list[Draft]:
        flows = s.get("flows")
        count = _dict(flows, "by_conn_state").get(state)
        if not isinstance(count, int) or count <= 0:
            return []
        examples = [f for f in _list(flows, "top") if f.get("conn_state") == state]
        return [
            Draft(f"{count} {text}", count, _first(f.get("ts") for f in examples), _uids(examples), filter_)
        ]

    return build


def _port_mismatch(s: dict[str, Any]) -> list[Draft]:
    out: list[Draft] = []
    records = _list(s, "mismatches")
    for (service, proto, port, kind), group in sorted(
        _group(records, "service", "proto", "id.resp_p", "kind").items(), key=lambda kv: str(kv[0])
    ):
        expected = group[0].get("port_service")
        what = f"port {port} belongs to {expected}" if expected else f"port {port} is not its usual port"
        out.append(
            Draft(
                f"{service} on {proto}/{port} ({kind}: {what}); Decode As in Wireshark",
                len(group),
                _first(r.get("ts") for r in group),
                _uids(group),
                f"{proto}.port == {port}",
            )
        )
    return out


def _large_unknown(s: dict[str, Any]) -> list[Draft]:
    big = [
        f
        for f in _list(s.get("flows"), "top")
        if not f.get("service")
        and int(f.get("orig_ip_bytes") or 0) + int(f.get("resp_ip_bytes") or 0) >= LARGE_FLOW_BYTES
    ]
    out: list[Draft] = []
    for f in big:
        total = int(f.get("orig_ip_bytes") or 0) + int(f.get("resp_ip_bytes") or 0)
        a, b = f.get("id.orig_h"), f.get("id.resp_h")
        proto = str(f.get("proto"))
        port = f.get("id.resp_p")
        filt = f"{_ip(a)}.addr == {a} && {_ip(b)}.addr == {b}"
        if proto in ("tcp", "udp"):
            filt += f" && {proto}.port == {port}"
        out.append(
            Draft(
                f"{total} bytes {proto} {a} -> {endpoint_text(b, port)} with no identified service",
                1,
                f.get("ts"),
                _uids([f]),
                filt,
            )
        )
    return out


def _missed_bytes(s: dict[str, Any]) -> list[Draft]:
    gaps = [f for f in _list(s.get("flows"), "top") if int(f.get("missed_bytes") or 0) > 0]
    if not gaps:
        return []
    missed = sum(int(f.get("missed_bytes") or 0) for f in gaps)
    return [
        Draft(
            f"{missed} TCP payload bytes never seen in {len(gaps)} conversations (packet loss or a snap "
            "length that cut payloads)",
            len(gaps),
            _first(f.get("ts") for f in gaps),
            _uids(gaps),
            "tcp.analysis.lost_segment || frame.cap_len < frame.len",
        )
    ]


def _malformed(s: dict[str, Any]) -> list[Draft]:
    counts = _dict(s, "malformed")
    weirds = _list(s, "weird")
    out: list[Draft] = []
    for name in sorted(counts):
        count = counts[name]
        if not isinstance(count, int) or count <= 0:
            continue
        seen = [w for w in weirds if w.get("name") == name]
        out.append(
            Draft(
                f"{count} malformed: {name}",
                count,
                _first(w.get("ts") for w in seen),
                _uids(seen),
                "_ws.malformed || _ws.expert.severity >= warning",
            )
        )
    return out


def _smtp_failures(s: dict[str, Any]) -> list[Draft]:
    out: list[Draft] = []
    for f in _list(s.get("smtp"), "findings"):
        server = f.get("server")
        out.append(
            Draft(
                f"SMTP {f.get('kind')} from {server}: {f.get('example') or ''}",
                int(f.get("attempts") or 1),
                f.get("first_ts") if isinstance(f.get("first_ts"), int | float) else None,
                tuple(u for u in (f.get("uids") or []) if isinstance(u, str)),
                f"smtp.response.code >= 400 && {_ip(server)}.src == {server}",
            )
        )
    return out


def _http_errors(s: dict[str, Any]) -> list[Draft]:
    txs = [t for t in _list(s.get("http"), "transactions") if int(t.get("status_code") or 0) >= 500]
    out: list[Draft] = []
    for (host,), group in sorted(_group(txs, "id.resp_h").items(), key=lambda kv: str(kv[0])):
        codes = sorted({str(t.get("status_code")) for t in group})
        out.append(
            Draft(
                f"HTTP server errors ({', '.join(codes)}) from {host}",
                len(group),
                _first(t.get("ts") for t in group),
                _uids(group),
                f"http.response.code >= 500 && {_ip(host)}.src == {host}",
            )
        )
    return out


def _smb_denied(s: dict[str, Any]) -> list[Draft]:
    codes = _dict(s.get("smb"), "status_codes")
    bad = {k: v for k, v in codes.items() if k in SMB_DENIED and isinstance(v, int) and v > 0}
    if not bad:
        return []
    total = sum(bad.values())
    return [
        Draft(
            f"SMB refused: {', '.join(f'{k} x{v}' for k, v in sorted(bad.items()))}",
            total,
            None,
            (),
            "smb2.nt_status == 0xc0000022 || smb2.nt_status == 0xc000006d || smb.nt_status == 0xc0000022",
        )
    ]


def _ndp_routers(s: dict[str, Any]) -> list[Draft]:
    """More than one default router advertising on a link: a rogue or competing IPv6 router."""
    routers = [r for r in _list(s.get("ndp"), "routers") if r.get("default_router")]
    if len(routers) < 2:
        return []
    names = sorted(f"{r.get('address')} ({r.get('mac')})" for r in routers)
    return [
        Draft(
            f"{len(routers)} IPv6 default routers advertising: {', '.join(names[:4])}",
            len(routers),
            _first(r.get("first_seen") for r in routers),
            (),
            "icmpv6.type == 134",
        )
    ]


def _ndp_conflicts(s: dict[str, Any]) -> list[Draft]:
    """Duplicate address detection that found a defender, or one address seen with several MACs."""
    ndp = s.get("ndp")
    out: list[Draft] = []
    for d in _list(ndp, "dad"):
        if d.get("conflict"):
            target = d.get("target")
            out.append(
                Draft(
                    f"duplicate IPv6 address {target}: {d.get('mac')} probed,"
                    f" {d.get('defender_mac')} defends",
                    1,
                    d.get("conflict_ts") if isinstance(d.get("conflict_ts"), int | float) else d.get("ts"),
                    (),
                    f"icmpv6.nd.ns.target_address == {target} || icmpv6.nd.na.target_address == {target}",
                )
            )
    for b in _list(ndp, "bindings"):
        if b.get("conflict"):
            addr = b.get("address")
            macs = ", ".join(str(m) for m in b.get("macs") or [])
            out.append(
                Draft(
                    f"IPv6 address {addr} announced by several MACs: {macs}",
                    len(b.get("macs") or []) or 1,
                    b.get("first_seen") if isinstance(b.get("first_seen"), int | float) else None,
                    (),
                    f"icmpv6.nd.na.target_address == {addr} || ipv6.src == {addr}",
                )
            )
    return out


SMB_DENIED = frozenset({"STATUS_ACCESS_DENIED", "STATUS_LOGON_FAILURE", "STATUS_ACCOUNT_DISABLED"})
"""SMB status names that mean "refused": a denied share or file, a failed login."""


FINDING_KINDS: dict[str, tuple[str, Builder]] = {
    "clear_text_credentials": ("high", _clear_text_credentials),
    "dhcp_rogue_server": (
        "high",
        _dhcp_kind(("competing_servers", "multiple_servers"), "servers competing", "dhcp.option.dhcp == 2"),
    ),
    "certificate_expired": ("high", _certificate("expired", "expired")),
    "ndp_rogue_router": ("high", _ndp_routers),
    "ndp_address_conflict": ("medium", _ndp_conflicts),
    "tls_legacy_version": ("medium", _tls_legacy),
    "tls_handshake_failed": ("medium", _tls_failed),
    "certificate_self_signed": ("medium", _certificate("self_signed", "self-signed")),
    "certificate_not_yet_valid": ("medium", _certificate("not_yet_valid", "not yet valid")),
    "certificate_name_mismatch": ("medium", _certificate_mismatch),
    "blocked_flows": ("medium", _icmp(BLOCKED_ICMP, "blocked")),
    "dhcp_nak": ("medium", _dhcp_kind(("nak", "status"), "NAK", "dhcp.option.dhcp == 6")),
    "dhcp_decline": ("medium", _dhcp_kind(("decline",), "DECLINE", "dhcp.option.dhcp == 4")),
    "dns_servfail": ("medium", _dns_rcode("SERVFAIL", 2)),
    "smb_access_denied": ("medium", _smb_denied),
    "malformed": ("medium", _malformed),
    "missed_bytes": ("medium", _missed_bytes),
    "refused_flows": ("low", _icmp(REFUSED_ICMP, "refused")),
    "refused_connections": (
        "low",
        _conn_state("REJ", "TCP connection attempts refused (RST)", "tcp.flags.reset == 1 && tcp.seq <= 1"),
    ),
    "unreachable": ("low", _icmp(None, "unreachable")),
    "dns_nxdomain": ("low", _dns_rcode("NXDOMAIN", 3)),
    "dns_refused": ("low", _dns_rcode("REFUSED", 5)),
    "dns_unanswered": ("low", _dns_unanswered),
    "tls_downgrade": ("low", _tls_downgrade),
    "port_mismatch": ("low", _port_mismatch),
    "large_unidentified_flow": ("low", _large_unknown),
    "smtp_rejected": ("low", _smtp_failures),
    "http_server_error": ("low", _http_errors),
}
"""Kind -> (severity, builder), in the order findings of equal severity are listed."""
KIND_ORDER = {kind: i for i, kind in enumerate(FINDING_KINDS)}


def derive_findings(summary: dict[str, Any]) -> list[Finding]:
    """Every finding of the summary JSON, most severe first, at most MAX_FINDINGS."""
    found: list[Finding] = []
    for kind, (severity, build) in FINDING_KINDS.items():
        drafts = sorted(build(summary), key=lambda d: -d.count)[:MAX_PER_KIND]
        for d in drafts:
            found.append(
                Finding(
                    severity,
                    kind,
                    d.summary,
                    d.count,
                    d.first_ts,
                    d.frames[:MAX_FRAMES],
                    d.uids[:MAX_UIDS],
                    d.filter,
                )
            )
    found.sort(
        key=lambda f: (
            SEVERITY_RANK[f.severity],
            KIND_ORDER[f.kind],
            f.first_ts if f.first_ts is not None else float("inf"),
            f.summary,
        )
    )
    return found[:MAX_FINDINGS]


def findings_json(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The `findings` list of the summary JSON."""
    out: list[dict[str, Any]] = to_jsonable(derive_findings(summary))
    return out
