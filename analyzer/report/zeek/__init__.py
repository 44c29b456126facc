"""Zeek-shaped logs: `pcap-analyzer logs FILE... -d DIR` writes conn.log, dns.log, dhcp.log, ssl.log,
x509.log, http.log, ftp.log, smtp.log, smb_files.log, smb_mapping.log, notice.log and weird.log, named,
shaped and typed as Zeek writes them (TSV with Zeek's header, or Zeek's JSON lines).

Where the rows come from:
- conn.log is streamed: each ConnRecord the pipeline emits is written when it comes (every
  connection; nothing is collected).
- the others are built at the end from the trackers' records in the summary (one row per transaction:
  a DNS query and its answer, a DHCP exchange, a TLS handshake, an HTTP request/response pair, ...).
  Those record lists are bounded by the trackers' named limits (e.g. dns MAX_TRANSACTION_RECORDS);
  what a tracker counted but did not keep is not in the log.
- notice.log holds the findings (analyzer/findings.py); weird.log the summary's weird list.

`events` stays the raw internal event stream; these logs are what Zeek tools (zeek-cut, RITA, SIEM
mappings) read. One module per log family; LOG_TABLE says which log is built how.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from analyzer.report.zeek import conn as conn_log
from analyzer.report.zeek import dhcp, dns, ftp, http, notice, smb, smtp, ssl
from analyzer.report.zeek.tsv import Field, LogWriter

FORMATS = ("tsv", "json")
"""`logs --format` choices."""


@dataclass(frozen=True, slots=True)
class SummaryLog:
    """A log built from the finished summary."""

    fields: tuple[Field, ...]
    """(name, Zeek type) of its columns."""
    rows: Callable[[dict[str, Any]], list[dict[str, Any]]]
    """The summary JSON -> its rows, in packet-time order."""


STREAMED_LOGS: dict[str, tuple[Field, ...]] = {"conn": conn_log.FIELDS}
"""Logs written as the pipeline emits their records -> their columns."""
LOG_TABLE: dict[str, SummaryLog] = {
    "dns": SummaryLog(dns.FIELDS, dns.dns_rows),
    "dhcp": SummaryLog(dhcp.FIELDS, dhcp.dhcp_rows),
    "ssl": SummaryLog(ssl.SSL_FIELDS, ssl.ssl_rows),
    "x509": SummaryLog(ssl.X509_FIELDS, ssl.x509_rows),
    "http": SummaryLog(http.FIELDS, http.http_rows),
    "ftp": SummaryLog(ftp.FIELDS, ftp.ftp_rows),
    "smtp": SummaryLog(smtp.FIELDS, smtp.smtp_rows),
    "smb_files": SummaryLog(smb.FILES_FIELDS, smb.files_rows),
    "smb_mapping": SummaryLog(smb.MAPPING_FIELDS, smb.mapping_rows),
    "notice": SummaryLog(notice.NOTICE_FIELDS, notice.notice_rows),
    "weird": SummaryLog(notice.WEIRD_FIELDS, notice.weird_rows),
}
"""Logs built from the summary at the end -> their columns and row builder."""


def log_fields(path: str) -> tuple[Field, ...]:
    """The columns of one log (conn, dns, ...)."""
    return STREAMED_LOGS[path] if path in STREAMED_LOGS else LOG_TABLE[path].fields


class _Streamer:
    """The pipeline's event sink: conn rows written as their records come."""

    def __init__(self, writers: dict[str, LogWriter]) -> None:
        self.writers = writers

    def __call__(self, event: object) -> None:
        from analyzer.trackers.conn import ConnRecord

        if isinstance(event, ConnRecord):
            self.writers["conn"].write(conn_log.conn_row(event))


@dataclass(slots=True)
class LogsResult:
    """What `write_logs` did."""

    rows: dict[str, int]
    """Log name -> rows written."""
    stats: list[Any]
    """FileStats of every input (with its error, if any)."""


def write_logs(paths: list[str], directory: str, fmt: str = "tsv") -> LogsResult:
    """Analyse capture files in order and write every Zeek log into `directory` (created if needed)."""
    from analyzer.pipeline import Pipeline

    os.makedirs(directory, exist_ok=True)
    files: dict[str, TextIO] = {}
    writers: dict[str, LogWriter] = {}
    try:
        # #open carries the first packet's time, which is known only once reading starts: the
        # streamed logs are written to temporary files and get their header at the end
        for name in STREAMED_LOGS:
            files[name] = open(os.path.join(directory, f".{name}.rows"), "w+", encoding="utf-8")  # noqa: SIM115
            writers[name] = LogWriter(files[name], name, STREAMED_LOGS[name], fmt, None, header=False)
        pipe = Pipeline(event_sink=_Streamer(writers))
        stats = [pipe.run_file(p) for p in paths]
        data = pipe.summary().to_json()
        first, last = data["capture"].get("first_ts"), data["capture"].get("last_ts")
        rows: dict[str, int] = {}
        for name in STREAMED_LOGS:
            body = files[name]
            body.seek(0)
            with open(os.path.join(directory, f"{name}.log"), "w", encoding="utf-8") as out:
                writer = LogWriter(out, name, STREAMED_LOGS[name], fmt, first)
                for line in body:
                    out.write(line)
                writer.close(last)
            rows[name] = writers[name].rows
        for name, log in LOG_TABLE.items():
            with open(os.path.join(directory, f"{name}.log"), "w", encoding="utf-8") as out:
                writer = LogWriter(out, name, log.fields, fmt, first)
                for row in log.rows(data):
                    writer.write(row)
                writer.close(last)
            rows[name] = writer.rows
        return LogsResult(rows, stats)
    finally:
        for name, fh in files.items():
            fh.close()
            tmp = os.path.join(directory, f".{name}.rows")
            if os.path.exists(tmp):
                os.remove(tmp)
