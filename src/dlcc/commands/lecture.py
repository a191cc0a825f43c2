"""`dlcc lecture list | run ID [--out DIR] [--quick] | quiz ID [--answer Q=V ...] [--json]`."""

from __future__ import annotations

import json
import sys

from dlcc.errors import InputError


def register(sub) -> None:
    p = sub.add_parser("lecture", help="the lectures: run a lecture's companion, take its quiz")
    lsub = p.add_subparsers(dest="lecture_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda args: (p.print_help() or 2))

    lp = lsub.add_parser("list", help="lectures, their pages, companions, quizzes and assignments")
    lp.add_argument("--json", action="store_true", help="print JSON")
    lp.set_defaults(func=cmd_list)

    rp = lsub.add_parser("run", help="run a lecture's companion: its figures and numbers")
    rp.add_argument("lecture", help="lecture id, e.g. L3, prologue, math, closing; or 'all'")
    rp.add_argument("--out", metavar="DIR",
                    help="folder for the figures and numbers (default: runs/lecture-ID-TIME)")
    rp.add_argument("--quick", action="store_true",
                    help="the small setting the site and CI use (seconds instead of minutes)")
    rp.set_defaults(func=cmd_run)

    qp = lsub.add_parser("quiz", help="the lecture's practice questions, checked with explanations")
    qp.add_argument("lecture", help="lecture id, e.g. L3")
    qp.add_argument("--answer", action="append", default=[], metavar="Q=ANSWER",
                    help="answer without prompting, e.g. --answer Q1=B --answer Q2=0.25 (repeatable)")
    qp.add_argument("--json", action="store_true", help="print the results as JSON")
    qp.set_defaults(func=cmd_quiz)


def cmd_list(args) -> int:
    from dlcc.lectures import LECTURES
    from dlcc.lectures.quiz import load_quiz

    rows = []
    for lec in LECTURES:
        try:
            n_questions = len(load_quiz(lec))
        except InputError:
            n_questions = 0
        rows.append({"id": lec.id, "title": lec.title, "companion": lec.available,
                     "questions": n_questions, "assignment": lec.assignment, "page": lec.page})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        status = (f"{r['questions']} questions" if r["companion"]
                  else "coming with A5 / advanced topics")
        link = f"  [{r['assignment']}]" if r["assignment"] else ""
        print(f"{r['id']:<{width}}  {r['title']}{link}  ({status})")
    print("\nrun: dlcc lecture run L3 [--quick] [--out DIR]    quiz: dlcc lecture quiz L3")
    return 0


def cmd_run(args) -> int:
    from pathlib import Path

    from dlcc.lectures import LECTURES, find_lecture, run_companion

    if args.lecture.strip().lower() == "all":
        from dlcc.utils.rundir import make_run_dir

        root = make_run_dir(args.out, "lectures")
        reports = [run_companion(lec, Path(root) / lec.id, quick=args.quick)
                   for lec in LECTURES if lec.available]
        print(f"\nall companions: {sum(r.seconds for r in reports):.1f} s "
              f"({sum(r.cpu_seconds for r in reports):.1f} s of CPU) in {root}")
        return 0
    run_companion(find_lecture(args.lecture), args.out, quick=args.quick)
    return 0


def _parse_given(items: list[str], questions) -> dict[str, str]:
    known = {q.id.upper(): q.id for q in questions}
    given = {}
    for item in items:
        key, sep, value = item.partition("=")
        qid = known.get(key.strip().upper())
        if not sep:
            raise InputError(f"--answer {item!r} is not Q=ANSWER", fix="e.g. --answer Q1=B")
        if qid is None:
            raise InputError(f"--answer {item!r}: no question {key.strip()!r} in this quiz",
                             fix=f"use one of {', '.join(q.id for q in questions)}")
        given[qid] = value
    return given


def _ask(q, stream_in) -> str | None:
    """Prompt until the answer has the right form; None at end of input."""
    from dlcc.lectures.quiz import parse_answer

    while True:
        print(f"your answer ({q.form()}): ", end="", flush=True)
        line = stream_in.readline()
        if not line:
            print()
            return None
        try:
            parse_answer(q, line)
            return line.strip()
        except InputError as exc:
            print(f"  {exc.message}; try again")


def cmd_quiz(args) -> int:
    from dlcc.lectures import find_lecture
    from dlcc.lectures.quiz import is_right, load_quiz, parse_answer

    lecture = find_lecture(args.lecture)
    questions = load_quiz(lecture)
    given = _parse_given(args.answer, questions)
    parsed = {qid: parse_answer(next(q for q in questions if q.id == qid), raw)
              for qid, raw in given.items()}   # every given answer is checked before any output
    interactive = not args.answer
    results = []
    for q in questions:
        if interactive and not args.json:
            print(f"\n{q.id}. {q.text}")
            for letter, option in zip(q.letters, q.options):
                print(f"  {letter}. {option}")
            raw = _ask(q, sys.stdin)
            if raw is None:
                break
            value = parse_answer(q, raw)
        elif q.id in parsed:
            value = parsed[q.id]
        else:
            results.append({"id": q.id, "text": q.text, "options": list(q.options),
                            "answered": False, "correct": False,
                            "expected": q.expected(), "explain": q.explain})
            continue
        right = is_right(q, value)
        results.append({"id": q.id, "text": q.text, "options": list(q.options),
                        "answered": True, "correct": right, "given": value,
                        "expected": q.expected(), "explain": q.explain})
        if not args.json:
            mark = "right" if right else f"not quite: the answer is {q.expected()}"
            label = "" if interactive else f"{q.id}: "
            print(f"  {label}{mark}\n  {q.explain}")
    score = sum(r["correct"] for r in results)
    if args.json:
        print(json.dumps({"lecture": lecture.id, "score": score, "total": len(questions),
                          "results": results}, indent=2))
    else:
        print(f"\n{lecture.id}: {score} of {len(questions)} right")
    return 0
