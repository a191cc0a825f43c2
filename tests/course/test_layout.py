"""course/ shows its flow in its folders, and its dependencies point one way."""

import ast
from pathlib import Path

import dlcc.course

COURSE = Path(dlcc.course.__file__).parent
TEST_LAYER = {"checks", "plugin", "proxies", "runner"}
COMMANDS = ["list", "get", "test", "submit", "release", "check", "mutate", "grade", "handgrade",
            "report", "gradescope"]


def imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            out |= {n for n in names if n.startswith("dlcc.")}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("dlcc.")}
    return out


def modules():
    for path in COURSE.rglob("*.py"):
        if "releases" not in path.relative_to(COURSE).parts:
            yield path.relative_to(COURSE), imports(path)


def test_sandbox_and_test_layer_stand_alone():
    for rel, deps in modules():
        course = {d.split(".")[2] for d in deps if d.startswith("dlcc.course.") and len(d.split(".")) > 2}
        if rel.parts[0] == "sandbox":
            assert course <= {"sandbox"}, f"{rel} imports {course - {'sandbox'}}"
        if rel.stem in TEST_LAYER and len(rel.parts) == 1:
            assert course <= {"sandbox", "proxies"}, f"{rel} imports {course}"
        assert not any(d.startswith("dlcc.commands") for d in deps), rel


def test_flow_folders_and_command_modules():
    assert {p.name for p in COURSE.iterdir() if p.is_dir() and p.name != "__pycache__"} == {
        "authoring", "student", "grading", "sandbox", "releases"}
    flat = [p.name for p in COURSE.glob("*.py")]
    assert sorted(flat) == ["__init__.py", "checks.py", "plugin.py", "proxies.py", "runner.py"]
    found = {p.stem for p in COURSE.rglob("*.py")}
    assert set(COMMANDS) - {"list"} <= found  # `list` is discovery.list_assignments
