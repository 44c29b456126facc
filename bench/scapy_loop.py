"""The script users write today: a scapy PcapReader loop counting what our summary counts.

    python bench/scapy_loop.py FILE [--limit N]

Counts the protocol layers, ICMP type/code, DNS query types and response codes, DHCP message types,
HTTP request methods and TLS ClientHello SNIs (through scapy's TLS layer), and prints the packets per
second it reached. The benchmark runs it on a prefix of the capture (scapy is slow) and compares rates.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--limit", type=int, default=0, help="stop after this many packets (0: all)")
    args = ap.parse_args()

    from scapy.all import DHCP, DNS, ICMP, IP, TCP, UDP, Ether, IPv6, PcapReader, load_layer  # type: ignore[attr-defined]

    load_layer("tls")
    from scapy.layers.tls.handshake import TLSClientHello

    counts: Counter[str] = Counter()
    start = time.perf_counter()
    n = 0
    with PcapReader(args.file) as reader:
        for pkt in reader:
            n += 1
            for layer, name in ((Ether, "eth"), (IP, "ipv4"), (IPv6, "ipv6"), (TCP, "tcp"), (UDP, "udp")):
                if pkt.haslayer(layer):
                    counts[name] += 1
            if pkt.haslayer(ICMP):
                counts[f"icmp {pkt[ICMP].type}/{pkt[ICMP].code}"] += 1
            if pkt.haslayer(DNS):
                dns = pkt[DNS]
                if dns.qr == 0:
                    for question in dns.qd or []:  # a list in scapy 2.6+, one question before
                        counts[f"dns q {getattr(question, 'qtype', '?')}"] += 1
                elif dns.qr == 1:
                    counts[f"dns r {dns.rcode}"] += 1
            if pkt.haslayer(DHCP):
                for opt in pkt[DHCP].options:
                    if isinstance(opt, tuple) and opt[0] == "message-type":
                        counts[f"dhcp {opt[1]}"] += 1
            if pkt.haslayer(TCP) and pkt.haslayer("Raw"):
                payload = bytes(pkt["Raw"].load)
                method = payload.split(b" ", 1)[0]
                if method in (b"GET", b"POST", b"PUT", b"HEAD", b"DELETE", b"OPTIONS"):
                    counts[f"http {method.decode()}"] += 1
            if pkt.haslayer(TLSClientHello):
                counts["tls client_hello"] += 1
            if args.limit and n >= args.limit:
                break
    seconds = time.perf_counter() - start
    print(
        json.dumps({"packets": n, "seconds": round(seconds, 3), "pps": round(n / seconds), "counts": counts})
    )


if __name__ == "__main__":
    main()
