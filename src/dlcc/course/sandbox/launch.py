"""Starting one sandbox process in the chosen mode: its folder, its environment, its command.

Each sandbox process gets a fresh work folder holding copies of the submission's files and
the given files. Files listed in `shared` (decoded datasets the assignment declares) appear
in it read-only: bind-mounted in bwrap mode, and elsewhere a read-only copy (a hard link
where possible) owned by the grader, so no submission can change what the next one reads.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from dlcc.course.sandbox import bwrap, modes, namespace, seccomp

PROBE_UID = 199999  # a uid no sandbox uses (theirs start at 200000)
_bwrap_probe: list[tuple[bool, str]] = []


@dataclass
class Spec:
    """What every sandbox process of one submission shares.

    files: name -> host path copied into the work folder (student files, given files).
    shared: relative path in the work folder -> host file shared read-only.
    limits: see `authoring.format.Limits.as_dict`; needs: {"subprocesses", "network"} flags.
    hide: paths covered inside the sandbox (namespace mode); uid: the private uid.
    """

    files: dict[str, str]
    limits: dict
    mode: str
    uid: int
    hide: list[str] = field(default_factory=list)
    needs: dict = field(default_factory=dict)
    shared: dict[str, str] = field(default_factory=dict)


def needed_paths() -> list[str]:
    """What student code must read in every mode: Python, dlcc and the data folders."""
    return [*bwrap.python_paths(), *bwrap.data_paths()]


def bwrap_runs_as(mode: str) -> str | None:
    """Who runs bwrap: the grader itself ("self"), or for a root grader a private uid ("uid",
    through `prelaunch`)."""
    if mode != "bwrap":
        return None
    return "uid" if os.geteuid() == 0 else "self"


def facts(mode: str, needs: dict, uid: int | None = None) -> dict:
    """The isolation facts of sandboxes started with these settings (for results files)."""
    return modes.describe(mode, needs, uid=uid if mode in ("namespace", "bwrap") else None,
                          bwrap_as=bwrap_runs_as(mode))


def bwrap_command(bwrap_argv: list[str], uid: int, needed: list[str]) -> list[str]:
    """The command that runs `bwrap_argv`: directly, or for a root grader through `prelaunch`."""
    if os.geteuid() != 0:
        return bwrap_argv
    cfg = {"uid": uid, "needed": needed, "argv": bwrap_argv}
    return [sys.executable, "-I", "-m", "dlcc.course.sandbox.prelaunch", json.dumps(cfg)]


def probe_bwrap() -> tuple[bool, str]:
    """Does a bwrap sandbox with our mounts start a Python here? (cached)"""
    if _bwrap_probe:
        return _bwrap_probe[0]
    exe = bwrap.executable()
    if sys.platform != "linux":
        result = (False, f"not Linux ({sys.platform})")
    elif exe is None:
        result = (False, "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)")
    else:
        with tempfile.TemporaryDirectory(prefix="dlcc-bwrap-probe-") as tmp:
            os.chmod(tmp, 0o755)
            layout = bwrap.Layout(workdir=tmp, etc_dir=str(Path(tmp) / "etc"),
                                  ro_paths=needed_paths())
            bwrap.write_identity(Path(layout.etc_dir))
            argv = [exe, *bwrap.arguments(layout), "--",
                    sys.executable, "-I", "-c", "import dlcc.course.sandbox.server"]
            cmd = bwrap_command(argv, PROBE_UID, [*layout.ro_paths, tmp])
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
                ok = proc.returncode == 0
                why = "bwrap works" if ok else f"bwrap failed: {(proc.stderr or '').strip()[-300:]}"
            except (OSError, subprocess.TimeoutExpired) as exc:
                ok, why = False, f"bwrap failed: {exc}"
        result = (ok, why)
    _bwrap_probe.append(result)
    return result


def choose_mode(requested: str = "auto") -> tuple[str, str]:
    """Return (mode, why). `requested` is auto | bwrap | namespace | fallback."""
    from dlcc.errors import ConfigError

    if requested == "fallback":
        return "fallback", "fallback requested"
    if requested in ("auto", "bwrap"):
        ok, why = probe_bwrap()
        if ok:
            return "bwrap", why
        if requested == "bwrap":
            raise ConfigError(f"bubblewrap isolation is not available: {why}",
                              fix="install bubblewrap (apt-get install bubblewrap), or pass "
                                  "--isolation namespace (root) or fallback")
        bwrap_why = why
    ok, why = namespace.probe()
    if requested == "namespace":
        if not ok:
            raise ConfigError(f"namespace isolation is not available: {why}",
                              fix="run the grader as root on Linux, or pass --isolation fallback")
        return "namespace", why
    if ok:
        return "namespace", f"{bwrap_why}; {why}"
    return "fallback", f"{bwrap_why}; {why}"


class Launcher:
    def __init__(self, spec: Spec, base: Path):
        self.spec, self.base = spec, base
        self.ro_paths = needed_paths()
        self.runs_as = bwrap_runs_as(spec.mode)
        if spec.mode == "bwrap":
            bwrap.write_identity(base / "etc")

    @property
    def private_uid(self) -> bool:
        """Files of the work folder belong to the sandbox's own uid."""
        return self.spec.mode == "namespace" or self.runs_as == "uid"

    # ------------------------------------------------------------------ the work folder
    def prepare(self, work: Path) -> None:
        work.mkdir(mode=0o700)
        for sub in ("tmp", ".cache"):
            (work / sub).mkdir()
        for name, src in self.spec.files.items():
            shutil.copyfile(src, work / name)
        if self.private_uid:
            for path in [work, *work.rglob("*")]:
                os.chown(path, self.spec.uid, self.spec.uid)
        for rel, src in self.spec.shared.items():
            dest = work / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            if self.private_uid:
                os.chown(dest.parent, self.spec.uid, self.spec.uid)
            if self.spec.mode == "bwrap":
                dest.touch()  # the mount point of a read-only bind
            else:
                _read_only_copy(Path(src), dest, link=self.private_uid)

    # ------------------------------------------------------------------ the process
    def inside(self, work: Path) -> str:
        """The work folder as student code sees it."""
        return bwrap.WORK if self.spec.mode == "bwrap" else str(work)

    def env(self, work: Path) -> dict:
        inside = self.inside(work)
        tmp = "/tmp" if self.spec.mode == "bwrap" else f"{inside}/tmp"
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
               "HOME": inside, "TMPDIR": tmp, "LANG": "C.UTF-8", "USER": "student",
               "DLCC_CACHE": f"{inside}/.cache", "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{inside}/.cache/mpl",
               "WANDB_MODE": "disabled", "PYTHONDONTWRITEBYTECODE": "1"}
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                    "NUMEXPR_NUM_THREADS"):
            env[var] = "1"
        data = bwrap.data_paths()  # the real paths, as mounted
        if data:
            env["DLCC_DATA"] = os.pathsep.join(data)
        return env

    def config(self, work: Path, rfd: int, wfd: int, generation: int) -> dict:
        limits = self.spec.limits
        namespace = self.spec.mode == "namespace"  # only it needs host paths inside
        return {"mode": self.spec.mode, "uid": self.spec.uid,
                "hide": self.spec.hide if namespace else [],
                "needed": [*self.ro_paths, str(work)] if namespace else [],
                "needs": self.spec.needs, "workdir": self.inside(work), "rfd": rfd, "wfd": wfd,
                "generation": generation,
                "seccomp": seccomp.available()[0],
                "limits": {"cpu_s": max(1, int(limits["total_timeout_s"]) + 5),
                           "memory_mb": limits["memory_mb"], "processes": limits["processes"],
                           "file_size_mb": limits["file_size_mb"]}}

    def command(self, work: Path, cfg: dict) -> tuple[list[str], dict]:
        """(argv, extra Popen arguments) that start the sandbox server."""
        server = [sys.executable, "-I", "-m", "dlcc.course.sandbox.server", json.dumps(cfg)]
        if self.spec.mode != "bwrap":
            return server, {"start_new_session": True}
        layout = bwrap.Layout(workdir=str(work), etc_dir=str(self.base / "etc"),
                              tmp_mb=max(64, 2 * int(self.spec.limits["file_size_mb"])),
                              ro_paths=self.ro_paths,
                              ro_files={f"{bwrap.WORK}/{rel}": src for rel, src in self.spec.shared.items()})
        argv = [bwrap.executable() or "bwrap", *bwrap.arguments(layout), "--", *server]
        needed = [*self.ro_paths, *self.spec.shared.values(), str(self.base)]
        return bwrap_command(argv, self.spec.uid, needed), {"start_new_session": True}


def _read_only_copy(src: Path, dest: Path, link: bool) -> None:
    """A copy the sandbox cannot change: a hard link to a grader-owned read-only file when the
    sandbox has its own uid (it is not the owner, so it cannot chmod it), else a plain copy."""
    if link and src.stat().st_uid == os.geteuid() and not src.stat().st_mode & 0o022:
        try:
            os.link(src, dest)
            return
        except OSError:
            pass
    shutil.copyfile(src, dest)
    os.chmod(dest, 0o444)
