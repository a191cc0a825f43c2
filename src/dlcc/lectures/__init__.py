"""The "learn" half of the course: one companion script and one self-checking quiz per lecture.

    from dlcc.lectures import find_lecture, run_companion
    lecture = find_lecture("L3")                 # also "3", "l03", "prologue", "math", "closing"
    report = run_companion(lecture, "out/L3", quick=True)
    report.figures                               # {"graph": Path(...png), ...}
    report.numbers                               # {"max_abs_diff": 0.0, ...}

The course site (docs/) shows each lecture's page with the figures its companion makes at build
time; `dlcc lecture list | run | quiz` is the same from the command line.
"""

from dlcc.lectures.catalog import LECTURES, Lecture, find_lecture
from dlcc.lectures.companion import Companion, Report, run_companion

__all__ = ["LECTURES", "Companion", "Lecture", "Report", "find_lecture", "run_companion"]
