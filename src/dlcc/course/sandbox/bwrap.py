"""The allowlist sandbox: bubblewrap (`bwrap`) starts student code in an empty root into which
only what it needs is mounted.

What student code sees:

    /usr, /bin, /lib*, /sbin               read-only (system libraries)
    /etc: loader cache, time zone, fonts   read-only; passwd/group name only the sandbox user
    the Python install, the environment    read-only, at their real paths
    (sys.prefix, site-packages) and dlcc
    each data folder (DLCC_DATA, --data-dir), the decoded-data cache entries the assignment
    declares                               read-only, at their real paths
    /sandbox/work                          the submission and the given files: cwd and HOME
    /tmp, /dev/shm                         private, empty, size-capped
    /proc                                  its own PID namespace: its own processes only
    /dev                                   null, zero, full, random, urandom, tty

and nothing else: no home folders, no other checkouts or assignment folders, no results, no
/run (host sockets). New user, mount, PID, network (loopback only), IPC, UTS and cgroup
namespaces; no capabilities; no nested user namespaces; a new session (no terminal).

Who runs bwrap: a grader that is not root runs it as itself (bwrap uses an unprivileged user
namespace); a root grader runs it as a private uid of the submission (see `prelaunch`), so
that the sandbox owns nothing of root's and the per-user process limit binds.
"""

from __future__ import annotations

import os
import shutil
import site
import sys
from dataclasses import dataclass, field
from pathlib import Path

WORK = "/sandbox/work"
INSIDE_UID = 1000
SYSTEM_DIRS = ("/usr",)
SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
             "/etc/alternatives", "/etc/fonts", "/etc/mime.types")
PASSWD = f"root:x:0:0::/:/bin/false\nstudent:x:{INSIDE_UID}:{INSIDE_UID}::{WORK}:/bin/false\n"
GROUP = f"root:x:0:\nstudent:x:{INSIDE_UID}:\n"


def executable() -> str | None:
    return shutil.which("bwrap")


def _outermost(paths: list[str]) -> list[str]:
    """Drop paths that lie inside another path of the list."""
    resolved = sorted({str(Path(p).resolve()) for p in paths if Path(p).exists()})
    return [p for p in resolved if not any(o != p and Path(o) in Path(p).parents for o in resolved)]


def python_paths() -> list[str]:
    """The Python install, the environment, its site folders, the folders their `.pth` files
    add (and the folders symbolic links there point into) and the dlcc package.

    Derived from the installation, never from the live sys.path: a test's `solution` fixture
    puts the solution's folder on the harness's sys.path, and that must stay out of reach."""
    import dlcc

    paths = [sys.base_prefix, sys.prefix, sys.exec_prefix, str(Path(dlcc.__file__).parent),
             str(Path(sys.executable).resolve().parent)]
    for site_dir in map(Path, site.getsitepackages()):
        folders = [site_dir, *_pth_folders(site_dir)]
        paths += [str(f) for f in folders]
        for folder in folders:
            paths += [str(Path(os.path.realpath(link)).parent) for link in folder.iterdir()
                      if link.is_symlink()]
    return _outermost(paths)


def _pth_folders(site_dir: Path) -> list[Path]:
    """Folders that the site folder's .pth files add to sys.path (lines that are paths)."""
    out = []
    for pth in sorted(site_dir.glob("*.pth")) if site_dir.is_dir() else []:
        for line in pth.read_text(encoding="utf-8", errors="replace").splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "import ", "import\t")):
                folder = (site_dir / line).resolve()
                if folder.is_dir():
                    out.append(folder)
    return out


def data_paths() -> list[str]:
    """Read-only dataset folders: DLCC_DATA entries and --data-dir (DLCC_DATA_DIR)."""
    raw = [p for p in os.environ.get("DLCC_DATA", "").split(os.pathsep) if p.strip()]
    if os.environ.get("DLCC_DATA_DIR"):
        raw.append(os.environ["DLCC_DATA_DIR"])
    return _outermost([str(Path(p).expanduser()) for p in raw])


@dataclass
class Layout:
    """One sandbox's mounts. `ro_files` maps inside paths to host files (decoded data)."""

    workdir: str                      # host folder mounted at WORK, read-write
    etc_dir: str                      # host folder holding our passwd and group files
    tmp_mb: int = 256
    ro_paths: list[str] = field(default_factory=list)
    ro_files: dict[str, str] = field(default_factory=dict)

    def mounted(self) -> list[str]:
        return [*SYSTEM_DIRS, *self.ro_paths, *self.ro_files.values()]


def write_identity(etc_dir: Path) -> None:
    """passwd and group files that name only root and the sandbox user."""
    etc_dir.mkdir(parents=True, exist_ok=True)
    (etc_dir / "passwd").write_text(PASSWD)
    (etc_dir / "group").write_text(GROUP)
    for name in ("passwd", "group"):
        os.chmod(etc_dir / name, 0o644)
    os.chmod(etc_dir, 0o755)


def arguments(layout: Layout) -> list[str]:
    """bwrap's options (the command follows `--`); bwrap runs as an unprivileged user."""
    args = ["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
            "--new-session", "--hostname", "sandbox", "--uid", str(INSIDE_UID),
            "--gid", str(INSIDE_UID)]
    for d in SYSTEM_DIRS:
        args += ["--ro-bind", d, d]
    for link in SYSTEM_LINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    for f in ETC_FILES:
        if os.path.exists(f):
            args += ["--ro-bind", f, f]
    args += ["--ro-bind", str(Path(layout.etc_dir) / "passwd"), "/etc/passwd",
             "--ro-bind", str(Path(layout.etc_dir) / "group"), "/etc/group"]
    args += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(layout.tmp_mb << 20), "--tmpfs", "/tmp",
             "--size", str(64 << 20), "--tmpfs", "/dev/shm"]
    for p in layout.ro_paths:  # after /tmp's tmpfs, so that one below /tmp stays visible
        args += ["--ro-bind", p, p]
    args += ["--bind", layout.workdir, WORK]
    for inside, host in layout.ro_files.items():
        args += ["--ro-bind", host, inside]
    args += ["--chdir", WORK]
    return args
