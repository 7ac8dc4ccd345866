"""Excel workbooks shared by every export.

- Typed cells: dates and times as Excel dates with Chinese formats (2026年10月15日), counts and
  amounts as numbers (#,##0), shares as percentages, so people can sum, sort and filter.
- Text stays text: openpyxl turns any string starting with "=" into a formula; a topic such as
  "=HYPERLINK(...)" must arrive as the text the person typed, and the quote prefix keeps Excel
  from re-reading "=", "+", "-" or "@" as a formula when someone edits the cell.
- Named styles created once per workbook; each cell copies a prepared style array.
- Streamed: ``XlsxBook.stream()`` yields the file while rows are still being read, sheet by
  sheet, in openpyxl's write-only mode, so the first byte leaves at once and memory stays flat.
"""

import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import chain, islice
from pathlib import Path
from typing import IO, Any

from django.utils import timezone, translation
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.packaging.relationship import RelationshipList
from openpyxl.styles import Alignment, Font, NamedStyle
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter
from openpyxl.xml.functions import tostring

from collab.lib.memory import collector_at_rest, give_back

DATE_FORMAT = 'yyyy"年"m"月"d"日"'
DATETIME_FORMAT = 'yyyy"年"m"月"d"日" hh:mm'
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0%"

_TOP = Alignment(vertical="top")
_STYLES: dict[str, dict[str, Any]] = {
    "collab-header": {"font": Font(bold=True), "alignment": Alignment(wrap_text=True, vertical="top")},
    "collab-text": {"alignment": Alignment(wrap_text=True, vertical="top")},
    "collab-date": {"number_format": DATE_FORMAT, "alignment": Alignment(horizontal="left", vertical="top")},
    "collab-datetime": {
        "number_format": DATETIME_FORMAT,
        "alignment": Alignment(horizontal="left", vertical="top"),
    },
    "collab-integer": {"number_format": INTEGER_FORMAT, "alignment": _TOP},
    "collab-decimal": {"number_format": DECIMAL_FORMAT, "alignment": _TOP},
    "collab-percent": {"number_format": PERCENT_FORMAT, "alignment": _TOP},
}
# How wide a typed value shows, in Excel character units.
_SHOWN_WIDTH = {"collab-date": 14, "collab-datetime": 20, "collab-percent": 5}


class Percent(float):
    """A share from 0 to 1, written as a percentage cell (0.45 shows as 45%)."""


@dataclass(frozen=True)
class Bold:
    """A row of headings inside a free-form sheet."""

    values: Sequence[Any]


def column_width(text: str) -> int:
    """The width of the longest line of ``text`` in Excel character units (CJK counts twice)."""
    lines = str(text).splitlines() or [""]
    return max(sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line) for line in lines)


def _style_of(value: Any) -> str:
    if (style := _STYLE_OF_TYPE.get(type(value))) is not None:
        return style  # the common types at once; subclasses (Percent, SafeString) below
    if isinstance(value, datetime):
        return "collab-datetime"
    if isinstance(value, date):
        return "collab-date"
    if isinstance(value, Percent):
        return "collab-percent"
    if isinstance(value, int) and not isinstance(value, bool):
        return "collab-integer"
    if isinstance(value, float | Decimal):
        return "collab-decimal"
    return "collab-text"


_STYLE_OF_TYPE = {str: "collab-text", date: "collab-date", datetime: "collab-datetime", int: "collab-integer"}


def shown_width(value: Any) -> int:
    style = _style_of(value)
    if style in _SHOWN_WIDTH:
        return _SHOWN_WIDTH[style]
    if value is None:
        return 0
    return column_width(f"{value:,}" if style in ("collab-integer", "collab-decimal") else str(value))


@dataclass
class _Sheet:
    title: str
    rows: Iterable[Any]
    widths: list[int]
    headers: list[str] | None = None
    heading: str = ""
    fit: bool = True


@dataclass
class _Sink:
    """A write-only file for the zip archive: collects what was written until drained."""

    chunks: list[bytes] = field(default_factory=list)

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


class _StreamedSheetsWriter(ExcelWriter):
    """openpyxl's package writer for sheets already streamed into the archive."""

    def write_worksheet(self, ws: Any) -> None:
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        ws._rels = RelationshipList()
        self.manifest.append(ws)


_SHEET_START = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
_SHEET_END = b"</sheetData></worksheet>"
_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")  # not allowed in XML 1.0 (openpyxl refuses them)
# What a text cell cannot hold as it is: markup, and the characters above. One search finds
# none in almost every cell of an export, which is then written as it is.
_SPECIAL = re.compile(r"[\000-\010\013\014\016-\037&<>]")
# A text starting so would be read back as a formula when the cell is edited: quote-prefixed.
_FORMULA_START = ("=", "+", "-", "@")
_EPOCH_DAYS = date(1899, 12, 30).toordinal()  # Excel's day 0 (its 1900 leap-year bug included)


def _escape(text: str) -> str:
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("", text)
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _text(escaped: str) -> str:
    """A text element; told to keep its spaces only where a reader could drop some (at either
    end), as openpyxl does: the attribute was an eighth of an export's bytes."""
    if escaped != escaped.strip():
        return f'<t xml:space="preserve">{escaped}</t>'
    return f"<t>{escaped}</t>"


class _CellWriter:
    """Cells as SpreadsheetML text, written straight into the sheet's part.

    openpyxl's own cell writer builds an element tree per cell and resolves its style on every
    cell (about 0.5 ms per row of 11 cells: 50 s for 100,000 rows). Here each style's index in
    the workbook's style table is looked up once per sheet, and a cell is one formatted string:
    text inline (``t="inlineStr"``, so no shared-string table grows in memory), numbers and
    dates as values with their style.
    """

    def __init__(self, sheet: Any) -> None:
        self.ids: dict[str, int] = {}
        for name in _STYLES:
            probe = Cell(sheet, row=1, column=1)
            probe.style = name
            self.ids[name] = probe.style_id
            probe.quotePrefix = True  # Excel keeps "=1+1" text when the cell is edited
            self.ids[name + "-quoted"] = probe.style_id
        self.letters = [get_column_letter(n) for n in range(1, 101)]

    def row(self, number: int, values: Sequence[Any], *, bold: bool = False) -> str:
        letters = self.letters
        while len(letters) < len(values):
            letters.append(get_column_letter(len(letters) + 1))
        text, quoted = self.ids["collab-text"], self.ids["collab-text-quoted"]
        cells = [f'<row r="{number}">']
        add = cells.append
        for letter, value in zip(letters, values, strict=False):  # letters: at least as many
            if value.__class__ is str and not bold:
                # Most cells of an export: plain text, written here without the general path.
                if not value:
                    continue
                # Markup, control characters or spaces at either end: the general path below.
                # (str.strip gives the same text back when there is nothing to strip.)
                if value != value.strip() or _SPECIAL.search(value) is not None:
                    add(self.cell(f"{letter}{number}", value, bold))
                else:
                    add(
                        f'<c r="{letter}{number}" s="{quoted if value.startswith(_FORMULA_START) else text}"'
                        f' t="inlineStr"><is><t>{value}</t></is></c>'
                    )
            elif value is not None and value != "":
                add(self.cell(f"{letter}{number}", value, bold))
        add("</row>")
        return "".join(cells)

    def cell(self, ref: str, value: Any, bold: bool) -> str:
        if isinstance(value, Promise):
            value = str(value)
        style = "collab-header" if bold else _style_of(value)
        if style == "collab-text" or bold:
            text = value if isinstance(value, str) else str(value)
            if text[:1] in _FORMULA_START:
                style += "-quoted"
            return f'<c r="{ref}" s="{self.ids[style]}" t="inlineStr"><is>{_text(_escape(text))}</is></c>'

        if style == "collab-datetime":
            if timezone.is_aware(value):
                value = timezone.localtime(value).replace(tzinfo=None)
            serial: Any = (
                value.toordinal()
                - _EPOCH_DAYS
                + (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400
            )
        elif style == "collab-date":
            serial = value.toordinal() - _EPOCH_DAYS
        elif isinstance(value, float):
            serial = repr(value)
        else:
            serial = value
        return f'<c r="{ref}" s="{self.ids[style]}"><v>{serial}</v></c>'


class XlsxBook:
    """A workbook described sheet by sheet, written when streamed or saved.

    The active language and time zone are taken when the book is made, so rows read while the
    response streams are rendered for the same reader.
    """

    PEEK = 200  # rows read ahead of writing to fit the column widths
    CHUNK = 500  # rows between two pieces of the streamed file
    GIVE_BACK_ROWS = 5000  # after a book this long, the memory it used is given back (0.1 s)

    def __init__(self, title: str = "") -> None:
        self.title = title
        self.language = translation.get_language()
        self.zone = timezone.get_current_timezone()
        self.sheets: list[_Sheet] = []
        self.row_count = 0

    def table(
        self,
        *,
        sheet_title: str,
        headers: list[str],
        rows: Iterable[Sequence[Any]],
        max_widths: list[int],
        title: str = "",
    ) -> None:
        """A sheet of rows under a frozen header row; an optional title row and a blank row above.

        Each column fits its widest value among the first rows, within 8 and ``max_widths``.
        """
        self.sheets.append(_Sheet(sheet_title, rows, max_widths, headers=headers, heading=title))

    def free_sheet(self, *, sheet_title: str, widths: list[int], rows: Iterable[Any]) -> None:
        """A form-like sheet of fixed widths: rows of values, ``Bold`` rows for its headings."""
        self.sheets.append(_Sheet(sheet_title, rows, widths, fit=False))

    def stream(self) -> Iterator[bytes]:
        try:
            with translation.override(self.language), timezone.override(self.zone), collector_at_rest():
                yield from self._stream()
        finally:
            if self.row_count >= self.GIVE_BACK_ROWS:
                give_back()  # what the rows used returns to the system, not kept by the worker

    def save(self, target: str | Path | IO[bytes]) -> int:
        """Writes the whole file to a path or a binary file; returns the number of data rows."""
        if isinstance(target, str | Path):
            with open(target, "wb") as out:
                return self.save(out)
        for piece in self.stream():
            target.write(piece)
        return self.row_count

    def _stream(self) -> Iterator[bytes]:
        sink = _Sink()
        # Level 1: a third of the default level's CPU for a file about a fifth larger.
        archive = zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=1)
        workbook = Workbook(write_only=True)
        for name, attributes in _STYLES.items():
            workbook.add_named_style(NamedStyle(name=name, **attributes))
        self.row_count = 0
        self._entry: Any = None
        try:
            yield from self._sheets(workbook, archive, sink)
        except GeneratorExit:
            # The reader went away mid-file: close the half-written parts quietly.
            for close in (self._entry and self._entry.close, archive.close):
                if close:
                    with suppress(Exception):
                        close()
            raise
        workbook.properties.title = self.title
        workbook.properties.created = timezone.now().replace(tzinfo=None)
        _StreamedSheetsWriter(workbook, archive).save()
        yield sink.drain()

    def _sheets(self, workbook: Any, archive: zipfile.ZipFile, sink: _Sink) -> Iterator[bytes]:
        for index, spec in enumerate(self.sheets, start=1):
            sheet = workbook.create_sheet(title=spec.title[:31])  # Excel's limit for sheet names
            cells = _CellWriter(sheet)
            # The part's zip header goes out before the first row is read: the download starts
            # at once, while the rows' queries run.
            entry = self._entry = archive.open(f"xl/worksheets/sheet{index}.xml", "w", force_zip64=True)
            yield sink.drain()
            rows = iter(spec.rows)
            ahead = list(islice(rows, self.PEEK)) if spec.fit else []
            self._set_widths(sheet, spec, ahead)
            entry.write(_SHEET_START + self._top(sheet) + b"<sheetData>")
            number = 0
            lines: list[str] = []
            if spec.heading:
                number += 2
                lines.append(cells.row(1, [spec.heading], bold=True))
            if spec.headers is not None:
                number += 1
                lines.append(cells.row(number, spec.headers, bold=True))
            for count, row in enumerate(chain(ahead, rows), start=1):
                number += 1
                if isinstance(row, Bold):
                    lines.append(cells.row(number, row.values, bold=True))
                else:
                    lines.append(cells.row(number, row))
                    if spec.headers is not None:
                        self.row_count += 1
                if count % self.CHUNK == 0:
                    entry.write("".join(lines).encode())
                    lines.clear()
                    if piece := sink.drain():
                        yield piece
            entry.write("".join(lines).encode() + _SHEET_END)
            entry.close()
            self._entry = None
            yield sink.drain()

    @staticmethod
    def _top(sheet: Any) -> bytes:
        """The sheet's parts above its rows, in the schema's order: view (the frozen header),
        format and column widths, serialised by openpyxl once per sheet."""
        parts = [sheet.views.to_tree(), sheet.sheet_format.to_tree(), sheet.column_dimensions.to_tree()]
        return b"".join(tostring(part) for part in parts if part is not None)

    @staticmethod
    def _set_widths(sheet: Any, spec: _Sheet, ahead: list[Any]) -> None:
        headers = spec.headers or []
        for index, limit in enumerate(spec.widths, start=1):
            if not spec.fit:
                sheet.column_dimensions[get_column_letter(index)].width = limit
                continue
            shown = [shown_width(headers[index - 1])] if index <= len(headers) else []
            shown += [shown_width(r[index - 1]) for r in ahead if not isinstance(r, Bold) and len(r) >= index]
            widest = max(shown, default=0)
            sheet.column_dimensions[get_column_letter(index)].width = min(max(widest + 2, 8), limit + 2)
        if spec.headers is not None:
            sheet.freeze_panes = "A4" if spec.heading else "A2"


def as_text(value: Any) -> str:
    """A typed export value as the printable page shows it: 2026-10-15, 2026-10-15 09:30, 45%."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{timezone.localtime(value) if timezone.is_aware(value) else value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, Percent):
        return f"{round(value * 100)}%"
    return str(value)
