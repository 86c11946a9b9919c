"""The transform's shortcuts: the node survey, the passes it lets skip, the nesting bound."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image

from quire.bounds import MAX_NESTING, check_bounds
from quire.errors import BuildError
from quire.load import load as load_book
from quire.load import manuscript
from quire.parse import pandoc
from quire.transform import transform
from quire.transform.ast import NodeIndex, iter_nodes

ROOT = Path(__file__).resolve().parent.parent


def _parsed_book(
    folder: Path, files: dict[str, str], settings: str = ""
) -> tuple[manuscript.Manuscript, list]:
    """A book written to `folder`, loaded and parsed."""
    folder.mkdir()
    (folder / "book.yaml").write_text(
        f"title: Shortcuts\nauthor: A. Writer\nlang: en\n{settings}chapters: ["
        + ", ".join(name for name in files if name.endswith(".md"))
        + "]\n"
    )
    for name, text in files.items():
        (folder / name).write_text(text)
    Image.new("RGB", (40, 30), "white").save(folder / "plate.png")
    loaded = load_book(folder)
    return loaded, pandoc.parse_all(loaded.files)


def test_the_survey_lists_each_kind_in_document_order():
    loaded = load_book(ROOT / "tests" / "cases" / "rich")
    for item in pandoc.parse_all(loaded.files):
        every = list(iter_nodes(item.blocks))
        index = NodeIndex(item.blocks)
        kinds = {node["t"] for node in every} - {"Str", "Space", "SoftBreak", "LineBreak"}
        assert {"Header", "Image", "Note", "Table"} & kinds
        for kind in kinds:
            assert [id(n) for n in index.nodes(kind)] == [id(n) for n in every if n["t"] == kind]
        assert not index.has("Str") and not index.has("NoSuchKind")


def test_a_decorative_figure_after_raw_latex_stays_decorative(tmp_path):
    # Raw TeX makes the file a new AST; the figure found in it, not in the parsed one, is marked.
    loaded, parsed = _parsed_book(
        tmp_path / "book",
        {"one.md": '# One\n\nText.\n\n\\newpage\n\n![A plate](plate.png){alt=""}\n'},
    )
    chapter = transform(loaded, parsed).chapters[0]
    assert chapter.body.find(".//div[@class='page-break']") is not None
    assert [img.get("alt") for img in chapter.body.iter("img")] == [""]


def test_files_without_images_headings_or_tex_come_through_whole(tmp_path):
    loaded, parsed = _parsed_book(
        tmp_path / "book",
        {"one.md": "# One\n\n1) first\n2) second\n", "two.md": "Plain *words* only.\n"},
    )
    chapters = transform(loaded, parsed).chapters
    # Each listed file opens a chapter, the second one untitled (it has no heading).
    assert [c.title for c in chapters] == ["One", ""]
    assert chapters[0].body.find(".//div[@class='paren-list']/ol") is not None
    assert "Plain words only." in " ".join("".join(chapters[1].body.itertext()).split())


def test_headings_are_shifted_and_numbered_in_reading_order_wherever_they_stand(tmp_path):
    # One walk marks images, keeps `1)` lists and shifts and numbers headings, inside lists and
    # block quotes too.
    text = "## One\n\n1) item\n\n   ### In a list\n\n> ### Quoted\n\n### After ![icon](plate.png)\n"
    loaded, parsed = _parsed_book(
        tmp_path / "book", {"one.md": text}, "number-sections: true\nchapter-level: 2\n"
    )
    body = transform(loaded, parsed).chapters[0].body
    headings = [(h.tag, " ".join("".join(h.itertext()).split())) for h in body.iter("h1", "h2")]
    assert headings == [
        ("h1", "1 One"),
        ("h2", "1.1 In a list"),
        ("h2", "1.2 Quoted"),
        ("h2", "1.3 After"),
    ]
    assert body.find(".//div[@class='paren-list']/ol//h2") is not None
    assert [img.get("alt") for img in body.iter("h2") for img in img.iter("img")] == ["icon"]


@pytest.mark.parametrize("quotes", [MAX_NESTING - 2, MAX_NESTING - 1])
def test_nesting_is_refused_one_word_past_the_limit(tmp_path, quotes):
    # Block quotes, then their paragraph, then its words: the words are the deepest nodes.
    text = "# One\n\nBefore.\n\n" + "> " * quotes + "deepest words\n"
    _, parsed = _parsed_book(tmp_path / "book", {"one.md": text})
    words_depth = quotes + 2
    if words_depth <= MAX_NESTING:
        check_bounds(parsed)
        return
    with pytest.raises(BuildError) as raised:
        check_bounds(parsed)
    assert raised.value.problems[0].line == 5


@pytest.mark.parametrize("folder", ["tests/cases/rich", "manuscript"])
def test_shared_word_nodes_make_the_same_book(folder, monkeypatch):
    # decode_ast gives one node per distinct word (and one Space for all): a stage that changed
    # a node in place would change that word everywhere, and the book would differ from one
    # decoded with a node for each word, as json.loads gives.
    loaded = load_book(ROOT / folder)
    parsed = pandoc.parse_all(loaded.files)
    words = [n for item in parsed for n in iter_nodes(item.blocks) if n["t"] == "Str"]
    assert len({id(n) for n in words}) == len({n["c"] for n in words}) < len(words)
    shared = transform(loaded, parsed)

    monkeypatch.setattr(pandoc, "decode_ast", lambda text, words=None: json.loads(text))
    separate = transform(loaded, pandoc.parse_all(loaded.files))
    assert [(c.id, c.title, c.note_count) for c in shared.chapters] == [
        (c.id, c.title, c.note_count) for c in separate.chapters
    ]
    for one, other in zip(shared.chapters, separate.chapters, strict=True):
        assert etree.tostring(one.body) == etree.tostring(other.body), one.id
