"""What `pip install dlcc` gives a self-taught student: the wheel built from this checkout,
installed in a fresh environment, used from a folder outside the repository. It ships every
assignment's student side and nothing of the instructor's: no solution statement, no hidden
test line, no answer."""

import shutil
import zipfile

import pytest

from dlcc.course.authoring import leaks
from dlcc.course.authoring.check import solution_statements, statements
from dlcc.course.authoring.discovery import list_assignments
from dlcc.course.student import quiz

import freshenv
from coursepaths import REPO

ASSIGNMENTS = list_assignments(REPO / "assignments")


@pytest.mark.slow
def test_student_flow_from_the_installed_wheel(fresh_env, tmp_path):
    venv, _ = fresh_env
    home = tmp_path / "student"   # nowhere near the repository
    home.mkdir()
    out = freshenv.dlcc(venv, ["course", "list"], cwd=home).stdout
    assert "shipped with dlcc" in out and "A1" in out and "A4" in out
    freshenv.dlcc(venv, ["course", "get", "A1", "--out", "A1"], cwd=home)
    work = home / "A1"
    assert (work / "a1_mlp_3_layers.py").is_file() and (work / "tests").is_dir()
    stubs = freshenv.dlcc(venv, ["course", "test", "A1"], cwd=work, check=False)
    assert stubs.returncode == 1 and "public tests: 0/12 passed" in stubs.stdout
    for name in ("a1_mlp_3_layers.py", "a1_mlp_N_layers.py"):  # the student does the work
        shutil.copyfile(REPO / "assignments" / "A1" / "src" / name, work / name)
    (work / "answers.yaml").write_text("A1.Q1: 1\nA1.Q2: 2\nA1.Q3: b\nA1.Q4: 0.3\nA1.Q5: [1, 1]\n")
    (work / "written_answers.md").write_text("## A1.Q6\n\nproof\n\n## A1.Q7\n\nderivation\n")
    done = freshenv.dlcc(venv, ["course", "test", "A1"], cwd=work)
    assert "public tests: 12/12 passed" in done.stdout
    freshenv.dlcc(venv, ["course", "submit", "A1", "--out", str(home / "A1.zip")], cwd=work)
    with zipfile.ZipFile(home / "A1.zip") as zf:
        assert sorted(zf.namelist()) == ["a1_mlp_3_layers.py", "a1_mlp_N_layers.py", "answers.yaml",
                                         "written_answers.md"]
    refused = freshenv.dlcc(venv, ["course", "grade", "A1", str(home / "A1.zip"), "--out", "r.json"],
                            cwd=home, check=False)
    assert refused.returncode == 2 and "holds only the student releases" in refused.stderr


def _wheel_texts(whl) -> dict[str, str]:
    with zipfile.ZipFile(whl) as zf:
        return {n: zf.read(n).decode("utf-8", "replace") for n in zf.namelist()
                if "." + n.rsplit(".", 1)[-1] in leaks.TEXT_SUFFIXES
                and not leaks.SKIP_DIRS & set(n.split("/"))}


# Runs of solution statements that stand elsewhere in the wheel on purpose, with the reason.
KNOWN_RUNS = {
    # the five-line PyTorch training step (A2.6) is given code of the later A3: an idiom the
    # lectures teach too; shipping all releases at once makes it readable while doing A2
    ("A2.6", "dlcc/course/releases/A3/util.py"), ("A2.6", "dlcc/course/releases/A3/a3_unet.py"),
    # the same three-line optimizer step closes A8's ProtoNet episode step
    ("A8.8", "dlcc/course/releases/A3/util.py"), ("A8.8", "dlcc/course/releases/A3/a3_unet.py"),
    # the max-shifted, fully-masked-row-safe softmax of A8.2 is the NumPy engine's own
    # (dlcc.scratch ships to be read, as its layers stand next to A1); A8's tests ask for the
    # backward, the heads and the block as well, which the engine writes differently
    ("A8.2", "dlcc/scratch/layers/attention.py"),
}


@pytest.mark.slow
@pytest.mark.parametrize("a", ASSIGNMENTS, ids=lambda a: a.id)
def test_wheel_holds_no_solution_hidden_test_or_key(fresh_env, a):
    _, whl = fresh_env
    texts = _wheel_texts(whl)
    release = {n: t for n, t in texts.items() if n.startswith(f"dlcc/course/releases/{a.id}/")}
    assert release
    secret = solution_statements(a)  # not one statement of a region in the assignment's release
    found = [f"{name}:{line}: {secret[d]}" for name, text in release.items() if name.endswith(".py")
             for d, line in statements(text).items() if d in secret]
    assert found == [], found
    runs = [p for p in leaks.solution_runs(a, texts)  # nor a run of them anywhere in the wheel
            if (p.split("region ")[1].split()[0], p.split(":")[0]) not in KNOWN_RUNS]
    assert runs == [], runs
    released = leaks.read_texts([REPO / "src" / "dlcc" / "course" / "releases" / a.id], "release")
    problems, _ = leaks.answer_leaks(a, quiz.load_key(a), texts)
    problems += leaks.hidden_test_leaks(a, released, texts)
    assert problems == [], problems
    assert not any("/hidden/" in n for n in texts)
