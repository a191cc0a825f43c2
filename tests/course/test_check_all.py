"""CI runs `dlcc course check` for every assignment in the repository's assignments/ folder:
markers, release contents, and every test against the solution and the untouched stubs."""

import pytest

from dlcc.course.authoring.discovery import list_assignments
from dlcc.course.authoring.check import check

from coursepaths import REPO

ASSIGNMENTS = {a.id: a for a in list_assignments(REPO / "assignments")}


@pytest.mark.slow
@pytest.mark.data
@pytest.mark.parametrize("aid", sorted(ASSIGNMENTS))
def test_assignment_passes_check(aid, shared_data):
    a = ASSIGNMENTS[aid]
    report = check(a, progress=lambda m: None)
    assert report.problems == [], "\n".join(report.problems)
    assert f"solution scores {a.code_points:g} of {a.code_points:g} code points; stubs score 0" in report.info
