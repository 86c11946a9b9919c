"""The embedded fonts: subsets for the text each family draws, obfuscated as OCF asks."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from lxml import etree

from quire.fonts import FontFile, FontSet, book_fonts
from quire.render.epub.document import Page
from quire.transform import Book

XHTML_NS = "http://www.w3.org/1999/xhtml"

# EPUB 3.3 core media types of the font files Quire ships.
FONT_MEDIA_TYPES = {".ttf": "font/ttf", ".otf": "font/otf"}

# Text set in the monospaced family (epub.css); everything else is in the text family.
MONO_TAGS = ("code", "pre", "kbd", "samp")

# What a reading system may draw without its being in the text: list numbers and the
# hyphen of automatic hyphenation (epub.css has `hyphens: auto`).
GENERATED_TEXT = "0123456789.-\u2010"


@dataclass(frozen=True)
class EmbeddedFont:
    """One subset font file of the package."""

    href: str  # inside EPUB/, e.g. fonts/CharisSIL-Regular.ttf
    media_type: str
    data: bytes


def page_text(pages: list[Page]) -> tuple[str, str]:
    """The distinct characters of the pages' text: (set in the text family, set in monospace)."""
    prose: dict[str, None] = {}
    mono: dict[str, None] = {}
    code = " or ".join(f"ancestor::h:{tag}" for tag in MONO_TAGS)
    for page in pages:
        root = etree.fromstring(page.xhtml.encode("utf-8"))
        for text in root.xpath(f"//h:body//text()[not({code})]", namespaces={"h": XHTML_NS}):
            prose.update(dict.fromkeys(text))
        for text in root.xpath(f"//h:body//text()[{code}]", namespaces={"h": XHTML_NS}):
            mono.update(dict.fromkeys(text))
    return "".join(prose), "".join(mono)


def font_roles(fonts: FontSet) -> dict[str, FontSet]:
    """The families the style sheet names, by role: "text", "mono" and "cjk" (when shipped);
    the fallback faces are FALLBACK_FAMILY's (see family_text)."""
    roles: dict[str, FontSet] = {}
    for name in fonts.main().families():
        family = fonts.family(name)
        role = "cjk" if family.is_cjk else "mono" if family.monospaced else "text"
        roles.setdefault(role, family)
    return roles


def family_text(fonts: FontSet, pages: list[Page]) -> list[tuple[FontSet, str]]:
    """Each embedded family with the characters it must draw.

    The text family gets all the text outside code (and list numbers and the hyphen); the
    monospaced family the text in code, pre, kbd and samp; the CJK family what some face of
    the text family lacks, which is what a reading system falls back to it for; each fallback
    family what the text, monospaced and CJK families all lack, among what it is the first
    fallback family to have.
    """
    prose, mono = page_text(pages)
    roles = font_roles(fonts)
    cjk = [fonts.family(name) for name in fonts.cjk_families()]
    lacking = lacking_text(roles, prose, mono, cjk)
    result = []
    text = roles.get("text")
    if text is not None:
        body = "".join(dict.fromkeys(prose + GENERATED_TEXT))
        result.append((text, body))
        faces = [FontSet((f,)) for f in text.files]
        prose = "".join(c for c in prose if not all(face.maps(c) for face in faces))
    if "mono" in roles:
        result.append((roles["mono"], mono))
    for name in fonts.cjk_families():  # the book's region first, each for what those before lack
        family = fonts.family(name)
        result.append((family, prose))
        prose = "".join(c for c in prose if not family.maps(c))
    for family, points in fonts.fallback_ranges().items():
        own = set(points)
        result.append((fonts.family(family), "".join(c for c in lacking if ord(c) in own)))
    return result


def lacking_text(
    roles: dict[str, FontSet], prose: str, mono: str, cjk: list[FontSet] | None = None
) -> str:
    """The characters the families the style sheets name before the fallback faces lack:
    text and CJK for prose, monospaced and CJK for code (every CJK family, or the "cjk" role's
    without `cjk`). (The monospaced face has Arabic and Hebrew letters, which prose never
    takes from it.)"""
    stacks = ((prose, ("text", "cjk")), (mono, ("mono", "cjk")))
    lacking: dict[str, None] = {}
    for chars, names in stacks:
        families = [roles[n] for n in names if n in roles] + list(cjk or ())
        lacking.update((c, None) for c in chars if not any(family.maps(c) for family in families))
    return "".join(lacking)


def fallback_text(families: list[tuple[FontSet, str]]) -> str:
    """The characters family_text gives the fallback faces, for their unicode-range."""
    return "".join(text for family, text in families if family.files and family.files[0].fallback)


def embedded_fonts(book: Book, pages: list[Page]) -> tuple[tuple[EmbeddedFont, ...], str]:
    """Subsets of the shipped fonts for the characters the pages use, and their @font-face CSS.

    A file none of whose characters the book uses is left out (the monospaced family of a
    book without code, the CJK family of a book without Chinese).
    """
    fonts = book_fonts(book)
    embedded: list[EmbeddedFont] = []
    used: list[FontFile] = []
    families = family_text(fonts, pages)
    for family, text in families:
        for file in family.files:
            face = FontSet((file,))
            if not any(face.maps(c) for c in text if not c.isspace()):
                continue
            data = face.subset(text)[file.path.name]
            media_type = FONT_MEDIA_TYPES[file.path.suffix.lower()]
            embedded.append(EmbeddedFont(font_href(file), media_type, data))
            used.append(file)
    css = FontSet(tuple(used)).font_face_css(
        lambda f: "../" + font_href(f),
        used=fallback_text(families),
    )
    css += fonts.language_css(book.config.lang)
    header = (
        "/* The book's fonts, subset to the characters it uses. Each file keeps its copyright"
        " and licence in its name table. */\n"
    )
    return tuple(embedded), header + css


def font_href(file: FontFile) -> str:
    """Where a font file goes in the EPUB: fonts/<name>, a book's own under fonts/book/ (its
    name may be a shipped file's)."""
    return ("fonts/book/" if file.role == "book" else "fonts/") + file.path.name


OBFUSCATION_ALGORITHM = "http://www.idpf.org/2008/embedding"


def obfuscation_key(identifier: str) -> bytes:
    """The OCF font obfuscation key: SHA-1 of the unique identifier without white space."""
    return hashlib.sha1(re.sub("[ \t\r\n]", "", identifier).encode("utf-8")).digest()


def obfuscate(data: bytes, key: bytes) -> bytes:
    """IDPF font obfuscation (OCF 3.3): XOR the first 1040 bytes with the key.

    It marks the fonts as part of this book and discourages lifting them out of it, which is what
    the OFL FAQ (1.11, 1.12) expects of fonts embedded in a document. It is its own inverse.
    """
    head = bytes(byte ^ key[i % len(key)] for i, byte in enumerate(data[:1040]))
    return head + data[1040:]


def encryption_document(fonts: tuple[EmbeddedFont, ...]) -> str:
    """META-INF/encryption.xml, listing each obfuscated font."""
    entries = "".join(
        f'<enc:EncryptedData><enc:EncryptionMethod Algorithm="{OBFUSCATION_ALGORITHM}"/>'
        f'<enc:CipherData><enc:CipherReference URI="EPUB/{f.href}"/></enc:CipherData>'
        "</enc:EncryptedData>\n"
        for f in fonts
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
        'xmlns:enc="http://www.w3.org/2001/04/xmlenc#">\n' + entries + "</encryption>\n"
    )
