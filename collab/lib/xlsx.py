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
