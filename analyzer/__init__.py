"""pcap-analyzer: a packet-capture analyzer and classifier checked against Wireshark."""

from analyzer.compiled import guard

__version__ = "0.1.0"

guard()  # before any hot module is imported: a compiled module older than its source is not run
