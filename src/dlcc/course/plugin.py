"""pytest plugin behind `dlcc course test | check | grade`.

Loaded with `-p dlcc.course.plugin` (or `pytest_plugins` in a released tree's conftest.py). It
registers the `task` marker, provides the `student` and `solution` fixtures and writes a JSON
report with one record per test: task, weight, public/hidden, outcome, message, output.

    @pytest.mark.task("A1.2")                  # every test names its task
    @pytest.mark.task("A1.4", weight=3, timeout=300)

Modes (`--dlcc-mode`): `local` imports the student's files from `--dlcc-workdir`; `remote`
runs them in a sandbox described by `--dlcc-config` (the grader); `collect` only lists tests.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from dlcc.course.sandbox.client import SandboxClient, SandboxStartError, StudentError, StudentTimeout
from dlcc.course.sandbox.launch import Spec
from dlcc.course.proxies import LocalStudent, RemoteStudent, SolutionModules


def pytest_addoption(parser):
    group = parser.getgroup("dlcc", "dlcc course")
    group.addoption("--dlcc-mode", default="local", choices=["local", "remote", "collect"])
    group.addoption("--dlcc-workdir", default=None, help="the student's working copy (local)")
    group.addoption("--dlcc-config", default=None, help="sandbox config JSON (remote)")
    group.addoption("--dlcc-report", default=None, help="write per-test results here (JSON)")
    group.addoption("--dlcc-task", default=None, help="run only the tests of this task")
    group.addoption("--dlcc-hidden-dir", default=None, help="tests under here are hidden tests")
    group.addoption("--dlcc-default-timeout", type=float, default=None,
                    help="seconds per test (default: the assignment's test_timeout_s, else 60)")


class _State:
    def __init__(self, config):
        opt = config.option
        self.mode = opt.dlcc_mode
        self.report_path = opt.dlcc_report
        self.task = opt.dlcc_task
        self.cfg = json.loads(Path(opt.dlcc_config).read_text()) if opt.dlcc_config else {}
        self.workdir = Path(opt.dlcc_workdir or config.rootpath).resolve()
        hidden = opt.dlcc_hidden_dir or self.cfg.get("hidden_dir")
        self.hidden_dir = Path(hidden).resolve() if hidden else None
        self.default_timeout = float(self.cfg.get("limits", {}).get("test_timeout_s") or
                                     opt.dlcc_default_timeout or _released_timeout(self.workdir))
        self.records: dict[str, dict] = {}
        self.collection_errors: list[dict] = []
        self.client: SandboxClient | None = None
        self.local: LocalStudent | None = None
        self.grader_errors: list[str] = []

    def kind(self, path: Path) -> str:
        if self.hidden_dir and (self.hidden_dir == path or self.hidden_dir in path.parents):
            return "hidden"
        return "public"

    def get_client(self) -> SandboxClient:
        if self.client is None:
            c = self.cfg
            spec = Spec(files=c["files"], limits=c["limits"], mode=c["mode"], uid=c["uid"],
                        hide=c["hide"], needs=c.get("needs", {}), shared=c.get("shared", {}))
            self.client = SandboxClient(spec, c["output_path"])
        return self.client


def _released_timeout(workdir: Path) -> float:
    """test_timeout_s of the assignment.yaml in a student's folder (plain `pytest` there)."""
    try:
        import yaml

        spec = yaml.safe_load((workdir / "assignment.yaml").read_text(encoding="utf-8")) or {}
        return float(spec["limits"]["test_timeout_s"])
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError):
        return 60.0


class LocalTimeout(StudentTimeout):
    """A local test ran past its time limit (the grader stops it at the same limit)."""


_STATE: list[_State] = []


def _state() -> _State:
    return _STATE[-1]


def pytest_configure(config):
    config.addinivalue_line("markers", "task(id, weight=1, timeout=None): the task a test grades")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    config.addinivalue_line("markers", "data: needs the real datasets")
    _STATE.append(_State(config))


def task_of(item) -> tuple[str | None, float, float | None]:
    marker = item.get_closest_marker("task")
    if marker is None or not marker.args:
        return None, 1.0, None
    return str(marker.args[0]), float(marker.kwargs.get("weight", 1)), marker.kwargs.get("timeout")


def pytest_collection_modifyitems(config, items):
    state = _state()
    if state.task:
        keep = [i for i in items if task_of(i)[0] == state.task]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep
    for item in items:
        task, weight, timeout = task_of(item)
        path = Path(str(item.path)).resolve()
        state.records[item.nodeid] = {
            "nodeid": item.nodeid, "name": item.name, "file": path.name, "kind": state.kind(path),
            "task": task, "weight": weight, "timeout": timeout or state.default_timeout,
            "outcome": "not run", "message": "", "output": "", "duration": 0.0}


def pytest_collectreport(report):
    if report.failed:
        _state().collection_errors.append({"path": report.nodeid,
                                           "message": str(report.longrepr)[-3000:]})


@pytest.fixture
def student(request):
    """The student's code: see `dlcc.course.student`."""
    state = _state()
    if state.mode == "remote":
        client = state.get_client()
        record = state.records.get(request.node.nodeid, {})
        client.begin_test(record.get("timeout", state.default_timeout))
        mark = client.output_mark()
        yield RemoteStudent(client)
        record["output"] = client.output_since(mark)
    else:
        if state.local is None:
            state.local = LocalStudent(state.workdir)
        yield state.local


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Locally, stop a test at the time limit the grader applies (an alarm in the main thread;
    a loop inside one long C call stops when that call returns)."""
    state = _state()
    record = state.records.get(item.nodeid)
    if (state.mode != "local" or record is None or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return
    limit = float(record["timeout"])

    def expire(signum, frame):
        raise LocalTimeout(f"this test did not finish within its time limit of {limit:g} s; "
                           "an infinite loop?")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def solution():
    """The instructor's solution modules (hidden tests under the grader only)."""
    state = _state()
    if state.mode != "remote" or not state.cfg.get("solution_dir"):
        pytest.fail("the `solution` fixture exists only for hidden tests run by `dlcc course grade`")
    return SolutionModules(state.cfg["solution_dir"])


def _message(excinfo, workdir: Path) -> str:
    exc = excinfo.value
    if isinstance(exc, (StudentError, AssertionError)):
        text = str(exc) or "assertion failed"
    elif isinstance(exc, pytest.fail.Exception):
        text = str(exc.msg)
    else:
        text = f"{type(exc).__name__}: {exc}"
    where = []
    for entry in excinfo.traceback:
        path = Path(str(entry.path))
        if path.parent == workdir:
            where.append(f"  at {path.name}:{entry.lineno + 1} in {entry.name}")
    if where:
        text += "\n" + "\n".join(where[-3:])
    return text[:6000]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    state = _state()
    record = state.records.get(item.nodeid)
    if record is None:
        return
    record["duration"] += rep.duration
    if rep.when == "setup" and rep.passed:
        record["outcome"] = "passed"
    if rep.when == "call" and state.mode == "local":
        record["output"] = (rep.capstdout + rep.capstderr)[-4000:]
    if rep.skipped and record["outcome"] in ("passed", "not run"):
        record["outcome"] = "skipped"
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        record["message"] = str(reason)
    elif rep.failed and record["outcome"] in ("passed", "not run"):
        record["outcome"] = "failed" if rep.when == "call" else "error"
        if call.excinfo is not None:
            record["message"] = _message(call.excinfo, state.workdir)
            if isinstance(call.excinfo.value, SandboxStartError):
                record["grader_error"] = True
                state.grader_errors.append(str(call.excinfo.value))
        else:
            record["message"] = str(rep.longrepr)[-3000:]


def pytest_sessionfinish(session, exitstatus):
    state = _state()
    processes, sandbox_cpu = 0, 0.0
    if state.client is not None:
        state.client.close()
        processes, sandbox_cpu = state.client.generation, state.client.cpu_s
    if state.report_path:
        report = {"mode": state.mode, "tests": list(state.records.values()),
                  "collection_errors": state.collection_errors,
                  "grader_errors": state.grader_errors, "sandbox_processes": processes,
                  "sandbox_cpu_s": round(sandbox_cpu, 3),
                  "finished": time.time(), "pid": os.getpid()}
        Path(state.report_path).write_text(json.dumps(report, indent=1))
