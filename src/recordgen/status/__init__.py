"""The status page in the shared folder, and ``recordgen status``: is recordgen working, what needs
attention, what is due, what was produced.

    facts       what the page says, gathered from the store, the folders and the heartbeat notes
    folders     the rejected folder and its notes, held files in the work area, the inbox
    heartbeat   when each server's watcher (or process run) last looked at the inbox, noted in
                inbox/.recordgen-status/
    held        why each held file is held, kept from the last batch in the same folder
    page        the page: one self-contained HTML file, escaped, relative links
    summary     the same for a terminal and as JSON, and the verdict monitoring alerts on
    board       what the watcher and ``recordgen process`` call: write the page and notes,
                atomically, never failing the run

The layer sits below the pipeline (which writes the page) and above intake, documents, deadlines
and records (which it reads).
"""

from recordgen.status.board import StatusBoard, write_page
from recordgen.status.facts import Health, StatusReport, gather
from recordgen.status.heartbeat import Command

__all__ = ["Command", "Health", "StatusBoard", "StatusReport", "gather", "write_page"]
