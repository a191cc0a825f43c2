"""`dlcc course mutate`: single-line mutants of the solution, graded; survivors listed, and
counted as equivalent only on equal outputs for 100 random float64 inputs."""

from dlcc.cli import main
from dlcc.course.authoring.format import Assignment
from dlcc.course.authoring.mutants import all_mutants
from dlcc.course.authoring.mutate import mutate

from coursepaths import REPO, TINY_ROOT

ASSIGNMENTS = REPO / "assignments"

PROBES = '''import numpy as np

PROBES = {"tinymath.relu": lambda m, rng: m.relu(rng.normal(size=(3, 4)))}
'''


def test_mutants_of_a_line():
    a = Assignment.load(TINY_ROOT / "T0")
    found = {(m.line, m.operator, m.after) for m in all_mutants(a)}
    assert (13, "0.0 -> 1.0", "out = np.maximum(x, 1.0)") in found
    assert (13, "maximum -> minimum", "out = np.minimum(x, 0.0)") in found
    assert (13, "statement -> pass", "pass") in found
    assert (20 + 5, "- -> +", "diff = (y_hat + y)") in found
    assert all(m.task in ("T0.1", "T0.2") for m in all_mutants(a))


def test_survivors_and_equivalent_mutants(tiny_copy, capsys):
    src = tiny_copy.code_dir / "tinymath.py"
    # a redundant line whose `* -> /` and `-> pass` mutants change nothing
    src.write_text(src.read_text().replace("    out = np.maximum(x, 0.0)\n",
                                           "    out = np.maximum(x, 0.0)\n    out = out * 1.0\n"))
    (tiny_copy.root / "hidden" / "mutation.py").write_text(PROBES)
    hidden = tiny_copy.hidden_tests_dir / "test_tiny_hidden.py"  # weaken T0.2: no hidden tests
    hidden.write_text(hidden.read_text().split('@pytest.mark.task("T0.2")')[0])
    report = mutate(Assignment.load(tiny_copy.root), jobs=2, progress=lambda m: None)
    by = {(o.mutant.line, o.mutant.operator): o for o in report.outcomes}
    assert by[(14, "* -> /")].status == "equivalent"
    assert "same outputs as the solution on 100 random float64 inputs" in by[(14, "* -> /")].by
    assert by[(14, "statement -> pass")].status == "equivalent"
    assert by[(14, "1.0 -> 2.0")].status == "killed"
    survivors = [o for o in report.outcomes if o.status == "survived"]
    assert survivors and all(o.mutant.task == "T0.2" for o in survivors)
    assert all("no probe for tinymath.mse" in o.by for o in survivors)
    text = report.markdown()
    assert "## Survivors (gaps in the tests)" in text and "## Equivalent survivors" in text
    assert f"killed {report.kill_rate:.1%} of the non-equivalent mutants" in text
    assert report.kill_rate < 1


def test_mutate_cli(tiny_env, tmp_path, capsys):
    assert main(["course", "mutate", "T0", "--n", "4", "--out", str(tmp_path / "m.md")]) == 0
    assert "a random sample (seed 0) of 4 of 15" in (tmp_path / "m.md").read_text()
    assert main(["course", "mutate", "T0", "--n", "0"]) == 2
    assert "--n 0 must be 1 or more" in capsys.readouterr().err


def test_every_probe_of_the_course_names_a_function_of_its_solution():
    """A renamed function would leave its probe behind, and its survivors would count as gaps."""
    import ast

    checked = 0
    for probes in sorted(ASSIGNMENTS.glob("*/hidden/mutation.py")):
        (table,) = [n.value for n in ast.parse(probes.read_text()).body
                    if isinstance(n, ast.Assign) and [t.id for t in n.targets if isinstance(t, ast.Name)] == ["PROBES"]]
        for key in table.keys:
            file, *path = key.value.split(".")
            nodes = ast.parse((probes.parent.parent / "src" / f"{file}.py").read_text()).body
            for part in path:
                found = [n for n in nodes if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == part]
                assert found, f"{probes}: {key.value} is not in the solution"
                nodes = found[0].body
            checked += 1
    assert checked >= 10
