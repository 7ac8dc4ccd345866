import pytest

from collab.lib.numbers import parse_whole_number


@pytest.mark.parametrize("value", ["0", "7", "123", "999999999999999999"])
def test_it_reads_ascii_digits(value: str) -> None:
    assert parse_whole_number(value) == int(value)


@pytest.mark.parametrize(
    "value", ["", "²", "٣", "３", "-1", "+1", " 1", "1 ", "1.0", "1e3", "9" * 19, None, 12]
)
def test_anything_else_is_not_a_number(value: object) -> None:
    assert parse_whole_number(value) is None
