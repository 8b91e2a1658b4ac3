"""Who may read what recordgen writes: the service account, and its group where staff must read it;
never everyone (docs/design.md §5: the data is special-category). recordgen sets these modes only
on what it creates itself, and never changes the permissions of anything it did not create.
"""

from __future__ import annotations

ISSUED_FILE = 0o440  # an issued document, PDF or redaction log: read-only, the record
OUTBOX_FOLDER = 0o750  # the outbox and each case's folder in it
GROUP_READABLE = 0o640  # a note for the admin team (rejected/NAME.errors.txt), the seal file
# (appended to), a PDF the converter hands back, the copy of a hard-linked case file
PRIVATE_FOLDER = 0o700  # the work area and the store's folder: recordgen's alone
PRIVATE_FILE = 0o600  # the store, its lock, a claimed file's copy while it is worked on
