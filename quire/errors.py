"""The one error type of a build, and the warnings it collects on the way."""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger("quire")

EXIT_OK = 0
EXIT_BUILD = 1
EXIT_USAGE = 2
EXIT_BUG = 3


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is, what it is, what to do."""

    message: str
    file: str | None = None
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file or ""
        if self.file and self.line:
            where += f":{self.line}"
        text = f"{where}: {self.message}" if where else self.message
        return f"{text} ({self.hint})" if self.hint else text


class BuildError(Exception):
    """A build that cannot go on; carries one or more problems and an exit code."""

    def __init__(
        self,
        message: str = "",
        *,
        file: str | None = None,
        line: int | None = None,
        hint: str | None = None,
        kind: str = "input",
        problems: list[Problem] | None = None,
    ) -> None:
        self.problems = list(problems or [Problem(message, file, line, hint)])
        self.kind = kind
        super().__init__(str(self))

    @property
    def exit_code(self) -> int:
        """The process exit status that goes with this error."""
        return EXIT_USAGE if self.kind == "usage" else EXIT_BUILD

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def warn(message: str, *, file: str | None = None, line: int | None = None, hint: str = "") -> None:
    """Log a warning about the input in the same one-line form as an error."""
    log.warning(str(Problem(message, file, line, hint or None)))
