"""Search: Pagefind's index for the site served over http, and the book's text by section as a
script for the site opened from files, where browsers refuse Pagefind's fetch and WebAssembly."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import lxml.html
from lxml import etree

from quire.errors import BuildError

PAGEFIND_FOLDER = "pagefind"
PAGEFIND_SECONDS = 120
# Pagefind's ready-made interfaces: the site has its own search box, on the pagefind.js API.
PAGEFIND_UNUSED = (
    "pagefind-ui",
    "pagefind-modular-ui",
    "pagefind-component-ui",
    "pagefind-highlight",
)


def pagefind_executable() -> Path:
    """The Pagefind binary that the `pagefind-bin-extended` package ships, else `pagefind-bin`'s.

    Only the extended one splits Chinese and Japanese text into words: the other indexes a run
    between punctuation as one word, so that 冲突 ("conflict") finds nothing in 发生过冲突。
    """
    try:
        from pagefind_bin_extended import get_executable
    except ModuleNotFoundError:
        try:
            from pagefind_bin import get_executable
        except ModuleNotFoundError:
            raise BuildError(
                "the web edition's search needs Pagefind, which is not installed",
                hint="install Quire with its dependencies: pip install -e .",
            ) from None
    return Path(get_executable())


def search_index(pages: dict[str, bytes], lang: str) -> dict[str, bytes]:
    """Pagefind's static index of the pages, built in a temporary copy: {path: bytes}."""
    with tempfile.TemporaryDirectory(prefix="quire-search-") as temp:
        site = Path(temp) / "site"
        for name, data in pages.items():
            path = site / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        command = [str(pagefind_executable()), "--site", str(site), "--silent"]
        if lang:
            command += ["--force-language", lang.split("-")[0]]
        try:
            subprocess.run(
                command, check=True, capture_output=True, text=True, timeout=PAGEFIND_SECONDS
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            raise BuildError(
                f"internal error: Pagefind could not index the web edition: {detail.strip()}",
                kind="bug",
            ) from None
        bundle = site / PAGEFIND_FOLDER
        index = {
            f"{PAGEFIND_FOLDER}/{p.relative_to(bundle).as_posix()}": p.read_bytes()
            for p in sorted(bundle.rglob("*"))
            if p.is_file() and not p.name.startswith(PAGEFIND_UNUSED)
        }
        shutil.rmtree(site, ignore_errors=True)
    return index


# The words of Pagefind's own interface that the site's search box says, by Quire's name for
# them (quire/language/pagefind_words.py holds them, taken from the Pagefind that indexes).
PAGEFIND_KEYS = {
    "placeholder": "Search",
    "search_label": "SearchBook",
    "results_label": "Results",
    "total_zero_results": "NoResults",
    "total_one_result": "OneResult",
    "total_many_results": "ManyResults",
    "error_search": "SearchFailed",
}
_JS_STRING = r'"(?:[^"\\]|\\.)*"'
_JS_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}


def pagefind_ui_words(ui_script: str) -> dict[str, dict[str, str]]:
    """Pagefind's interface translations, by language, from its bundle's pagefind-ui.js.

    The bundle lists its translation files (`translations/<lang>.json`) in the order it
    defines their `strings` objects; each object is flat, keys and JavaScript strings.
    """
    listed = re.search(r'\[((?:"[^"]*translations/[^"]+\.json",?)+)\]', ui_script)
    langs = [Path(name).stem for name in json.loads(f"[{listed.group(1)}]")] if listed else []
    pair = rf"[a-z_]+:{_JS_STRING}"
    bodies = re.findall(rf"\b[\w$]+=\{{(placeholder:{_JS_STRING}(?:,{pair})*)\}}", ui_script)
    if not langs or len(langs) != len(bodies):
        return {}  # a Pagefind whose bundle reads otherwise: Quire's catalog stands in
    found = {}
    for lang, body in zip(langs, bodies, strict=True):
        strings = dict(re.findall(rf"([a-z_]+):({_JS_STRING})", body))
        found[lang] = {
            name: _js_text(strings[key]).replace("[COUNT]", "{n}")
            for key, name in PAGEFIND_KEYS.items()
            if key in strings
        }
    return found


def _js_text(literal: str) -> str:
    """A JavaScript string literal's text: its escapes (\\uXXXX, \\u{X}, \\xXX, \\n) read."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "ux" and len(code) > 1:
            return chr(int(code[1:].strip("{}"), 16))
        return _JS_ESCAPES.get(code, code)

    return re.sub(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", one, literal[1:-1])


def installed_pagefind_words() -> dict[str, dict[str, str]]:
    """The interface translations of the installed Pagefind (run on a one-page site)."""
    page = '<!DOCTYPE html><html lang="en"><body><main data-pagefind-body><p>Text</p></main>'
    with tempfile.TemporaryDirectory(prefix="quire-pagefind-") as temp:
        site = Path(temp)
        (site / "index.html").write_text(page + "</body></html>", encoding="utf-8")
        command = [str(pagefind_executable()), "--site", str(site), "--silent"]
        subprocess.run(command, check=True, capture_output=True, timeout=PAGEFIND_SECONDS)
        script = (site / PAGEFIND_FOLDER / "pagefind-ui.js").read_text(encoding="utf-8")
    return pagefind_ui_words(script)


TEXT_INDEX = "search-text.js"
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
NUMBERS = {"doc-noteref", "doc-backlink"}  # a note's call and its number linking back


@dataclass
class SearchSection:
    """A stretch of a page between headings: where it is, what it is called, its words."""

    href: str  # page.html#section-id: a result opens the page at the spot
    page: str  # the page's title
    title: str  # the section's heading
    text: str


def text_index(pages: dict[str, str]) -> bytes:
    """The text of each page's sections as a script setting `quireSearchText`, in reading order.

    A <script> element may load it from file://, where fetch may not; site.js searches it.
    """
    sections = []
    for href, html in pages.items():
        main = lxml.html.document_fromstring(html).find(".//main")
        if main is not None:
            sections += page_sections(href, main)
    data = json.dumps([asdict(s) for s in sections], ensure_ascii=False, separators=(",", ":"))
    return f"window.quireSearchText = {data};\n".encode()


def page_sections(href: str, main: etree._Element) -> list[SearchSection]:
    """A page's text cut at each <section id>, each part named by its first heading."""
    heading = main.find(".//h1")
    page_title = words_of(heading) if heading is not None else href
    sections = [SearchSection(href, page_title, page_title, "")]
    parts: list[list[str]] = [[]]

    def walk(element: etree._Element) -> None:
        if element.get("data-pagefind-ignore") is not None or element.get("role") in NUMBERS:
            return  # page markers, note calls and note numbers: not words of the book
        if element.tag == "section" and element.get("id"):
            sections.append(SearchSection(f"{href}#{element.get('id')}", page_title, "", ""))
            parts.append([])
        if element.tag in HEADINGS and not sections[-1].title:
            sections[-1].title = words_of(element)
        parts[-1].append(element.text or "")
        for child in element:
            if isinstance(child.tag, str):
                walk(child)
            parts[-1].append(child.tail or "")

    walk(main)
    for section, words in zip(sections, parts, strict=True):
        section.text = " ".join("".join(words).split())
        section.title = section.title or page_title
    return [s for s in sections if s.text]


def words_of(element: etree._Element) -> str:
    """An element's text without its page markers, spaces collapsed."""
    texts = element.xpath(".//text()[not(ancestor::*[@data-pagefind-ignore])]")
    return " ".join("".join(texts).split())
