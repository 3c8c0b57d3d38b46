"""What the factory engines share for bad input: message ids marked for extraction (translated
by the caller, in the user's language) and one error carrying them with their parameters."""

from __future__ import annotations

import numpy as np


def N_(msgid: str) -> str:
    """Marks a msgid for extraction; the engines never translate."""
    return msgid


class InputProblems(ValueError):
    """Data an engine cannot work on: English msgids with their parameters."""

    def __init__(self, problems: list[tuple[str, dict]]):
        self.problems = problems
        super().__init__("; ".join(msgid.format(**params) for msgid, params in problems))


def row_list(mask: np.ndarray, first_row: int) -> str:
    """The first ten flagged rows as the file numbers them, and how many more there are."""
    found = np.flatnonzero(mask)
    shown = ", ".join(str(i + first_row) for i in found[:10])
    return shown + (f" (+{len(found) - 10})" if len(found) > 10 else "")
