"""The Click commands. Thin: options in, `analyze()` called, report out."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from analyzer import __version__

FORMATS = ["table", "json"]
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pcap-analyzer")
def main() -> None:
    """pcap-analyzer: summarize and classify packet captures (pcap, pcapng, gzip)."""


@main.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write here, not stdout."
)
@click.option("--section", "sections", help="Comma-separated sections to print (table format), e.g. dns,tls.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    help="Worker processes (default: all cores for large inputs, one for small ones).",
)
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
    from analyzer.parallel import analyze_parallel, effective_jobs
    from analyzer.pipeline import analyze as run

    paths = list(files)
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
    data = summary.to_json()
    if fmt == "json":
        text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    else:
        from analyzer.report.terminal import render

        text = render(data, sections.split(",") if sections else None)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=False)
    for s in failed:
        click.echo(f"pcap-analyzer: {s.error}", err=True)
    if failed:
        sys.exit(EXIT_BAD_INPUT)
