"""Checks the commands make before any work, and how a command fails: one line on standard error and
an exit status (output paths, --section names, a --cluster scheduler, the table width)."""

from __future__ import annotations

import os
import shutil
import sys
from typing import NoReturn

import click

EXIT_USAGE = 2
"""Exit status of a check made before any work: an output path that cannot be written, an unknown
--section or --path, an unreachable --cluster (as Click's own usage errors)."""
EXIT_WRITE_FAILED = 1
"""Exit status when writing the output failed after the analysis (disk full, ...)."""
CLUSTER_PROBE_SECONDS = 1.0
"""How long --cluster may take to accept a TCP connection before the run gives up (a scheduler on
a reachable host answers within milliseconds; a dead one would otherwise hang for Dask's 30 s)."""
DASK_DEFAULT_PORT = 8786
"""The Dask scheduler's port when --cluster names none."""


def fail(message: str, status: int = EXIT_USAGE) -> NoReturn:
    """One line on standard error, then exit with `status`."""
    click.echo(f"pcap-analyzer: {message}", err=True)
    sys.exit(status)


def check_output_file(path: str | None, option: str = "--output") -> None:
    """Before any work: `path` must be a file we can create or overwrite ('-' and None: stdout)."""
    if path is None or path == "-":
        return
    if os.path.isdir(path):
        fail(f"{option} {path}: is a directory")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        fail(f"{option} {path}: no such directory {parent}")
    target = path if os.path.exists(path) else parent
    if not os.access(target, os.W_OK):
        fail(f"{option} {path}: permission denied")


def check_output_dir(
    path: str, option: str = "--output", why: str = "--format csv writes one file per table"
) -> None:
    """Before any work: `path` must be a directory, or one we create now (its parent must exist: a
    typo in a parent is an error, not a new tree)."""
    if os.path.exists(path) and not os.path.isdir(path):
        fail(f"{option} {path}: exists and is not a directory ({why})")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        fail(f"{option} {path}: no such directory {parent}")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        fail(f"{option} {path}: cannot create the directory: {exc.strerror}")
    if not os.access(path, os.W_OK):
        fail(f"{option} {path}: permission denied")


def write_text(path: str | None, text: str) -> None:
    """`text` to the file `path` (None or '-': standard output); an I/O error is one line and exit."""
    if path is None or path == "-":
        try:
            click.echo(text, nl=False)
            sys.stdout.flush()
        except BrokenPipeError:  # `analyze ... | head`: the reader has seen enough
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        return
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}", EXIT_WRITE_FAILED)


def check_cluster(address: str) -> None:
    """Before any work: the Dask scheduler at `address` (tcp://host:port, host:port) must accept a
    TCP connection within CLUSTER_PROBE_SECONDS."""
    import socket
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(address if "://" in address else f"tcp://{address}")
        host, port = parts.hostname, parts.port or DASK_DEFAULT_PORT
    except ValueError as exc:
        fail(f"--cluster {address}: not an address ({exc})")
    if not host:
        fail(f"--cluster {address}: not an address (expected tcp://host:port)")
    try:
        with socket.create_connection((host, port), timeout=CLUSTER_PROBE_SECONDS):
            pass
    except OSError as exc:
        fail(f"--cluster {address}: no scheduler answers ({exc.strerror or exc})")


def section_list(values: tuple[str, ...]) -> list[str] | None:
    """The --section values (repeatable, each comma-separated) as one list; None when not given.
    Before any work: a name no report knows exits EXIT_USAGE naming the valid ones."""
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    if not values:
        return None
    from analyzer.report.tables import SHOWN_BY, known_section_names

    known = known_section_names()
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        valid = ", ".join(n for n in known if n not in SHOWN_BY)
        fail(f"no such section: {', '.join(unknown) or '(empty)'} (sections: {valid})")
    return list(dict.fromkeys(SHOWN_BY.get(n, n) for n in names))


def output_width(output: str | None, wide: bool) -> int | None:
    """Columns to fit the tables into: the terminal's when standard output is one (or $COLUMNS),
    else None: a pipe or a file gets every table whole, as tshark prints."""
    if wide or output or not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns


__all__ = [
    "EXIT_USAGE",
    "EXIT_WRITE_FAILED",
    "check_cluster",
    "check_output_dir",
    "check_output_file",
    "fail",
    "output_width",
    "section_list",
    "write_text",
]
