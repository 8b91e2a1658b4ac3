"""The one error tree of recordgen.

Every error recordgen raises on purpose derives from :class:`RecordgenError`, and every message is
written for the admin staff or operator who will read it: what happened, where, how to fix it.
Third-party errors are translated where they enter (``raise ... from exc``).

    RecordgenError
    ├── SettingsError          the settings file is missing, unreadable or holds a bad value
    ├── CaseFileError          a case file cannot be used; the file is rejected, never lost
    │   ├── LoadError          the bytes are not strict UTF-8 JSON we accept (size, encoding, syntax)
    │   └── ValidationFailed   the JSON breaks the schema or the service's rules (all problems listed)
    ├── TemplateError          a Word template is missing, cannot be parsed, or tried something unsafe
    │   └── TemplateTooCostly  a template ran past the time, steps or size one document may take
    ├── ConversionError        a Word document could not be turned into PDF
    │   └── ConverterMissing   LibreOffice is not installed; the case is kept for a retry
    ├── StoreError             the records store cannot be opened, migrated or written
    │   └── StoreMissing       the store is not where the settings say, and this is not a first run
    ├── PublishError           a finished document could not be written to the outbox
    ├── InboxError             the inbox (or a folder beside it) is missing, unreadable or unwritable
    │   ├── InboxMissing       the inbox does not exist, is not a folder, or can no longer be read
    │   ├── InboxNotWritable   recordgen cannot make its work folder in the inbox
    │   └── CannotWatch        native file events cannot watch the inbox (polling still works)
    └── InvariantBroken        recordgen's own code broke a rule it relies on (a fault to report)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class RecordgenError(Exception):
    """Base of every error recordgen raises on purpose."""


class SettingsError(RecordgenError):
    """Raised when the settings file is missing, unreadable or holds a value we cannot use."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a case file: where (a JSON path such as ``$.data.objectives[0]``),
    what is wrong, and how to fix it, each in plain English."""

    path: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} {self.fix}".strip()


class CaseFileError(RecordgenError):
    """Raised when a case file cannot be used. The file is moved to the rejected folder."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class LoadError(CaseFileError):
    """Raised when a case file is too big, not UTF-8, not strict JSON, or nested too deeply."""

    def __init__(self, message: str, fix: str, path: str = "$") -> None:
        super().__init__([Problem(path=path, message=message, fix=fix)])


class ValidationFailed(CaseFileError):
    """Raised when a case file breaks its schema or the service's rules; lists every problem."""


class TemplateError(RecordgenError):
    """Raised when a Word template is missing, cannot be parsed, or tries something unsafe."""


class TemplateTooCostly(TemplateError):
    """Raised when filling in a template runs past the time, the steps or the size one document
    may take (a runaway loop, say). The case file is not at fault: it is held and tried again."""


class ConversionError(RecordgenError):
    """Raised when a Word document could not be turned into a PDF we can open."""


class ConverterMissing(ConversionError):
    """Raised when LibreOffice is not installed. Word documents are still produced."""


class StoreError(RecordgenError):
    """Raised when the records store cannot be opened, migrated or written."""


class StoreMissing(StoreError):
    """Raised when the records store is missing (or empty) although recordgen has run before, so
    that nothing is processed, and no record started again, against the wrong store."""


class PublishError(RecordgenError):
    """Raised when a finished document could not be written to the outbox."""


class InboxError(RecordgenError):
    """Raised when the inbox or a folder beside it is missing, unreadable or not writable."""


class InboxMissing(InboxError):
    """Raised when the inbox does not exist, is not a folder, or can no longer be read."""


class InboxNotWritable(InboxError):
    """Raised when recordgen cannot make its work folder in the inbox, so it could claim nothing."""


class CannotWatch(InboxError):
    """Raised when the inbox cannot be watched with native events (for example an inotify limit);
    polling (``--poll``) still works."""


class InvariantBroken(RecordgenError):
    """Raised when recordgen's own code breaks a rule it relies on (a stage run out of order, a
    stored row without its id): a fault in recordgen, never in what staff did. The file in hand is
    kept for a retry."""
