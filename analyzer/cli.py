"""The Click commands. Thin: options in, `analyze()` called, report out."""

from __future__ import annotations

import gc
import json
import os
import shutil
import sys
from typing import Any

import click

from analyzer import __version__
from analyzer.preflight import (
    EXIT_WRITE_FAILED,
    check_cluster,
    check_output_dir,
    check_output_file,
    fail,
    output_width,
    section_list,
    write_text,
)

FORMATS = ["table", "json"]
ANALYZE_FORMATS = [*FORMATS, "csv", "markdown"]
"""`analyze --format` choices: the terminal tables, the versioned JSON summary, a directory of CSV files
(one per table), Markdown."""
EXIT_BAD_INPUT = 2
"""Exit status when any input could not be read completely (the summary is still written)."""


class _Progress:
    """A progress bar on standard error, only when standard error is a terminal."""

    def __init__(self, label: str = "reading") -> None:
        self._label = label
        self._bar: Any = None
        self._done = 0

    def __call__(self, consumed: int, total: int | None) -> None:
        if not total:
            return
        if self._bar is None:
            self._bar = click.progressbar(length=total, label=self._label, file=sys.stderr)
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
    """pcap-analyzer: summarize and classify packet captures (pcap, pcapng, gzip).

    \b
    Examples:
      pcap-analyzer analyze trace.pcap
      pcap-analyzer report trace.pcap -o trace.html
      pcap-analyzer COMMAND --help
    """
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


GC_YOUNG_THRESHOLD = 50_000
"""Allocations between two collections of the young generation (CPython's default: 700). Analysing a
capture allocates millions of short-lived objects (packets, events, records) and hardly any reference
cycle, so collecting every 700 allocations mostly re-walks live flows for nothing: it cost about 4% of
a run (perf, realistic benchmark capture). Cycles are still collected, only less often."""


def _print_version(ctx: click.Context) -> None:
    from analyzer.compiled import HOT_MODULES, build_note, compiled_modules

    build = f"hot path compiled: {len(compiled_modules())} of {len(HOT_MODULES)} modules"
    build += f": {note}" if (note := build_note()) else ""
    click.echo(f"pcap-analyzer, version {__version__} ({build})")
    ctx.exit()


SECTION_OPTION = click.option(
    "--section",
    "sections",
    multiple=True,
    help="Sections to include, comma-separated or repeated, e.g. dns,tls or --section dns --section tls.",
)
"""The --section option of `analyze` and `report` (checked by `section_list` before any work)."""
TOP_OPTION = click.option(
    "--top",
    type=click.IntRange(min=1),
    help="Rows of every ranked table (conversations, hosts, names, ...); the title says what was left out. "
    "[default: 25 in tables and Markdown, all in CSV and HTML]",
)
"""The --top option of `analyze` and `report`."""


@main.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(ANALYZE_FORMATS), default="table", show_default=True)
@click.option(
    "--output",
    "-o",
    help="Write here, not stdout (csv: the directory that gets one file per table).",
)
@SECTION_OPTION
@TOP_OPTION
@click.option(
    "--wide",
    is_flag=True,
    help="On a terminal, print tables as wide as they are (never wrapped); a pipe or file always is.",
)
@JOBS_OPTION
@click.option(
    "--cluster", metavar="ADDRESS", help="Run on a Dask distributed scheduler, e.g. tcp://host:8786."
)
@click.option(
    "--brief", is_flag=True, help="Only the capture block, the protocol hierarchy and the findings."
)
def analyze(
    files: tuple[str, ...],
    fmt: str,
    output: str | None,
    sections: tuple[str, ...],
    top: int | None,
    wide: bool,
    jobs: int | None,
    cluster: str | None,
    brief: bool = False,
) -> None:
    """Analyse capture FILES ('-' reads standard input) and print a summary.

    \b
    Examples:
      pcap-analyzer analyze trace.pcap
      pcap-analyzer analyze trace.pcapng --section dns,tls --top 50
      pcap-analyzer analyze a.pcap b.pcap.gz --format json -o summary.json
      pcap-analyzer analyze trace.pcap --format csv -o tables/
    """
    if fmt == "csv" and not output:
        fail("--format csv writes one file per table: name a directory with -o DIR")
    wanted = section_list(sections)
    if fmt == "csv":
        check_output_dir(str(output))
    else:
        check_output_file(output)
    if cluster:
        check_cluster(cluster)
    paths = list(files)
    data, failed = _summarize(paths, jobs, cluster)
    if brief:
        data, wanted = _brief(data)
    if fmt == "csv":
        from analyzer.report.csv_out import write_csv

        try:
            written = write_csv(data, str(output), wanted, top)
        except OSError as exc:
            fail(f"cannot write {exc.filename or output}: {exc.strerror or exc}", EXIT_WRITE_FAILED)
        click.echo(f"pcap-analyzer: {len(written)} CSV files written to {output}", err=True)
        _exit_on_failures(failed)
        return
    if fmt == "json":
        text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    elif fmt == "markdown":
        from analyzer.report.markdown import render_markdown
        from analyzer.report.text import DEFAULT_TOP

        text = render_markdown(data, wanted, top or DEFAULT_TOP)
    else:
        from analyzer.report.terminal import render
        from analyzer.report.text import DEFAULT_TOP

        text = render(data, wanted, output_width(output, wide), top or DEFAULT_TOP)
    write_text(output, text)
    _exit_on_failures(failed)


def _summarize(paths: list[str], jobs: int | None, cluster: str | None) -> tuple[dict[str, Any], list[Any]]:
    """Analyse the inputs (in parallel when asked or large); the summary JSON and the failed files.
    Exits when no input could even be opened."""
    from analyzer.parallel import analyze_parallel, effective_jobs
    from analyzer.pipeline import analyze as run

    workers = effective_jobs(paths, jobs)
    if cluster or workers > 1:
        try:
            summary, stats = analyze_parallel(paths, workers, cluster)
        except (OSError, TimeoutError) as exc:
            fail(f"{'--cluster ' + cluster if cluster else 'workers'}: {exc}", EXIT_BAD_INPUT)
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


def _brief(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`--brief`: the summary cut to its capture block, protocol hierarchy and findings."""
    from analyzer.report.sections.findings import BRIEF_SECTIONS

    keep = ("schema", "capture", "protocols", "findings")
    return {k: v for k, v in data.items() if k in keep}, list(BRIEF_SECTIONS)


def _exit_on_failures(failed: list[Any]) -> None:
    """Name each input that could not be read completely, then exit with EXIT_BAD_INPUT."""
    for s in failed:
        click.echo(f"pcap-analyzer: {s.error}", err=True)
    if failed:
        sys.exit(EXIT_BAD_INPUT)


EXIT_NO_CAPTURE = 1
"""Exit status of `live` when the capture cannot start or fails (the summary of what was captured is
still written when it got that far)."""
LIVE_BUFFER_MIB = 64
"""Default kernel capture buffer for `live` (MiB): see analyzer/capture/live.py RCVBUF_BYTES."""
LIVE_REFRESH = 2.0
"""Seconds between two redraws of the live view on a terminal when --refresh is not given."""


@main.command()
@click.option(
    "--interface",
    "-i",
    "iface",
    required=True,
    help="Interface to capture on (see `interfaces`); `any`: all of them (Linux cooked capture).",
)
@click.option("--filter", "-f", "bpf", help="BPF capture filter (tcpdump syntax), run in the kernel.")
@click.option("--count", "-c", type=click.IntRange(min=1), help="Stop after this many packets.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="Stop after this many seconds.")
@click.option(
    "--write",
    "-w",
    "write_path",
    help="Also save the raw packets to this pcap file as they arrive.",
)
@click.option(
    "--refresh",
    type=click.FloatRange(min=0),
    help=f"Seconds between redraws of the live view on stderr; 0 = no view. "
    f"[default: {LIVE_REFRESH:g} when stderr is a terminal, else no view]",
)
@click.option(
    "--buffer-size",
    "-B",
    "buffer_mib",
    type=click.IntRange(min=1, max=2048),
    default=LIVE_BUFFER_MIB,
    show_default=True,
    help="Kernel capture buffer in MiB (libpcap's ring, as dumpcap -B): holds the frames that arrive "
    "while the capture process waits for the CPU.",
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--output", "-o", help="Write the summary here, not stdout (checked before the capture starts)."
)
def live(
    iface: str,
    bpf: str | None,
    count: int | None,
    duration: float | None,
    write_path: str | None,
    refresh: float | None,
    buffer_mib: int,
    fmt: str,
    output: str | None,
) -> None:
    """Capture on a network interface and analyse the packets as they arrive.

    Stops on Ctrl-C, --count or --duration, then prints the summary (as `analyze` does).

    \b
    Examples:
      pcap-analyzer live -i eth0 --duration 60
      pcap-analyzer live -i any -f "udp port 53" -c 1000 -w dns.pcap -o summary.txt
    """
    import time

    from analyzer.capture.linktypes import linktype_name
    from analyzer.capture.live import LiveCaptureError, PcapWriter, StopRequest, capture_block
    from analyzer.capture.sources import open_source
    from analyzer.capture.spool import run_spooled_capture
    from analyzer.pipeline import Pipeline
    from analyzer.report.live_view import LiveView, Screen, render_live_tables

    check_output_file(output)
    check_output_file(write_path, "--write")
    try:
        source = open_source(iface, bpf, buffer_size=buffer_mib << 20)
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
                size = shutil.get_terminal_size() if screen.terminal else None
                width, height = (size.columns, size.lines) if size is not None else (None, None)
                screen.show(view.render(pipe, stats, time.monotonic() - start, width, height))

        try:
            with StopRequest() as stop:
                stats = run_spooled_capture(
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
    data["capture"]["live"] = capture_block(stats, iface, source.buffer_size)
    if fmt == "json":
        text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    else:
        from analyzer.report.terminal import render

        text = render_live_tables(data["live"], data["capture"].get("live")) + render(
            data, None, output_width(output, False)
        )
    write_text(output, text)
    click.echo(
        f"pcap-analyzer: {stats.packets} packets captured, {stats.kernel_dropped} dropped by the kernel"
        + (f", {stats.queue_dropped} dropped by the capture queue" if stats.queue_dropped else ""),
        err=True,
    )
    if stats.error:
        click.echo(f"pcap-analyzer: {stats.error}", err=True)
        sys.exit(EXIT_NO_CAPTURE)


@main.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
def interfaces(fmt: str) -> None:
    """List the network interfaces `live` can capture on.

    \b
    Example:
      pcap-analyzer interfaces --format json
    """
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
    default="report.html",
    show_default=True,
    help="HTML file to write ('-': standard output).",
)
@SECTION_OPTION
@TOP_OPTION
@click.option("--no-charts", is_flag=True, help="Tables only: no charts, no second pass over the files.")
@JOBS_OPTION
def report(
    files: tuple[str, ...],
    output: str,
    sections: tuple[str, ...],
    top: int | None,
    no_charts: bool,
    jobs: int | None,
) -> None:
    """Write a self-contained HTML report of capture FILES: overview, charts, one section per area.

    The file needs nothing else to open (styles, script and charts are inline); mail it as it is.
    The overview always stays; --section limits the sections after it.

    \b
    Examples:
      pcap-analyzer report trace.pcap -o trace.html
      pcap-analyzer report day1.pcap day2.pcap --section dns,dhcp --no-charts -o -
    """
    from analyzer.report.html import render_html

    wanted = section_list(sections)
    check_output_file(output)
    paths = list(files)
    data, failed = _summarize(paths, jobs, None)
    series = None
    if not no_charts:
        from analyzer.report.timeline import traffic_series

        progress = _Progress("charting") if sys.stderr.isatty() else None
        try:
            series = traffic_series(paths, data["capture"]["first_ts"], data["capture"]["last_ts"], progress)
        finally:
            if progress is not None:
                progress.close()
    text = render_html(data, series, wanted, charts=not no_charts, stdin="-" in paths, top=top)
    write_text(output, text)
    if output != "-":
        click.echo(f"pcap-analyzer: report written to {output}", err=True)
    _exit_on_failures(failed)


@main.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--jsonl", is_flag=True, hidden=True, help="Deprecated no-op: JSON lines is the only format.")
@click.option(
    "--flat-keys", is_flag=True, help="Dots in key names become underscores (id_orig_h), for Elasticsearch."
)
@click.option(
    "--path",
    "kinds",
    multiple=True,
    help="Kinds (_path) to keep, comma-separated or repeated, e.g. conn,dns,weird.",
)
@click.option("--output", "-o", help="Write here, not stdout.")
def events(
    files: tuple[str, ...], jsonl: bool, flat_keys: bool, kinds: tuple[str, ...], output: str | None
) -> None:
    """Write every event of capture FILES as JSON lines, as they are produced (the raw internal event
    stream; `logs` writes Zeek-shaped logs, one row per transaction).

    Each line has "_path" (conn, dns, dhcp, icmp, ndp, tls, x509, http, smtp, pop3, imap, ftp, smb,
    weird, ...), "_type" and Zeek's field names (ts, uid, id.orig_h, id.orig_p, ...).

    \b
    Examples:
      pcap-analyzer events trace.pcap --path dns,http | jq .query
      pcap-analyzer events trace.pcap --flat-keys -o events.jsonl
    """
    from analyzer.report.jsonl import known_paths, write_events

    if jsonl:
        click.echo(
            "pcap-analyzer: --jsonl is deprecated and does nothing (JSON lines is the only format)", err=True
        )
    failed: list[Any] = []
    only = [k.strip() for v in kinds for k in v.split(",") if k.strip()] or None
    if kinds:
        unknown = [k for k in only or [] if k not in known_paths()]
        if unknown or not only:
            fail(f"no such path: {', '.join(unknown) or '(empty)'} (paths: {', '.join(known_paths())})")
    check_output_file(output)
    progress = _Progress() if sys.stderr.isatty() else None

    def on_file(stats: Any) -> None:
        if stats.error:
            failed.append(stats)

    try:
        if output:
            try:
                with open(output, "w", encoding="utf-8") as fh:
                    write_events(list(files), fh, flat_keys, only, on_file, progress)
            except OSError as exc:
                fail(f"cannot write {output}: {exc.strerror or exc}", EXIT_WRITE_FAILED)
        else:
            try:
                write_events(list(files), sys.stdout, flat_keys, only, on_file, progress)
                sys.stdout.flush()
            except BrokenPipeError:  # `events ... | head`: the reader has seen enough
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                sys.exit(0)
    finally:
        if progress is not None:
            progress.close()
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
    beside tshark's; ≠ marks a difference, ~ one explained by a known tshark 4.0 quirk.

    \b
    Examples:
      pcap-analyzer crosscheck trace.pcap
      pcap-analyzer crosscheck trace.pcap --differences --strict
    """
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
            summary, _ = _summarize([path], 1, None)
            if sys.stderr.isatty():
                click.echo(f"pcap-analyzer: running {tshark[0]} on {path} ...", err=True)
            check = crosscheck(path, summary, tshark=tshark)
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


@main.command()
@click.argument("files", nargs=-1, required=True)
@click.option(
    "--directory", "-d", required=True, type=click.Path(file_okay=False), help="Directory that gets the logs."
)
@click.option("--format", "fmt", type=click.Choice(["tsv", "json"]), default="tsv", show_default=True)
def logs(files: tuple[str, ...], directory: str, fmt: str) -> None:
    """Write Zeek-shaped logs of capture FILES into a directory: conn.log, dns.log, dhcp.log, ssl.log,
    x509.log, http.log, ftp.log, smtp.log, smb_files.log, smb_mapping.log, notice.log, weird.log.

    TSV carries Zeek's #fields/#types header (zeek-cut and RITA read it); json is one object per line.

    \b
    Examples:
      pcap-analyzer logs trace.pcap -d logs/
      pcap-analyzer logs trace.pcap -d logs/ --format json
      zeek-cut id.orig_h query qtype_name rcode_name < logs/dns.log
    """
    from analyzer.report.zeek import write_logs

    check_output_dir(directory, "--directory", "logs writes one file per log")
    try:
        result = write_logs(list(files), directory, fmt)
    except OSError as exc:  # the directory cannot be made or written
        click.echo(f"pcap-analyzer: cannot write logs to {directory}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if all(s.format is None for s in result.stats):
        for s in result.stats:
            click.echo(f"pcap-analyzer: {s.error}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    written = ", ".join(f"{name} {n}" for name, n in result.rows.items() if n)
    click.echo(f"pcap-analyzer: logs written to {directory} ({written or 'no rows'})", err=True)
    _exit_on_failures([s for s in result.stats if s.error])
