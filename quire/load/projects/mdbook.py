"""mdBook's project: book.toml (title, authors, description, language, src, styles) and the
chapters src/SUMMARY.md lists, read as mdBook reads them (CommonMark and its extensions)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from quire.css import css_references
from quire.errors import BuildError, warn
from quire.load.confine import read_file, resolved
from quire.load.manuscript import Manuscript, display_name, find_styles, read_text
from quire.load.projects.common import Raw, line_of, preprocessor, settings_beside
from quire.load.projects.flavour import mdbook_reader
from quire.load.projects.summary import no_chapters, read_summary, summary_files

PROJECT_FILE = "book.toml"
# book.toml's [book] keys and the settings they are.
BOOK_KEYS = {
    "title": "title",
    "authors": "author",
    "description": "description",
    "language": "lang",
    "text-direction": "dir",
}


class MdBook:
    """mdBook's book.toml and SUMMARY.md."""

    name = "mdBook"
    looks_for = "book.toml (mdBook)"

    def detect(self, folder: Path) -> Path | None:
        """book.toml in the folder, or beside the `src` folder given (which has SUMMARY.md)."""
        if (folder / PROJECT_FILE).is_file():
            return folder / PROJECT_FILE
        above = folder.parent / PROJECT_FILE
        if (folder / "SUMMARY.md").is_file() and above.is_file():
            return above
        return None

    def read(self, folder: Path, project_file: Path, styles: Path | None) -> Manuscript:
        """The book book.toml describes, in SUMMARY.md's order."""
        root = project_file.parent
        text = read_text(project_file, "settings")
        toml = _parse_toml(text, project_file)
        book = _table(toml, "book")
        html = _table(_table(toml, "output"), "html")
        settings = settings_beside(root, _settings(root, book, html, text), project_file, self.name)
        src = root / str(book.get("src", "src"))
        summary_path = src / "SUMMARY.md"
        if not summary_path.is_file():
            raise BuildError(
                f"{display_name(summary_path)} does not exist: mdBook's list of chapters",
                file=display_name(project_file),
                line=line_of(text, r"^\s*src\s*="),
                hint="write the SUMMARY.md that lists the book's chapters, or fix `src`",
            )
        shown = display_name(summary_path)
        summary = read_summary(read_text(summary_path, "settings"), shown)
        smart = html.get("smart-punctuation", html.get("curly-quotes", True)) is not False
        reader = settings.markdown or mdbook_reader(smart)
        # With MathJax on, mdBook's pages read `\\( \\)` and `\\[ \\]` as math; Quire does too.
        mathjax = html.get("mathjax-support") is True
        files = summary_files(
            root, src, summary_path, summary, reader, preprocessor("mdbook"), mathjax
        )
        no_chapters(files, summary_path)
        return Manuscript(
            root,
            styles or find_styles(root),
            settings.config.with_derived(resource_path=(*settings.config.resource_path, src.name)),
            tuple(files),
            single_file=False,
            project=settings.project,
        )


def _parse_toml(text: str, path: Path) -> dict[str, Any]:
    """book.toml as data; a syntax error names the file (and the line tomllib gives)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BuildError(
            f"invalid TOML: {exc}",
            file=display_name(path),
            line=getattr(exc, "lineno", None),
            hint="fix the syntax on that line",
        ) from None


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    return value if isinstance(value, dict) else {}


def _settings(root: Path, book: dict[str, Any], html: dict[str, Any], text: str) -> Raw:
    """book.toml's settings in book.yaml's terms, each with its line in book.toml."""
    raw: Raw = {}
    for key, setting in BOOK_KEYS.items():
        if book.get(key) not in (None, "", []):
            raw[setting] = (book[key], line_of(text, rf"^\s*{key}\s*="))
    site = html.get("site-url")
    if isinstance(site, str) and site.startswith("https://"):  # mdBook's may be a bare path
        raw["site-url"] = (site, line_of(text, r"^\s*site-url\s*="))
    styles = _author_styles(root, html.get("additional-css", []), text)
    if styles:
        raw["css"] = (styles, line_of(text, r"^\s*additional-css\s*="))
    return raw


def _author_styles(root: Path, names: Any, text: str) -> list[str]:
    """additional-css files the book can carry: those that load no fonts or images (written
    for mdBook's web theme, those would fail the EPUB's check of the book's style sheets)."""
    kept = []
    for name in names if isinstance(names, list) else []:
        path = root / str(name)
        line = line_of(text, r"^\s*additional-css\s*=")
        if not path.is_file() or not resolved(path).is_relative_to(root):
            kept.append(str(name))  # the `css` setting's own check says what is wrong
            continue
        data = read_file(path, "style", file=display_name(path), line=line)
        try:
            loads = [r.url for r in css_references(data.decode("utf-8", "replace")) if r.url]
        except ValueError:
            loads = []  # the style sheets' own check reports it
        loads = [u for u in loads if not u.startswith(("#", "data:"))]
        if loads:
            warn(
                f"additional-css `{name}` loads `{loads[0]}`, which an EPUB cannot carry",
                file=display_name(root / PROJECT_FILE),
                line=line,
                hint="Quire left this style sheet out; put print styles in styles/print.css",
                group="style sheets left out",
            )
            continue
        kept.append(str(name))
    return kept


READER = MdBook()
