"""A converter that keeps LibreOffice running between documents (docs/design.md §3, convert).

Starting LibreOffice costs a second or more; converting one document in a LibreOffice already
running costs about a tenth of that. So the watcher and ``recordgen process`` keep ``processes``
LibreOffice processes running for as long as they run, each with a profile of its own, each driven
over UNO by a small helper (:mod:`recordgen.documents.uno_process`) run with the system's Python,
which has Debian's ``python3-uno``. Documents are opened hidden, converted one at a time per
process, and the processes share a batch between them.

What the batch converter guarantees still holds: every PDF is opened with pypdf before it is
trusted, a document that fails is tried once more (in a fresh LibreOffice if the first one hung or
crashed), and a call delivers all its PDFs or none. A LibreOffice that makes no progress for
``timeout_seconds`` is killed with its helper (their whole process group); one that crashed is
started again; one that has converted ``max_documents`` documents, or grown past
``max_memory_bytes``, is replaced before the next document.

No LibreOffice outlives recordgen: each helper watches the pipe recordgen writes its requests to,
and when that closes (recordgen stopped, however it stopped, ``kill -9`` included) it kills its
LibreOffice and exits; LibreOffice itself is started with the parent-death signal, so it dies with
its helper whatever happens to the helper. Without ``python3-uno`` (or the system's Python) the
converter says so once in the log and converts each batch with a fresh LibreOffice instead.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from recordgen.documents.convert import (
    Converter,
    ParallelConverter,
    checked_inputs,
    conversion_failed,
    copy_inputs,
    find_soffice,
    publish_pdfs,
    verify_pdf,
)
from recordgen.errors import ConversionError

log = logging.getLogger(__name__)

HELPER = Path(__file__).with_name("uno_process.py")
SYSTEM_PYTHON = "/usr/bin/python3"


class _Stopped(ConversionError):
    """The LibreOffice in a slot hung or crashed: it was stopped, and the document may be retried
    in a fresh one."""


class _NoUno(Exception):
    """The system's Python cannot drive LibreOffice (no python3-uno)."""


class _Office:
    """One helper and its LibreOffice, started on demand and replaced when worn out or broken."""

    def __init__(self, owner: WarmConverter, number: int) -> None:
        self._owner, self._number = owner, number
        self._process: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._ready = False
        self._profile: Path | None = None
        self.pid: int | None = None  # LibreOffice's own process id, once ready
        self.converted = 0

    def start(self) -> None:
        """Start the helper (it starts LibreOffice); returns at once."""
        if self._process is not None:
            return
        if self._profile is None:
            self._profile = Path(tempfile.mkdtemp(prefix=f"recordgen-uno-{os.getpid()}-"))
        owner = self._owner
        command = [*owner.helper_command, owner.soffice(), str(self._profile),
                   f"{owner.timeout_seconds:g}"]
        try:
            self._process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, LibreOffice with it
            )  # fmt: skip
        except OSError as exc:
            raise _NoUno(f"{command[0]} cannot be run ({exc.strerror or exc})") from exc
        self._buffer, self._ready, self.converted, self.pid = b"", False, 0, None

    def convert(self, source: Path, target: Path) -> None:
        """Convert one document; raise _Stopped if LibreOffice hung or crashed (it is then gone),
        ConversionError if it refused the document."""
        self.start()
        if not self._ready:
            self._wait_ready()
        request = json.dumps({"source": str(source), "target": str(target)}).encode() + b"\n"
        answer = self._ask(request)
        if not answer.get("ok"):
            if not answer.get("alive", True):
                self.kill(drop_profile=True)
                raise _Stopped(f"LibreOffice stopped while converting it ({answer.get('error')})")
            raise ConversionError(f"LibreOffice could not convert it ({answer.get('error')})")
        self.converted += 1
        owner = self._owner
        if self.converted >= owner.max_documents or int(answer.get("rss", 0)) > owner.max_memory_bytes:
            log.info("LibreOffice process %d is replaced after %d document(s) (%d MB in use)",
                     self._number, self.converted, int(answer.get("rss", 0)) // 2**20)
            self.close(keep_profile=True)
            self.start()

    def _wait_ready(self) -> None:
        answer = self._read(time.monotonic() + self._owner.timeout_seconds, starting=True)
        if answer.get("missing_uno"):
            self.kill(drop_profile=True)
            raise _NoUno(str(answer.get("error")))
        if not answer.get("ready"):
            self.kill(drop_profile=True)
            raise ConversionError(f"LibreOffice could not be started: {answer.get('error')}")
        self._ready, self.pid = True, int(answer.get("pid", 0)) or None
        if self.pid is not None:
            self._owner.started.append(self.pid)

    def _ask(self, request: bytes) -> dict[str, Any]:
        process = self._process
        if process is None or process.stdin is None:
            raise _Stopped("LibreOffice was not running")
        try:
            process.stdin.write(request)
            process.stdin.flush()
        except OSError as exc:
            self.kill(drop_profile=True)
            raise _Stopped("LibreOffice had stopped (it crashed)") from exc
        return self._read(time.monotonic() + self._owner.timeout_seconds)

    def _read(self, deadline: float, *, starting: bool = False) -> dict[str, Any]:
        """The helper's next answer; _Stopped (with the helper killed) on a hang or a crash."""
        process = self._process
        if process is None or process.stdout is None:
            raise _Stopped("LibreOffice was not running")
        descriptor = process.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            readable = select.select([descriptor], [], [], max(0.0, left))[0] if left > 0 else []
            if not readable:
                self.kill(drop_profile=True)
                what = "did not start" if starting else "made no progress"
                raise _Stopped(f"LibreOffice {what} for {self._owner.timeout_seconds:g} s and was "
                               "stopped")
            chunk = os.read(descriptor, 65536)
            if not chunk:
                code = process.poll()
                self.kill(drop_profile=True)
                raise _Stopped("LibreOffice stopped unexpectedly (it crashed"
                               + (f", exit code {code})" if code is not None else ")"))
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            answer = json.loads(line)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            self.kill(drop_profile=True)
            raise _Stopped("LibreOffice's helper sent an answer recordgen could not read, and was "
                           "stopped")
        return answer

    def kill(self, *, drop_profile: bool = False) -> None:
        """Stop the helper and its LibreOffice at once (their whole process group). A profile
        left by a killed LibreOffice may hold a stale lock: it is dropped."""
        process, self._process, self._ready = self._process, None, False
        if process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            for stream in (process.stdin, process.stdout):
                with contextlib.suppress(OSError):
                    if stream is not None:
                        stream.close()
        if drop_profile:
            self._drop_profile()

    def close(self, *, keep_profile: bool = False) -> None:
        """Let the helper stop LibreOffice (it does when its input closes), then make sure."""
        process = self._process
        if process is not None and process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        self.kill(drop_profile=not keep_profile)

    def _drop_profile(self) -> None:
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
        self._profile = None


class WarmConverter:
    """Converts with ``processes`` LibreOffice processes kept running between calls. Calls may
    come from several threads at once: each document takes whichever LibreOffice is free."""

    def __init__(
        self,
        processes: int = 1,
        timeout_seconds: float = 120,
        soffice: str | None = None,
        *,
        max_documents: int = 1000,
        max_memory_bytes: int = 1 << 30,
        helper_command: Sequence[str] = (SYSTEM_PYTHON, str(HELPER)),
        fallback: Converter | None = None,
    ) -> None:
        if processes < 1:
            raise ValueError("processes must be at least 1")
        self.processes = processes
        self.timeout_seconds, self._soffice = timeout_seconds, soffice
        self.max_documents, self.max_memory_bytes = max_documents, max_memory_bytes
        self.helper_command = tuple(helper_command)
        self._offices = [_Office(self, number) for number in range(processes)]
        self._free: queue.SimpleQueue[_Office] = queue.SimpleQueue()
        for office in self._offices:
            self._free.put(office)
        self._fallback = fallback or ParallelConverter(processes, timeout_seconds, soffice)
        self._without_uno: str | None = None
        self._lock = threading.Lock()
        self._soffice_path: str | None = None
        self.started: list[int] = []  # every LibreOffice started, in order (for tests, benchmarks)

    def soffice(self) -> str:
        if self._soffice_path is None:
            self._soffice_path = find_soffice(self._soffice)  # ConverterMissing, with the hint
        return self._soffice_path

    @property
    def pids(self) -> list[int]:
        """The LibreOffice processes running now (for tests and benchmarks)."""
        return [office.pid for office in self._offices if office.pid is not None]

    def warm_up(self) -> None:
        """Start every LibreOffice now, in the background, so the first document does not wait."""
        if self._without_uno is not None:
            return
        try:
            self.soffice()
            for _ in self._offices:
                office = self._free.get()
                try:
                    office.start()
                finally:
                    self._free.put(office)
        except _NoUno as exc:
            self._give_up_uno(str(exc))
        except ConversionError:
            pass  # said again, with the document's name, when one is converted

    def convert(self, docx_paths: Sequence[Path], out_dir: Path) -> dict[Path, Path]:
        sources = checked_inputs(docx_paths)
        if not sources:
            return {}
        self.soffice()
        if self._without_uno is None:
            try:
                return self._convert_warm(sources, out_dir)
            except _NoUno as exc:
                self._give_up_uno(str(exc))
        return self._fallback.convert(sources, out_dir)

    def _give_up_uno(self, why: str) -> None:
        with self._lock:
            if self._without_uno is not None:
                return
            self._without_uno = why
        log.warning("LibreOffice cannot be kept running between documents (%s), so each batch "
                    "starts it afresh, which is slower. Run scripts/setup to install python3-uno.",
                    why)

    def _convert_warm(self, sources: list[Path], out_dir: Path) -> dict[Path, Path]:
        with tempfile.TemporaryDirectory(prefix="recordgen-pdf-") as staging:
            pairs = copy_inputs(sources, Path(staging))
            pdf_folder = Path(staging) / "out"
            pdf_folder.mkdir()
            work: queue.SimpleQueue[tuple[Path, Path]] = queue.SimpleQueue()
            for pair in pairs:
                work.put(pair)
            made: dict[Path, Path] = {}
            failures: dict[Path, str] = {}
            fatal: list[BaseException] = []
            workers = [threading.Thread(target=self._work, args=(work, pdf_folder, made, failures,
                                                                 fatal))
                       for _ in range(min(len(pairs), self.processes))]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            if fatal:
                raise fatal[0]
            if failures:
                raise conversion_failed({src: failures[src] for src in sources if src in failures})
            return publish_pdfs({src: made[src] for src in sources}, out_dir)

    def _work(self, work: queue.SimpleQueue[tuple[Path, Path]], pdf_folder: Path,
              made: dict[Path, Path], failures: dict[Path, str], fatal: list[BaseException]) -> None:
        while not fatal:
            try:
                source, copy = work.get_nowait()
            except queue.Empty:
                return
            target = pdf_folder / f"{copy.stem}.pdf"
            office = self._free.get()  # whichever LibreOffice is free, across every call
            try:
                made[source] = self._convert_one(office, copy, target)
            except ConversionError as exc:
                failures[source] = str(exc)
            except BaseException as exc:  # _NoUno, a missing LibreOffice: the whole call stops
                fatal.append(exc)
            finally:
                self._free.put(office)

    def _convert_one(self, office: _Office, copy: Path, target: Path) -> Path:
        """Convert and verify; tried twice (the second time in a fresh LibreOffice if the first
        hung or crashed)."""
        problem = ""
        for _ in (1, 2):
            try:
                office.convert(copy, target)
                verify_pdf(target)
                return target
            except ConversionError as exc:
                problem = str(exc)
                target.unlink(missing_ok=True)
        raise ConversionError(f"{problem} (tried twice)")

    def close(self) -> None:
        """Stop every LibreOffice and remove its profile (after any document in hand)."""
        offices = [self._free.get() for _ in self._offices]
        try:
            for office in offices:
                office.close()
        finally:
            for office in offices:
                self._free.put(office)
            self._fallback.close()

    def __enter__(self) -> WarmConverter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
