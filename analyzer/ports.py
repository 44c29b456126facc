"""Well-known ports and the service each proposes: a leaf module (it imports nothing of the analyzer), so
the classifier, the pipeline and the services tracker can all read it without an import cycle.

A port only *proposes* a service; the classifier (`analyzer/classify.py`) confirms it with the first
payload of each direction, or names the flow by payload alone where a strong signature fires. Names
are lowercase, Zeek-like where Zeek has one. A name that has a dissector in `analyzer/registry.py`
(dns, tls, http, smtp, ...) gets it; every other name is a label only (ssh, ntp, rdp, ...).
`registry` re-exports TCP_SERVICES and UDP_SERVICES for the modules that import them from there.
"""

from __future__ import annotations

from typing import Final

TCP_SERVICES: Final[dict[int, str]] = {
    # the services that have a stream dissector (names are a public contract: keep them)
    53: "dns",
    80: "http",
    8080: "http",
    443: "tls",
    25: "smtp",
    587: "smtp",
    465: "smtps",
    110: "pop3",
    995: "pop3s",
    143: "imap",
    993: "imaps",
    21: "ftp",
    20: "ftp-data",
    990: "ftps",
    445: "smb",
    139: "smb",
    # labels only (no dissector): named so a user sees what the flow is
    7: "echo",
    22: "ssh",
    23: "telnet",
    43: "whois",
    79: "finger",
    88: "kerberos",
    102: "s7comm",
    111: "sunrpc",
    113: "ident",
    119: "nntp",
    135: "dcerpc",
    179: "bgp",
    389: "ldap",
    464: "kerberos",
    502: "modbus",
    512: "rexec",
    513: "rlogin",
    514: "rsh",
    515: "lpd",
    548: "afp",
    554: "rtsp",
    563: "tls",  # NNTP over TLS
    631: "ipp",
    636: "tls",  # LDAP over TLS
    646: "ldp",
    853: "tls",  # DNS over TLS
    873: "rsync",
    1080: "socks",
    1099: "java-rmi",
    1194: "openvpn",
    1433: "mssql",
    1494: "citrix",
    1521: "oracle",
    1720: "h323",
    1723: "pptp",
    1883: "mqtt",
    1935: "rtmp",
    2000: "skinny",
    2049: "nfs",
    2404: "iec104",
    3128: "http",  # web proxy
    3268: "ldap",  # Active Directory global catalog
    3306: "mysql",
    3389: "rdp",
    3690: "svn",
    3868: "diameter",
    4222: "nats",
    4244: "viber",
    4949: "munin",
    5000: "http",  # Flask, Docker registry, Synology DSM, UPnP device APIs
    5060: "sip",
    5061: "tls",  # SIP over TLS
    5222: "xmpp",
    5223: "tls",  # XMPP over TLS (legacy)
    5228: "tls",  # Google Play / Firebase Cloud Messaging
    5242: "viber",
    5243: "viber",
    5269: "xmpp",
    5432: "postgresql",
    5672: "amqp",
    5900: "vnc",
    5901: "vnc",
    5938: "teamviewer",
    6000: "x11",
    6379: "redis",
    6556: "check-mk",
    6653: "openflow",
    6660: "irc",
    6665: "irc",
    6666: "irc",
    6667: "irc",
    6668: "irc",
    6669: "irc",
    6697: "tls",  # IRC over TLS
    6881: "bittorrent",
    6882: "bittorrent",
    6883: "bittorrent",
    6884: "bittorrent",
    6885: "bittorrent",
    6889: "bittorrent",
    8000: "http",
    8008: "http",
    8009: "ajp",
    8443: "tls",
    8883: "tls",  # MQTT over TLS
    8333: "bitcoin",
    9042: "cassandra",
    9050: "socks",  # Tor's SOCKS port
    9092: "kafka",
    9300: "elasticsearch",  # node-to-node transport
    9200: "http",  # Elasticsearch REST
    9418: "git",
    10050: "zabbix",
    10051: "zabbix",
    11211: "memcached",
    20000: "dnp3",
    27017: "mongodb",
    30303: "ethereum",
    61613: "stomp",
    61616: "openwire",
    64738: "mumble",
}
"""Well-known TCP ports and the service they propose."""

UDP_SERVICES: Final[dict[int, str]] = {
    # the services that have a datagram parser (names are a public contract: keep them)
    53: "dns",
    5353: "mdns",
    5355: "llmnr",
    67: "dhcp",
    68: "dhcp",
    546: "dhcpv6",
    547: "dhcpv6",
    138: "netbios-dgm",  # SMB1 browser/mailslot datagrams
    # labels only (no parser here)
    69: "tftp",
    88: "kerberos",
    111: "sunrpc",
    123: "ntp",
    319: "ptp",
    320: "ptp",
    137: "netbios-ns",
    161: "snmp",
    162: "snmp",  # traps
    177: "xdmcp",
    389: "ldap",  # CLDAP (Active Directory's domain controller locator)
    427: "srvloc",
    443: "quic",
    464: "kerberos",
    500: "isakmp",
    514: "syslog",
    520: "rip",
    521: "ripng",
    646: "ldp",
    623: "rmcp",
    1194: "openvpn",
    1434: "mssql",  # SQL Server browser
    1645: "radius",
    1646: "radius",
    1701: "l2tp",
    1812: "radius",
    1813: "radius",
    1900: "ssdp",
    1947: "hasp",  # Sentinel HASP license manager
    1985: "hsrp",
    2049: "nfs",
    2055: "netflow",
    2123: "gtp",  # GTP-C
    2152: "gtp",  # GTP-U: the outer flow of tunnelled traffic the decoder opens
    2427: "mgcp",
    3478: "stun",
    3479: "stun",  # TURN/STUN alternate port
    3389: "rdp",  # RDP's UDP transport
    3544: "teredo",
    4342: "lisp",
    4433: "quic",
    4789: "vxlan",
    5004: "rtp",  # RTP/AVP default
    5005: "rtcp",
    3671: "knxip",
    3702: "ws-discovery",
    3784: "bfd",
    4500: "isakmp",  # IKE NAT traversal
    4739: "ipfix",
    5060: "sip",
    5246: "capwap",
    5247: "capwap",
    5351: "nat-pmp",
    5683: "coap",
    5678: "mndp",  # MikroTik neighbour discovery
    6081: "geneve",
    6343: "sflow",
    6881: "bittorrent",
    7985: "viber",
    7987: "viber",
    9995: "netflow",
    9996: "netflow",
    11211: "memcached",
    8612: "bjnp",  # Canon printer discovery
    8801: "zoom",
    9000: "webex",  # Webex media
    9987: "teamspeak",
    10001: "ubnt-discovery",
    6771: "bittorrent",  # local peer discovery
    17500: "dropbox",  # Dropbox LAN sync discovery
    19302: "stun",  # Google's STUN servers
    21027: "syncthing",
    25826: "collectd",
    27015: "source-engine",
    30303: "ethereum",
    47808: "bacnet",
    51820: "wireguard",
    57621: "spotify",  # Spotify LAN discovery
    64738: "mumble",
}
"""Well-known UDP ports and the service they propose."""


def tcp_port_service(orig_port: int, resp_port: int) -> str | None:
    """The service the responder's TCP port proposes (or, failing that, the originator's)."""
    return TCP_SERVICES.get(resp_port) or TCP_SERVICES.get(orig_port)


def udp_port_service(orig_port: int, resp_port: int) -> str | None:
    """The service the responder's UDP port proposes (or, failing that, the originator's)."""
    return UDP_SERVICES.get(resp_port) or UDP_SERVICES.get(orig_port)


def port_service(proto: str, orig_port: int, resp_port: int) -> str | None:
    """The service a flow's ports propose, for proto "tcp" or "udp" (None for anything else)."""
    if proto == "tcp":
        return tcp_port_service(orig_port, resp_port)
    if proto == "udp":
        return udp_port_service(orig_port, resp_port)
    return None
