"""A seccomp filter for the sandbox process, written as classic BPF (no libseccomp needed).

Installed by the sandbox process itself after its set-up and before any student code runs, in
every isolation mode. It returns an error (never kills) for:

* kernel interfaces no assignment needs: ptrace, process_vm_*, mount/umount/pivot_root/chroot,
  setns/unshare, bpf, perf_event_open, userfaultfd, keyrings, io_uring, modules, kexec,
  reboot, swap, quotas, syslog, open_by_handle_at, pidfd_getfd, kcmp;
* new processes (fork, vfork, clone without CLONE_THREAD, execve, execveat), unless the
  assignment declares `sandbox: {subprocesses: true}`; threads stay allowed;
* sockets (socket(2) of any family), unless it declares `sandbox: {network: loopback}`, which
  allows Unix, IPv4 and IPv6 sockets (inside bwrap's network namespace: loopback only).
  socketpair(2) stays allowed: a connected pair reaches nothing outside the process tree.

clone3 answers ENOSYS, so the C library falls back to clone, whose flags a filter can read.
The x32 ABI and any other architecture's system calls are refused. Built for x86_64 only;
elsewhere `install` reports that no filter is available and the results say so.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
X32_BIT = 0x40000000
CLONE_THREAD = 0x00010000
AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10

# x86_64 system call numbers
ALWAYS_REFUSED = {
    "ptrace": 101, "syslog": 103, "pivot_root": 155, "chroot": 161, "acct": 163, "mount": 165,
    "umount2": 166, "swapon": 167, "swapoff": 168, "reboot": 169, "init_module": 175,
    "delete_module": 176, "quotactl": 179, "kexec_load": 246, "add_key": 248,
    "request_key": 249, "keyctl": 250, "unshare": 272, "perf_event_open": 298,
    "fanotify_init": 300, "name_to_handle_at": 303, "open_by_handle_at": 304, "setns": 308,
    "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "finit_module": 313,
    "kexec_file_load": 320, "bpf": 321, "userfaultfd": 323, "io_uring_setup": 425,
    "io_uring_enter": 426, "io_uring_register": 427, "pidfd_getfd": 438,
}
NEW_PROCESS = {"fork": 57, "vfork": 58, "execve": 59, "execveat": 322}
CLONE, CLONE3, SOCKET = 56, 435, 41

# classic BPF
LD_W_ABS, JEQ, JSET, RET = 0x20, 0x15, 0x45, 0x06
JGE = 0x35
RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
OFF_NR, OFF_ARCH, OFF_ARG0 = 0, 4, 16   # struct seccomp_data; arg0's low half (little endian)


def available() -> tuple[bool, str]:
    if platform.system() != "Linux":
        return False, f"not Linux ({platform.system()})"
    if platform.machine() != "x86_64":
        return False, f"no built-in filter for {platform.machine()} (only x86_64)"
    return True, "x86_64 filter"


def program(subprocesses: bool, network: bool) -> bytes:
    """The filter as packed `struct sock_filter` entries."""
    code: list[tuple] = [(LD_W_ABS, 0, 0, OFF_ARCH), (JEQ, 0, "kill", AUDIT_ARCH_X86_64),
                         (LD_W_ABS, 0, 0, OFF_NR), (JGE, "deny", 0, X32_BIT)]
    refused = dict(ALWAYS_REFUSED)
    if not subprocesses:
        refused.update(NEW_PROCESS)
    code += [(JEQ, "deny", 0, nr) for nr in sorted(refused.values())]
    code += [(JEQ, "enosys", 0, CLONE3), (JEQ, "socket", 0, SOCKET)]
    if not subprocesses:
        code += [(JEQ, "clone", 0, CLONE)]
    code += [(RET, 0, 0, RET_ALLOW)]
    labels = {"clone": len(code)}
    code += [(LD_W_ABS, 0, 0, OFF_ARG0), (JSET, "allow", "deny", CLONE_THREAD)]
    labels["socket"] = len(code)
    code += [(LD_W_ABS, 0, 0, OFF_ARG0)]
    if network:
        code += [(JEQ, "allow", 0, family) for family in (AF_UNIX, AF_INET, AF_INET6)]
    code += [(RET, 0, 0, RET_ERRNO | errno.EACCES)]
    for name, value in (("allow", RET_ALLOW), ("deny", RET_ERRNO | errno.EPERM),
                        ("enosys", RET_ERRNO | errno.ENOSYS), ("kill", RET_KILL_PROCESS)):
        labels[name] = len(code)
        code.append((RET, 0, 0, value))
    out = []
    for i, (op, jt, jf, k) in enumerate(code):
        jt, jf = (labels[j] - i - 1 if isinstance(j, str) else j for j in (jt, jf))
        assert 0 <= jt < 256 and 0 <= jf < 256, "jump out of range"
        out.append(struct.pack("=HBBI", op, jt, jf, k))
    return b"".join(out)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install(subprocesses: bool, network: bool) -> tuple[bool, str]:
    """Apply the filter to every thread of this process (irreversibly). Returns (ok, why)."""
    ok, why = available()
    if not ok:
        return False, why
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS: required to load a filter
        return False, f"prctl(NO_NEW_PRIVS) failed: errno {ctypes.get_errno()}"
    blob = program(subprocesses, network)
    buf = ctypes.create_string_buffer(blob, len(blob))
    prog = _SockFprog(len(blob) // 8, ctypes.cast(buf, ctypes.c_void_p))
    # seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog): all threads at once
    libc.syscall.restype = ctypes.c_long
    rc = libc.syscall(ctypes.c_long(317), ctypes.c_long(1), ctypes.c_long(1), ctypes.byref(prog))
    if rc != 0:
        return False, f"seccomp(2) refused the filter (result {rc}, errno {ctypes.get_errno()})"
    return True, "filter installed"
