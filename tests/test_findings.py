"""Findings: derived from the summary, bounded, ordered, equal with --jobs, and their Wireshark filters
really show the occurrences (checked with tshark on the samples)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from click.testing import CliRunner

from analyzer.cli import main
from analyzer.findings import (
    FINDING_KINDS,
    LARGE_FLOW_BYTES,
    MAX_FINDINGS,
    MAX_PER_KIND,
    MAX_UIDS,
    SEVERITY_RANK,
    derive_findings,
    findings_json,
)
from analyzer.parallel import analyze_parallel
from tests.oracle import REPO, SAMPLES, analyze_json, needs_tshark, sample_files, tshark_output

KEYS = ["severity", "kind", "summary", "count", "first_ts", "frames", "uids", "filter"]
SCREEN_LINES = 50
"""One screen of a terminal: `--brief` must fit in it."""
MIXED_KINDS = {
    "clear_text_credentials",
    "dhcp_rogue_server",
    "dhcp_nak",
    "dhcp_decline",
    "tls_handshake_failed",
    "certificate_self_signed",
    "blocked_flows",
    "refused_flows",
    "refused_connections",
    "dns_nxdomain",
    "dns_servfail",
    "dns_refused",
    "dns_unanswered",
    "malformed",
    "smtp_rejected",
}
"""Kinds whose traffic the mixed sample contains (its TLS on 8443 is on a TLS port: no mismatch)."""


@pytest.fixture(scope="module")
def mixed() -> dict[str, Any]:
    return analyze_json(str(SAMPLES / "mixed.pcap"))


def test_findings_sit_after_capture_with_the_contract_keys(mixed: dict[str, Any]) -> None:
    keys = list(mixed)
    assert keys.index("findings") == keys.index("capture") + 1
    for f in mixed["findings"]:
        assert list(f) == KEYS
        assert f["kind"] in FINDING_KINDS and FINDING_KINDS[f["kind"]][0] == f["severity"]
        assert f["count"] >= 1 and f["filter"]
        assert len(f["uids"]) <= MAX_UIDS


def test_mixed_sample_has_every_kind_it_contains(mixed: dict[str, Any]) -> None:
    assert {f["kind"] for f in mixed["findings"]} >= MIXED_KINDS


def test_port_mismatches_become_findings() -> None:
    services = analyze_json(str(SAMPLES / "services.pcap"))
    mismatch = [f for f in services["findings"] if f["kind"] == "port_mismatch"]
    assert len(mismatch) == min(len(services["mismatches"]), MAX_PER_KIND)
    assert all(f["count"] == 1 and "unusual port" in f["summary"].replace("_", " ") for f in mismatch)


def test_most_severe_first(mixed: dict[str, Any]) -> None:
    ranks = [SEVERITY_RANK[f["severity"]] for f in mixed["findings"]]
    assert ranks == sorted(ranks)
    assert mixed["findings"][0]["severity"] == "high"


def test_credentials_are_masked(mixed: dict[str, Any]) -> None:
    creds = [f for f in mixed["findings"] if f["kind"] == "clear_text_credentials"]
    assert {f["summary"].split()[0] for f in creds} == {"FTP", "POP3", "IMAP"}
    text = json.dumps(creds)
    assert "alice" not in text and "bob" not in text and "a***" in text


def test_counts_agree_with_the_sections(mixed: dict[str, Any]) -> None:
    by_kind: dict[str, int] = {}
    for f in mixed["findings"]:
        by_kind[f["kind"]] = by_kind.get(f["kind"], 0) + f["count"]
    assert by_kind["dns_nxdomain"] == mixed["dns"]["responses_by_rcode"]["NXDOMAIN"]
    assert by_kind["dns_servfail"] == mixed["dns"]["responses_by_rcode"]["SERVFAIL"]
    assert by_kind["dns_unanswered"] == mixed["dns"]["transactions"]["unanswered"]
    assert by_kind["malformed"] == sum(mixed["malformed"].values())
    assert by_kind["refused_connections"] == mixed["flows"]["by_conn_state"]["REJ"]


def test_two_jobs_give_the_same_findings(mixed: dict[str, Any]) -> None:
    two = analyze_parallel([str(SAMPLES / "mixed.pcap")], jobs=2)[0].to_json()
    assert two["findings"] == mixed["findings"]


def test_findings_are_bounded_and_ordered_on_a_synthetic_summary() -> None:
    answers = [
        {"ts": float(i), "uid": f"C{i:017d}", "id.orig_h": f"10.0.{i // 250}.{i % 250}", "query": "x.test"}
        | {"rcode_name": "NXDOMAIN"}
        for i in range(3 * MAX_FINDINGS)
    ]
    summary: dict[str, Any] = {
        "dns": {"answers": answers},
        "tls": {
            "handshakes": [
                {"uid": "Cold", "version": "TLS 1.0", "id.resp_h": "192.0.2.9", "id.resp_p": 443, "ts": 5.0}
            ],
            "certificates": [
                {"uid": "Cold", "ts": 5.5, "expired": True, "chain_index": 0}
                | {"certificate.subject": "CN=old", "sni": "old.test"}
            ],
        },
        "flows": {
            "top": [
                {"ts": 1.0, "uid": "Cbig", "id.orig_h": "10.0.0.1", "id.resp_h": "10.0.0.2", "id.resp_p": 9}
                | {"proto": "tcp", "service": None, "orig_ip_bytes": LARGE_FLOW_BYTES, "resp_ip_bytes": 1}
                | {"missed_bytes": 1460, "conn_state": "SF"}
            ]
        },
    }
    found = derive_findings(summary)
    assert len(found) <= MAX_FINDINGS
    assert sum(f.kind == "dns_nxdomain" for f in found) == MAX_PER_KIND
    assert found[0].kind == "certificate_expired" and found[0].severity == "high"
    assert found[0].filter == "ip.addr == 192.0.2.9 && tcp.port == 443 && tls.handshake.type == 11"
    kinds = [f.kind for f in found]
    assert "tls_legacy_version" in kinds and "missed_bytes" in kinds
    assert "large_unidentified_flow" in kinds
    assert findings_json(summary) == findings_json(json.loads(json.dumps(summary)))


def test_empty_summary_has_no_findings() -> None:
    assert findings_json({}) == []
    assert findings_json({"dns": None, "flows": {"by_conn_state": {"REJ": 0}}}) == []


@pytest.mark.parametrize("name", sample_files())
def test_brief_fits_one_screen(name: str) -> None:
    result = CliRunner().invoke(main, ["analyze", "--brief", str(SAMPLES / name)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) <= SCREEN_LINES
    assert any(line.startswith("== Capture") for line in lines)
    assert any(line.startswith("== Protocol hierarchy") for line in lines)
    assert not any(line.startswith("== Top conversations") for line in lines)


def test_brief_json_keeps_capture_protocols_and_findings() -> None:
    result = CliRunner().invoke(main, ["analyze", "--brief", "--format", "json", str(SAMPLES / "dns.pcap")])
    data = json.loads(result.output)
    assert list(data) == ["schema", "capture", "findings", "protocols"]
    assert {f["kind"] for f in data["findings"]} >= {"dns_nxdomain", "dns_servfail", "dns_unanswered"}


def test_findings_open_the_table_report() -> None:
    result = CliRunner().invoke(main, ["analyze", str(SAMPLES / "tls.pcap")])
    findings = analyze_json(str(SAMPLES / "tls.pcap"))["findings"]
    assert len(findings) >= 2
    assert result.output.startswith(f"== Findings ({len(findings)}) ==")
    md = CliRunner().invoke(main, ["analyze", "--format", "markdown", str(SAMPLES / "tls.pcap")]).output
    assert md.index("## Findings") < md.index("## Capture overview")


def _tshark_frames(path: str, display_filter: str) -> int:
    """Frames matching the filter in Wireshark's two-pass view (-2: dns.response_in is known)."""
    try:
        return len(tshark_output(path, "-2", "-Y", display_filter).splitlines())
    except subprocess.CalledProcessError as exc:
        raise AssertionError(f"tshark rejects {display_filter!r}: {exc.stderr[-300:]}") from None


@needs_tshark
@pytest.mark.parametrize("name", ["mixed.pcap", "dns.pcap", "dhcp.pcap", "tls.pcap", "icmp.pcap", "ndp.pcap"])
def test_every_filter_shows_its_occurrences_in_tshark(name: str) -> None:
    path = str(SAMPLES / name)
    data = analyze_json(path)
    assert data["findings"]
    for f in data["findings"]:
        frames = _tshark_frames(path, f["filter"])
        assert frames >= 1, f
        if f["kind"] in ("dns_nxdomain", "dns_servfail", "dns_refused", "blocked_flows", "refused_flows"):
            assert frames == f["count"], f


def test_every_kind_is_documented() -> None:
    text = (REPO / "docs" / "findings.md").read_text()
    missing = [kind for kind in FINDING_KINDS if f"| `{kind}` | {FINDING_KINDS[kind][0]} |" not in text]
    assert missing == []


def test_markdown_keeps_the_whole_filter() -> None:
    md = CliRunner().invoke(main, ["analyze", "--format", "markdown", str(SAMPLES / "tls.pcap")]).output
    assert "tls.handshake.type == 11 |" in md


def test_ndp_rogue_router_and_address_conflict() -> None:
    ndp = analyze_json(str(SAMPLES / "ndp.pcap"))
    assert [f["kind"] for f in ndp["findings"]] == ["ndp_address_conflict"]
    router = {"default_router": True, "first_seen": 2.0, "mac": "00:00:5e:00:53:01"}
    two = {"ndp": {"routers": [router | {"address": "fe80::1"}, router | {"address": "fe80::bad"}]}}
    found = derive_findings(two)
    assert [(f.kind, f.severity, f.count) for f in found] == [("ndp_rogue_router", "high", 2)]
    assert "fe80::bad" in found[0].summary and found[0].filter == "icmpv6.type == 134"
