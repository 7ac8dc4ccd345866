"""Excel cell helpers shared by every export: text stays text, widths fit CJK text."""

import unicodedata
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font


def text_cell(sheet: Any, value: str, *, bold: bool = False, wrap: bool = False) -> Any:
    """A cell that holds ``value`` as a string, never as a formula.

    openpyxl turns any string starting with "=" into a formula; a topic such as
    "=HYPERLINK(...)" must arrive in Excel as the text the person typed. The quote prefix keeps
    Excel from re-reading it as a formula when someone edits the cell.
    """
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str) and value:
        cell.data_type = "s"
        if value[0] in "=+-@":
            cell.style = "Normal"
            cell.quotePrefix = True
    if bold:
        cell.font = Font(bold=True)
    if wrap:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    return cell


def column_width(text: str) -> int:
    """The width of the longest line of ``text`` in Excel character units (CJK counts twice)."""
    lines = str(text).splitlines() or [""]
    return max(sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in lines)


def write_table(
    workbook: Any,
    *,
    sheet_title: str,
    headers: list[str],
    rows: list[list[str]],
    max_widths: list[int],
    title: str = "",
) -> Any:
    """One write-only sheet: an optional title row and a blank row, the headers, the rows.

    Widths must be set before the first row in write-only mode, so callers render the rows to
    text first; each column fits its widest line, within 8 and its ``max_widths`` entry.
    """
    from openpyxl.utils import get_column_letter

    sheet = workbook.create_sheet(title=sheet_title[:31])  # Excel's limit for sheet names
    for index, limit in enumerate(max_widths, start=1):
        widest = max([column_width(headers[index - 1])] + [column_width(r[index - 1]) for r in rows])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(widest + 2, 8), limit + 2)
    if title:
        sheet.append([text_cell(sheet, title, bold=True)])
        sheet.append([])
    sheet.freeze_panes = "A4" if title else "A2"
    sheet.append([text_cell(sheet, header, bold=True) for header in headers])
    for row in rows:
        sheet.append([text_cell(sheet, value, wrap=True) for value in row])
    return sheet
