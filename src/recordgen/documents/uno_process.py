"""A LibreOffice kept running, converting Word documents to PDF one at a time over UNO.

Not imported by recordgen: :mod:`recordgen.documents.warm` runs this file as a script with the
system's Python (``/usr/bin/python3``), which has Debian's ``python3-uno``; recordgen's own virtual
environment cannot import ``uno``. It uses nothing but the standard library and ``uno``.

    /usr/bin/python3 uno_process.py SOFFICE PROFILE_FOLDER

It starts one headless LibreOffice (``soffice.bin`` itself, so that the kernel can stop it with this
process: ``PR_SET_PDEATHSIG``) with a profile of its own, connects to it over a private UNO pipe,
then reads requests, one JSON object a line, on standard input, and answers each on standard
output:

    {"source": "/path/in.docx", "target": "/path/out.pdf"}  ->  {"ok": true, "rss": BYTES}
                                                            or  {"ok": false, "error": "..."}

Its first line says it is ready (``{"ready": true, "pid": N}``) or why it cannot start. Documents
are opened hidden and read-only and closed after each conversion. When standard input closes (the
recordgen that started it stopped, however it stopped, even by ``kill -9``), it kills LibreOffice
and exits at once, even in the middle of a conversion.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

_PR_SET_PDEATHSIG = 1
_RESTART = 81  # soffice.bin asks to be started again after it built a new profile


def _die_with_parent() -> None:
    """In the child, before LibreOffice starts: SIGKILL it when this helper dies, however."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _say(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _binary(soffice: str) -> str:
    """soffice.bin beside the ``soffice`` launcher, when there is one (the launcher forks it, and a
    forked child does not inherit the parent-death signal)."""
    real = os.path.realpath(soffice)
    candidate = os.path.join(os.path.dirname(real), "soffice.bin")
    return candidate if os.access(candidate, os.X_OK) else soffice


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Office:
    """One LibreOffice, started and connected."""

    def __init__(self, soffice: str, profile: str, deadline: float) -> None:
        import uno  # noqa: F401 (checked first, so a missing python3-uno is said plainly)

        self.pipe = f"recordgen-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.command = [
            _binary(soffice), f"-env:UserInstallation=file://{profile}", "--headless",
            "--invisible", "--norestore", "--nolockcheck", "--nologo", "--nodefault",
            "--nofirststartwizard", f"--accept=pipe,name={self.pipe};urp;StarOffice.ComponentContext",
        ]
        self.process = self._start()
        self.desktop = self._connect(deadline)

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)

    def _connect(self, deadline: float) -> object:
        import uno
        from com.sun.star.connection import NoConnectException

        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext(
            "com.sun.star.bridge.UnoUrlResolver", local)
        while True:
            try:
                remote = resolver.resolve(
                    f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext")
                return remote.ServiceManager.createInstanceWithContext(
                    "com.sun.star.frame.Desktop", remote)
            except NoConnectException:
                pass
            code = self.process.poll()
            if code == _RESTART:
                self.process = self._start()
            elif code is not None:
                raise RuntimeError(f"LibreOffice stopped while starting (exit code {code})")
            if time.monotonic() > deadline:
                raise RuntimeError("LibreOffice did not start in time")
            time.sleep(0.05)

    def convert(self, source: str, target: str) -> None:
        import uno
        from com.sun.star.beans import PropertyValue

        def prop(name: str, value: object) -> object:
            item = PropertyValue()
            item.Name, item.Value = name, value
            return item

        document = self.desktop.loadComponentFromURL(  # type: ignore[attr-defined]
            uno.systemPathToFileUrl(source), "_blank", 0,
            (prop("Hidden", True), prop("ReadOnly", True)))
        if document is None:
            raise RuntimeError("LibreOffice could not open the document")
        try:
            document.storeToURL(uno.systemPathToFileUrl(target),
                                (prop("FilterName", "writer_pdf_Export"),))
        finally:
            document.close(True)

    def answers(self) -> bool:
        """Whether this LibreOffice still runs and answers. One killed a moment ago may not be
        reaped yet (its process still looks alive) while its bridge is already gone."""
        if self.process.poll() is not None:
            return False
        try:
            self.desktop.getFrames()  # type: ignore[attr-defined]
        except Exception:
            return False
        return True

    def kill(self) -> None:
        try:
            self.process.kill()
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass


def _watch_input(lines: list[bytes], ready: threading.Condition, office: list[Office]) -> None:
    """Read requests; when standard input closes, kill LibreOffice and exit at once."""
    for line in sys.stdin.buffer:
        with ready:
            lines.append(line)
            ready.notify()
    for each in office:
        each.kill()
    os._exit(0)


def main(argv: list[str]) -> int:
    soffice, profile = argv[1], argv[2]
    office: list[Office] = []
    lines: list[bytes] = []
    ready = threading.Condition()
    threading.Thread(target=_watch_input, args=(lines, ready, office), daemon=True).start()
    try:
        office.append(Office(soffice, profile, time.monotonic() + float(argv[3])))
    except ImportError:
        _say({"ok": False, "missing_uno": True,
              "error": "the system's Python has no UNO module (install python3-uno)"})
        return 1
    except Exception as exc:
        _say({"ok": False, "error": str(exc) or type(exc).__name__})
        return 1
    _say({"ready": True, "pid": office[0].process.pid})
    while True:
        with ready:
            while not lines:
                ready.wait()
            line = lines.pop(0)
        try:
            request = json.loads(line)
            office[0].convert(request["source"], request["target"])
        except Exception as exc:
            alive = office[0].answers()
            if not alive:
                office[0].kill()
            _say({"ok": False, "error": str(exc) or type(exc).__name__, "alive": alive})
            if not alive:
                return 1
            continue
        _say({"ok": True, "rss": _rss(office[0].process.pid)})


if __name__ == "__main__":
    sys.exit(main(sys.argv))
