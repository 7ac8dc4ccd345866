"""The shared Excel writer: typed cells people can calculate with, text that stays text, streamed."""

import gc
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import openpyxl
from django.utils import timezone

from collab.lib.xlsx import DATE_FORMAT, DATETIME_FORMAT, Bold, Percent, XlsxBook


def read(book: XlsxBook) -> Any:
    return openpyxl.load_workbook(io.BytesIO(b"".join(book.stream())))


def test_cells_keep_their_types_with_chinese_formats() -> None:
    book = XlsxBook(title="测试")
    submitted = datetime(2026, 10, 8, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
    book.table(
        sheet_title="数据",
        headers=["日期", "时间", "数量", "金额", "完成率", "备注"],
        rows=[[date(2026, 10, 15), submitted, 12000, Decimal("3.5"), Percent(0.45), "正常文字"]],
        max_widths=[14, 20, 10, 10, 8, 30],
        title="标题行",
    )
    sheet = read(book)["数据"]
    day, moment, count, amount, share, text = sheet[4]
    assert day.is_date and day.value.date() == date(2026, 10, 15) and day.number_format == DATE_FORMAT
    assert moment.is_date and moment.number_format == DATETIME_FORMAT
    with timezone.override("Asia/Shanghai"):
        assert moment.value == timezone.localtime(submitted).replace(tzinfo=None)
    assert (count.data_type, count.value, count.number_format) == ("n", 12000, "#,##0")
    assert (amount.data_type, amount.number_format) == ("n", "#,##0.00")
    assert (share.value, share.number_format) == (0.45, "0%")
    assert text.data_type == "s" and text.value == "正常文字"
    assert sheet.freeze_panes == "A4"  # title, blank row, headers stay in view
    assert sheet["A3"].font.b and sheet["A1"].value == "标题行"
    assert sheet.column_dimensions["F"].width > sheet.column_dimensions["C"].width


def test_text_that_looks_like_a_formula_stays_text() -> None:
    book = XlsxBook()
    typed = ['=HYPERLINK("http://evil.example","点我")', "+1+1", "-2", "@SUM(A1)"]
    book.table(sheet_title="s", headers=["a", "b", "c", "d"], rows=[typed], max_widths=[40, 8, 8, 8])
    row = read(book).active[2]
    assert [c.value for c in row] == typed
    assert all(c.data_type == "s" and c.quotePrefix for c in row)


def test_rows_stream_out_before_the_last_row_is_read() -> None:
    read_so_far = []

    def rows() -> Iterator[list[Any]]:
        for n in range(5000):
            read_so_far.append(n)
            yield [f"第{n}行", n]

    book = XlsxBook()
    book.table(sheet_title="s", headers=["a", "b"], rows=rows(), max_widths=[10, 10])
    pieces = book.stream()
    first = next(pieces)
    while not first:
        first = next(pieces)
    # The download starts before the first row is read (the rows' queries may take a while).
    assert first.startswith(b"PK") and read_so_far == []
    second = next(pieces)
    while not second:
        second = next(pieces)
    assert len(read_so_far) < 5000
    rest = second + b"".join(pieces)
    sheet = openpyxl.load_workbook(io.BytesIO(first + rest)).active
    assert sheet.max_row == 5001 and sheet["B5001"].value == 4999
    assert book.row_count == 5000


def test_a_free_sheet_has_bold_headings_and_fixed_widths() -> None:
    book = XlsxBook()
    book.free_sheet(
        sheet_title="纪要", widths=[18, 40], rows=[Bold(["会议纪要"]), ["版本", 2], [], ["日期", None]]
    )
    sheet = read(book).active
    assert sheet["A1"].font.b and not sheet["A2"].font.b
    assert sheet["B2"].value == 2 and sheet["B2"].data_type == "n"
    assert sheet.column_dimensions["B"].width == 40 and sheet.freeze_panes is None


def test_markup_and_control_characters_arrive_as_plain_text() -> None:
    """Cells are written as XML text: markup is escaped, and the control characters XML cannot
    hold (a vertical tab pasted from Word) are dropped instead of breaking the file."""
    book = XlsxBook()
    typed = ['<b>粗体</b> & "引号"', "换行\n保留", "制表\x0b符", "  前后空格  "]
    book.table(sheet_title="s", headers=["a", "b", "c", "d"], rows=[typed], max_widths=[40, 8, 8, 8])
    row = read(book).active[2]
    assert [c.value for c in row] == ['<b>粗体</b> & "引号"', "换行\n保留", "制表符", "  前后空格  "]


def test_the_collector_is_back_to_normal_after_a_book_is_streamed_or_abandoned() -> None:
    """While a book streams, the process's older objects are left out of garbage collections
    (``gc.freeze``); after it, finished or abandoned by a reader who went away, they are not."""
    frozen = gc.get_freeze_count()

    def book() -> XlsxBook:
        made = XlsxBook()
        rows = ([f"第{n}行", n] for n in range(3000))
        made.table(sheet_title="s", headers=["a", "b"], rows=rows, max_widths=[10, 10])
        return made

    pieces = book().stream()
    next(pieces)
    assert gc.get_freeze_count() > frozen
    pieces.close()  # the reader went away
    assert gc.get_freeze_count() == frozen
    whole = book()
    assert openpyxl.load_workbook(io.BytesIO(b"".join(whole.stream()))).active.max_row == 3001
    assert gc.get_freeze_count() == frozen
