"""pcap-analyzer: a packet-capture analyzer and classifier checked against Wireshark."""

__version__ = "0.1.0"
