"""Terminal tables of the `smtp`, `pop3` and `imap` sections: counts, one row per session, findings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from analyzer.report.text import Table, count_table, endpoint, safe, utc

MAX_SESSION_ROWS = 100
"""Session rows printed per protocol; the JSON keeps up to its own limit."""
MAX_FINDING_ROWS = 50
"""SMTP finding groups printed."""


def _time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return utc(ts).strftime("%Y-%m-%d %H:%M:%S")


def _cell(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return safe(value)


def _counts(title: str, what: str, counts: dict[str, int]) -> Table:
    return count_table(title, what, counts, 32)


def _overview(name: str, section: dict[str, Any], extra: list[tuple[str, Any]]) -> Table:
    rows = [
        ["sessions", section.get("sessions_seen", 0)],
        ["upgraded to TLS (STARTTLS/STLS)", section.get("tls_upgrades", 0)],
        *[[label, value] for label, value in extra],
    ]
    if section.get("gaps"):
        rows.append(["stream gaps", section["gaps"]])
    for reason, n in (section.get("odd_lines") or {}).items():
        rows.append([f"odd lines: {safe(reason)}", n])
    return Table(f"{name} overview", ["", "value"], rows)


def _sessions(
    title: str, columns: list[str], section: dict[str, Any], cells: Callable[[dict[str, Any]], list[Any]]
) -> Table:
    """One row per session: time, client and server, then the protocol's `columns` from `cells`."""
    table = Table(title, ["time", "client", "server", *columns])
    for row in section.get("sessions", [])[:MAX_SESSION_ROWS]:
        table.rows.append(
            [
                _time(row["ts"]),
                _cell(row["id.orig_h"]),
                endpoint(row["id.resp_h"], row["id.resp_p"]),
                *cells(row),
            ]
        )
    return table


def _smtp_cells(row: dict[str, Any]) -> list[Any]:
    auth = row.get("auth_mechanism")
    if auth and row.get("auth_success") is not None:
        auth = f"{auth} ({'ok' if row['auth_success'] else 'refused'})"
    return [
        row["trans_depth"],
        _cell(row.get("helo")),
        _cell(auth),
        _cell(row.get("tls")),
        _cell(row.get("mailfrom")),
        row.get("rcpt_count", 0),
        _cell(row.get("msg_size")),
        _cell(row.get("subject")),
        _cell(row.get("last_reply")),
    ]


def _pop3_cells(row: dict[str, Any]) -> list[Any]:
    return [
        _cell(row.get("user")),
        _cell(row.get("login")),
        _cell(row.get("clear_text_password")),
        _cell(row.get("tls")),
        row.get("commands", 0),
        row.get("retr", 0),
        row.get("retr_bytes", 0),
        row.get("dele", 0),
        _cell(row.get("last_reply")),
    ]


def _imap_cells(row: dict[str, Any]) -> list[Any]:
    return [
        _cell(row.get("user")),
        _cell(row.get("login")),
        _cell(row.get("tls")),
        row.get("commands", 0),
        _cell(row.get("mailboxes")),
        row.get("fetches", 0),
        f"{row.get('ok', 0)}/{row.get('no', 0)}/{row.get('bad', 0)}",
        _cell(row.get("last_status")),
    ]


def smtp_tables(summary: dict[str, Any]) -> list[Table]:
    section = summary.get("smtp") or {}
    if not section:
        return []
    overview = _overview(
        "SMTP",
        section,
        [
            ("messages", section.get("messages", 0)),
            ("message bytes", section.get("message_bytes", 0)),
            ("AUTH continuation lines (not kept)", section.get("auth_continuations", 0)),
        ],
    )
    sessions = _sessions(
        "SMTP transactions (one row per mail transaction, Zeek smtp.log style)",
        ["#", "helo", "auth", "tls", "from", "rcpts", "size", "subject", "last reply"],
        section,
        _smtp_cells,
    )
    findings = Table(
        "SMTP findings (4xx transient / 5xx permanent, grouped by sender and server)",
        ["kind", "sender", "server", "attempts", "sessions", "codes", "commands", "first", "last", "example"],
    )
    for f in section.get("findings", [])[:MAX_FINDING_ROWS]:
        findings.rows.append(
            [
                f["kind"],
                _cell(f.get("sender")),
                _cell(f["server"]),
                f["attempts"],
                f["sessions"],
                _cell([f"{k}x{v}" for k, v in f["codes"].items()]),
                _cell([f"{k}x{v}" for k, v in f["commands"].items()]),
                _time(f["first_ts"]),
                _time(f["last_ts"]),
                _cell(f.get("example")),
            ]
        )
    if section.get("findings_dropped"):
        findings.rows.append(["", f"... {section['findings_dropped']} more", *[""] * 8])
    return [
        overview,
        _counts("SMTP commands", "command", section.get("commands", {})),
        _counts("SMTP reply codes", "code", section.get("reply_codes", {})),
        sessions,
        findings,
    ]


def pop3_tables(summary: dict[str, Any]) -> list[Table]:
    section = summary.get("pop3") or {}
    if not section:
        return []
    retr = section.get("retr") or {}
    overview = _overview(
        "POP3",
        section,
        [
            ("messages retrieved (RETR)", retr.get("count", 0)),
            ("bytes retrieved", retr.get("bytes", 0)),
            ("DELE (mail removed from the server)", section.get("dele", 0)),
            ("clear-text passwords sent (PASS)", section.get("clear_text_passwords", 0)),
            ("SASL lines (not kept)", section.get("sasl_lines", 0)),
        ],
    )
    columns = ["user", "login", "clear pass", "tls", "cmds", "retr", "bytes", "dele", "last"]
    sessions = _sessions("POP3 sessions", columns, section, _pop3_cells)
    commands = dict(section.get("commands", {}))
    return [
        overview,
        _counts("POP3 commands", "command", commands),
        _counts("POP3 responses", "indicator", section.get("responses", {})),
        sessions,
    ]


def imap_tables(summary: dict[str, Any]) -> list[Table]:
    section = summary.get("imap") or {}
    if not section:
        return []
    overview = _overview(
        "IMAP",
        section,
        [
            ("literal bytes", section.get("literal_bytes", 0)),
            ("SASL lines (not kept)", section.get("sasl_lines", 0)),
        ],
    )
    columns = ["user", "login", "tls", "cmds", "mailboxes", "fetch", "OK/NO/BAD", "last"]
    sessions = _sessions("IMAP sessions", columns, section, _imap_cells)
    return [
        overview,
        _counts("IMAP commands", "command", section.get("commands", {})),
        _counts("IMAP tagged statuses", "status", section.get("response_status", {})),
        _counts("IMAP untagged responses", "response", section.get("untagged", {})),
        sessions,
    ]
