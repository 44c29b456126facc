"""X.509 certificates seen in TLS Certificate messages, decoded with `cryptography`, as Zeek's x509.log.

`cryptography` is imported lazily, inside `parse_certificate`, so start-up stays fast for captures
without TLS. The "certificate verification" stage of the handshake is judged only from what the wire
shows (no trust store): whether the certificate was already expired, or not yet valid, at capture
time (the packet's timestamp), whether it is self-signed (issuer == subject and its own key verifies
its signature), and whether the SNI the client asked for matches a subjectAltName DNS name (or, with
no DNS SAN, a subject CN), wildcards following RFC 6125 section 6.4.3.
"""

from __future__ import annotations

import hashlib
import ipaddress
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from analyzer.errors import Malformed

MAX_SAN_ENTRIES = 256
"""subjectAltName entries kept per kind: CDN certificates carry a few hundred, more is abuse."""
MAX_NAME_CHARS = 1024
"""Characters kept of a subject/issuer string (a DN is normally well under 200)."""

# cryptography warns (CryptographyDeprecationWarning, on stderr) about certificates that bend RFC 5280,
# e.g. a negative serial number: wire input, one line per odd certificate in the middle of the CLI's
# output. The certificate still decodes; the warnings raised from this module's calls are silenced.
warnings.filterwarnings("ignore", module=r"analyzer\.dissectors\.x509")

X509_FIELD_NAMES: dict[str, str] = {
    "version": "certificate.version",
    "serial": "certificate.serial",
    "subject": "certificate.subject",
    "issuer": "certificate.issuer",
    "not_valid_before": "certificate.not_valid_before",
    "not_valid_after": "certificate.not_valid_after",
    "key_alg": "certificate.key_alg",
    "sig_alg": "certificate.sig_alg",
    "key_type": "certificate.key_type",
    "key_length": "certificate.key_length",
    "curve": "certificate.curve",
    "san_dns": "san.dns",
    "san_uri": "san.uri",
    "san_email": "san.email",
    "san_ip": "san.ip",
    "basic_constraints_ca": "basic_constraints.ca",
    "basic_constraints_path_len": "basic_constraints.path_len",
}
"""Python field name -> Zeek x509.log column name (Zeek's names contain dots)."""


@dataclass(frozen=True, slots=True)
class X509Record:
    """One certificate of a chain, as Zeek's x509.log has it, plus what the wire shows about it."""

    @staticmethod
    def log_path() -> str:
        """Log (`_path`) of this record in `events`."""
        return "x509"

    ts: float
    """Time of the packet that completed the Certificate message."""
    uid: str
    """Connection uid."""
    fingerprint: str
    """SHA-256 of the DER encoding, lowercase hex (Zeek's default fingerprint)."""
    version: int
    """X.509 version number (3 for v3)."""
    serial: str
    """Serial number, uppercase hex."""
    subject: str
    """Subject distinguished name (RFC 4514 string)."""
    issuer: str
    """Issuer distinguished name (RFC 4514 string)."""
    not_valid_before: float
    """Start of validity, seconds since the epoch (UTC)."""
    not_valid_after: float
    """End of validity, seconds since the epoch (UTC)."""
    key_alg: str
    """Public key algorithm name (e.g. rsaEncryption, id-ecPublicKey)."""
    sig_alg: str
    """Signature algorithm name (e.g. sha256WithRSAEncryption)."""
    key_type: str | None
    """rsa, dsa, ecdsa, ed25519, ed448 or None when unknown."""
    key_length: int | None
    """Key size in bits, when the key type has one."""
    curve: str | None
    """Named curve of an EC key."""
    san_dns: tuple[str, ...]
    """subjectAltName DNS names."""
    san_uri: tuple[str, ...]
    """subjectAltName URIs."""
    san_email: tuple[str, ...]
    """subjectAltName e-mail addresses."""
    san_ip: tuple[str, ...]
    """subjectAltName IP addresses."""
    basic_constraints_ca: bool | None
    """basicConstraints CA flag (None when the extension is absent)."""
    basic_constraints_path_len: int | None
    """basicConstraints path length limit."""
    host_cert: bool
    """First certificate of a chain the server sent (the one naming the host)."""
    client_cert: bool
    """Sent by the client (client authentication)."""
    chain_index: int
    """Position in its Certificate message (0 = end-entity)."""
    self_signed: bool
    """Issuer equals subject and the certificate's own key verifies its signature."""
    expired: bool
    """notAfter lies before the capture time of the message."""
    not_yet_valid: bool
    """notBefore lies after the capture time of the message."""
    sni: str | None
    """Server name the client asked for in its ClientHello (host certificates only)."""
    sni_matches: bool | None
    """Whether that name matches a SAN DNS name (or CN without SANs); None when there is no SNI."""


def x509_jsonable(rec: X509Record) -> dict[str, Any]:
    """The record with Zeek's x509.log column names."""
    from analyzer.records import to_jsonable

    out: dict[str, Any] = to_jsonable(rec)
    return {X509_FIELD_NAMES.get(k, k): v for k, v in out.items()}


def hostname_matches(host: str, patterns: Sequence[str]) -> bool:
    """Whether `host` matches one of the certificate names (RFC 6125: wildcard in the left-most label)."""
    host = host.rstrip(".").lower()
    if not host:
        return False
    host_labels = host.split(".")
    for pattern in patterns:
        pat_labels = pattern.rstrip(".").lower().split(".")
        if len(pat_labels) != len(host_labels) or not pat_labels[0]:
            continue
        if pat_labels[1:] != host_labels[1:]:
            continue
        first = pat_labels[0]
        if "*" not in first:
            if first == host_labels[0]:
                return True
            continue
        # a wildcard covers one whole label (or a part of one, as in f*.example.com), never a dot,
        # and never a bare public suffix such as *.com
        if len(pat_labels) < 3 or first.count("*") != 1:
            continue
        prefix, suffix = first.split("*")
        label = host_labels[0]
        if len(label) >= len(prefix) + len(suffix) and label.startswith(prefix) and label.endswith(suffix):
            return True
    return False


def _oid_name(oid: Any) -> str:
    name = getattr(oid, "_name", None)
    return str(name) if name and name != "Unknown OID" else str(oid.dotted_string)


def _key_facts(cert: Any) -> tuple[str | None, int | None, str | None]:
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa", key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ecdsa", key.key_size, key.curve.name
    if isinstance(key, dsa.DSAPublicKey):
        return "dsa", key.key_size, None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519", 256, None
    if isinstance(key, ed448.Ed448PublicKey):
        return "ed448", 456, None
    return None, None, None


def _self_signed(cert: Any) -> bool:
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except InvalidSignature:
        return False
    except (TypeError, ValueError, UnsupportedAlgorithm):
        return True  # the key or padding is one cryptography cannot check: names alone decide
    return True


CERT_CACHE_SIZE = 256
"""Decoded certificates remembered by their DER bytes (each entry is a few KB of record)."""
MAX_ERROR_DETAIL = 200
"""Characters of cryptography's error message kept in a bad certificate's weird detail."""
_CERT_CACHE: OrderedDict[bytes, tuple[X509Record, tuple[str, ...]] | Malformed] = OrderedDict()


def _decode_certificate(der: bytes) -> tuple[X509Record, tuple[str, ...]] | Malformed:
    """The handshake-independent facts of one certificate and its subject common names, or the
    Malformed it gives (remembered too)."""
    from cryptography import x509
    from cryptography.x509.oid import ExtensionOID, NameOID

    try:
        cert = x509.load_der_x509_certificate(der)
        subject = cert.subject.rfc4514_string()[:MAX_NAME_CHARS]
        issuer = cert.issuer.rfc4514_string()[:MAX_NAME_CHARS]
        before = cert.not_valid_before_utc.timestamp()
        after = cert.not_valid_after_utc.timestamp()
        dns: list[str] = []
        uris: list[str] = []
        emails: list[str] = []
        ips: list[str] = []
        ca: bool | None = None
        path_len: int | None = None
        for ext in cert.extensions:
            if ext.oid == ExtensionOID.SUBJECT_ALTERNATIVE_NAME:
                san = ext.value
                dns = san.get_values_for_type(x509.DNSName)[:MAX_SAN_ENTRIES]
                uris = san.get_values_for_type(x509.UniformResourceIdentifier)[:MAX_SAN_ENTRIES]
                emails = san.get_values_for_type(x509.RFC822Name)[:MAX_SAN_ENTRIES]
                ips = [str(a) for a in san.get_values_for_type(x509.IPAddress)[:MAX_SAN_ENTRIES]]
            elif ext.oid == ExtensionOID.BASIC_CONSTRAINTS:
                ca, path_len = ext.value.ca, ext.value.path_length
        common_names = tuple(str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME))
        key_type, key_length, curve = _key_facts(cert)
        record = X509Record(
            ts=0.0,
            uid="",
            fingerprint=hashlib.sha256(der).hexdigest(),
            version=cert.version.value + 1,
            serial=f"{cert.serial_number:X}",
            subject=subject,
            issuer=issuer,
            not_valid_before=before,
            not_valid_after=after,
            key_alg=_oid_name(cert.public_key_algorithm_oid),
            sig_alg=_oid_name(cert.signature_algorithm_oid),
            key_type=key_type,
            key_length=key_length,
            curve=curve,
            san_dns=tuple(dns),
            san_uri=tuple(uris),
            san_email=tuple(emails),
            san_ip=tuple(ips),
            basic_constraints_ca=ca,
            basic_constraints_path_len=path_len,
            host_cert=False,
            client_cert=False,
            chain_index=0,
            self_signed=_self_signed(cert),
            expired=False,
            not_yet_valid=False,
            sni=None,
            sni_matches=None,
        )
    except Exception as exc:
        # cryptography reports bad DER, unsupported extensions or odd names through many exception
        # types (ValueError, x509.DuplicateExtension, UnsupportedGeneralNameType, ...): wire input, so
        # every one of them means "this certificate does not decode", never a bug of ours.
        return Malformed("x509.bad_certificate", f"{type(exc).__name__}: {exc}"[:MAX_ERROR_DETAIL])
    return record, common_names


def parse_certificate(
    der: bytes,
    *,
    ts: float,
    uid: str,
    chain_index: int,
    client_cert: bool,
    sni: str | None,
) -> X509Record:
    """Decode one DER certificate; raises Malformed("x509.bad_certificate") if it does not decode.

    Decoding is the expensive part (about a millisecond with `cryptography`) and a capture's servers
    present the same few certificates in every handshake, so decoded certificates are remembered by
    their bytes (a bounded LRU, CERT_CACHE_SIZE) and only the per-handshake fields are filled in."""
    decoded = _CERT_CACHE.get(der)
    if decoded is None:
        decoded = _decode_certificate(der)
        if len(_CERT_CACHE) >= CERT_CACHE_SIZE:
            _CERT_CACHE.popitem(last=False)
        _CERT_CACHE[der] = decoded
    else:
        _CERT_CACHE.move_to_end(der)
    if isinstance(decoded, Malformed):
        raise Malformed(decoded.reason, decoded.detail)
    template, common_names = decoded
    host_cert = chain_index == 0 and not client_cert
    record = replace(
        template,
        ts=ts,
        uid=uid,
        host_cert=host_cert,
        client_cert=client_cert,
        chain_index=chain_index,
        expired=ts > template.not_valid_after,
        not_yet_valid=ts < template.not_valid_before,
        sni=sni if host_cert else None,
    )
    if record.sni is None:
        return record
    return replace(record, sni_matches=sni_matches(record.sni, record.san_dns, record.san_ip, common_names))


def sni_matches(sni: str, san_dns: Sequence[str], san_ip: Sequence[str], common_names: Sequence[str]) -> bool:
    """Whether a server name (or an IP literal, which SNI should not carry but does) names the certificate:
    SAN DNS names, else the subject CNs (RFC 6125 6.4.4); an address only against SAN IP addresses."""
    try:
        addr = ipaddress.ip_address(sni)
    except ValueError:
        return hostname_matches(sni, san_dns or common_names)
    return any(_same_address(addr, ip) for ip in san_ip)


def _same_address(addr: ipaddress.IPv4Address | ipaddress.IPv6Address, text: str) -> bool:
    try:
        return ipaddress.ip_address(text) == addr
    except ValueError:
        return False


__all__ = [
    "X509_FIELD_NAMES",
    "X509Record",
    "hostname_matches",
    "parse_certificate",
    "sni_matches",
    "x509_jsonable",
]
