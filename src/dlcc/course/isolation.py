"""Operating-system isolation for the grading sandbox (Linux).

Two modes, chosen once per grading run and written into every results file:

`namespace` (the grader runs as root and the kernel allows `unshare`):
  * a new network namespace: no interfaces but a down loopback, so no connection succeeds;
  * a new mount namespace in which hidden material (the assignment folder with solutions, hidden
    tests and answers, the git history, other submissions, the results folder) is covered by
    empty read-only tmpfs mounts, and `/dev/shm` is private;
  * a private unprivileged uid/gid per sandbox (no capabilities, `no_new_privs`), so the
    per-user process limit stops fork bombs and root-owned files stay unreadable;
  * afterwards every process of that uid is killed, so nothing outlives the sandbox.

`fallback` (anything else): resource limits and a Python-level socket block only. Code running
as the grader's own user can still read whatever that user can read. The results say so.

Both modes set rlimits: address space, CPU seconds, processes, file size, no core dumps.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36

_libc = None
_probe_cache: dict[str, tuple[bool, str]] = {}


def libc():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
        _libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
        _libc.unshare.argtypes = [ctypes.c_int]
    return _libc


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(src: str | None, target: str, fstype: str | None, flags: int, data: str | None = None):
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    _check(libc().mount(enc(src), enc(target), enc(fstype), flags, enc(data)),
           f"mount {src} on {target}")


# --------------------------------------------------------------------------- choosing a mode

def probe_namespace() -> tuple[bool, str]:
    """Can this process create network + mount namespaces and switch uid? (cached)"""
    if "ns" in _probe_cache:
        return _probe_cache["ns"]
    if sys.platform != "linux":
        result = (False, f"not Linux ({sys.platform})")
    elif os.geteuid() != 0:
        result = (False, "the grader is not running as root, so it cannot switch to a private uid")
    else:
        code = ("import ctypes,os,sys\nl=ctypes.CDLL(None,use_errno=True)\n"
                f"sys.exit(0 if l.unshare({CLONE_NEWNS | CLONE_NEWNET})==0 else 1)")
        try:
            rc = subprocess.run([sys.executable, "-I", "-S", "-c", code], timeout=30,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        except (OSError, subprocess.TimeoutExpired):
            rc = 1
        result = (True, "unshare works") if rc == 0 else (False, "unshare(2) is not permitted here")
    _probe_cache["ns"] = result
    return result


def choose_mode(requested: str = "auto") -> tuple[str, str]:
    """Return (mode, why). `requested` is auto | namespace | fallback."""
    ok, why = probe_namespace()
    if requested == "fallback":
        return "fallback", "fallback requested"
    if requested == "namespace" and not ok:
        from dlcc.errors import ConfigError
        raise ConfigError(f"namespace isolation is not available: {why}",
                          fix="run the grader as root on Linux, or pass --isolation fallback")
    return ("namespace", why) if ok else ("fallback", why)


def describe(mode: str, uid: int | None = None) -> dict:
    """The isolation facts written into results files."""
    if mode == "namespace":
        return {"mode": "namespace", "network": "new network namespace (no interfaces)",
                "filesystem": "hidden material covered by empty mounts; private uid",
                "uid": uid, "processes": "per-sandbox uid with RLIMIT_NPROC; all killed afterwards"}
    procs = ("NOT limited: RLIMIT_NPROC does not bind root; the process group is killed at the "
             "time limit" if os.geteuid() == 0 else
             "RLIMIT_NPROC on the grader's user; the process group is killed afterwards")
    return {"mode": "fallback", "network": "Python-level socket block only (C code can bypass it)",
            "filesystem": "NOT protected: student code runs as the grader's user",
            "uid": os.getuid(), "processes": procs}


# --------------------------------------------------------------------------- inside the sandbox

def enter_namespace(hide: list[str], expose: list[str], stage_dir: str) -> None:
    """Run as root in the sandbox process before any student code: new net + mount namespace,
    make `expose` paths reachable for an unprivileged uid, cover `hide` paths with empty mounts."""
    _check(libc().unshare(CLONE_NEWNS | CLONE_NEWNET), "unshare")
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    _expose(expose, stage_dir)
    for path in hide:
        p = Path(path)
        if p.is_dir():
            mount("dlcc-hidden", str(p), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "size=4k,mode=0555")
        elif p.is_file():
            mount("/dev/null", str(p), None, MS_BIND)
    if Path("/dev/shm").is_dir():
        mount("dlcc-shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")


def _blocked_ancestor(path: Path) -> Path | None:
    """The top-most directory on the way to `path` that other users cannot traverse."""
    for parent in [*reversed(path.parents), path]:
        try:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return parent
        except OSError:
            return None
    return None


def _expose(paths: list[str], stage_dir: str) -> None:
    """Bind each path in again on a fresh tmpfs that replaces its blocked ancestor (e.g. the
    Python install under a private /root)."""
    groups: dict[Path, list[Path]] = {}
    for raw in paths:
        p = Path(raw)
        blocked = _blocked_ancestor(p) if p.exists() else None
        if blocked is not None and blocked != p:
            groups.setdefault(blocked, []).append(p)
    n = 0
    for blocked, targets in groups.items():
        targets = [t for t in targets if not any(o != t and o in t.parents for o in targets)]
        stages = []
        for target in targets:
            stage = Path(stage_dir) / f"s{n}"
            n += 1
            stage.mkdir(parents=True, exist_ok=True)
            mount(str(target), str(stage), None, MS_BIND | MS_REC)
            stages.append((stage, target))
        mount("dlcc-expose", str(blocked), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
        for stage, target in stages:
            target.mkdir(parents=True, exist_ok=True)
            mount(str(stage), str(target), None, MS_BIND | MS_REC)
            libc().umount2(str(stage).encode(), MNT_DETACH)


def drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def _user_tasks(uid: int) -> int:
    """Threads currently owned by `uid` (RLIMIT_NPROC counts threads)."""
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                continue
    return count


def apply_limits(limits: dict, mode: str) -> None:
    """Set rlimits in the sandbox process (inherited by everything it starts)."""
    mb = 1024 * 1024
    cpu = int(limits["cpu_s"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_AS, (int(limits["memory_mb"]) * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limits["file_size_mb"]) * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    nproc = int(limits["processes"])
    if mode == "fallback":  # the limit counts all of the user's threads, not only ours
        nproc += _user_tasks(os.getuid())
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def block_network_python() -> None:
    """Refuse Internet sockets from Python code (fallback mode; C code can bypass this)."""
    import socket

    blocked = {socket.AF_INET, socket.AF_INET6}

    def hook(event: str, args: tuple) -> None:
        if event == "socket.__new__" and len(args) > 1 and args[1] in blocked:
            raise PermissionError("network access is disabled while grading")
        if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
            raise PermissionError("network access is disabled while grading")

    sys.addaudithook(hook)


# --------------------------------------------------------------------------- cleaning up (trusted side)

def become_subreaper() -> None:
    """Orphaned sandbox processes get re-parented to us, so we can reap their zombies."""
    if sys.platform == "linux":
        libc().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def live_pids(uid: int) -> list[int]:
    """Processes of `uid` that are not zombies (zombies are dead already)."""
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):
            pids.append(int(entry.name))
    return pids


def kill_uid(uid: int, reap: bool = True) -> bool:
    """Kill every process owned by `uid`: a forked helper switches to that uid and calls
    kill(-1, SIGKILL), which reaches exactly that user's processes. Repeats until /proc shows
    none alive (a fork bomb may add processes while we kill). Returns True when all are gone.
    `reap` collects orphaned zombies; only the harness (a child subreaper) should do that."""
    for attempt in range(100):
        if not live_pids(uid):
            if reap:
                reap_zombies()
            return True
        pid = os.fork()
        if pid == 0:  # child: only thin system calls until _exit
            try:
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                for _ in range(5):
                    os.kill(-1, signal.SIGKILL)
                os._exit(0)
            except BaseException:
                os._exit(2)
        os.waitpid(pid, 0)
        if reap:
            reap_zombies()
        time.sleep(min(0.001 * attempt, 0.05))
    return not live_pids(uid)


def reap_zombies() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
