"""Transform stage: turn pandoc's ASTs into one checked Book of chapters, ready to render."""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import lxml.html
from lxml import etree

from quire import images
from quire.config import BookConfig
from quire.confine import Confinement, is_local_anchor_or_scheme, is_remote
from quire.css import check_stylesheets, declaration_references
from quire.errors import BuildError, warn
from quire.manuscript import Manuscript, SourceFile, display_name
from quire.pandoc import Parsed, api_version, stringify, write_html

# Structural semantics for a section's epub:type, and the DPUB-ARIA role that goes with it.
SECTION_TYPES = {
    "chapter": "doc-chapter",
    "preface": "doc-preface",
    "foreword": "doc-foreword",
    "introduction": "doc-introduction",
    "prologue": "doc-prologue",
    "epilogue": "doc-epilogue",
    "afterword": "doc-afterword",
    "conclusion": "doc-conclusion",
    "acknowledgments": "doc-acknowledgments",
    "dedication": "doc-dedication",
    "epigraph": "doc-epigraph",
    "appendix": "doc-appendix",
    "glossary": "doc-glossary",
    "bibliography": "doc-bibliography",
    "colophon": "doc-colophon",
    "copyright-page": None,
}
CLASS_ALIASES = {"copyright": "copyright-page", "acknowledgements": "acknowledgments"}
UNSAFE_ELEMENTS = ("script", "iframe", "object", "embed", "frame", "frameset", "applet", "base")
# Elements that belong in a page's <head>: the book's look comes from styles/, not from raw HTML.
HEAD_ELEMENTS = ("style", "link", "meta")
URL_ATTRIBUTES = ("src", "href", "poster", "data", "xlink:href", "srcset")
IMAGE_MARK, ALT_MARK = "data-quire-image", "data-quire-alt"
IMG_ATTRIBUTES = {"src", "alt", "id", "class", "title", "width", "height", "style"}
MEDIA_SUFFIXES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/svg+xml": ".svg",
}
URL_LIKE = ("href", "src", "action", "formaction", "data", "poster", "srcset", "background")
LINK_ELEMENTS = ("a",)  # the only elements whose href is a link (checked in _resolve_links)


@dataclass(frozen=True)
class Heading:
    """A heading inside a chapter, for the contents and the PDF bookmarks."""

    id: str
    title: str
    level: int


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


def locate(source: SourceFile, needle: str) -> int | None:
    """The line of a source file where a piece of text first appears, for messages."""
    index = source.text.find(needle)
    return source.text.count("\n", 0, index) + 1 if index >= 0 else None


def walk(value: Any, visit: Any) -> Any:
    """Rebuild an AST bottom-up; `visit` may return a node, a list to splice, or None."""
    if isinstance(value, dict):
        content = value.get("c")
        # AST nodes are {"t": kind, "c": content}; strings and numbers need no visit.
        return {**value, "c": walk(content, visit)} if isinstance(content, list | dict) else value
    if not isinstance(value, list):
        return value
    result: list[Any] = []
    for item in value:
        if isinstance(item, list | dict):
            item = walk(item, visit)
            replacement = visit(item) if isinstance(item, dict) and "t" in item else None
            if isinstance(replacement, list):
                result.extend(replacement)
                continue
            if replacement is not None:
                item = replacement
        result.append(item)
    return result


def iter_nodes(value: Any) -> Any:
    """Every AST node (a dict with "t") inside value, in document order, without copying."""
    if isinstance(value, dict):
        if "t" in value:
            yield value
        value = value.get("c")
    if isinstance(value, list):
        for item in value:
            if isinstance(item, list | dict):
                yield from iter_nodes(item)


def mark_decorative_figures(blocks: list[Any]) -> None:
    """Keep `![Caption](x.png){alt=""}` decorative: pandoc drops an empty alt inside a figure."""
    for figure in (n for n in iter_nodes(blocks) if n["t"] == "Figure"):
        for image in (n for n in iter_nodes(figure["c"][2]) if n["t"] == "Image"):
            attr, alt = image["c"][0], image["c"][1]
            if not alt and "alt" not in dict(attr[2]):
                attr[2].append(["alt", ""])


def drop_raw_latex(parsed: Parsed) -> list[Any]:
    """Remove raw TeX, which no output can show, warning where it was."""

    def visit(node: dict[str, Any]) -> Any:
        if node["t"] in ("RawInline", "RawBlock") and node["c"][0] in ("tex", "latex"):
            text = node["c"][1]
            warn(
                f"raw LaTeX `{text[:40]}` dropped",
                file=parsed.source.name,
                line=locate(parsed.source, text),
                hint="write it in Markdown; LaTeX is not printed in EPUB or PDF",
            )
            return []
        return None

    return walk(parsed.blocks, visit)


def number_notes(blocks: list[Any], prefix: str) -> tuple[list[Any], int]:
    """Turn pandoc notes into numbered note references plus a notes block at the end."""
    notes: list[Any] = []

    def visit(node: dict[str, Any]) -> Any:
        if node["t"] != "Note":
            return None
        notes.append(node["c"])
        n = len(notes)
        ref_attr = [f"{prefix}-ref-{n}", ["noteref"], []]
        return {"t": "Link", "c": [ref_attr, [{"t": "Str", "c": str(n)}], [f"#{prefix}-{n}", ""]]}

    blocks = walk(blocks, visit)
    if notes:
        items = [
            {"t": "Div", "c": [[f"{prefix}-{n}", ["footnote"], [["data-n", str(n)]]], body]}
            for n, body in enumerate(notes, start=1)
        ]
        blocks.append({"t": "Div", "c": [["", ["footnotes"], []], items]})
    return blocks, len(notes)


def split_chapters(parsed: Parsed, blocks: list[Any]) -> list[list[Any]]:
    """Split a file's blocks at its level-1 headings; text before the first one stays with it."""
    chapters: list[list[Any]] = []
    for block in blocks:
        starts = block.get("t") == "Header" and block["c"][0] == 1
        if starts or not chapters:
            chapters.append([])
        chapters[-1].append(block)
    return [c for c in chapters if c]


def chapter_kind(heading: dict[str, Any] | None, role: str, title: str) -> str:
    """The epub:type of a chapter, from its heading's classes, then its title and role."""
    classes = heading["c"][1][1] if heading else []
    for cls in classes:
        cls = CLASS_ALIASES.get(cls, cls)
        if cls in SECTION_TYPES:
            return cls
    word = title.strip().lower()
    if word in SECTION_TYPES and word != "chapter":
        return word
    return {"front": "preface", "body": "chapter", "back": "appendix"}[role]


def ascii_slug(text: str) -> str:
    """A file-name-safe ASCII slug of a title or id."""
    text = re.sub(r"['’]", "", text).replace("–", "-").replace("—", "-")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40]


def require_alt_text(parsed: Parsed, blocks: list[Any]) -> None:
    """Refuse an image without alt text; an explicit `alt=""` marks a decorative one."""

    for node in iter_nodes(blocks):
        if node["t"] != "Image":
            continue
        attr, alt, (src, _title) = node["c"]
        if dict(attr[2]).get("alt") is None and not stringify(alt).strip():
            raise BuildError(
                f"image `{src}` has no alt text",
                file=parsed.source.name,
                line=locate(parsed.source, src),
                hint='describe it: ![What it shows](file) or {alt="..."}; '
                'write {alt=""} only for a decorative image',
            )


def mark_images(blocks: list[Any]) -> list[Any]:
    """Mark Markdown images, so that what pandoc writes as <embed> or <video> stays an image."""

    def visit(node: dict[str, Any]) -> Any:
        if node["t"] != "Image":
            return None
        attr, alt, target = node["c"]
        keyvals = [*attr[2], [IMAGE_MARK, "1"], [ALT_MARK, stringify(alt)]]
        return {"t": "Image", "c": [[attr[0], attr[1], keyvals], alt, target]}

    return walk(blocks, visit)


def _restore_images(chapter: Chapter) -> None:
    """Markdown images become <img> again, whatever tag pandoc chose for their file's suffix."""
    for element in chapter.body.xpath(f".//*[@{IMAGE_MARK}]"):
        alt = element.attrib.pop(ALT_MARK, "")
        del element.attrib[IMAGE_MARK]
        if element.tag != "img":
            for child in list(element):
                element.remove(child)
            for name in set(element.attrib) - IMG_ATTRIBUTES:
                del element.attrib[name]
            element.tag, element.text = "img", None
            element.set("alt", element.get("alt", alt))


def complete_config(manuscript: Manuscript, parsed: list[Parsed]) -> BookConfig:
    """Fill in title, authors, language and identifier the settings left out."""
    config = manuscript.config
    # A single file, or a folder without book.yaml, may carry pandoc metadata (YAML or `%` lines).
    meta = parsed[0].meta
    values: dict[str, Any] = {}
    if not config.title:
        values["title"] = _derive_title(manuscript, parsed, meta)
    if not config.authors and "author" in meta:
        author = meta["author"]
        items = author["c"] if author["t"] == "MetaList" else [author]
        values["authors"] = tuple(stringify(a) for a in items)
    if not config.date and "date" in meta:
        values["date"] = stringify(meta["date"])
    if not config.lang:
        values["lang"] = _detect_language(manuscript)
    title = values.get("title", config.title)
    authors = values.get("authors", config.authors)
    if not config.identifier:
        # Derived from the title and authors, so it stays the same from build to build.
        values["identifier"] = "urn:uuid:" + str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"quire:{title}|{'; '.join(authors)}")
        )
    return config.with_derived(**values)


def _derive_title(manuscript: Manuscript, parsed: list[Parsed], meta: dict[str, Any]) -> str:
    if "title" in meta:
        return stringify(meta["title"])
    title = (
        next(
            (
                stringify(b)
                for p in parsed
                for b in p.blocks
                if b["t"] == "Header" and b["c"][0] == 1
            ),
            None,
        )
        or manuscript.files[0].path.stem.replace("-", " ").replace("_", " ").title()
    )
    warn(
        f"no title set; using “{title}”",
        file=manuscript.config.origin,
        hint="set `title:` in book.yaml or the file's YAML block (or a `% Title` line)",
    )
    return title


def _detect_language(manuscript: Manuscript) -> str:
    from langdetect import DetectorFactory, LangDetectException, detect

    DetectorFactory.seed = 0  # langdetect is random unless seeded; builds must be repeatable
    sample = " ".join(f.text for f in manuscript.files)[:20000]
    try:
        lang = detect(sample)
    except LangDetectException:
        raise BuildError(
            "no language set, and none could be detected from the text",
            file=manuscript.config.origin,
            hint="set `lang:` (for example `lang: en`) in book.yaml or the YAML block",
        ) from None
    lang = lang.split("-")[0] if "-" in lang and not lang.startswith("zh") else lang
    warn(
        f"no language set; detected `{lang}` from the text",
        file=manuscript.config.origin,
        hint=f"set `lang: {lang}` in book.yaml or the file's YAML block",
    )
    return lang


def modified_time(manuscript: Manuscript, config: BookConfig) -> str:
    """dcterms:modified: SOURCE_DATE_EPOCH, else the book's date, else the newest source file."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdigit():
        stamp = dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    else:
        try:
            stamp = dt.datetime.fromisoformat((config.date or "")[:10]).replace(tzinfo=dt.UTC)
        except ValueError:
            newest = max(f.path.stat().st_mtime for f in manuscript.files)
            stamp = dt.datetime.fromtimestamp(int(newest), dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def transform(manuscript: Manuscript, parsed: list[Parsed]) -> Book:
    """Check and reshape the parsed files into a Book of chapters with their assets."""
    config = complete_config(manuscript, parsed)
    drafts: list[tuple[Parsed, list[Any]]] = []
    for item in parsed:
        blocks = drop_raw_latex(item)
        mark_decorative_figures(blocks)
        require_alt_text(item, blocks)
        blocks = mark_images(blocks)
        drafts.extend((item, chunk) for chunk in split_chapters(item, blocks))
    wrapped, note_counts = [], []
    for index, (_item, chunk) in enumerate(drafts, start=1):
        blocks, count = number_notes(chunk, f"n{index}")
        note_counts.append(count)
        wrapped.append({"t": "Div", "c": [[f"quire-chapter-{index}", [], []], blocks]})
    html = write_html(wrapped, api_version())
    elements = [e for e in lxml.html.fragments_fromstring(html) if isinstance(e.tag, str)]
    chapters = [
        _make_chapter(index, item, chunk, element, count)
        for index, ((item, chunk), element, count) in enumerate(
            zip(drafts, elements, note_counts, strict=True), start=1
        )
    ]
    _dedupe_ids(chapters)
    confinement = Confinement((manuscript.root,), config.allow_remote)  # styles/ is not for images
    for styles in dict.fromkeys((manuscript.styles, manuscript.root / "styles")):  # + cover.css
        if styles.is_dir():
            check_styles(styles, Confinement((manuscript.root, manuscript.styles)))
    assets: dict[Path, images.Asset] = {}
    for chapter in chapters:
        _restore_images(chapter)
        _sanitize(chapter, confinement)
        _resolve_sources(chapter, confinement, assets)
    _resolve_links(chapters)
    cover = _cover_asset(manuscript, config, confinement)
    return Book(
        config=config,
        chapters=tuple(chapters),
        assets=tuple(assets.values()),
        cover=cover,
        styles=manuscript.styles,
        root=manuscript.root,
        modified=modified_time(manuscript, config),
    )


def _make_chapter(
    index: int, parsed: Parsed, chunk: list[Any], element: etree._Element, notes: int
) -> Chapter:
    heading = chunk[0] if chunk[0].get("t") == "Header" else None
    sections = [c for c in element if c.tag == "section" and "level1" in c.get("class", "")]
    if heading is not None and len(sections) == 1 and len(element) == 1:
        body = sections[0]
    else:
        body = element
        body.tag = "section"
        body.set("id", f"chapter-{index}")
    footnotes = body.find(".//div[@class='footnotes']")
    if footnotes is not None:
        body.append(footnotes)  # pandoc's section-divs may have put it in the last subsection
    title = stringify(heading) if heading else parsed.source.path.stem.replace("-", " ").title()
    role = parsed.source.role
    slug = ascii_slug(body.get("id", "")) or ascii_slug(title) or "section"
    headings = tuple(
        Heading(h.getparent().get("id") or h.get("id", ""), h.text_content().strip(), int(h.tag[1]))
        for h in body.iter("h2", "h3")
    )
    return Chapter(
        index=index,
        id=body.get("id"),
        file_name=f"{index:02d}-{slug}.xhtml",
        title=title.strip(),
        role=role,
        kind=chapter_kind(heading, role, title),
        source=parsed.source,
        body=body,
        headings=tuple(h for h in headings if h.id),
        note_count=notes,
    )


def _dedupe_ids(chapters: list[Chapter]) -> None:
    """Give every element a book-wide unique id; the PDF is one document."""
    seen: set[str] = set()
    suffixes: dict[str, int] = {}  # the last number tried per id: no quadratic search, no limit
    for chapter in chapters:
        for element in chapter.body.iter():
            old = element.get("id") if isinstance(element.tag, str) else None
            if not old:
                continue
            if old in seen:
                new = next(
                    f"{old}-{n}" for n in count(suffixes.get(old, 2)) if f"{old}-{n}" not in seen
                )
                first = old not in suffixes  # warn once per id, not once per use
                suffixes[old] = int(new.rsplit("-", 1)[1]) + 1
                element.set("id", new)
                for link in chapter.body.iter("a"):
                    if link.get("href") == f"#{old}":
                        link.set("href", f"#{new}")
                if first and "{#" + old in chapter.source.text:
                    warn(
                        f"id `{old}` is used in an earlier chapter too; renamed `{new}` here",
                        file=chapter.source.name,
                        line=locate(chapter.source, "{#" + old),
                    )
                old = new
            seen.add(old)
        chapter.id = chapter.body.get("id")
        chapter.headings = tuple(
            Heading(
                h.getparent().get("id") or h.get("id", ""), h.text_content().strip(), int(h.tag[1])
            )
            for h in chapter.body.iter("h2", "h3")
        )


def _sanitize(chapter: Chapter, confinement: Confinement) -> None:
    """Strip scripts, frames, plugins and event handlers that raw HTML may bring in."""
    for element in list(chapter.body.iter(*UNSAFE_ELEMENTS, *HEAD_ELEMENTS)):
        unsafe = element.tag in UNSAFE_ELEMENTS
        warn(
            f"raw HTML <{element.tag}> removed",
            file=chapter.source.name,
            line=locate(chapter.source, f"<{element.tag}"),
            hint="books may not run scripts or embed frames and plugins"
            if unsafe
            else "the book's look comes from the CSS files in styles/",
        )
        element.drop_tree()
    for element in chapter.body.iter():
        if isinstance(element.tag, str):
            _sanitize_attributes(chapter, element, confinement)


def _sanitize_attributes(
    chapter: Chapter, element: etree._Element, confinement: Confinement
) -> None:
    """Drop event handlers and javascript: URLs; refuse styles and hrefs that reach for files."""
    for name in list(element.attrib):
        value = element.get(name, "")
        local = name.rsplit(":", 1)[-1].lower()
        if local.startswith("on") or (local in URL_LIKE and _is_script_url(value)):
            warn(
                f"raw HTML attribute `{name}` removed",
                file=chapter.source.name,
                line=locate(chapter.source, name),
                hint="event handlers and javascript: links do not belong in a book",
            )
            del element.attrib[name]
        elif local == "style" and _style_references(chapter, value):
            _refuse_style_url(chapter, value, confinement)
        elif (
            local in ("href", "action", "formaction")
            and element.tag not in LINK_ELEMENTS
            and not value.startswith("#")
        ):
            raise BuildError(
                f'raw HTML <{element.tag} {name}="{value[:60]}"> is not supported',
                file=chapter.source.name,
                line=locate(chapter.source, value) or locate(chapter.source, name),
                hint="in raw HTML only <a href> may point elsewhere; use Markdown for images",
            )


def _is_script_url(value: str) -> bool:
    """True for javascript: and vbscript: URLs, however they are spaced or cased."""
    squeezed = re.sub(r"[\s\x00-\x1f]", "", value).lower()
    return squeezed.startswith(("javascript:", "vbscript:"))


def _refuse_style_url(chapter: Chapter, value: str, confinement: Confinement) -> None:
    """A raw HTML style attribute may not load files: say why, naming the reference."""
    ref = _style_references(chapter, value)[0].url.strip()
    line = locate(chapter.source, ref) or locate(chapter.source, "style=")
    if ref and not ref.startswith("#"):
        confinement.resolve(ref, chapter.source.path.parent, file=chapter.source.name, line=line)
    raise BuildError(
        f"raw HTML style `{value[:60]}` loads a file, which the book would not include",
        file=chapter.source.name,
        line=line,
        hint="use a Markdown image, or put the rule in a CSS file in styles/",
    )


def _resolve_sources(
    chapter: Chapter, confinement: Confinement, assets: dict[Path, images.Asset]
) -> None:
    """Check each image a chapter shows and point it at its copy in the book."""
    for element in chapter.body.xpath(".//*[@src or @srcset or @poster or @data]"):
        for name in ("srcset", "poster", "data"):
            if element.get(name):
                raise BuildError(
                    f"raw HTML attribute `{name}` is not supported",
                    file=chapter.source.name,
                    line=locate(chapter.source, name),
                    hint="use a Markdown image instead",
                )
        ref = element.get("src", "")
        line = locate(chapter.source, ref)
        if ref.startswith("data:") or element.tag != "img":
            raise BuildError(
                f'<{element.tag} src="{ref[:40]}"> is not supported; only images from files',
                file=chapter.source.name,
                line=line,
                hint="save the image as a file in the book's folder and link to it",
            )
        path = confinement.resolve(
            ref, chapter.source.path.parent, file=chapter.source.name, line=line
        )
        if path not in assets:
            media_type, width, height = images.inspect(path, file=chapter.source.name, line=line)
            href = _unique_href(path, media_type, {a.href for a in assets.values()})
            assets[path] = images.Asset(path, href, media_type, width, height)
        element.set("src", assets[path].href)


def check_styles(styles: Path, confinement: Confinement) -> None:
    """The style sheets' url()s and @imports must stay in the book: no other files, no network."""
    check_stylesheets(styles, confinement, display_name(styles))


def _style_references(chapter: Chapter, value: str) -> list:
    """What a raw HTML style attribute would load, as a CSS parser reads it (escapes and all)."""
    try:
        return declaration_references(value)
    except ValueError as exc:
        raise BuildError(f"raw HTML style: CSS {exc}", file=chapter.source.name) from None


def _unique_href(path: Path, media_type: str, taken: set[str]) -> str:
    """images/<name> for an image in the EPUB, with the suffix of its real format."""
    suffix = MEDIA_SUFFIXES.get(media_type, path.suffix.lower())
    if path.suffix.lower() in (".jpeg", ".jpg") and suffix == ".jpg":
        suffix = path.suffix.lower()
    stem = ascii_slug(path.stem) or "image"
    href, n = f"images/{stem}{suffix}", 1
    while href in taken:
        n += 1
        href = f"images/{stem}-{n}{suffix}"
    return href


def _resolve_links(chapters: list[Chapter]) -> None:
    """Check every link: ids must exist, links to chapter files become links to chapters."""
    ids = {
        e.get("id")
        for c in chapters
        for e in c.body.iter()
        if isinstance(e.tag, str) and e.get("id")
    }
    by_file = {c.source.path.name: c for c in reversed(chapters)}
    for chapter in chapters:
        for link in chapter.body.iter("a"):
            href = link.get("href")
            if (
                href is None
                or is_remote(href)
                or (is_local_anchor_or_scheme(href) and not href.startswith("#"))
            ):
                continue
            file_part, _, fragment = href.partition("#")
            if file_part:
                target = by_file.get(Path(file_part).name)
                if target is None:
                    raise BuildError(
                        f"link to `{href}`: not a chapter of this book",
                        file=chapter.source.name,
                        line=locate(chapter.source, href),
                        hint="link to a heading with #its-id, or to a chapter's .md file",
                    )
                fragment = fragment or target.id
            if fragment not in ids:
                raise BuildError(
                    f"link to `#{fragment}`, but no heading or element has that id",
                    file=chapter.source.name,
                    line=locate(chapter.source, f"#{fragment}"),
                    hint="give the target an id with {#" + fragment + "} or fix the link",
                )
            link.set("href", f"#{fragment}")
            classes = link.get("class", "").split()
            if link.get("aria-hidden") == "true":
                continue  # pandoc's line anchors in code blocks
            if "noteref" not in classes and "footnote-back" not in classes:
                link.set("class", " ".join([*classes, "xref"]))


def _cover_asset(
    manuscript: Manuscript, config: BookConfig, confinement: Confinement
) -> images.Asset | None:
    if not config.cover_image:
        return None
    line = config.line_of("cover-image")
    path = confinement.resolve(config.cover_image, manuscript.root, file=config.origin, line=line)
    media_type, width, height = images.inspect(path, file=config.origin, line=line)
    if media_type == images.SVG_TYPE:
        raise BuildError(
            "the cover must be a JPEG or PNG image", file=config.origin, hint="set `cover-image:`"
        )
    return images.Asset(path, f"images/cover{path.suffix.lower()}", media_type, width, height)
