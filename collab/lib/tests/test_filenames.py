"""File and folder names every common file system accepts."""

import pytest

from collab.lib.filenames import safe_file_name, safe_name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Q3产品上线测试", "Q3产品上线测试"),
        ('发布/回滚: "A*B"?<C>|D\\E', "发布_回滚_ _A_B___C__D_E"),
        ("  多个   空格\t和换行\n ", "多个 空格 和换行"),
        ("...结尾的点...", "结尾的点"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("", "未命名"),
        ("///", "___"),
        ("长" * 100, "长" * 60),
    ],
)
def test_names_are_safe_for_every_file_system(text: str, expected: str) -> None:
    assert safe_name(text) == expected


def test_file_names_keep_their_extension() -> None:
    assert safe_file_name("报告:终稿.PDF") == "报告_终稿.PDF"
    assert safe_file_name("..\\..\\etc/passwd") == "passwd"
    assert safe_file_name("没有扩展名") == "没有扩展名"
