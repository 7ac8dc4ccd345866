"""The refused write of every stage: a domain error whose message is shown to the person as it is.

It lives apart from the services so that models (the archived item's guard) and every later
stage can raise it without importing stage 1's services.
"""


class ItemError(Exception):
    """A refused write; ``message`` is shown to the person as it is."""

    def __init__(self, message: str, problems: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or {}


class StaleVersionError(ItemError):
    pass
