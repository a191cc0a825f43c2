"""Run assignment tests in a separate pytest process and read back the plugin's JSON report.

Every run uses its own ini file (so a repository's pytest settings never leak in), disables
plugin auto-loading (fast, and nothing but dlcc's plugin touches the results), and writes no
bytecode or cache into assignment folders.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dlcc.errors import ConfigError

INI = "[pytest]\naddopts =\npython_files = test_*.py *_test.py\n"


def _env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONDONTWRITEBYTECODE": "1",
                "MPLBACKEND": "Agg", "WANDB_MODE": "disabled"})
    env.update(extra or {})
    return env


def _base_cmd(ini: Path, rootdir: Path, isolated: bool = False) -> list[str]:
    return [sys.executable, *(["-I"] if isolated else []), "-m", "pytest",
            "-p", "dlcc.course.plugin", "-p", "no:cacheprovider", "-c", str(ini),
            "--rootdir", str(rootdir), "--confcutdir", str(rootdir),  # no conftest.py from above
            "--import-mode=importlib", "-q", "-rN", "--no-header"]


def _read_report(path: Path, proc: subprocess.CompletedProcess | None, what: str) -> dict:
    if not path.is_file():
        tail = ((proc.stdout or "") + (proc.stderr or ""))[-3000:] if proc else ""
        raise ConfigError(f"{what}: pytest ended without a report (exit code "
                          f"{proc.returncode if proc else '?'}):\n{tail}",
                          fix="run the tests by hand with pytest to see the problem")
    return json.loads(path.read_text())


def collect_tests(dirs: list[Path], hidden_dir: Path | None = None) -> dict:
    """List the tests in `dirs` with their task markers (no test is run)."""
    dirs = [d for d in dirs if d.is_dir()]
    if not dirs:
        return {"tests": [], "collection_errors": []}
    with tempfile.TemporaryDirectory(prefix="dlcc-collect-") as tmp:
        ini, report = Path(tmp) / "pytest.ini", Path(tmp) / "report.json"
        ini.write_text(INI)
        cmd = _base_cmd(ini, Path(os.path.commonpath([str(d) for d in dirs])))
        cmd += ["--collect-only", "--dlcc-mode", "collect", "--dlcc-report", str(report)]
        if hidden_dir:
            cmd += ["--dlcc-hidden-dir", str(hidden_dir)]
        proc = subprocess.run(cmd + [str(d) for d in dirs], capture_output=True, text=True,
                              env=_env(), cwd=tmp, timeout=600)
        return _read_report(report, proc, "collecting tests")


def run_local(workdir: Path, tests_dir: Path, task: str | None = None, verbose: bool = False,
              timeout: float | None = None) -> tuple[dict, str]:
    """Run public tests against the student's files in `workdir` (in the test process).

    Returns (report, pytest's own output)."""
    with tempfile.TemporaryDirectory(prefix="dlcc-test-") as tmp:
        ini, report = Path(tmp) / "pytest.ini", Path(tmp) / "report.json"
        ini.write_text(INI)
        root = Path(os.path.commonpath([str(workdir), str(tests_dir)]))
        cmd = _base_cmd(ini, root) + ["--dlcc-mode", "local", "--dlcc-workdir", str(workdir),
                                         "--dlcc-report", str(report)]
        if timeout:  # the plugin stops each test at its own limit, as the grader does
            cmd += ["--dlcc-default-timeout", str(timeout)]
        if task:
            cmd += ["--dlcc-task", task]
        if verbose:
            cmd += ["-v"]
        proc = subprocess.run(cmd + [str(tests_dir)], capture_output=not verbose, text=True,
                              env=_env(), cwd=workdir)
        return _read_report(report, proc, "running the public tests"), (proc.stdout or "")


def run_harness(private: Path, config: Path, test_dirs: list[Path], timeout: float,
                task: str | None = None, exitfirst: bool = False) -> dict:
    """Run the grading harness (trusted) on tests copied into the private folder.
    `task`: only that task's tests; `exitfirst`: stop at the first failure."""
    ini, report = private / "pytest.ini", private / "report.json"
    ini.write_text(INI)
    cmd = _base_cmd(ini, private, isolated=True) + ["-p", "no:timeout", "--dlcc-mode", "remote",
                                                    "--dlcc-config", str(config),
                                                    "--dlcc-report", str(report)]
    if task:
        cmd += ["--dlcc-task", task]
    if exitfirst:
        cmd += ["-x"]
    env = _env({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    log = private / "harness.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd + [str(d) for d in test_dirs if d.is_dir()], stdout=fh,
                                stderr=subprocess.STDOUT, env=env, cwd=private)
        code, cpu = _wait(proc, timeout)
    if code is None:
        return {"harness_error": f"the grading harness did not finish within {timeout:.0f} s"}
    if not report.is_file():
        return {"harness_error": f"the grading harness ended (exit code {code}) without "
                                 f"a report:\n{log.read_text()[-3000:]}"}
    return {**json.loads(report.read_text()), "harness_cpu_s": round(cpu, 3)}


def _wait(proc: subprocess.Popen, timeout: float) -> tuple[int | None, float]:
    """(exit code or None after a timeout kill, CPU seconds of that child alone: wait4
    measures it exactly even while other grading threads run harnesses of their own)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            return None, 0.0
        time.sleep(0.05)
