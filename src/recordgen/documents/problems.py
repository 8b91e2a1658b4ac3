"""What one case file's problems may cost: the first 50 are reported, then how many more.

A file can hold hundreds of thousands of mistakes (an export that repeats an empty entry, say).
Listing them all helps nobody and costs memory, disk and time three times over: in the note beside
the rejected file, in the store's record of the rejection, and on the terminal. So every list of
problems is capped here, and each problem's text is clipped to a length a person reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from recordgen.errors import Problem

MAX_PROBLEMS = 50
MAX_PATH_CHARS = 200
MAX_TEXT_CHARS = 1000


@dataclass(frozen=True)
class MoreProblems(Problem):
    """Stands for the problems not listed."""

    count: int = 0


def more_problems(count: int) -> MoreProblems:
    return MoreProblems(
        "$",
        f"There {'is' if count == 1 else 'are'} {count:,} more "
        f"{'problem' if count == 1 else 'problems'} in this file, not listed here: recordgen "
        f"lists the first {MAX_PROBLEMS}.",
        "Fix the problems listed above and drop the file in again; recordgen then lists what is "
        "still wrong. If there are very many, check that this is the right file: an export that "
        "went wrong can repeat an empty entry thousands of times.",
        count,
    )


def cap_problems(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    """The first :data:`MAX_PROBLEMS` problems, each clipped, then one saying how many more."""
    kept: list[Problem] = []
    more = 0
    for problem in problems:
        if isinstance(problem, MoreProblems):
            more += problem.count
        elif len(kept) < MAX_PROBLEMS:
            kept.append(_clipped(problem))
        else:
            more += 1
    return (*kept, more_problems(more)) if more else tuple(kept)


def clip(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clipped(problem: Problem) -> Problem:
    if (len(problem.path) <= MAX_PATH_CHARS and len(problem.message) <= MAX_TEXT_CHARS
            and len(problem.fix) <= MAX_TEXT_CHARS):
        return problem
    return Problem(clip(problem.path, MAX_PATH_CHARS), clip(problem.message), clip(problem.fix))
