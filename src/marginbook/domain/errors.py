"""Errors that name where bad input is, so a user can fix the file and try again."""

from __future__ import annotations

from dataclasses import dataclass


class MarginbookError(Exception):
    """Base of marginbook's own failures (exit code 1 at the command line)."""


@dataclass(frozen=True, slots=True)
class InputProblem:
    """One problem in one place of a user's input.

    Attributes:
        source: the file name (or API / run id) the input came from.
        row: the 1-based data row (the header is row 1, the first data row is row 2),
            or ``None`` when the problem is not tied to a row.
        field: the column or field at fault, or ``""``.
        problem: what is wrong, phrased so that the fix is evident.
    """

    source: str
    row: int | None
    field: str
    problem: str

    def __str__(self) -> str:
        where = self.source if self.row is None else f"{self.source}:{self.row}"
        return f"{where}: {self.field}: {self.problem}" if self.field else f"{where}: {self.problem}"


class InputError(MarginbookError):
    """Bad input (exit code 2). Carries every problem found; nothing was written.

    ``str(error)`` is the first problem in the contract's ``FILE:ROW: field: problem`` form,
    followed by a count of the others.
    """

    def __init__(self, problems: list[InputProblem] | InputProblem) -> None:
        self.problems: list[InputProblem] = (
            [problems] if isinstance(problems, InputProblem) else list(problems)
        )
        if not self.problems:
            raise ValueError("InputError needs at least one problem")
        super().__init__(self._message())

    def _message(self) -> str:
        first = str(self.problems[0])
        more = len(self.problems) - 1
        return first if more == 0 else f"{first} (and {more} more problem{'s' * (more > 1)})"
