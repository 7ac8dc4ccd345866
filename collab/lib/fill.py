"""Translated texts with named placeholders, filled many times over by position.

"%(who)s: %(task)s" filled with a dict builds the dict and looks each name up on every use: an
export of 100,000 register rows fills such texts about a million times. ``by_position`` turns
the translation once into a "%s" text and the order its placeholders come in (a translation may
reorder them: "%(index)s.%(who)s%(date)s前%(task)s"), so a use is one tuple formatting.
"""

import re
from collections.abc import Callable
from operator import itemgetter
from typing import Any

_NAMED = re.compile(r"%\((\w+)\)s")


def by_position(text: str, *names: str) -> Callable[[tuple[Any, ...]], str]:
    """``fill((v1, v2, …))`` equals ``text % {names[0]: v1, names[1]: v2, …}``.

    A translation that does not use each name exactly once, or uses any other directive than
    "%(name)s" and "%%", is filled with the dict as before.
    """
    found = _NAMED.findall(text)
    if sorted(found) != sorted(names) or "%" in _NAMED.sub("", text).replace("%%", ""):
        return lambda values: text % dict(zip(names, values, strict=True))
    plain = _NAMED.sub("%s", text)
    order = [names.index(name) for name in found]
    if order == list(range(len(names))):
        return plain.__mod__
    if len(order) == 1:
        (only,) = order
        return lambda values: plain % (values[only],)
    pick = itemgetter(*order)
    return lambda values: plain % pick(values)
