"""Errors whose message is meant for the user: the CLI prints them without a traceback."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of the `corpus` command (documented in README)."""

    OK = 0
    FAILURE = 1  # a stage failed, or falsification FAILed
    BAD_INPUT = 2  # missing path, unreadable corpus, bad config
    WARN = 3  # falsification WARN (score 85-94, no critical failure)
    LOCKED = 4  # another rebuild holds the lock


class CorpusError(Exception):
    """An error with a message for the user, and the exit code the CLI should use."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class BadInputError(CorpusError):
    """Input the user gave cannot be used (missing path, corrupt file, bad config)."""

    exit_code = ExitCode.BAD_INPUT
