"""The isolation modes, and the facts about each written into every results file.

    bwrap      the allowlist sandbox (see `bwrap`): the default wherever bubblewrap works
    namespace  a denylist in namespaces (see `namespace`): the fallback for a root grader
               without bubblewrap
    fallback   resource limits and the seccomp filter only; student code runs as the grader

`launch.choose_mode` picks one: `auto` takes the first that works here. Every mode applies the same rlimits and, where the
architecture has one, the same seccomp filter (see `seccomp`). `describe` lists what a mode
does not contain, so that a results file never claims more than the sandbox did.
"""

from __future__ import annotations

import os

from dlcc.course.sandbox import seccomp

MODES = ("bwrap", "namespace", "fallback")


def describe(mode: str, needs: dict, *, uid: int | None = None,
             bwrap_as: str | None = None) -> dict:
    """The isolation facts written into results files, with `not_contained`: every hostile
    behaviour this mode does not stop (empty for bwrap on x86_64)."""
    filtered, why = seccomp.available()
    subprocesses, network = bool(needs.get("subprocesses")), bool(needs.get("network"))
    facts = {"mode": mode, "seccomp": why if filtered else f"none: {why}",
             "subprocesses": "allowed (declared)" if subprocesses else
             ("refused by seccomp" if filtered else "not refused"),
             "network": "loopback sockets allowed (declared)" if network else
             ("sockets refused by seccomp" if filtered else "no socket filter")}
    gaps: list[str] = []
    if mode == "bwrap":
        facts["filesystem"] = ("allowlist: system libraries, Python, dlcc and data read-only; the "
                               "submission folder; private /tmp")
        facts["processes"] = "own PID namespace and RLIMIT_NPROC; all end with the sandbox"
        facts["bwrap_runs_as"] = {"uid": "a private uid", "self": "the grader's user"}.get(bwrap_as)
        facts["uid"] = uid if bwrap_as == "uid" else None
    elif mode == "namespace":
        facts["filesystem"] = ("denylist: hidden material and /home, /root, /tmp, /run, ... "
                               "covered; private uid")
        facts["processes"] = "private uid with RLIMIT_NPROC; all killed afterwards"
        facts["uid"] = uid
        gaps.append("reading files outside the covered folders that any user may read (e.g. "
                    "another checkout of the course under /opt or /srv)")
        if network or not filtered:
            gaps.append("Unix sockets in folders outside the covered ones")
    else:
        facts["filesystem"] = "NOT protected: student code runs as the grader's user"
        facts["processes"] = "same user as the grader; the process group is killed afterwards"
        facts["uid"] = os.getuid()
        gaps += ["reading any file the grader's user can read (solutions, hidden tests, answer "
                 "keys, other students' work)",
                 "writing any file the grader's user can write (other submissions' results)",
                 "listing other processes and their command lines in /proc",
                 "signalling the grader's other processes"]
        if not filtered or network:
            gaps.append("network and Unix sockets from C code or subprocesses")
        if not filtered or subprocesses:
            gaps.append("detached processes that leave the process group"
                        + ("; fork bombs (RLIMIT_NPROC does not bind root)" if os.geteuid() == 0 else ""))
    facts["not_contained"] = sorted(set(gaps))
    return facts
