"""The bare tools, for comparison: pandoc's own EPUB, and pandoc's HTML laid out by WeasyPrint
with a plain print style (contents, notes, running heads, folios).

    python bench/bare.py epub BOOK_FOLDER OUT_FILE
    python bench/bare.py pdf BOOK_FOLDER OUT_FILE
    python bench/bare.py pdf BOOK_FOLDER/book.md OUT_FILE     (a book kept as one file)
"""

from __future__ import annotations

import sys
from pathlib import Path

import pypandoc
import yaml

PRINT_CSS = """
@page { size: 6in 9in; margin: 0.75in 0.625in 0.8in;
  @top-center { content: string(chapter); font: italic 9pt serif; }
  @bottom-center { content: counter(page); font: 9pt serif; } }
html { font: 10.5pt/1.42 "Charis SIL", "Noto Serif CJK SC", serif; hyphens: auto; }
p { text-align: justify; margin: 0; text-indent: 1.2em; }
h1 { break-before: right; string-set: chapter content(); }
nav#TOC a::after { content: leader(". ") target-counter(attr(href url), page); }
table { width: 100%; border-collapse: collapse; font-size: 0.84em; }
img { max-width: 100%; }
"""


def main(kind: str, folder: Path, out: Path) -> None:
    if folder.is_file():  # a book kept as one file, its settings in its YAML block
        settings = yaml.safe_load(folder.read_text().split("---\n")[1])
        files, folder = [str(folder)], folder.parent
    else:
        settings = yaml.safe_load((folder / "book.yaml").read_text())
        files = [
            str(folder / name)
            for key in ("front-matter", "chapters", "back-matter")
            for name in settings.get(key, [])
        ]
    # --file-scope: each chapter's notes are its own, as in the book (and as Quire reads them)
    meta = [f"--metadata=title:{settings['title']}", f"--metadata=lang:{settings['lang']}",
            "--file-scope"]  # fmt: skip
    if kind == "epub":
        pypandoc.convert_file(files, "epub3", outputfile=str(out), extra_args=[*meta,
                              f"--resource-path={folder}"])  # fmt: skip
        return
    from weasyprint import CSS, HTML

    html = pypandoc.convert_file(files, "html5", extra_args=[*meta, "--standalone", "--toc",
                                 f"--resource-path={folder}"])  # fmt: skip
    fonts = Path(__file__).resolve().parent.parent / "styles" / "fonts"
    faces = "".join(
        f'@font-face {{ font-family: "{family}"; src: url({path.as_uri()}); }}'
        for family, pattern in (("Charis SIL", "charis-sil/*Regular*"),
                                ("Noto Serif CJK SC", "noto-serif-cjk-sc/*Regular*"))
        for path in sorted(fonts.glob(pattern))[:1]
    )  # fmt: skip
    HTML(string=html, base_url=str(folder) + "/").write_pdf(
        str(out), stylesheets=[CSS(string=faces + PRINT_CSS)]
    )


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
