"""Real hostile and broken submissions against the grader, in every isolation mode.

One class of T0 submissions (see attacks.py) is graded per mode. Each attack that a mode
contains must score exactly what its honest part earns, with a clear message, without
disturbing the others. bubblewrap mode must contain every attack; namespace and fallback
modes may let some through, but then each results file must name it in
`extra_data.isolation.not_contained` (the results never claim more than the sandbox did).
"""

import shutil
import tempfile
from pathlib import Path

import pytest

from dlcc.course.grading.grade import grade
from dlcc.course.sandbox import launch, seccomp

import attacks
from conftest import MODES, skip_unless_available


@pytest.fixture
def scene():
    tmp = Path(tempfile.mkdtemp(prefix="dlcc-attack-", dir="/tmp"))
    s = attacks.Scene(tmp, tmp / "results")
    yield s
    s.close()
    attacks.kill_lingering(s)
    attacks.remove_forged(s)
    shutil.rmtree(tmp, ignore_errors=True)


def run_class(tiny, scene, mode, names):
    klass = scene.tmp / "class"
    attacks.make_class(scene, klass, names)
    assert (klass / "conftest_attack" / "conftest.py").is_file()
    return dict(grade(tiny, klass, scene.out, jobs=2, force=True, isolation_mode=mode,
                      progress=lambda m: None))


def check_honest(name, res):
    score, failing, phrase = attacks.EXPECTED[name]
    if name in ("daemon", "linger", "fork_bomb") and not seccomp.available()[0]:
        return  # without the filter these behave differently (and are reported as gaps)
    assert res["extra_data"]["grader_error"] is None, (name, res["extra_data"]["grader_error"])
    failed = [t["name"] for t in res["tests"] if t["status"] != "passed" and "written" not in t["tags"]]
    assert failed == failing, (name, failed)
    assert res["score"] == score, (name, res["score"])
    if failing:
        first = next(t for t in res["tests"] if t["name"] == failing[0])
        assert phrase in first["output"], (name, first["output"][:600])


@pytest.mark.parametrize("mode", MODES)
def test_hostile_class(tiny, scene, mode, monkeypatch):
    skip_unless_available(mode)
    monkeypatch.setenv("DLCC_TEST_SECRET", "s3cret-token")
    names = [n for n in attacks.EXPECTED if not (mode == "fallback" and n in attacks.NOT_IN_FALLBACK)]
    results = run_class(tiny, scene, mode, names)
    assert set(results) == set(names)
    escaped = {}
    for name, res in results.items():
        iso = res["extra_data"]["isolation"]
        assert iso["mode"] == mode
        proof = attacks.evidence(name, res, scene, attacks.EXPECTED[name][0])
        if proof:
            escaped[name] = proof
            gap = attacks.GAPS[name]
            assert any(gap in entry for entry in iso["not_contained"]), \
                f"{name} escaped in {mode} mode ({proof}) but the results do not say so: {iso}"
        else:
            check_honest(name, res)
        assert "s3cret" not in attacks.outputs(res)  # the grader's environment never leaks
    if mode == "bwrap":
        assert escaped == {}, escaped
        assert all(r["extra_data"]["isolation"]["not_contained"] == [] for r in results.values())
    fake = results["fake_json"]
    assert fake["score"] == 0 and '{"score": 10' in fake["tests"][0]["output"]  # shown, never believed


@pytest.mark.parametrize("mode", ["bwrap", "namespace"])
def test_single_submission_cannot_touch_earlier_results(tiny, scene, mode):
    """The issue's case: one submission at a time into a world-writable, non-sticky folder."""
    skip_unless_available(mode)
    klass = scene.tmp / "one"
    attacks.make_class(scene, klass, ["overwrite_results"])
    before = (scene.out / "earlier.json").read_bytes()
    [(_, res)] = grade(tiny, klass / "overwrite_results", scene.out / "bob.json",
                       isolation_mode=mode, progress=lambda m: None)
    assert (scene.out / "earlier.json").read_bytes() == before
    assert sorted(p.name for p in scene.out.iterdir()) == ["bob.json", "earlier.json"]
    assert "OVERWROTE" not in attacks.outputs(res)
    assert res["score"] == 6


def test_declared_subprocesses_end_with_the_sandbox(tiny_copy, scene):
    """An assignment that declares subprocesses may fork; in bwrap mode nothing it starts
    outlives the sandbox, and loopback stays inside it."""
    skip_unless_available("bwrap")
    spec = tiny_copy.root / "assignment.yaml"
    spec.write_text(spec.read_text() + "sandbox: {subprocesses: true, network: loopback}\n")
    from dlcc.course.authoring.format import Assignment

    a = Assignment.load(tiny_copy.root)
    results = dict(grade(a, _class(scene, ["linger", "tcp_udp", "unix_socket"]), scene.out,
                         jobs=2, force=True, isolation_mode="bwrap", progress=lambda m: None))
    assert results["linger"]["score"] == 10
    assert attacks.lingering(scene) == []
    assert scene.recorder.received == []
    facts = results["linger"]["extra_data"]["isolation"]
    assert facts["subprocesses"] == "allowed (declared)" and facts["not_contained"] == []
    assert "TCP CONNECTED" not in attacks.outputs(results["tcp_udp"])


def _class(scene, names):
    klass = scene.tmp / "declared"
    attacks.make_class(scene, klass, names)
    return klass


def test_mode_choice(monkeypatch):
    from dlcc.errors import ConfigError

    monkeypatch.setattr(launch, "_bwrap_probe", [(False, "test: no bwrap")])
    monkeypatch.setattr(launch.namespace, "_probe", [(False, "test: no namespaces")])
    with pytest.raises(ConfigError, match="bubblewrap isolation is not available: test: no bwrap"):
        launch.choose_mode("bwrap")
    with pytest.raises(ConfigError, match="namespace isolation is not available: test: no namespaces"):
        launch.choose_mode("namespace")
    assert launch.choose_mode("auto") == ("fallback", "test: no bwrap; test: no namespaces")
