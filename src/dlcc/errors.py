"""The one error type users see.

A `DlccError` is an expected failure caused by input (a file, a value, a setting). The CLI
prints it as a short message with the fix and exits 2, without a traceback. Anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations


class DlccError(Exception):
    """An error the user can fix.

    Args:
        message: what went wrong; name the file or value, what was expected and what was found.
        fix: the exact action or command that fixes it.
    """

    exit_code = 2

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        if self.fix:
            return f"{self.message}\n  fix: {self.fix}"
        return self.message


class DataError(DlccError):
    """A dataset is missing, corrupt, truncated or cannot be cached."""


class ConfigError(DlccError):
    """A recipe setting, search space or assignment file is wrong."""


class InputError(DlccError):
    """An array handed to a layer or loss has the wrong shape, dtype, or non-finite values."""


class TrainingDiverged(DlccError):
    """The loss became NaN or inf; training was stopped."""
