"""`pcap-analyzer report`: one self-contained HTML file, escaped, with charts; checked in Chromium.

The browser tests open the report in headless Chromium (Debian's `chromium`; scripts/test installs
it as root), read the DOM after the scripts ran (--dump-dom) and keep a screenshot in test-artifacts/.
They skip with a reason when Chromium is not installed.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from analyzer.cli import main
from analyzer.report.html import COLLAPSE_ROWS, esc, render_html, render_table
from analyzer.report.tables import report_sections
from analyzer.report.text import Table
from analyzer.report.timeline import MAX_BINS, NICE_INTERVALS, choose_bins, traffic_series
from tests.oracle import REPO, SAMPLES, analyze_json
from tests.wholeness import appears_whole, identifiers

MIXED = SAMPLES / "mixed.pcap"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.requires("chromium")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
BROWSER_TIMEOUT = 90
"""Seconds one Chromium run may take (it starts in about two)."""
EVIL_DNS = "<script>document.title='pwned'</script>"
EVIL_HOST = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"
EVIL_DHCP = "<svg onload=alert(1)>$\\alpha$"
SORT_PROBE = """<script>(function(){var t=document.getElementById('t-capture-1');
var th=t.tHead.rows[0].cells[1];th.click();
document.body.setAttribute('data-sorted-first',t.tBodies[0].rows[0].cells[0].textContent);
document.body.setAttribute('data-sort-state',th.getAttribute('aria-sort'));})();</script>"""
"""Appended by a test only: clicks the "frames" header of the protocol hierarchy table."""


def build_hostile_pcap(path: Path) -> None:
    """DNS query, HTTP request and DHCP DISCOVER whose names are markup, formula and escapes."""
    from scapy.layers.dhcp import BOOTP, DHCP
    from scapy.layers.dns import DNS, DNSQR
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap

    c_mac, s_mac = "00:00:5e:00:53:10", "00:00:5e:00:53:01"
    cli, srv = "192.0.2.10", "203.0.113.10"
    eth_c, eth_s = Ether(src=c_mac, dst=s_mac), Ether(src=s_mac, dst=c_mac)
    pkts: list[Any] = []
    dns = DNS(id=7, rd=1, qd=DNSQR(qname=EVIL_DNS + ".example", qtype="A"))
    pkts.append(eth_c / IP(src=cli, dst="192.0.2.53") / UDP(sport=40000, dport=53) / dns)
    isn_c, isn_s = 1000, 5000
    request = (f"GET /\x1b[31m HTTP/1.1\r\nHost: {EVIL_HOST}\r\nUser-Agent: =cmd|calc\r\n\r\n").encode(
        "latin-1"
    )
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    tcp = [
        (eth_c, cli, srv, 50000, 80, "S", isn_c, 0, b""),
        (eth_s, srv, cli, 80, 50000, "SA", isn_s, isn_c + 1, b""),
        (eth_c, cli, srv, 50000, 80, "A", isn_c + 1, isn_s + 1, b""),
        (eth_c, cli, srv, 50000, 80, "PA", isn_c + 1, isn_s + 1, request),
        (eth_s, srv, cli, 80, 50000, "PA", isn_s + 1, isn_c + 1 + len(request), response),
        (eth_c, cli, srv, 50000, 80, "FA", isn_c + 1 + len(request), isn_s + 1 + len(response), b""),
        (eth_s, srv, cli, 80, 50000, "FA", isn_s + 1 + len(response), isn_c + 2 + len(request), b""),
        (eth_c, cli, srv, 50000, 80, "A", isn_c + 2 + len(request), isn_s + 2 + len(response), b""),
    ]
    for eth, src, dst, sport, dport, flags, seq, ack, data in tcp:
        pkts.append(
            eth / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack) / data
        )
    bootp = BOOTP(chaddr=bytes.fromhex("00005e005310"), xid=0x1234, flags=0x8000)
    discover = DHCP(options=[("message-type", "discover"), ("hostname", EVIL_DHCP.encode()), "end"])
    pkts.append(
        Ether(src=c_mac, dst="ff:ff:ff:ff:ff:ff")
        / IP(src="0.0.0.0", dst="255.255.255.255")
        / UDP(sport=68, dport=67)
        / bootp
        / discover
    )
    for i, p in enumerate(pkts):
        p.time = 1709287200 + i * 0.5
    wrpcap(str(path), pkts)


@pytest.fixture(scope="module")
def mixed() -> dict[str, Any]:
    return analyze_json(str(MIXED))


@pytest.fixture(scope="module")
def mixed_html(mixed: dict[str, Any]) -> str:
    series = traffic_series([str(MIXED)], mixed["capture"]["first_ts"], mixed["capture"]["last_ts"])
    return render_html(mixed, series)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "hostile.pcap"
    build_hostile_pcap(path)
    return path


@pytest.fixture(scope="module")
def hostile_html(hostile: Path) -> str:
    data = analyze_json(str(hostile))
    assert data["dns"]["query_count"] == 1 and data["http"]["request_count"] == 1  # the names got in
    return render_html(
        data, traffic_series([str(hostile)], data["capture"]["first_ts"], data["capture"]["last_ts"])
    )


# -- the HTML itself ----------------------------------------------------------------------------------


def test_self_contained(mixed_html: str) -> None:
    # attributes inside tags only: a Wireshark filter in a cell says "ip.src == ..."
    refs = re.findall(r"""<[^>]*?\s(?:src|href)\s*=\s*["']?([^"' >]+)""", mixed_html, re.I)
    assert refs and all(r.startswith("#") for r in refs), [r for r in refs if not r.startswith("#")]
    assert not re.search(r"url\(\s*['\"]?(?!#)", mixed_html)
    assert not re.search(r"<link\b|@import|<iframe\b|<object\b|<embed\b", mixed_html, re.I)


def test_sections_tables_and_charts(mixed: dict[str, Any], mixed_html: str) -> None:
    for section in report_sections(mixed):
        assert f'id="sec-{section.name}"' in mixed_html
        for table in section.tables:
            assert esc(table.title) in mixed_html
    for key in ("traffic", "protocol-mix", "top-talkers", "dns-qtypes", "tls-versions", "dhcp-leases"):
        assert f'id="chart-{key}"' in mixed_html
    assert mixed_html.count("<svg") >= 6 and "<script" in mixed_html
    assert 'data-key="packets"><b>536</b>' in mixed_html


def test_every_identifier_is_whole_in_the_html(mixed: dict[str, Any], mixed_html: str) -> None:
    text = html.unescape(re.sub(r"<[^>]+>", " ", mixed_html))
    assert "…" not in text
    missing = sorted(v for v in identifiers(mixed) if not appears_whole(v, text))
    assert not missing, missing[:10]


def test_long_cells_fold_but_keep_the_whole_value() -> None:
    value = "UDP [2001:db8:1::10]:41001 → [2001:db8:ffff::1]:53 " + "word " * 40
    page = render_table(Table("t", ["what"], [[value]]), "t-x")
    assert f'title="{html.escape(value)}"' in page and f"<div>{html.escape(value)}</div>" in page


def test_top_talkers_chart_brackets_ipv6_and_leaves_icmp_ports_out(mixed_html: str) -> None:
    chart = mixed_html.split('id="chart-top-talkers"')[1].split("</figure>")[0]
    assert "[2001:db8:2::20]:80 (http)" in chart
    assert "2001:db8:2::20:80" not in chart and "2001:db8:1::10:0" not in chart


def test_svg_ids_are_unique(mixed_html: str) -> None:
    ids = re.findall(r'\bid="([^"]+)"', mixed_html)
    assert len(ids) == len(set(ids))


def test_long_tables_fold() -> None:
    long = Table("Many", ["n"], [[i] for i in range(COLLAPSE_ROWS + 1)])
    short = Table("Few", ["n"], [[1]])
    assert render_table(long, "t-long").startswith("<details>") and "(16 rows)" in render_table(
        long, "t-long"
    )
    assert render_table(short, "t-short").startswith("<h3>Few</h3>")
    assert '<td class="num">3</td>' in render_table(long, "t-long")


def test_wire_strings_are_escaped(hostile_html: str) -> None:
    assert "<script>document.title" not in hostile_html
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in hostile_html
    assert "<img src=x" not in hostile_html and "&lt;img src=x onerror=" in hostile_html
    assert "<svg onload" not in hostile_html and "&lt;svg onload=alert(1)&gt;" in hostile_html
    assert "\x1b" not in hostile_html
    assert hostile_html.count("<script>") == 2  # ours: the error guard and the table sorter


def test_no_charts_leaves_matplotlib_out(mixed: dict[str, Any]) -> None:
    html = render_html(mixed, None, charts=False)
    assert "<svg" not in html and 'id="sec-dns"' in html


def test_section_filter(mixed: dict[str, Any]) -> None:
    html = render_html(mixed, None, ["dns"], charts=False)
    assert 'id="sec-dns"' in html and 'id="sec-tls"' not in html and 'id="sec-overview"' in html


def test_traffic_series_counts_every_frame(mixed: dict[str, Any]) -> None:
    cap = mixed["capture"]
    series = traffic_series([str(MIXED)], cap["first_ts"], cap["last_ts"])
    assert series is not None
    assert sum(series.packets) == cap["packets"] and sum(series.bytes) == cap["bytes"]
    assert len(series.packets) <= MAX_BINS and series.interval in NICE_INTERVALS
    assert series.start <= cap["first_ts"] < series.start + series.interval
    assert traffic_series(["-"], 0.0, 1.0) is None and traffic_series([str(MIXED)], None, None) is None


@pytest.mark.parametrize(
    ("span", "interval"), [(0.0, 0.001), (1.0, 0.01), (3600.0, 60.0), (86400 * 30, 43200.0)]
)
def test_bins_use_a_nice_interval(span: float, interval: float) -> None:
    start, step, count = choose_bins(1709287200.0, 1709287200.0 + span)
    assert step == interval and count <= MAX_BINS and start <= 1709287200.0


# -- the command --------------------------------------------------------------------------------------


def test_report_command(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", str(MIXED), "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and 'id="chart-traffic"' in html
    assert f"report written to {out}" in result.stderr


def test_report_to_stdout_without_charts() -> None:
    result = CliRunner().invoke(main, ["report", str(SAMPLES / "dns.pcap"), "-o", "-", "--no-charts"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!DOCTYPE html>") and "<svg" not in result.stdout


def test_report_of_a_broken_file_still_written(tmp_path: Path) -> None:
    cut = tmp_path / "cut.pcap"
    cut.write_bytes((SAMPLES / "dns.pcap").read_bytes()[:-10])
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", str(cut), "-o", str(out)])
    assert result.exit_code == 2 and out.exists()
    assert "cut.pcap" in out.read_text()


# -- in a real browser --------------------------------------------------------------------------------


def chromium(tmp_path: Path, *args: str) -> str:
    assert CHROMIUM is not None
    profile = tmp_path / "chromium-profile"
    cmd = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=BROWSER_TIMEOUT, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@needs_chromium
def test_mixed_report_in_chromium(tmp_path: Path, mixed: dict[str, Any], mixed_html: str) -> None:
    page = tmp_path / "report.html"
    page.write_text(mixed_html.replace("</body>", SORT_PROBE + "</body>"), encoding="utf-8")
    dom = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert re.search(r'<html[^>]*data-js="ok"', dom), "the report's script did not run to its end"
    assert 'id="js-error"' not in dom
    for section in report_sections(mixed):
        assert f'id="sec-{section.name}"' in dom
    assert ">536<" in dom and ">75.2 kB<" in dom  # packets and bytes cards
    assert f"DNS queries by type ({mixed['dns']['query_count']} queries)" in dom
    assert 'data-sorted-first="arp"' in dom and 'data-sort-state="ascending"' in dom
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-mixed.png"
    shot.unlink(missing_ok=True)
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,4000", page.as_uri())
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_chromium
def test_hostile_report_in_chromium(tmp_path: Path, hostile_html: str) -> None:
    page = tmp_path / "hostile.html"
    page.write_text(hostile_html, encoding="utf-8")
    dom = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert re.search(r'<html[^>]*data-js="ok"', dom) and 'id="js-error"' not in dom
    assert "pwned" not in dom.split("</title>")[0].split("<title>")[-1]
    assert "data-pwned" not in dom.replace("&quot;", '"').split("<body")[1].split(">")[0]
    assert "&lt;script&gt;document.title=" in dom and "&lt;img src=x onerror=" in dom
    ARTIFACTS.mkdir(exist_ok=True)
    chromium(
        tmp_path, f"--screenshot={ARTIFACTS / 'report-hostile.png'}", "--window-size=1280,2400", page.as_uri()
    )
