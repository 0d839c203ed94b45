"""The reports as Markdown (terminal and email), CSV (one tidy table) and xlsx (a sheet per section),
and `show`: how a figure reads on every page, the reports' and the live dashboard's.

Shares are fractions in the frames. A person opening the CSV in a spreadsheet expects to see
"25%" beside a target of ">70%", so the CSV writes them as percent text, which Excel, LibreOffice
and Google Sheets read back as the number 0.25; the xlsx keeps the number and gives the cell a
percent format (money a currency format, minutes one decimal).
"""
from __future__ import annotations

import io
import math
import re
from html import escape
from typing import Any

import pandas as pd
from openpyxl.utils import get_column_letter

from sheets_schema.cells import neutralize

from automations.one_line import one_line

from .figures import PRODUCER_COLUMNS, SOURCE_COLUMNS, Figure, MonthlyReport
from .frames import Month

DASH = "--"
SOURCE_KINDS = {"contacted_5_pct": "pct", "quoted_pct": "pct", "bound_pct": "pct", "premium": "money",
                "cost": "money", "cost_per_lead": "money", "cost_per_bind": "money", "avg_premium": "money",
                "commission": "money", "roi": "pct"}
PRODUCER_KINDS = {"contacted_5_pct": "pct", "avg_response": "minutes", "close_rate": "pct", "premium": "money"}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def round_half_up(value: float, places: int = 1) -> float:
    """ROUND() as spreadsheets do it (2.25 -> 2.3), not Python's banker's rounding."""
    scale = 10 ** places
    return math.floor(value * scale + 0.5) / scale


def show(value: Any, kind: str = "count") -> str:
    """A figure as people read it: "44%", "7.8 min" (rounded as the sheet's ROUND), "$1,250.00",
    "$2,700" (money0: whole dollars), "1,204"; "--" when there is nothing to show."""
    if _missing(value):
        return DASH
    if kind == "pct":
        return f"{value * 100:.0f}%"
    if kind == "minutes":
        return f"{round_half_up(value):g} min"
    if kind == "money":
        return f"${value:,.2f}"
    if kind == "money0":
        return f"${value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def md_text(text: Any) -> str:
    """Text from the public (a source, a name) as literal Markdown: one line, no links, no emphasis,
    no HTML, no table cell breakouts."""
    plain = one_line(str(text))
    plain = plain.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", plain)


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


TEXT_COLUMNS = ("source", "producer", "line")


def _cells(frame: pd.DataFrame, columns: dict[str, str], kinds: dict[str, str]) -> list[list[str]]:
    return [[show(_plain(row[c]), kinds.get(c, "count")) if c not in TEXT_COLUMNS
             else str(row[c]) for c in columns] for _, row in frame.iterrows()]


def _md_cells(frame: pd.DataFrame, columns: dict[str, str], kinds: dict[str, str]) -> list[list[str]]:
    text = [i for i, c in enumerate(columns) if c in TEXT_COLUMNS]
    return [[md_text(cell) if i in text else cell for i, cell in enumerate(row)]
            for row in _cells(frame, columns, kinds)]


def _frame_md(frame: pd.DataFrame, columns: dict[str, str], kinds: dict[str, str]) -> str:
    return _md_table(list(columns.values()), _md_cells(frame, columns, kinds))


def _frame_html(frame: pd.DataFrame, columns: dict[str, str], kinds: dict[str, str]) -> str:
    """An HTML table; every cell escaped (a source name may come from a public form)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in columns.values())
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
                   for row in _cells(frame, columns, kinds))
    return (f'<table border="1" cellspacing="0" cellpadding="4" style="border-collapse: collapse">'
            f"<tr>{head}</tr>{body}</table>")


def _plain(value: Any) -> Any:
    """numpy scalars -> Python numbers (so ints print as ints)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and not math.isnan(value):
        return value
    return value


def sources_markdown(frame: pd.DataFrame, month: Month, agency: str = "") -> str:
    title = f"# Lead source report - {month}" + (f" - {md_text(agency)}" if agency else "")
    return f"{title}\n\n{_frame_md(frame, SOURCE_COLUMNS, SOURCE_KINDS)}\n"


def _figure_line(f: Figure) -> str:
    text = f"- {f.label}: **{show(f.value, f.kind)}**"
    if f.target is not None:
        verdict = "" if f.met is None else (" - met" if f.met else " - missed")
        text += f" (target: {f.target.text}{verdict})"
    return text


def _section_tables(report: MonthlyReport, section: str) -> list[tuple[str, pd.DataFrame, dict[str, str], dict]]:
    """The breakdowns the guide lists under each section: (caption, frame, columns, kinds)."""
    if section == "Volume":
        return [("By source", report.by_source, {"source": "Source", "leads": "Leads"}, {}),
                ("By line of business", report.by_line, {"line": "Line", "leads": "Leads"}, {})]
    if section == "Distribution":
        per = report.producers[["producer", "leads"]].sort_values(["leads", "producer"], ascending=[False, True])
        return [("Leads per producer", per, {"producer": "Producer", "leads": "Leads"}, {})]
    if section == "Cost":
        return [("Lead source ROI", report.sources, SOURCE_COLUMNS, SOURCE_KINDS)]
    return []


def _title(report: MonthlyReport) -> str:
    return f"Lead distribution monthly report - {report.month} - {report.agency}"


def monthly_markdown(report: MonthlyReport) -> str:
    parts = [f"# {md_text(_title(report))}", ""]
    for section, figures in report.sections.items():
        parts += [f"## {section}", *(_figure_line(f) for f in figures)]
        for caption, frame, columns, kinds in _section_tables(report, section):
            parts += ["", f"{caption}:", "", _frame_md(frame, columns, kinds)]
        parts.append("")
    parts += ["## Producer performance", "Ranked by close rate, then response time.", "",
              _frame_md(report.producers, PRODUCER_COLUMNS, PRODUCER_KINDS), ""]
    return "\n".join(parts)


def monthly_html(report: MonthlyReport) -> str:
    """The same report for an email client: real tables instead of Markdown pipes."""
    parts = [f"<!doctype html><html><body style=\"font-family: sans-serif\"><h1>{escape(_title(report))}</h1>"]
    for section, figures in report.sections.items():
        items = "".join(f"<li>{escape(_figure_line(f)[2:]).replace('**', '')}</li>" for f in figures)
        parts.append(f"<h2>{escape(section)}</h2><ul>{items}</ul>")
        for caption, frame, columns, kinds in _section_tables(report, section):
            parts.append(f"<p>{escape(caption)}:</p>{_frame_html(frame, columns, kinds)}")
    parts.append("<h2>Producer performance</h2><p>Ranked by close rate, then response time.</p>"
                 + _frame_html(report.producers, PRODUCER_COLUMNS, PRODUCER_KINDS) + "</body></html>")
    return "\n".join(parts)


def summary_frame(report: MonthlyReport) -> pd.DataFrame:
    """Every monthly figure as one tidy table: section, item, value, target, met."""
    return _summary(report)[0]


def _summary(report: MonthlyReport) -> tuple[pd.DataFrame, list[str]]:
    """The summary table, and the kind of each row's value (pct, money, minutes, count)."""
    rows, kinds = [], []
    for section, figures in report.sections.items():
        rows += [{"section": section, "item": f.label, "value": _plain(f.value), "target": f.target.text if f.target else "",
                  "met": "" if f.met is None else ("yes" if f.met else "no")} for f in figures]
        kinds += [f.kind for f in figures]
    for table, section, label in ((report.by_source, "Volume by source", "source"),
                                  (report.by_line, "Volume by line", "line"),
                                  (report.producers, "Leads per producer", "producer")):
        rows += [{"section": section, "item": r[label], "value": int(r["leads"]), "target": "", "met": ""}
                 for _, r in table.iterrows()]
        kinds += ["count"] * len(table)
    return pd.DataFrame(rows, columns=["section", "item", "value", "target", "met"], dtype=object), kinds


def safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text a spreadsheet would evaluate (a source named "=cmd|...") is neutralized in CSV and xlsx."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = pd.Series([neutralize(v) if isinstance(v, str) else v for v in out[column]],
                                    index=out.index, dtype=object)
    return out


Kinds = dict[str, str | list[str]]  # column -> the kind of all its cells, or one kind per row


def _renamed(kinds: dict[str, str], columns: dict[str, str]) -> Kinds:
    return {columns[k]: kind for k, kind in kinds.items()}


def _row_kinds(frame: pd.DataFrame, kinds: Kinds) -> dict[str, list[str]]:
    return {c: (k if isinstance(k, list) else [k] * len(frame)) for c, k in kinds.items() if c in frame.columns}


def csv_value(value: Any, kind: str) -> Any:
    """A share as percent text ("33.3%", read back as 0.333 by a spreadsheet); money to the cent."""
    if _missing(value) or isinstance(value, str):
        return value
    if kind == "pct":
        return f"{round_half_up(value * 100):g}%"
    if kind == "money":
        return round_half_up(value, 2)
    return value


def to_csv(frame: pd.DataFrame, kinds: Kinds | None = None) -> str:
    out = safe(frame)  # our own "-100%" is a number to a spreadsheet, not text to neutralize
    for column, per_row in _row_kinds(out, kinds or {}).items():
        out[column] = pd.Series([csv_value(v, k) for v, k in zip(out[column], per_row)], index=out.index,
                                dtype=object)
    return out.to_csv(index=False, lineterminator="\n")


def sources_csv(frame: pd.DataFrame) -> str:
    return to_csv(frame.rename(columns=SOURCE_COLUMNS), _renamed(SOURCE_KINDS, SOURCE_COLUMNS))


def monthly_csv(report: MonthlyReport) -> str:
    frame, kinds = _summary(report)
    return to_csv(frame, {"value": kinds})


XLSX_FORMATS = {"pct": "0%", "money": '"$"#,##0.00', "minutes": "0.0"}


def _xlsx(sheets: dict[str, tuple[pd.DataFrame, Kinds]]) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, (frame, kinds) in sheets.items():
            safe(frame).to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            for column in sheet.columns:
                sheet.column_dimensions[column[0].column_letter].width = 18
            for column, per_row in _row_kinds(frame, kinds).items():
                letter = get_column_letter(list(frame.columns).index(column) + 1)
                for row, kind in enumerate(per_row, start=2):
                    if kind in XLSX_FORMATS:
                        sheet[f"{letter}{row}"].number_format = XLSX_FORMATS[kind]
    return buffer.getvalue()


def sources_xlsx(frame: pd.DataFrame) -> bytes:
    return _xlsx({"Sources": (frame.rename(columns=SOURCE_COLUMNS), _renamed(SOURCE_KINDS, SOURCE_COLUMNS))})


def monthly_xlsx(report: MonthlyReport) -> bytes:
    summary, kinds = _summary(report)
    return _xlsx({"Summary": (summary, {"value": kinds}),
                  "Sources": (report.sources.rename(columns=SOURCE_COLUMNS), _renamed(SOURCE_KINDS, SOURCE_COLUMNS)),
                  "Producers": (report.producers.rename(columns=PRODUCER_COLUMNS),
                                _renamed(PRODUCER_KINDS, PRODUCER_COLUMNS)),
                  "By line": (report.by_line.rename(columns={"line": "Line", "leads": "Leads"}), {})})
