"""`dlcc course release`: exactly the student files, stubbed, and nothing secret."""

import pytest
import yaml

from dlcc.course.authoring.release import release
from dlcc.errors import ConfigError, InputError


def test_release_tree_of_tiny(tiny, tmp_path):
    out = release(tiny, tmp_path / "rel")
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == ["answers.yaml", "assignment.yaml", "conftest.py", "helpers.py", "questions.md",
                     "tests/test_tiny_public.py", "tinymath.py", "written_answers.md"]
    code = (out / "tinymath.py").read_text()
    assert "np.maximum(x, 0.0)" not in code and "diff ** 2" not in code
    assert 'raise NotImplementedError("T0.1: this part of relu() is not implemented yet")' in code
    assert (out / "helpers.py").read_bytes() == (tiny.code_dir / "helpers.py").read_bytes()
    meta = yaml.safe_load((out / "assignment.yaml").read_text())
    assert meta["released"] is True
    assert [(t["id"], t["public_points"], t["hidden_points"]) for t in meta["tasks"]] == [
        ("T0.1", 2.0, 2.0), ("T0.2", 1.5, 4.5)]
    answers = yaml.safe_load((out / "answers.yaml").read_text())
    assert answers == {"T0.Q1": None, "T0.Q2": None}  # a template, no answers
    assert "T0.Q2: null   # choice (a, b, c), 1 point" in (out / "answers.yaml").read_text()
    written = (out / "written_answers.md").read_text()
    assert "## T0.Q3: derive the gradient of the MSE (2 points)" in written
    text = "\n".join(p.read_text() for p in out.rglob("*") if p.is_file())
    assert "test_tiny_hidden" not in text and "hidden" not in files


def test_release_refuses_to_overwrite(tiny, tmp_path):
    out = tmp_path / "rel"
    release(tiny, out)
    with pytest.raises(InputError, match="already holds files"):
        release(tiny, out)
    release(tiny, out, force=True)  # an untouched earlier release is replaced
    assert not (tmp_path / "rel.old-1").exists()
    (out / "my_notes.txt").write_text("keep me")
    moved = []
    release(tiny, out, force=True, moved=moved)  # a changed one is moved aside first
    assert moved == [tmp_path / "rel.old-1"] and not (out / "my_notes.txt").exists()
    assert (tmp_path / "rel.old-1" / "my_notes.txt").read_text() == "keep me"
    other = tmp_path / "other"
    other.mkdir()
    (other / "thesis.tex").write_text("precious")
    with pytest.raises(InputError, match="not a dlcc release"):
        release(tiny, other, force=True)
    assert (other / "thesis.tex").read_text() == "precious"
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    with pytest.raises(InputError, match="is a file"):
        release(tiny, afile)


def test_release_with_broken_markers_fails_and_writes_nothing(tiny_copy, tmp_path):
    src = tiny_copy.code_dir / "tinymath.py"
    src.write_text(src.read_text().replace("    # === END SOLUTION ===\n    return out", "    return out", 1))
    with pytest.raises(ConfigError, match="solution markers are broken"):
        release(tiny_copy, tmp_path / "rel")
    assert not (tmp_path / "rel").exists()
    assert not list(tmp_path.glob(".rel-*"))
