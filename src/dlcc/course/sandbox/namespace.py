"""The `namespace` isolation mode (the fallback when bubblewrap is missing; needs root).

The sandbox process, still root and before any student code is loaded:

* enters a new network namespace (no usable interface) and a new mount namespace;
* covers, with empty tmpfs mounts, the hidden material (the assignment folder with solutions,
  hidden tests and answers, the other assignments, the git history, the submissions and the
  results) and the usual places of other people's files and sockets (/home, /root, /tmp,
  /var/tmp, /run, /srv, /mnt, /media, /dev/shm); what the sandbox needs below a covered folder
  (the Python install under /root, its own folder under /tmp, the data) is mounted back in;
* mounts a private /proc with `hidepid=invisible`, so other users' processes are not listed;
* switches to a private uid with no capabilities and `no_new_privs`.

This is a denylist: files elsewhere that any user may read (another checkout of the course
under /opt, say) stay readable. The results name this; bubblewrap mode has no such gap.
"""

from __future__ import annotations

import ctypes
import os
import stat
import subprocess
import sys
from pathlib import Path

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS = 38
COVERED = ("/home", "/root", "/tmp", "/var/tmp", "/run", "/srv", "/mnt", "/media", "/dev/shm")

_libc = None
_probe: list[tuple[bool, str]] = []


def libc():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_char_p]
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


def probe() -> tuple[bool, str]:
    """Can this process create network + mount namespaces and switch uid? (cached)"""
    if _probe:
        return _probe[0]
    if sys.platform != "linux":
        result = (False, f"not Linux ({sys.platform})")
    elif os.geteuid() != 0:
        result = (False, "the grader is not root, so it cannot switch to a private uid")
    else:
        code = ("import ctypes,sys\nl=ctypes.CDLL(None,use_errno=True)\n"
                f"sys.exit(0 if l.unshare({CLONE_NEWNS | CLONE_NEWNET})==0 else 1)")
        try:
            rc = subprocess.run([sys.executable, "-I", "-S", "-c", code], timeout=30,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        except (OSError, subprocess.TimeoutExpired):
            rc = 1
        result = (True, "unshare works") if rc == 0 else (False, "unshare(2) is not permitted here")
    _probe.append(result)
    return result


def _unreadable_ancestor(path: Path) -> Path | None:
    """The top-most folder on the way to `path` that other users cannot search."""
    for parent in [*reversed(path.parents), path]:
        try:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return parent
        except OSError:
            return None
    return None


def covers(hide: list[str], needed: list[str], usual: tuple[str, ...] = COVERED) -> list[Path]:
    """The folders to cover: hidden ones, the usual places of other people's files, and the
    unreadable ancestors of what the sandbox needs; outermost only."""
    found = {Path(p) for p in [*hide, *usual] if Path(p).exists() and Path(p) != Path("/")}
    for n in needed:
        blocked = _unreadable_ancestor(Path(n))
        if blocked is not None and blocked != Path(n):
            found.add(blocked)
    return sorted(p for p in found if not any(o != p and o in p.parents for o in found))


def cover(covered: list[Path], needed: list[str]) -> None:
    """In a new mount namespace (this process's own), cover each folder of `covered` with an
    empty tmpfs (a file: with /dev/null) and mount back in what lies below it in `needed`."""
    _check(libc().unshare(CLONE_NEWNS), "unshare")
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    # open what must stay reachable before covering its ancestors, then mount it back in
    # through /proc/self/fd (a staging folder could be covered too)
    keep = []
    for n in needed:
        p = Path(n)
        if p.exists():
            keep.append((p, os.open(p, os.O_PATH | (os.O_DIRECTORY if p.is_dir() else 0))))
    for folder in covered:
        if folder.is_dir():
            mount("dlcc-cover", str(folder), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
        else:
            mount("/dev/null", str(folder), None, MS_BIND)
        for path, fd in keep:
            if folder in path.parents:
                if not path.exists():
                    path.mkdir(parents=True) if _is_dir(fd) else _touch(path)
                mount(f"/proc/self/fd/{fd}", str(path), None, MS_BIND | MS_REC)
    for _, fd in keep:
        os.close(fd)


def enter(hide: list[str], needed: list[str], loopback: bool = False) -> None:
    """Run as root in the sandbox process before any student code (see the module docstring).
    `loopback`: bring up the new network namespace's loopback interface (declared need)."""
    _check(libc().unshare(CLONE_NEWNET), "unshare")
    if loopback:
        _loopback_up()
    cover(covers(hide, needed), needed)
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible")


def reachable(needed: list[str]) -> None:
    """Make `needed` reachable for an unprivileged uid (a root grader's Python under /root):
    cover only their unreadable ancestors, in this process's own mount namespace."""
    covered = covers([], needed, usual=())
    if covered:
        cover(covered, needed)


def _is_dir(fd: int) -> bool:
    return stat.S_ISDIR(os.fstat(fd).st_mode)


def _touch(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def _loopback_up() -> None:
    import fcntl
    import socket
    import struct

    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(s, siocgifflags, ifreq))[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH22x", b"lo", flags | iff_up))


def drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
