"""Work done aside: a function run in a process forked from this one, on another core, while this
process gets on with something else; its result sent back through a pipe.

Forking starts the helper at once, with recordgen and everything it has imported already loaded,
and hands it what it needs (a return's figures, a store to open another connection to) without
copying. The helper must not use anything of this process's that talks to the world (a database
connection, an open file being written): it opens its own. It ends with the process's exit
(``os._exit``, as multiprocessing ends a forked child), so nothing inherited is closed or flushed
twice. A failure in the helper is raised here, where the result is asked for (one of recordgen's
own errors as it was, anything else as a :class:`recordgen.errors.RecordgenError` in its words); a
helper that dies without answering is a RecordgenError saying so; :meth:`Aside.stop` (or
leaving :func:`aside`) ends one that is still running, so none outlives the work that needs it.

A helper is forked only when it is safe to (:func:`fork_is_safe`): on a system that can fork, from
a process running no thread but the one asking. A thread holding a lock (an import's, a log's, a
database library's) at the moment of forking leaves the helper's copy of that lock held for ever,
and a helper that needs it waits for ever, and the command with it. Where it is not safe, the work
is done in this process when its result is asked for: the same answer, a little later.
"""

from __future__ import annotations

import gc
import multiprocessing
import pickle
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from functools import partial
from multiprocessing.connection import Connection
from typing import Generic, TypeVar

from recordgen.errors import RecordgenError

A = TypeVar("A")
T = TypeVar("T")

CAN_FORK = "fork" in multiprocessing.get_all_start_methods()


def fork_is_safe() -> bool:
    """Whether a helper may be forked now: the system can fork, and no thread of this process is
    running but the one asking (see the module's description)."""
    return CAN_FORK and threading.active_count() == 1


class Aside(Generic[T]):
    """``work()`` under way in a process of its own; :meth:`result` waits for it."""

    def __init__(self, work: Callable[[], T], doing: str) -> None:
        """``doing`` says what the work is, as a user reads it ("Counting the return"). Where
        forking is not safe now, ``work`` is kept, and done by :meth:`result`."""
        self.doing = doing
        self._here: Callable[[], T] | None = None
        if not fork_is_safe():
            self._here = work
            return
        self._start(_run, work)

    def _start(self, target: Callable[..., None], *args: object) -> None:
        context = multiprocessing.get_context("fork")
        self._receiving, sending = context.Pipe(duplex=False)
        self._process = context.Process(target=target, args=(*args, sending, self.doing),
                                        name="recordgen-aside", daemon=True)
        self._process.start()
        sending.close()  # the helper holds the only sending end: its exit is the pipe's end

    def result(self) -> T:
        """What the work returned, once it has; what it raised is raised here."""
        if self._here is not None:
            return self._here()
        try:
            done, value = self._receiving.recv()
        except (EOFError, OSError) as exc:
            self._process.join()
            raise RecordgenError(
                f"{self.doing} stopped: a process working on it ended without an answer (exit "
                f"code {self._process.exitcode}). Nothing was filed; run the command again, and "
                "if it stops again, check the machine's free memory.") from exc
        self._process.join()
        if not done:
            raise value
        return value  # type: ignore[no-any-return]

    def stop(self) -> None:
        """End the helper if it is still working (its result is no longer wanted)."""
        if self._here is not None:
            return
        self._receiving.close()
        if self._process.is_alive():
            self._process.kill()
        self._process.join()


class Waiting(Aside[T], Generic[A, T]):
    """A process forked now, while this one is small, that waits to be given what to work on
    (:meth:`give`) and then works out ``work(given)``; :meth:`result` waits for it.

    A helper forked late shares this process's pages only until either writes to them, and a
    process that has counted a return holds many more pages than one that has only started: the
    report's charts, drawn by a helper forked after a count over 200,000 case files, held about
    70 MB more of its own than one forked before it and given the figures."""

    def __init__(self, work: Callable[[A], T], doing: str) -> None:
        self.doing = doing
        self._work = work
        self._here = None
        self._giving: Connection | None = None
        if not fork_is_safe():
            self._here = self._done_here
            return
        context = multiprocessing.get_context("fork")
        waiting, self._giving = context.Pipe(duplex=False)
        self._start(_run_given, work, waiting, self._giving)
        waiting.close()

    def give(self, given: A) -> None:
        """What to work on: sent to the helper (it must be picklable), once."""
        self._given = given
        if self._giving is not None:
            with suppress(OSError):  # the helper has ended already: result() says how
                self._giving.send(given)
            self._giving.close()
            self._giving = None

    def _done_here(self) -> T:
        return self._work(self._given)

    def stop(self) -> None:
        if self._giving is not None:
            self._giving.close()
            self._giving = None
        super().stop()


@contextmanager
def aside(work: Callable[[], T], doing: str) -> Iterator[Aside[T]]:
    """:class:`Aside` for the ``with`` block: stopped when it is left, however."""
    helper = Aside(work, doing)
    try:
        yield helper
    finally:
        helper.stop()


@contextmanager
def waiting(work: Callable[[A], T], doing: str) -> Iterator[Waiting[A, T]]:
    """:class:`Waiting` for the ``with`` block: stopped when it is left, however (given or not)."""
    helper: Waiting[A, T] = Waiting(work, doing)
    try:
        yield helper
    finally:
        helper.stop()


def _run(work: Callable[[], T], sending: Connection, doing: str) -> None:
    """In the helper: the work's result, or the reason there is none, sent back."""
    # Everything inherited from the parent is set aside from the cycle collector: its passes
    # would touch every object, and each page touched becomes the helper's own copy.
    gc.freeze()
    try:
        answer: tuple[bool, object] = (True, work())
    except Exception as exc:  # every failure goes back, to be raised where the result is wanted
        answer = (False, _portable(exc, doing))
    sending.send(answer)
    sending.close()


def _run_given(work: Callable[[A], T], waiting: Connection, giving: Connection,
               sending: Connection, doing: str) -> None:
    """In a :class:`Waiting` helper: wait to be given what to work on, then as :func:`_run`.
    Ends without an answer when this process is never given anything."""
    giving.close()  # the parent's end, copied by the fork
    try:
        given = waiting.recv()
    except (EOFError, OSError):
        return
    _run(partial(work, given), sending, doing)


def _portable(exc: Exception, doing: str) -> Exception:
    """``exc`` when it is one of recordgen's own errors and survives being sent to another
    process; else one of recordgen's errors saying what it was, so the user reads a reason, never
    a traceback from a process they never saw."""
    if isinstance(exc, RecordgenError):
        try:
            pickle.loads(pickle.dumps(exc))  # noqa: S301 (our own exception, made just now)
        except Exception:  # it cannot be sent as it is: its words can
            return RecordgenError(f"{doing} failed: {exc}")
        return exc
    return RecordgenError(f"{doing} failed ({type(exc).__name__}: {exc}).")
