"""Generated Markdown through the pipeline: a valid EPUB or a clear BuildError, never a crash."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quire.errors import BuildError
from quire.pipeline import build
from quire.validate import run_epubcheck

# Words in scripts the shipped fonts cover: Latin, Cyrillic, Greek and simplified Chinese.
WORDS = st.sampled_from(
    [
        "river", "café", "naïve", "Straße", "łódź",
        "река", "Москва", "дружба", "λόγος", "Αθήνα", "θάλασσα",
        "中国", "北京", "友谊", "河流",
    ]
)  # fmt: skip
STRAY = st.sampled_from(["*", "**", "_", "[", "]", "<", ">", "{", "}", "`", "&", "\\", "#", "|"])
TEXT = st.lists(st.one_of(WORDS, WORDS, WORDS, STRAY), min_size=1, max_size=12).map(" ".join)


@st.composite
def table(draw: st.DrawFn) -> str:
    """A pipe table of 1-3 columns."""
    columns = draw(st.integers(1, 3))
    rows = draw(st.lists(st.lists(WORDS, min_size=columns, max_size=columns), max_size=3))
    head = "| " + " | ".join(draw(WORDS) for _ in range(columns)) + " |"
    rule = "|" + "---|" * columns
    return "\n".join([head, rule, *("| " + " | ".join(r) + " |" for r in rows)])


@st.composite
def nested_list(draw: st.DrawFn, depth: int = 0) -> str:
    """A bullet or numbered list, nested up to three levels."""
    marker = draw(st.sampled_from(["-", "*", "1."]))
    lines = []
    for item in draw(st.lists(TEXT, min_size=1, max_size=3)):
        lines.append("    " * depth + f"{marker} {item}")
        if depth < 2 and draw(st.booleans()):
            lines.append(draw(nested_list(depth + 1)))
    return "\n".join(lines)


@st.composite
def chapter(draw: st.DrawFn, number: int) -> str:
    """One chapter: a heading, then paragraphs, subheadings, lists, tables and notes."""
    blocks = [f"# {draw(TEXT)}"]
    notes = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["para", "heading", "list", "table", "note", "quote"]))
        if kind == "heading":
            blocks.append("#" * draw(st.integers(2, 4)) + " " + draw(TEXT))
        elif kind == "list":
            blocks.append(draw(nested_list()))
        elif kind == "table":
            blocks.append(draw(table()))
        elif kind == "note":
            label = f"n{number}x{len(notes)}"
            blocks.append(f"{draw(TEXT)}[^{label}] {draw(TEXT)}")
            notes.append(f"[^{label}]: {draw(TEXT)}")
        elif kind == "quote":
            blocks.append("> " + draw(TEXT))
        else:
            blocks.append(draw(TEXT))
    return "\n\n".join(blocks + notes) + "\n"


BOOKS = st.lists(st.integers(0, 1000), min_size=1, max_size=3).flatmap(
    lambda ids: st.tuples(*(chapter(n) for n in range(len(ids))))
)


@pytest.mark.expect_warnings
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(chapters=BOOKS)
def test_generated_markdown_builds_a_valid_epub_or_fails_clearly(chapters):
    logging.getLogger("quire").setLevel(logging.ERROR)  # generated text warns a lot; not tested
    with tempfile.TemporaryDirectory(prefix="quire-property-") as tmp:
        book = Path(tmp) / "book"
        book.mkdir()
        (book / "book.yaml").write_text("title: Generated\nauthor: Hypothesis\nlang: en\n")
        for n, text in enumerate(chapters, start=1):
            (book / f"{n:02d}.md").write_text(text, encoding="utf-8")
        try:
            written = build(book, Path(tmp) / "out", ("epub",), lambda *a: None)
        except BuildError as exc:
            message = str(exc)
            assert message.strip() and "Traceback" not in message
            assert all(p.message and (p.file or p.hint) for p in exc.problems), message
            return
        finally:
            logging.getLogger("quire").setLevel(logging.NOTSET)
        report = run_epubcheck(written[0].path)
        assert (report.count("fatal"), report.count("error")) == (0, 0), [
            str(f) for f in report.findings
        ]
