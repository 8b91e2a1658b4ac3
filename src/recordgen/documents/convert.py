"""The convert stage: Word documents to PDF with headless LibreOffice (docs/design.md §3).

LibreOffice is slow to start (a second, more with a fresh profile) and quick to convert (about a
tenth of that per document), so one start converts a whole batch. It is also easy to fool: it exits
0 when a document cannot be loaded or the output folder is missing. So every converter has its own
profile, every PDF is opened with pypdf before it is trusted, a start that makes no progress for
``timeout_seconds`` has its whole process group killed and is tried once more, and PDFs are made in
a private folder and moved into ``out_dir`` only when every document of the call succeeded: a call
delivers all its PDFs or none.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
import zipfile
from collections.abc import Hashable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Generic, NamedTuple, Protocol, Self, TypeVar, runtime_checkable

from pypdf import PdfReader

from recordgen import permissions
from recordgen.errors import ConversionError, ConverterMissing

log = logging.getLogger(__name__)

INSTALL_HINT = (
    "Install it with `sudo apt-get install libreoffice-writer-nogui`, or run scripts/setup, "
    "then try again. The Word documents were still produced."
)
PDF_MODE = permissions.GROUP_READABLE
_POLL_SECONDS = 0.2
# What soffice prints when all is well (and a harmless Java warning): not worth quoting in errors.
_ROUTINE = re.compile(r"convert |Overwriting: |Warning: failed to launch javaldx")


Key = TypeVar("Key", bound=Hashable)


class Converter(Protocol):
    """Turns Word documents into PDFs, one call per batch."""

    def convert(self, docx_paths: Sequence[Path], out_dir: Path) -> dict[Path, Path]:
        """Map each input to its verified ``out_dir/<stem>.pdf``, or raise ConversionError."""
        ...

    def close(self) -> None:
        """Release processes and temporary folders."""
        ...


@runtime_checkable
class Warming(Protocol):
    """A converter that keeps LibreOffice running: it can start it ahead of the first document,
    and converts ``processes`` calls at once, so one document at a time costs nothing extra."""

    processes: int

    def warm_up(self) -> None:
        """Start LibreOffice now, in the background."""
        ...


def warm_up(converter: Converter) -> None:
    """Start the converter's LibreOffice now if it keeps one running (the watcher at start-up,
    ``recordgen process`` when files are waiting), so it starts while the first files render."""
    if isinstance(converter, Warming):
        converter.warm_up()


class _Closing:
    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class NoPdfConverter(_Closing):
    """Used when PDF output is switched off: makes nothing and returns an empty mapping."""

    def convert(self, docx_paths: Sequence[Path], out_dir: Path) -> dict[Path, Path]:
        return {}


def find_soffice(soffice: str | None = None) -> str:
    """The LibreOffice program to run: ``soffice`` (a name or path) or the first on PATH."""
    for name in [soffice] if soffice else ["soffice", "libreoffice"]:
        if found := shutil.which(name):
            return found
    where = f"at {soffice}" if soffice else "('soffice' or 'libreoffice' on PATH)"
    message = f"LibreOffice was not found {where}, so no PDF can be made. {INSTALL_HINT}"
    raise ConverterMissing(message)


def verify_pdf(path: Path) -> int:
    """The page count of the PDF at ``path``; ConversionError saying what is wrong otherwise."""
    try:
        with path.open("rb") as fh:
            if fh.read(5) != b"%PDF-":
                raise ConversionError("the file LibreOffice made is empty or not a PDF")
            fh.seek(0)
            pages = len(PdfReader(fh).pages)
    except FileNotFoundError as exc:
        raise ConversionError("LibreOffice made no PDF") from exc
    except ConversionError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files
        raise ConversionError(f"the PDF LibreOffice made cannot be opened ({exc})") from exc
    if pages < 1:
        raise ConversionError("the PDF LibreOffice made has no pages")
    return pages


def checked_inputs(docx_paths: Sequence[Path]) -> list[Path]:
    """The inputs, after the checks LibreOffice does not make: it converts an empty or non-ZIP
    ".docx" as plain text, and two inputs with one stem would make one PDF."""
    sources = [Path(p) for p in docx_paths]
    problems: list[str] = []
    stems: set[str] = set()
    for src in sources:
        if not src.is_file():
            problems.append(f"{src}: the file does not exist")
        elif src.stat().st_size == 0:
            problems.append(f"{src}: the file is empty")
        elif src.suffix.lower() == ".docx" and not zipfile.is_zipfile(src):
            problems.append(f"{src}: this is not a Word document (a .docx file is a ZIP archive)")
        if src.stem in stems:
            problems.append(f"{src}: another document in the batch would also make {src.stem}.pdf")
        stems.add(src.stem)
    if problems:
        raise ConversionError("No PDFs were made, because: " + "; ".join(problems))
    return sources


def conversion_failed(failures: dict[Path, str]) -> ConversionError:
    listed = "; ".join(f"{src}: {why}" for src, why in failures.items())
    return ConversionError(
        f"{len(failures)} Word document(s) could not be turned into PDF, so no PDFs were delivered "
        f"for this batch: {listed}. Open the document in Word or LibreOffice to check it is not "
        "damaged or password-protected, then try again."
    )


class _Run(NamedTuple):
    returncode: int
    timed_out: bool
    said: str  # the last line LibreOffice printed, for the error message


class LibreOfficeConverter(_Closing):
    """Converts each batch with one headless LibreOffice start, in a profile of its own.

    ``timeout_seconds`` is how long a start may go without finishing a document (the first start
    also builds the profile). Calls on one converter run one at a time; :class:`ParallelConverter`
    runs several.
    """

    def __init__(self, timeout_seconds: float = 120, soffice: str | None = None) -> None:
        self.timeout_seconds = timeout_seconds
        self._soffice = soffice
        self._lock = threading.Lock()
        self._profile: Path | None = None  # made on first use
        self._cleanup: weakref.finalize[[Path], LibreOfficeConverter] | None = None

    def convert(self, docx_paths: Sequence[Path], out_dir: Path) -> dict[Path, Path]:
        sources = checked_inputs(docx_paths)
        if not sources:
            return {}
        with tempfile.TemporaryDirectory(prefix="recordgen-pdf-") as staging:
            made, failures = self._convert_into(sources, Path(staging))
            if failures:
                raise conversion_failed(failures)
            return publish_pdfs(made, out_dir)

    def close(self) -> None:
        """Remove the profile; a later convert() builds a fresh one (a cold start)."""
        with self._lock:
            self._drop_profile()

    def _drop_profile(self) -> None:
        if self._cleanup is not None:
            self._cleanup()  # removes the folder, once
        self._profile = self._cleanup = None

    def _profile_uri(self) -> str:
        if self._profile is None:
            self._profile = Path(tempfile.mkdtemp(prefix="recordgen-soffice-profile-"))
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._profile, True)
        return self._profile.as_uri()

    def _convert_into(
        self, sources: list[Path], staging: Path
    ) -> tuple[dict[Path, Path], dict[Path, str]]:
        """Convert into ``staging``: (input -> verified PDF there, input -> why it failed)."""
        soffice = find_soffice(self._soffice)
        pending, pdf_folder = copy_inputs(sources, staging), staging / "out"
        pdf_folder.mkdir()
        made: dict[Path, Path] = {}
        failures: dict[Path, str] = {}
        with self._lock:
            for attempt in (1, 2):
                run = self._run(soffice, [c for _, c in pending], pdf_folder,
                                staging / f"log{attempt}")
                unfinished = []
                for src, copy in pending:
                    pdf = pdf_folder / f"{copy.stem}.pdf"
                    try:
                        verify_pdf(pdf)
                        made[src] = pdf
                        failures.pop(src, None)
                    except ConversionError as exc:
                        failures[src] = self._reason(run, str(exc))
                        pdf.unlink(missing_ok=True)
                        unfinished.append((src, copy))
                if run.timed_out or run.returncode < 0:
                    # Killed mid-write, its profile may hold a stale lock or half-written settings.
                    # Not after a plain non-zero exit: soffice.bin run directly exits 81 once
                    # after building a new profile, and the retry should reuse that profile.
                    self._drop_profile()
                if not unfinished or attempt == 2:
                    break
                log.warning(
                    "LibreOffice left %d of %d document(s) without a PDF (exit code %d, timed "
                    "out: %s); trying those once more", len(unfinished), len(pending), *run[:2],
                )  # fmt: skip
                # LibreOffice converts in argument order, so the first unfinished document most
                # likely hung or crashed it: it goes last, so the others get through this time.
                pending = unfinished[1:] + unfinished[:1]
        return made, failures

    def _reason(self, run: _Run, problem: str) -> str:
        if run.timed_out:
            problem = f"LibreOffice made no progress for {self.timeout_seconds:g} s and was stopped"
        elif run.returncode != 0:
            problem += f" (it exited with code {run.returncode})"
        if run.said:
            problem += f"; LibreOffice said {run.said!r}"
        return problem + " (tried twice)"

    def _run(self, soffice: str, inputs: list[Path], pdf_folder: Path, log_path: Path) -> _Run:
        command = [
            soffice, f"-env:UserInstallation={self._profile_uri()}",
            "--headless", "--invisible", "--norestore", "--nolockcheck", "--nologo", "--nodefault",
            "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(pdf_folder),
            *(str(path) for path in inputs),
        ]  # fmt: skip
        with log_path.open("w+b") as output:
            try:
                process = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                    cwd=pdf_folder.parent, start_new_session=True,
                )  # fmt: skip
            except (FileNotFoundError, PermissionError) as exc:
                message = f"LibreOffice at {soffice} cannot be run. {INSTALL_HINT}"
                raise ConverterMissing(message) from exc
            except OSError as exc:
                message = f"LibreOffice at {soffice} could not be started: {exc}"
                raise ConversionError(message) from exc
            try:
                timed_out = self._wait(process, pdf_folder)
            finally:
                # Always, even after a clean exit: soffice can leave helpers behind in its group.
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                returncode = process.wait()
            output.seek(0)
            lines = output.read()[-4000:].decode("utf-8", "replace").splitlines()
        said = [line.strip() for line in lines if line.strip() and not _ROUTINE.match(line)]
        return _Run(returncode, timed_out, said[-1] if said else "")

    def _wait(self, process: subprocess.Popen[bytes], pdf_folder: Path) -> bool:
        """Wait for ``process`` to end; True if it made no progress for ``timeout_seconds``."""
        deadline, seen = time.monotonic() + self.timeout_seconds, _progress(pdf_folder)
        while True:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, min(_POLL_SECONDS, deadline - time.monotonic())))
                return False
            now, progress = time.monotonic(), _progress(pdf_folder)
            if progress != seen:
                seen, deadline = progress, now + self.timeout_seconds
            elif now >= deadline:
                return True


def copy_inputs(sources: list[Path], staging: Path) -> list[tuple[Path, Path]]:
    """Copies under plain names: the caller's names may hold characters LibreOffice reads as
    options or URLs, and a copy cannot change while LibreOffice reads it."""
    given = staging / "in"
    given.mkdir(parents=True)
    pairs = []
    for number, src in enumerate(sources):
        copy = given / f"doc{number:04d}{src.suffix.lower()}"
        try:
            shutil.copyfile(src, copy)
        except OSError as exc:
            raise ConversionError(f"{src}: the Word document could not be read: {exc}") from exc
        pairs.append((src, copy))
    return pairs


def _progress(pdf_folder: Path) -> list[tuple[str, int]]:
    """What LibreOffice has written so far: while this changes, it is not hung."""
    found = []
    with os.scandir(pdf_folder) as entries:
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):
                found.append((entry.name, entry.stat().st_size))
    return sorted(found)


def publish_pdfs(made: dict[Path, Path], out_dir: Path) -> dict[Path, Path]:
    """Move verified PDFs into ``out_dir`` as ``<input stem>.pdf``, never half written there."""
    placed: dict[Path, Path] = {}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for src, pdf in made.items():
            target = out_dir / f"{src.stem}.pdf"
            pdf.chmod(PDF_MODE)
            try:
                pdf.replace(target)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                # Another filesystem: copy beside the target under a hidden name, then rename.
                hidden = target.with_name(f".{target.name}.{threading.get_ident()}.tmp")
                try:
                    shutil.copyfile(pdf, hidden)
                    hidden.replace(target)
                finally:
                    hidden.unlink(missing_ok=True)
            placed[src] = target
    except OSError as exc:
        for target in placed.values():
            target.unlink(missing_ok=True)
        raise ConversionError(f"The PDFs could not be written to {out_dir}: {exc}") from exc
    return placed


class ParallelConverter(_Closing):
    """Splits each batch over ``processes`` LibreOffice converters, each with its own profile."""

    def __init__(
        self, processes: int = 2, timeout_seconds: float = 120, soffice: str | None = None
    ) -> None:
        if processes < 1:
            raise ValueError("processes must be at least 1")
        self._workers = [LibreOfficeConverter(timeout_seconds, soffice) for _ in range(processes)]

    def convert(self, docx_paths: Sequence[Path], out_dir: Path) -> dict[Path, Path]:
        sources = checked_inputs(docx_paths)
        count = min(len(self._workers), len(sources))
        if count == 0:
            return {}
        size, extra = divmod(len(sources), count)
        bounds = [i * size + min(i, extra) for i in range(count + 1)]
        with tempfile.TemporaryDirectory(prefix="recordgen-pdf-") as staging:
            folders = [Path(staging) / f"worker{i}" for i in range(count)]
            with ThreadPoolExecutor(max_workers=count) as pool:
                futures = [
                    pool.submit(worker._convert_into, sources[bounds[i] : bounds[i + 1]], folder)
                    for i, (worker, folder) in enumerate(zip(self._workers, folders, strict=False))
                ]
            made: dict[Path, Path] = {}
            failures: dict[Path, str] = {}
            for future in futures:
                worker_made, worker_failures = future.result()  # re-raises a worker's error
                made.update(worker_made)
                failures.update(worker_failures)
            if failures:
                raise conversion_failed({src: failures[src] for src in sources if src in failures})
            return publish_pdfs({src: made[src] for src in sources}, out_dir)

    def close(self) -> None:
        for worker in self._workers:
            worker.close()


def convert_parallel(
    docx_paths: Sequence[Path],
    out_dir: Path,
    processes: int = 2,
    *,
    timeout_seconds: float = 120,
    soffice: str | None = None,
) -> dict[Path, Path]:
    """Convert one batch with ``processes`` fresh LibreOffice converters, then release them."""
    with ParallelConverter(processes, timeout_seconds, soffice) as converter:
        return converter.convert(docx_paths, out_dir)


def convert_isolating_failures(
    converter: Converter, sources: list[Path], out_dir: Path
) -> tuple[dict[Path, Path], dict[Path, str]]:
    """Convert as one batch; if the batch fails, convert one by one so one damaged document does
    not hold back the others."""
    out_dir.mkdir()
    try:
        return converter.convert(sources, out_dir), {}
    except ConverterMissing as exc:
        return {}, dict.fromkeys(sources, str(exc))
    except ConversionError as exc:
        if len(sources) == 1:
            return {}, {sources[0]: str(exc)}
    pdfs: dict[Path, Path] = {}
    problems: dict[Path, str] = {}
    for source in sources:
        try:
            pdfs.update(converter.convert([source], out_dir))
        except ConversionError as exc:
            problems[source] = str(exc)
    return pdfs, problems


def pdfs_of(
    converter: Converter, documents: Mapping[Key, tuple[str, bytes]]
) -> tuple[dict[Key, bytes], dict[Key, str]]:
    """PDFs of Word documents held in memory (key -> (file stem, .docx bytes)) in one converter
    call: the PDF's bytes for each document converted, the reason for each that was not."""
    if not documents:
        return {}, {}
    with tempfile.TemporaryDirectory(prefix="recordgen-convert-") as folder:
        sources = {}
        for key, (stem, content) in documents.items():
            sources[key] = Path(folder) / f"{stem}.docx"
            sources[key].write_bytes(content)
        made, problems = convert_isolating_failures(converter, list(sources.values()),
                                                    Path(folder) / "pdf")
        return ({key: made[path].read_bytes() for key, path in sources.items() if path in made},
                {key: problems.get(path, "no PDF was made") for key, path in sources.items()
                 if path not in made})


class PdfQueue(Generic[Key]):
    """PDFs of Word documents held in memory, asked for one by one as each is rendered and
    collected, in any order, before publishing.

    A converter that keeps LibreOffice running (:class:`Warming`) starts on each document at once,
    ``processes`` at a time, so conversion overlaps the rendering (and the publishing and
    recording) of the documents around it. Any other converter is given every document asked for
    in one call when the first is collected: one LibreOffice start per batch.
    """

    def __init__(self, converter: Converter) -> None:
        self._converter = converter
        self._pool = ThreadPoolExecutor(converter.processes, thread_name_prefix="recordgen-pdf") \
            if isinstance(converter, Warming) else None
        self._asked: dict[Key, Future[tuple[dict[Key, bytes], dict[Key, str]]]] = {}
        self._waiting: dict[Key, tuple[str, bytes]] = {}
        self._done: dict[Key, tuple[bytes | None, str | None]] = {}

    def ask(self, key: Key, stem: str, content: bytes) -> None:
        """Ask for the PDF of ``content`` (a .docx), known by ``key``, named ``stem``.pdf."""
        if self._pool is not None:
            self._asked[key] = self._pool.submit(pdfs_of, self._converter, {key: (stem, content)})
        else:
            self._waiting[key] = (stem, content)

    def collect(self, key: Key) -> tuple[bytes | None, str | None]:
        """The PDF's bytes, or why there is none (both None if none was asked for); waits for
        it if need be."""
        if key in self._waiting:
            pdfs, problems = pdfs_of(self._converter, self._waiting)
            self._done.update((k, (pdfs.get(k), problems.get(k))) for k in self._waiting)
            self._waiting.clear()
        if key in self._asked:
            pdfs, problems = self._asked.pop(key).result()
            return pdfs.get(key), problems.get(key)
        return self._done.pop(key, (None, None))  # none was asked for

    def close(self) -> None:
        """Drop what has not started converting, and wait for what has (on the way out)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
