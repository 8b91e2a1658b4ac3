"""Claims decided by the database: which worker owns which file of the inbox, and who is alive.

On one machine, a claim is a rename into the worker's own locked folder (:mod:`recordgen.intake.claim`).
Several machines sharing an inbox on a network share cannot rely on that alone: a rename or a lock
on some shares is not atomic across machines. With a shared PostgreSQL store, a file is first
claimed in the database (a row naming it, which only one worker can insert), then moved; each
worker holds a lock in the database for as long as it is connected and writes a heartbeat, and the
claims of a worker that died are taken over by the next worker to look, within a minute.

:class:`ClaimRegistry` is what the claim area needs; :mod:`recordgen.records.postgres` implements it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# A worker is taken for dead when the database no longer holds its lock (its connection is gone:
# the process died, or its machine did and the connection's keepalives gave up) and it has not
# written a heartbeat for DEAD_AFTER_SECONDS; or, whatever its lock, when it has not written one for
# SILENT_AFTER_SECONDS (a machine cut off from the network without the database noticing). Both
# are well within the minute in which a dead worker's claims must be taken over.
HEARTBEAT_SECONDS = 5.0
DEAD_AFTER_SECONDS = 15.0
SILENT_AFTER_SECONDS = 45.0


@dataclass(frozen=True)
class HeldClaim:
    """A file claimed in the database: its name in the inbox, its claim id, and the work folder
    (a worker's folder name) where the file was last put."""

    inbox_name: str
    claim_id: str
    folder: str


class ClaimRegistry(Protocol):
    """The database's side of claiming, for one worker."""

    def join(self, worker: str, host: str, folder: str) -> None:
        """Say this worker is alive (and keep saying so) until :meth:`leave`."""

    def leave(self) -> None: ...

    def claim(self, inbox_name: str, claim_id: str) -> bool:
        """Take ``inbox_name`` for this worker; False if another worker holds it."""

    def release(self, claim_id: str) -> None:
        """The claimed file is finished (or was never moved): forget the claim."""

    def take_over(self) -> list[HeldClaim]:
        """Make the claims of every dead worker this worker's; return them, each with the folder
        of the worker that held it."""

    def held(self) -> list[HeldClaim]:
        """This worker's claims."""

    def forget_worker(self, worker: str) -> None:
        """A dead worker whose claims were all taken over."""

    def live_folders(self) -> set[str]:
        """The work folders of the workers the database still knows."""
