"""The lecture catalog and the quiz format: ids, aliases, answer parsing, the shipped keys."""

from __future__ import annotations

import pytest

from dlcc.errors import InputError
from dlcc.lectures import LECTURES, find_lecture
from dlcc.lectures.quiz import Question, is_right, load_quiz, parse_answer, to_markdown


@pytest.mark.parametrize("name,expected", [("L3", "L3"), ("l3", "L3"), ("3", "L3"), ("L03", "L3"),
                                           ("Lecture 3", "L3"), ("prologue", "prologue"), ("P", "prologue"),
                                           ("math", "math"), ("closing", "closing"), ("L12", "L12")])
def test_find_lecture_accepts_the_usual_spellings(name, expected):
    assert find_lecture(name).id == expected


@pytest.mark.parametrize("name", ["L99", "", "lecture", "L3.5", "13"])
def test_unknown_lecture_is_an_input_error_listing_the_ids(name):
    with pytest.raises(InputError) as err:
        find_lecture(name)
    assert "L3" in err.value.fix and "prologue" in err.value.fix


def test_every_lecture_now_has_a_companion():
    assert all(lec.available for lec in LECTURES)


def test_lecture_12_practises_a8_prototypical_networks():
    lecture = find_lecture("L12")
    assert lecture.companion == "l12_small_data" and lecture.assignment == "A8"


def test_lectures_10_and_11_are_ready_and_practise_a5():
    for lecture_id in ("L10", "L11"):
        lecture = find_lecture(lecture_id)
        assert lecture.available and lecture.assignment == "A5"


@pytest.mark.parametrize("lecture", [lec for lec in LECTURES if lec.available], ids=lambda lec: lec.id)
def test_every_ready_lecture_has_at_least_three_well_formed_questions(lecture):
    questions = load_quiz(lecture)
    assert len(questions) >= 3
    for q in questions:
        assert q.text and q.explain
        if q.kind == "number":
            assert is_right(q, parse_answer(q, repr(q.answer)))
        else:
            assert is_right(q, parse_answer(q, q.answer))
    md = to_markdown(questions, lecture)
    assert md.count('??? note "Answer to') == len(questions)


def test_answers_are_parsed_by_kind():
    choice = Question("Q1", "choice", "t", "e", "B", ("x", "y", "z"))
    assert parse_answer(choice, " b ") == "B"
    assert is_right(choice, parse_answer(choice, "B")) and not is_right(choice, parse_answer(choice, "A"))
    multi = Question("Q2", "multi", "t", "e", "AC", ("x", "y", "z"))
    assert is_right(multi, parse_answer(multi, "c, a"))
    assert not is_right(multi, parse_answer(multi, "A"))
    number = Question("Q3", "number", "t", "e", 0.25, (), 0.001)
    assert is_right(number, parse_answer(number, "1/4")) and is_right(number, parse_answer(number, "0.2505"))
    assert not is_right(number, parse_answer(number, "0.3"))


@pytest.mark.parametrize("kind,options,raw", [("number", (), "abc"), ("number", (), "1/0"), ("number", (), "nan"),
                                              ("choice", ("x", "y"), "C"), ("choice", ("x", "y"), "AB"),
                                              ("choice", ("x", "y"), ""), ("multi", ("x", "y"), "AZ")])
def test_answers_of_the_wrong_form_are_input_errors(kind, options, raw):
    q = Question("Q7", kind, "t", "e", 1.0 if kind == "number" else "A", options)
    with pytest.raises(InputError) as err:
        parse_answer(q, raw)
    assert "Q7" in str(err.value) and "answer Q7 with" in err.value.fix
