"""Hostile and broken captures: every case of `tests/make_bad_captures.py`, run through the real CLI.

Each case runs `pcap-analyzer analyze FILE --format json -o OUT --jobs 1` in a fresh child process
(forked from a clean process that has the analyzer imported: it notes its resident memory, caps its
address space, runs the CLI's `main`, and reports the analysis time and the growth of its peak
resident memory). The
test then asserts what the issue asks for: the exit code, the one-line error, the packets still
counted, the malformed reasons (in `summary["malformed"]`, or in the section of a dissector that
tolerates the problem), a time bound and a memory bound. Bounds are generous for a loaded 2-core CI
machine, yet tight where they prove a point (a 16 MiB TLS claim must not cost 16 MiB).

The output-safety tests at the end plant ANSI escapes, CR, NUL, `<script>` and spreadsheet formulas in
names, hosts, banners and SNIs, and check every output format that exists (table, CSV, Markdown,
HTML, JSON lines); formats not built yet are skipped with the reason.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import re
import select
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer import registry
from analyzer.capture import linktype_name
from analyzer.capture import reader as reader_mod
from analyzer.classify import classify
from analyzer.cli import main
from analyzer.decode import Decoder
from analyzer.dissectors import lines as lines_mod
from analyzer.errors import Malformed
from analyzer.pipeline import Pipeline
from analyzer.report.terminal import render
from tests import make_bad_captures as bad
from tests.oracle import require

REPO = Path(__file__).resolve().parents[1]

DEFAULT_SECONDS = 10.0
"""Time bound of a case's analysis (the cases take well under a second on an idle machine)."""
DEFAULT_MEMORY_MB = 48.0
"""Bound on the growth of peak resident memory during a case (the analyzer's own working set, the
reader's 1 MiB chunks and Python's allocator slack; every case needs far less)."""
ADDRESS_SPACE_HEADROOM = 768 << 20
"""Address space the child may add beyond what it had after imports: a runaway allocation dies with
MemoryError instead of swapping the CI machine (the memory bound above is the real assertion)."""
HANG_GRACE = 60.0
"""Seconds beyond the time bound after which the child is killed and the case reported as a hang."""

ZYGOTE = r"""
import json, os, resource, sys, time, traceback
import analyzer.cli, analyzer.pipeline, analyzer.registry, analyzer.report.terminal  # imports first

def status(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key):
                return int(line.split()[1]) * 1024

def child(req):
    fd = os.open(req["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 2)
    os.dup2(fd, 1)  # stdout is the zygote's answer pipe: nothing may reach it
    exec(req["setup"], {})  # shrinks a limit for the cases that need it (e.g. the flow table)
    try:  # start the peak-RSS count here (Linux >= 4.0)
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
    base = status("VmRSS:")
    resource.setrlimit(resource.RLIMIT_AS, (status("VmSize:") + req["headroom"], resource.RLIM_INFINITY))
    start = time.perf_counter()
    try:
        analyzer.cli.main(req["args"], prog_name="pcap-analyzer")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    seconds = time.perf_counter() - start
    peak = max(status("VmHWM:"), status("VmRSS:")) - base
    with open(req["result"], "w") as fh:
        json.dump({"exit": code, "seconds": seconds, "peak_mb": peak / (1 << 20)}, fh)

for line in sys.stdin:
    req = json.loads(line)
    pid = os.fork()
    if pid == 0:
        try:
            child(req)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
    _, status_code = os.waitpid(pid, 0)
    print(json.dumps({"pid": pid, "status": status_code}), flush=True)
"""
"""A clean process with the analyzer imported that forks one child per case: each case then starts
from the same small heap (a fresh interpreter's, not the test process's, whose free memory would hide
allocations), without paying the interpreter start-up and imports every time. Requests and answers
are JSON lines on its standard input and output."""


class Zygote:
    """The parent side of ZYGOTE: send a case, wait for its child with a time limit."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None

    def run(self, request: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """The zygote's answer, or None when the child did not finish in time (it is then killed)."""
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", ZYGOTE],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=REPO,
                start_new_session=True,  # its own process group: a hung child goes with it
            )
        proc = self._proc
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(request) + "\n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        if not ready:
            self.kill()
            return None
        line = proc.stdout.readline()
        if not line:
            self._proc = None
            raise AssertionError("the zygote process died")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def kill(self) -> None:
        if self._proc is not None:
            os.killpg(self._proc.pid, signal.SIGKILL)  # the zygote and its hung child
            self._proc.wait()
            self._proc = None

    def close(self) -> None:
        if self._proc is not None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
            self._proc = None


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    require("linux")  # time and memory are measured through Linux's /proc
    z = Zygote()
    yield z
    z.close()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one run of the CLI on a bad capture produced."""

    exit_code: int
    """The CLI's exit status."""
    stderr: str
    """Everything written to standard error."""
    summary: dict[str, Any] | None
    """The JSON summary, or None when none was written (nothing could be read)."""
    seconds: float
    """Wall time of the analysis inside the child (imports excluded)."""
    peak_mb: float
    """Growth of peak resident memory during the analysis."""


def run_case(zygote: Zygote, path: Path, out_dir: Path, seconds: float, setup: str = "") -> Outcome:
    """Run the CLI on `path` in a child process; fail on a crash or a hang."""
    out, result, stderr = out_dir / "summary.json", out_dir / "measure.json", out_dir / "stderr.txt"
    request = {
        "args": ["analyze", str(path), "--format", "json", "-o", str(out), "--jobs", "1"],
        "setup": setup,
        "headroom": ADDRESS_SPACE_HEADROOM,
        "result": str(result),
        "stderr": str(stderr),
    }
    answer = zygote.run(request, seconds + HANG_GRACE)
    if answer is None:
        pytest.fail(f"{path.name}: no result after {seconds + HANG_GRACE:.0f} s: a hang")
    errors = stderr.read_text() if stderr.exists() else ""
    assert "Traceback" not in errors, errors[-3000:]
    assert result.exists(), f"child died without a result (status {answer['status']}): {errors[-3000:]}"
    measure = json.loads(result.read_text())
    summary = json.loads(out.read_text()) if out.exists() else None
    return Outcome(measure["exit"], errors, summary, measure["seconds"], measure["peak_mb"])


def weirds(summary: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [w for w in summary["weird"] if w["name"] == name]


# --- expectations -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expect:
    """The behaviour a case must show."""

    exit_code: int = 0
    """Exit status: 0, or 2 when an input could not be read completely."""
    error: str | None = None
    """Regex the one stderr line must match after "pcap-analyzer: FILE: " (None: stderr is empty)."""
    packets: int | None = None
    """Packets still counted; None when no summary may be written (nothing readable)."""
    malformed: dict[str, int] | None = field(default_factory=dict)
    """Exactly the reasons and counts of summary["malformed"] (None: left to `check`)."""
    seconds: float = DEFAULT_SECONDS
    """Time bound of the analysis."""
    memory_mb: float = DEFAULT_MEMORY_MB
    """Bound on peak resident memory growth."""
    setup: str = ""
    """Python run in the child before the analysis (to shrink a limit so a small capture hits it)."""
    check: Callable[[dict[str, Any]], None] | None = None
    """Further assertions on the summary."""


def _dns_queries(n: int) -> Callable[[dict[str, Any]], None]:
    def check(s: dict[str, Any]) -> None:
        assert s["dns"]["query_count"] == n

    return check


def _check_overlapping_fragments(s: dict[str, Any]) -> None:
    assert s["ip_fragments"]["reassembled"] == 1
    assert s["ip_fragments"]["overlaps"] == 1
    # the first data wins: the name is the one of the genuine fragments
    assert [n["name"] for n in s["dns"]["top_names"]] == [bad.GOOD_NAME + ".padding.padding"]


def _check_fragment_count_limit(s: dict[str, Any]) -> None:
    from analyzer.decode import MAX_FRAGMENTED_DATAGRAMS

    assert s["ip_fragments"]["incomplete_at_end"] == MAX_FRAGMENTED_DATAGRAMS
    assert s["ip_fragments"]["evicted"] == bad.FRAGMENT_DATAGRAMS - MAX_FRAGMENTED_DATAGRAMS
    assert s["dns"]["query_count"] == 1


def _check_fragment_byte_limit(s: dict[str, Any]) -> None:
    from analyzer.decode import MAX_FRAGMENT_BYTES

    held = MAX_FRAGMENT_BYTES // bad.FRAGMENT_FLOOD_SIZE
    assert s["ip_fragments"]["incomplete_at_end"] == held
    assert s["ip_fragments"]["evicted"] == bad.FRAGMENT_FLOOD_DATAGRAMS - held


def _http(s: dict[str, Any]) -> list[dict[str, Any]]:
    transactions: list[dict[str, Any]] = s["http"]["transactions"]
    return transactions


def _check_overlap_first_wins(s: dict[str, Any]) -> None:
    assert [t["uri"] for t in _http(s)] == ["/good/path"]
    assert "client: 1 segments" in weirds(s, "tcp.overlap_conflict")[0]["addl"]


def _check_ooo(s: dict[str, Any]) -> None:
    (t,) = _http(s)
    assert (t["method"], t["uri"], t["status_code"]) == ("POST", "/upload", 201)
    assert t["request_body_len"] > bad.OOO_SEGMENTS - 100
    assert all(r["missed_bytes"] == 0 for r in s["flows"]["top"])


def _check_buffer_limit(s: dict[str, Any]) -> None:
    (flow,) = [r for r in s["flows"]["top"] if r["id.resp_p"] == 80]
    assert flow["missed_bytes"] == 10  # the hole, given up on at the limit
    assert flow["orig_bytes"] == bad.BUFFER_FLOOD_BYTES - 10


def _dns_malformed(reasons: dict[str, int], queries: int) -> Callable[[dict[str, Any]], None]:
    def check(s: dict[str, Any]) -> None:
        assert s["dns"]["malformed"] == reasons
        assert s["dns"]["query_count"] == queries

    return check


def _check_dns_loop(s: dict[str, Any]) -> None:
    _dns_malformed({"dns.pointer_loop": 2}, 1)(s)
    assert s["dns"]["response_count"] == 2  # counted from their headers, as tshark does


def _check_dhcp(s: dict[str, Any]) -> None:
    assert s["dhcp"]["malformed"] == {"dhcp.option_past_end": 1}
    assert s["dhcp"]["by_message_type"] == {"DISCOVER": 1}


def _check_tls_claim(s: dict[str, Any]) -> None:
    (w,) = weirds(s, "tls.handshake_too_long")
    assert str(bad.TLS_CLAIM) in w["addl"]
    first_data = bad.TS0 + 0.004  # handshake frames at +1..+3 ms: refused at the first data segment
    assert w["ts"] == pytest.approx(first_data, abs=1e-4)


def _check_sni(s: dict[str, Any]) -> None:
    assert s["tls"]["sni"] == {"tiny.example.org": 1}
    assert s["tls"]["client_hello"] == 1


def _line_bounded(reason: str) -> Callable[[dict[str, Any]], None]:
    def check(s: dict[str, Any]) -> None:
        (w,) = weirds(s, reason)
        held = int(re.match(r"(\d+) bytes", w["addl"]).group(1))  # type: ignore[union-attr]
        assert held <= lines_mod.MAX_LINE + 1460, w  # given up within one segment past the limit

    return check


def _check_smb(s: dict[str, Any]) -> None:
    reasons = set(s["smb"]["malformed"]) | set(s["malformed"])
    assert "smb2.bad_next_command" in reasons


def _bomb_bounded(s: dict[str, Any]) -> None:
    (f,) = s["capture"]["files"]
    produced = int(re.search(r"gave (\d+)\)", f["error"]).group(1))  # type: ignore[union-attr]
    assert produced <= reader_mod.GZIP_EXPANSION_FLOOR + 2 * reader_mod.CHUNK_SIZE
    assert f["error_offset"] == produced


def _bomb_of_zeros(s: dict[str, Any]) -> None:
    _bomb_bounded(s)
    # the zeros read before the refusal are empty records: every one counted, none silently lost
    assert s["malformed"] == {"eth.truncated": s["capture"]["packets"]}
    assert s["capture"]["packets"] * 16 >= reader_mod.GZIP_EXPANSION_FLOOR - 2 * reader_mod.CHUNK_SIZE


def _check_ndp(s: dict[str, Any]) -> None:
    assert s["ndp"]["malformed"] == {"ndp.option_zero_length": 1}
    assert s["ndp"]["by_type"]["RA"] == 1


def _check_icmp(s: dict[str, Any]) -> None:
    assert s["icmp"]["malformed"] == {
        "icmp.quote_empty": 1,
        "icmp.quote_truncated": 1,
        "icmp.quote_bad_version": 1,
        "icmp.quote_bad_header_length": 1,
    }
    assert s["icmp"]["v4"]["by_type_code"] == {"3/3": 4}


def _check_flow_flood(s: dict[str, Any]) -> None:
    assert s["flows"]["count"] == bad.FLOOD_FLOWS  # every flow still reported, evicted or not
    assert s["flows"]["evicted"] >= bad.FLOOD_FLOWS - FLOW_LIMIT


def _check_pending_flood(s: dict[str, Any]) -> None:
    assert s["dns"]["query_count"] == bad.DNS_UNANSWERED
    assert s["dns"]["transactions"]["pending_overflow"] == bad.DNS_UNANSWERED - PENDING_LIMIT
    assert s["dns"]["transactions"]["unanswered"] == PENDING_LIMIT  # the others were dropped, counted


def _check_hostile(s: dict[str, Any]) -> None:
    # the JSON keeps the wire strings exactly (JSON escapes them itself)
    assert set(bad.HOSTILE.values()) <= set(s["tls"]["sni"])


FLOW_LIMIT = 500
"""Flow table size the flow_flood case runs with."""
PENDING_LIMIT = 1000
"""Pending DNS queries the dns_pending_flood case runs with."""

CANNOT_OPEN = "pcap-analyzer: {path}: "

EXPECTED: dict[str, Expect] = {
    "not_a_capture": Expect(2, r"not a pcap or pcapng capture \(starts with 0x47455420\)"),
    "empty": Expect(2, r"empty file"),
    "truncated_file_header": Expect(2, r"truncated capture: file header cut at byte offset 0 \(10 of 24"),
    "truncated_record_header": Expect(
        2, r"truncated capture: record header cut at byte offset 300 ", 3, check=_dns_queries(3)
    ),
    "truncated_record_data": Expect(
        2, r"truncated capture: record data cut at byte offset 300 ", 3, check=_dns_queries(3)
    ),
    "caplen_beyond_snaplen": Expect(0, None, 3, check=_dns_queries(3)),
    "caplen_2_31": Expect(2, r"claims caplen 2147483648 > MAX_CAPLEN 262144", 2, check=_dns_queries(2)),
    "pcapng_huge_block_length": Expect(2, r"at byte offset 264 has an invalid length 2147483632", 2),
    "pcapng_unaligned_block_length": Expect(2, r"at byte offset 264 has an invalid length 61 ", 2),
    "pcapng_trailer_mismatch": Expect(2, r"trailing copy says 1024: corrupt block framing", 2),
    "pcapng_unknown_interface": Expect(0, None, 3, {"pcapng.unknown_interface": 3}, check=_dns_queries(3)),
    "unknown_linktype": Expect(
        0,
        None,
        5,
        {"link.unsupported_linktype": 5},
        check=lambda s: s["capture"]["link_types"] == {linktype_name(147): 5},
    ),
    "runt_frames": Expect(
        0, None, 7, {"eth.truncated": 4, "ipv4.truncated": 1, "tcp.truncated": 1}, check=_dns_queries(1)
    ),
    "stacked_vlans": Expect(0, None, 2, {"vlan.too_many_tags": 1}, check=_dns_queries(1)),
    "ipv4_ihl_below_5": Expect(0, None, 6, {"ipv4.bad_header_length": 5}, check=_dns_queries(1)),
    "ipv4_lying_total_length": Expect(
        0, None, 3, {"ipv4.bad_total_length": 1, "dns.short_header": 1}, check=_dns_queries(1)
    ),
    "fragments_overlapping": Expect(0, None, 4, check=_check_overlapping_fragments),
    "fragments_never_completed": Expect(
        0, None, bad.FRAGMENT_DATAGRAMS + 1, check=_check_fragment_count_limit
    ),
    "fragments_byte_flood": Expect(
        0, None, bad.FRAGMENT_FLOOD_DATAGRAMS, memory_mb=40.0, check=_check_fragment_byte_limit
    ),
    "ip_in_ip_deep": Expect(0, None, 2, {"ip.too_deep": 1}, check=_dns_queries(1)),
    "ipv6_ext_chain": Expect(0, None, 2, {"ipv6.too_many_ext_headers": 1}, check=_dns_queries(1)),
    "tcp_bad_data_offset": Expect(0, None, 7, {"tcp.bad_data_offset": 5, "tcp.truncated": 1}),
    "tcp_overlap_conflict": Expect(0, None, 10, {"tcp.overlap_conflict": 1}, check=_check_overlap_first_wins),
    "tcp_ooo_100k": Expect(0, None, bad.OOO_SEGMENTS + 7, seconds=30.0, memory_mb=96.0, check=_check_ooo),
    "tcp_buffer_limit": Expect(0, None, None, {"tcp.buffer_limit": 1}, check=_check_buffer_limit),
    "dns_pointer_loop": Expect(0, None, 3, {"dns.pointer_loop": 2}, check=_check_dns_loop),
    "dns_pointer_forward": Expect(
        0, None, 2, {"dns.pointer_forward": 1}, check=_dns_malformed({"dns.pointer_forward": 1}, 1)
    ),
    "dns_too_many_records": Expect(
        0, None, 2, {"dns.too_many_records": 1}, check=_dns_malformed({"dns.too_many_records": 1}, 2)
    ),
    "dhcp_options_overrun": Expect(0, None, 2, {"dhcp.option_past_end": 1}, check=_check_dhcp),
    "tls_handshake_16mb": Expect(
        0, None, None, {"tls.handshake_too_long": 1}, memory_mb=12.0, check=_check_tls_claim
    ),
    "tls_record_64k": Expect(0, None, None, {"tls.record_too_long": 1}),
    "tls_clienthello_1byte_records": Expect(0, None, None, check=_check_sni),
    "smtp_long_line": Expect(
        0, None, None, {"smtp.line_too_long": 1}, check=_line_bounded("smtp.line_too_long")
    ),
    "ftp_long_line": Expect(
        0, None, None, {"ftp.line_too_long": 1}, check=_line_bounded("ftp.line_too_long")
    ),
    "smb_bogus_lengths": Expect(
        0,
        None,
        None,
        {"smb2.bad_next_command": 1, "smb2.negotiate_short": 1, "smb2.short_header": 1},
        check=_check_smb,
    ),
    "gzip_bomb": Expect(2, r"refusing a likely gzip bomb", None, None, seconds=30.0, check=_bomb_of_zeros),
    "gzip_bomb_big_records": Expect(2, r"refusing a likely gzip bomb", None, check=_bomb_bounded),
    "ndp_zero_length_option": Expect(0, None, 2, {"ndp.option_zero_length": 1}, check=_check_ndp),
    "icmp_quote_garbage": Expect(
        0,
        None,
        5,
        {
            "icmp.quote_empty": 1,
            "icmp.quote_truncated": 1,
            "icmp.quote_bad_version": 1,
            "icmp.quote_bad_header_length": 1,
        },
        check=_check_icmp,
    ),
    "http_header_flood": Expect(0, None, None, {"http.too_many_headers": 1}),
    "flow_flood": Expect(
        0,
        None,
        bad.FLOOD_FLOWS,
        setup=f"import analyzer.flows as m; m.MAX_FLOWS = {FLOW_LIMIT}",
        check=_check_flow_flood,
    ),
    "dns_pending_flood": Expect(
        0,
        None,
        bad.DNS_UNANSWERED,
        setup=f"import analyzer.trackers.dns as m; m.MAX_PENDING_QUERIES = {PENDING_LIMIT}",
        check=_check_pending_flood,
    ),
    "hostile_strings": Expect(0, None, None, check=_check_hostile),
}
"""Case name -> expected behaviour. Every case of the corpus has one (see the test below)."""


def test_every_case_has_an_expectation() -> None:
    assert list(EXPECTED) == list(bad.CASES)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_bad_capture(name: str, tmp_path: Path, zygote: Zygote) -> None:
    expect = EXPECTED[name]
    path = bad.write_case(name, tmp_path)
    outcome = run_case(zygote, path, tmp_path, expect.seconds, expect.setup)

    assert outcome.exit_code == expect.exit_code, outcome.stderr
    if expect.error is None:
        assert outcome.stderr == ""
    else:
        (line,) = outcome.stderr.splitlines()  # one line, naming the file
        prefix = CANNOT_OPEN.format(path=path)
        assert line.startswith(prefix), line
        assert re.search(expect.error, line[len(prefix) :]), line
    summary = outcome.summary
    if expect.packets is None and summary is None:
        assert expect.exit_code == 2 and expect.check is None  # nothing could be read at all
    else:
        assert summary is not None, "a summary must be written for everything that could be read"
        if expect.packets is not None:
            assert summary["capture"]["packets"] == expect.packets
        if expect.malformed is not None:
            assert summary["malformed"] == expect.malformed
        if expect.error is not None:  # the error is also in the summary, with its offset
            assert summary["capture"]["files"][0]["error"] in outcome.stderr
        if expect.check is not None:
            expect.check(summary)
    assert outcome.seconds <= expect.seconds, f"{outcome.seconds:.1f} s"
    assert outcome.peak_mb <= expect.memory_mb, f"peak resident memory grew by {outcome.peak_mb:.1f} MB"


def test_memory_bound_would_catch_an_unbounded_buffer(tmp_path: Path, zygote: Zygote) -> None:
    """The memory measurement is real: an analysis that kept 16 MiB would fail the 16 MiB TLS case."""
    path = bad.write_case("tls_record_64k", tmp_path)
    hog = (
        "import analyzer.cli as m\n"
        "run = m._summarize\n"
        "def hog(*args):\n"
        "    hog.kept = b'x' * (16 << 20)\n"
        "    return run(*args)\n"
        "m._summarize = hog\n"
    )
    outcome = run_case(zygote, path, tmp_path, DEFAULT_SECONDS, hog)
    assert outcome.peak_mb > EXPECTED["tls_handshake_16mb"].memory_mb


# --- output safety ------------------------------------------------------------------------------

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
"""Raw control characters (tab and newline excepted) that must never reach an output from the wire."""
FORMULA_MARKERS = ("HYPERLINK(", "SUM(")
"""Text of the planted spreadsheet formulas."""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bad.write_case("hostile_strings", tmp_path_factory.mktemp("hostile"))


def _invoke(args: list[str]) -> Any:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_table_output_escapes_wire_strings(hostile: Path) -> None:
    text = _invoke(["analyze", str(hostile)]).output
    assert not CONTROL.search(text), repr(CONTROL.search(text))
    assert "\\e[31mRED" in text  # the planted ANSI escape reached the tables, shown escaped
    assert "\\x00" in text or "\\000" in text  # and the NUL


def test_csv_output_is_safe(hostile: Path, tmp_path: Path) -> None:
    _invoke(["analyze", str(hostile), "--format", "csv", "-o", str(tmp_path / "csv")])
    files = sorted((tmp_path / "csv").glob("*.csv"))
    assert files, "no CSV file written"
    planted = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text), path.name
        for row in csv.reader(text.splitlines()):
            for cell in row:
                assert "\r" not in cell and "\x1b" not in cell, (path.name, cell)
                if any(m in cell for m in FORMULA_MARKERS):
                    planted += 1
                    assert cell[:1] not in ("=", "+", "-", "@"), (path.name, cell)
    assert planted, "the planted formulas should appear (neutralised) in some CSV table"


def test_markdown_output_is_safe(hostile: Path) -> None:
    text = _invoke(["analyze", str(hostile), "--format", "markdown"]).output
    assert not CONTROL.search(text)
    assert "<script>" not in text  # Markdown passes HTML through: a wire string must not become markup
    assert "HYPERLINK(1)" in text  # the planted strings are there
    tables: list[list[str]] = []
    previous = ""
    for line in text.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(line)
        previous = line
    assert tables
    for rows in tables:  # a "|" from the wire must not add a column
        cells = {len(re.split(r"(?<!\\)\|", row)) for row in rows}
        assert len(cells) == 1, rows


def test_html_report_is_escaped(hostile: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    _invoke(["report", str(hostile), "-o", str(out)])
    html = out.read_text(encoding="utf-8")
    assert bad.HOSTILE["script"] not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "\\u003cscript\\u003e" in html
    assert not CONTROL.search(html)


def test_events_jsonl_is_safe(hostile: Path) -> None:
    text = _invoke(["events", str(hostile)]).output
    assert not CONTROL.search(text)
    lines = text.splitlines()
    assert lines
    decoded = [json.loads(line) for line in lines]
    # the wire string is kept exactly (JSON escapes the control characters itself)
    assert any(e.get("server_name") == bad.HOSTILE["ansi"] for e in decoded)


def test_a_hang_is_reported_and_the_next_case_still_runs(tmp_path: Path, zygote: Zygote) -> None:
    """The time limit is real: a child that never finishes is killed, and the zygote comes back."""
    path = bad.write_case("empty", tmp_path)
    request = {
        "args": ["analyze", str(path)],
        "setup": "import time; time.sleep(60)",
        "headroom": ADDRESS_SPACE_HEADROOM,
        "result": str(tmp_path / "r.json"),
        "stderr": str(tmp_path / "e.txt"),
    }
    assert zygote.run(request, timeout=1.0) is None
    outcome = run_case(zygote, path, tmp_path, DEFAULT_SECONDS)
    assert outcome.exit_code == 2


# --- hypothesis: parsers that had none ------------------------------------------------------------

LINE_CHUNKS = st.lists(
    st.binary(max_size=64).map(lambda b: b.replace(b"\x00", b"\n")), max_size=30
)  # NUL -> LF: lines of every length, newlines often


@given(LINE_CHUNKS, st.integers(1, 40))
def test_line_buffer_splits_like_split_or_refuses(chunks: list[bytes], max_line: int) -> None:
    """LineBuffer: the lines are those of the whole stream, or Malformed comes out as soon as a line
    passes the limit; nothing else escapes and the buffer never holds more than limit + one chunk."""
    buf = lines_mod.LineBuffer("t", max_line)
    got: list[bytes] = []
    try:
        for chunk in chunks:
            got += buf.feed(chunk)
            assert buf.pending <= max_line
    except Malformed as exc:
        assert exc.reason == "t.line_too_long"
        return
    stream = b"".join(chunks)
    expected = [line.removesuffix(b"\r") for line in stream.split(b"\n")[:-1]]
    assert got == expected
    assert buf.pending == len(stream) - (stream.rfind(b"\n") + 1)


@given(
    st.sampled_from([None, *sorted(set(registry.TCP_SERVICES.values()))]),
    st.binary(max_size=600),
    st.booleans(),
)
def test_classify_never_raises(port_label: str | None, payload: bytes, from_client: bool) -> None:
    service, how = classify(port_label, payload, from_client)
    assert (service is None) == (how is None)
    assert service is None or service in set(registry.TCP_SERVICES.values()) | {port_label}


TCP_PORTS = sorted(registry.TCP_SERVICES)
UDP_PORTS = sorted(registry.UDP_SERVICES)
LINK_TYPES = sorted(Decoder()._link)


@st.composite
def traffic(draw: st.DrawFn) -> list[tuple[int, bytes]]:
    """Frames (linktype, bytes) of a random mix: one TCP connection to a service port carrying
    random bytes in coherent sequence (so the stream dissector gets them, with gaps now and then),
    datagrams to UDP service ports, ICMP and ICMPv6 messages, and raw garbage on every link type."""
    frames: list[tuple[int, bytes]] = []
    s = bad.TcpSession(draw(st.integers(1024, 65535)), draw(st.sampled_from(TCP_PORTS)))
    if draw(st.booleans()):
        s.handshake()
    for from_client, data, skip in draw(
        st.lists(
            st.tuples(st.booleans(), st.binary(min_size=1, max_size=200), st.integers(0, 3)), max_size=12
        )
    ):
        if skip == 3:  # a hole: the stream dissector gets a gap
            if from_client:
                s.cseq += len(data)
            else:
                s.sseq += len(data)
            continue
        s.send(from_client, data)
    if draw(st.booleans()):
        s.close()
    frames += [(1, f) for _, f in s.frames]
    for port, payload in draw(
        st.lists(st.tuples(st.sampled_from(UDP_PORTS), st.binary(max_size=200)), max_size=6)
    ):
        frames.append((1, bad.udp4(payload, 40000, port)))
    for v6, payload in draw(
        st.lists(st.tuples(st.booleans(), st.binary(min_size=1, max_size=120)), max_size=6)
    ):
        if v6:
            frames.append((1, bad.eth(bad.ipv6(payload, 58, "fe80::1", "ff02::1"), 0x86DD)))
        else:
            frames.append((1, bad.eth(bad.ipv4(payload, 1))))
    for linktype, data in draw(
        st.lists(st.tuples(st.sampled_from(LINK_TYPES), st.binary(max_size=120)), max_size=4)
    ):
        frames.append((linktype, data))
    return frames


@settings(max_examples=150)
@given(traffic())
def test_pipeline_with_every_dissector_never_raises(frames: list[tuple[int, bytes]]) -> None:
    """Random bytes through the real wiring (ports -> dissectors -> trackers -> summary -> tables):
    the pipeline turns every parser's Malformed into a count; nothing escapes, and it renders."""
    pipe = Pipeline()
    for i, (linktype, data) in enumerate(frames):
        pipe.process(bad.TS0 + i * 0.01, linktype, data, len(data))
    pipe.end_of_input()
    data_json = pipe.summary().to_json()
    json.dumps(data_json)
    assert data_json["capture"]["packets"] == len(frames)
    assert sum(data_json["malformed"].values()) >= len(data_json["weird"])
    render(data_json)


# --- docs/robustness.md stays true ----------------------------------------------------------------

DOC = REPO / "docs" / "robustness.md"
LIMIT_NAME = re.compile(r"^(MAX_[A-Z0-9_]+|[A-Z0-9_]+_TIMEOUT)$")
"""Constants that are limits by name; each must be documented with its value."""
UNDOCUMENTED_MODULES = ("report/", "capture/live.py", "crosscheck.py", "cli.py", "parallel.py")
"""Modules whose constants are presentation or process settings, not limits on input."""
REASON_PATTERNS = [
    r'Malformed\(\s*"([a-z0-9_.]+)"',
    r'problems\.append\(\s*"([a-z0-9_.]+)"',
    r'_weird\(\s*ts,\s*"([a-z0-9_.]+)"',
    r'_malformed\(\s*events,\s*ts,\s*"([a-z0-9_.]+)"',
    r'_desync\(\s*d,\s*"([a-z0-9_.]+)"',
    r'_count\("([a-z0-9_.]+)"\)',
    r'"(tcp\.[a-z_]+)",\s*\n?\s*f"',
]
"""Where reason keys are written as literals in analyzer/."""


def _documented_limits() -> list[tuple[list[str], str, str]]:
    """(candidate modules, constant name, value expression) of every limits-table row."""
    rows: list[tuple[list[str], str, str]] = []
    modules: list[str] = []
    for line in DOC.read_text().splitlines():
        heading = re.match(r"#{3,4} (`analyzer/.*)", line)
        if heading:
            paths = re.findall(r"`([^`]+\.py)`", heading.group(1))
            folder = paths[0].rsplit("/", 1)[0]
            modules = [paths[0], *(f"{folder}/{p}" for p in paths[1:])]
            continue
        row = re.match(r"\| `([A-Z][A-Z0-9_]*)`(?: \([^)]*\))? \| `([^`]+)` \|", line)
        if row and modules:
            rows.append((modules, row.group(1), row.group(2)))
    return rows


def _module(path: str) -> Any:
    import importlib

    return importlib.import_module(path.removesuffix(".py").replace("/", "."))


def test_every_documented_limit_has_its_value() -> None:
    rows = _documented_limits()
    assert len(rows) > 150
    for modules, name, expr in rows:
        values = [getattr(m, name) for m in map(_module, modules) if hasattr(m, name)]
        assert values, f"{name} is not defined in {modules}"
        assert any(eval(expr, vars(_module(p))) == v for p in modules for v in values), (name, expr, values)


def test_every_limit_is_documented() -> None:
    documented = {(p, name) for modules, name, _ in _documented_limits() for p in modules}
    missing = []
    for path in sorted((REPO / "analyzer").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel.removeprefix("analyzer/").startswith(UNDOCUMENTED_MODULES):
            continue
        for node in ast.parse(path.read_text()).body:  # constants defined here, not imported
            target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
            name = target.id if isinstance(target, ast.Name) else ""
            if LIMIT_NAME.match(name) and (rel, name) not in documented:
                missing.append(f"{rel}: {name}")
    assert not missing, "limits missing from docs/robustness.md:\n" + "\n".join(missing)


def test_every_malformed_reason_is_documented() -> None:
    doc = DOC.read_text()
    reasons = set()
    for path in (REPO / "analyzer").rglob("*.py"):
        text = path.read_text()
        for pattern in REASON_PATTERNS:
            reasons.update(re.findall(pattern, text))
    assert len(reasons) > 100
    missing = sorted(r for r in reasons if f"`{r}`" not in doc)
    assert not missing, f"malformed reasons missing from docs/robustness.md: {missing}"
