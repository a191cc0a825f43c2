"""Stage 0 of a bwrap sandbox started by a root grader: make the mounted paths reachable for
the private uid, become that uid, exec bwrap.

bwrap run by an unprivileged uid can only mount what that uid can reach, and a root grader's
Python often lives under /root (mode 0700). In a mount namespace of its own (nothing changes
for anyone else), this process covers each such folder with an empty tmpfs, mounts back in
only the paths the sandbox needs (`namespace.reachable`), then switches to the private uid and
execs bwrap, whose namespaces start from this one. Running bwrap as a uid of its own (not as
root) is what makes the per-user process limit bind inside the sandbox.

    python -I -m dlcc.course.sandbox.prelaunch '{"uid": N, "needed": [...], "argv": [...]}'
"""

from __future__ import annotations

import json
import os
import sys

from dlcc.course.sandbox import namespace


def main(argv: list[str]) -> int:
    cfg = json.loads(argv[0])
    try:
        namespace.reachable(cfg["needed"])
        namespace.drop_privileges(int(cfg["uid"]))
        os.execv(cfg["argv"][0], cfg["argv"])
    except OSError as exc:
        print(f"dlcc sandbox: could not start bwrap as uid {cfg['uid']}: {exc}", file=sys.stderr)
    return 97


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
