"""Write quire/language/pagefind_words.py: the words of Pagefind's own interface, by language.

Run after upgrading Pagefind (tests/test_languages.py says when the file is out of date):
    python tools/pagefind_words.py
"""

from __future__ import annotations

import pprint
from pathlib import Path

from quire.render.html.search import installed_pagefind_words, pagefind_executable

TARGET = Path(__file__).resolve().parent.parent / "quire" / "language" / "pagefind_words.py"


def module_text() -> str:
    """The module's source: a header saying where its words come from, then the table."""
    import subprocess

    version = subprocess.run(
        [str(pagefind_executable()), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    table = pprint.pformat(installed_pagefind_words(), width=100, sort_dicts=True)
    return (
        f'"""Pagefind\'s interface words, by language: made by tools/pagefind_words.py from\n'
        f'{version}\'s translations (MIT licence, CloudCannon). Do not edit by hand."""\n\n'
        f"PAGEFIND_WORDS: dict[str, dict[str, str]] = {table}  # fmt: skip\n"
    )


if __name__ == "__main__":
    TARGET.write_text(module_text(), encoding="utf-8")
