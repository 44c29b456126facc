"""The Click commands. Thin: options in, `analyze()` called, report out."""

from __future__ import annotations

import json
import os
import shutil
import sys
from typing import Any

import click

from analyzer import __version__

FORMATS = ["table", "json"]
ANALYZE_FORMATS = [*FORMATS, "csv", "markdown"]
"""`analyze --format` choices: the terminal tables, the versioned JSON summary, a directory of CSV files
(one per table), Markdown."""
EXIT_BAD_INPUT = 2
"""Exit status when any input could not be read completely (the summary is still written)."""


class _Progress:
    """A progress bar on standard error, only when standard error is a terminal."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._done = 0

    def __call__(self, consumed: int, total: int | None) -> None:
        if not total:
            return
        if self._bar is None:
            self._bar = click.progressbar(length=total, label="reading", file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(consumed - self._done)
        self._done = consumed

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


JOBS_OPTION = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    help="Worker processes (default: all cores for inputs over 64 MiB on machines with 4+ cores, else 1).",
)
"""The --jobs option of `analyze` and `report` (see analyzer/parallel.py: effective_jobs)."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=lambda ctx, _param, value: _print_version(ctx) if value else None,
    help="Show the version and whether the hot path is compiled, and exit.",
)
def main() -> None:
    """pcap-analyzer: summarize and classify packet captures (pcap, pcapng, gzip)."""


def _print_version(ctx: click.Context) -> None:
    from analyzer.compiled import HOT_MODULES, build_note, compiled_modules

    build = f"hot path compiled: {len(compiled_modules())} of {len(HOT_MODULES)} modules"
    build += f": {note}" if (note := build_note()) else ""
    click.echo(f"pcap-analyzer, version {__version__} ({build})")
    ctx.exit()


@main.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(ANALYZE_FORMATS), default="table", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(writable=True),
    help="Write here, not stdout (csv: the directory that gets one file per table).",
)
@click.option(
    "--section", "sections", help="Comma-separated sections to print (table, csv, markdown), e.g. dns,tls."
)
@JOBS_OPTION
@click.option(
    "--cluster", metavar="ADDRESS", help="Run on a Dask distributed scheduler, e.g. tcp://host:8786."
)
def analyze(
    files: tuple[str, ...],
    fmt: str,
    output: str | None,
    sections: str | None,
    jobs: int | None,
    cluster: str | None,
) -> None:
    """Analyse capture FILES ('-' reads standard input) and print a summary."""
    if fmt == "csv" and not output:
        raise click.UsageError("--format csv writes one file per table: name a directory with -o DIR")
    if output and fmt != "csv" and os.path.isdir(output):
        raise click.BadParameter(f"{output} is a directory", param_hint="--output")
    paths = list(files)
    data, failed = _summarize(paths, jobs, cluster)
    wanted = _wanted_sections(sections, data)
    if fmt == "csv":
        from analyzer.report.csv_out import write_csv

        written = write_csv(data, str(output), wanted)
        click.echo(f"pcap-analyzer: {len(written)} CSV files written to {output}", err=True)
        _exit_on_failures(failed)
        return
    if fmt == "json":
        text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    elif fmt == "markdown":
        from analyzer.report.markdown import render_markdown

        text = render_markdown(data, wanted)
    else:
        from analyzer.report.terminal import render

        # the terminal's width (or $COLUMNS when piped); 80 columns for a file
        width = shutil.get_terminal_size().columns if not output else None
        text = render(data, wanted, width) if width else render(data, wanted)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=False)
    _exit_on_failures(failed)


def _summarize(paths: list[str], jobs: int | None, cluster: str | None) -> tuple[dict[str, Any], list[Any]]:
    """Analyse the inputs (in parallel when asked or large); the summary JSON and the failed files.
    Exits when no input could even be opened."""
    from analyzer.parallel import analyze_parallel, effective_jobs
    from analyzer.pipeline import analyze as run

    workers = effective_jobs(paths, jobs)
    if cluster or workers > 1:
        summary, stats = analyze_parallel(paths, workers, cluster)
    else:
        progress = _Progress() if sys.stderr.isatty() else None
        try:
            summary, stats = run(paths, progress)
        finally:
            if progress is not None:
                progress.close()
    failed = [s for s in stats if s.error]
    if all(s.format is None for s in stats):  # nothing could even be opened: errors only
        for s in failed:
            click.echo(f"pcap-analyzer: {s.error}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    return summary.to_json(), failed


def _exit_on_failures(failed: list[Any]) -> None:
    """Name each input that could not be read completely, then exit with EXIT_BAD_INPUT."""
    for s in failed:
        click.echo(f"pcap-analyzer: {s.error}", err=True)
    if failed:
        sys.exit(EXIT_BAD_INPUT)


def _wanted_sections(option: str | None, data: dict[str, Any]) -> list[str] | None:
    """The --section list (None: all); a name the report does not know is named on stderr."""
    if not option:
        return None
    from analyzer.report.tables import SHOWN_BY, section_names

    known = section_names(data)
    wanted = [SHOWN_BY.get(n, n) for n in (x.strip() for x in option.split(",")) if n]
    unknown = [n for n in wanted if n not in known]
    if unknown:
        click.echo(
            f"pcap-analyzer: no such section: {', '.join(unknown)} (sections: {', '.join(known)})", err=True
        )
    return wanted


EXIT_NO_CAPTURE = 1
"""Exit status of `live` when the capture cannot start or fails (the summary of what was captured is
still written when it got that far)."""
LIVE_REFRESH = 2.0
"""Seconds between two redraws of the live view on a terminal when --refresh is not given."""


@main.command()
@click.option("--interface", "-i", "iface", required=True, help="Interface to capture on (see `interfaces`).")
@click.option("--filter", "-f", "bpf", help="BPF capture filter (tcpdump syntax), run in the kernel.")
@click.option("--count", "-c", type=click.IntRange(min=1), help="Stop after this many packets.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="Stop after this many seconds.")
@click.option(
    "--write",
    "-w",
    "write_path",
    type=click.Path(dir_okay=False, writable=True),
    help="Also save the raw packets to this pcap file as they arrive.",
)
@click.option(
    "--refresh",
    type=click.FloatRange(min=0),
    help=f"Seconds between redraws of the live view on stderr; 0 = no view. "
    f"[default: {LIVE_REFRESH:g} when stderr is a terminal, else no view]",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write here, not stdout."
)
def live(
    iface: str,
    bpf: str | None,
    count: int | None,
    duration: float | None,
    write_path: str | None,
    refresh: float | None,
    fmt: str,
    output: str | None,
) -> None:
    """Capture on a network interface and analyse the packets as they arrive.

    Stops on Ctrl-C, --count or --duration, then prints the summary (as `analyze` does)."""
    import time

    from analyzer.capture.linktypes import linktype_name
    from analyzer.capture.live import LiveCaptureError, PcapWriter, StopRequest, open_live, run_capture
    from analyzer.pipeline import Pipeline
    from analyzer.report.live_view import LiveView, Screen, render_live_tables

    try:
        source = open_live(iface, bpf)
    except LiveCaptureError as exc:
        click.echo(f"pcap-analyzer: {exc.message}", err=True)
        sys.exit(EXIT_NO_CAPTURE)
    link = linktype_name(source.linktype)
    every = refresh if refresh is not None else (LIVE_REFRESH if sys.stderr.isatty() else 0.0)
    view = LiveView(iface, link, bpf) if every else None
    pipe = Pipeline(event_sink=view.on_event if view is not None else None)
    with source:
        try:
            writer = PcapWriter(write_path, source.linktype, source.snaplen) if write_path else None
        except LiveCaptureError as exc:
            click.echo(f"pcap-analyzer: {exc.message}", err=True)
            sys.exit(EXIT_NO_CAPTURE)
        click.echo(
            f"pcap-analyzer: listening on {iface}, link-type {link}, snapshot length {source.snaplen} bytes",
            err=True,
        )
        tick = None
        if view is not None:
            screen, start = Screen(sys.stderr, sys.stderr.isatty()), time.monotonic()

            def tick(stats: Any) -> None:
                screen.show(view.render(pipe, stats, time.monotonic() - start))

        try:
            with StopRequest() as stop:
                stats = run_capture(
                    source,
                    pipe.process,
                    count=count,
                    duration=duration,
                    writer=writer,
                    tick=tick,
                    tick_every=every,
                    stop=stop,
                )
        finally:
            if writer is not None:
                writer.close()
    pipe.end_of_input()
    data = pipe.summary().to_json()
    data["live"] = {
        "interface": iface,
        "link_type": link,
        "filter": bpf,
        "snaplen": source.snaplen,
        "packets": stats.packets,
        "kernel_received": stats.kernel_received,
        "kernel_dropped": stats.kernel_dropped,
        "stopped_by": stats.stopped_by,
        "write": write_path,
    }
    if fmt == "json":
        text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    else:
        from analyzer.report.terminal import render

        text = render_live_tables(data["live"]) + render(data)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=False)
    click.echo(
        f"pcap-analyzer: {stats.packets} packets captured, {stats.kernel_dropped} dropped by the kernel",
        err=True,
    )
    if stats.error:
        click.echo(f"pcap-analyzer: {stats.error}", err=True)
        sys.exit(EXIT_NO_CAPTURE)


@main.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def interfaces(fmt: str) -> None:
    """List the network interfaces `live` can capture on."""
    from tabulate import tabulate

    from analyzer.capture.live import list_interfaces
    from analyzer.report.text import safe

    found = list_interfaces()
    if fmt == "json":
        rows = [
            {
                "name": i.name,
                "index": i.index,
                "link_type": i.link_type_name,
                "capture": i.linktype is not None,
                "up": i.up,
                "mac": i.mac,
                "addresses": list(i.addresses),
            }
            for i in found
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    table = [
        [
            safe(i.name),
            i.index,
            i.link_type_name,
            "up" if i.up else "down",
            i.mac or "-",
            ", ".join(i.addresses),
        ]
        for i in found
    ]
    headers = ["interface", "index", "link type", "state", "mac", "addresses"]
    click.echo(tabulate(table, headers=headers, tablefmt="simple", disable_numparse=True))


@main.command()
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default="report.html",
    show_default=True,
    help="HTML file to write ('-': standard output).",
)
@click.option(
    "--section", "sections", help="Comma-separated sections to include, e.g. dns,tls (the overview stays)."
)
@click.option("--no-charts", is_flag=True, help="Tables only: no charts, no second pass over the files.")
@JOBS_OPTION
def report(
    files: tuple[str, ...], output: str, sections: str | None, no_charts: bool, jobs: int | None
) -> None:
    """Write a self-contained HTML report of capture FILES: overview, charts, one section per area.

    The file needs nothing else to open (styles, script and charts are inline); mail it as it is."""
    from analyzer.report.html import render_html

    paths = list(files)
    data, failed = _summarize(paths, jobs, None)
    wanted = _wanted_sections(sections, data)
    series = None
    if not no_charts:
        from analyzer.report.timeline import traffic_series

        series = traffic_series(paths, data["capture"]["first_ts"], data["capture"]["last_ts"])
    text = render_html(data, series, wanted, charts=not no_charts, stdin="-" in paths)
    if output == "-":
        click.echo(text, nl=False)
    else:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
        click.echo(f"pcap-analyzer: report written to {output}", err=True)
    _exit_on_failures(failed)


@main.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--jsonl", is_flag=True, help="One JSON object per line (the default, and the only format).")
@click.option(
    "--flat-keys", is_flag=True, help="Dots in key names become underscores (id_orig_h), for Elasticsearch."
)
@click.option("--path", "kinds", help="Comma-separated kinds (_path) to keep, e.g. conn,dns,weird.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write here, not stdout."
)
def events(
    files: tuple[str, ...], jsonl: bool, flat_keys: bool, kinds: str | None, output: str | None
) -> None:
    """Write every event of capture FILES as JSON lines, as they are produced.

    Each line has "_path" (conn, dns, dhcp, icmp, ndp, tls, x509, http, smtp, pop3, imap, ftp, smb,
    weird, ...), "_type" and Zeek's field names (ts, uid, id.orig_h, id.orig_p, ...)."""
    from analyzer.report.jsonl import write_events

    failed: list[Any] = []
    only = [k.strip() for k in kinds.split(",") if k.strip()] if kinds else None

    def on_file(stats: Any) -> None:
        if stats.error:
            failed.append(stats)

    if output:
        with open(output, "w", encoding="utf-8") as fh:
            write_events(list(files), fh, flat_keys, only, on_file)
    else:
        try:
            write_events(list(files), sys.stdout, flat_keys, only, on_file)
            sys.stdout.flush()
        except BrokenPipeError:  # `events ... | head`: the reader has seen enough
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
    _exit_on_failures(failed)


EXIT_NO_TSHARK = 3
"""Exit status of `crosscheck` when tshark is not installed."""
EXIT_DIFFERENT = 1
"""Exit status of `crosscheck --strict` when a number differs without a known tshark quirk."""


@main.command("crosscheck")
@click.argument("files", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--differences", is_flag=True, help="Print only the numbers that are not equal.")
@click.option(
    "--strict", is_flag=True, help="Exit with status 1 when a number differs without a known quirk."
)
def crosscheck_command(files: tuple[str, ...], fmt: str, differences: bool, strict: bool) -> None:
    """Compare our numbers with Wireshark's dissectors (tshark) on the same FILES.

    Section by section (packets, protocols, ICMP, NDP, DNS, DHCP, TLS, HTTP, mail, FTP, SMB): ours
    beside tshark's; ≠ marks a difference, ~ one explained by a known tshark 4.0 quirk."""
    from analyzer.crosscheck import TsharkMissing, crosscheck, find_tshark, render_check

    if "-" in files:
        raise click.BadParameter(
            "each file is read twice (by us, by tshark): not standard input", param_hint="FILES"
        )
    try:
        tshark = find_tshark()
    except TsharkMissing as exc:
        click.echo(f"pcap-analyzer: crosscheck needs tshark: {exc}", err=True)
        sys.exit(EXIT_NO_TSHARK)
    checks = []
    for path in files:
        try:
            check = crosscheck(path, tshark=tshark)
        except RuntimeError as exc:
            click.echo(f"pcap-analyzer: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        checks.append(check)
        if fmt == "table":
            click.echo(render_check(check, show_same=not differences))
    if fmt == "json":
        rows = [
            {
                "path": c.path,
                "tshark_version": c.tshark_version,
                "rows": [
                    {"section": r.section, "key": r.key, "ours": r.ours, "tshark": r.tshark}
                    | {"status": r.status, "note": r.note}
                    for r in c.rows
                    if not differences or r.status != "same"
                ],
            }
            for c in checks
        ]
        click.echo(json.dumps(rows, indent=2))
    if strict and any(c.differences for c in checks):
        sys.exit(EXIT_DIFFERENT)
