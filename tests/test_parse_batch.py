"""Reading several files in one pandoc process gives what reading each on its own gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from quire.errors import BuildError
from quire.load.manuscript import SourceFile
from quire.parse import pandoc

TEXTS = {
    # An abbreviation keeps a non-breaking space after it (pandoc's abbreviations data file);
    # a pipe table with long lines gets relative widths from the reader's 72 columns.
    "one.md": "---\ntitle: One\n---\n\n# One\n\nAs chap. 3 says, on 12 March.[^a]\n\n[^a]: A note.\n",
    "two.md": "# Two\n\n| Date | A long event description that runs past seventy-two columns of text |\n"
    "|---|---|\n| 1689 | Treaty of Nerchinsk |\n",
    "three.md": "# Three\n\nHi[^1] there.\n\n[^1]: first\n[^1]: again\n",
    "four.md": "# Four\n\n[Dup] link.\n\n[dup]: /x\n[dup]: /y\n",
}


def _sources(texts: dict[str, str]) -> tuple[SourceFile, ...]:
    return tuple(SourceFile(Path(n), n, t, "body") for n, t in texts.items())


def test_a_batch_reads_as_each_file_alone_and_names_each_warning(monkeypatch):
    warned: list[tuple[str, str | None, int | None]] = []
    monkeypatch.setattr(
        pandoc, "warn", lambda text, file=None, line=None, **_: warned.append((text, file, line))
    )
    alone = [pandoc.parse(source) for source in _sources(TEXTS)]
    warned_alone, warned[:] = list(warned), []
    together = pandoc.parse_batch(_sources(TEXTS))
    assert [(p.meta, p.blocks) for p in together] == [(p.meta, p.blocks) for p in alone]
    assert warned == warned_alone
    assert [file for _text, file, _line in warned] == ["three.md", "four.md"]


def test_a_file_pandoc_cannot_read_is_named_as_when_read_alone():
    texts = {"one.md": TEXTS["one.md"], "bad.md": "---\ntitle: [unclosed\n---\n\nText\n"}
    with pytest.raises(BuildError) as alone:
        pandoc.parse(_sources(texts)[-1])
    with pytest.raises(BuildError) as together:
        pandoc.parse_batch(_sources(texts))
    assert str(together.value) == str(alone.value)
    assert "bad.md" in str(together.value)
