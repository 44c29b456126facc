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

from typing import TYPE_CHECKING, ClassVar, Final

from analyzer.dissectors.tls import fingerprints as fp
from analyzer.dissectors.tls.constants import (
    CONTENT_TYPES,
    CT_ALERT,
    CT_APPLICATION_DATA,
    CT_CHANGE_CIPHER_SPEC,
    CT_HANDSHAKE,
    CT_HEARTBEAT,
    ENCRYPTED_ALERT,
    HANDSHAKE_LIMITS,
    HANDSHAKE_TYPES,
    HISTORY_ALERT,
    HISTORY_CCS,
    HISTORY_HEARTBEAT,
    HISTORY_HRR,
    HISTORY_LETTERS,
    HISTORY_UNKNOWN_HANDSHAKE,
    HS_CERTIFICATE,
    HS_CLIENT_HELLO,
    HS_CLIENT_KEY_EXCHANGE,
    HS_SERVER_HELLO,
    HS_SERVER_KEY_EXCHANGE,
    MAX_ALERTS_PER_RECORD,
    MAX_HANDSHAKE_LENGTH,
    MAX_HISTORY,
    MAX_RECORD_LENGTH,
    SSL2_CLIENT_HELLO,
    SSL2_HEADER,
    SSL2_SERVER_HELLO,
    STAGE_APPLICATION_DATA,
    STAGE_CCS,
    STAGE_FINISHED,
    STAGE_HRR,
    STAGE_KEY_EXCHANGE,
    STAGES,
    alert_name,
    cipher_name,
    group_name,
    is_tls13,
    version_name,
)
from analyzer.dissectors.tls.events import (
    TlsAlert,
    TlsClientHello,
    TlsHandshake,
    TlsMalformedMessage,
    TlsServerHello,
)
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
    wire_text,
)
from analyzer.dissectors.x509 import X509Record, parse_certificate
from analyzer.errors import Malformed

if TYPE_CHECKING:
    from analyzer.flows import Flow

# -- the stream dissector -----------------------------------------------------------------------------

RECORD_HEADER_LEN: Final = 5
"""type(1) version(2) length(2)."""

TRUNCATED_HELLO_MIN: Final = 6
"""Bytes a cut ClientHello needs to be reported: its 4-byte handshake header and the 2-byte version."""

_HEADER: Final = 0
"""Reading a record header."""
_BODY: Final = 1
"""Collecting a plaintext record body."""
_SKIP: Final = 2
"""Counting past a ciphertext record body."""
_LOST: Final = 3
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
        "last_ts",
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
        self.last_ts = 0.0
        """Time of the last bytes fed (a message cut short is reported at this time)."""


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
        side.last_ts = ts
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

    def opaque(self, from_client: bool) -> int:
        """The rest of a ciphertext record being skipped: the reassembler may swallow it."""
        side = self._client if from_client else self._server
        return side.need if side.state == _SKIP and not side.hs else 0

    def skipped(self, size: int, from_client: bool, ts: float) -> list[object]:
        """`size` bytes of the ciphertext record `opaque` announced went by: as `feed` in SKIP."""
        side = self._client if from_client else self._server
        if side.state != _SKIP:
            return []
        side.last_ts = ts
        side.need -= size
        if side.rtype == CT_APPLICATION_DATA:
            side.app_bytes += size
        if side.need == 0:
            side.state = _HEADER
        return []

    def gap(self, size: int, from_client: bool, ts: float) -> list[object]:
        side = self._client if from_client else self._server
        if side.state == _LOST:
            return []
        if side.state == _SKIP and size <= side.need:
            side.need -= size  # the hole is inside a ciphertext record: record sync survives
            if side.need == 0:
                side.state = _HEADER
            return []
        events: list[object] = []
        self._truncated_hello(side, events)
        side.state = _LOST
        side.buf.clear()
        side.hs.clear()
        self._lost_sync = True
        return events

    def close(self, ts: float) -> list[object]:
        events: list[object] = []
        for side in (self._client, self._server):
            if side.state != _LOST:
                self._truncated_hello(side, events)
        if not self._history and not self._sslv2_hello:
            return events  # no handshake, CCS or alert seen: nothing to say about a handshake
        flow = self.flow
        events.append(
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
        )
        return events

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
        return self._server.encrypted and is_tls13(self._version)

    def _change_cipher_spec(self, side: _Side, ts: float, events: list[object]) -> None:
        self._add_history(side, HISTORY_CCS)
        self._add_stage(STAGE_CCS)
        side.cipher_state = True
        tls13 = is_tls13(self._version) if self._version is not None else self._client_offers_tls13
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

    def _truncated_hello(self, side: _Side, events: list[object]) -> None:
        """A ClientHello this side began and never finished (snap length, a gap, the end of the
        stream): report what its first bytes hold, flagged truncated."""
        pending = bytes(side.hs)
        if side.state == _BODY and side.rtype == CT_HANDSHAKE and not side.sslv2:
            pending += side.buf
        side.hs.clear()
        if side.encrypted or len(pending) < TRUNCATED_HELLO_MIN or pending[0] != HS_CLIENT_HELLO:
            return
        fields = parse_truncated_client_hello(pending[4:])
        self._add_history(side, HISTORY_LETTERS[HS_CLIENT_HELLO])
        self._add_stage(STAGES[HS_CLIENT_HELLO])
        self._client_hello_event(side, fields, side.last_ts, events)

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
        ja4 = "" if fields.truncated else fields.ja4()
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
            alpn=tuple(wire_text(a) for a in fields.alpn),
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
            truncated=fields.truncated,
        )
        events.append(event)
        self._client_hellos += 1
        self._server_name = fields.server_name
        self._client_offers_tls13 = event.offers_tls13
        self._ja3, self._ja4 = ja3, ja4 or None
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
        if is_tls13(sh.version):
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
            alpn=wire_text(sh.alpn) if sh.alpn is not None else None,
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
