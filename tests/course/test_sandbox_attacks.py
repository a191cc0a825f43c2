"""Real hostile and broken submissions against the grader (tiny assignment, seconds each).

Every submission is graded in one class run; each must score exactly what its honest part
earns (T0.1 is worth 4 points, T0.2 6 points), with a clear message, and must not disturb the
grading of the others. Namespace isolation needs root; the fallback tests run anywhere.
"""

import shutil

import pytest

from dlcc.course import isolation
from dlcc.course.grade import grade

from conftest import needs_namespace
from coursepaths import SUBMISSIONS, TINY_ROOT

RELU = ["T0.1 test_tiny_public.py::test_relu_known_values",
        "T0.1 test_tiny_hidden.py::test_relu_matches_solution"]
ALL = RELU + ["T0.2 test_tiny_public.py::test_mse_known_value",
              "T0.2 test_tiny_hidden.py::test_mse_gradient_numerically",
              "T0.2 test_tiny_hidden.py::test_mse_matches_solution"]

# submission -> (score, tests that fail, a phrase the first failure must contain)
EXPECTED = {
    "wrong_formula": (6, RELU, "1 of 3 values differ"),
    "infinite_loop": (6, RELU, "did not finish within this test's time limit of 3 s"),
    "loop_at_import": (0, ALL, "importing tinymath did not finish within the import time limit"),
    "fork_bomb": (6, RELU, "did not finish within this test's time limit"),
    "memory_hog": (6, RELU, "MemoryError"),
    "crash_at_import": (0, ALL, "importing tinymath raised RuntimeError: boom at import"),
    "syntax_error": (0, ALL, "SyntaxError: expected ':' (tinymath.py, line 6)"),
    "sys_exit": (6, RELU, "student code called sys.exit(0)"),
    "os_exit": (6, RELU, "exited (code 0); student code must not call sys.exit() or os._exit()"),
    "fake_json": (0, ALL, "values differ"),
    "patch_everything": (0, ALL, "values differ"),
    "conftest_attack": (0, ALL, "NotImplementedError: T0.1"),
    "network": (6, RELU, "values differ"),
    "forge_channel": (6, RELU, "malformed reply"),
    "kill_parent": (6, RELU, "kill refused"),
    "daemon": (10, [], ""),
    "huge_output": (6, RELU, "limited to 4 MB"),
    "huge_reply": (6, RELU, "exceeds the limit of 8,388,608 bytes"),
    "read_hidden": (0, ALL, "NotImplementedError"),
}

READ_HIDDEN = '''"""Tries to read the solution, hidden tests and grader secrets, and to reuse the solution."""
import os

ROOT = {root!r}
found = []
for path in [ROOT + "/src/tinymath.py", ROOT + "/hidden/tests/test_tiny_hidden.py",
             ROOT + "/hidden/answers.yaml", {git!r}]:
    try:
        with open(path) as fh:
            found.append(path)
            if path.endswith("tinymath.py"):
                exec(fh.read().replace("from helpers import as_float", "as_float = lambda x: x"))
    except OSError as exc:
        print("could not read", path, type(exc).__name__)
print("listing", sorted(os.listdir(ROOT)) if os.path.isdir(ROOT) else "no dir")
print("environment", sorted(os.environ))
print("found", found)
if "relu" not in globals():
    def relu(x):
        raise NotImplementedError("could not steal relu")

    def mse(y_hat, y):
        raise NotImplementedError("could not steal mse")
'''


def copy_submissions(names, klass):
    """Copy fixture submissions; `*.in` files become their real names (conftest.py, pytest.py)
    only here, so that no test run of this project ever loads the hostile conftest.py."""
    for name in names:
        shutil.copytree(SUBMISSIONS / name, klass / name)
        for stored in (klass / name).glob("*.in"):
            stored.rename(stored.with_suffix(""))


def make_class(tmp_path):
    klass = tmp_path / "class"
    copy_submissions(sorted(p.name for p in SUBMISSIONS.iterdir()), klass)
    assert (klass / "conftest_attack" / "conftest.py").is_file()
    (klass / "read_hidden").mkdir()
    git = str(TINY_ROOT.parents[3] / ".git" / "HEAD")
    (klass / "read_hidden" / "tinymath.py").write_text(
        READ_HIDDEN.format(root=str(TINY_ROOT / "T0"), git=git))
    return klass


def check_expectations(rows, expected):
    results = dict(rows)
    assert set(results) == set(expected)
    for name, (score, failing, phrase) in expected.items():
        res = results[name]
        assert res["extra_data"]["grader_error"] is None, (name, res["extra_data"]["grader_error"])
        failed = [t["name"] for t in res["tests"] if t["status"] != "passed" and "written" not in t["tags"]]
        assert failed == failing, (name, failed)
        assert res["score"] == score, (name, res["score"])
        if failing:
            first = next(t for t in res["tests"] if t["name"] == failing[0])
            assert phrase in first["output"], (name, first["output"][:600])
    return results


@needs_namespace
def test_hostile_class_in_namespace_mode(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("DLCC_TEST_SECRET", "s3cret-token")
    klass = make_class(tmp_path)
    rows = grade(tiny, klass, tmp_path / "out", jobs=2, isolation_mode="namespace",
                 progress=lambda m: None)
    results = check_expectations(rows, EXPECTED)
    for name, res in results.items():
        assert res["extra_data"]["isolation"]["mode"] == "namespace"
        uid = res["extra_data"]["isolation"]["uid"]
        assert isolation.live_pids(uid) == [], f"{name}: processes of uid {uid} survived"
    out = "\n".join(t["output"] for t in results["read_hidden"]["tests"])
    assert "found []" in out and ("listing no dir" in out or "listing []" in out)
    assert "s3cret" not in out and "DLCC_TEST_SECRET" not in out
    assert "could not read" in out
    assert "network blocked: [Errno 101] Network is unreachable" in results["network"]["tests"][0]["output"]
    fake = results["fake_json"]
    assert fake["score"] == 0 and '{"score": 10' in fake["tests"][0]["output"]  # shown, never believed


FALLBACK = {k: EXPECTED[k] for k in ("wrong_formula", "infinite_loop", "memory_hog", "crash_at_import",
                                     "syntax_error", "sys_exit", "os_exit", "fake_json", "conftest_attack",
                                     "huge_reply")}
FALLBACK["network"] = (6, RELU, "values differ")


def test_hostile_subset_in_fallback_mode(tiny, tmp_path):
    """Limits and the Python-level socket block without namespaces (no fork bomb here: the
    per-user process limit does not bind root, which is why namespace mode exists)."""
    klass = tmp_path / "class"
    copy_submissions(FALLBACK, klass)
    rows = grade(tiny, klass, tmp_path / "out", jobs=2, isolation_mode="fallback", progress=lambda m: None)
    results = check_expectations(rows, FALLBACK)
    net = results["network"]["tests"][0]["output"]
    assert "network blocked: network access is disabled while grading" in net
    iso = results["network"]["extra_data"]["isolation"]
    assert iso["mode"] == "fallback" and "NOT protected" in iso["filesystem"]


@pytest.mark.parametrize("flag", ["namespace"])
def test_isolation_namespace_refused_when_unavailable(flag, monkeypatch):
    from dlcc.errors import ConfigError

    monkeypatch.setitem(isolation._probe_cache, "ns", (False, "test: unavailable"))
    with pytest.raises(ConfigError, match="namespace isolation is not available: test: unavailable"):
        isolation.choose_mode(flag)
    assert isolation.choose_mode("auto") == ("fallback", "test: unavailable")
