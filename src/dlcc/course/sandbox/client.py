"""The trusted side of the sandbox: start it, send calls, enforce time limits, clean up.

One `SandboxClient` serves one submission. It starts a sandbox process lazily, restarts a
fresh one (with a fresh copy of the files) after a crash or timeout, and keeps two clocks:
the time the current test may spend in student code, and the whole submission's budget.
Import failures are remembered, so a module that loops forever at import costs its time once.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from dlcc.course.sandbox import channel, cleanup, codec, launch


class StudentError(Exception):
    """Student code failed; the message is what the student sees."""


class StudentException(StudentError):
    """Student code raised an exception."""

    def __init__(self, what: str, type_name: str, message: str, tb: str):
        self.type_name, self.student_message, self.student_traceback = type_name, message, tb
        text = f"{what} raised {type_name}: {message}"
        super().__init__(f"{text}\n{tb}" if tb else text)


class StudentTimeout(StudentError):
    pass


class StudentCrash(StudentError):
    pass


class SandboxStartError(RuntimeError):
    """The sandbox could not start: a grader problem, not the student's."""


_SIGNAL_HINTS = {
    signal.SIGKILL: "killed (SIGKILL): the memory, CPU or process limit was probably exceeded",
    signal.SIGSEGV: "crashed (segmentation fault; often the memory limit)",
    signal.SIGXCPU: "stopped: the CPU-time limit was exceeded",
    signal.SIGXFSZ: "stopped: it wrote a file (or printed output) over the size limit",
    signal.SIGABRT: "aborted (SIGABRT)",
}


def _traversable_tmp() -> Path:
    """A temp base that an unprivileged sandbox uid can reach."""
    for base in (tempfile.gettempdir(), "/var/tmp", "/tmp"):
        p = Path(base)
        if p.is_dir() and all(os.stat(q).st_mode & 0o001 for q in [p, *p.parents]):
            return p
    return Path(tempfile.gettempdir())


class SandboxClient:
    """Args:
        spec: the files, limits, isolation mode and declared needs (see `launch.Spec`).
        output_path: file receiving the sandbox's stdout and stderr.
    """

    def __init__(self, spec: launch.Spec, output_path: str):
        self.spec, self.limits, self.mode = spec, spec.limits, spec.mode
        self.uid = spec.uid
        self.output_path = output_path
        self.base = Path(tempfile.mkdtemp(prefix="dlcc-sandbox-", dir=_traversable_tmp()))
        os.chmod(self.base, 0o711)
        self.launcher = launch.Launcher(spec, self.base)
        self.proc: subprocess.Popen | None = None
        self.generation = 0
        self.imported: set[str] = set()
        self.failed_imports: dict[str, str] = {}
        self.total_left = float(self.limits["total_timeout_s"])
        self.test_left = float(self.limits["test_timeout_s"])
        self.test_limit = self.test_left
        self.seq = 0
        self.cpu_s = 0.0  # CPU seconds the sandbox processes reported when they ended normally
        if self.mode == "namespace":
            cleanup.become_subreaper()

    # ------------------------------------------------------------------ lifecycle
    def begin_test(self, timeout: float) -> None:
        self.test_left = self.test_limit = float(timeout)

    def _workdir(self) -> Path:
        return self.base / f"work{self.generation}"

    def start(self) -> None:
        work = self._workdir()
        if self.mode == "namespace":
            self._kill_leftovers()
        self.launcher.prepare(work)
        r_req, w_req = os.pipe()
        r_resp, w_resp = os.pipe()
        cfg = self.launcher.config(work, r_req, w_resp, self.generation)
        argv, extra = self.launcher.command(work, cfg)
        out = os.open(self._output_file(self.generation),
                      os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            self.proc = subprocess.Popen(argv, pass_fds=(r_req, w_resp), stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=out, env=self.launcher.env(work),
                                         cwd=str(self.base), **extra)
        finally:
            for fd in (r_req, w_resp, out):
                os.close(fd)
        self.w, self.r = w_req, r_resp
        try:
            reply = codec.decode(channel.recv(self.r, time.monotonic() + 120, 1 << 20))
        except (channel.ChannelError, codec.CodecError):
            tail = self._output_tail()  # read before kill() moves on to the next output file
            self.kill()
            raise SandboxStartError(f"the sandbox process did not start: {tail}") from None
        if reply != {"ok": True, "value": "ready", "seq": 0}:
            self.kill()
            raise SandboxStartError("the sandbox sent an unexpected greeting")

    def _output_tail(self) -> str:
        try:
            data = Path(self._output_file(self.generation)).read_bytes()
            return data[-2000:].decode("utf-8", "replace")
        except OSError:
            return "(no output)"

    def _output_file(self, generation: int) -> str:
        """Each sandbox process prints into its own file, so one that hit the size limit does
        not spoil the output of the next."""
        return f"{self.output_path}.{generation}"

    def output_mark(self) -> tuple[int, int]:
        path = Path(self._output_file(self.generation))
        return self.generation, (path.stat().st_size if path.exists() else 0)

    def output_since(self, mark: tuple[int, int], limit: int = 4000) -> str:
        """What student code printed since `mark`, shortened to about `limit` characters."""
        chunks = []
        for gen in range(mark[0], self.generation + 1):
            try:
                with open(self._output_file(gen), "rb") as fh:
                    fh.seek(mark[1] if gen == mark[0] else 0)
                    chunks.append(fh.read(limit * 4))
            except OSError:
                continue
        text = b"".join(chunks).decode("utf-8", "replace")
        if len(text) > limit:
            text = text[:limit // 2] + "\n... (output shortened) ...\n" + text[-limit // 2:]
        return text

    def kill(self, grace: float = 0.0) -> int | None:
        """Stop the sandbox and everything it started; return its exit status (negative: the
        signal that ended it). `grace`: seconds to let a process that is ending by itself
        report its own status (bwrap passes it on a moment after its child ends)."""
        rc = None
        if self.proc is not None:
            if grace:
                try:
                    self.proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    pass
            if self.mode == "fallback":  # the process group: the sandbox and its children
                cleanup.kill_group(self.proc.pid)
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            rc = self.proc.wait()
            if self.mode == "bwrap" and rc is not None and rc > 128:
                rc = 128 - rc  # bwrap reports a child killed by signal N as 128 + N
            for fd in (self.w, self.r):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.proc = None
        if self.mode == "namespace":
            self._kill_leftovers()
        shutil.rmtree(self._workdir(), ignore_errors=True)
        self.generation += 1
        self.imported.clear()
        return rc

    def _kill_leftovers(self) -> None:
        cleanup.kill_uid(self.uid)
        for tmp in ("/tmp", "/var/tmp"):  # files the uid left behind
            try:
                entries = list(os.scandir(tmp))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.stat(follow_symlinks=False).st_uid == self.uid:
                        if entry.is_dir(follow_symlinks=False):
                            shutil.rmtree(entry.path, ignore_errors=True)
                        else:
                            os.unlink(entry.path)
                except OSError:
                    continue

    def close(self) -> None:
        if self.proc is not None:
            try:
                channel.send(self.w, codec.encode({"op": "exit"}), time.monotonic() + 2)
                reply = codec.decode(channel.recv(self.r, time.monotonic() + 2, 1 << 16))
                cpu = reply.get("value", {}).get("cpu_s") if isinstance(reply, dict) else None
                if isinstance(cpu, (int, float)) and 0 <= cpu < 1e7:
                    self.cpu_s += float(cpu)  # as reported by the sandbox: statistics only
            except (channel.ChannelError, codec.CodecError, AttributeError):
                pass
            self.kill(grace=2.0)
        elif self.mode == "namespace":
            self._kill_leftovers()
        shutil.rmtree(self.base, ignore_errors=True)

    # ------------------------------------------------------------------ requests
    def _request(self, req: dict, what: str, budget: float, budget_name: str):
        if self.proc is None:
            self.start()
        if budget <= 0:
            raise StudentTimeout(f"{what} was not run: {budget_name} is used up")
        t0 = time.monotonic()
        self.seq += 1
        req = {**req, "seq": self.seq}
        try:
            channel.send(self.w, codec.encode(req), t0 + budget)
            payload = channel.recv(self.r, t0 + budget, int(self.limits["max_reply_mb"]) << 20)
            reply = codec.decode(payload)
            if not isinstance(reply, dict) or "ok" not in reply:
                raise codec.CodecError("reply is not a dict with 'ok'")
            if reply.get("seq") != self.seq:
                raise codec.CodecError("reply does not answer the request (out of sequence)")
        except channel.ChannelTimeout:
            self._spend(t0)
            self.kill()
            raise StudentTimeout(f"{what} did not finish within {budget_name}; "
                                 "an infinite loop?") from None
        except (channel.ChannelError, codec.CodecError) as exc:
            self._spend(t0)
            rc = self.kill(grace=1.0)
            raise StudentCrash(self._explain_crash(what, rc, exc)) from None
        self._spend(t0)
        if reply["ok"]:
            return reply.get("value")
        err = reply.get("error") if isinstance(reply.get("error"), dict) else {}
        raise StudentException(what, str(err.get("type", "Error"))[:100],
                               str(err.get("message", ""))[:4000], str(err.get("traceback", ""))[:4000])

    def _spend(self, t0: float) -> None:
        spent = time.monotonic() - t0
        self.total_left -= spent
        self.test_left -= spent

    def _explain_crash(self, what: str, rc: int | None, exc: Exception) -> str:
        if isinstance(exc, (channel.ChannelCorrupt, codec.CodecError)):
            return (f"{what}: the sandbox sent a malformed reply ({exc}); student code must not "
                    "write to the grader's channel")
        if rc is not None and rc < 0:
            hint = _SIGNAL_HINTS.get(-rc, f"killed by signal {-rc}")
            limits = (f" (limits: {self.limits['memory_mb']} MB memory, "
                      f"{self.limits['processes']} processes)")
            return f"{what}: the process running student code was {hint}{limits}"
        return (f"{what}: the process running student code exited (code {rc}); student code must "
                "not call sys.exit() or os._exit()")

    def _budget(self) -> tuple[float, str]:
        if self.test_left <= self.total_left:
            return self.test_left, f"this test's time limit of {self.test_limit:g} s"
        return self.total_left, (f"the submission's total time limit of "
                                 f"{self.limits['total_timeout_s']:g} s")

    def ensure_imported(self, module: str) -> None:
        """Import `module` in the sandbox once per sandbox process. Failures of the import itself
        are remembered, so a module that loops or crashes at import costs its time only once."""
        if module in self.failed_imports:
            raise StudentError(self.failed_imports[module])
        if self.proc is not None and module in self.imported:
            return
        total = f"the submission's total time limit of {self.limits['total_timeout_s']:g} s"
        if self.total_left <= 0:
            raise StudentTimeout(f"importing {module} was not run: {total} is used up")
        limit = float(self.limits["test_timeout_s"])
        own = limit <= self.total_left
        budget, name = (limit, f"the import time limit of {limit:g} s") if own else (self.total_left, total)
        try:
            self._request({"op": "import", "module": module}, f"importing {module}", budget, name)
        except StudentTimeout as exc:
            if own:
                self.failed_imports[module] = str(exc)
            raise
        except StudentError as exc:
            self.failed_imports[module] = str(exc)
            raise
        self.imported.add(module)

    def call(self, module: str, attr: str | None, args: tuple, kwargs: dict,
             keep: bool = False, ref: codec.Ref | None = None):
        what = f"{module}.{attr}()" if ref is None else f"{ref!r}()"
        if self.total_left <= 0:
            raise StudentTimeout(f"{what} was not run: the submission's total time limit of "
                                 f"{self.limits['total_timeout_s']:g} s is used up")
        self._check_refs((args, kwargs, ref))
        if ref is None:
            self.ensure_imported(module)
        req = {"op": "call", "module": module, "attr": attr, "ref": ref,
               "args": list(args), "kwargs": dict(kwargs), "keep": keep}
        return self._request(req, what, *self._budget())

    def getattr(self, module: str, attr: str):
        self.ensure_imported(module)
        return self._request({"op": "getattr", "module": module, "attr": attr},
                             f"{module}.{attr}", *self._budget())

    def fetch(self, ref: codec.Ref):
        self._check_refs(ref)
        return self._request({"op": "fetch", "ref": ref}, f"fetching {ref!r}", *self._budget())

    def _check_refs(self, value) -> None:
        if isinstance(value, codec.Ref) and value.generation != self.generation:
            raise StudentError(f"{value!r} was lost when the sandbox restarted after a failure")
        if isinstance(value, (list, tuple)):
            for v in value:
                self._check_refs(v)
        if isinstance(value, dict):
            for v in value.values():
                self._check_refs(v)
