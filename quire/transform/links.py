"""Links: each points at its target in the book; one whose target is not in it keeps its text."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import replace
from pathlib import Path

from lxml import etree

from quire.errors import warn
from quire.load.confine import is_local_anchor_or_scheme, is_remote, resolved
from quire.load.manuscript import SourceFile
from quire.parse.pandoc import Parsed, parse, stringify
from quire.transform.ast import Surveys
from quire.transform.model import Chapter
from quire.transform.structure import entry_anchor

# Each kind of link that cannot be followed: its group, and what to do (one hint for them all).
MISSING_ID = ("links to ids nothing has", "give the heading an id with {#its-id}, or fix the link")
NOT_CHAPTER = (
    "links to files that are not chapters",
    "list the file among the chapters, or link to its web address",
)
CHAPTER_START = (
    "links to ids their chapter does not have",
    "Quire linked to the start of the chapter; fix the `#id` part of the link",
)
LEAVING = ("links out of the book's folder", "link to a web address (or set `site-url`)")
UNKNOWN_SCHEME = ("links with an unknown scheme", "fix the address (`ttps://` for `https://`?)")
# URI schemes reading systems and EPUBCheck know (IANA's registry, the ones books use); a link
# with any other (a typo, an app's own) is no link a reader can follow.
KNOWN_SCHEMES = {"http", "https", "mailto", "tel", "sms", "ftp", "ftps", "sftp", "irc", "ircs",
                 "news", "nntp", "urn", "geo", "xmpp", "ssh", "git", "magnet", "ws", "wss",
                 "data", "gopher", "telnet", "rtsp", "spotify", "doi", "info", "ldap", "fax"}  # fmt: skip
# Suffixes a link may give a chapter's file: its own, or the .html an mdBook or a site made of it.
PAGE_SUFFIXES = (".html", ".htm", ".xhtml")
CHAPTER_SUFFIXES = (".md", ".markdown", ".txt")


def resolve_links(
    chapters: list[Chapter],
    root: Path | None = None,
    site_url: str | None = None,
    generated: dict[str, str] | None = None,
) -> None:
    """Point every link at its target: `#id`, or a chapter's file (`x.md`, `x.html`, with or
    without `#id`) by its path from the linking file. A link to anything else in the book or to
    a missing id keeps only its text; one leaving the book goes to the web edition's neighbour
    (with `site-url`) or keeps its text. Each of those is a warning. `generated` maps ids a
    link may name to what Quire makes after this (`#index` to the index chapter)."""
    ids = {
        e.get("id"): c
        for c in chapters
        for e in c.body.iter()
        if isinstance(e.tag, str) and e.get("id")
    }
    by_path = {resolved(s.path): c for c in reversed(chapters) for s in (c.source, *c.more_sources)}
    for chapter in chapters:
        for link in list(chapter.body.iter("a")):
            href = link.get("href")
            if href is None or is_remote(href):
                continue
            if _other_scheme(href):
                if _scheme(href) not in KNOWN_SCHEMES:
                    file, line = chapter.where(href)
                    _missing(f"link to `{href[:80]}`: `{_scheme(href)}:` is no URI scheme a "
                             "reader knows", file, line, UNKNOWN_SCHEME)  # fmt: skip
                    _keep_text(link)
                continue
            made = (generated or {}).get(href[1:]) if href.startswith("#") else None
            if made and href[1:] not in ids:
                link.set("href", f"#{made}")  # no "(page N)": its pages are laid out last
                continue
            target = _target(chapter, href, ids, by_path, root, site_url)
            if target is None:
                _keep_text(link)
                continue
            link.set("href", target)
            if not target.startswith("#"):
                continue  # a web address beside the web edition
            classes = link.get("class", "").split()
            if link.get("aria-hidden") == "true":
                continue  # pandoc's line anchors in code blocks
            if link.get("role") == "doc-biblioref":
                continue  # a citation: no "(page N)" after it
            if "noteref" not in classes and "footnote-back" not in classes:
                link.set("class", " ".join([*classes, "xref"]))


def _scheme(href: str) -> str:
    return urllib.parse.urlsplit(href).scheme.lower()


def _other_scheme(href: str) -> bool:
    """True for `mailto:`, `tel:`, `irc:` and the like: links that are not to a file."""
    if is_local_anchor_or_scheme(href):
        return not href.startswith("#")
    scheme = urllib.parse.urlsplit(href).scheme.lower()
    return len(scheme) > 1 and scheme != "file"  # `C:` is a Windows drive, not a scheme


def _target(
    chapter: Chapter,
    href: str,
    ids: dict[str, Chapter],
    by_path: dict[Path, Chapter],
    root: Path | None,
    site_url: str | None,
) -> str | None:
    """The href a link gets, or None if it keeps only its text (after a warning)."""
    file, line = chapter.where(href)
    file_part, _, fragment = href.partition("#")
    fragment = urllib.parse.unquote(fragment)
    if not file_part:
        if fragment in ids:
            return f"#{fragment}"
        message = f"link to `#{fragment}`, but no heading or element has that id"
        return _missing(message, file, line, MISSING_ID)
    source = _source_named(chapter, file)
    path = _linked_path(source.path.parent, root, urllib.parse.unquote(file_part))
    if root is not None and not path.is_relative_to(root):
        return _leaving(href, source, file, line, root, site_url)
    target = _chapter_at(path, by_path)
    if target is None:
        message = f"link to `{href}`: not a chapter of this book"
        return _missing(message, file, line, NOT_CHAPTER)
    if not fragment:  # its chapter, or its section when it is listed as one (structure.py)
        return f"#{entry_anchor(target, path) or target.id}"
    found = _id_in(target, fragment)
    if found is None:  # the chapter is there: its start is nearer than no link at all
        warn(f"link to `{href}`, but {target.source.name} has no heading with that id", file=file,
             line=line, group=CHAPTER_START[0], hint=CHAPTER_START[1])  # fmt: skip
        return f"#{target.id}"
    return f"#{found}"


def _missing(message: str, file: str, line: int | None, kind: tuple[str, str]) -> None:
    group, what = kind
    warn(message, file=file, line=line, hint=f"Quire kept the link's text, unlinked; {what}",
         group=group)  # fmt: skip


def _leaving(
    href: str, source: SourceFile, file: str, line: int | None, root: Path, site_url: str | None
) -> str | None:
    """A link out of the book's folder: to the web edition's neighbour, or its text alone."""
    message = f"link to `{href}` leaves the book's folder"
    if not site_url:
        return _missing(message, file, line, LEAVING)
    page = urllib.parse.quote(source.path.relative_to(root).as_posix())
    address = urllib.parse.urljoin(urllib.parse.urljoin(site_url, page), href)
    warn(f"{message}; linked to {address}", file=file, line=line, group=LEAVING[0],
         hint="Quire linked it beside the web edition at `site-url`")  # fmt: skip
    return address


def _source_named(chapter: Chapter, name: str) -> SourceFile:
    """The file of a chapter that `Chapter.where` named (a link is relative to it)."""
    return next((s for s in chapter.more_sources if s.name == name), chapter.source)


def _linked_path(folder: Path, root: Path | None, name: str) -> Path:
    """The path a link names: from the linking file's folder, or from the book's root for `/`."""
    base = root if name.startswith("/") and root is not None else folder
    return resolved(base / name.lstrip("/"))


def _chapter_at(path: Path, by_path: dict[Path, Chapter]) -> Chapter | None:
    """The chapter whose file a path is, as written or as the page (`.html`) made of it.

    A folder or its index page stands for its README or index file, as in mdBook and GitBook.
    """
    candidates = [path]
    if path.suffix.lower() in PAGE_SUFFIXES or not path.suffix:
        stem = path.with_suffix("") if path.suffix else path
        candidates += [stem.with_suffix(s) for s in CHAPTER_SUFFIXES]
        if stem.name.lower() == "index" or not path.suffix:
            folder = stem.parent if path.suffix else stem
            candidates += [folder / n for n in ("README.md", "readme.md", "index.md")]
    return next((by_path[c] for c in candidates if c in by_path), None)


def _id_in(chapter: Chapter, fragment: str) -> str | None:
    """The id a `file#fragment` link means in that chapter: the fragment, the name the
    book-wide renaming of repeated ids gave it there (`intro-2`), or the id pandoc made of the
    same heading another way (mdBook and GitHub keep leading digits and some punctuation;
    GitBook's links may keep the heading's capitals)."""
    renamed = re.compile(re.escape(fragment) + r"-\d+", re.IGNORECASE)
    found, alike, bare = None, None, _bare(fragment)
    for element in chapter.body.iter():
        name = element.get("id") if isinstance(element.tag, str) else None
        if name == fragment:
            return name
        if found is None and name and renamed.fullmatch(name):
            found = name
        if alike is None and name and bare and _bare(name) == bare:
            alike = name
    return found or alike


def _bare(name: str) -> str:
    """An id's letters and digits, after any leading digits (pandoc drops those)."""
    return re.sub(r"[\W_]", "", name.lower()).lstrip("0123456789")


def _keep_text(link: etree._Element) -> None:
    """A link that cannot be followed becomes its text (a span keeps any id it had)."""
    link.tag = "span"
    for name in ("href", "target", "rel", "hreflang", "type", "download", "ping"):
        link.attrib.pop(name, None)
    if not link.attrib:
        link.drop_tag()


def cross_file_references(parsed: list[Parsed], surveys: Surveys) -> list[Parsed]:
    """Let `[Heading]` (pandoc's implicit heading reference) reach headings in other files.

    Pandoc resolves these within one document; a file that names another file's heading is
    parsed again with reference definitions appended, so its own lines keep their numbers.
    """
    found: dict[str, tuple[str, int]] = {}
    for index, item in enumerate(parsed):
        for node in surveys.of(item.blocks).nodes("Header"):
            if node["c"][1][0]:
                found.setdefault(_label(stringify(node["c"][2])), (node["c"][1][0], index))
    result = []
    for index, item in enumerate(parsed):
        text = _squeeze(item.source.text)
        bracketed = set(BRACKETED.findall(text))
        wanted = [
            (label, target)
            for label, (target, where) in found.items()
            if where != index and _names(text, bracketed, label)
        ]
        if not wanted:
            result.append(item)
            continue
        definitions = "".join(f"\n[{_escape(label)}]: #{target}" for label, target in wanted)
        source = replace(item.source, text=item.source.text.rstrip("\n") + "\n\n" + definitions)
        result.append(parse(source))
    return result


BRACKETED = re.compile(r"\[([^\[\]]*)\]")  # each `[...]` without brackets inside, as a group
STRAIGHT_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})


def _label(text: str) -> str:
    """A reference label as pandoc matches it: case and runs of spaces do not count.

    The heading's text has smart quotes; the `[Heading]` in the source has straight ones.
    """
    return " ".join(text.translate(STRAIGHT_QUOTES).split()).lower()


def _names(text: str, bracketed: set[str], label: str) -> bool:
    """True if a (squeezed) text has `[label]`; `bracketed` holds what its brackets enclose.

    One look-up per label, rather than a search of the text: a long book has hundreds of
    headings and files. A label with brackets of its own is searched for.
    """
    if "[" in label or "]" in label:
        return f"[{label}]" in text
    return label in bracketed


def _squeeze(text: str) -> str:
    return " ".join(text.split()).lower()


def _escape(label: str) -> str:
    return label.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
