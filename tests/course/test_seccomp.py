"""The sandbox's seccomp filter, installed in a throwaway process: what it refuses and what it
leaves alone, with and without the needs an assignment may declare."""

import subprocess
import sys

import pytest

from dlcc.course.sandbox import seccomp

PROBE = r'''
import os, socket, sys, threading
from dlcc.course.sandbox import seccomp
print(seccomp.install(sys.argv[1] == "1", sys.argv[2] == "1"))
def attempt(name, f):
    try:
        f()
        print(name, "ok")
    except OSError as exc:
        print(name, "refused", exc.errno)
def fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
attempt("thread", lambda: [t.start() or t.join() for t in [threading.Thread(target=len, args=("",))]])
attempt("fork", fork)
attempt("exec", lambda: __import__("subprocess").run(["/bin/true"]))
attempt("inet", lambda: socket.socket().close())
attempt("unix", lambda: socket.socket(socket.AF_UNIX).close())
attempt("pair", lambda: [s.close() for s in socket.socketpair()])
'''

pytestmark = pytest.mark.skipif(not seccomp.available()[0], reason=seccomp.available()[1])


def run(subprocesses, network):
    out = subprocess.run([sys.executable, "-c", PROBE, str(int(subprocesses)), str(int(network))],
                         capture_output=True, text=True, timeout=60).stdout
    return dict(line.split(" ", 1) for line in out.splitlines()[1:]), out.splitlines()[0]


def test_default_refuses_processes_and_sockets():
    seen, installed = run(False, False)
    assert installed == "(True, 'filter installed')"
    assert seen == {"thread": "ok", "fork": "refused 1", "exec": "refused 1", "inet": "refused 13",
                    "unix": "refused 13", "pair": "ok"}


def test_declared_needs_are_allowed():
    seen, _ = run(True, True)
    assert set(seen.values()) == {"ok"}


def test_program_is_valid_bpf():
    blob = seccomp.program(False, False)
    assert len(blob) % 8 == 0 and 40 < len(blob) // 8 < 256
