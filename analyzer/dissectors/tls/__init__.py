"""TLS on a reassembled TCP stream, in rooms of a readable size.

- `constants`: limits, wire constants and the IANA tables (cipher suites, groups, alerts, versions);
- `events`: the events the dissector emits (hellos, alerts, malformed messages, the handshake record);
- `messages`: pure parsers of handshake messages (ClientHello, ServerHello, SSLv2 hellos, certificates);
- `fingerprints`: JA3 / JA3S / JA4 / JA4S;
- `dissector`: the record-layer state machine (`TlsDissector`) that ties them to a connection.

Every name other modules use is re-exported here, so `from analyzer.dissectors.tls import X` keeps
working whichever room X lives in. Certificates are parsed by `analyzer.dissectors.x509`.
"""

from __future__ import annotations

from analyzer.dissectors.tls import fingerprints
from analyzer.dissectors.tls.constants import (
    ALERT_DESCRIPTIONS,
    CIPHER_SUITES,
    HRR_RANDOM,
    MAX_HANDSHAKE_LENGTH,
    MAX_RECORD_LENGTH,
    NAMED_GROUPS,
    alert_name,
    cipher_name,
    group_name,
    is_tls13,
    version_name,
)
from analyzer.dissectors.tls.dissector import TlsDissector
from analyzer.dissectors.tls.events import (
    TlsAlert,
    TlsClientHello,
    TlsHandshake,
    TlsMalformedMessage,
    TlsServerHello,
)
from analyzer.dissectors.tls.fingerprints import ja3_hash, ja3_string, ja3s_string, ja4, ja4s
from analyzer.dissectors.tls.messages import (
    ClientHelloFields,
    ServerHelloFields,
    parse_alerts,
    parse_certificate_list,
    parse_client_hello,
    parse_ecdh_curve,
    parse_server_hello,
    parse_sslv2_client_hello,
    parse_sslv2_server_hello,
    parse_truncated_client_hello,
)
from analyzer.dissectors.x509 import X509Record

__all__ = [
    "ALERT_DESCRIPTIONS",
    "CIPHER_SUITES",
    "HRR_RANDOM",
    "MAX_HANDSHAKE_LENGTH",
    "MAX_RECORD_LENGTH",
    "NAMED_GROUPS",
    "ClientHelloFields",
    "ServerHelloFields",
    "TlsAlert",
    "TlsClientHello",
    "TlsDissector",
    "TlsHandshake",
    "TlsMalformedMessage",
    "TlsServerHello",
    "X509Record",
    "alert_name",
    "cipher_name",
    "fingerprints",
    "group_name",
    "is_tls13",
    "ja3_hash",
    "ja3_string",
    "ja3s_string",
    "ja4",
    "ja4s",
    "parse_alerts",
    "parse_certificate_list",
    "parse_client_hello",
    "parse_ecdh_curve",
    "parse_server_hello",
    "parse_sslv2_client_hello",
    "parse_sslv2_server_hello",
    "parse_truncated_client_hello",
    "version_name",
]
