"""TLS events: what the stream dissector reports (hellos, alerts, malformed messages, the per-connection
handshake record). Frozen, slotted dataclasses with Zeek's ssl.log names where Zeek has one."""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.dissectors.tls.constants import cipher_name, is_tls13, version_name
from analyzer.frozen import interpreted_inits

# -- events -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, init=False)
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
    truncated: bool = False
    """Cut short (snap length, or the stream ended or lost bytes inside it): the fields are those its
    first bytes hold whole, JA3 is None and JA4 empty (a fingerprint of part of a hello would lie)."""

    def __init__(
        self,
        ts: float,
        uid: str,
        orig_h: str,
        orig_p: int,
        resp_h: str,
        resp_p: int,
        version: int,
        supported_versions: tuple[int, ...],
        server_name: str | None,
        alpn: tuple[str, ...],
        ciphers: tuple[int, ...],
        extensions: tuple[int, ...],
        groups: tuple[int, ...],
        point_formats: tuple[int, ...],
        signature_algorithms: tuple[int, ...],
        session_id: str,
        sslv2: bool,
        ja3: str | None,
        ja3_full: str | None,
        ja4: str,
        from_orig: bool = True,
        truncated: bool = False,
    ) -> None:
        self.ts = ts  # type: ignore[misc]
        self.uid = uid  # type: ignore[misc]
        self.orig_h = orig_h  # type: ignore[misc]
        self.orig_p = orig_p  # type: ignore[misc]
        self.resp_h = resp_h  # type: ignore[misc]
        self.resp_p = resp_p  # type: ignore[misc]
        self.version = version  # type: ignore[misc]
        self.supported_versions = supported_versions  # type: ignore[misc]
        self.server_name = server_name  # type: ignore[misc]
        self.alpn = alpn  # type: ignore[misc]
        self.ciphers = ciphers  # type: ignore[misc]
        self.extensions = extensions  # type: ignore[misc]
        self.groups = groups  # type: ignore[misc]
        self.point_formats = point_formats  # type: ignore[misc]
        self.signature_algorithms = signature_algorithms  # type: ignore[misc]
        self.session_id = session_id  # type: ignore[misc]
        self.sslv2 = sslv2  # type: ignore[misc]
        self.ja3 = ja3  # type: ignore[misc]
        self.ja3_full = ja3_full  # type: ignore[misc]
        self.ja4 = ja4  # type: ignore[misc]
        self.from_orig = from_orig  # type: ignore[misc]
        self.truncated = truncated  # type: ignore[misc]

    @property
    def offers_tls13(self) -> bool:
        """supported_versions lists TLS 1.3 (or a draft of it)."""
        return any(is_tls13(v) for v in self.supported_versions)


@dataclass(frozen=True, slots=True, init=False)
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

    def __init__(
        self,
        ts: float,
        uid: str,
        orig_h: str,
        orig_p: int,
        resp_h: str,
        resp_p: int,
        version: int,
        legacy_version: int,
        cipher: int,
        alpn: str | None,
        extensions: tuple[int, ...],
        key_share_group: int | None,
        session_id: str,
        hello_retry_request: bool,
        psk_accepted: bool,
        sslv2: bool,
        ja3s: str,
        ja3s_full: str,
        ja4s: str,
    ) -> None:
        self.ts = ts  # type: ignore[misc]
        self.uid = uid  # type: ignore[misc]
        self.orig_h = orig_h  # type: ignore[misc]
        self.orig_p = orig_p  # type: ignore[misc]
        self.resp_h = resp_h  # type: ignore[misc]
        self.resp_p = resp_p  # type: ignore[misc]
        self.version = version  # type: ignore[misc]
        self.legacy_version = legacy_version  # type: ignore[misc]
        self.cipher = cipher  # type: ignore[misc]
        self.alpn = alpn  # type: ignore[misc]
        self.extensions = extensions  # type: ignore[misc]
        self.key_share_group = key_share_group  # type: ignore[misc]
        self.session_id = session_id  # type: ignore[misc]
        self.hello_retry_request = hello_retry_request  # type: ignore[misc]
        self.psk_accepted = psk_accepted  # type: ignore[misc]
        self.sslv2 = sslv2  # type: ignore[misc]
        self.ja3s = ja3s  # type: ignore[misc]
        self.ja3s_full = ja3s_full  # type: ignore[misc]
        self.ja4s = ja4s  # type: ignore[misc]

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


@dataclass(frozen=True, slots=True, init=False)
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

    def __init__(
        self,
        ts: float,
        uid: str,
        orig_h: str,
        orig_p: int,
        resp_h: str,
        resp_p: int,
        version: str | None,
        cipher: str | None,
        curve: str | None,
        server_name: str | None,
        resumed: bool,
        last_alert: str | None,
        next_protocol: str | None,
        established: bool,
        history: str,
        ja3: str | None,
        ja3s: str | None,
        ja4: str | None,
        ja4s: str | None,
        stages: tuple[str, ...],
        hello_retry_request: bool,
        client_hellos: int,
        server_hellos: int,
        cert_chain_fps: tuple[str, ...],
        client_cert_chain_fps: tuple[str, ...],
        sni_matches_cert: bool | None,
        client_app_bytes: int,
        server_app_bytes: int,
        sslv2_hello: bool,
        lost_sync: bool,
    ) -> None:
        self.ts = ts  # type: ignore[misc]
        self.uid = uid  # type: ignore[misc]
        self.orig_h = orig_h  # type: ignore[misc]
        self.orig_p = orig_p  # type: ignore[misc]
        self.resp_h = resp_h  # type: ignore[misc]
        self.resp_p = resp_p  # type: ignore[misc]
        self.version = version  # type: ignore[misc]
        self.cipher = cipher  # type: ignore[misc]
        self.curve = curve  # type: ignore[misc]
        self.server_name = server_name  # type: ignore[misc]
        self.resumed = resumed  # type: ignore[misc]
        self.last_alert = last_alert  # type: ignore[misc]
        self.next_protocol = next_protocol  # type: ignore[misc]
        self.established = established  # type: ignore[misc]
        self.history = history  # type: ignore[misc]
        self.ja3 = ja3  # type: ignore[misc]
        self.ja3s = ja3s  # type: ignore[misc]
        self.ja4 = ja4  # type: ignore[misc]
        self.ja4s = ja4s  # type: ignore[misc]
        self.stages = stages  # type: ignore[misc]
        self.hello_retry_request = hello_retry_request  # type: ignore[misc]
        self.client_hellos = client_hellos  # type: ignore[misc]
        self.server_hellos = server_hellos  # type: ignore[misc]
        self.cert_chain_fps = cert_chain_fps  # type: ignore[misc]
        self.client_cert_chain_fps = client_cert_chain_fps  # type: ignore[misc]
        self.sni_matches_cert = sni_matches_cert  # type: ignore[misc]
        self.client_app_bytes = client_app_bytes  # type: ignore[misc]
        self.server_app_bytes = server_app_bytes  # type: ignore[misc]
        self.sslv2_hello = sslv2_hello  # type: ignore[misc]
        self.lost_sync = lost_sync  # type: ignore[misc]


interpreted_inits(TlsClientHello, TlsServerHello, TlsHandshake)
