"""The transformed book: chapters, their headings, and the Book the renderers take."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from quire import images
from quire.load.config import BookConfig
from quire.load.manuscript import SourceFile
from quire.parse.pandoc import Parsed


@dataclass(frozen=True)
class Heading:
    """A heading inside a chapter, for the contents and the PDF bookmarks."""

    id: str
    title: str
    level: int
    # A section a project file lists (SUMMARY.md's nested entry): always in the contents.
    listed: bool = False


@dataclass(frozen=True)
class Draft:
    """A chapter's blocks before they are written as HTML, with the files they come from."""

    parsed: Parsed
    blocks: list[Any]
    more_sources: list[SourceFile]
    heading: dict[str, Any] | None = None  # the heading that titles it, wherever it stands
    title: str = ""  # the contents' title: the project file's, the file's YAML or its heading
    listed: bool = False  # it opens a file the author listed (it is a chapter, heading or not)
    after_chapter: bool = False  # a chapter with a title comes before it


@dataclass
class Chapter:
    """One chapter (or front/back matter section): its HTML and what the renderers need."""

    index: int
    id: str
    file_name: str
    title: str
    role: str  # front, body or back
    kind: str  # an epub:type such as chapter, preface, copyright-page
    source: SourceFile
    body: etree._Element
    headings: tuple[Heading, ...]
    note_count: int
    # Files whose text continues this chapter (they have no chapter heading of their own).
    more_sources: tuple[SourceFile, ...] = ()

    def where(self, needle: str) -> tuple[str, int | None]:
        """The file and line where a piece of this chapter's text stands, for messages."""
        for source in (self.source, *self.more_sources):
            index = source.text.find(needle)
            if index >= 0:
                return source.name, source.text.count("\n", 0, index) + 1
        return self.source.name, None

    @property
    def folders(self) -> tuple[Path, ...]:
        """The folders of the files this chapter comes from, where its images are looked for."""
        return tuple(dict.fromkeys(s.path.parent for s in (self.source, *self.more_sources)))


@dataclass(frozen=True)
class Book:
    """The transformed book: settings, chapters in reading order, and the files they use."""

    config: BookConfig
    chapters: tuple[Chapter, ...]
    assets: tuple[images.Asset, ...]
    cover: images.Asset | None
    styles: Path
    root: Path
    modified: str  # dcterms:modified, UTC, fixed for reproducible builds
    # The book's own style sheets, each added after Quire's (styles/print.css, epub.css, css:).
    print_css: tuple[Path, ...] = ()
    epub_css: tuple[Path, ...] = ()
    # Folders of files made from the sources (PDF figures drawn as SVG) that outputs may read.
    generated: tuple[Path, ...] = ()
