"""`pcap-analyzer crosscheck`: our numbers beside tshark's, section by section, quirks annotated.

The tshark side is checked three ways: against the filter-based oracle of tests/oracle.py, against
TRUTH.json of the shared captures (made by the same tshark with the same options), and by the
samples agreeing end to end with our analysis (any difference there is a bug on one side).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from click.testing import CliRunner

from analyzer import crosscheck as cc
from analyzer.cli import EXIT_DIFFERENT, EXIT_NO_TSHARK, main
from analyzer.dissectors.dns import qtype_name
from analyzer.dissectors.smb import smb2_command_name
from tests.oracle import (
    SAMPLES,
    SHARED_PCAPS,
    analyze_json,
    needs_shared,
    needs_tshark,
    sample_files,
    shared_entry,
    shared_files,
    truth_names,
    tshark_count,
    tshark_frame_count,
)

MIXED = str(SAMPLES / "mixed.pcap")


@pytest.fixture(scope="module")
def tshark() -> tuple[str, str]:
    return cc.find_tshark()


@pytest.fixture(scope="module")
def mixed_tshark(tshark: tuple[str, str]) -> dict[str, Counter[str]]:
    return cc.tshark_counts(MIXED, tshark[0])


# -- the tshark side ----------------------------------------------------------------------------------


@needs_tshark
def test_tshark_side_matches_the_filter_oracle(mixed_tshark: dict[str, Counter[str]]) -> None:
    assert mixed_tshark["packets"]["frames"] == tshark_frame_count(MIXED)
    queries = tshark_count(MIXED, "dns && !icmp && !icmpv6 && dns.flags.response==0", "dns.qry.type")
    assert {f"qtype {qtype_name(int(k))}": v for k, v in queries.items()} == {
        k: v for k, v in mixed_tshark["dns"].items() if k.startswith("qtype ")
    }
    methods = tshark_count(MIXED, "http.request.method && tcp && !icmp && !icmpv6", "http.request.method")
    assert {f"method {k}": v for k, v in methods.items()} == {
        k: v for k, v in mixed_tshark["http"].items() if k.startswith("method ")
    }
    smtp = tshark_count(MIXED, "smtp && !icmp && !icmpv6", "smtp.req.command")
    assert smtp["STAR"] == mixed_tshark["smtp"]["command STAR"] == 1
    requests = tshark_count(MIXED, "smb2 && !icmp && !icmpv6 && smb2.flags.response==0", "smb2.cmd")
    assert sum(requests.values()) == sum(v for k, v in mixed_tshark["smb"].items() if k.startswith("smb2 "))
    assert mixed_tshark["smb"][f"smb2 {smb2_command_name(5)}"] == requests["5"]


def _truth_rows(entry: dict[str, Any]) -> dict[str, dict[str, int]]:
    """TRUTH.json numbers in crosscheck's keys (sections the tshark side computes)."""
    out: dict[str, dict[str, int]] = {"packets": {"frames": entry["capture"]["packet_count"]}}
    icmp = entry.get("icmp") or {}
    out["icmp"] = {f"{v} {k}": n for v in ("v4", "v6") for k, n in (icmp.get(v) or {}).items()}
    out["ndp"] = {cc.NDP_TYPES[k]: n for k, n in (entry.get("ndp") or {}).items() if k in cc.NDP_TYPES}
    for section in ("dns", "mdns", "llmnr"):
        d = entry.get(section) or {}
        rows = {"queries": d.get("query_count", 0), "responses": d.get("response_count", 0)}
        rows |= {f"qtype {k}": n for k, n in (d.get("queries_by_qtype") or {}).items()}
        rows |= {f"rcode {k}": n for k, n in (d.get("responses_by_rcode") or {}).items()}
        rows |= {f"opcode {k}": n for k, n in (d.get("messages_by_opcode") or {}).items() if k != "QUERY"}
        out[section] = {k: v for k, v in rows.items() if v}
    out["dhcp"] = dict((entry.get("dhcp") or {}).get("by_message_type") or {})
    tls = entry.get("tls") or {}
    out["tls"] = {k: tls[k] for k in ("client_hello", "server_hello") if tls.get(k)}
    out["tls"] |= {f"sni {k}": n for k, n in (tls.get("sni_counts") or {}).items()}
    http = entry.get("http") or {}
    out["http"] = {f"method {k}": n for k, n in (http.get("requests_by_method") or {}).items()}
    out["http"] |= {f"code {k}": n for k, n in (http.get("responses_by_code") or {}).items()}
    for section, key, replies, prefix in (
        ("smtp", "smtp", "reply_codes", "reply"),
        ("pop3", "pop", "response_indicators", "reply"),
        ("imap", "imap", "response_status", "status"),
        ("ftp", "ftp", "reply_codes", "reply"),
    ):
        d = entry.get(key) or {}
        out[section] = {f"command {k}": n for k, n in (d.get("commands") or {}).items()}
        out[section] |= {f"{prefix} {k}": n for k, n in (d.get(replies) or {}).items()}
    smb = entry.get("smb") or {}
    out["smb"] = {
        f"{v} {k}": n
        for v in ("smb1", "smb2")
        for k, n in truth_names((smb.get(v) or {}).get("requests_by_command") or {}).items()
    }
    return out


@needs_shared
@needs_tshark
@pytest.mark.parametrize("rel", shared_files())
def test_tshark_side_matches_truth_json(rel: str, tshark: tuple[str, str]) -> None:
    counts = cc.tshark_counts(str(SHARED_PCAPS / rel), tshark[0])
    for section, expected in _truth_rows(shared_entry(rel)).items():
        assert dict(counts[section]) == expected, section


# -- quirks and comparison ----------------------------------------------------------------------------


def test_smtp_four_letter_verbs_and_case_are_quirks() -> None:
    ours = {"smtp": Counter({"command STARTTLS": 2, "command HELO": 1, "command MAIL": 1})}
    theirs = {"smtp": Counter({"command STAR": 2, "command helo": 1, "command MAIL": 1})}
    rows = {r.key: r for r in cc.compare(ours, theirs, {})}
    assert rows["command STARTTLS"].status == "quirk" and rows["command STARTTLS"].tshark == 2
    assert "four letters" in rows["command STARTTLS"].note
    assert rows["command HELO"].status == "quirk" and "case" in rows["command HELO"].note
    assert rows["command MAIL"].status == "same"


def test_smtp_quirk_does_not_hide_a_real_difference() -> None:
    rows = cc.compare({"smtp": Counter({"command STARTTLS": 2})}, {"smtp": Counter({"command STAR": 1})}, {})
    assert [(r.key, r.status) for r in rows] == [("command STARTTLS", "DIFF")]


def test_pop3_auth_continuation_lines_are_a_quirk() -> None:
    ours = {"pop3": Counter({"command AUTH": 1, "command USER": 1})}
    theirs = {
        "pop3": Counter({"command AUTH": 1, "command USER": 1, "command dGVzdAB0ZXN0": 1, "command *": 1})
    }
    rows = {r.key: r for r in cc.compare(ours, theirs, {})}
    cont = rows["command (AUTH continuation lines)"]
    assert cont.ours == 0 and cont.tshark == 2 and cont.status == "quirk" and "AUTH" in cont.note


def test_ftp_multi_line_replies_are_annotated() -> None:
    summary = {"ftp": {"reply_codes": {"220": 3}, "replies": {"220": 1}}}
    ours = {"ftp": Counter({"reply 220": 3})}
    rows = cc.compare(ours, {"ftp": Counter({"reply 220": 3})}, summary)
    assert rows[0].status == "same" and "multi-line" in rows[0].note and "(1 replies)" in rows[0].note


def test_a_plain_difference_is_marked() -> None:
    rows = cc.compare({"dns": Counter({"qtype A": 2})}, {"dns": Counter({"qtype A": 3, "qtype MX": 1})}, {})
    assert {(r.key, r.ours, r.tshark, r.status) for r in rows} == {
        ("qtype A", 2, 3, "DIFF"),
        ("qtype MX", 0, 1, "DIFF"),
    }


def test_our_counts_reads_every_section() -> None:
    counts = cc.our_counts(analyze_json(MIXED))
    for section in cc.SECTIONS:
        assert counts[section], section
    assert counts["packets"]["frames"] == 536 and counts["protocols"]["eth"] == 536


# -- end to end ---------------------------------------------------------------------------------------


@needs_tshark
@pytest.mark.parametrize("name", sample_files())
def test_samples_agree_with_tshark(name: str, tshark: tuple[str, str]) -> None:
    check = cc.crosscheck(str(SAMPLES / name), tshark=tshark)
    assert check.rows and not check.differences, cc.render_check(check, show_same=False)


@needs_tshark
def test_crosscheck_command_table() -> None:
    result = CliRunner().invoke(main, ["crosscheck", str(SAMPLES / "mail.pcap")])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "ours vs tshark 4." in out and "-- smtp: all equal --" in out
    assert "~   command STARTTLS" in out and "four letters (STAR)" in out
    assert "numbers agree" in out


@needs_tshark
def test_crosscheck_command_json_and_differences_only() -> None:
    result = CliRunner().invoke(
        main, ["crosscheck", str(SAMPLES / "mail.pcap"), "--format", "json", "--differences"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data[0]["path"].endswith("mail.pcap")
    assert data[0]["rows"] == [
        {
            "section": "smtp",
            "key": "command STARTTLS",
            "ours": 1,
            "tshark": 1,
            "status": "quirk",
            "note": "tshark 4.0 cuts SMTP verbs to four letters (STAR)",
        }
    ]


@needs_tshark
def test_crosscheck_strict_exit_status(monkeypatch: pytest.MonkeyPatch) -> None:
    real = cc.tshark_counts

    def off_by_one(path: str, tshark: str | None = None) -> dict[str, Counter[str]]:
        counts = real(path, tshark)
        counts["packets"]["frames"] += 1
        return counts

    monkeypatch.setattr(cc, "tshark_counts", off_by_one)
    result = CliRunner().invoke(main, ["crosscheck", str(SAMPLES / "ndp.pcap"), "--strict"])
    assert result.exit_code == EXIT_DIFFERENT
    assert "≠   frames" in result.stdout and "1 differ" in result.stdout


def test_crosscheck_without_tshark(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> tuple[str, str]:
        raise cc.TsharkMissing("tshark is not installed (Debian/Ubuntu: apt-get install tshark)")

    monkeypatch.setattr(cc, "find_tshark", missing)
    result = CliRunner().invoke(main, ["crosscheck", MIXED])
    assert result.exit_code == EXIT_NO_TSHARK
    assert result.stderr.strip().count("\n") == 0 and "needs tshark" in result.stderr


@needs_shared
@needs_tshark
def test_shared_smtp_quirk(tshark: tuple[str, str]) -> None:
    check = cc.crosscheck(str(SHARED_PCAPS / "smtp" / "zeek-smtp-starttls.pcap"), tshark=tshark)
    row = next(r for r in check.rows if r.key == "command STARTTLS")
    assert row.status == "quirk" and row.ours == row.tshark


def test_crosscheck_refuses_standard_input() -> None:
    result = CliRunner().invoke(main, ["crosscheck", "-"])
    assert result.exit_code == 2 and "not standard input" in result.output
