"""Paths of the course test fixtures (importable by the test modules of tests/course)."""

from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
TINY_ROOT = FIXTURES / "assignments"
SUBMISSIONS = FIXTURES / "submissions" / "T0"
REPO = HERE.parents[1]
