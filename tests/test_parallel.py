"""--jobs and --cluster: the flow-partitioned analysis merges into exactly the single-process summary."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.capture import open_capture, writer
from analyzer.cli import main
from analyzer.parallel import analyze_parallel, effective_jobs, plan
from analyzer.pipeline import analyze
from tests.oracle import SAMPLES, require, sample_files
from tests.streamkit import conversation_frames, ip4, write_pcap


def single(paths: list[str]) -> dict:
    return analyze(paths)[0].to_json()


@pytest.mark.parametrize("name", sample_files())
def test_two_jobs_equal_one_process(name: str) -> None:
    path = str(SAMPLES / name)
    assert analyze_parallel([path], jobs=2)[0].to_json() == single([path])


def test_three_partitions_of_mixed_equal_one_process() -> None:
    path = str(SAMPLES / "mixed.pcap")
    assert analyze_parallel([path], jobs=3)[0].to_json() == single([path])


def test_several_files_one_task_each() -> None:
    paths = [str(SAMPLES / n) for n in ("dns.pcap", "tls.pcap", "ftp.pcap")]
    assert plan(paths, 2) == [(p, i, 0, 1) for i, p in enumerate(paths)]
    assert analyze_parallel(paths, jobs=2)[0].to_json() == single(paths)


def _shuffled_copy(src: Path, dst: Path, seed: int) -> None:
    """The same packets in another order (timestamps kept): the split must not depend on order."""
    with open_capture(str(src)) as reader:
        records = list(reader.records())
    random.Random(seed).shuffle(records)
    with open(dst, "wb") as out:
        pcap = writer.PcapWriter(out, records[0][1])
        for ts, _lt, data, wirelen, _if in records:
            pcap.write_ts(ts, data, wirelen)


def test_shuffled_split_equals_one_process(tmp_path: Path) -> None:
    shuffled = tmp_path / "shuffled.pcap"
    _shuffled_copy(SAMPLES / "dns.pcap", shuffled, seed=7)
    assert analyze_parallel([str(shuffled)], jobs=2)[0].to_json() == single([str(shuffled)])


def test_cli_jobs_option_gives_the_same_json() -> None:
    path = str(SAMPLES / "mixed.pcap")
    one = CliRunner().invoke(main, ["analyze", path, "--format", "json", "-j", "1"])
    two = CliRunner().invoke(main, ["analyze", path, "--format", "json", "-j", "2"])
    assert one.exit_code == 0 and two.exit_code == 0
    assert json.loads(one.output) == json.loads(two.output)


def test_effective_jobs() -> None:
    small = str(SAMPLES / "dns.pcap")
    assert effective_jobs([small], None) == 1  # small input: not worth a process pool
    assert effective_jobs([small], 3) == 3
    assert effective_jobs(["-"], 4) == 1  # standard input can be read only once


def test_dask_local_cluster_equals_one_process() -> None:
    require("dask")
    import dask.distributed as distributed

    path = str(SAMPLES / "mixed.pcap")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as lc,
        distributed.Client(lc) as client,
    ):
        summary, _ = analyze_parallel([path], jobs=2, cluster=client.scheduler.address)
    assert summary.to_json() == single([path])


def test_cut_frames_of_a_fast_path_flow_are_counted_not_misread(tmp_path: Path) -> None:
    """Bulk frames of an undissected flow skip decoding while still in the read buffer; frames of that
    flow cut short (by the snap length or corruption) must not be read past their end, in one process
    or in the workers, and count as malformed like any cut frame."""
    client, server = ip4("192.0.2.1"), ip4("198.51.100.2")
    frames = conversation_frames(
        client, server, 9999, [(True, b"x" * 100)] * 6, pure_acks=True, final_ack=True
    )
    data_frame = frames[5]  # an established data segment: its host pair is in the fast table by then
    cut = [data_frame[:n] for n in (16, 30, 40, 47, 53)]
    records = [(1, i, f) for i, f in enumerate([*frames[:8], *cut, *frames[8:]])]
    path = str(write_pcap(tmp_path / "cut.pcap", records))
    one = single([path])
    assert one["capture"]["packets"] == len(frames) + len(cut)
    assert sum(one["malformed"].values()) == len(cut)
    assert analyze_parallel([path], jobs=2)[0].to_json() == one
