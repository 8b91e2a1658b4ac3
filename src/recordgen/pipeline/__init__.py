"""The pipeline: a case file through a short list of small stages, and the two ways of running it.

    claim → load → validate → plan → render → convert → publish → record → finish

:mod:`recordgen.pipeline.stages` holds the stages and their order, :mod:`recordgen.pipeline.batch`
runs a batch of claimed files through them, and :mod:`recordgen.pipeline.inbox` (``recordgen
process``) and :mod:`recordgen.pipeline.watch` (``recordgen watch``) claim the files and hand them
on (docs/design.md §3).
"""

from recordgen.pipeline.batch import process_batch
from recordgen.pipeline.stages import FileStatus, Outcome, Services, WorkItem

__all__ = ["FileStatus", "Outcome", "Services", "WorkItem", "process_batch"]
