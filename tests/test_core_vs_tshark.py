"""Packet counts, link types and the protocol hierarchy equal tshark's, on our samples and real captures."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.oracle import (
    SAMPLES,
    SHARED_PCAPS,
    analyze_json,
    needs_shared,
    needs_tshark,
    sample_files,
    shared_entry,
    shared_files,
    tshark_fields,
)

OUR_NAME_FOR = {"ip": "ipv4"}
"""tshark protocol names that we spell differently (the issue's JSON contract says ipv4)."""
COMPARED = ("eth", "vlan", "ip", "ipv6", "tcp", "udp", "icmp", "icmpv6", "sll", "mpls", "gre", "arp", "null")
COMPARED += ("vxlan", "geneve", "gtp", "erspan", "nsh", "pwethcw", "pwethnocw", "esp")
COMPARED += ("llc", "ipx", "netbios", "radiotap", "ppi", "wlan_radio", "wlan")
"""Layers whose frame counts must equal tshark's `frame.protocols`."""
LINKTYPE_OF_ENCAP = {
    "ether": "EN10MB",
    "ppp": "PPP",
    "null": "NULL",
    "linux-sll": "LINUX_SLL",
    "linux-sll2": "LINUX_SLL2",
    "ieee-802-11-radiotap": "IEEE802_11_RADIO",
    "ieee-802-11": "IEEE802_11",
}


def tshark_hierarchy(path: str) -> tuple[int, Counter[str]]:
    rows = tshark_fields(path, "", ("frame.protocols",))
    counts: Counter[str] = Counter()
    for (stack,) in rows:
        counts.update(set(stack.split(":")))
    return len(rows), counts


def assert_same_hierarchy(path: str) -> None:
    frames, theirs = tshark_hierarchy(path)
    ours = analyze_json(path)
    assert ours["capture"]["packets"] == frames
    for name in COMPARED:
        assert ours["protocols"].get(OUR_NAME_FOR.get(name, name), 0) == theirs.get(name, 0), name


@needs_tshark
@pytest.mark.parametrize("name", sample_files())
def test_samples_match_tshark(name: str) -> None:
    assert_same_hierarchy(str(SAMPLES / name))


@needs_shared
@needs_tshark
@pytest.mark.parametrize("rel", shared_files())
def test_real_captures_match_tshark(rel: str) -> None:
    assert_same_hierarchy(str(SHARED_PCAPS / rel))


@needs_shared
@pytest.mark.parametrize("rel", shared_files())
def test_real_captures_match_truth_link_types(rel: str) -> None:
    entry = shared_entry(rel)
    ours = analyze_json(str(SHARED_PCAPS / rel))
    assert ours["capture"]["packets"] == entry["capture"]["packet_count"]
    encaps = {lt.rsplit("- ", 1)[1].rstrip(")") for lt in entry["capture"]["link_types"]}
    assert set(ours["capture"]["link_types"]) == {LINKTYPE_OF_ENCAP[e] for e in encaps}
