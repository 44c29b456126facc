"""The committed sample captures are exactly what `sample_pcaps/make_samples.py` builds.

The script is run once (in a subprocess, as a user would) into a temporary folder; every committed file
must come back byte for byte. Each file's packet count, read with a minimal record walker, must equal
tshark's frame count (skipped when tshark is not installed), and the merged captures must hold exactly
the area captures' packets plus the extras, in time order, identically in pcap and pcapng.
"""

from __future__ import annotations

import itertools
import struct
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.oracle import needs_tshark, tshark_output

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_pcaps"
SCRIPT = SAMPLES / "make_samples.py"
AREA_FILES = [
    "icmp.pcap",
    "ndp.pcap",
    "dns.pcap",
    "dhcp.pcap",
    "tls.pcap",
    "http.pcap",
    "mail.pcap",
    "ftp.pcap",
    "smb.pcap",
]
MERGED_FILES = ["mixed.pcap", "mixed.pcapng"]
STANDALONE_FILES = ["tunnels.pcap", "wifi.pcapng", "tls_edge.pcap", "quic.pcap", "services.pcap"]
ALL_FILES = AREA_FILES + MERGED_FILES + STANDALONE_FILES
# The brief asks for small files; the merged one is the sum of the others, so it is the one to watch.
MAX_FILE_BYTES = 100_000
# Building every file takes about a second; a generous bound keeps a slow CI box from flaking.
BUILD_TIMEOUT_S = 120
# Each area owns one hour starting at 2024-03-01 10:00:00 UTC; the extras of mixed.* take the tenth.
FIRST_TS_US = int(datetime(2024, 3, 1, 10, 0, 0, tzinfo=UTC).timestamp()) * 1_000_000
AREA_WINDOW_US = 3600 * 1_000_000


def pcap_frames(data: bytes) -> list[tuple[int, bytes]]:
    """(timestamp_us, frame) of a little-endian microsecond classic pcap."""
    magic, _major, _minor, _zone, _sigfigs, _snaplen, linktype = struct.unpack_from("<IHHiIII", data, 0)
    assert magic == 0xA1B2C3D4
    assert linktype == 1
    frames = []
    offset = 24
    while offset < len(data):
        sec, usec, incl, orig = struct.unpack_from("<IIII", data, offset)
        assert incl <= orig  # tls_edge.pcap holds one frame cut by the snap length
        offset += 16
        frames.append((sec * 1_000_000 + usec, data[offset : offset + incl]))
        offset += incl
    assert offset == len(data)
    return frames


def pcapng_frames(data: bytes) -> list[tuple[int, bytes]]:
    """(timestamp_us, frame) of every Enhanced Packet Block (one interface, microsecond resolution)."""
    frames = []
    offset = 0
    while offset < len(data):
        block_type, total = struct.unpack_from("<II", data, offset)
        (trailer,) = struct.unpack_from("<I", data, offset + total - 4)
        assert trailer == total
        if block_type == 6:
            _iface, hi, lo, caplen, _origlen = struct.unpack_from("<IIIII", data, offset + 8)
            frames.append(((hi << 32) | lo, data[offset + 28 : offset + 28 + caplen]))
        offset += total
    assert offset == len(data)
    return frames


def frames_of(path: Path) -> list[tuple[int, bytes]]:
    """Frames of a sample file, by its extension."""
    data = path.read_bytes()
    return pcapng_frames(data) if path.suffix == ".pcapng" else pcap_frames(data)


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh build of every sample into a temporary folder."""
    out = tmp_path_factory.mktemp("samples")
    subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=BUILD_TIMEOUT_S,
    )
    return out


def test_script_writes_exactly_the_committed_set(rebuilt: Path) -> None:
    assert sorted(p.name for p in rebuilt.iterdir()) == sorted(ALL_FILES)
    committed = {p.name for p in SAMPLES.iterdir() if p.suffix in (".pcap", ".pcapng")}
    assert committed == set(ALL_FILES)


@pytest.mark.parametrize("name", ALL_FILES)
def test_rebuild_is_byte_identical(rebuilt: Path, name: str) -> None:
    fresh = (rebuilt / name).read_bytes()
    committed = (SAMPLES / name).read_bytes()
    assert len(fresh) == len(committed)
    assert fresh == committed


@pytest.mark.parametrize("name", ALL_FILES)
def test_file_is_small(name: str) -> None:
    assert (SAMPLES / name).stat().st_size < MAX_FILE_BYTES


@pytest.mark.parametrize("index,name", list(enumerate(AREA_FILES)))
def test_area_stays_in_its_time_window(index: int, name: str) -> None:
    stamps = [ts for ts, _ in frames_of(SAMPLES / name)]
    start = FIRST_TS_US + index * AREA_WINDOW_US
    assert stamps[0] == start
    assert stamps[-1] < start + AREA_WINDOW_US
    assert all(a < b for a, b in itertools.pairwise(stamps))


def test_mixed_is_the_areas_merged_plus_extras() -> None:
    mixed = frames_of(SAMPLES / "mixed.pcap")
    areas = [frame for name in AREA_FILES for frame in frames_of(SAMPLES / name)]
    assert mixed[: len(areas)] == sorted(areas, key=lambda frame: frame[0])
    extras = mixed[len(areas) :]
    # VLAN DNS query+answer, QinQ echo pair, EDNS query, two fragments of the answer.
    assert len(extras) == 7
    assert all(ts >= FIRST_TS_US + len(AREA_FILES) * AREA_WINDOW_US for ts, _ in extras)
    assert [frame[12:14] for _, frame in extras[:4]] == [b"\x81\x00"] * 2 + [b"\x88\xa8"] * 2
    assert frames_of(SAMPLES / "mixed.pcapng") == mixed


@needs_tshark
@pytest.mark.parametrize("name", ALL_FILES)
def test_packet_count_matches_tshark(name: str) -> None:
    stdout = tshark_output(SAMPLES / name, "-T", "fields", "-e", "frame.number")
    numbers = [line for line in stdout.splitlines() if line.strip()]
    ours = frames_of(SAMPLES / name)
    assert len(ours) > 0
    assert len(numbers) == len(ours)
    assert numbers[-1] == str(len(ours))
