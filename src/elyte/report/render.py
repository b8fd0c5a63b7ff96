"""Render the report: one self-contained HTML file and a Markdown summary.

The HTML has no external assets — styles inline, figures as base64 PNG ``data:`` URIs —
so it opens offline and can be mailed as one file.
"""

from __future__ import annotations

import base64
import html
from datetime import UTC, datetime
from pathlib import Path

from elyte.jsonio import atomic_write_text
from elyte.report.checklist import Checklist, checklist
from elyte.report.data import ReportData, Table, load_report_data, observable_table, verdict
from elyte.report.figures import system_figures
from elyte.report.ion_pairs import ion_pairing_lines
from elyte.report.stability import thermo_figure

#: Said once per table, in its header: what the ± of every value is.
OBSERVABLE_HEADER = "observable (value ± 1 standard error)"
VALUE_HEADER = "value ± 1 standard error"

HTML_NAME = "report.html"
MD_NAME = "report.md"

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;
color:#1b1b1b;padding:0 1em;line-height:1.45}
h1{border-bottom:2px solid #335;padding-bottom:.2em}h2{margin-top:2em;color:#335}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}
th,td{border:1px solid #bbb;padding:.3em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#e8ebf3}
td.ok{background:#e3f4e1}td.bad{background:#fbe3e1}td.ref{background:#f5f3e6}
.verdict{background:#f4f6fa;border-left:4px solid #335;padding:.5em 1em;margin:.6em 0}
.unstable{border-left-color:#b22}figure{margin:1.2em 0}figure img{max-width:100%}
figcaption{font-size:.9em;color:#555}.meta{color:#555;font-size:.9em}
td.muted{color:#888;font-style:italic;background:#f4f4f4}.caveat{color:#7a4b00}
.plan{font-family:ui-monospace,monospace;font-size:.9em}
details{margin:1em 0}pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:.85em}
"""


def write_report(root: str | Path) -> tuple[Path, Path]:
    """Write ``report.html`` and ``report.md`` into the campaign folder ``root``."""
    data = load_report_data(root)
    html_text, md_text = render(data)
    root = Path(root)
    atomic_write_text(root / HTML_NAME, html_text)
    atomic_write_text(root / MD_NAME, md_text)
    return root / HTML_NAME, root / MD_NAME


def render(data: ReportData) -> tuple[str, str]:
    """The HTML and Markdown texts of the report."""
    e = html.escape
    n_runs = len(data.runs)
    n_ok = sum(r.get("status") == "completed" for r in data.runs)
    camp = data.campaign.get("campaign") or {}
    temps = (camp.get("conditions") or {}).get("temperatures") or []
    created = datetime.now(UTC).isoformat(timespec="seconds")
    smoke = (
        " (smoke mode: a few steps only — numbers are not meaningful)"
        if data.campaign.get("smoke")
        else ""
    )
    head = (
        f"{n_runs} runs ({n_ok} completed, {n_runs - n_ok} failed); temperatures "
        f"{', '.join(f'{t:g}' for t in temps)} K; replicas {camp.get('replicas', '?')}; "
        f"elyte {data.campaign.get('elyte_version', '?')}; generated {created}{smoke}"
    )
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>elyte report: {e(data.name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Campaign {e(data.name)}</h1><p class='meta'>{e(head)}</p>",
    ]
    md = [f"# Campaign {data.name}", "", head, ""]
    for system in data.systems():
        table = observable_table(data, system)
        parts.append(f"<h2 id='{e(system)}'>System {e(system)}</h2>")
        md += [f"## System {system}", ""]
        parts.append(_html_table(table))
        md += _md_table(table) + [""]
        pairing = ion_pairing_lines(data, system)
        if pairing:
            parts.append("<h3>Ion pairing</h3><ul>")
            parts += [f"<li class='pairing'>{e(line)}</li>" for line in pairing]
            parts.append("</ul>")
            md += ["### Ion pairing", ""] + [f"- {line}" for line in pairing] + [""]
        parts.append("<h3>Verdict per potential</h3>")
        md += ["### Verdict per potential", ""]
        for pot in data.potentials(system):
            text = verdict(data, system, pot, table)
            cls = "verdict unstable" if "UNSTABLE" in text else "verdict"
            parts.append(f"<p class='{cls}'>{e(text)}</p>")
            md += [f"- {text}"]
            cl = checklist(data, system, pot, table)
            png = thermo_figure(data, system, pot)
            parts.append(_checklist_html(cl, png))
            md += _checklist_md(cl)
        md.append("")
        figs = system_figures(data, system)
        if figs:
            parts.append("<h3>Figures</h3>")
        for title, png in figs:
            b64 = base64.b64encode(png).decode("ascii")
            parts.append(
                f"<figure><img alt='{e(title)}' src='data:image/png;base64,{b64}'>"
                f"<figcaption>{e(title)} — {e(system)}</figcaption></figure>"
            )
        failures = [
            r for r in data.runs if r["system"] == system and r.get("status") != "completed"
        ]
        if failures:
            parts.append(
                "<h3>Failed runs</h3><table><thead><tr><th>run</th><th>failure</th>"
                "<th>simulated ps</th></tr></thead><tbody>"
            )
            md += ["### Failed runs", "", "| run | failure | simulated ps |", "|---|---|---|"]
            for r in failures:
                ps = r.get("simulated_ps")
                ps_text = "–" if ps is None else f"{ps:.3g}"
                parts.append(
                    f"<tr><td>{e(r['run_id'])}</td><td>{e(str(r.get('failure')))}</td>"
                    f"<td>{ps_text}</td></tr>"
                )
                md.append(f"| {r['run_id']} | {_md_escape(str(r.get('failure')))} | {ps_text} |")
            parts.append("</tbody></table>")
            md.append("")
    parts.append(_provenance_html(data))
    parts.append("</body></html>")
    return "\n".join(parts), "\n".join(md) + "\n"


def _checklist_html(cl: Checklist, png: bytes | None) -> str:
    e = html.escape
    mark = {True: "✔", False: "✘", None: "—"}[cl.stable]
    out = [f"<h4>Checklist: {e(cl.potential)}</h4><ul class='checklist'>"]
    out.append(f"<li>{mark} stable — {e(cl.stable_text)}</li></ul>")
    if png is not None:
        b64 = base64.b64encode(png).decode("ascii")
        out.append(
            f"<figure><img alt='T(t) and E(t)' src='data:image/png;base64,{b64}'>"
            f"<figcaption>Temperature against its target, and energy vs time — {e(cl.potential)}"
            "</figcaption></figure>"
        )
    out.append(
        f"<table><thead><tr><th>observable</th><th>{e(VALUE_HEADER)}</th><th>status</th>"
        "<th>reference</th><th>within error</th></tr></thead><tbody>"
    )
    for name, value, status, ref, ok in cl.rows:
        muted = "" if status == "measured" else " class='muted'"
        out.append(
            f"<tr><td>{e(name)}</td><td{muted}>{e(value)}</td><td{muted}>{e(status)}</td>"
            f"<td>{e(ref)}</td><td>{ok}</td></tr>"
        )
    out.append("</tbody></table>")
    if cl.plans:
        out.append("<p>What a converged answer costs (planner, from this run's throughput):</p>")
        out.append("<ul>" + "".join(f"<li class='plan'>{e(p)}</li>" for p in cl.plans) + "</ul>")
    if cl.caveats:
        out.append("<p><b>Caveats</b></p><ul>")
        out += [f"<li class='caveat'>{e(c)}</li>" for c in cl.caveats]
        out.append("</ul>")
    if cl.routine:
        out.append(f"<details><summary>Routine notes ({len(cl.routine)})</summary><ul>")
        out += [f"<li>{e(n)}</li>" for n in cl.routine]
        out.append("</ul></details>")
    return "".join(out)


def _checklist_md(cl: Checklist) -> list[str]:
    mark = {True: "✔", False: "✘", None: "—"}[cl.stable]
    lines = ["", f"#### Checklist: {cl.potential}", "", f"- {mark} stable — {cl.stable_text}"]
    lines += [
        "",
        f"| observable | {VALUE_HEADER} | status | reference | within error |",
        "|---|---|---|---|---|",
    ]
    for row in cl.rows:
        lines.append("| " + " | ".join(_md_escape(x) for x in row) + " |")
    lines += [""] + [f"- plan: {p}" for p in cl.plans]
    lines += [f"- caveat: {c}" for c in cl.caveats]
    if cl.routine:
        lines += ["", "<details><summary>Routine notes</summary>", ""]
        lines += [f"- {n}" for n in cl.routine] + ["", "</details>"]
    return lines + [""]


def _html_table(table: Table) -> str:
    e = html.escape
    out = [f"<table><thead><tr><th>{e(OBSERVABLE_HEADER)}</th>"]
    out += [f"<th>{e(c)}</th>" for c in table.columns]
    out.append("</tr></thead><tbody>")
    for name, cells in table.rows:
        out.append(f"<tr><td>{e(name)}</td>")
        for i, cell in enumerate(cells):
            cls = ""
            if cell.agrees is True:
                cls = " class='ok'"
            elif cell.agrees is False:
                cls = " class='bad'"
            elif table.reference_column and i == len(cells) - 1:
                cls = " class='ref'"
            if cell.reason:
                cls = " class='muted'"
                out.append(f"<td{cls} title='{e(cell.reason)}'>{e(str(cell))}</td>")
                continue
            out.append(f"<td{cls}>{e(str(cell))}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    if table.reference_column:
        out.append(
            "<p class='meta'>Green: within 2 combined standard errors of the reference (a "
            "reference without an uncertainty gets a default tolerance: density 1 %, CN 5 %, "
            "transport and Ea 10 %); red: outside; grey: not a measurement (not compared).</p>"
        )
    reasons = _status_notes(table)
    if reasons:
        out.append("<p class='meta'>Status of values not measured:</p><ul class='meta'>")
        out += [f"<li>{e(r)}</li>" for r in reasons]
        out.append("</ul>")
    return "".join(out)


def _status_notes(table: Table) -> list[str]:
    """``"D[Li] / 1e-9 m^2/s, chgnet: apparent: no diffusive regime"`` per non-measured cell.

    A reason that quotes an earlier row's (σ from an apparent D) refers to it instead
    of repeating it."""
    notes: list[str] = []
    said: list[tuple[str, str]] = []  # (reason, the row that gave it)
    for name, cells in table.rows:
        for col, cell in zip(table.columns, cells, strict=False):
            if not cell.reason:
                continue
            text = cell.estimate.reason if cell.estimate is not None else ""
            for earlier, where in said:
                if len(earlier) >= 20 and earlier in text:  # a phrase, not a word
                    text = text.replace(earlier, f"as for {where}")
            if cell.estimate is not None and cell.estimate.reason:
                said.append((cell.estimate.reason, name.split(" / ")[0]))
            reason = f"{cell.estimate.status}: {text}" if text else cell.reason
            notes.append(f"{name}, {col}: {reason}")
    return notes


def _md_table(table: Table) -> list[str]:
    lines = [f"| {OBSERVABLE_HEADER} | " + " | ".join(table.columns) + " |"]
    lines.append("|---" * (len(table.columns) + 1) + "|")
    for name, cells in table.rows:
        texts = []
        for cell in cells:
            mark = " ✓" if cell.agrees is True else (" ✗" if cell.agrees is False else "")
            texts.append(_md_escape(str(cell)) + mark)
        lines.append(f"| {_md_escape(name)} | " + " | ".join(texts) + " |")
    if table.reference_column:
        lines += ["", "✓ within 2 combined standard errors of the reference; ✗ outside."]
    lines += [f"- {r}" for r in _status_notes(table)]
    return lines


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _provenance_html(data: ReportData) -> str:
    e = html.escape
    packages: dict[str, str] = {}
    hosts = set()
    potentials: dict[str, str] = {}
    for r in data.runs:
        prov = r.get("provenance") or {}
        packages.update(prov.get("packages") or {})
        if r.get("host"):
            hosts.add(r["host"])
        meta = prov.get("potential") or {}
        h = meta.get("file_sha256") or meta.get("file_hash") or meta.get("sha256")
        if h:
            potentials[r["potential"]] = str(h)
    rows = "".join(f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in sorted(packages.items()))
    pots = "".join(
        f"<tr><td>{e(k)}</td><td>{e(v)}</td></tr>" for k, v in sorted(potentials.items())
    )
    toml = data.campaign.get("toml") or ""
    return (
        "<details><summary>Provenance</summary>"
        f"<p class='meta'>hosts: {e(', '.join(sorted(hosts)) or '–')}</p>"
        f"<table><thead><tr><th>package</th><th>version</th></tr></thead><tbody>{rows}"
        "</tbody></table>"
        + (
            f"<table><thead><tr><th>potential</th><th>model hash</th></tr></thead>"
            f"<tbody>{pots}</tbody></table>"
            if pots
            else ""
        )
        + (f"<pre>{e(toml)}</pre>" if toml else "")
        + "</details>"
    )
