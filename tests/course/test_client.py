"""The harness side of the sandbox, driven directly: calls, handles, limits, restarts."""

import argparse

import numpy as np
import pytest

from dlcc.course.proxies import LocalStudent, RemoteStudent
from dlcc.course.sandbox.client import SandboxClient, StudentCrash, StudentError, StudentException, StudentTimeout
from dlcc.course.sandbox.launch import Spec

from conftest import MODES, skip_unless_available

MODULE = '''
import numpy as np
import os
COUNT = 0

def load():
    return {"x": np.arange(6.0).reshape(2, 3), "gen": (i for i in range(3))}

def total(data, scale=1.0):
    return float(data["x"].sum() * scale)

def bump(arr):
    arr += 1           # in place: the caller must not see this
    return "done"

def args_back(ns):
    return ns.lr * 2, vars(ns)

def slow():
    while True:
        pass

def die():
    os._exit(3)

def make_adder(k):
    return lambda v: v + k
'''

LIMITS = {"test_timeout_s": 2, "total_timeout_s": 6, "memory_mb": 700, "processes": 32,
          "file_size_mb": 4, "max_reply_mb": 8}


@pytest.fixture(params=MODES)
def client(request, tmp_path):
    skip_unless_available(request.param)
    src = tmp_path / "mod.py"
    src.write_text(MODULE)
    spec = Spec({"mod.py": str(src)}, dict(LIMITS), request.param, uid=200000 + 17,
                hide=[str(tmp_path)])
    c = SandboxClient(spec, str(tmp_path / "out.txt"))
    yield c
    c.close()


def test_calls_handles_and_copies(client):
    student = RemoteStudent(client)
    mod = student.module("mod")
    data = mod.load.keep()
    assert repr(data) == "<remote dict #1>"
    assert mod.total(data, scale=2.0) == 30.0
    arr = np.zeros(3)
    assert mod.bump(arr) == "done" and arr.tolist() == [0, 0, 0]
    doubled, fields = mod.args_back(argparse.Namespace(lr=0.25, name="x"))
    assert doubled == 0.5 and fields == {"lr": 0.25, "name": "x"}
    assert mod.value("COUNT") == 0
    adder = mod.make_adder(5)            # a lambda cannot travel: it comes back as a handle
    assert student.call(adder, 2) == 7
    with pytest.raises(StudentException, match="mod.missing\\(\\) raised AttributeError"):
        mod.missing()
    with pytest.raises(StudentError, match="nope.py is not in the submission"):
        student.module("nope").f()


def test_timeout_restart_and_lost_handles(client):
    mod = RemoteStudent(client).module("mod")
    data = mod.load.keep()
    client.begin_test(1.0)
    with pytest.raises(StudentTimeout, match="mod.slow\\(\\) did not finish within this test's time limit of 1 s"):
        mod.slow()
    client.begin_test(2.0)
    with pytest.raises(StudentError, match="lost when the sandbox restarted"):
        mod.total(data)
    assert mod.total(mod.load.keep()) == 15.0  # a fresh sandbox works
    with pytest.raises(StudentCrash, match="exited \\(code 3\\)"):
        mod.die()
    messages = []
    for _ in range(6):  # keep looping until the submission's 6 s are used up
        client.begin_test(2.0)
        with pytest.raises(StudentTimeout) as err:
            mod.slow()
        messages.append(str(err.value))
    assert "the submission's total time limit of 6 s" in " ".join(messages)
    assert messages[-1] == "mod.slow() was not run: the submission's total time limit of 6 s is used up"


def test_local_student_has_the_same_semantics(tmp_path):
    (tmp_path / "mod.py").write_text(MODULE)
    student = LocalStudent(tmp_path)
    mod = student.module("mod")
    arr = np.zeros(3)
    assert mod.bump(arr) == "done" and arr.tolist() == [0, 0, 0]
    assert mod.total(mod.load.keep()) == 15.0
    assert student.call(mod.make_adder(1), 1) == 2
    with pytest.raises(AttributeError):
        mod.missing()


def test_sandbox_start_failure_is_a_grader_error(tmp_path, monkeypatch):
    import shutil

    from dlcc.course.sandbox.client import SandboxStartError

    src = tmp_path / "mod.py"
    src.write_text(MODULE)
    c = SandboxClient(Spec({"mod.py": str(src)}, dict(LIMITS), "fallback", uid=0),
                      str(tmp_path / "out.txt"))
    prepare = c.launcher.prepare

    def vanishing_workdir(work):  # the sandbox cannot enter its folder: a grader problem
        prepare(work)
        shutil.rmtree(work)

    monkeypatch.setattr(c.launcher, "prepare", vanishing_workdir)
    try:
        with pytest.raises(SandboxStartError, match="did not start: dlcc sandbox: could not start: "
                                                    "FileNotFoundError"):
            RemoteStudent(c).module("mod").total({"x": np.ones(2)})
    finally:
        c.close()
