"""`dlcc course check`: each kind of broken assignment is caught, with file and line."""

import pytest

from dlcc.course.authoring.check import check


def problems(a, run_tests=False):
    return check(a, run_tests=run_tests, progress=lambda m: None).problems


def edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_tiny_assignment_passes_every_check(tiny):
    report = check(tiny, progress=lambda m: None)
    assert report.problems == []
    assert "solution scores 10 of 10 code points; stubs score 0" in report.info


def test_unbalanced_and_unknown_markers(tiny_copy):
    src = tiny_copy.code_dir / "tinymath.py"
    edit(src, "    # === END SOLUTION ===\n    return out", "    return out")
    edit(src, "BEGIN SOLUTION T0.2", "BEGIN SOLUTION T0.9")
    found = problems(tiny_copy)
    assert any("tinymath.py:12: BEGIN SOLUTION inside the region opened at line" in p or
               "cannot nest" in p for p in found), found
    assert any("T0.9" in p and "not in assignment.yaml" in p for p in found), found


def test_marker_in_given_file_and_task_without_region(tiny_copy):
    edit(tiny_copy.code_dir / "helpers.py", "def as_float", "# === BEGIN SOLUTION T0.1 ===\ndef as_float")
    src = tiny_copy.code_dir / "tinymath.py"
    text = src.read_text()
    start = text.index("    # === BEGIN SOLUTION T0.2")
    end = text.index("# === END SOLUTION ===", start) + len("# === END SOLUTION ===")
    src.write_text(text[:start] + "    diff = y_hat - y\n    loss, grad = 0.0, diff" + text[end:])
    found = problems(tiny_copy)
    assert any("helpers.py:6: solution marker in a file that is not a student file" in p
               for p in found), found
    assert any("task T0.2 has no solution region" in p for p in found), found


def test_solution_statement_leaking_into_a_public_test(tiny_copy):
    test = tiny_copy.public_tests_dir / "test_tiny_public.py"
    test.write_text(test.read_text() + "\n\ndef _reference(y_hat, y):\n    diff = y_hat - y\n"
                    "    loss = float(np.mean(diff ** 2))\n    return loss\n")
    found = problems(tiny_copy)
    assert any("tests/test_tiny_public.py" in p and "solution region T0.2" in p
               and "survives in the release" in p for p in found), found


def test_artefacts_and_leftover_markers_in_the_release(tiny_copy):
    (tiny_copy.code_dir / "weights.npy").write_bytes(b"\x93NUMPY")
    raw = (tiny_copy.root / "assignment.yaml").read_text()
    (tiny_copy.root / "assignment.yaml").write_text(raw.replace("given_files: [helpers.py]",
                                                                "given_files: [helpers.py, weights.npy]"))
    cache = tiny_copy.public_tests_dir / "__pycache__"
    cache.mkdir()
    (cache / "x.pyc").write_bytes(b"junk")  # release must skip it
    edit(tiny_copy.root / "questions.md", "# T0 written questions", "# T0 written questions\n"
         "<!-- === END SOLUTION === -->")
    from dlcc.course.authoring.format import Assignment

    found = problems(Assignment.load(tiny_copy.root))
    assert "release contains a build artefact or data file: weights.npy" in found, found
    assert not any("__pycache__" in p for p in found), found
    assert any("release questions.md:2: a solution marker is left over" in p for p in found), found


def test_numeric_answer_printed_in_questions(tiny_copy):
    (tiny_copy.root / "hidden" / "answers.yaml").write_text("T0.Q1: {answer: 12345}\nT0.Q2: {answer: b}\n")
    edit(tiny_copy.root / "questions.md", "What is the slope", "(Hint: 12345.) What is the slope")
    found = problems(tiny_copy)
    assert any("release/questions.md:3: contains 12345, which the grader accepts as the answer to T0.Q1"
               in p for p in found), found


def test_untagged_test_and_task_without_tests(tiny_copy):
    test = tiny_copy.public_tests_dir / "test_tiny_public.py"
    edit(test, '@pytest.mark.task("T0.1")\ndef test_relu_known_values', "def test_relu_known_values")
    hidden = tiny_copy.hidden_tests_dir / "test_tiny_hidden.py"
    edit(hidden, '@pytest.mark.task("T0.1")\ndef test_relu_matches',
         '@pytest.mark.task("T0.7")\ndef test_relu_matches')
    found = problems(tiny_copy)
    assert any("test_relu_known_values has no @pytest.mark.task" in p for p in found), found
    assert any("names task T0.7, which is not in assignment.yaml" in p for p in found), found
    assert "task T0.1 has no tests, so its points cannot be earned" in found


@pytest.mark.slow
def test_weak_test_and_test_failing_on_solution(tiny_copy):
    hidden = tiny_copy.hidden_tests_dir / "test_tiny_hidden.py"
    hidden.write_text(hidden.read_text() + '''

@pytest.mark.task("T0.1")
def test_too_weak(student):
    try:
        student.module("tinymath").relu(np.zeros(2))
    except Exception:
        pass


@pytest.mark.task("T0.2")
def test_wrong_expectation(student):
    loss, _ = student.module("tinymath").mse(np.ones(2), np.zeros(2))
    assert_close(loss, 2.0, name="loss")
''')
    public = tiny_copy.public_tests_dir / "test_tiny_public.py"
    public.write_text(public.read_text() + '''

@pytest.mark.task("T0.1")
def test_uses_the_solution(student, solution):
    assert solution is not None
''')
    found = problems(tiny_copy, run_tests=True)
    assert any("test_too_weak passes against the untouched stubs" in p for p in found), found
    assert any("test_wrong_expectation fails against the solution" in p and "yours 1, expected 2" in p
               for p in found), found
    assert any("public test" in p and "test_uses_the_solution" in p and "dlcc course test" in p
               for p in found), found
