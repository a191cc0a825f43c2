"""What runs on Gradescope for every submission: grade it, always leave results.json.

    python3 -m dlcc.course.grading.autograder ROOT ID

ROOT is laid out as Gradescope lays out /autograder: `source/` (the unpacked archive of
`dlcc course gradescope`: assignments/, data/, wheels/), `submission/` (the student's upload,
unzipped) and `results/` (where results/results.json must appear). The results are the same
results.json `dlcc course grade` writes; a submission that cannot be read, or a failure of the
grader itself, still produces one (score 0, with the reason), as Gradescope requires.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from dlcc.errors import DlccError


def run(root: Path, aid: str) -> dict:
    from dlcc.course.authoring.format import Assignment
    from dlcc.course.grading.grade import grade_one
    from dlcc.utils.io import write_json

    out = root / "results" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    data = root / "source" / "data"
    if data.is_dir():
        os.environ["DLCC_DATA"] = os.pathsep.join(p for p in [str(data), os.environ.get("DLCC_DATA", "")] if p)
    try:
        a = Assignment.load(root / "source" / "assignments" / aid)
        return grade_one(a, root / "submission", out, force=True, progress=print)
    except DlccError as exc:  # the submission (or the set-up) is unusable: say why, score 0
        res = _failed(aid, f"this submission could not be graded: {exc}")
    except Exception:  # a grader bug: never leave Gradescope without results
        res = _failed(aid, "GRADER ERROR (not your fault; tell your instructor):\n"
                           + traceback.format_exc()[-2000:])
    write_json(out, res)
    return res


def _failed(aid: str, message: str) -> dict:
    return {"score": 0.0, "output": f"{aid}: {message}", "tests": [], "visibility": "visible",
            "extra_data": {"assignment": aid, "invalid_submission": message}}


if __name__ == "__main__":
    result = run(Path(sys.argv[1]), sys.argv[2])
    print(f"score {result['score']:g}")
