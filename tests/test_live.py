"""Live capture: the capture loop, the pcap writer, the live view, the CLI, and real captures.

The real-capture tests build their own lab (tests/livelab.py): two network namespaces joined by a
veth pair, silent but for what the test replays with tcpreplay into one end, captured on the other
with `pcap-analyzer live`; nothing touches the host's interfaces or leaves the lab. They need root
(capture and namespaces), `ip` (iproute2) and tcpreplay, and skip without them. The libpcap ring's
own behaviour under load (drops counted, a full spool, the socket fallback) is tests/test_live_ring.py.

What "equal" means for a replayed capture: tcpreplay sends the frames byte for byte, but the kernel
stamps them with the time of the replay, so every packet-time-derived value differs from the
offline analysis of the sample (timestamps, durations, RTTs, and the flow uids, which hash the
first timestamp). Those keys are removed before comparing with the sample (`untimed`), and only
samples whose analysis does not depend on the gaps between packets are compared that way (dns.pcap,
http.pcap; dhcp.pcap, for instance, has leases that expire over minutes of packet time). The live
summary must, on the other hand, equal the offline analysis of its own `--write` file exactly, and
that file must hold exactly the sample's frames.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from click.testing import CliRunner

from analyzer.capture import open_capture
from analyzer.capture import sources as sources_mod
from analyzer.capture import spool as spool_mod
from analyzer.capture.cooked import fix_cooked_load
from analyzer.capture.live import (
    SNAPLEN,
    Interface,
    LiveCaptureError,
    LivePacket,
    LiveStats,
    PcapWriter,
    StopRequest,
    capture_block,
    compile_filter,
    open_live,
    permission_message,
    run_capture,
)
from analyzer.capture.spool import run_spooled_capture
from analyzer.cli import main
from analyzer.dissectors.tls import TlsClientHello
from analyzer.pipeline import Pipeline
from analyzer.report.live_view import LIVE_ROWS, PANELS, LiveView, Screen
from tests.livelab import (
    CAPTURE_LIMIT,
    IP,
    TCPREPLAY,
    WAIT,
    Lab,
    LiveRun,
    make_lab,
    pcap_packets,
    pcap_packets_ns,
    real_capture,
    replay,
    start_capture,
)
from tests.oracle import REPO, SAMPLES, analyze_json, not_applicable, tshark_frame_count

# -- helpers ---------------------------------------------------------------------------------------

TIME_DERIVED = frozenset(
    {"ts", "uid", "uids", "parent_uid", "first_ts", "last_ts", "duration", "rtt", "rtt_median", "rtt_p95"}
    | {"capture_end"}
)
"""Summary keys whose values come from packet time (uids hash the flow's first timestamp)."""

needs_libpcap = pytest.mark.requires("libpcap")


def comparable(summary: dict[str, Any]) -> dict[str, Any]:
    """A summary without what depends on where the packets came from (file list, live facts)."""
    out = {k: v for k, v in summary.items() if k != "live"}
    out["capture"] = {k: v for k, v in summary["capture"].items() if k not in ("files", "live")}
    return out


def untimed(value: Any) -> Any:
    """`value` with every packet-time-derived key removed, at any depth."""
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items() if k not in TIME_DERIVED}
    if isinstance(value, list):
        return [untimed(v) for v in value]
    return value


class FakeClock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeSource:
    """Stands in for LiveSource: hands out prepared frames, `chunk` at a time."""

    def __init__(
        self,
        packets: list[LivePacket],
        chunk: int = 1 << 30,
        clock: FakeClock | None = None,
        pause: float = 0,
    ) -> None:
        self.interface = Interface("fake0", 0, 1, 1, True, "", ())
        self.linktype = 1
        self.snaplen = SNAPLEN
        self.buffer_size = 1 << 20
        self.filter: str | None = None
        self.closed = False
        self.delivered = 0
        self._packets = deque(packets)
        self._chunk = chunk
        self._clock = clock
        self._pause = pause

    def wait(self, timeout: float) -> bool:
        if self._pause:
            time.sleep(self._pause)
        if not self._packets and self._clock is not None:
            self._clock.now += timeout  # nothing came during the whole timeout
        return bool(self._packets)

    def frames(self, limit: int) -> Iterator[LivePacket]:
        for _ in range(min(limit, self._chunk)):
            if not self._packets:
                return
            self.delivered += 1
            yield self._packets.popleft()

    def kernel_stats(self) -> tuple[int, int]:
        return self.delivered, 0

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> FakeSource:
        return self

    def __exit__(
        self, etype: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class Recorder:
    """A frame handler that keeps what it gets."""

    def __init__(self) -> None:
        self.frames: list[tuple[float, int, bytes, int]] = []

    def __call__(self, ts: float, linktype: int, data: bytes, wirelen: int) -> None:
        self.frames.append((ts, linktype, data, wirelen))


FRAME = bytes.fromhex("ffffffffffff020000000001080045000020000100004011f7d7c0000201c00002ff")


# -- the capture loop, without a network -----------------------------------------------------------


def test_run_capture_stops_at_count_and_feeds_handler_and_writer(tmp_path: Path) -> None:
    packets = [(1700000000 + i, 123456789, FRAME + bytes([i]), len(FRAME) + 1) for i in range(10)]
    source = FakeSource(packets, chunk=3)
    writer = PcapWriter(str(tmp_path / "out.pcap"), 1)
    got = Recorder()
    stats = run_capture(source, got, count=7, writer=writer)  # type: ignore[arg-type]
    writer.close()
    assert stats.packets == 7 and stats.stopped_by == "count"
    assert stats.bytes == 7 * (len(FRAME) + 1)
    assert [f[2][-1] for f in got.frames] == list(range(7))
    assert got.frames[0][0] == 1700000000 + 123456789 / 1e9  # kernel time, not the wall clock
    assert got.frames[0][1] == 1
    with open_capture(str(tmp_path / "out.pcap")) as reader:
        assert reader.info.format == "pcap-nsec"
        records = list(reader.records())
    assert [(r[0], r[2], r[3]) for r in records] == [(f[0], f[2], f[3]) for f in got.frames]


def test_run_capture_stops_at_duration_on_the_session_clock() -> None:
    clock = FakeClock()
    source = FakeSource([], clock=clock)
    ticks: list[float] = []
    stats = run_capture(
        source,  # type: ignore[arg-type]
        Recorder(),
        duration=5.0,
        tick=lambda s: ticks.append(clock.now),
        tick_every=1.0,
        clock=clock,
    )
    assert stats.stopped_by == "duration" and stats.packets == 0
    assert clock.now == pytest.approx(1005.0)
    assert len(ticks) == 4 and ticks[0] == pytest.approx(1001.0)  # every second, before the end


def test_run_capture_stops_on_request_and_keeps_partial_results() -> None:
    stop = StopRequest()
    got = Recorder()

    def handle(ts: float, linktype: int, data: bytes, wirelen: int) -> None:
        got(ts, linktype, data, wirelen)
        if len(got.frames) == 4:
            stop.requested, stop.reason = True, "interrupt"

    source = FakeSource([(1, 0, FRAME, len(FRAME))] * 10, chunk=4)
    stats = run_capture(source, handle, stop=stop)  # type: ignore[arg-type]
    assert stats.stopped_by == "interrupt" and stats.packets == 4


def test_run_capture_turns_a_receive_failure_into_an_error_with_what_was_captured() -> None:
    class Failing(FakeSource):
        def frames(self, limit: int) -> Iterator[LivePacket]:
            yield from super().frames(2)
            raise LiveCaptureError("receive_failed", "capture on x failed: Network is down")

    stats = run_capture(Failing([(1, 0, FRAME, len(FRAME))] * 5), Recorder())  # type: ignore[arg-type]
    assert stats.packets == 2 and stats.stopped_by == "error"
    assert stats.error == "capture on x failed: Network is down"


def test_stop_request_catches_sigint_then_a_second_one_interrupts() -> None:
    before = signal.getsignal(signal.SIGINT)
    with StopRequest() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested and stop.reason == "terminate"
        stop.requested = False
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.requested and stop.reason == "interrupt"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before


def test_pcap_writer_header_and_flush(tmp_path: Path) -> None:
    path = tmp_path / "w.pcap"
    writer = PcapWriter(str(path), 101, 4096)
    assert path.read_bytes() == struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 4096, 101)
    writer.write(5, 999999999, b"\x45" + bytes(19), 1500)
    writer.flush()  # readable before close: a crash keeps what was flushed
    with open_capture(str(path)) as reader:
        (rec,) = list(reader.records())
    assert rec == (5 + 999999999 / 1e9, 101, b"\x45" + bytes(19), 1500, 0)
    writer.close()


def test_pcap_writer_error_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(LiveCaptureError) as info:
        PcapWriter(str(tmp_path / "no" / "such" / "dir.pcap"), 1)
    assert info.value.reason == "write_failed" and "dir.pcap" in info.value.message


# -- errors that need no privileges ----------------------------------------------------------------


def test_permission_message_says_what_is_needed() -> None:
    message = permission_message("eth9", PermissionError(1, "Operation not permitted"))
    assert "eth9" in message and "Operation not permitted" in message
    assert "root" in message and "CAP_NET_RAW" in message
    assert f"setcap cap_net_raw,cap_net_admin+eip {os.path.realpath(sys.executable)}" in message
    assert "group" in message and "\n" not in message


@needs_libpcap
def test_bad_filter_gives_the_compilers_message() -> None:
    compile_filter("udp port 53 or (vlan and tcp)", 1)  # fine: no exception
    with pytest.raises(LiveCaptureError) as info:
        compile_filter("udp prot 53", 1)
    assert info.value.reason == "bad_filter"
    assert info.value.message == "bad BPF filter 'udp prot 53': can't parse filter expression: syntax error"
    with pytest.raises(LiveCaptureError) as info:
        compile_filter("port 99999", 1)
    assert "illegal port number 99999 > 65535" in info.value.message


def test_unknown_interface_lists_the_existing_ones() -> None:
    with pytest.raises(LiveCaptureError) as info:
        open_live("pa-no-such0")
    assert info.value.reason == "no_such_interface"
    message = info.value.message
    assert message.startswith("no interface named 'pa-no-such0' (interfaces: ")
    for _, name in socket.if_nameindex():
        assert name in message


def test_cli_unknown_interface_one_line_no_traceback() -> None:
    result = CliRunner().invoke(main, ["live", "-i", "pa-no-such0", "--format", "json"])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pa-no-such0" in lines[0] and "Traceback" not in result.stderr


def test_cli_interfaces_json_lists_this_namespace() -> None:
    result = CliRunner().invoke(main, ["interfaces", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["name"] for r in rows} == {name for _, name in socket.if_nameindex()}
    assert {r["index"] for r in rows} == {index for index, _ in socket.if_nameindex()}
    lo = next((r for r in rows if r["name"] == "lo"), None)
    if lo is not None:
        assert lo["link_type"] == "EN10MB" and lo["capture"] is True
    table = CliRunner().invoke(main, ["interfaces"])
    assert table.exit_code == 0 and table.stdout.splitlines()[0].split()[:3] == ["interface", "index", "link"]


# -- the live view ---------------------------------------------------------------------------------


def _pipeline_with_view(*names: str) -> tuple[Pipeline, LiveView]:
    view = LiveView("eth0", "EN10MB", "udp or tcp")
    pipe = Pipeline(event_sink=view.on_event)
    for name in names:
        pipe.run_file(str(SAMPLES / name))
    return pipe, view


def test_live_view_counts_match_the_summary() -> None:
    pipe, view = _pipeline_with_view("dns.pcap", "dhcp.pcap", "tls.pcap", "icmp.pcap")
    data = pipe.summary().to_json()
    queries = sum(data[s]["query_count"] for s in ("dns", "mdns", "llmnr") if s in data)
    assert view.counts["dns"] == queries
    v4 = sum(n for k, n in data["icmp"]["v4"]["by_type_code"].items() if k.startswith("3/"))
    v6 = sum(n for k, n in data["icmp"]["v6"]["by_type_code"].items() if k.startswith("1/"))
    assert view.counts["unreachables"] == v4 + v6 > 0
    assert view.counts["leases"] == 4  # clients A (twice: DORA and renewal), B and D; C only INFORMs
    assert view.counts["snis"] == 4  # the four ClientHellos of tls.pcap all name a server
    for rows in view.panels.values():
        assert 0 < len(rows) <= LIVE_ROWS


def test_live_view_render_shows_pipeline_state() -> None:
    pipe, view = _pipeline_with_view("tls.pcap", "dhcp.pcap")
    stats = LiveStats(packets=pipe.packets, kernel_dropped=3)
    text = view.render(pipe, stats, elapsed=4.0)
    assert text.startswith("pcap-analyzer live: eth0 (EN10MB), filter 'udp or tcp', running 00:00:04")
    assert f"packets {pipe.packets} " in text and "kernel drops 3" in text
    assert f"rate {pipe.packets / 4:.1f} pkt/s" in text
    assert "eth 100%" in text and "www.example.com" in text and "legacy.example.com" in text
    assert "Newest DHCP leases (4)" in text and "lease" in text and "3600s" in text
    assert "Newest unreachables (0)" in text and "(none yet)" in text
    again = view.render(pipe, stats, elapsed=6.0)
    assert "rate 0.0 pkt/s" in again  # nothing new since the last redraw


def test_live_view_escapes_wire_strings() -> None:
    hellos: list[TlsClientHello] = []
    pipe = Pipeline(event_sink=lambda e: hellos.append(e) if isinstance(e, TlsClientHello) else None)
    pipe.run_file(str(SAMPLES / "tls.pcap"))
    view = LiveView("eth0", "EN10MB", None)
    view.on_event(dataclasses.replace(hellos[0], server_name="evil\x1b[2J\x07.example\r\n"))
    text = view.render(pipe, LiveStats(), elapsed=1.0)
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "evil\\e[2J\\x07.example\\r\\n" in text


def test_screen_plain_blocks_off_a_terminal() -> None:
    class Sink:
        def __init__(self) -> None:
            self.text = ""

        def write(self, s: str) -> int:
            self.text += s
            return len(s)

        def flush(self) -> None:
            pass

    plain, term = Sink(), Sink()
    Screen(plain, terminal=False).show("block\n")  # type: ignore[arg-type]
    Screen(term, terminal=True).show("block\n")  # type: ignore[arg-type]
    assert plain.text == "block\n\n"
    assert term.text == "\x1b[H\x1b[2Jblock\n"


# -- the CLI over a fake interface: the same pipeline as file analysis -------------------------------


def test_cli_live_equals_analyze_for_the_same_frames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sample = SAMPLES / "mixed.pcap"
    packets = pcap_packets(sample)
    source = FakeSource(packets, chunk=50, pause=0.002)
    monkeypatch.setattr(
        sources_mod, "open_source", lambda name, bpf=None, promisc=True, buffer_size=0: source
    )
    out = tmp_path / "live.pcap"
    args = ["live", "-i", "fake0", "--count", str(len(packets)), "--format", "json", "--write", str(out)]
    result = CliRunner().invoke(main, [*args, "--refresh", "0.001"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # the view went to stderr only
    assert data["live"] == {
        "interface": "fake0",
        "link_type": "EN10MB",
        "filter": None,
        "snaplen": SNAPLEN,
        "packets": len(packets),
        "kernel_received": len(packets),
        "kernel_dropped": 0,
        "stopped_by": "count",
        "write": str(out),
    }
    assert comparable(data) == comparable(analyze_json(str(sample)))
    assert comparable(analyze_json(str(out))) == comparable(data)
    assert pcap_packets_ns(out) == packets
    assert source.closed
    assert result.stderr.startswith("pcap-analyzer: listening on fake0, link-type EN10MB")
    assert "Newest DNS queries" in result.stderr and "\x1b" not in result.stderr
    assert result.stderr.endswith(
        f"pcap-analyzer: {len(packets)} packets captured, 0 dropped by the kernel\n"
    )


def test_cli_live_table_format_and_output_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packets = pcap_packets(SAMPLES / "dns.pcap")
    monkeypatch.setattr(
        sources_mod, "open_source", lambda name, bpf=None, promisc=True, buffer_size=0: FakeSource(packets)
    )
    report = tmp_path / "report.txt"
    result = CliRunner().invoke(main, ["live", "-i", "fake0", "-c", "10", "-o", str(report)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    text = report.read_text()
    assert text.startswith("== Live capture ==")
    assert "packets captured" in text and "Protocol hierarchy" in text
    assert "dropped by the capture queue" in text
    lines = text.splitlines()
    assert any(line.startswith("complete (nothing dropped)") and line.endswith(" yes") for line in lines)
    assert "Newest" not in result.stderr  # no view: standard error is not a terminal and no --refresh


# -- real captures in a namespace lab --------------------------------------------------------------


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    with make_lab() as made:
        yield made


@real_capture
@pytest.mark.parametrize("name", ["dns.pcap", "http.pcap"])
def test_live_summary_equals_offline_summary(lab: Lab, name: str, tmp_path: Path) -> None:
    sample = SAMPLES / name
    offline = analyze_json(str(sample))
    n = offline["capture"]["packets"]
    written = tmp_path / "live.pcap"
    run = start_capture(lab, "--count", str(n), "--format", "json", "--write", str(written))
    replay(lab, sample)
    rc, out, err = run.finish()
    assert rc == 0, err
    live = json.loads(out)
    assert live["live"]["stopped_by"] == "count" and live["live"]["kernel_dropped"] == 0
    assert live["capture"]["packets"] == n and live["capture"]["bytes"] == offline["capture"]["bytes"]
    assert live["capture"]["link_types"] == offline["capture"]["link_types"]
    assert live["protocols"] == offline["protocols"]
    assert live["malformed"] == offline["malformed"]
    assert untimed(comparable(live)) == untimed(comparable(offline))  # every section, every count
    assert comparable(analyze_json(str(written))) == comparable(live)
    assert err.strip().splitlines()[-1] == f"pcap-analyzer: {n} packets captured, 0 dropped by the kernel"


@real_capture
def test_live_capture_keeps_every_frame_byte_for_byte(lab: Lab, tmp_path: Path) -> None:
    """mixed.pcap has 802.1Q and QinQ frames (the kernel strips the outer tag, we put it back) and
    IPv4 fragments; the --write file must hold exactly the sample's frames, in order."""
    sample = SAMPLES / "mixed.pcap"
    packets = pcap_packets(sample)
    written = tmp_path / "live.pcap"
    run = start_capture(lab, "--count", str(len(packets)), "--format", "json", "--write", str(written))
    replay(lab, sample)
    rc, out, err = run.finish()
    assert rc == 0, err
    live = json.loads(out)
    assert live["live"]["kernel_dropped"] == 0
    assert [(p[2], p[3]) for p in pcap_packets_ns(written)] == [(p[2], p[3]) for p in packets]
    offline = analyze_json(str(sample))
    for key in ("packets", "bytes", "link_types"):
        assert live["capture"][key] == offline["capture"][key]
    assert live["protocols"] == offline["protocols"] and live["protocols"]["vlan"] > 0
    assert live["malformed"] == offline["malformed"]
    assert live["ip_fragments"]["reassembled"] == offline["ip_fragments"]["reassembled"] > 0
    assert comparable(analyze_json(str(written))) == comparable(live)


@real_capture
def test_filter_runs_in_the_kernel(lab: Lab) -> None:
    sample = SAMPLES / "dns.pcap"
    offline = analyze_json(str(sample))
    n = offline["protocols"]["tcp"]  # DNS over TCP frames only
    run = start_capture(lab, "--filter", "tcp", "--count", str(n), "--format", "json")
    replay(lab, sample)
    rc, out, err = run.finish()
    assert rc == 0, err
    live = json.loads(out)
    assert live["live"]["filter"] == "tcp" and live["live"]["stopped_by"] == "count"
    assert live["live"]["kernel_received"] == n  # the kernel passed on only what matched
    assert live["protocols"]["tcp"] == n and "udp" not in live["protocols"]
    assert live["dns"]["messages_over_tcp"] == offline["dns"]["messages_over_tcp"] > 0


@real_capture
def test_sigint_stops_cleanly_and_the_view_stays_on_stderr(lab: Lab) -> None:
    sample = SAMPLES / "dns.pcap"
    n = analyze_json(str(sample))["capture"]["packets"]
    run = start_capture(lab, "--refresh", "0.1", "--format", "json")
    replay(lab, sample)
    run.wait_for(f"packets {n} ")  # the live view (plain blocks: stderr is no terminal) saw them all
    assert "Newest DNS queries" in run.stderr and "\x1b" not in run.stderr
    run.proc.send_signal(signal.SIGINT)
    rc, out, err = run.finish()
    assert rc == 0, err
    live = json.loads(out)  # standard output holds the JSON summary and nothing else
    assert live["capture"]["packets"] == n and live["live"]["stopped_by"] == "interrupt"
    assert "Traceback" not in err


@real_capture
def test_interfaces_lists_the_namespace_veth(lab: Lab) -> None:
    run = LiveRun(lab, "interfaces", "--format", "json")
    rc, out, err = run.finish()
    assert rc == 0, err
    rows = {r["name"]: r for r in json.loads(out)}
    assert set(rows) == {"lo", lab.veth_b}
    veth = rows[lab.veth_b]
    assert veth["up"] and veth["capture"] and veth["link_type"] == "EN10MB"
    assert "192.0.2.202" in veth["addresses"]


def _one_error_line(run: LiveRun) -> str:
    rc, out, err = run.finish()
    assert rc == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("pcap-analyzer: ")
    return lines[0]


@real_capture
def test_error_unknown_interface_in_the_namespace(lab: Lab) -> None:
    line = _one_error_line(LiveRun(lab, "live", "-i", "pa-nope0"))
    assert line == f"pcap-analyzer: no interface named 'pa-nope0' (interfaces: lo, {lab.veth_b})"


@real_capture
def test_error_bad_filter(lab: Lab) -> None:
    line = _one_error_line(LiveRun(lab, "live", "-i", lab.veth_b, "--filter", "udp prot 53"))
    assert line == "pcap-analyzer: bad BPF filter 'udp prot 53': can't parse filter expression: syntax error"


def _nobody_can_run_us() -> bool:
    """Whether an unprivileged user can import the package (not when it lives under /root)."""
    probe = [SETPRIV or "setpriv", *DROP_TO_NOBODY, sys.executable, "-c", "import analyzer.cli, scapy"]
    result = subprocess.run(probe, cwd=REPO, capture_output=True, timeout=WAIT, check=False)
    return result.returncode == 0


SETPRIV = shutil.which("setpriv")
DROP_TO_NOBODY = ("--reuid=65534", "--regid=65534", "--clear-groups")
DROP_CAPABILITIES = ("--bounding-set=-net_raw,-net_admin",)
"""Still uid 0, but without the capabilities capturing needs: the kernel's very check."""


@real_capture
@pytest.mark.requires("setpriv")
@pytest.mark.parametrize("how", ["nobody", "no-capabilities"])
def test_error_no_permission(lab: Lab, how: str) -> None:
    if how == "nobody" and not _nobody_can_run_us():
        not_applicable("user nobody cannot read this Python installation or checkout")
    drop = DROP_TO_NOBODY if how == "nobody" else DROP_CAPABILITIES
    line = _one_error_line(LiveRun(lab, "live", "-i", lab.veth_b, prefix=(SETPRIV or "setpriv", *drop)))
    assert line.startswith(
        f"pcap-analyzer: no permission to capture on {lab.veth_b} (Operation not permitted)"
    )
    assert "root" in line and "setcap cap_net_raw,cap_net_admin+eip" in line


# -- the view fits the terminal --------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(80, 24), (100, 30), (80, 12), (200, 60), (40, 8)])
def test_live_view_fits_the_terminal(width: int, height: int) -> None:
    pipe, view = _pipeline_with_view("tls.pcap", "dhcp.pcap", "dns.pcap", "icmp.pcap")
    stats = LiveStats(packets=pipe.packets + 7, analysed=pipe.packets, kernel_dropped=2, queue_dropped=5)
    text = view.render(pipe, stats, elapsed=3.0, width=width, height=height)
    lines = text.rstrip("\n").split("\n")
    assert len(lines) <= height - 1  # the cursor's line stays free: nothing scrolls
    assert all(len(line) <= width for line in lines)
    assert lines[1].startswith(f"packets {pipe.packets} "[:width])  # the counters always show
    assert lines[2].startswith("captured "[:width])
    if width >= 80:
        assert "kernel drops 2  queue drops 5" in lines[2] and "analysis behind 7" in lines[2]
    if height >= 24:
        assert all(f"{title} (" in text for title, _ in PANELS.values())  # every panel, fewer rows
    full = view.render(pipe, stats, elapsed=3.0)
    assert "Newest DNS queries" in full and len(full.split("\n")) > len(lines)


# -- the spooled capture (capture process + analysis behind it) ------------------------------------


def test_spooled_capture_analyses_every_frame_and_counts(tmp_path: Path) -> None:
    packets = pcap_packets(SAMPLES / "dns.pcap")
    got = Recorder()
    ticks: list[int] = []
    stats = run_spooled_capture(
        FakeSource(packets, chunk=5),  # type: ignore[arg-type]
        got,
        count=len(packets),
        tick=lambda s: ticks.append(s.analysed),
        tick_every=0.05,
    )
    assert stats.stopped_by == "count" and stats.packets == stats.analysed == len(packets)
    assert stats.kernel_received == len(packets) and stats.queue_dropped == 0
    assert [(f[2], f[3]) for f in got.frames] == [(p[2], p[3]) for p in packets]
    assert got.frames[0][0] == packets[0][0] + packets[0][1] / 1e9
    assert ticks and ticks[-1] == len(packets)  # the last frame of the view is drawn, with the end


def test_spooled_capture_counts_what_the_spool_cannot_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    packets = [(1700000000, i, FRAME, len(FRAME)) for i in range(50)]
    record = 16 + len(FRAME)
    monkeypatch.setattr(spool_mod, "MAX_SPOOL_BYTES", 24 + 20 * record)
    got = Recorder()
    stats = run_spooled_capture(FakeSource(packets), got, count=20)  # type: ignore[arg-type]
    assert stats.packets == 20 and len(got.frames) == 20
    capped = run_spooled_capture(FakeSource(packets), Recorder(), duration=1.0)  # type: ignore[arg-type]
    assert capped.packets == 20 and capped.queue_dropped == 30  # counted, never silent
    block = capture_block(capped, "fake0", 1 << 20)
    assert block["dropped"] == 30 and block["complete"] is False


def test_spooled_capture_keeps_the_frames_before_a_receive_failure() -> None:
    class Failing(FakeSource):
        def frames(self, limit: int) -> Iterator[LivePacket]:
            yield from super().frames(2)
            raise LiveCaptureError("receive_failed", "capture on x failed: Network is down")

    got = Recorder()
    stats = run_spooled_capture(Failing([(1, 0, FRAME, len(FRAME))] * 5), got)  # type: ignore[arg-type]
    assert stats.packets == 2 and len(got.frames) == 2 and stats.stopped_by == "error"
    assert stats.error == "capture on x failed: Network is down"


# -- live -i any (Linux cooked capture) ------------------------------------------------------------


def test_cooked_filter_offsets_move_to_the_network_header() -> None:
    assert fix_cooked_load(16) == 0 and fix_cooked_load(16 + 9) == 9  # IP header fields
    assert fix_cooked_load(14) == (-0x1000 + 0) & 0xFFFFFFFF  # protocol: SKF_AD_PROTOCOL
    assert fix_cooked_load(0) == (-0x1000 + 4) & 0xFFFFFFFF  # packet type: SKF_AD_PKTTYPE
    assert fix_cooked_load(6) is None  # the link-layer address: no kernel equivalent


@real_capture
@needs_libpcap
def test_live_any_gives_cooked_frames_and_filters_in_the_kernel(lab: Lab, tmp_path: Path) -> None:
    sample = SAMPLES / "dns.pcap"
    offline = analyze_json(str(sample))
    n = offline["capture"]["packets"]
    written = tmp_path / "any.pcap"
    run = LiveRun(lab, "live", "-i", "any", "--duration", str(CAPTURE_LIMIT), "--count", str(n),
                  "--format", "json", "--write", str(written))  # fmt: skip
    run.wait_for("listening on any, link-type LINUX_SLL")
    replay(lab, sample)
    rc, out, err = run.finish()
    assert rc == 0, err
    live = json.loads(out)
    assert live["capture"]["packets"] == n and live["capture"]["link_types"] == {"LINUX_SLL": n}
    expected = dict(offline["protocols"])
    expected["sll"] = expected.pop("eth")  # the same frames, behind a cooked header
    assert live["protocols"] == expected
    assert untimed(live["dns"]) == untimed(offline["dns"])
    assert live["capture"]["live"]["interface"] == "any" and live["capture"]["live"]["complete"] is True
    assert comparable(analyze_json(str(written))) == comparable(live)
    udp53 = tshark_frame_count(str(sample), "udp.port == 53")
    run = LiveRun(lab, "live", "-i", "any", "--filter", "udp port 53", "--duration", str(CAPTURE_LIMIT),
                  "--count", str(udp53), "--format", "json")  # fmt: skip
    run.wait_for("listening on any")
    replay(lab, sample)
    rc, out, err = run.finish()
    assert rc == 0, err
    filtered = json.loads(out)
    assert filtered["capture"]["packets"] == udp53 and "tcp" not in filtered["protocols"]
    assert filtered["capture"]["live"]["kernel_received"] == udp53  # the kernel ran the fixed filter


@real_capture
def test_a_burst_at_top_speed_is_captured_or_counted(lab: Lab, tmp_path: Path) -> None:
    """Everything sent is either in the summary or counted as lost (kernel, queue), never silent."""
    sample = SAMPLES / "mixed.pcap"
    loops = 40
    sent = len(pcap_packets(sample)) * loops
    run = start_capture(lab, "--count", str(sent), "--format", "json")
    cmd = [IP or "ip", "netns", "exec", lab.ns_a, TCPREPLAY or "tcpreplay", "-q", "--topspeed"]
    cmd += [f"--intf1={lab.veth_a}", f"--loop={loops}", str(sample)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=WAIT, check=False)
    assert result.returncode == 0, result.stderr
    rc, out, err = run.finish()  # by --count if all arrived, else by --duration: never by a signal
    assert rc == 0, err
    data = json.loads(out)
    block = data["capture"]["live"]
    assert block["captured"] == block["analysed"] == data["capture"]["packets"]
    assert block["dropped"] == block["kernel_dropped"] + block["queue_dropped"]
    assert block["complete"] == (block["dropped"] == 0)
    assert data["capture"]["packets"] + block["dropped"] + block["interface_dropped"] >= sent
