"""Limits every sandbox process sets on itself before student code runs, in every mode:
rlimits (address space, CPU seconds, processes, file size, no core dumps) and, in fallback
mode only, a Python-level block of Internet sockets (seccomp blocks them for C code too)."""

from __future__ import annotations

import os
import resource
import sys


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


def apply(limits: dict, mode: str) -> None:
    """Set rlimits in the sandbox process (inherited by everything it starts).

    In bwrap mode the process limit counts only the sandbox's own user namespace; in fallback
    mode it counts all of the grader user's threads, so those are added."""
    mb = 1024 * 1024
    cpu = int(limits["cpu_s"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_AS, (int(limits["memory_mb"]) * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(limits["file_size_mb"]) * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    nproc = int(limits["processes"])
    if mode == "fallback":
        nproc += _user_tasks(os.getuid())
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def block_network_python() -> None:
    """Refuse Internet sockets from Python code (fallback mode, a second line behind seccomp)."""
    import socket

    blocked = {socket.AF_INET, socket.AF_INET6}

    def hook(event: str, args: tuple) -> None:
        if event == "socket.__new__" and len(args) > 1 and args[1] in blocked:
            raise PermissionError("network access is disabled while grading")
        if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
            raise PermissionError("network access is disabled while grading")

    sys.addaudithook(hook)
