"""Reading whole numbers that people (or tampered pages) send: ids, versions, years.

``str.isdigit()`` accepts "²" and "٣", which ``int()`` then refuses or reads as another digit,
and a 30-digit id overflows the database's integer. Only ASCII digits, and at most 18 of them
(every value fits a signed 64-bit column), count as a number here.
"""

import re

WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")


def parse_whole_number(value: object) -> int | None:
    """The non-negative integer written in ``value``, or None when it is not one."""
    if isinstance(value, str) and WHOLE_NUMBER.fullmatch(value):
        return int(value)
    return None
