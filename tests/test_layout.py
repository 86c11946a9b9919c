"""Chapter-parallel print layout: the joined book equals one-document layout; rebuilds are
reproducible, incremental and safe with a damaged cache; nothing is lost."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pikepdf
import pymupdf
import pytest
from conftest import answers_ctrl_c

from quire.errors import BuildError
from quire.pipeline import CACHE_FOLDER, build

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from make_book import make_book  # noqa: E402


def reading(path: Path) -> dict:
    """What a reader sees of a PDF: each page's text and label, the outline, the links."""
    with pymupdf.open(path) as doc:
        pages = [page.get_text("text", sort=True) for page in doc]
        labels = [page.get_label() for page in doc]
        links = [sorted(_link(k) for k in page.get_links()) for page in doc]
        return {"pages": pages, "labels": labels, "outline": doc.get_toc(), "links": links}


def _link(link: dict) -> tuple:
    """A link as (kind, target page, target point, named destination, URI, where it is)."""
    to = link.get("to") or pymupdf.Point(0, 0)
    place = tuple(round(v, 1) for v in link["from"])
    return (link["kind"], link.get("page", -1), round(to.x, 1), round(to.y, 1),
            link.get("nameddest", ""), link.get("uri", ""), place)  # fmt: skip


def built(source: Path, out: Path, formats=("pdf",)) -> tuple[Path, list[str]]:
    """Build; (the PDF, the report's detail for each stage)."""
    lines: list[str] = []
    written = build(
        source, out, formats, lambda stage, _s, detail: lines.append(f"{stage}: {detail}")
    )
    return next(w.path for w in written if w.format == "pdf"), lines


def laid_out(lines: list[str]) -> list[str]:
    """The units the report says were laid out again."""
    detail = next(line for line in lines if line.startswith("render pdf"))
    named = detail.split("laid out: ", 1)[1]
    return [] if named.startswith("nothing") else named.split(", ")


@pytest.fixture(scope="module")
def small_book(tmp_path_factory) -> Path:
    """A generated book of three chapters with notes, a table, a figure and cross-references."""
    return make_book(tmp_path_factory.mktemp("small") / "book", 3000)


def test_the_joined_sample_equals_one_document_layout(build_case, tmp_path, monkeypatch):
    joined = reading(build_case("sample").pdf)
    monkeypatch.setenv("QUIRE_PDF_LAYOUT", "single")
    single, _ = built(ROOT / "manuscript", tmp_path / "single")
    one = reading(single)
    assert len(joined["pages"]) == len(one["pages"]) == 63  # with its index (issue 26)
    assert joined["labels"] == one["labels"]
    assert joined["outline"] == one["outline"]
    assert joined["links"] == one["links"]
    for n, (a, b) in enumerate(zip(joined["pages"], one["pages"], strict=True)):
        assert a == b, f"page {n + 1} differs"


def test_a_generated_book_joins_as_one_document(small_book, tmp_path, monkeypatch):
    joined, _ = built(small_book, tmp_path / "joined")
    monkeypatch.setenv("QUIRE_PDF_LAYOUT", "single")
    single, _ = built(small_book, tmp_path / "single")
    a, b = reading(joined), reading(single)
    assert a == b
    assert any(link[0] == pymupdf.LINK_NAMED and link[1] >= 0 for p in a["links"] for link in p)
    assert "(page" in "".join(a["pages"])  # cross-references between chapters


def test_a_page_that_ends_badly_is_made_again_with_the_fix(small_book):
    """Laid out plainly, some pages of the book end in a hyphen or strand a note; with the
    fixes made while paginating, no page does unless its block was fixed already."""
    from quire.fonts import load_fonts
    from quire.load import load as load_book
    from quire.parse import pandoc
    from quire.render.pdf import _style_maker
    from quire.render.pdf.html import book_html
    from quire.render.pdf.layout import page_css, page_fault
    from quire.svg_fonts import svg_fonts
    from quire.transform import transform

    source = load_book(small_book)
    book = transform(source, pandoc.parse_all(source.files))
    fonts = load_fonts(book.styles / "fonts")
    svg = svg_fonts(fonts)
    style = _style_maker(book, fonts.font_face_css(stand_ins=True), svg)(page_css(book, 0.375))
    plain, _ = style.render(book_html(book))
    faults = [f for f in (page_fault(p._page_box) for p in plain.pages) if f]
    assert faults, "the book should have a page that ends badly, for the fix to be tested"
    fixes: dict[str, str] = {}
    fixed, _ = style.render(book_html(book), "", fixes)
    assert {name for name, _kind in faults} & set(fixes)
    assert set(fixes.values()) <= {"hold-lines", "whole-words"}
    for n, page in enumerate(fixed.pages):
        fault = page_fault(page._page_box)
        assert fault is None or fixes.get(fault[0]), f"page {n + 1} ends badly: {fault}"


def test_one_structure_tree_with_consistent_parent_tree(build_case):
    with pikepdf.open(build_case("sample").pdf) as pdf:
        tree = pdf.Root.StructTreeRoot
        assert len(tree.K) == 1 and tree.K[0].S == "/Document"
        nums = tree.ParentTree.Nums
        keys = [int(nums[n]) for n in range(0, len(nums), 2)]
        assert keys == list(range(len(keys))) == list(range(int(tree.ParentTreeNextKey)))
        values = {int(nums[n]): nums[n + 1] for n in range(0, len(nums), 2)}
        for page in pdf.pages:
            if "/StructParents" in page.obj:
                for element in values[int(page.obj.StructParents)]:
                    assert element.Pg.objgen == page.obj.objgen
            for annotation in page.obj.get("/Annots", []):
                link = values[int(annotation.StructParent)]
                assert link.S == "/Link"
                assert any(
                    k.get("/Obj") == annotation for k in link.K if isinstance(k, pikepdf.Dictionary)
                )
        elements = [k for k in tree.K[0].K]
        assert all(k.P.objgen == tree.K[0].objgen for k in elements)


def test_rebuilds_are_byte_identical_warm_cold_one_worker_or_two(small_book, tmp_path, monkeypatch):
    monkeypatch.setenv("QUIRE_WORKERS", "2")
    cold_two, lines = built(small_book, tmp_path / "two")
    assert laid_out(lines)
    monkeypatch.setenv("QUIRE_WORKERS", "1")
    cold_one, _ = built(small_book, tmp_path / "one")
    assert cold_one.read_bytes() == cold_two.read_bytes()
    cold_one.unlink()  # the record no longer matches: build again, every unit from the cache
    warm, lines = built(small_book, tmp_path / "one")
    assert laid_out(lines) == []
    assert warm.read_bytes() == cold_two.read_bytes()


def test_the_join_is_the_same_whatever_order_the_units_come_in(small_book, tmp_path, monkeypatch):
    """Units reach the join as the workers finish them, or at once from the cache."""
    from quire.render.pdf import assembly, compose

    monkeypatch.setenv("QUIRE_WORKERS", "1")
    added: dict[int, bytes] = {}
    finished: list[tuple] = []

    def add(unit: int, data: bytes) -> None:
        added[unit] = data
        assembly.add_unit(unit, data)

    def finish(*args: object) -> bytes:
        finished.append(args)
        return assembly.finish_join(*args)

    monkeypatch.setattr(compose, "add_unit", add)
    monkeypatch.setattr(compose, "finish_join", finish)
    pdf, _ = built(small_book, tmp_path / "out")
    assert len(added) > 3 and finished
    assembly.begin_join()
    for unit in sorted(added, reverse=True):
        assembly.add_unit(unit, added[unit])
    assert assembly.finish_join(*finished[-1]) == pdf.read_bytes()


def test_a_failed_build_ends_the_join_still_running(small_book, tmp_path, monkeypatch):
    """The EPUB is rendered while the PDF is still being joined, in a process of its own: if
    the EPUB fails, that process ends with the build, and nothing is written."""
    import multiprocessing

    from quire.render.epub import EpubRenderer

    monkeypatch.setenv("QUIRE_WORKERS", "2")
    pending = []

    def fail(self, book, earlier):
        pending.append(earlier["pdf"].pending)
        raise BuildError("the EPUB could not be made", file="01-chapter.md")

    monkeypatch.setattr(EpubRenderer, "render", fail)
    before = set(multiprocessing.active_children())
    with pytest.raises(BuildError, match="EPUB could not"):
        build(small_book, tmp_path / "out", ("pdf", "epub"), lambda *_: None)
    assert pending and pending[0] is not None  # the join had not been waited for
    assert set(multiprocessing.active_children()) <= before
    assert not list(tmp_path.glob("out/*.pdf"))


def test_nothing_changed_leaves_the_outputs_untouched(small_book, tmp_path):
    first, _ = built(small_book, tmp_path / "out", ("pdf", "epub"))
    stamp = first.stat().st_mtime_ns
    _again, lines = built(small_book, tmp_path / "out", ("pdf", "epub"))
    assert [line.split(":")[0] for line in lines] == ["load", "up to date"]
    assert first.stat().st_mtime_ns == stamp


def test_an_up_to_date_build_names_the_outputs_as_asked(small_book, tmp_path):
    """The second build names its outputs under the --out it was given, as the first did, not
    under the absolute path the build record keeps."""
    import subprocess

    command = [
        sys.executable,
        str(ROOT / "build.py"),
        str(small_book),
        "--out",
        "out",
        "--to",
        "epub",
    ]
    runs = [subprocess.run(command, cwd=tmp_path, capture_output=True, text=True) for _ in "12"]
    wrote = [[ln for ln in run.stdout.splitlines() if ln.startswith("wrote ")] for run in runs]
    assert "up to date" in runs[1].stdout, runs[1].stdout
    assert wrote[0] and wrote[0][0].startswith("wrote out/"), wrote
    assert wrote[1] == wrote[0]


def test_an_edited_chapter_alone_is_laid_out_again(small_book, tmp_path):
    source = tmp_path / "book"
    shutil.copytree(small_book, source)
    built(source, tmp_path / "out")
    chapter = source / "02-chapter.md"
    chapter.write_text(chapter.read_text().replace("treaty", "treaties", 1))
    again, lines = built(source, tmp_path / "out")
    assert laid_out(lines) == ["02-chapter.md"]
    cold, _ = built(source, tmp_path / "cold")
    assert again.read_bytes() == cold.read_bytes()


@pytest.mark.expect_warnings
@pytest.mark.parametrize("damage", ["truncated", "wrong version", "hand-edited"])
def test_a_damaged_cache_is_ignored_with_a_warning(small_book, tmp_path, damage, caplog):
    reference, _ = built(small_book, tmp_path / "reference")
    out = tmp_path / "out"
    built(small_book, out)
    units = sorted((out / CACHE_FOLDER / "units").glob("*.json"))
    record = units[0]
    text = record.read_text()
    if damage == "truncated":
        record.write_text(text[: len(text) // 2])
    elif damage == "wrong version":
        record.write_text(text.replace("quire-layout-cache 1", "quire-layout-cache 0"))
    else:
        record.with_suffix(".pdf").write_bytes(record.with_suffix(".pdf").read_bytes() + b"%\n")
    (out / CACHE_FOLDER / "build.json").unlink()
    caplog.clear()
    again, lines = built(small_book, out)
    assert len(laid_out(lines)) == 1
    assert again.read_bytes() == reference.read_bytes()
    assert any("damaged layout cache" in r.getMessage() for r in caplog.records)


def test_a_unit_cut_short_by_layout_is_an_error_naming_it(small_book, tmp_path, monkeypatch):
    from quire.render.pdf.layout import PrintStyle

    monkeypatch.setenv("QUIRE_WORKERS", "1")  # lay out in this process, where the patch is
    render = PrintStyle.render

    def drop_last_page(self, markup, extra_css="", fixes=None):
        document, messages = render(self, markup, extra_css, fixes)
        if 'id="ch-2"' in markup:
            del document.pages[-1]  # as if WeasyPrint had stopped the flow early
        return document, messages

    monkeypatch.setattr(PrintStyle, "render", drop_last_page)
    with pytest.raises(BuildError, match=r"02-chapter\.md is not whole"):
        built(small_book, tmp_path / "out")


def test_a_word_missing_from_a_units_text_stops_the_build(small_book, tmp_path, monkeypatch):
    """Each worker reads its unit's PDF back; a word of the chapter not in it is an error."""
    from quire.render.pdf import layout

    monkeypatch.setenv("QUIRE_WORKERS", "1")  # lay out in this process, where the patch is
    read = layout.pdf_text
    # (a word of no chapter's title: the contents, laid out first, would lose it too)
    monkeypatch.setattr(layout, "pdf_text", lambda data: read(data).replace("caravan", "carav"))
    with pytest.raises(BuildError, match=r"`caravan` is missing from the PDF") as error:
        built(small_book, tmp_path / "out")
    problem = error.value.problems[0]  # named at the line that holds the word
    assert "caravan" in Path(problem.file).read_text().splitlines()[problem.line - 1]


def test_watch_rebuilds_on_save_and_stops_cleanly_on_ctrl_c(tmp_path):
    """A save of a chapter, then of the book's print.css: each is in the next PDF (the layout
    workers are kept between builds, and must not keep the style sheets they parsed)."""
    import queue
    import signal
    import subprocess
    import threading
    import time

    source = tmp_path / "book"
    shutil.copytree(ROOT / "tests" / "cases" / "folder-book", source)
    (source / "styles").mkdir()
    style = source / "styles" / "print.css"
    style.write_text('h1::after { content: " (first style)"; }\n')
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "build.py", str(source), "--out", str(out), "--watch"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=answers_ctrl_c,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()

    def wait_for(text: str) -> list[str]:
        seen = []
        while not any(text in line for line in seen):
            seen.append(lines.get(timeout=120))
        return seen

    try:
        wait_for("quire: watching")
        time.sleep(2)  # the watcher starts just after it says so
        spring = source / "spring.md"
        spring.write_text(spring.read_text() + "\n\nA paragraph the watcher saw being saved.\n")
        seen = wait_for("quire: rebuilt")
        assert any("laid out: spring.md" in line for line in seen), seen
        with pymupdf.open(next(out.glob("*.pdf"))) as doc:
            text = "".join(page.get_text() for page in doc)
        assert "the watcher saw" in text and "Spring (first style)" in text
        time.sleep(1)
        style.write_text('h1::after { content: " (second style)"; }\n')
        seen = wait_for("quire: rebuilt")
        with pymupdf.open(next(out.glob("*.pdf"))) as doc:
            text = "".join(page.get_text() for page in doc)
        assert "Spring (second style)" in text and "(first style)" not in text
    finally:
        proc.send_signal(signal.SIGINT)
        status = proc.wait(timeout=60)
    assert status == 0


def test_a_contents_longer_than_its_estimate_settles(tmp_path):
    """Fifty-eight chapters with titles of three lines make a contents of more pages than
    guessed from its entries (three); the number it prints for the preface after it must
    still come out right."""
    book = tmp_path / "book"
    book.mkdir()
    names = [f"{n:02d}.md" for n in range(1, 59)]
    (book / "book.yaml").write_text(
        "title: Many Short Chapters\nlang: en\nfront-matter: [preface.md]\n"
        f"chapters: [{', '.join(names)}]\n"
    )
    (book / "preface.md").write_text("# Preface\n\nWhy so many chapters.\n")
    for n, name in enumerate(names, 1):
        long_title = f"The chapter numbered {n} of many, whose title runs on " + "and on " * 12
        (book / name).write_text(f"# {long_title.strip()}\n\nIts text.\n")
    pdf, _ = built(book, tmp_path / "out")
    with pymupdf.open(pdf) as doc:
        labels = [page.get_label() for page in doc]
        preface = next(i for i, page in enumerate(doc) if page.get_text().startswith("Preface"))
        contents = "".join(doc[i].get_text() for i in range(preface))
    assert preface >= 4 + 5  # after two title leaves, a contents of five pages or more
    assert f"Preface\n{labels[preface]}\n" in contents.replace(". \n", "")


TREATY = "The treaty was signed in the spring, and both sides kept to it for a while. " * 40


def chapters_book(folder: Path, chapters: dict[str, str]) -> Path:
    """A book of these files (name -> Markdown), in this order."""
    folder.mkdir()
    (folder / "book.yaml").write_text(
        f"title: Chapters\nlang: en\nchapters: [{', '.join(chapters)}]\n"
    )
    for name, text in chapters.items():
        (folder / name).write_text(text)
    return folder


def guessed_two_pages_long(monkeypatch, chapter_id: str) -> None:
    """The layout guesses this chapter two pages longer than it is, before laying it out."""
    from quire.render.pdf import guesses

    estimate = guesses.estimate_pages
    monkeypatch.setattr(
        guesses, "estimate_pages", lambda b, u: estimate(b, u) + 2 * (u.name == chapter_id)
    )


def test_a_number_found_wrong_is_fixed_within_the_round(tmp_path, monkeypatch):
    """A chapter that prints the page of the next one is laid out on a guess of its own length;
    when the guess is wrong, the chapter is laid out again at once, not in a second round."""
    from quire.render.pdf import compose

    book = chapters_book(
        tmp_path / "book",
        {
            "one.md": f"# One {{#ch-1}}\n\n{TREATY}\n\nSee [the second](#ch-2).\n",
            "two.md": "# Two {#ch-2}\n\nThe end.\n",
        },
    )
    guessed_two_pages_long(monkeypatch, "ch-1")
    rounds = []
    run_round = compose.Composer._round
    monkeypatch.setattr(
        compose.Composer, "_round", lambda self, *a: rounds.append(1) or run_round(self, *a)
    )
    pdf, _ = built(book, tmp_path / "out")
    with pymupdf.open(pdf) as doc:
        labels = [page.get_label() for page in doc]
        two = next(i for i, page in enumerate(doc) if page.get_text().startswith("Chapter 2"))
        text_of_one = " ".join(doc[i].get_text() for i in range(two))
    assert f"(page {labels[two]})" in " ".join(text_of_one.split())
    assert len(rounds) == 1


def test_a_chapter_that_refers_ahead_waits_for_the_pages_before_its_target(tmp_path, monkeypatch):
    """Chapter one prints the page of chapter three, which depends on chapter two's length,
    guessed two pages long here: one is laid out after two, and only once."""
    from quire.render.pdf import compose

    monkeypatch.setenv("QUIRE_WORKERS", "1")  # one at a time, in this process: counted here
    book = chapters_book(
        tmp_path / "book",
        {
            "one.md": f"# One {{#ch-1}}\n\nSee [the third](#ch-3).\n\n{TREATY}\n",
            "two.md": f"# Two {{#ch-2}}\n\n{TREATY}\n",
            "three.md": "# Three {#ch-3}\n\nThe end.\n",
        },
    )
    guessed_two_pages_long(monkeypatch, "ch-2")
    order = []
    lay_out = compose.lay_out_unit_or_sheet
    monkeypatch.setattr(
        compose, "lay_out_unit_or_sheet", lambda job: order.append(job.name) or lay_out(job)
    )
    pdf, _ = built(book, tmp_path / "out")
    with pymupdf.open(pdf) as doc:
        labels = [page.get_label() for page in doc]
        three = next(i for i, page in enumerate(doc) if page.get_text().startswith("Chapter 3"))
        text = " ".join(" ".join(page.get_text().split()) for page in doc)
    assert f"(page {labels[three]})" in text
    chapters = [name for name in order if name.startswith("ch-")]
    assert sorted(chapters) == ["ch-1", "ch-2", "ch-3"]  # each laid out once
    assert chapters.index("ch-1") > chapters.index("ch-2")


def test_a_chapter_of_only_a_numbered_heading_is_whole(tmp_path):
    """The unit's last text is the heading's, after the section number print.css hides."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "book.yaml").write_text("title: T\nlang: en\nchapters: [a.md]\nnumber-sections: true\n")
    (book / "a.md").write_text("# Only a heading\n\n# Next\n\nSome text.\n")
    pdf, _ = built(book, tmp_path / "out")
    with pymupdf.open(pdf) as doc:
        text = " ".join(" ".join(page.get_text().split()) for page in doc)
    assert "Only a heading" in text and "Some text." in text
