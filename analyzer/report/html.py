"""The HTML report: one self-contained file (inline CSS, inline JavaScript, inline SVG charts).

Layout: a header naming the inputs, a navigation bar, the overview (key numbers, traffic over time,
protocol mix), then one section per summary section in the terminal report's order, each with its
charts (analyzer/report/charts.py) above its tables (analyzer/report/tables.py). Nothing is fetched
when the file is opened: no external stylesheet, script, font or image.

Everything from the summary is HTML-escaped here, wire strings above all (a DNS name or an HTTP Host of
`<script>...` shows as text). Tables longer than COLLAPSE_ROWS are folded in a <details>; a few lines
of script make every table sortable by clicking a column header. That script first installs an error
handler and, when it has run to its end, marks the page with data-js="ok" on <html>; a script error
sets data-js="error" and adds a visible #js-error note (the browser test checks both).
"""

from __future__ import annotations

import html
import re
from typing import Any

from analyzer import __version__
from analyzer.report.charts import SECTION_CHARTS, Chart, traffic_chart
from analyzer.report.tables import Section, report_sections
from analyzer.report.text import Table, duration_text, size_text, utc
from analyzer.report.timeline import TrafficSeries

COLLAPSE_ROWS = 15
"""Tables with more rows than this start folded (a <details> shows the title and the row count)."""
LONG_CELL = 120
"""Characters of a text cell above which it is folded to a few lines (the whole value stays in the
page: shown on hover, and in full when the cell is hovered or printed). Nothing is ever cut."""
STDIN_NOTE = "Traffic over time is not drawn for standard input (it cannot be read twice)."
_NUMERIC = re.compile(r"-?[\d,]+(\.\d+)?%?")

CSS = """
:root{--fg:#1d2430;--muted:#5b6676;--line:#d8dee6;--band:#f4f6f9;--accent:#2f5f8f}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
color:var(--fg);background:#fff}
header{padding:18px 28px 10px;border-bottom:1px solid var(--line)}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:var(--muted);overflow-wrap:anywhere}
nav{position:sticky;top:0;z-index:2;background:#fff;border-bottom:1px solid var(--line);
padding:6px 28px;display:flex;flex-wrap:wrap;gap:4px 14px}
nav a{color:var(--accent);text-decoration:none;font-size:13px}
nav a:hover{text-decoration:underline}
main{padding:0 28px 40px;max-width:1280px}
section{border-bottom:1px solid var(--line);padding:8px 0 18px}
h2{font-size:18px;margin:18px 0 8px}
h3{font-size:14px;margin:14px 0 6px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px;margin:10px 0}
.card{border:1px solid var(--line);border-radius:6px;padding:8px 12px;background:var(--band)}
.card b{display:block;font-size:19px;font-variant-numeric:tabular-nums}
.card span{color:var(--muted);font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:14px;margin:8px 0}
figure{margin:0;border:1px solid var(--line);border-radius:6px;padding:6px;max-width:100%}
figure svg{max-width:100%;height:auto;display:block}
figcaption{color:var(--muted);font-size:12px;padding:2px 4px}
.tablewrap{overflow-x:auto;margin:4px 0 10px}
table{border-collapse:collapse;font-size:13px;min-width:40%}
th,td{border-bottom:1px solid var(--line);padding:3px 10px;text-align:left;vertical-align:top;
overflow-wrap:anywhere;max-width:36em}
th{background:var(--band);position:sticky;top:0;cursor:pointer;white-space:nowrap;user-select:none}
th[aria-sort=ascending]::after{content:" \\25B2";font-size:10px}
th[aria-sort=descending]::after{content:" \\25BC";font-size:10px}
td.long div{max-height:4.4em;overflow:hidden}
td.long:hover div{max-height:none}
@media print{td.long div{max-height:none}}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tbody tr:nth-child(even){background:#fafbfc}
details{margin:6px 0}
summary{cursor:pointer;font-weight:600;margin:10px 0 4px}
.muted{color:var(--muted)}
#js-error{background:#fde8e8;color:#8a1c1c;padding:6px 28px}
footer{color:var(--muted);font-size:12px;padding:10px 28px 30px}
@media print{nav{display:none}details>*{display:block}}
"""
"""The page's whole style sheet."""

JS_GUARD = """
window.onerror=function(m){var d=document.documentElement;d.setAttribute('data-js','error');
var e=document.createElement('div');e.id='js-error';e.textContent='Script error: '+m;
(document.body||d).insertBefore(e,(document.body||d).firstChild);};
"""
"""Runs first: any later script error marks the page and shows itself."""

JS_MAIN = """
(function(){
function key(c){var t=c?c.textContent.trim():'';
if(/^-?[\\d,]+(\\.\\d+)?%?$/.test(t)){return parseFloat(t.replace(/[,%]/g,''));}return t.toLowerCase();}
function cmp(a,b){if(typeof a===typeof b){return a<b?-1:a>b?1:0;}return typeof a==='number'?-1:1;}
var heads=document.querySelectorAll('table.sortable th');
Array.prototype.forEach.call(heads,function(th){
th.tabIndex=0;th.title='Sort by this column';
function sort(){var table=th.closest('table'),body=table.tBodies[0],i=th.cellIndex;
var asc=th.getAttribute('aria-sort')!=='ascending';
Array.prototype.forEach.call(table.tHead.rows[0].cells,function(h){h.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',asc?'ascending':'descending');
var rows=Array.prototype.slice.call(body.rows);
rows.sort(function(x,y){var r=cmp(key(x.cells[i]),key(y.cells[i]));return asc?r:-r;});
rows.forEach(function(r){body.appendChild(r);});}
th.addEventListener('click',sort);
th.addEventListener('keydown',function(ev){if(ev.key==='Enter'||ev.key===' '){ev.preventDefault();sort();}});
});
if(document.documentElement.getAttribute('data-js')!=='error'){
document.documentElement.setAttribute('data-js','ok');}
})();
"""
"""Sortable tables (numbers as numbers, text case-insensitively), then the "ran fine" mark."""


def esc(value: Any) -> str:
    """Any value as HTML text (quotes too, so it is also safe inside an attribute)."""
    return html.escape("" if value is None else str(value), quote=True)


def _time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return utc(ts).strftime("%Y-%m-%d %H:%M:%S UTC")


def _duration(seconds: float) -> str:
    return duration_text(seconds)


def _size(n: float) -> str:
    return size_text(n)


def _figure(chart: Chart) -> str:
    return (
        f'<figure id="chart-{esc(chart.key)}" data-chart="{esc(chart.key)}">{chart.svg}'
        f"<figcaption>{esc(chart.title)}</figcaption></figure>"
    )


def _charts(charts: list[Chart | None]) -> str:
    shown = [c for c in charts if c is not None]
    return f'<div class="charts">{"".join(_figure(c) for c in shown)}</div>' if shown else ""


def render_table(table: Table, table_id: str) -> str:
    """One table, sortable, folded in a <details> when long; every cell escaped."""
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in table.headers)
    body = []
    for row in table.rows:
        cells = []
        for cell in row:
            text = esc(cell)
            numeric = isinstance(cell, int | float) or bool(_NUMERIC.fullmatch(str(cell)))
            if numeric:
                cells.append(f'<td class="num">{text}</td>')
            elif len(str(cell)) > LONG_CELL:
                cells.append(f'<td class="long" title="{text}"><div>{text}</div></td>')
            else:
                cells.append(f"<td>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    grid = (
        f'<div class="tablewrap"><table class="sortable" id="{esc(table_id)}" data-rows="{len(table.rows)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )
    if len(table.rows) > COLLAPSE_ROWS:
        return (
            f"<details><summary>{esc(table.title)} "
            f'<span class="muted">({len(table.rows)} rows)</span></summary>{grid}</details>'
        )
    return f"<h3>{esc(table.title)}</h3>{grid}"


def _overview(summary: dict[str, Any], series: TrafficSeries | None, stdin: bool) -> str:
    cap = summary.get("capture") or {}
    flows = summary.get("flows") or {}
    cards = [
        ("packets", f"{cap.get('packets', 0):,}"),
        ("bytes on the wire", _size(int(cap.get("bytes") or 0))),
        ("duration", _duration(float(cap.get("duration") or 0.0))),
        ("file size", _size(sum(int(f.get("file_size") or 0) for f in cap.get("files", [])))),
        ("data rate", "-" if cap.get("data_rate") is None else f"{_size(cap['data_rate'])}/s"),
        ("average packet", "-" if cap.get("avg_packet_size") is None else f"{cap['avg_packet_size']:,.1f} B"),
        ("conversations", f"{flows.get('count', 0):,}"),
        ("first packet", _time(cap.get("first_ts"))),
        ("last packet", _time(cap.get("last_ts"))),
        ("malformed", f"{sum((summary.get('malformed') or {}).values()):,}"),
    ]
    html_cards = "".join(
        f'<div class="card" data-key="{esc(k)}"><b>{esc(v)}</b><span>{esc(k)}</span></div>' for k, v in cards
    )
    traffic = traffic_chart(series)
    note = ""
    if traffic is None and stdin:
        note = f'<p class="muted">{esc(STDIN_NOTE)}</p>'
    return (
        f'<section id="sec-overview" data-section="overview"><h2>Overview</h2>'
        f'<div class="cards">{html_cards}</div>{_charts([traffic])}{note}</section>'
    )


def _section(section: Section, summary: dict[str, Any], with_charts: bool) -> str:
    charts = [build(summary) for build in SECTION_CHARTS.get(section.name, [])] if with_charts else []
    tables = "".join(render_table(t, f"t-{section.name}-{i}") for i, t in enumerate(section.tables))
    return (
        f'<section id="sec-{esc(section.name)}" data-section="{esc(section.name)}">'
        f"<h2>{esc(section.title)}</h2>{_charts(charts)}{tables}</section>"
    )


def render_html(
    summary: dict[str, Any],
    series: TrafficSeries | None = None,
    sections: list[str] | None = None,
    charts: bool = True,
    stdin: bool = False,
    top: int | None = None,
) -> str:
    """The whole report as one HTML document (`sections` limits the protocol sections shown;
    `charts=False` leaves matplotlib out entirely)."""
    cap = summary.get("capture") or {}
    paths = [str(f.get("path")) for f in cap.get("files", [])]
    shown = report_sections(summary, sections, top)
    nav = "".join(f'<a href="#sec-{esc(s.name)}">{esc(s.title)}</a>' for s in shown)
    body = "".join(_section(s, summary, charts) for s in shown)
    overview = _overview(summary, series if charts else None, stdin)
    title = "pcap-analyzer report: " + ", ".join(paths)
    errors = [f for f in cap.get("files", []) if f.get("error")]
    error_note = "".join(
        f'<p class="muted">{esc(f.get("path"))}: {esc(f.get("error"))} '
        f"(at byte {esc(f.get('error_offset'))})</p>"
        for f in errors
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en" data-js="off"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="pcap-analyzer {esc(__version__)}">'
        f"<title>{esc(title)}</title><style>{CSS}</style><script>{JS_GUARD}</script></head>\n"
        f"<body><header><h1>pcap-analyzer report</h1><p>{esc(', '.join(paths) or 'no input')} · "
        f"{esc(cap.get('packets', 0))} packets · {esc(_time(cap.get('first_ts')))} to "
        f"{esc(_time(cap.get('last_ts')))}</p>{error_note}</header>\n"
        f'<nav><a href="#sec-overview">Overview</a>{nav}</nav>\n'
        f"<main>{overview}\n{body}</main>\n"
        f"<footer>Generated by pcap-analyzer {esc(__version__)} from summary schema "
        f"{esc(summary.get('schema'))}. Times are packet times in UTC. Click a column header to sort."
        f"</footer><script>{JS_MAIN}</script></body></html>\n"
    )
