"""Terminal tables at 80 columns, CSV (one file per table, no formula injection) and Markdown."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from analyzer.cli import main
from analyzer.pipeline import Pipeline
from analyzer.report.csv_out import csv_cell, file_name, write_csv
from analyzer.report.markdown import md_escape, render_markdown
from analyzer.report.tables import generic_tables, known_section_names, report_sections, section_names
from analyzer.report.terminal import SECTION_RENDERERS, render
from analyzer.report.text import (
    TERMINAL_WIDTH,
    Table,
    aggregate,
    cut,
    endpoint,
    fit_table,
    format_table,
    layout,
    limit_rows,
    safe,
)
from tests.oracle import SAMPLES, analyze_json, sample_files
from tests.wholeness import appears_whole, identifiers

MIXED = SAMPLES / "mixed.pcap"
HOSTILE = "\x1b[31mred\x1b[0m\r\n\x07<script>|*_`=cmd()\u202egnp.exe"


@pytest.fixture(scope="module")
def mixed() -> dict[str, Any]:
    return analyze_json(str(MIXED))


def hostile_summary(base: dict[str, Any]) -> dict[str, Any]:
    """The mixed summary with a wire string full of control characters and markup in a DNS name."""
    data = json.loads(json.dumps(base))
    data["dns"]["top_names"].insert(0, {"name": HOSTILE, "count": 99})
    data["http"]["hosts"] = {'=HYPERLINK("http://x")': 3, "-2+3": 1, "@SUM(A1)": 1, "+cmd": 1, "-": 1}
    return data


# -- terminal ----------------------------------------------------------------------------------------


def test_safe_escapes_control_ansi_and_bidi() -> None:
    text = safe(HOSTILE, 0)
    assert "\x1b" not in text and "\r" not in text and "\n" not in text and "\x07" not in text
    assert "\u202e" not in text
    assert "\\e[31mred" in text and "\\r\\n" in text and "\\x07" in text and "\\u202e" in text


def test_cut_uses_an_ellipsis() -> None:
    assert cut("abcdefghij", 5) == "abcd…" and len(cut("abcdefghij", 5)) == 5
    assert cut("abc", 5) == "abc" and cut("abcdef", 0) == "abcdef"


def test_safe_cuts_nothing_unless_asked() -> None:
    value = "x" * 500 + " 2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"
    assert safe(value) == value and safe(value, 10) == "x" * 9 + "…"


@pytest.mark.parametrize(
    ("host", "port", "text"),
    [
        ("192.0.2.1", 53, "192.0.2.1:53"),
        ("2001:db8:2::53", 53, "[2001:db8:2::53]:53"),
        ("fe80::1%eth0", 546, "[fe80::1%eth0]:546"),
        ("2001:db8::1", None, "2001:db8::1"),
        (None, 80, "-:80"),
    ],
)
def test_endpoint_brackets_ipv6(host: str | None, port: int | None, text: str) -> None:
    assert endpoint(host, port) == text


def test_aggregate_folds_identical_rows_with_a_count() -> None:
    rows = [["fe80::1", "no answer"]] * 30 + [["fe80::2", "fe80::a"]]
    heads, folded = aggregate(["src", "answered by"], rows)
    assert heads == ["src", "answered by", "count"]
    assert folded == [["fe80::1", "no answer", 30], ["fe80::2", "fe80::a", 1]]
    assert aggregate(["a"], [["x"], ["y"]]) == (["a"], [["x"], ["y"]])


def test_fit_table_wraps_prose_and_never_splits_a_word() -> None:
    prose = (
        "UDP [2001:db8:1::10]:41001 → [2001:db8:ffff::1]:53 undeliverable: no route "
        "(reported by 2001:db8:1::1)"
    )
    rows = [["ICMPv6", prose, "CEpSpNVwCZyCve4HqM"]] * 5
    fitted = fit_table(["ver", "what happened", "refused flow"], rows, 60, optional=("refused flow",))
    assert fitted is not None
    heads, cells = fitted
    assert heads == ["ver", "what happened"]
    text = layout(heads, cells)
    assert max(len(line) for line in text.splitlines()) <= 60
    for word in prose.split():
        assert word in text


def test_fit_table_gives_up_on_identifiers_wider_than_the_terminal() -> None:
    rows = [
        [f"[2001:db8:{i}::10]:51001", f"[2001:db8:{i}::20]:80", "2024-03-01 10:00:00.000"] for i in range(5)
    ]
    assert fit_table(["a", "b", "c"], rows, 40) is None
    text = format_table(["a", "b", "c"], rows, 40)
    assert "[2001:db8:4::10]:51001" in text and "2024-03-01 10:00:00.000" in text and "…" not in text


def test_format_table_prints_a_short_wide_table_vertically() -> None:
    text = format_table(["file", "format", "first"], [["x" * 70, "pcap", "2024-03-01 10:00:00.000"]])
    lines = text.splitlines()
    assert lines[0].startswith("file") and lines[1].startswith("format") and "2024-03-01 10:00:00.000" in text
    assert "x" * 70 in text


def test_top_states_what_was_left_out() -> None:
    table = Table("Things", ["name"], [[str(i)] for i in range(40)])
    shown = limit_rows(table, 25)
    assert len(shown.rows) == 25 and "[top 25 of 40; --top 40 for all]" in shown.title
    assert limit_rows(table, None).rows == table.rows
    kept = limit_rows(Table("Flows", ["f"], [["a"]] * 25, total=103), 50)
    assert "[top 25 of 103, as kept in the summary]" in kept.title
    timeline = Table("Timeline", ["t"], [["a"]] * 40, ranked=False)
    assert limit_rows(timeline, 5) is timeline


@pytest.mark.parametrize("name", sample_files())
def test_terminal_report_keeps_every_identifier_at_80_columns(name: str) -> None:
    data = analyze_json(str(SAMPLES / name))
    text = render(data, None, TERMINAL_WIDTH, None)
    assert "…" not in text and "\x1b" not in text
    missing = [v for v in identifiers(data) if not appears_whole(v, text)]
    assert not missing, missing[:5]


def test_terminal_escapes_hostile_cells(mixed: dict[str, Any]) -> None:
    text = render(hostile_summary(mixed), ["dns"])
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text and "\u202e" not in text
    assert "\\e[31mred" in text


def test_render_without_width_cuts_nothing(mixed: dict[str, Any]) -> None:
    wide = render(mixed, ["icmp"], None)
    assert max(len(line) for line in wide.splitlines()) > TERMINAL_WIDTH
    assert "Destination Unreachable: fragmentation needed and DF set" in wide
    assert "too big: fragmentation needed and DF set, next-hop MTU 1400" in wide


def test_icmp_type_code_is_never_printed_as_a_port(mixed: dict[str, Any]) -> None:
    text = render(mixed, ["flows"], None)
    icmp_rows = [line for line in text.splitlines() if line.startswith(("icmp ", "icmpv6 "))]
    assert icmp_rows, "mixed.pcap has ICMP conversations in its top list"
    for line in icmp_rows:
        originator, responder, type_code = line.split()[1:4]
        assert "/" in type_code, line
        assert not originator.startswith("[") and not responder.startswith("["), line
    assert "2001:db8:1::1 " in text and "2/0" in text  # ICMPv6 Packet Too Big, not "2001:db8:1::1:2"


def test_section_option_limits_the_output() -> None:
    result = CliRunner().invoke(main, ["analyze", str(MIXED), "--section", "dns,tls"])
    assert result.exit_code == 0, result.output
    assert "DNS queries by type" in result.output and "TLS" in result.output
    assert "Protocol hierarchy" not in result.output and "ICMP messages" not in result.output


def test_repeated_section_options_accumulate() -> None:
    result = CliRunner().invoke(main, ["analyze", str(MIXED), "--section", "dns", "--section", "tls"])
    assert result.exit_code == 0, result.output
    assert "DNS queries by type" in result.output and "TLS versions" in result.output
    assert "Protocol hierarchy" not in result.output


# -- sections shared by the file formats ----------------------------------------------------------------


def test_every_renderer_and_unrendered_section_is_listed(mixed: dict[str, Any]) -> None:
    names = section_names(mixed)
    assert names[: len(SECTION_RENDERERS)] == list(SECTION_RENDERERS)
    assert "ip_fragments" in names and "mdns" not in names and "schema" not in names


def test_every_section_a_summary_can_have_is_known_before_the_analysis(mixed: dict[str, Any]) -> None:
    pipe = Pipeline()
    pipe.end_of_input()
    known = known_section_names()
    for data in (pipe.summary().to_json(), mixed):
        assert set(data) - {"schema"} <= set(known), set(data) - set(known)


def test_generic_tables_cover_a_section_without_renderer() -> None:
    section = {"reassembled": 3, "name": "<b>", "by_kind": {"a": 1}, "items": [{"k": "v", "n": 2, "sub": {}}]}
    tables = generic_tables("new_area", section)
    assert [t.rows for t in tables] == [[["reassembled", "3"], ["name", "<b>"]], [["a", "1"]], [["v", "2"]]]
    assert tables[2].headers == ["k", "n"]


def test_report_sections_keep_only_the_named_ones(mixed: dict[str, Any]) -> None:
    shown = report_sections(mixed, ["dns", "ip_fragments"])
    assert [s.name for s in shown] == ["dns", "ip_fragments"]
    assert all(t.rows for s in shown for t in s.tables)


# -- CSV ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "\\tx"),
        ("-", "-"),
        ("-12", "-12"),
        ("+3.5%", "+3.5%"),
        ("plain", "plain"),
        (42, 42),
        (None, ""),
    ],
)
def test_csv_cells_are_defused(value: Any, written: Any) -> None:
    assert csv_cell(value) == written


def test_csv_file_names_are_stable_and_unique() -> None:
    taken: set[str] = set()
    assert file_name("dns", "DNS queries by type (23 queries)", taken) == "dns-queries-by-type.csv"
    assert file_name("dns", "DNS queries by type (9 queries)", taken) == "dns-queries-by-type-2.csv"
    assert file_name("capture", "Capture", taken) == "capture.csv"
    assert file_name("x", "../../etc/passwd", taken) == "x-etc-passwd.csv"


def test_write_csv_one_file_per_table(tmp_path: Path, mixed: dict[str, Any]) -> None:
    data = hostile_summary(mixed)
    written = write_csv(data, tmp_path / "out")
    tables = sum(len(s.tables) for s in report_sections(data))
    assert len(written) == tables and all(p.parent == tmp_path / "out" for p in written)
    hosts = next(p for p in written if p.name.startswith("http-") and "host" in p.name)
    with hosts.open(newline="", encoding="utf-8") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert '\'=HYPERLINK("http://x")' in cells and "'-2+3" in cells and "'@SUM(A1)" in cells
    assert not any(c[:1] in ("=", "+", "@") for c in cells)
    names = (tmp_path / "out" / "dns-top-queried-names.csv").read_text(encoding="utf-8")
    assert "\x1b" not in names and "\\e[31mred" in names
    with (tmp_path / "out" / "capture-protocol-hierarchy.csv").open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["protocol", "frames", "share"] and ["eth", "536", "100.0%"] in rows


def test_cli_csv_needs_a_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["analyze", str(MIXED), "--format", "csv"])
    assert result.exit_code == 2 and "-o DIR" in result.output
    out = tmp_path / "csv"
    result = CliRunner().invoke(
        main, ["analyze", str(MIXED), "--format", "csv", "-o", str(out), "--section", "dns"]
    )
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.iterdir())
    assert files and all(f.startswith("dns-") for f in files)
    assert "CSV files written" in result.stderr


def test_cli_json_refuses_a_directory_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["analyze", str(MIXED), "--format", "json", "-o", str(tmp_path)])
    assert result.exit_code == 2 and "is a directory" in result.output


# -- Markdown -----------------------------------------------------------------------------------------


def test_md_escape_defuses_markup() -> None:
    assert md_escape("<script>|*x*_`") == "&lt;script&gt;\\|\\*x\\*\\_\\`"
    assert md_escape("a\nb") == "a\\\\nb"  # the escaped newline's backslash shows as typed


def test_markdown_report(mixed: dict[str, Any]) -> None:
    text = render_markdown(hostile_summary(mixed))
    assert text.startswith("# pcap-analyzer report")
    assert "## DNS" in text and "### DNS queries by type (30 queries)" in text
    assert "| qtype | count | share |" in text and "|---|---|---|" in text
    assert "<script>" not in text and "&lt;script&gt;" in text and "\x1b" not in text
    for line in text.splitlines():
        if line.startswith("| ") and "script" in line:
            assert line.count(" | ") == 1  # the name's own "|" is escaped: still two columns


def test_cli_markdown(tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    result = CliRunner().invoke(
        main, ["analyze", str(MIXED), "--format", "markdown", "--section", "tls", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "## TLS" in text and "## DNS" not in text and "536 packets" in text


def test_csv_keeps_every_row_and_stable_file_names(mixed: dict[str, Any], tmp_path: Path) -> None:
    written = {p.name for p in write_csv(mixed, tmp_path / "all")}
    assert "flows-top-conversations-by-bytes.csv" in written
    rows = list(csv.reader((tmp_path / "all" / "flows-top-conversations-by-bytes.csv").open()))
    assert len(rows) == 1 + len(mixed["flows"]["top"])
    assert ["tcp", "[2001:db8:1::10]:51003", "[2001:db8:2::20]:80", "-", "http", "SF", "10", "3418"] in rows
    limited = {p.name for p in write_csv(mixed, tmp_path / "top", None, 3)}
    assert limited == written
    assert len(list(csv.reader((tmp_path / "top" / "flows-top-conversations-by-bytes.csv").open()))) == 4


def test_generic_tables_keep_every_digit() -> None:
    tables = generic_tables("weird", [{"ts": 1709294402.105432, "name": "x"}])
    assert tables[0].rows == [["1709294402.105432", "x"]]


def test_repeated_rows_fold_with_a_count(mixed: dict[str, Any]) -> None:
    data = json.loads(json.dumps(mixed))
    unanswered = {"src": "fe80::aa", "mac": "00:00:5e:00:53:aa", "answered_by": None, "delay": None}
    data["ndp"]["solicitations"] = [dict(unanswered, ts=float(i)) for i in range(30)]
    errors = data["icmp"]["v4"]["unreachable"]
    data["icmp"]["v4"]["unreachable"] = [errors[0]] * 28 + [errors[1]] * 2
    data["icmp"]["v4"]["errors"] = []
    text = render(data, ["ndp", "icmp"], None)
    rs = text.split("== Router solicitations")[1].split("\n\n")[0].splitlines()
    assert rs[1].split() == ["src", "mac", "answered", "by", "delay", "ms", "count"]
    assert rs[3].split() == ["fe80::aa", "00:00:5e:00:53:aa", "no", "answer", "-", "30"] and len(rs) == 4
    block = text.split("== ICMP errors")[1].split("\n\n")[0]
    assert "(36 errors, 8 distinct)" in block.splitlines()[0]
    assert block.splitlines()[3].endswith(" 28") and errors[0]["description"] in block
