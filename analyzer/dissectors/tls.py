"""TLS (and SSLv2-compatible hellos) on a reassembled TCP stream: records, hellos, certificates, alerts.

Theory of operation
-------------------
`TlsDissector(flow)` receives each direction's in-order bytes (any chunk size, from any point of a
connection that is at a record boundary: the TCP start, or right after STARTTLS / AUTH TLS when a
mail or FTP dissector hands the rest of its stream over). Each direction is a `_Side` with its own
record reader:

    HEADER --5 bytes--> plaintext record?  --yes--> BODY (collect `length` bytes) --> process --> HEADER
                                           --no---> SKIP (count `length` bytes, keep none) ------> HEADER

A record is plaintext while its direction has not switched to encryption: handshake (22), alert
(21, 2 bytes) and ChangeCipherSpec (20) records are collected and parsed; application data (23),
heartbeat (24), handshake records after the switch (the encrypted Finished) and encrypted alerts are
skipped, only counted, so bulk data is never buffered. The switch happens at a side's
ChangeCipherSpec for TLS <= 1.2, and at the (real, non-HelloRetryRequest) ServerHello for TLS 1.3,
where every later handshake message travels as application data (a TLS 1.3 middlebox-compatibility
ChangeCipherSpec switches nothing).

Handshake messages are reassembled per direction across records, so several messages in one record,
one message over many records (even 1-byte records) and over many TCP segments all parse. The first
bytes a client sends may instead be an SSLv2-compatible ClientHello (2-byte header, high bit set).

Completion follows Zeek: a side is in its cipher state after its ChangeCipherSpec (or, in TLS 1.3,
after its first application-data record); the session is established when a ciphertext record goes
by while both sides are in it.

Errors. A record header that breaks the protocol (unknown content type, major version not 3, a
length beyond `MAX_RECORD_LENGTH`) or a handshake message claiming more than its limit makes the
stream hopeless: `Malformed` is raised and the pipeline detaches the dissector. A single message
whose own contents lie (its framing being intact) is reported as a `TlsMalformedMessage` event and
parsing resumes at the next message. A TCP gap inside skipped ciphertext keeps record sync; any
other gap loses it, and that direction is ignored from then on.

At `close()` one `TlsHandshake` record (Zeek's ssl.log plus the stages seen) sums the connection up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from analyzer.dissectors import tls_fingerprints as fp
from analyzer.dissectors.x509 import X509Record, parse_certificate
from analyzer.errors import Malformed

if TYPE_CHECKING:
    from analyzer.flows import Flow

# -- limits -------------------------------------------------------------------------------------------

MAX_RECORD_LENGTH = (1 << 14) + 2048
"""Largest record body accepted: RFC 5246 section 6.2.3 lets a TLSCiphertext reach 2^14 + 2048 bytes
(RFC 8446 section 5.2 tightens it to 2^14 + 256); anything longer (e.g. a 16 MB claim) is Malformed."""
MAX_HANDSHAKE_LENGTH = 64 * 1024
"""Largest handshake message assembled: a ClientHello with post-quantum key shares and every common
extension stays under 8 KiB; 64 KiB leaves a wide margin while bounding the per-direction buffer."""
CERT_CHAIN_ALLOWANCE = 192 * 1024
"""Extra room for Certificate and CertificateRequest messages: a chain of several RSA-4096
certificates with long SAN lists, or a long CA name list, can reach ~100 KiB."""
MAX_CERTS_PER_MESSAGE = 16
"""Certificates decoded per Certificate message: real chains have 2-4; the rest are only counted."""
MAX_HISTORY = 100
"""Length of the ssl history string (Zeek's SSL::max_ssl_history_length)."""
MAX_NAME_CHARS = 255
"""Characters kept of a server name or an ALPN protocol name (DNS names are at most 253)."""
MAX_ALERTS_PER_RECORD = 8
"""Alerts read from one plaintext alert record: real ones carry exactly one; more is reported."""
MAX_LIST_VALUES = 512
"""Values kept per list (ciphers, extensions, groups, ALPN, ...) in events; a real hello has < 100."""

# -- wire constants -----------------------------------------------------------------------------------

CT_CHANGE_CIPHER_SPEC = 20
CT_ALERT = 21
CT_HANDSHAKE = 22
CT_APPLICATION_DATA = 23
CT_HEARTBEAT = 24
CONTENT_TYPES = {
    CT_CHANGE_CIPHER_SPEC: "change_cipher_spec",
    CT_ALERT: "alert",
    CT_HANDSHAKE: "handshake",
    CT_APPLICATION_DATA: "application_data",
    CT_HEARTBEAT: "heartbeat",
}
"""Record content types (RFC 8446 section 5.1, RFC 6520); any other value is Malformed."""

HS_CLIENT_HELLO = 1
HS_SERVER_HELLO = 2
HS_CERTIFICATE = 11
HS_SERVER_KEY_EXCHANGE = 12
HS_CERTIFICATE_REQUEST = 13
HS_CLIENT_KEY_EXCHANGE = 16
HS_FINISHED = 20

HANDSHAKE_TYPES: dict[int, str] = {
    0: "hello_request",
    1: "client_hello",
    2: "server_hello",
    3: "hello_verify_request",
    4: "new_session_ticket",
    5: "end_of_early_data",
    6: "hello_retry_request",
    8: "encrypted_extensions",
    11: "certificate",
    12: "server_key_exchange",
    13: "certificate_request",
    14: "server_hello_done",
    15: "certificate_verify",
    16: "client_key_exchange",
    20: "finished",
    21: "certificate_url",
    22: "certificate_status",
    23: "supplemental_data",
    24: "key_update",
    254: "message_hash",
}
"""Handshake message types (IANA TLS HandshakeType registry)."""

HISTORY_LETTERS: dict[int, str] = {
    0: "h",
    1: "c",
    2: "s",
    3: "v",
    4: "t",
    5: "e",
    6: "j",
    8: "o",
    11: "x",
    12: "k",
    13: "r",
    14: "n",
    15: "y",
    16: "g",
    20: "f",
    21: "w",
    22: "u",
    23: "a",
    24: "p",
    254: "m",
}
"""Handshake type -> Zeek ssl_history letter (lower case; the client's are upper-cased)."""
HISTORY_UNKNOWN_HANDSHAKE = "z"
HISTORY_HRR = "j"
HISTORY_CCS = "i"
HISTORY_ALERT = "l"
HISTORY_HEARTBEAT = "b"

HANDSHAKE_LIMITS: dict[int, int] = {
    HS_CERTIFICATE: MAX_HANDSHAKE_LENGTH + CERT_CHAIN_ALLOWANCE,
    HS_CERTIFICATE_REQUEST: MAX_HANDSHAKE_LENGTH + CERT_CHAIN_ALLOWANCE,
}
"""Handshake type -> largest length assembled, where it differs from MAX_HANDSHAKE_LENGTH."""

STAGES: dict[int, str] = {
    HS_CLIENT_HELLO: "client_hello",
    HS_SERVER_HELLO: "server_hello",
    HS_CERTIFICATE: "certificate",
    HS_SERVER_KEY_EXCHANGE: "key_exchange",
    HS_CLIENT_KEY_EXCHANGE: "key_exchange",
    HS_CERTIFICATE_REQUEST: "certificate_request",
    HS_FINISHED: "finished",
}
"""Plaintext handshake message -> the handshake stage it shows (see ../shared/PROTOCOL-NOTES.md)."""
STAGE_HRR = "hello_retry_request"
STAGE_KEY_EXCHANGE = "key_exchange"
STAGE_CCS = "change_cipher_spec"
STAGE_FINISHED = "finished"
STAGE_APPLICATION_DATA = "application_data"

VERSION_NAMES: dict[int, str] = {
    0x0002: "SSL 2.0",
    0x0300: "SSL 3.0",
    0x0301: "TLS 1.0",
    0x0302: "TLS 1.1",
    0x0303: "TLS 1.2",
    0x0304: "TLS 1.3",
}
"""Protocol version -> name, as the `versions` section keys them."""
TLS13_DRAFT_BASE = 0x7F00
"""0x7F00 + n is TLS 1.3 draft n (pre-RFC 8446 implementations)."""
TLS13 = 0x0304

HRR_RANDOM = bytes.fromhex("CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")
"""ServerHello.random of a HelloRetryRequest: SHA-256 of "HelloRetryRequest" (RFC 8446 4.1.3)."""

EXT_SERVER_NAME = 0
EXT_SUPPORTED_GROUPS = 10
EXT_EC_POINT_FORMATS = 11
EXT_SIGNATURE_ALGORITHMS = 13
EXT_ALPN = 16
EXT_SESSION_TICKET = 35
EXT_PRE_SHARED_KEY = 41
EXT_SUPPORTED_VERSIONS = 43
EXT_KEY_SHARE = 51
SNI_HOST_NAME = 0
"""ServerNameList entry type host_name (RFC 6066)."""
EC_NAMED_CURVE = 3
"""ServerKeyExchange ECParameters curve_type named_curve (RFC 8422)."""

SSL2_CLIENT_HELLO = 1
SSL2_SERVER_HELLO = 4
SSL2_HEADER = 2

ALERT_LEVELS: dict[int, str] = {1: "warning", 2: "fatal"}
"""Alert levels (RFC 5246 section 7.2)."""
ALERT_DESCRIPTIONS: dict[int, str] = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    21: "decryption_failed",
    22: "record_overflow",
    30: "decompression_failure",
    40: "handshake_failure",
    41: "no_certificate",
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    49: "access_denied",
    50: "decode_error",
    51: "decrypt_error",
    60: "export_restriction",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    100: "no_renegotiation",
    109: "missing_extension",
    110: "unsupported_extension",
    111: "certificate_unobtainable",
    112: "unrecognized_name",
    113: "bad_certificate_status_response",
    114: "bad_certificate_hash_value",
    115: "unknown_psk_identity",
    116: "certificate_required",
    120: "no_application_protocol",
    121: "ech_required",
}
"""Alert descriptions (IANA TLS Alerts registry)."""
ENCRYPTED_ALERT = "encrypted"
"""Level and description of an alert sent after encryption started (its contents are not visible)."""

NAMED_GROUPS: dict[int, str] = {
    1: "sect163k1",
    2: "sect163r1",
    3: "sect163r2",
    4: "sect193r1",
    5: "sect193r2",
    6: "sect233k1",
    7: "sect233r1",
    8: "sect239k1",
    9: "sect283k1",
    10: "sect283r1",
    11: "sect409k1",
    12: "sect409r1",
    13: "sect571k1",
    14: "sect571r1",
    15: "secp160k1",
    16: "secp160r1",
    17: "secp160r2",
    18: "secp192k1",
    19: "secp192r1",
    20: "secp224k1",
    21: "secp224r1",
    22: "secp256k1",
    23: "secp256r1",
    24: "secp384r1",
    25: "secp521r1",
    26: "brainpoolP256r1",
    27: "brainpoolP384r1",
    28: "brainpoolP512r1",
    29: "x25519",
    30: "x448",
    31: "brainpoolP256r1tls13",
    32: "brainpoolP384r1tls13",
    33: "brainpoolP512r1tls13",
    256: "ffdhe2048",
    257: "ffdhe3072",
    258: "ffdhe4096",
    259: "ffdhe6144",
    260: "ffdhe8192",
    512: "MLKEM512",
    513: "MLKEM768",
    514: "MLKEM1024",
    4587: "SecP256r1MLKEM768",
    4588: "X25519MLKEM768",
    4589: "SecP384r1MLKEM1024",
    25497: "X25519Kyber768Draft00",
    65281: "arbitrary_explicit_prime_curves",
    65282: "arbitrary_explicit_char2_curves",
}
"""Supported groups / named curves (IANA TLS Supported Groups registry)."""

CIPHER_SUITES: dict[int, str] = {
    0x0000: "TLS_NULL_WITH_NULL_NULL",
    0x0001: "TLS_RSA_WITH_NULL_MD5",
    0x0002: "TLS_RSA_WITH_NULL_SHA",
    0x0003: "TLS_RSA_EXPORT_WITH_RC4_40_MD5",
    0x0004: "TLS_RSA_WITH_RC4_128_MD5",
    0x0005: "TLS_RSA_WITH_RC4_128_SHA",
    0x0006: "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5",
    0x0007: "TLS_RSA_WITH_IDEA_CBC_SHA",
    0x0008: "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA",
    0x0009: "TLS_RSA_WITH_DES_CBC_SHA",
    0x000A: "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
    0x000B: "TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA",
    0x000C: "TLS_DH_DSS_WITH_DES_CBC_SHA",
    0x000D: "TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA",
    0x000E: "TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA",
    0x000F: "TLS_DH_RSA_WITH_DES_CBC_SHA",
    0x0010: "TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA",
    0x0011: "TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA",
    0x0012: "TLS_DHE_DSS_WITH_DES_CBC_SHA",
    0x0013: "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA",
    0x0014: "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA",
    0x0015: "TLS_DHE_RSA_WITH_DES_CBC_SHA",
    0x0016: "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
    0x0017: "TLS_DH_anon_EXPORT_WITH_RC4_40_MD5",
    0x0018: "TLS_DH_anon_WITH_RC4_128_MD5",
    0x0019: "TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA",
    0x001A: "TLS_DH_anon_WITH_DES_CBC_SHA",
    0x001B: "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA",
    0x001E: "TLS_KRB5_WITH_DES_CBC_SHA",
    0x001F: "TLS_KRB5_WITH_3DES_EDE_CBC_SHA",
    0x0020: "TLS_KRB5_WITH_RC4_128_SHA",
    0x0021: "TLS_KRB5_WITH_IDEA_CBC_SHA",
    0x0022: "TLS_KRB5_WITH_DES_CBC_MD5",
    0x0023: "TLS_KRB5_WITH_3DES_EDE_CBC_MD5",
    0x0024: "TLS_KRB5_WITH_RC4_128_MD5",
    0x0025: "TLS_KRB5_WITH_IDEA_CBC_MD5",
    0x0026: "TLS_KRB5_EXPORT_WITH_DES40_CBC_SHA",
    0x0027: "TLS_KRB5_EXPORT_WITH_RC2_CBC_40_SHA",
    0x0028: "TLS_KRB5_EXPORT_WITH_RC4_40_SHA",
    0x0029: "TLS_KRB5_EXPORT_WITH_DES40_CBC_MD5",
    0x002A: "TLS_KRB5_EXPORT_WITH_RC2_CBC_40_MD5",
    0x002B: "TLS_KRB5_EXPORT_WITH_RC4_40_MD5",
    0x002C: "TLS_PSK_WITH_NULL_SHA",
    0x002D: "TLS_DHE_PSK_WITH_NULL_SHA",
    0x002E: "TLS_RSA_PSK_WITH_NULL_SHA",
    0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA",
    0x0030: "TLS_DH_DSS_WITH_AES_128_CBC_SHA",
    0x0031: "TLS_DH_RSA_WITH_AES_128_CBC_SHA",
    0x0032: "TLS_DHE_DSS_WITH_AES_128_CBC_SHA",
    0x0033: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
    0x0034: "TLS_DH_anon_WITH_AES_128_CBC_SHA",
    0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
    0x0036: "TLS_DH_DSS_WITH_AES_256_CBC_SHA",
    0x0037: "TLS_DH_RSA_WITH_AES_256_CBC_SHA",
    0x0038: "TLS_DHE_DSS_WITH_AES_256_CBC_SHA",
    0x0039: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
    0x003A: "TLS_DH_anon_WITH_AES_256_CBC_SHA",
    0x003B: "TLS_RSA_WITH_NULL_SHA256",
    0x003C: "TLS_RSA_WITH_AES_128_CBC_SHA256",
    0x003D: "TLS_RSA_WITH_AES_256_CBC_SHA256",
    0x003E: "TLS_DH_DSS_WITH_AES_128_CBC_SHA256",
    0x003F: "TLS_DH_RSA_WITH_AES_128_CBC_SHA256",
    0x0040: "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",
    0x0041: "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA",
    0x0042: "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA",
    0x0043: "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA",
    0x0044: "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA",
    0x0045: "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA",
    0x0046: "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA",
    0x0067: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
    0x0068: "TLS_DH_DSS_WITH_AES_256_CBC_SHA256",
    0x0069: "TLS_DH_RSA_WITH_AES_256_CBC_SHA256",
    0x006A: "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256",
    0x006B: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
    0x006C: "TLS_DH_anon_WITH_AES_128_CBC_SHA256",
    0x006D: "TLS_DH_anon_WITH_AES_256_CBC_SHA256",
    0x0084: "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA",
    0x0085: "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA",
    0x0086: "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA",
    0x0087: "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA",
    0x0088: "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA",
    0x0089: "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA",
    0x008A: "TLS_PSK_WITH_RC4_128_SHA",
    0x008B: "TLS_PSK_WITH_3DES_EDE_CBC_SHA",
    0x008C: "TLS_PSK_WITH_AES_128_CBC_SHA",
    0x008D: "TLS_PSK_WITH_AES_256_CBC_SHA",
    0x008E: "TLS_DHE_PSK_WITH_RC4_128_SHA",
    0x008F: "TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA",
    0x0090: "TLS_DHE_PSK_WITH_AES_128_CBC_SHA",
    0x0091: "TLS_DHE_PSK_WITH_AES_256_CBC_SHA",
    0x0092: "TLS_RSA_PSK_WITH_RC4_128_SHA",
    0x0093: "TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA",
    0x0094: "TLS_RSA_PSK_WITH_AES_128_CBC_SHA",
    0x0095: "TLS_RSA_PSK_WITH_AES_256_CBC_SHA",
    0x0096: "TLS_RSA_WITH_SEED_CBC_SHA",
    0x0097: "TLS_DH_DSS_WITH_SEED_CBC_SHA",
    0x0098: "TLS_DH_RSA_WITH_SEED_CBC_SHA",
    0x0099: "TLS_DHE_DSS_WITH_SEED_CBC_SHA",
    0x009A: "TLS_DHE_RSA_WITH_SEED_CBC_SHA",
    0x009B: "TLS_DH_anon_WITH_SEED_CBC_SHA",
    0x009C: "TLS_RSA_WITH_AES_128_GCM_SHA256",
    0x009D: "TLS_RSA_WITH_AES_256_GCM_SHA384",
    0x009E: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    0x009F: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
    0x00A0: "TLS_DH_RSA_WITH_AES_128_GCM_SHA256",
    0x00A1: "TLS_DH_RSA_WITH_AES_256_GCM_SHA384",
    0x00A2: "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256",
    0x00A3: "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384",
    0x00A4: "TLS_DH_DSS_WITH_AES_128_GCM_SHA256",
    0x00A5: "TLS_DH_DSS_WITH_AES_256_GCM_SHA384",
    0x00A6: "TLS_DH_anon_WITH_AES_128_GCM_SHA256",
    0x00A7: "TLS_DH_anon_WITH_AES_256_GCM_SHA384",
    0x00A8: "TLS_PSK_WITH_AES_128_GCM_SHA256",
    0x00A9: "TLS_PSK_WITH_AES_256_GCM_SHA384",
    0x00AA: "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256",
    0x00AB: "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384",
    0x00AC: "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256",
    0x00AD: "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384",
    0x00AE: "TLS_PSK_WITH_AES_128_CBC_SHA256",
    0x00AF: "TLS_PSK_WITH_AES_256_CBC_SHA384",
    0x00B0: "TLS_PSK_WITH_NULL_SHA256",
    0x00B1: "TLS_PSK_WITH_NULL_SHA384",
    0x00B2: "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256",
    0x00B3: "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384",
    0x00B4: "TLS_DHE_PSK_WITH_NULL_SHA256",
    0x00B5: "TLS_DHE_PSK_WITH_NULL_SHA384",
    0x00B6: "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256",
    0x00B7: "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384",
    0x00B8: "TLS_RSA_PSK_WITH_NULL_SHA256",
    0x00B9: "TLS_RSA_PSK_WITH_NULL_SHA384",
    0x00BA: "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256",
    0x00BB: "TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA256",
    0x00BC: "TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA256",
    0x00BD: "TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256",
    0x00BE: "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",
    0x00BF: "TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256",
    0x00C0: "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256",
    0x00C1: "TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA256",
    0x00C2: "TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA256",
    0x00C3: "TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256",
    0x00C4: "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256",
    0x00C5: "TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256",
    0x00FF: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
    0x1301: "TLS_AES_128_GCM_SHA256",
    0x1302: "TLS_AES_256_GCM_SHA384",
    0x1303: "TLS_CHACHA20_POLY1305_SHA256",
    0x1304: "TLS_AES_128_CCM_SHA256",
    0x1305: "TLS_AES_128_CCM_8_SHA256",
    0x5600: "TLS_FALLBACK_SCSV",
    0xC001: "TLS_ECDH_ECDSA_WITH_NULL_SHA",
    0xC002: "TLS_ECDH_ECDSA_WITH_RC4_128_SHA",
    0xC003: "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA",
    0xC004: "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA",
    0xC005: "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA",
    0xC006: "TLS_ECDHE_ECDSA_WITH_NULL_SHA",
    0xC007: "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",
    0xC008: "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
    0xC009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    0xC00A: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    0xC00B: "TLS_ECDH_RSA_WITH_NULL_SHA",
    0xC00C: "TLS_ECDH_RSA_WITH_RC4_128_SHA",
    0xC00D: "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA",
    0xC00E: "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA",
    0xC00F: "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA",
    0xC010: "TLS_ECDHE_RSA_WITH_NULL_SHA",
    0xC011: "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
    0xC012: "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    0xC013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    0xC014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    0xC015: "TLS_ECDH_anon_WITH_NULL_SHA",
    0xC016: "TLS_ECDH_anon_WITH_RC4_128_SHA",
    0xC017: "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA",
    0xC018: "TLS_ECDH_anon_WITH_AES_128_CBC_SHA",
    0xC019: "TLS_ECDH_anon_WITH_AES_256_CBC_SHA",
    0xC01A: "TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA",
    0xC01B: "TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA",
    0xC01C: "TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA",
    0xC01D: "TLS_SRP_SHA_WITH_AES_128_CBC_SHA",
    0xC01E: "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA",
    0xC01F: "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA",
    0xC020: "TLS_SRP_SHA_WITH_AES_256_CBC_SHA",
    0xC021: "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA",
    0xC022: "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA",
    0xC023: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    0xC024: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
    0xC025: "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256",
    0xC026: "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384",
    0xC027: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    0xC028: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    0xC029: "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256",
    0xC02A: "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384",
    0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    0xC02D: "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256",
    0xC02E: "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384",
    0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    0xC031: "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256",
    0xC032: "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384",
    0xC033: "TLS_ECDHE_PSK_WITH_RC4_128_SHA",
    0xC034: "TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA",
    0xC035: "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA",
    0xC036: "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA",
    0xC037: "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256",
    0xC038: "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384",
    0xC039: "TLS_ECDHE_PSK_WITH_NULL_SHA",
    0xC03A: "TLS_ECDHE_PSK_WITH_NULL_SHA256",
    0xC03B: "TLS_ECDHE_PSK_WITH_NULL_SHA384",
    0xC072: "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256",
    0xC073: "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384",
    0xC074: "TLS_ECDH_ECDSA_WITH_CAMELLIA_128_CBC_SHA256",
    0xC075: "TLS_ECDH_ECDSA_WITH_CAMELLIA_256_CBC_SHA384",
    0xC076: "TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256",
    0xC077: "TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384",
    0xC078: "TLS_ECDH_RSA_WITH_CAMELLIA_128_CBC_SHA256",
    0xC079: "TLS_ECDH_RSA_WITH_CAMELLIA_256_CBC_SHA384",
    0xC07A: "TLS_RSA_WITH_CAMELLIA_128_GCM_SHA256",
    0xC07B: "TLS_RSA_WITH_CAMELLIA_256_GCM_SHA384",
    0xC07C: "TLS_DHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",
    0xC07D: "TLS_DHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",
    0xC07E: "TLS_DH_RSA_WITH_CAMELLIA_128_GCM_SHA256",
    0xC07F: "TLS_DH_RSA_WITH_CAMELLIA_256_GCM_SHA384",
    0xC080: "TLS_DHE_DSS_WITH_CAMELLIA_128_GCM_SHA256",
    0xC081: "TLS_DHE_DSS_WITH_CAMELLIA_256_GCM_SHA384",
    0xC082: "TLS_DH_DSS_WITH_CAMELLIA_128_GCM_SHA256",
    0xC083: "TLS_DH_DSS_WITH_CAMELLIA_256_GCM_SHA384",
    0xC084: "TLS_DH_anon_WITH_CAMELLIA_128_GCM_SHA256",
    0xC085: "TLS_DH_anon_WITH_CAMELLIA_256_GCM_SHA384",
    0xC086: "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_GCM_SHA256",
    0xC087: "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_GCM_SHA384",
    0xC088: "TLS_ECDH_ECDSA_WITH_CAMELLIA_128_GCM_SHA256",
    0xC089: "TLS_ECDH_ECDSA_WITH_CAMELLIA_256_GCM_SHA384",
    0xC08A: "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256",
    0xC08B: "TLS_ECDHE_RSA_WITH_CAMELLIA_256_GCM_SHA384",
    0xC08C: "TLS_ECDH_RSA_WITH_CAMELLIA_128_GCM_SHA256",
    0xC08D: "TLS_ECDH_RSA_WITH_CAMELLIA_256_GCM_SHA384",
    0xC08E: "TLS_PSK_WITH_CAMELLIA_128_GCM_SHA256",
    0xC08F: "TLS_PSK_WITH_CAMELLIA_256_GCM_SHA384",
    0xC090: "TLS_DHE_PSK_WITH_CAMELLIA_128_GCM_SHA256",
    0xC091: "TLS_DHE_PSK_WITH_CAMELLIA_256_GCM_SHA384",
    0xC092: "TLS_RSA_PSK_WITH_CAMELLIA_128_GCM_SHA256",
    0xC093: "TLS_RSA_PSK_WITH_CAMELLIA_256_GCM_SHA384",
    0xC094: "TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256",
    0xC095: "TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384",
    0xC096: "TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256",
    0xC097: "TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384",
    0xC098: "TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256",
    0xC099: "TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384",
    0xC09A: "TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256",
    0xC09B: "TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384",
    0xC09C: "TLS_RSA_WITH_AES_128_CCM",
    0xC09D: "TLS_RSA_WITH_AES_256_CCM",
    0xC09E: "TLS_DHE_RSA_WITH_AES_128_CCM",
    0xC09F: "TLS_DHE_RSA_WITH_AES_256_CCM",
    0xC0A0: "TLS_RSA_WITH_AES_128_CCM_8",
    0xC0A1: "TLS_RSA_WITH_AES_256_CCM_8",
    0xC0A2: "TLS_DHE_RSA_WITH_AES_128_CCM_8",
    0xC0A3: "TLS_DHE_RSA_WITH_AES_256_CCM_8",
    0xC0A4: "TLS_PSK_WITH_AES_128_CCM",
    0xC0A5: "TLS_PSK_WITH_AES_256_CCM",
    0xC0A6: "TLS_DHE_PSK_WITH_AES_128_CCM",
    0xC0A7: "TLS_DHE_PSK_WITH_AES_256_CCM",
    0xC0A8: "TLS_PSK_WITH_AES_128_CCM_8",
    0xC0A9: "TLS_PSK_WITH_AES_256_CCM_8",
    0xC0AA: "TLS_DHE_PSK_WITH_AES_128_CCM_8",
    0xC0AB: "TLS_DHE_PSK_WITH_AES_256_CCM_8",
    0xC0AC: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
    0xC0AD: "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
    0xC0AE: "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
    0xC0AF: "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
    0xCC13: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256_OLD",
    0xCC14: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256_OLD",
    0xCC15: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256_OLD",
    0xCCA8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCA9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAA: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAB: "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAC: "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAD: "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256",
    0xCCAE: "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256",
}
"""Cipher suites (IANA TLS Cipher Suites registry); an unknown one is shown as 0x-hex."""


def version_name(version: int) -> str:
    """ "TLS 1.2", "SSL 3.0", "TLS 1.3 draft 23", or 0x-hex for anything else."""
    name = VERSION_NAMES.get(version)
    if name is not None:
        return name
    if TLS13_DRAFT_BASE < version <= TLS13_DRAFT_BASE + 0xFF:
        return f"TLS 1.3 draft {version - TLS13_DRAFT_BASE}"
    return f"0x{version:04x}"


def cipher_name(cipher: int) -> str:
    """IANA name of a cipher suite, or 0x-hex."""
    return CIPHER_SUITES.get(cipher) or f"0x{cipher:04x}"


def group_name(group: int) -> str:
    """IANA name of a supported group, or 0x-hex."""
    return NAMED_GROUPS.get(group) or f"0x{group:04x}"


def alert_name(level: int, description: int) -> tuple[str, str]:
    """(level name, description name) of an alert, unknown values as level(N) / unknown(N)."""
    return ALERT_LEVELS.get(level, f"level({level})"), ALERT_DESCRIPTIONS.get(
        description, f"unknown({description})"
    )


def _is_tls13(version: int | None) -> bool:
    return version is not None and (version == TLS13 or TLS13_DRAFT_BASE < version <= TLS13_DRAFT_BASE + 0xFF)


# -- events -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TlsClientHello:
    """A ClientHello (or SSLv2-compatible CLIENT-HELLO) and its fingerprints."""

    ts: float
    """Time of the packet that completed the message."""
    uid: str
    """Connection uid."""
    orig_h: str
    """Originator address."""
    orig_p: int
    """Originator port."""
    resp_h: str
    """Responder address."""
    resp_p: int
    """Responder port."""
    version: int
    """legacy_version (client_version) field."""
    supported_versions: tuple[int, ...]
    """supported_versions extension values, GREASE included (empty when absent)."""
    server_name: str | None
    """First host_name of the server_name extension (SNI)."""
    alpn: tuple[str, ...]
    """ALPN protocols offered, in order."""
    ciphers: tuple[int, ...]
    """Cipher suites offered, in order (SSLv2 kinds as 24-bit values)."""
    extensions: tuple[int, ...]
    """Extension types, in order."""
    groups: tuple[int, ...]
    """supported_groups (elliptic curves) offered."""
    point_formats: tuple[int, ...]
    """ec_point_formats offered."""
    signature_algorithms: tuple[int, ...]
    """signature_algorithms offered, in order."""
    session_id: str
    """Session id offered, hex (empty when none)."""
    sslv2: bool
    """Sent in SSLv2-compatible record format."""
    ja3: str | None
    """JA3 hash (MD5 of ja3_full); None for an SSLv2-format hello."""
    ja3_full: str | None
    """JA3 full string."""
    ja4: str
    """JA4 fingerprint (FoxIO)."""
    from_orig: bool = True
    """Sent by the connection's originator (False: roles flipped)."""

    @property
    def offers_tls13(self) -> bool:
        """supported_versions lists TLS 1.3 (or a draft of it)."""
        return any(_is_tls13(v) for v in self.supported_versions)


@dataclass(frozen=True, slots=True)
class TlsServerHello:
    """A ServerHello (or HelloRetryRequest, or SSLv2 SERVER-HELLO) and its fingerprints."""

    ts: float
    """Time of the packet that completed the message."""
    uid: str
    """Connection uid."""
    orig_h: str
    """Originator address."""
    orig_p: int
    """Originator port."""
    resp_h: str
    """Responder address."""
    resp_p: int
    """Responder port."""
    version: int
    """Negotiated version: supported_versions when present, else the legacy version field."""
    legacy_version: int
    """legacy_version field of the message."""
    cipher: int
    """Chosen cipher suite."""
    alpn: str | None
    """ALPN protocol chosen (Zeek's next_protocol)."""
    extensions: tuple[int, ...]
    """Extension types, in order."""
    key_share_group: int | None
    """Group of the key_share extension (TLS 1.3; for a HelloRetryRequest the group asked for)."""
    session_id: str
    """Session id, hex."""
    hello_retry_request: bool
    """A TLS 1.3 HelloRetryRequest (recognised by its special random); still a ServerHello on the wire."""
    psk_accepted: bool
    """pre_shared_key extension present (TLS 1.3 resumption)."""
    sslv2: bool
    """SSLv2 SERVER-HELLO."""
    ja3s: str
    """JA3S hash."""
    ja3s_full: str
    """JA3S full string."""
    ja4s: str
    """JA4S fingerprint (FoxIO)."""

    @property
    def version_name(self) -> str:
        """Negotiated version as text."""
        return version_name(self.version)

    @property
    def cipher_name(self) -> str:
        """Chosen cipher suite as text."""
        return cipher_name(self.cipher)


@dataclass(frozen=True, slots=True)
class TlsAlert:
    """One alert message."""

    ts: float
    """Time of the packet carrying it."""
    uid: str
    """Connection uid."""
    from_client: bool
    """Sent by the client."""
    level: int | None
    """1 warning, 2 fatal; None when encrypted."""
    description: int | None
    """Alert description code; None when encrypted."""
    level_name: str
    """Level as text ("encrypted" when not visible)."""
    description_name: str
    """Description as text ("encrypted" when not visible)."""


@dataclass(frozen=True, slots=True)
class TlsMalformedMessage:
    """A handshake message or certificate that broke its own rules; the stream went on."""

    ts: float
    """Time of the packet carrying it."""
    uid: str
    """Connection uid."""
    reason: str
    """Short stable key (e.g. tls.client_hello_truncated, x509.bad_certificate)."""
    detail: str
    """What was wrong."""


@dataclass(frozen=True, slots=True)
class TlsHandshake:
    """One TLS connection summed up at its end, as Zeek's ssl.log plus the stages seen."""

    ts: float
    """Time the first TLS record was seen."""
    uid: str
    """Connection uid."""
    orig_h: str
    """Originator address."""
    orig_p: int
    """Originator port."""
    resp_h: str
    """Responder address."""
    resp_p: int
    """Responder port."""
    version: str | None
    """Version the server chose."""
    cipher: str | None
    """Cipher suite the server chose."""
    curve: str | None
    """Key exchange group (ServerKeyExchange curve, or TLS 1.3 key_share)."""
    server_name: str | None
    """SNI of the (last) ClientHello."""
    resumed: bool
    """The session reused earlier key material (session id, ticket or PSK), Zeek's rules."""
    last_alert: str | None
    """Description of the last alert seen."""
    next_protocol: str | None
    """ALPN protocol the server chose."""
    established: bool
    """Both sides reached their cipher state and a ciphertext record followed (Zeek's rule)."""
    history: str
    """Zeek ssl_history: one letter per handshake message, CCS, alert; client's upper-case."""
    ja3: str | None
    """JA3 of the (last) ClientHello."""
    ja3s: str | None
    """JA3S of the (last) ServerHello."""
    ja4: str | None
    """JA4 of the (last) ClientHello."""
    ja4s: str | None
    """JA4S of the (last) ServerHello."""
    stages: tuple[str, ...]
    """Handshake stages seen, in order (client_hello, server_hello, certificate, key_exchange, ...)."""
    hello_retry_request: bool
    """The server sent a HelloRetryRequest."""
    client_hellos: int
    """ClientHello messages seen."""
    server_hellos: int
    """ServerHello messages seen (HelloRetryRequest included)."""
    cert_chain_fps: tuple[str, ...]
    """SHA-256 fingerprints of the server's certificates, in order."""
    client_cert_chain_fps: tuple[str, ...]
    """SHA-256 fingerprints of the client's certificates."""
    sni_matches_cert: bool | None
    """SNI matches the server certificate (None without SNI or certificate)."""
    client_app_bytes: int
    """Application-data record bytes the client sent (bodies, i.e. ciphertext)."""
    server_app_bytes: int
    """Application-data record bytes the server sent."""
    sslv2_hello: bool
    """The client started with an SSLv2-compatible hello."""
    lost_sync: bool
    """A TCP gap cut a record: later records of that direction were not read."""


# -- byte reader --------------------------------------------------------------------------------------


class _Reader:
    """Bounds-checked big-endian reader over one message; overruns raise Malformed(<what>_truncated)."""

    __slots__ = ("data", "end", "pos", "what")

    def __init__(self, data: bytes, what: str, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end
        self.what = what

    @property
    def left(self) -> int:
        return self.end - self.pos

    def take(self, n: int) -> bytes:
        if n > self.end - self.pos:
            raise Malformed(f"tls.{self.what}_truncated", f"need {n} bytes at {self.pos}, have {self.left}")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def vector(self, len_bytes: int) -> _Reader:
        """A sub-reader over a length-prefixed vector (the length must fit inside this reader)."""
        n = self.uint(len_bytes)
        if n > self.end - self.pos:
            raise Malformed(
                f"tls.{self.what}_bad_length", f"vector of {n} bytes at {self.pos}, have {self.left}"
            )
        sub = _Reader(self.data, self.what, self.pos, self.pos + n)
        self.pos += n
        return sub

    def rest(self) -> bytes:
        return self.take(self.left)

    def u16_list(self) -> tuple[int, ...]:
        if self.left % 2:
            raise Malformed(f"tls.{self.what}_bad_length", f"odd list length {self.left}")
        raw = self.rest()
        return tuple(int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2))


def _text(raw: bytes) -> str:
    return raw[:MAX_NAME_CHARS].decode("utf-8", "backslashreplace")


# -- message parsers (pure) ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientHelloFields:
    """What a ClientHello says, before it is tied to a connection."""

    version: int
    """legacy_version."""
    session_id: bytes
    """Session id."""
    ciphers: tuple[int, ...]
    """Cipher suites."""
    extensions: tuple[int, ...]
    """Extension types in order."""
    server_name: str | None
    """First host_name."""
    alpn: tuple[bytes, ...]
    """ALPN protocols (raw bytes)."""
    groups: tuple[int, ...]
    """supported_groups."""
    point_formats: tuple[int, ...]
    """ec_point_formats."""
    signature_algorithms: tuple[int, ...]
    """signature_algorithms."""
    supported_versions: tuple[int, ...]
    """supported_versions."""
    ticket: bool
    """A non-empty session_ticket extension."""
    psk: bool
    """A pre_shared_key extension."""
    problems: tuple[str, ...]
    """Extensions whose own contents were malformed (reason keys); the hello still counts."""
    sslv2: bool = False
    """SSLv2-compatible CLIENT-HELLO."""

    def ja3_full(self) -> str | None:
        """JA3 string (None for SSLv2 hellos, which JA3 does not define)."""
        if self.sslv2:
            return None
        return fp.ja3_string(self.version, self.ciphers, self.extensions, self.groups, self.point_formats)

    def ja4(self) -> str:
        """JA4 fingerprint (SSLv2 hellos: only their TLS-compatible cipher kinds count)."""
        ciphers = [c for c in self.ciphers if c <= 0xFFFF]
        return fp.ja4(
            self.version,
            self.supported_versions or None,
            ciphers,
            self.extensions,
            self.signature_algorithms,
            self.alpn[0] if self.alpn else None,
        )


@dataclass(frozen=True, slots=True)
class ServerHelloFields:
    """What a ServerHello says, before it is tied to a connection."""

    legacy_version: int
    """legacy_version."""
    random: bytes
    """server random."""
    session_id: bytes
    """Session id."""
    cipher: int
    """Chosen cipher."""
    extensions: tuple[int, ...]
    """Extension types in order."""
    selected_version: int | None
    """supported_versions value."""
    alpn: bytes | None
    """Chosen ALPN protocol."""
    key_share_group: int | None
    """key_share group."""
    psk: bool
    """pre_shared_key present."""
    problems: tuple[str, ...]
    """Extensions whose own contents were malformed."""
    sslv2: bool = False
    """SSLv2 SERVER-HELLO."""

    @property
    def version(self) -> int:
        """Negotiated version."""
        return self.selected_version if self.selected_version is not None else self.legacy_version

    @property
    def hello_retry_request(self) -> bool:
        """A TLS 1.3 HelloRetryRequest."""
        return self.random == HRR_RANDOM

    def ja3s_full(self) -> str:
        """JA3S string."""
        return fp.ja3s_string(self.legacy_version, self.cipher, self.extensions)

    def ja4s(self) -> str:
        """JA4S fingerprint."""
        return fp.ja4s(self.legacy_version, self.selected_version, self.cipher, self.extensions, self.alpn)


def _extensions(r: _Reader) -> list[tuple[int, _Reader]]:
    """The extension block (if any): [(type, body reader)]; the block's own framing must hold."""
    if r.left == 0:
        return []
    block = r.vector(2)
    out = []
    while block.left:
        etype = block.uint(2)
        out.append((etype, block.vector(2)))
    return out


def _sni(body: _Reader) -> str | None:
    names = body.vector(2)
    while names.left:
        kind = names.uint(1)
        name = names.vector(2).rest()
        if kind == SNI_HOST_NAME:
            return _text(name)
    return None


def _alpn(body: _Reader) -> tuple[bytes, ...]:
    protocols = body.vector(2)
    out: list[bytes] = []
    while protocols.left:
        proto = protocols.vector(1).rest()
        if len(out) < MAX_LIST_VALUES:
            out.append(proto[:MAX_NAME_CHARS])
    return tuple(out)


def _cap(values: tuple[int, ...]) -> tuple[int, ...]:
    return values[:MAX_LIST_VALUES]


def parse_client_hello(body: bytes) -> ClientHelloFields:
    """Parse a ClientHello message body (after the 4-byte handshake header)."""
    r = _Reader(body, "client_hello")
    version = r.uint(2)
    r.take(32)  # random
    session_id = r.vector(1).rest()
    ciphers = r.vector(2).u16_list()
    r.vector(1)  # compression methods
    exts = _extensions(r)
    sni: str | None = None
    alpn: tuple[bytes, ...] = ()
    groups: tuple[int, ...] = ()
    formats: tuple[int, ...] = ()
    sigs: tuple[int, ...] = ()
    versions: tuple[int, ...] = ()
    ticket = psk = False
    problems = []
    for etype, ext in exts:
        try:
            if etype == EXT_SERVER_NAME:
                sni = _sni(ext) if ext.left else None
            elif etype == EXT_ALPN:
                alpn = _alpn(ext)
            elif etype == EXT_SUPPORTED_GROUPS:
                groups = _cap(ext.vector(2).u16_list())
            elif etype == EXT_EC_POINT_FORMATS:
                formats = _cap(tuple(ext.vector(1).rest()))
            elif etype == EXT_SIGNATURE_ALGORITHMS:
                sigs = _cap(ext.vector(2).u16_list())
            elif etype == EXT_SUPPORTED_VERSIONS:
                versions = _cap(ext.vector(1).u16_list())
            elif etype == EXT_SESSION_TICKET:
                ticket = ext.left > 0
            elif etype == EXT_PRE_SHARED_KEY:
                psk = True
        except Malformed as exc:
            problems.append(f"{exc.reason}:ext{etype}")
    return ClientHelloFields(
        version=version,
        session_id=session_id,
        ciphers=_cap(ciphers),
        extensions=_cap(tuple(e for e, _ in exts)),
        server_name=sni,
        alpn=alpn,
        groups=groups,
        point_formats=formats,
        signature_algorithms=sigs,
        supported_versions=versions,
        ticket=ticket,
        psk=psk,
        problems=tuple(problems),
    )


def parse_server_hello(body: bytes) -> ServerHelloFields:
    """Parse a ServerHello message body (after the 4-byte handshake header)."""
    r = _Reader(body, "server_hello")
    legacy = r.uint(2)
    random = r.take(32)
    session_id = r.vector(1).rest()
    cipher = r.uint(2)
    r.uint(1)  # compression method
    exts = _extensions(r)
    selected: int | None = None
    alpn: bytes | None = None
    group: int | None = None
    psk = False
    problems = []
    for etype, ext in exts:
        try:
            if etype == EXT_SUPPORTED_VERSIONS:
                selected = ext.uint(2)
            elif etype == EXT_ALPN:
                protocols = _alpn(ext)
                alpn = protocols[0] if protocols else None
            elif etype == EXT_KEY_SHARE:
                group = ext.uint(2)
            elif etype == EXT_PRE_SHARED_KEY:
                psk = True
        except Malformed as exc:
            problems.append(f"{exc.reason}:ext{etype}")
    return ServerHelloFields(
        legacy_version=legacy,
        random=random,
        session_id=session_id,
        cipher=cipher,
        extensions=_cap(tuple(e for e, _ in exts)),
        selected_version=selected,
        alpn=alpn,
        key_share_group=group,
        psk=psk,
        problems=tuple(problems),
    )


def parse_sslv2_client_hello(record: bytes) -> ClientHelloFields:
    """Parse an SSLv2 CLIENT-HELLO record body (after the 2-byte record header)."""
    r = _Reader(record, "sslv2_client_hello")
    if r.uint(1) != SSL2_CLIENT_HELLO:
        raise Malformed("tls.sslv2_not_client_hello")
    version = r.uint(2)
    cipher_len, session_len, challenge_len = r.uint(2), r.uint(2), r.uint(2)
    if cipher_len % 3:
        raise Malformed("tls.sslv2_client_hello_bad_length", f"cipher specs of {cipher_len} bytes")
    specs = r.take(cipher_len)
    session_id = r.take(session_len)
    r.take(challenge_len)
    ciphers = tuple(int.from_bytes(specs[i : i + 3], "big") for i in range(0, len(specs), 3))
    return ClientHelloFields(
        version=version,
        session_id=session_id,
        ciphers=_cap(ciphers),
        extensions=(),
        server_name=None,
        alpn=(),
        groups=(),
        point_formats=(),
        signature_algorithms=(),
        supported_versions=(),
        ticket=False,
        psk=False,
        problems=(),
        sslv2=True,
    )


def parse_sslv2_server_hello(record: bytes) -> ServerHelloFields:
    """Parse an SSLv2 SERVER-HELLO record body: version and first cipher kind."""
    r = _Reader(record, "sslv2_server_hello")
    if r.uint(1) != SSL2_SERVER_HELLO:
        raise Malformed("tls.sslv2_not_server_hello")
    r.uint(1)  # session id hit
    r.uint(1)  # certificate type
    version = r.uint(2)
    cert_len, cipher_len = r.uint(2), r.uint(2)
    r.uint(2)  # connection id length
    r.take(cert_len)
    specs = r.take(cipher_len)
    cipher = int.from_bytes(specs[:3], "big") if len(specs) >= 3 else 0
    return ServerHelloFields(
        legacy_version=version,
        random=b"",
        session_id=b"",
        cipher=cipher,
        extensions=(),
        selected_version=None,
        alpn=None,
        key_share_group=None,
        psk=False,
        problems=(),
        sslv2=True,
    )


def parse_certificate_list(body: bytes) -> tuple[list[bytes], int]:
    """DER certificates of a TLS <= 1.2 Certificate message (at most MAX_CERTS_PER_MESSAGE) and the total."""
    r = _Reader(body, "certificate")
    chain = r.vector(3)
    certs: list[bytes] = []
    total = 0
    while chain.left:
        der = chain.vector(3).rest()
        total += 1
        if len(certs) < MAX_CERTS_PER_MESSAGE:
            certs.append(der)
    return certs, total


def parse_ecdh_curve(body: bytes) -> int | None:
    """Named curve of an ECDHE ServerKeyExchange (RFC 8422 ServerECDHParams), None otherwise."""
    if len(body) >= 3 and body[0] == EC_NAMED_CURVE:
        return int.from_bytes(body[1:3], "big")
    return None


def parse_alerts(body: bytes) -> list[tuple[int, int]]:
    """(level, description) pairs of a plaintext alert record."""
    return [(body[i], body[i + 1]) for i in range(0, len(body) - 1, 2)]


# -- the stream dissector -----------------------------------------------------------------------------

RECORD_HEADER_LEN = 5
"""type(1) version(2) length(2)."""

_HEADER = 0
"""Reading a record header."""
_BODY = 1
"""Collecting a plaintext record body."""
_SKIP = 2
"""Counting past a ciphertext record body."""
_LOST = 3
"""Record sync lost (TCP gap) or the direction left TLS (SSLv2 session): bytes are ignored."""


class _Side:
    """Record-reader state of one direction."""

    __slots__ = (
        "app_bytes",
        "buf",
        "cipher_state",
        "client",
        "encrypted",
        "first",
        "hs",
        "need",
        "rtype",
        "sslv2",
        "state",
    )

    def __init__(self, client: bool) -> None:
        self.client = client
        self.state = _HEADER
        self.buf = bytearray()
        """Header bytes, then the plaintext body being collected (bounded by MAX_RECORD_LENGTH)."""
        self.need = 0
        """Body length of the current record (SKIP: bytes still to skip)."""
        self.rtype = 0
        self.hs = bytearray()
        """Handshake bytes not yet forming a whole message (bounded by the handshake limits)."""
        self.first = True
        self.sslv2 = False
        self.encrypted = False
        """Handshake/alert records of this direction are ciphertext from now on."""
        self.cipher_state = False
        """Zeek's STATE_ENCRYPTED: after this side's CCS, or its first TLS 1.3 application data."""
        self.app_bytes = 0


class TlsDissector:
    """Stream dissector for TLS on any port; usable on a stream handed over after STARTTLS."""

    __slots__ = (
        "_cert_fps",
        "_cipher",
        "_cke_seen",
        "_client",
        "_client_cert_fps",
        "_client_hellos",
        "_client_offers_tls13",
        "_client_psk",
        "_client_session_id",
        "_client_ticket_empty_session",
        "_curve",
        "_established",
        "_first_ts",
        "_history",
        "_hrr",
        "_ja3",
        "_ja3s",
        "_ja4",
        "_ja4s",
        "_last_alert",
        "_lost_sync",
        "_next_protocol",
        "_resumed",
        "_server",
        "_server_hellos",
        "_server_name",
        "_sni_matches",
        "_sslv2_hello",
        "_stages",
        "_version",
        "flow",
    )

    _HANDLERS: ClassVar[dict[int, str]] = {
        HS_CLIENT_HELLO: "_on_client_hello",
        HS_SERVER_HELLO: "_on_server_hello",
        HS_CERTIFICATE: "_on_certificate",
        HS_SERVER_KEY_EXCHANGE: "_on_server_key_exchange",
        HS_CLIENT_KEY_EXCHANGE: "_on_client_key_exchange",
    }
    """Handshake type -> the method that reads it (other types only add their history letter)."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self._client = _Side(True)
        self._server = _Side(False)
        self._first_ts: float | None = None
        self._history: list[str] = []
        self._stages: list[str] = []
        self._version: int | None = None
        self._cipher: int | None = None
        self._curve: int | None = None
        self._server_name: str | None = None
        self._client_offers_tls13 = False
        self._client_session_id = b""
        self._client_ticket_empty_session = False
        self._client_psk = False
        self._cke_seen = False
        self._resumed = False
        self._last_alert: str | None = None
        self._next_protocol: str | None = None
        self._established = False
        self._ja3: str | None = None
        self._ja3s: str | None = None
        self._ja4: str | None = None
        self._ja4s: str | None = None
        self._hrr = False
        self._client_hellos = 0
        self._server_hellos = 0
        self._cert_fps: list[str] = []
        self._client_cert_fps: list[str] = []
        self._sni_matches: bool | None = None
        self._sslv2_hello = False
        self._lost_sync = False

    # -- the stream contract --

    def feed(self, data: bytes, from_client: bool, ts: float) -> list[object]:
        side = self._client if from_client else self._server
        if side.state == _LOST or not data:
            return []
        if self._first_ts is None:
            self._first_ts = ts
        events: list[object] = []
        pos, n = 0, len(data)
        while pos < n:
            state = side.state
            if state == _SKIP:
                take = min(side.need, n - pos)
                side.need -= take
                pos += take
                if side.rtype == CT_APPLICATION_DATA:
                    side.app_bytes += take
                if side.need == 0:
                    side.state = _HEADER
            elif state == _HEADER:
                if not side.buf and n - pos >= RECORD_HEADER_LEN:
                    hdr = data[pos : pos + RECORD_HEADER_LEN]  # common case: a whole header at hand
                    pos += RECORD_HEADER_LEN
                else:
                    take = min(RECORD_HEADER_LEN - len(side.buf), n - pos)
                    side.buf += data[pos : pos + take]
                    pos += take
                    if len(side.buf) < RECORD_HEADER_LEN:
                        break
                    hdr = bytes(side.buf)
                    side.buf = bytearray()
                self._header(side, hdr, ts, events)
                if side.state == _BODY and len(side.buf) == side.need:
                    self._body_done(side, bytes(side.buf), ts, events)  # SSLv2: read whole with its header
            elif state == _BODY:
                if not side.buf and n - pos >= side.need:
                    body = data[pos : pos + side.need]  # common case: the whole body in this chunk
                    pos += side.need
                    self._body_done(side, body, ts, events)
                    continue
                take = min(side.need - len(side.buf), n - pos)
                side.buf += data[pos : pos + take]
                pos += take
                if len(side.buf) == side.need:
                    self._body_done(side, bytes(side.buf), ts, events)
            else:
                break
        return events

    def gap(self, size: int, from_client: bool, ts: float) -> list[object]:
        side = self._client if from_client else self._server
        if side.state == _LOST:
            return []
        if side.state == _SKIP and size <= side.need:
            side.need -= size  # the hole is inside a ciphertext record: record sync survives
            if side.need == 0:
                side.state = _HEADER
            return []
        side.state = _LOST
        side.buf.clear()
        side.hs.clear()
        self._lost_sync = True
        return []

    def close(self, ts: float) -> list[object]:
        if not self._history and not self._sslv2_hello:
            return []  # no handshake, CCS or alert seen: nothing to say about a handshake
        flow = self.flow
        return [
            TlsHandshake(
                ts=self._first_ts if self._first_ts is not None else ts,
                uid=flow.uid,
                orig_h=flow.orig_h,
                orig_p=flow.orig_port,
                resp_h=flow.resp_h,
                resp_p=flow.resp_port,
                version=version_name(self._version) if self._version is not None else None,
                cipher=cipher_name(self._cipher) if self._cipher is not None else None,
                curve=group_name(self._curve) if self._curve is not None else None,
                server_name=self._server_name,
                resumed=self._resumed,
                last_alert=self._last_alert,
                next_protocol=self._next_protocol,
                established=self._established,
                history="".join(self._history),
                ja3=self._ja3,
                ja3s=self._ja3s,
                ja4=self._ja4,
                ja4s=self._ja4s,
                stages=tuple(self._stages),
                hello_retry_request=self._hrr,
                client_hellos=self._client_hellos,
                server_hellos=self._server_hellos,
                cert_chain_fps=tuple(self._cert_fps),
                client_cert_chain_fps=tuple(self._client_cert_fps),
                sni_matches_cert=self._sni_matches,
                client_app_bytes=self._client.app_bytes,
                server_app_bytes=self._server.app_bytes,
                sslv2_hello=self._sslv2_hello,
                lost_sync=self._lost_sync,
            )
        ]

    # -- record layer --

    def _header(self, side: _Side, hdr: bytes, ts: float, events: list[object]) -> None:
        if side.first and hdr[0] & 0x80:
            self._sslv2_header(side, hdr)
            return
        side.first = False
        ctype, major, length = hdr[0], hdr[1], (hdr[3] << 8) | hdr[4]
        if ctype not in CONTENT_TYPES:
            raise Malformed("tls.bad_record_type", f"content type {ctype}")
        if major != 3:
            raise Malformed("tls.bad_record_version", f"version {major}.{hdr[2]}")
        if length > MAX_RECORD_LENGTH:
            raise Malformed("tls.record_too_long", f"{length} bytes > {MAX_RECORD_LENGTH}")
        side.rtype = ctype
        side.need = length
        ciphertext = (
            ctype in (CT_APPLICATION_DATA, CT_HEARTBEAT)
            or (ctype == CT_HANDSHAKE and side.encrypted)
            or (ctype == CT_ALERT and side.encrypted and length != 2)
        )
        if ciphertext:
            self._ciphertext_record(side, ctype, ts, events)
            side.state = _SKIP if length else _HEADER
        elif length:
            side.state = _BODY
        else:
            side.state = _HEADER  # an empty plaintext record carries nothing

    def _sslv2_header(self, side: _Side, hdr: bytes) -> None:
        length = ((hdr[0] & 0x7F) << 8) | hdr[1]
        expected = SSL2_CLIENT_HELLO if side.client else SSL2_SERVER_HELLO
        if hdr[2] != expected:
            raise Malformed("tls.bad_record_type", f"SSLv2-style header with message type {hdr[2]}")
        if length < RECORD_HEADER_LEN - SSL2_HEADER:
            raise Malformed("tls.sslv2_bad_length", f"{length} bytes")
        side.first = False
        side.sslv2 = True
        side.rtype = CT_HANDSHAKE
        side.need = length
        side.buf = bytearray(hdr[SSL2_HEADER:])  # the first message bytes, read with the header
        side.state = _BODY

    def _body_done(self, side: _Side, body: bytes, ts: float, events: list[object]) -> None:
        side.buf = bytearray()
        side.state = _HEADER
        if side.sslv2:
            side.sslv2 = False
            self._sslv2_record(side, body, ts, events)
        elif side.rtype == CT_HANDSHAKE:
            self._handshake_record(side, body, ts, events)
        elif side.rtype == CT_CHANGE_CIPHER_SPEC:
            self._change_cipher_spec(side, ts, events)
        elif side.rtype == CT_ALERT:
            self._alert_record(side, body, ts, events)

    def _ciphertext_record(self, side: _Side, ctype: int, ts: float, events: list[object]) -> None:
        if ctype == CT_APPLICATION_DATA and self._established:
            if self._stages[-1] != STAGE_APPLICATION_DATA:
                self._add_stage(STAGE_APPLICATION_DATA)
            return  # bulk data: nothing else to learn
        other = self._server if side.client else self._client
        if ctype == CT_APPLICATION_DATA and self._tls13_started:
            side.cipher_state = True
        if ctype == CT_HEARTBEAT:
            self._add_history(side, HISTORY_HEARTBEAT)
        elif ctype == CT_ALERT:
            self._add_history(side, HISTORY_ALERT)
            events.append(
                TlsAlert(ts, self.flow.uid, side.client, None, None, ENCRYPTED_ALERT, ENCRYPTED_ALERT)
            )
        elif ctype == CT_HANDSHAKE:
            self._add_stage(STAGE_FINISHED)
        if not self._established and side.cipher_state and other.cipher_state:
            self._established = True
            self._add_stage(STAGE_FINISHED)
        elif self._established and ctype == CT_APPLICATION_DATA:
            self._add_stage(STAGE_APPLICATION_DATA)

    @property
    def _tls13_started(self) -> bool:
        """A real (non-HRR) TLS 1.3 ServerHello went by: the rest of the handshake is encrypted."""
        return self._server.encrypted and _is_tls13(self._version)

    def _change_cipher_spec(self, side: _Side, ts: float, events: list[object]) -> None:
        self._add_history(side, HISTORY_CCS)
        self._add_stage(STAGE_CCS)
        side.cipher_state = True
        tls13 = _is_tls13(self._version) if self._version is not None else self._client_offers_tls13
        if not tls13:
            side.encrypted = True  # TLS <= 1.2: the Finished that follows is encrypted
        if side.hs:
            self._malformed(events, ts, "tls.handshake_cut_by_ccs", f"{len(side.hs)} bytes pending")
            side.hs.clear()
        if side.client and self._client_ticket_empty_session and not self._cke_seen:
            self._resumed = True

    def _alert_record(self, side: _Side, body: bytes, ts: float, events: list[object]) -> None:
        if len(body) % 2 or len(body) > 2 * MAX_ALERTS_PER_RECORD:
            self._malformed(events, ts, "tls.alert_bad_length", f"{len(body)} bytes")
        for level, desc in parse_alerts(body)[:MAX_ALERTS_PER_RECORD]:
            level_name, desc_name = alert_name(level, desc)
            self._add_history(side, HISTORY_ALERT)
            self._last_alert = desc_name
            events.append(TlsAlert(ts, self.flow.uid, side.client, level, desc, level_name, desc_name))

    def _handshake_record(self, side: _Side, body: bytes, ts: float, events: list[object]) -> None:
        hs = side.hs
        hs += body
        while len(hs) >= 4:
            mtype = hs[0]
            mlen = (hs[1] << 16) | (hs[2] << 8) | hs[3]
            limit = HANDSHAKE_LIMITS.get(mtype, MAX_HANDSHAKE_LENGTH)
            if mlen > limit:
                raise Malformed(
                    "tls.handshake_too_long", f"{HANDSHAKE_TYPES.get(mtype, mtype)} of {mlen} bytes"
                )
            if len(hs) < 4 + mlen:
                return
            msg = bytes(hs[4 : 4 + mlen])
            del hs[: 4 + mlen]
            self._handshake_message(side, mtype, msg, ts, events)
            if side.encrypted and hs:
                # a TLS 1.3 ServerHello switched this side to encryption mid-record: what follows is
                # not plaintext handshake (it should not be there at all)
                self._malformed(events, ts, "tls.plaintext_after_server_hello", f"{len(hs)} bytes")
                hs.clear()
                return

    def _handshake_message(
        self, side: _Side, mtype: int, msg: bytes, ts: float, events: list[object]
    ) -> None:
        handler = self._HANDLERS.get(mtype)
        letter = HISTORY_LETTERS.get(mtype, HISTORY_UNKNOWN_HANDSHAKE)
        if handler is not None:
            try:
                letter = getattr(self, handler)(side, msg, ts, events) or letter
            except Malformed as exc:
                self._malformed(events, ts, exc.reason, exc.detail)
        self._add_history(side, letter)
        stage = STAGES.get(mtype)
        if stage is not None and mtype != HS_SERVER_HELLO:  # a HelloRetryRequest is not one
            self._add_stage(stage)

    def _sslv2_record(self, side: _Side, body: bytes, ts: float, events: list[object]) -> None:
        if side.client:
            try:
                fields = parse_sslv2_client_hello(body)
            except Malformed as exc:
                self._malformed(events, ts, exc.reason, exc.detail)
                return
            self._sslv2_hello = True
            self._add_history(side, HISTORY_LETTERS[HS_CLIENT_HELLO])
            self._add_stage(STAGES[HS_CLIENT_HELLO])
            self._client_hello_event(side, fields, ts, events)
            return
        try:
            sh = parse_sslv2_server_hello(body)
        except Malformed as exc:
            self._malformed(events, ts, exc.reason, exc.detail)
            return
        self._add_history(side, HISTORY_LETTERS[HS_SERVER_HELLO])
        self._add_stage(STAGES[HS_SERVER_HELLO])
        self._server_hello_event(side, sh, ts, events)
        # an SSLv2 session goes on in SSLv2 records, which this dissector does not follow
        self._client.state = self._server.state = _LOST

    # -- handshake messages --

    def _on_client_hello(self, side: _Side, msg: bytes, ts: float, events: list[object]) -> str | None:
        fields = parse_client_hello(msg)
        for problem in fields.problems:
            self._malformed(events, ts, problem.split(":")[0], problem)
        self._client_hello_event(side, fields, ts, events)
        return None

    def _client_hello_event(
        self, side: _Side, fields: ClientHelloFields, ts: float, events: list[object]
    ) -> None:
        flow = self.flow
        ja3_full = fields.ja3_full()
        ja3 = fp.ja3_hash(ja3_full) if ja3_full is not None else None
        ja4 = fields.ja4()
        event = TlsClientHello(
            ts=ts,
            uid=flow.uid,
            orig_h=flow.orig_h,
            orig_p=flow.orig_port,
            resp_h=flow.resp_h,
            resp_p=flow.resp_port,
            version=fields.version,
            supported_versions=fields.supported_versions,
            server_name=fields.server_name,
            alpn=tuple(_text(a) for a in fields.alpn),
            ciphers=fields.ciphers,
            extensions=fields.extensions,
            groups=fields.groups,
            point_formats=fields.point_formats,
            signature_algorithms=fields.signature_algorithms,
            session_id=fields.session_id.hex(),
            sslv2=fields.sslv2,
            ja3=ja3,
            ja3_full=ja3_full,
            ja4=ja4,
            from_orig=side.client,
        )
        events.append(event)
        self._client_hellos += 1
        self._server_name = fields.server_name
        self._client_offers_tls13 = event.offers_tls13
        self._ja3, self._ja4 = ja3, ja4
        self._client_psk = fields.psk
        if fields.session_id and fields.session_id != bytes(32):
            self._client_session_id = fields.session_id
            self._client_ticket_empty_session = False
        else:
            self._client_ticket_empty_session = fields.ticket

    def _on_server_hello(self, side: _Side, msg: bytes, ts: float, events: list[object]) -> str | None:
        sh = parse_server_hello(msg)
        for problem in sh.problems:
            self._malformed(events, ts, problem.split(":")[0], problem)
        self._server_hello_event(side, sh, ts, events)
        if sh.key_share_group is not None:
            self._curve = sh.key_share_group
        if sh.hello_retry_request:
            self._add_stage(STAGE_HRR)  # its key_share only names the group the client must use
            return HISTORY_HRR
        self._add_stage(STAGES[HS_SERVER_HELLO])
        if sh.key_share_group is not None:
            self._add_stage(STAGE_KEY_EXCHANGE)  # TLS 1.3: the key exchange rides in the hellos
        if _is_tls13(sh.version):
            # everything after a real TLS 1.3 ServerHello travels encrypted, in both directions
            self._client.encrypted = self._server.encrypted = True
        elif self._client_session_id and sh.session_id == self._client_session_id:
            self._resumed = True
        if sh.psk and self._client_psk:
            self._resumed = True
        return None

    def _server_hello_event(
        self, side: _Side, sh: ServerHelloFields, ts: float, events: list[object]
    ) -> None:
        flow = self.flow
        ja3s_full = sh.ja3s_full()
        event = TlsServerHello(
            ts=ts,
            uid=flow.uid,
            orig_h=flow.orig_h,
            orig_p=flow.orig_port,
            resp_h=flow.resp_h,
            resp_p=flow.resp_port,
            version=sh.version,
            legacy_version=sh.legacy_version,
            cipher=sh.cipher,
            alpn=_text(sh.alpn) if sh.alpn is not None else None,
            extensions=sh.extensions,
            key_share_group=sh.key_share_group,
            session_id=sh.session_id.hex(),
            hello_retry_request=sh.hello_retry_request,
            psk_accepted=sh.psk,
            sslv2=sh.sslv2,
            ja3s=fp.ja3_hash(ja3s_full),
            ja3s_full=ja3s_full,
            ja4s=sh.ja4s(),
        )
        events.append(event)
        self._server_hellos += 1
        self._hrr = self._hrr or sh.hello_retry_request
        self._version = sh.version
        self._cipher = sh.cipher
        self._next_protocol = event.alpn
        self._ja3s, self._ja4s = event.ja3s, event.ja4s

    def _on_certificate(self, side: _Side, msg: bytes, ts: float, events: list[object]) -> str | None:
        certs, _total = parse_certificate_list(msg)
        fps = self._client_cert_fps if side.client else self._cert_fps
        fps.clear()
        for index, der in enumerate(certs):
            try:
                rec: X509Record = parse_certificate(
                    der,
                    ts=ts,
                    uid=self.flow.uid,
                    chain_index=index,
                    client_cert=side.client,
                    sni=self._server_name,
                )
            except Malformed as exc:
                self._malformed(events, ts, exc.reason, exc.detail)
                continue
            fps.append(rec.fingerprint)
            if rec.host_cert:
                self._sni_matches = rec.sni_matches
            events.append(rec)
        return None

    def _on_server_key_exchange(self, side: _Side, msg: bytes, ts: float, events: list[object]) -> str | None:
        if self._cipher is not None and "_ECDH" in cipher_name(self._cipher):
            curve = parse_ecdh_curve(msg)
            if curve is not None:
                self._curve = curve
        return None

    def _on_client_key_exchange(self, side: _Side, msg: bytes, ts: float, events: list[object]) -> str | None:
        self._cke_seen = True
        return None

    # -- bookkeeping --

    def _add_history(self, side: _Side, letter: str) -> None:
        if len(self._history) < MAX_HISTORY:
            self._history.append(letter.upper() if side.client else letter)

    def _add_stage(self, stage: str) -> None:
        if stage not in self._stages:
            self._stages.append(stage)

    def _malformed(self, events: list[object], ts: float, reason: str, detail: str) -> None:
        events.append(TlsMalformedMessage(ts, self.flow.uid, reason, detail))


__all__ = [
    "ALERT_DESCRIPTIONS",
    "CIPHER_SUITES",
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
    "group_name",
    "parse_client_hello",
    "parse_server_hello",
    "version_name",
]
