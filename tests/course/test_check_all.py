"""CI runs `dlcc course check` for every assignment in the repository's assignments/ folder:
markers, release contents, and every test against the solution and the untouched stubs. Each
goes through the command line (exit code and report), once per assignment: the check is the
slowest part of the course tests, so no other test repeats it."""

import pytest

from dlcc.cli import main
from dlcc.course.authoring.discovery import list_assignments

from coursepaths import REPO

ASSIGNMENTS = {a.id: a for a in list_assignments(REPO / "assignments")}


@pytest.mark.slow
@pytest.mark.data
@pytest.mark.parametrize("aid", sorted(ASSIGNMENTS))
def test_assignment_passes_check(aid, shared_data, monkeypatch, capsys):
    a = ASSIGNMENTS[aid]
    monkeypatch.setenv("DLCC_ASSIGNMENTS", str(REPO / "assignments"))
    code = main(["course", "check", aid])
    out = capsys.readouterr().out
    assert code == 0 and f"{aid}: OK" in out, out
    assert f"solution scores {a.code_points:g} of {a.code_points:g} code points; stubs score 0" in out, out
