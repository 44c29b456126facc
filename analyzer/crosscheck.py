"""Cross-check: our numbers beside those of Wireshark's own dissectors, section by section.

How it works
------------
tshark is found on PATH and run once per capture in field mode (`-T fields`, `-n`,
`-o tcp.desegment_tcp_streams:TRUE`, single pass, as ../shared/pcaps/TRUTH.json was made). It is
called directly, not through pyshark: pyshark's FileCapture has tshark write a PDML/JSON document per
packet and parses it, 5x slower than `-T fields` on sample_pcaps/mixed.pcap (536 frames, 5.0 s against
1.0 s, tshark's start-up included), more on bigger captures; so pyshark is no dependency. The lines are
consumed as they come: memory holds counters, not frames.

tshark's side is counted the way TRUTH.json's `how` strings say:
- ICMP/ICMPv6 type/code of the first (outermost) occurrence in a frame; NDP = ICMPv6 types 133-137.
- Application sections only count frames without an ICMP layer (tshark also dissects the datagram
  quoted inside an ICMP error) and whose protocol stack contains the section's protocol.
- DNS: one message per `dns.flags.response` occurrence, its questions the next `dns.count.queries`
  (`dns.count.zones` for UPDATE) values of `dns.qry.type`; rcodes of responses. mDNS and LLMNR apart.
- Protocol hierarchy: frames whose stack contains each layer (a datagram quoted in an ICMP error
  counts, as in tshark's frame.protocols and in our decoder).

Known tshark 4.0 quirks are matched and annotated rather than reported as differences (QUIRKS):
SMTP verbs cut to four letters and kept in the case sent, POP3 SASL continuation lines after AUTH
counted as commands, each line of a multi-line FTP reply counted as a reply code.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from analyzer.dissectors.dhcp import MESSAGE_TYPES, NO_OPTION_53
from analyzer.dissectors.dns import opcode_name, qtype_name, rcode_name
from analyzer.dissectors.smb import smb1_command_name, smb2_command_name

TSHARK_PREFS = ("-n", "-o", "tcp.desegment_tcp_streams:TRUE")
"""tshark options of every run: no name resolution, TCP reassembly on (as the truth file)."""
TSHARK_TIMEOUT = 1800.0
"""Seconds one tshark run may take before it is stopped (a big capture takes minutes, not hours)."""
FIELD_SEPARATOR = "\x1e"
"""Between two fields of a frame line (a character no field value contains)."""
AGGREGATOR = "\x1f"
"""Between two occurrences of one field in a frame."""
TSHARK_FIELDS: tuple[str, ...] = (
    "frame.protocols",
    "icmp.type",
    "icmp.code",
    "icmpv6.type",
    "icmpv6.code",
    "dns.flags.response",
    "dns.flags.opcode",
    "dns.flags.rcode",
    "dns.count.queries",
    "dns.count.zones",
    "dns.qry.type",
    "dhcp.option.dhcp",
    "tls.handshake.type",
    "tls.handshake.extensions_server_name",
    "http.request.method",
    "http.response.code",
    "smtp.req.command",
    "smtp.response.code",
    "pop.request.command",
    "pop.response.indicator",
    "imap.request.command",
    "imap.response.status",
    "ftp.request.command",
    "ftp.response.code",
    "smb.cmd",
    "smb.flags.response",
    "smb2.cmd",
    "smb2.flags.response",
)
"""Every field read from tshark, in one pass."""
LAYERS: dict[str, str] = {
    "eth": "eth",
    "sll": "sll",
    "null": "null",
    "ppp": "ppp",
    "vlan": "vlan",
    "mpls": "mpls",
    "arp": "arp",
    "ip": "ipv4",
    "ipv6": "ipv6",
    "tcp": "tcp",
    "udp": "udp",
    "icmp": "icmp",
    "icmpv6": "icmpv6",
}
"""tshark protocol name -> our protocol-hierarchy key, for the layers both sides count."""
ICMP_LAYERS = frozenset({"icmp", "icmpv6"})
NDP_TYPES: dict[str, str] = {"133": "RS", "134": "RA", "135": "NS", "136": "NA", "137": "Redirect"}
"""ICMPv6 type -> our NDP message name."""
DNS_SERVICES: dict[str, str] = {"dns": "dns", "mdns": "mdns", "llmnr": "llmnr"}
"""tshark protocol -> our section for DNS-format messages."""
DNS_UPDATE = 5
POP3_COMMANDS = frozenset(
    {"USER", "PASS", "APOP", "AUTH", "STAT", "LIST", "RETR", "DELE", "NOOP", "RSET", "QUIT", "TOP", "UIDL"}
    | {"CAPA", "STLS", "UTF8", "LANG"}
)
"""POP3 commands (RFC 1939, 2449, 2595, 6856): anything else tshark calls a command after AUTH is a
SASL continuation line."""
SECTIONS: tuple[str, ...] = (
    "packets",
    "protocols",
    "icmp",
    "ndp",
    "dns",
    "mdns",
    "llmnr",
    "dhcp",
    "tls",
    "http",
    "smtp",
    "pop3",
    "imap",
    "ftp",
    "smb",
)
"""Sections compared, in print order."""


class TsharkMissing(Exception):
    """tshark (or pyshark) is not installed, so there is nothing to compare with."""


@dataclass(frozen=True, slots=True)
class Row:
    """One number, ours beside tshark's."""

    section: str
    """Section it belongs to (packets, protocols, icmp, dns, ...)."""
    key: str
    """What is counted, e.g. "qtype A" or "v4 3/3"."""
    ours: int
    """Our number (0 when we have none)."""
    tshark: int
    """tshark's number (0 when it has none)."""
    status: str
    """same, quirk (differs only by a known tshark quirk) or DIFF."""
    note: str = ""
    """Why a quirk row differs, or what tshark reports instead."""


@dataclass(slots=True)
class FileCheck:
    """The comparison for one capture file."""

    path: str
    """The capture."""
    tshark_version: str
    """tshark's version string."""
    rows: list[Row] = field(default_factory=list)
    """Every compared number."""

    @property
    def differences(self) -> list[Row]:
        """Rows that differ without a known quirk to explain them."""
        return [r for r in self.rows if r.status == "DIFF"]


def find_tshark() -> tuple[str, str]:
    """(path, version) of the tshark on PATH; TsharkMissing when there is none."""
    path = shutil.which("tshark")
    missing = TsharkMissing("tshark is not installed (Debian/Ubuntu: apt-get install tshark)")
    if path is None:
        raise missing
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise missing from exc
    found = re.search(r"TShark \(Wireshark\) (\d+(?:\.\d+)*)", done.stdout)
    return path, found.group(1) if found else "unknown"


def tshark_frames(
    path: str, tshark: str, fields: tuple[str, ...] = TSHARK_FIELDS
) -> Iterator[list[list[str]]]:
    """Each frame of the capture as tshark sees it: per field, the list of its occurrences. A tshark
    that fails before giving any frame raises RuntimeError with its message (a capture cut short
    still gives the frames before the cut, as our reader does)."""
    cmd = [tshark, *TSHARK_PREFS, "-r", str(path), "-T", "fields"]
    cmd += ["-E", f"separator={FIELD_SEPARATOR}", "-E", "occurrence=a", "-E", f"aggregator={AGGREGATOR}"]
    for name in fields:
        cmd += ["-e", name]
    frames = 0
    with (
        tempfile.TemporaryFile() as err,
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, errors="replace") as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            frames += 1
            values = line.rstrip("\n").split(FIELD_SEPARATOR)
            yield [v.split(AGGREGATOR) if v else [] for v in values]
        try:
            proc.wait(timeout=TSHARK_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        if proc.returncode and not frames:
            err.seek(0)
            lines = [x for x in err.read().decode("utf-8", "replace").splitlines() if x.strip()]
            lines = [x for x in lines if not x.startswith("Running as user")] or ["no output"]
            raise RuntimeError(f"tshark failed on {path}: {lines[0]}")


def _int(text: str) -> int | None:
    try:
        return int(text, 0)
    except ValueError:
        return None


def _dns_messages(f: dict[str, list[str]], counts: Counter[str]) -> None:
    """Count DNS-format messages of one frame (queries, responses, qtypes, rcodes, opcodes)."""
    qcounts, zones, qtypes = iter(f["dns.count.queries"]), iter(f["dns.count.zones"]), iter(f["dns.qry.type"])
    rcodes = iter(f["dns.flags.rcode"])
    opcodes = f["dns.flags.opcode"]
    for i, response in enumerate(f["dns.flags.response"]):
        opcode = _int(opcodes[i]) if i < len(opcodes) else 0
        is_response = response in ("1", "True")
        n = _int(next(zones if opcode == DNS_UPDATE else qcounts, "0")) or 0
        names = [qtype_name(q) for q in (_int(next(qtypes, "")) for _ in range(n)) if q is not None]
        if is_response:
            counts["responses"] += 1
            rcode = _int(next(rcodes, ""))
            if rcode is not None:
                counts[f"rcode {rcode_name(rcode)}"] += 1
        else:
            counts["queries"] += 1
            for name in names:
                counts[f"qtype {name}"] += 1
        if opcode:
            counts[f"opcode {opcode_name(opcode)}"] += 1


def tshark_counts(path: str, tshark: str | None = None) -> dict[str, Counter[str]]:
    """tshark's numbers for one capture, per section (keys as in `our_counts`)."""
    exe = tshark or find_tshark()[0]
    counts: dict[str, Counter[str]] = {name: Counter() for name in SECTIONS}
    for values in tshark_frames(path, exe):
        f = dict(zip(TSHARK_FIELDS, values, strict=False))
        for name in TSHARK_FIELDS:
            f.setdefault(name, [])
        counts["packets"]["frames"] += 1
        stack = (f["frame.protocols"] or [""])[0].split(":")
        layers = set(stack)
        for layer in layers:
            if layer in LAYERS:
                counts["protocols"][LAYERS[layer]] += 1
        if f["icmp.type"] and f["icmp.code"]:
            counts["icmp"][f"v4 {f['icmp.type'][0]}/{f['icmp.code'][0]}"] += 1
        if f["icmpv6.type"] and f["icmpv6.code"]:
            counts["icmp"][f"v6 {f['icmpv6.type'][0]}/{f['icmpv6.code'][0]}"] += 1
            if f["icmpv6.type"][0] in NDP_TYPES:
                counts["ndp"][NDP_TYPES[f["icmpv6.type"][0]]] += 1
        if layers & ICMP_LAYERS:
            continue  # application sections: never the copy quoted in an ICMP error
        for proto, section in DNS_SERVICES.items():
            if proto in layers:
                _dns_messages(f, counts[section])
        if "dhcp" in layers:
            kind = _int(f["dhcp.option.dhcp"][0]) if f["dhcp.option.dhcp"] else None
            counts["dhcp"][NO_OPTION_53 if kind is None else MESSAGE_TYPES.get(kind, str(kind))] += 1
        if "tcp" in layers and "tls" in layers:
            for t in f["tls.handshake.type"]:
                if t in ("1", "2"):
                    counts["tls"]["client_hello" if t == "1" else "server_hello"] += 1
            for sni in f["tls.handshake.extensions_server_name"]:
                counts["tls"][f"sni {sni}"] += 1
        if "tcp" in layers:
            for m in f["http.request.method"]:
                counts["http"][f"method {m}"] += 1
            for c in f["http.response.code"]:
                counts["http"][f"code {c}"] += 1
        _text_protocol(f, layers, counts)
        if f["smb.cmd"] and "icmp" not in layers and "icmpv6" not in layers:
            # not `"smb" in layers`: tshark 4.0 leaves smb out of frame.protocols for SMB over IPX
            cmd = _int(f["smb.cmd"][0])
            if cmd is not None and f["smb.flags.response"][:1] in (["0"], ["False"]):
                counts["smb"][f"smb1 {smb1_command_name(cmd)}"] += 1
        if "smb2" in layers:
            for i, c in enumerate(f["smb2.cmd"]):
                cmd = _int(c)
                flags = f["smb2.flags.response"]
                if cmd is not None and i < len(flags) and flags[i] in ("0", "False"):
                    counts["smb"][f"smb2 {smb2_command_name(cmd)}"] += 1
    return counts


TEXT_PROTOCOLS: dict[str, tuple[str, str, str, str]] = {
    "smtp": ("smtp", "smtp.req.command", "smtp.response.code", "reply"),
    "pop": ("pop3", "pop.request.command", "pop.response.indicator", "reply"),
    "imap": ("imap", "imap.request.command", "imap.response.status", "status"),
    "ftp": ("ftp", "ftp.request.command", "ftp.response.code", "reply"),
}
"""tshark protocol -> (our section, command field, reply field, reply row prefix)."""


def _text_protocol(f: dict[str, list[str]], layers: set[str], counts: dict[str, Counter[str]]) -> None:
    for proto, (section, command, reply, prefix) in TEXT_PROTOCOLS.items():
        if proto in layers:
            for c in f[command]:
                counts[section][f"command {c}"] += 1
            for r in f[reply]:
                counts[section][f"{prefix} {r}"] += 1


def _add(counter: Counter[str], prefix: str, values: Any) -> None:
    if isinstance(values, dict):
        for k, v in values.items():
            if isinstance(v, int) and not isinstance(v, bool):
                counter[f"{prefix}{k}"] += v


def our_counts(summary: dict[str, Any]) -> dict[str, Counter[str]]:
    """Our numbers from a summary JSON, per section, keyed as `tshark_counts` keys them."""
    counts: dict[str, Counter[str]] = {name: Counter() for name in SECTIONS}
    counts["packets"]["frames"] = int((summary.get("capture") or {}).get("packets") or 0)
    protocols = summary.get("protocols") or {}
    _add(counts["protocols"], "", {k: v for k, v in protocols.items() if k in LAYERS.values()})
    icmp = summary.get("icmp") or {}
    for ver in ("v4", "v6"):
        _add(counts["icmp"], f"{ver} ", (icmp.get(ver) or {}).get("by_type_code"))
    _add(counts["ndp"], "", (summary.get("ndp") or {}).get("by_type"))
    for section in DNS_SERVICES.values():
        dns = summary.get(section) or {}
        c = counts[section]
        c["queries"] = int(dns.get("query_count") or 0)
        c["responses"] = int(dns.get("response_count") or 0)
        _add(c, "qtype ", dns.get("queries_by_qtype"))
        _add(c, "rcode ", dns.get("responses_by_rcode"))
        _add(c, "opcode ", {k: v for k, v in (dns.get("opcodes") or {}).items() if k != "QUERY"})
    _add(counts["dhcp"], "", (summary.get("dhcp") or {}).get("by_message_type"))
    tls = summary.get("tls") or {}
    for key in ("client_hello", "server_hello"):
        counts["tls"][key] = int(tls.get(key) or 0)
    _add(counts["tls"], "sni ", tls.get("sni"))
    http = summary.get("http") or {}
    _add(counts["http"], "method ", http.get("requests_by_method"))
    _add(counts["http"], "code ", http.get("responses_by_code"))
    for section, replies in (("smtp", "reply_codes"), ("pop3", "responses"), ("ftp", "reply_codes")):
        data = summary.get(section) or {}
        _add(counts[section], "command ", data.get("commands"))
        _add(counts[section], "reply ", data.get(replies))
    imap = summary.get("imap") or {}
    _add(counts["imap"], "command ", imap.get("commands"))
    _add(counts["imap"], "status ", imap.get("response_status"))
    smb = summary.get("smb") or {}
    for ver in ("smb1", "smb2"):
        _add(counts["smb"], f"{ver} ", (smb.get(ver) or {}).get("requests_by_command"))
    for c in counts.values():
        for k in [k for k, v in c.items() if not v]:
            del c[k]
    return counts


# -- quirks -------------------------------------------------------------------------------------------

Rekey = Callable[[str, Counter[str], dict[str, Any]], tuple[str, str] | None]
"""(tshark key, our counts of the section, summary) -> (our key, note) when a quirk explains it."""


def _smtp_verb(key: str, ours: Counter[str], summary: dict[str, Any]) -> tuple[str, str] | None:
    if not key.startswith("command "):
        return None
    verb = key.removeprefix("command ")
    for mine in ours:
        full = mine.removeprefix("command ")
        if not mine.startswith("command ") or full == verb:
            continue
        if full.upper() == verb.upper():
            return mine, f"tshark 4.0 keeps the case sent ({verb})"
        if len(full) > 4 and full[:4].upper() == verb.upper():
            return mine, f"tshark 4.0 cuts SMTP verbs to four letters ({verb})"
    return None


def _pop3_sasl(key: str, ours: Counter[str], summary: dict[str, Any]) -> tuple[str, str] | None:
    verb = key.removeprefix("command ")
    if key.startswith("command ") and key not in ours and verb.upper() not in POP3_COMMANDS:
        return (
            "command (AUTH continuation lines)",
            "tshark 4.0 counts POP3 AUTH continuation lines as commands",
        )
    return None


QUIRKS: dict[str, Rekey] = {"smtp": _smtp_verb, "pop3": _pop3_sasl}
"""Section -> how a tshark key that we do not have may still be explained (see the module doc)."""


def _ftp_multiline_note(row_key: str, summary: dict[str, Any]) -> str:
    ftp = summary.get("ftp") or {}
    code = row_key.removeprefix("reply ")
    lines = (ftp.get("reply_codes") or {}).get(code)
    replies = (ftp.get("replies") or {}).get(code)
    if (
        row_key.startswith("reply ")
        and isinstance(lines, int)
        and isinstance(replies, int)
        and lines > replies
    ):
        return f"tshark 4.0 counts each line of a multi-line FTP reply ({replies} replies)"
    return ""


def compare(
    ours: dict[str, Counter[str]], theirs: dict[str, Counter[str]], summary: dict[str, Any]
) -> list[Row]:
    """Rows of every section: the union of both sides' keys, quirks matched and annotated."""
    rows: list[Row] = []
    for section in SECTIONS:
        mine, other = ours.get(section, Counter()), theirs.get(section, Counter())
        mapped: Counter[str] = Counter()
        notes: dict[str, str] = {}
        rekey = QUIRKS.get(section)
        for key, n in other.items():
            hit = rekey(key, mine, summary) if rekey is not None and key not in mine else None
            if hit is None:
                mapped[key] += n
            else:
                mapped[hit[0]] += n
                notes[hit[0]] = hit[1]
        for key in sorted(set(mine) | set(mapped), key=lambda k: (-max(mine[k], mapped[k]), k)):
            a, b = mine[key], mapped[key]
            note = notes.get(key, "")
            if section == "ftp" and not note:
                note = _ftp_multiline_note(key, summary)
            if a == b:
                status = "quirk" if key in notes else "same"
            elif key == "command (AUTH continuation lines)":
                status = "quirk"
            else:
                status = "DIFF"
            rows.append(Row(section, key, a, b, status, note))
    return rows


def crosscheck(
    path: str, summary: dict[str, Any] | None = None, tshark: tuple[str, str] | None = None
) -> FileCheck:
    """Analyse `path` (unless its summary is given) and compare it with tshark's view of it."""
    exe, version = tshark or find_tshark()
    if summary is None:
        from analyzer.pipeline import analyze

        summary = analyze([path])[0].to_json()
    check = FileCheck(path, version)
    check.rows = compare(our_counts(summary), tshark_counts(path, exe), summary)
    return check


MARKS: dict[str, str] = {"same": "", "quirk": "~", "DIFF": "≠"}
"""Status -> mark printed in the first column."""


def render_check(check: FileCheck, show_same: bool = True) -> str:
    """The comparison as terminal tables, one per section, each row's note listed beneath."""
    from analyzer.report.text import format_table, safe

    out = [f"== {safe(check.path, 0)}: ours vs tshark {safe(check.tshark_version)} =="]
    for section in SECTIONS:
        rows = [r for r in check.rows if r.section == section and (show_same or r.status != "same")]
        if not rows:
            continue
        body = [[MARKS[r.status], r.key, r.ours, r.tshark] for r in rows]
        diffs = sum(r.status == "DIFF" for r in rows)
        out.append(f"-- {section}: {f'{diffs} differing' if diffs else 'all equal'} --")
        out.append(format_table(["", section, "ours", "tshark"], body))
        out += [f"  {MARKS[r.status] or '*'} {safe(r.key, 0)}: {r.note}" for r in rows if r.note]
        out.append("")
    total = len(check.rows)
    quirks = sum(r.status == "quirk" for r in check.rows)
    out.append(
        f"{total - len(check.differences)}/{total} numbers agree"
        + (f" ({quirks} through known tshark quirks, ~)" if quirks else "")
        + (f"; {len(check.differences)} differ (≠)" if check.differences else "")
    )
    return "\n".join(out) + "\n"


__all__ = [
    "FileCheck",
    "Row",
    "TsharkMissing",
    "compare",
    "crosscheck",
    "find_tshark",
    "our_counts",
    "render_check",
    "tshark_counts",
    "tshark_frames",
]
