"""Translated texts filled by position give what the dict filling gave, in any word order."""

from collab.lib.fill import by_position


def test_placeholders_in_the_order_of_the_names() -> None:
    fill = by_position("%(department)s %(person)s", "department", "person")
    assert fill(("测试部", "吴杰")) == "测试部 吴杰"


def test_a_translation_may_put_the_placeholders_in_another_order() -> None:
    text = "%(index)s.%(who)s%(date)s前%(task)s"
    fill = by_position(text, "index", "who", "task", "date")
    values = (1, "测试部吴杰", "提交测试计划", "10月9日")
    assert fill(values) == text % dict(zip(("index", "who", "task", "date"), values, strict=True))
    assert fill(values) == "1.测试部吴杰10月9日前提交测试计划"
    assert by_position("%(b)s, then %(a)s", "a", "b")(("x", "y")) == "y, then x"


def test_one_placeholder_and_a_literal_percent() -> None:
    assert by_position("目标：%(text)s", "text")(("上线",)) == "目标：上线"
    assert by_position("%(share)s%% done", "share")((45,)) == "45% done"


def test_a_translation_using_a_name_twice_or_other_directives_is_filled_by_name() -> None:
    assert by_position("%(a)s and %(a)s", "a")(("x",)) == "x and x"
    assert by_position("%(a)s is %(b)d", "a", "b")(("x", 3)) == "x is 3"
