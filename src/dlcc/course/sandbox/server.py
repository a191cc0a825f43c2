"""The untrusted side: a process that imports student code and runs single function calls.

Started by the grading harness as `python -I -m dlcc.course.sandbox.server '<json config>'`
(inside bwrap in bwrap mode). It first isolates itself (see `modes`), while no student code is
loaded yet, then serves requests from the harness over a pipe:

    {"op": "import", "module": m}                       -> None
    {"op": "call", "module": m, "attr": a | "ref": id,
     "args": [...], "kwargs": {...}, "keep": bool}       -> the return value (or a Ref)
    {"op": "getattr", "module": m, "attr": a}           -> the attribute's value
    {"op": "fetch", "ref": id}                          -> the referenced value
    {"op": "exit"}                                      -> {"cpu_s": its CPU seconds}, then ends

Every reply is {"ok": True, "value": v} or {"ok": False, "error": {type, message, traceback}}.
Only encoded values travel back (see `codec`): the harness compares them with the expected
ones itself, so nothing this process does can change a score except the values it returns.
"""

from __future__ import annotations

import errno
import importlib
import json
import os
import resource
import sys
import traceback
from pathlib import Path

from dlcc.course.sandbox import channel
from dlcc.course.sandbox import codec


def _boot(cfg: dict) -> None:
    """Isolate this process (see `modes`) while no student code is loaded yet."""
    from dlcc.course.sandbox import limits, namespace, seccomp

    mode, needs = cfg["mode"], cfg.get("needs", {})
    if mode == "namespace":
        namespace.enter(cfg["hide"], cfg["needed"], loopback=bool(needs.get("network")))
        namespace.drop_privileges(cfg["uid"])
    import numpy  # noqa: F401  (loaded before the limits so a tiny memory limit fails clearly)

    if mode == "fallback":
        limits.block_network_python()
    limits.apply(cfg["limits"], mode)
    if cfg.get("seccomp"):
        ok, why = seccomp.install(bool(needs.get("subprocesses")), bool(needs.get("network")))
        if not ok:  # never grade with less isolation than the results will state
            raise RuntimeError(f"the seccomp filter could not be installed: {why}")
    os.chdir(cfg["workdir"])
    sys.path.insert(0, cfg["workdir"])
    sys.argv = ["student"]


class Server:
    def __init__(self, workdir: str, rfd: int, wfd: int, generation: int, size_mb: float = 0):
        self.workdir = Path(workdir)
        self.size_mb = size_mb
        self.rfd, self.wfd, self.generation = rfd, wfd, generation
        self.refs: dict[int, object] = {}

    def keep(self, value) -> codec.Ref:
        ref = codec.Ref(len(self.refs) + 1, type(value).__name__, self.generation)
        self.refs[ref.id] = value
        return ref

    def resolve(self, value):
        """Swap Refs in the arguments for the values they stand for."""
        return codec.resolve(value, self._kept)

    def _kept(self, ref: codec.Ref):
        if ref.generation != self.generation or ref.id not in self.refs:
            raise LookupError(f"{ref!r} belongs to an earlier sandbox process")
        return self.refs[ref.id]

    def module(self, name: str):
        if not (self.workdir / f"{name}.py").is_file():
            raise ModuleNotFoundError(f"{name}.py is not in the submission")
        mod = sys.modules.get(name)
        if mod is not None and Path(getattr(mod, "__file__", "") or "").parent == self.workdir:
            return mod
        return importlib.import_module(name)

    def handle(self, req: dict):
        op = req.get("op")
        if op == "import":
            self.module(req["module"])
            return None
        if op == "call":
            fn = self.resolve(req["ref"]) if req.get("ref") else \
                getattr(self.module(req["module"]), req["attr"])
            args = self.resolve(req.get("args", []))
            kwargs = self.resolve(req.get("kwargs", {}))
            result = fn(*args, **kwargs)
            return self.keep(result) if req.get("keep") else result
        if op == "getattr":
            return getattr(self.module(req["module"]), req["attr"])
        if op == "fetch":
            return self.resolve(req["ref"])
        raise ValueError(f"unknown request {op!r}")

    def reply(self, message: dict) -> None:
        try:
            payload = codec.encode(message, keep=self.keep)
        except codec.CodecError as exc:
            payload = codec.encode({"ok": False, "error": {
                "type": "UncheckableValue", "traceback": "",
                "message": f"the value returned cannot be checked: {exc}"}})
        channel.send(self.wfd, payload)

    def serve(self) -> None:
        self.reply({"ok": True, "value": "ready", "seq": 0})
        while True:
            req = codec.decode(channel.recv(self.rfd))
            if req.get("op") == "exit":  # report its CPU time (statistics only) and end
                usage = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
                cpu = sum(u.ru_utime + u.ru_stime for u in usage)
                self.reply({"ok": True, "value": {"cpu_s": round(cpu, 3)}, "seq": req.get("seq")})
                return
            try:
                value = self.handle(req)
                message = {"ok": True, "value": value}
            except BaseException as exc:  # SystemExit and KeyboardInterrupt too: report, don't die
                message = {"ok": False, "error": describe_error(exc, self.workdir, self.size_mb)}
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except BaseException:  # e.g. the output size limit; the reply matters more
                    pass
            message["seq"] = req.get("seq")
            self.reply(message)


def describe_error(exc: BaseException, workdir: Path, size_mb: float = 0) -> dict:
    """Type, message and the student-code part of the traceback, as plain strings."""
    try:
        text = str(exc)
    except BaseException:  # a hostile __str__
        text = "(the exception's message could not be read)"
    if isinstance(exc, SystemExit):
        text = f"student code called sys.exit({exc.code!r}); that is not allowed while grading"
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        text += f" (files and printed output are limited to {size_mb:g} MB while grading)"
    if isinstance(exc, MemoryError):
        text = (text + " " if text else "") + "(out of memory: the grader's memory limit was reached)"
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).parent == workdir or frame.filename == "<string>":
            frames.append(f'  File "{Path(frame.filename).name}", line {frame.lineno}, '
                          f"in {frame.name}\n    {frame.line or ''}".rstrip())
    if isinstance(exc, SyntaxError) and exc.filename:
        frames.append(f'  File "{Path(exc.filename).name}", line {exc.lineno}\n    '
                      f"{(exc.text or '').strip()}")
    return {"type": type(exc).__name__, "message": text[:4000], "traceback": "\n".join(frames)[-4000:]}


def main(argv: list[str]) -> int:
    cfg = json.loads(argv[0])
    try:
        _boot(cfg)
    except Exception as exc:  # the harness shows this as a grader problem, not the student's
        print(f"dlcc sandbox: could not start: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 97
    Server(cfg["workdir"], cfg["rfd"], cfg["wfd"], cfg["generation"],
           cfg["limits"]["file_size_mb"]).serve()
    return 0


if __name__ == "__main__":
    os._exit(main(sys.argv[1:]))
