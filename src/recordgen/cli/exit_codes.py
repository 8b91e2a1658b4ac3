"""Exit codes an operator can act on (listed in README.md): one per thing that needs fixing."""

from __future__ import annotations

from recordgen.errors import (
    CannotWatch,
    InboxMissing,
    InboxNotWritable,
    RecordgenError,
    SettingsError,
)

EXIT_OK = 0
EXIT_PROBLEMS = 1  # some files were rejected or held, or a check found problems
EXIT_SETTINGS = 2  # the settings file or a command-line value is wrong
EXIT_FAULT = 3  # recordgen could not work (store, outbox...); the message says which
EXIT_INBOX_MISSING = 4
EXIT_INBOX_NOT_WRITABLE = 5
EXIT_CANNOT_WATCH = 6
# recordgen status: no watcher has looked at the inbox for more than a few minutes (it has stopped,
# or is stuck), so case files are not being processed. Something needing attention is
# EXIT_PROBLEMS; when both are true this one is given, as the more urgent.
EXIT_NOT_WATCHING = 7
EXIT_INTERRUPTED = 130  # stopped at once by a second Ctrl-C

_CODES: tuple[tuple[type[RecordgenError], int], ...] = (
    (SettingsError, EXIT_SETTINGS),
    (InboxMissing, EXIT_INBOX_MISSING),
    (InboxNotWritable, EXIT_INBOX_NOT_WRITABLE),
    (CannotWatch, EXIT_CANNOT_WATCH),
)


def exit_code_for(error: RecordgenError) -> int:
    return next((code for kind, code in _CODES if isinstance(error, kind)), EXIT_FAULT)
