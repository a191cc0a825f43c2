"""`dlcc course list | release | check | test | grade | report`: the course pipeline.

See docs/course.md for the assignment format and the grader's security model.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from dlcc.errors import InputError


def _assignment(args, aid: str):
    from dlcc.course.assignment import find_assignments_root, get_assignment

    return get_assignment(aid, find_assignments_root(args.assignments))


def cmd_list(args) -> int:
    from dlcc.course.assignment import find_assignments_root, list_assignments

    root = find_assignments_root(args.assignments)
    items = list_assignments(root)
    print(f"assignments in {root}")
    print(f"{'id':<6} {'tasks':>5} {'code pts':>8} {'written':>8}  title")
    for a in items:
        written = sum(q.points for q in a.questions)
        print(f"{a.id:<6} {len(a.tasks):>5} {a.code_points:>8g} {written:>8g}  {a.title}")
    if not items:
        print("(none)")
    return 0


def cmd_release(args) -> int:
    from dlcc.course.release import release

    a = _assignment(args, args.id)
    out = release(a, Path(args.out), force=args.force)
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    print(f"released {a.id} to {out} ({len(files)} files): {', '.join(files)}")
    print(f"students run: cd {out} && dlcc course test {a.id}")
    return 0


def cmd_check(args) -> int:
    from dlcc.course.assignment import find_assignments_root, list_assignments
    from dlcc.course.lint import check

    if args.all:
        items = list_assignments(find_assignments_root(args.assignments))
    elif args.id:
        items = [_assignment(args, args.id)]
    else:
        raise InputError("name an assignment (dlcc course check A1) or pass --all",
                         fix="dlcc course check A1")
    failed = 0
    for a in items:
        print(f"== check {a.id}: {a.title}")
        report = check(a, run_tests=not args.no_tests, isolation_mode=args.isolation,
                       progress=lambda m: print(f"   {m}", flush=True))
        for line in report.info:
            print(f"   {line}")
        for line in report.problems:
            print(f"   FAIL {line}")
        print(f"   {a.id}: {'OK' if report.ok else f'{len(report.problems)} problem(s)'}")
        failed += not report.ok
    return 1 if failed else 0


def cmd_test(args) -> int:
    from dlcc.course import student_report
    from dlcc.course.assignment import Assignment

    workdir = Path(args.dir).resolve() if args.dir else Path.cwd()
    if not (workdir / "assignment.yaml").is_file():
        raise InputError(f"{workdir} holds no assignment.yaml, so it is not an assignment working copy",
                         fix=f"cd into the folder made by `dlcc course release {args.id}`, or pass --dir")
    a = Assignment.load(workdir)
    if a.id != args.id:
        raise InputError(f"{workdir / 'assignment.yaml'} is assignment {a.id}, not {args.id}",
                         fix=f"run `dlcc course test {a.id}`, or pass --dir with the {args.id} folder")
    code_dir = a.code_dir
    report, _ = student_report.run(a, code_dir, task=args.task, verbose=args.verbose)
    text, ok = student_report.render(a, code_dir, report, task=args.task)
    print(text)
    return 0 if ok else 1


def cmd_grade(args) -> int:
    from dlcc.course.grade import grade, status

    a = _assignment(args, args.id)
    jobs = args.jobs if args.jobs else (os.cpu_count() or 1)
    if jobs < 0:
        raise InputError(f"--jobs {args.jobs} must be 0 (all cores) or more", fix="pass --jobs 2")
    rows = grade(a, Path(args.submission), Path(args.out), jobs=jobs, force=args.force,
                 isolation_mode=args.isolation, progress=lambda m: print(m, flush=True))
    bad = [name for name, res in rows if status(res) == "grader-error"]
    if bad:
        print(f"grader errors (not the students' fault; fix and grade again): {', '.join(bad)}")
    return 1 if bad else 0


def cmd_report(args) -> int:
    from dlcc.course.report import class_report

    paths = class_report([Path(p) for p in args.results], Path(args.out), force=args.force)
    for p in paths:
        print(f"wrote {p}")
    return 0


def register(sub) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--assignments", metavar="DIR",
                        help="folder of assignment folders (default: $DLCC_ASSIGNMENTS, ./assignments "
                             "or the one beside the dlcc source)")
    iso = argparse.ArgumentParser(add_help=False)
    iso.add_argument("--isolation", choices=["auto", "namespace", "fallback"], default="auto",
                     help="sandbox isolation: namespace needs root on Linux (default: best available)")

    p = sub.add_parser("course", help="assignments: list, release, check, test, grade, report")
    cs = p.add_subparsers(dest="course_command", metavar="ACTION")
    p.set_defaults(func=lambda args: p.print_help() or 2)

    q = cs.add_parser("list", parents=[common], help="list the assignments")
    q.set_defaults(func=cmd_list)

    q = cs.add_parser("release", parents=[common], help="build the student tree (stubs, public tests)")
    q.add_argument("id")
    q.add_argument("--out", required=True, metavar="DIR")
    q.add_argument("--force", action="store_true", help="replace an earlier release in DIR")
    q.set_defaults(func=cmd_release)

    q = cs.add_parser("check", parents=[common, iso], help="lint an assignment before release")
    q.add_argument("id", nargs="?")
    q.add_argument("--all", action="store_true", help="check every assignment")
    q.add_argument("--no-tests", action="store_true", help="skip running tests (markers and release only)")
    q.set_defaults(func=cmd_check)

    q = cs.add_parser("test", help="run the public tests on your working copy")
    q.add_argument("id")
    q.add_argument("--task", metavar="T", help="only this task, e.g. A1.2")
    q.add_argument("--dir", metavar="WORKDIR", help="your assignment folder (default: here)")
    q.add_argument("-v", "--verbose", action="store_true", help="also show pytest's own output")
    q.set_defaults(func=cmd_test)

    q = cs.add_parser("grade", parents=[common, iso], help="grade submissions in a sandbox")
    q.add_argument("id")
    q.add_argument("submission", help="a folder, a .zip, or a class folder of folders/zips")
    q.add_argument("--out", required=True, help="results.json (one submission) or a directory (class)")
    q.add_argument("--jobs", type=int, default=0, help="submissions graded in parallel (0: all cores)")
    q.add_argument("--force", action="store_true", help="overwrite existing results")
    q.set_defaults(func=cmd_grade)

    q = cs.add_parser("report", help="class analytics from results files")
    q.add_argument("results", nargs="+", help="results .json files or folders of them")
    q.add_argument("--out", required=True, metavar="DIR")
    q.add_argument("--force", action="store_true")
    q.set_defaults(func=cmd_report)
