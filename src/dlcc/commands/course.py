"""`dlcc course ...`: the course pipeline.

    students     list | get | test | submit
    instructors  release | check | mutate | grade | handgrade | report | gradescope

See docs/course.md for the assignment format and the grader's security model.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from dlcc.errors import InputError


def _instructor(args, aid: str):
    from dlcc.course.authoring.discovery import instructor_assignment

    return instructor_assignment(aid, args.assignments)


def _progress(message: str) -> None:
    print(message, flush=True)


def cmd_list(args) -> int:
    from dlcc.course.authoring.discovery import find_assignments_root, list_assignments, packaged_root

    root = find_assignments_root(args.assignments)
    items = list_assignments(root)
    shipped = root == packaged_root()
    print("assignments shipped with dlcc (get one: dlcc course get ID --out DIR)" if shipped
          else f"assignments in {root}")
    print(f"{'id':<6} {'tasks':>5} {'code pts':>8} {'written':>8}  title")
    for a in items:
        written = sum(q.points for q in a.questions)
        print(f"{a.id:<6} {len(a.tasks):>5} {a.code_points:>8g} {written:>8g}  {a.title}")
    if not items:
        print("(none)")
    return 0


def _moved(moved) -> None:
    if moved:
        print(f"your earlier copy (with changes) was moved to {moved}; nothing in it was deleted")


def cmd_get(args) -> int:
    from dlcc.course.student.get import get

    out, moved = get(args.id, Path(args.out), force=args.force)
    _moved(moved)
    print(f"{args.id} is in {out}; next: cd {out} && dlcc course test {args.id}")
    return 0


def cmd_release(args) -> int:
    from dlcc.course.authoring.release import package_release, release

    a = _instructor(args, args.id)
    if args.package:
        out = package_release(a)
        print(f"released {a.id} into the package: {out}")
        return 0
    if not args.out:
        raise InputError("pass --out DIR (or --package)", fix=f"dlcc course release {a.id} --out release/{a.id}")
    moved: list[Path] = []
    out = release(a, Path(args.out), force=args.force, moved=moved)
    _moved(moved[0] if moved else None)
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    print(f"released {a.id} to {out} ({len(files)} files): {', '.join(files)}")
    print(f"students run: cd {out} && dlcc course test {a.id}")
    return 0


def cmd_check(args) -> int:
    from dlcc.course.authoring.check import check
    from dlcc.course.authoring.discovery import find_assignments_root, list_assignments

    if args.all:
        items = list_assignments(find_assignments_root(args.assignments, packaged=False))
    elif args.id:
        items = [_instructor(args, args.id)]
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


def _working_copy(args, released_only: bool = True):
    from dlcc.course.student.submit import working_copy

    workdir = Path(args.dir).resolve() if args.dir else Path.cwd()
    return working_copy(args.id, workdir, released_only), workdir


def cmd_test(args) -> int:
    from dlcc.course.student import test

    a, _ = _working_copy(args, released_only=False)
    report, _ = test.run(a, a.code_dir, task=args.task, verbose=args.verbose)
    text, ok = test.render(a, a.code_dir, report, task=args.task)
    print(text)
    return 0 if ok else 1


def cmd_submit(args) -> int:
    from dlcc.course.student import submit, test

    a, workdir = _working_copy(args)
    out = Path(args.out).resolve()
    submit.check_out(out, args.force)
    packing = submit.check(a, workdir)
    if packing.unfinished and not args.partial:
        raise InputError(f"{a.id} is not finished: " + "; ".join(packing.unfinished),
                         fix="finish these, or pass --partial to hand in what you have")
    if not args.no_tests:
        report, _ = test.run(a, workdir)
        print(test.render(a, workdir, report)[0])
        print()
    submit.pack(packing, out)
    for line in packing.unfinished:
        print(f"unfinished (handed in with --partial): {line}")
    print(f"wrote {out}: {', '.join(packing.files)}")
    return 0


def cmd_grade(args) -> int:
    from dlcc.course.grading.grade import grade, status

    a = _instructor(args, args.id)
    jobs = args.jobs if args.jobs else (os.cpu_count() or 1)
    if jobs < 0:
        raise InputError(f"--jobs {args.jobs} must be 0 (all cores) or more", fix="pass --jobs 2")
    rows = grade(a, Path(args.submission), Path(args.out), jobs=jobs, force=args.force,
                 isolation_mode=args.isolation, progress=_progress)
    bad = [name for name, res in rows if status(res) == "grader-error"]
    if bad:
        print(f"grader errors (not the students' fault; fix and grade again): {', '.join(bad)}")
    return 1 if bad else 0


def cmd_handgrade(args) -> int:
    from dlcc.course.grading import handgrade

    a = _instructor(args, args.id)
    if bool(args.template) == bool(args.merge):
        raise InputError("pass exactly one of --template FILE.csv and --merge FILE.csv",
                         fix=f"dlcc course handgrade {a.id} {args.results} --template scores.csv")
    if args.template:
        path = handgrade.template(a, Path(args.results), Path(args.template), force=args.force)
        print(f"wrote {path}: fill in the scores (read each <name>.written.md), then run "
              f"dlcc course handgrade {a.id} {args.results} --merge {path}")
    else:
        names = handgrade.merge(a, Path(args.results), Path(args.merge))
        print(f"merged hand-graded points of {len(names)} submissions into {args.results} "
              "(results files and class.csv)")
    return 0


def cmd_report(args) -> int:
    from dlcc.course.grading.report import class_report

    paths = class_report([Path(p) for p in args.results], Path(args.out), force=args.force)
    for p in paths:
        print(f"wrote {p}")
    return 0


def cmd_mutate(args) -> int:
    from dlcc.course.authoring.mutate import mutate

    a = _instructor(args, args.id)
    if args.n is not None and args.n < 1:
        raise InputError(f"--n {args.n} must be 1 or more", fix="pass --n 50, or leave it out for all")
    report = mutate(a, n=args.n, seed=args.seed, jobs=args.jobs or (os.cpu_count() or 1),
                    isolation_mode=args.isolation, progress=_progress)
    text = report.markdown()
    print(text)
    if args.out:
        from dlcc.utils.io import atomic_write_text

        atomic_write_text(Path(args.out), text + "\n")
        print(f"wrote {args.out}")
    return 0


def cmd_gradescope(args) -> int:
    from dlcc.course.grading.gradescope import build

    a = _instructor(args, args.id)
    out = build(a, Path(args.out), force=args.force, wheels=Path(args.wheels) if args.wheels else None,
                run_tests=not args.no_tests, isolation_mode=args.isolation, progress=_progress)
    print(f"wrote {out}: upload it as the autograder of {a.id} on Gradescope")
    return 0


def register(sub) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--assignments", metavar="DIR",
                        help="folder of assignment folders (default: $DLCC_ASSIGNMENTS, ./assignments, "
                             "the one beside the dlcc source, else the releases shipped with dlcc)")
    iso = argparse.ArgumentParser(add_help=False)
    iso.add_argument("--isolation", choices=["auto", "bwrap", "namespace", "fallback"], default="auto",
                     help="sandbox: bwrap (allowlist), namespace (root), fallback; "
                          "default: the best that works here")

    p = sub.add_parser("course", help="assignments: get, test, submit; release, check, grade, ...")
    cs = p.add_subparsers(dest="course_command", metavar="ACTION")
    p.set_defaults(func=lambda args: p.print_help() or 2)

    q = cs.add_parser("list", parents=[common], help="list the assignments")
    q.set_defaults(func=cmd_list)

    q = cs.add_parser("get", help="students: copy an assignment shipped with dlcc into a folder")
    q.add_argument("id")
    q.add_argument("--out", required=True, metavar="DIR")
    q.add_argument("--force", action="store_true",
                   help="replace an earlier copy in DIR (a changed one is moved aside)")
    q.set_defaults(func=cmd_get)

    q = cs.add_parser("test", help="students: run the public tests on your working copy")
    q.add_argument("id")
    q.add_argument("--task", metavar="T", help="only this task, e.g. A1.2")
    q.add_argument("--dir", metavar="WORKDIR", help="your assignment folder (default: here)")
    q.add_argument("-v", "--verbose", action="store_true", help="also show pytest's own output")
    q.set_defaults(func=cmd_test)

    q = cs.add_parser("submit", help="students: check your work and pack the zip to hand in")
    q.add_argument("id")
    q.add_argument("--out", required=True, metavar="FILE.zip")
    q.add_argument("--dir", metavar="WORKDIR", help="your assignment folder (default: here)")
    q.add_argument("--partial", action="store_true",
                   help="hand in although tasks or questions are unfinished")
    q.add_argument("--no-tests", action="store_true", help="do not run the public tests first")
    q.add_argument("--force", action="store_true", help="replace an existing FILE.zip")
    q.set_defaults(func=cmd_submit)

    q = cs.add_parser("release", parents=[common], help="build the student tree (stubs, public tests)")
    q.add_argument("id")
    q.add_argument("--out", metavar="DIR")
    q.add_argument("--package", action="store_true",
                   help="write the release that wheels ship (in a source checkout)")
    q.add_argument("--force", action="store_true",
                   help="replace an earlier release in DIR (a changed one is moved aside)")
    q.set_defaults(func=cmd_release)

    q = cs.add_parser("check", parents=[common, iso], help="lint an assignment before release")
    q.add_argument("id", nargs="?")
    q.add_argument("--all", action="store_true", help="check every assignment")
    q.add_argument("--no-tests", action="store_true", help="skip running tests (markers and release only)")
    q.set_defaults(func=cmd_check)

    q = cs.add_parser("mutate", parents=[common, iso],
                      help="mutation testing: which single-line bugs in the solution do the tests miss")
    q.add_argument("id")
    q.add_argument("--n", type=int, metavar="N", help="grade a random sample of N mutants (default: all)")
    q.add_argument("--seed", type=int, default=0, help="seed of the sample")
    q.add_argument("--jobs", type=int, default=0, help="mutants graded in parallel (0: all cores)")
    q.add_argument("--out", metavar="FILE.md", help="also write the report here")
    q.set_defaults(func=cmd_mutate)

    q = cs.add_parser("grade", parents=[common, iso], help="grade submissions in a sandbox")
    q.add_argument("id")
    q.add_argument("submission", help="a folder, a .zip, or a class folder of folders/zips")
    q.add_argument("--out", required=True, help="results.json (one submission) or a directory (class)")
    q.add_argument("--jobs", type=int, default=0, help="submissions graded in parallel (0: all cores)")
    q.add_argument("--force", action="store_true", help="overwrite existing results")
    q.set_defaults(func=cmd_grade)

    q = cs.add_parser("handgrade", parents=[common], help="hand-graded points: a CSV out, then merged in")
    q.add_argument("id")
    q.add_argument("results", help="the class results folder written by `course grade`")
    q.add_argument("--template", metavar="FILE.csv", help="write a CSV to fill in")
    q.add_argument("--merge", metavar="FILE.csv", help="merge a filled-in CSV into the results")
    q.add_argument("--force", action="store_true", help="replace an existing template")
    q.set_defaults(func=cmd_handgrade)

    q = cs.add_parser("report", help="class analytics from results files")
    q.add_argument("results", nargs="+", help="results .json files or folders of them")
    q.add_argument("--out", required=True, metavar="DIR")
    q.add_argument("--force", action="store_true")
    q.set_defaults(func=cmd_report)

    q = cs.add_parser("gradescope", parents=[common, iso], help="build a Gradescope autograder.zip")
    q.add_argument("id")
    q.add_argument("--out", required=True, metavar="autograder.zip")
    q.add_argument("--wheels", metavar="DIR",
                   help="wheels of dlcc's dependencies for Gradescope's Python (pip download ...)")
    q.add_argument("--no-tests", action="store_true", help="check without running the tests")
    q.add_argument("--force", action="store_true", help="replace an existing archive")
    q.set_defaults(func=cmd_gradescope)
