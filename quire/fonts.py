"""The book's fonts: find them, check what they cover, describe and subset them.

The fonts live in styles/fonts/ (see its README.md for where each file comes
from). Every .ttf/.otf under the folder is picked up; family, weight and style
come from the files' own name and OS/2 tables, so adding a font needs no
configuration. Those under styles/fonts/fallback/ (emoji, scripts the book faces
lack), and the book's own fonts (its fonts/ folder and `fonts:` setting), are
fallback faces: the style sheets name them all as one family, FALLBACK_FAMILY,
after the book's families, and each draws the characters the ones before it lack.
"""

from __future__ import annotations

import functools
import struct
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uharfbuzz as hb

from quire.errors import BuildError

FONT_SUFFIXES = (".otf", ".ttf")

# Characters a font need not draw: spaces and controls (the layout engine places them), line
# and paragraph separators (print makes them line breaks: print_checks.separators_as_breaks)
# and Unicode's default-ignorable code points (DerivedCoreProperties.txt: ZWJ, ZWNJ, ZWSP,
# soft hyphen, bidi controls, word joiner, variation selectors, tags), which HarfBuzz hides
# when a font lacks them. Every other format character (Cf) needs a glyph like any letter:
# without one it prints as a box.
_IGNORED_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc"})
_DEFAULT_IGNORABLE = (
    range(0x00AD, 0x00AE), range(0x034F, 0x0350), range(0x061C, 0x061D), range(0x115F, 0x1161),
    range(0x17B4, 0x17B6), range(0x180B, 0x1810), range(0x200B, 0x2010), range(0x202A, 0x202F),
    range(0x2060, 0x2070), range(0x3164, 0x3165), range(0xFE00, 0xFE10), range(0xFEFF, 0xFF00),
    range(0xFFA0, 0xFFA1), range(0xFFF0, 0xFFF9), range(0x1BCA0, 0x1BCA4),
    range(0x1D173, 0x1D17B), range(0xE0000, 0xE1000),
)  # fmt: skip

# Private tables no subsetter knows; dropped by name so that the intent is written down.
_UNSUBSETTABLE_TABLES = ("Silt", "FFTM")  # SIL private; FontForge timestamps

# Name IDs 0-255 are the predefined ones (copyright, family, licence, ...), all kept as the OFL
# asks; HarfBuzz adds the font-specific ones (256+) the kept features and tables still name.
_PREDEFINED_NAME_IDS = range(256)

# A face that maps this many CJK unified ideographs (or Hangul syllables) is a CJK face.
_CJK_THRESHOLD = 1000

# The regions of the Noto Serif CJK faces shipped (the last word of each family's name), in
# the order they are tried by default: Han unification gives one code point to characters
# each region draws in its own form, so a book is set in the face of its language first.
CJK_REGIONS = ("SC", "JP", "TC", "KR")
_TRADITIONAL_TAGS = frozenset(("hant", "tw", "hk", "mo"))  # zh-Hant, zh-TW, zh-HK, zh-MO
# Language tags the style sheets' :lang() stacks are written for, besides the book's own.
_CJK_LANG_TAGS = ("ja", "ko", "zh-Hant", "zh-TW", "zh-HK")
_MONO_TAGS = ("code", "pre", "kbd", "samp")
# The @page rules of print.css (and of a right-to-left book's heads) that set a margin box's font.
_PAGE_SELECTORS = ("", " :left", " :right", " front")
_MARGIN_BOXES = ("top-left", "top-right", "bottom-center")

# The family the style sheets name after the book's own (print.css, epub.css, web.css,
# cover.css): every fallback face, each for the characters it alone draws (unicode-range).
FALLBACK_FAMILY = "Quire Fallback"
FALLBACK_FOLDER = "fallback"  # under styles/fonts/: the shipped fallback faces
BOOK_FONTS_FOLDER = "fonts"  # in the book's folder: the book's own fonts
# Each composite rule a fallback family gets: the four faces the style sheets use.
_FACES = ((400, "normal"), (400, "italic"), (700, "normal"), (700, "italic"))
# WeasyPrint tells the fonts of a PDF apart by family, weight, style and stretch alone, so two
# fallback files of one family, weight and style would be embedded as one (each glyph drawn
# from the wrong file). For WeasyPrint each fallback family's faces take a stretch of their
# own; fontconfig still tries every face of the family, for the characters each has.
_STRETCHES = (
    "normal", "semi-expanded", "expanded", "extra-expanded", "ultra-expanded",
    "semi-condensed", "condensed", "extra-condensed", "ultra-condensed",
)  # fmt: skip


@dataclass(frozen=True)
class FontFile:
    """One font file and the CSS face it provides."""

    path: Path
    family: str
    weight: int
    style: str  # "normal" | "italic"
    role: str = "main"  # "main"; "book": the book's own, a fallback; "fallback": shipped one

    @property
    def fallback(self) -> bool:
        """True for a fallback face (drawn only for what the book's families lack)."""
        return self.role != "main"


@dataclass(frozen=True)
class _Face:
    """What one font file says about itself, read once per path and mtime."""

    family: str
    weight: int
    style: str
    codepoints: frozenset[int]
    monospaced: bool


@functools.lru_cache(maxsize=64)
def _read_face(path: str, mtime_ns: int, size: int) -> _Face:
    """Read family, weight, style and cmap of a font file (cached per path+mtime+size)."""
    face = _hb_face(path)
    family = _name(face, 16) or _name(face, 1) or Path(path).stem
    os2 = _table_fields(face, "OS/2", ">4xH56xH")  # usWeightClass, fsSelection
    weight, fs_selection = os2 if os2 else (400, 0)
    (mac_style,) = _table_fields(face, "head", ">44xH") or (0,)
    (fixed_pitch,) = _table_fields(face, "post", ">12xI") or (0,)
    italic = bool(fs_selection & 0x201) or bool(mac_style & 2)  # ITALIC or OBLIQUE; macStyle
    codepoints = frozenset(face.unicodes)
    return _Face(family, weight, "italic" if italic else "normal", codepoints, bool(fixed_pitch))


def _hb_face(path: str) -> hb.Face:
    """A HarfBuzz face of a font file, refused unless it is an OpenType font with glyphs."""
    try:
        face = hb.Face(Path(path).read_bytes())
    except OSError as exc:
        raise BuildError(f"cannot read font file: {exc}", file=path) from exc
    # HarfBuzz reads anything without complaint (a non-font is a face with no tables).
    if face.glyph_count == 0 or not {"head", "name", "cmap"} <= set(face.table_tags):
        raise BuildError(
            "cannot read font file: not an OpenType font (no glyphs, or no head, name or cmap)",
            file=path,
            hint="replace it with a valid OpenType (.otf) or TrueType (.ttf) font",
        )
    return face


def _name(face: hb.Face, name_id: int) -> str | None:
    """A name record of the face: the English one, else the first in another language."""
    english = face.get_name(name_id)
    if english:
        return english
    others = (e.language for e in face.list_names() if e.name_id == name_id)
    return next((n for n in (face.get_name(name_id, lang) for lang in others) if n), None)


def _table_fields(face: hb.Face, tag: str, layout: str) -> tuple[int, ...] | None:
    """Fixed-offset fields at the start of a table (offsets as in the OpenType spec), or None
    if the font lacks the table or it is too short."""
    data = face.reference_table(tag).data
    size = struct.calcsize(layout)
    return struct.unpack(layout, data[:size]) if len(data) >= size else None


def _face(path: Path) -> _Face:
    """The cached face information of a font file."""
    stat = path.stat()
    return _read_face(str(path.absolute()), stat.st_mtime_ns, stat.st_size)


def _is_cjk(face: _Face) -> bool:
    """True if the face maps a substantial number of CJK unified ideographs or Hangul
    syllables (the Korean face has no hanja)."""
    count = 0
    for cp in face.codepoints:
        if 0x4E00 <= cp <= 0x9FFF or 0xAC00 <= cp <= 0xD7A3:
            count += 1
            if count >= _CJK_THRESHOLD:
                return True
    return False


def cjk_region(lang: str | None) -> str:
    """The Noto Serif CJK region a language tag is set in: JP, KR, TC (traditional Chinese)
    or SC (simplified Chinese, and every other language)."""
    parts = [p.lower() for p in (lang or "").replace("_", "-").split("-") if p]
    if not parts:
        return "SC"
    if parts[0] == "ja":
        return "JP"
    if parts[0] == "ko":
        return "KR"
    if parts[0] == "zh" and _TRADITIONAL_TAGS & set(parts[1:]) and "hans" not in parts:
        return "TC"
    return "SC"


def _region_rank(family: str, first: str = "SC") -> int:
    """Where a CJK family comes in the stack of a language set in region `first`."""
    region = family.rsplit(" ", 1)[-1].upper()
    if region == first:
        return -1
    return CJK_REGIONS.index(region) if region in CJK_REGIONS else len(CJK_REGIONS)


def _ignorable(char: str) -> bool:
    """True for spaces, controls, separators and default-ignorable code points."""
    cp = ord(char)
    if unicodedata.category(char) in _IGNORED_CATEGORIES or char.isspace():
        return True
    return any(cp in block for block in _DEFAULT_IGNORABLE)


def describe_characters(chars: list[str], shown: int = 5) -> str:
    """`character 'x' (U+0078, LATIN SMALL LETTER X)`, or several, the first few named."""
    named = [f"{c!r} (U+{ord(c):04X}, {unicodedata.name(c, 'unnamed')})" for c in chars[:shown]]
    more = f" and {len(chars) - shown} more" if len(chars) > shown else ""
    return ("character " if len(chars) == 1 else "characters ") + ", ".join(named) + more


def _css_string(text: str) -> str:
    """A CSS double-quoted string literal for text."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ")
    return f'"{escaped}"'


@dataclass(frozen=True)
class FontSet:
    """The fonts of a book, text family first and the CJK family last."""

    files: tuple[FontFile, ...]

    @functools.cached_property
    def _codepoints(self) -> frozenset[int]:
        """Every code point some file maps, read once per FontSet."""
        return frozenset().union(*(_face(f.path).codepoints for f in self.files))

    @functools.cached_property
    def _cjk_families(self) -> frozenset[str]:
        """Families that have at least one CJK face."""
        return frozenset(f.family for f in self.files if _is_cjk(_face(f.path)))

    def families(self) -> tuple[str, ...]:
        """The distinct families in font-family order: text family first, CJK after the
        others, the fallback families last."""
        ordered = list(dict.fromkeys(f.family for f in self.files))
        fallback = {f.family for f in self.fallback_files()}
        return tuple(
            sorted(ordered, key=lambda name: (name in fallback, name in self._cjk_families))
        )

    def fallback_files(self) -> tuple[FontFile, ...]:
        """The fallback faces, in the order they are tried: the book's, then the shipped."""
        return tuple(f for f in self.files if f.fallback)

    def main(self) -> FontSet:
        """The book's families without the fallback faces."""
        return FontSet(tuple(f for f in self.files if not f.fallback))

    def with_fallbacks(self, paths: tuple[Path, ...]) -> FontSet:
        """This set with the book's own font files as fallback faces, before the shipped ones."""
        own = tuple(_font_file(path.resolve(), "book") for path in paths)
        main = tuple(f for f in self.files if not f.fallback)
        return FontSet(main + own + self.fallback_files())

    def fallback_ranges(self) -> dict[str, tuple[int, ...]]:
        """Per fallback family, the code points it is the first fallback family to map."""
        taken: set[int] = set()
        ranges: dict[str, tuple[int, ...]] = {}
        for family in dict.fromkeys(f.family for f in self.fallback_files()):
            mapped = set().union(
                *(_face(f.path).codepoints for f in self.files if f.family == family)
            )
            ranges[family] = tuple(sorted(mapped - taken))
            taken |= mapped
        return ranges

    def family(self, name: str) -> FontSet:
        """The files of one family, as a FontSet of their own."""
        return FontSet(tuple(f for f in self.files if f.family == name))

    def cjk_families(self) -> tuple[str, ...]:
        """The CJK families among the book's, in the order they are tried."""
        return tuple(n for n in self.main().families() if n in self._cjk_families)

    def for_language(self, lang: str | None) -> FontSet:
        """This set with its CJK families in the order a book in `lang` tries them: the face
        of its region first (JP for Japanese, ...), then the others."""
        first = cjk_region(lang)
        cjk = sorted(
            (f for f in self.files if f.family in self._cjk_families and not f.fallback),
            key=lambda f: _region_rank(f.family, first),
        )
        others = [f for f in self.files if f not in cjk]
        main = [f for f in others if not f.fallback]
        return FontSet(tuple(main + cjk + [f for f in others if f.fallback]))

    def language_css(self, lang: str | None) -> str:
        """Font stacks for text in the book's language and in Japanese, Korean and traditional
        Chinese: each with its region's CJK face first (:lang() beats the style sheets' body
        and code rules, which name the simplified Chinese face only)."""
        main = self.main().families()
        cjk = [n for n in main if n in self._cjk_families]
        mono = next((n for n in main if n not in cjk and self.family(n).monospaced), None)
        text = next((n for n in main if n not in cjk and n != mono), None)
        rules = []
        for tag in dict.fromkeys(t for t in (lang, *_CJK_LANG_TAGS) if t):
            first = cjk_region(tag)
            ordered = sorted(cjk, key=lambda n: _region_rank(n, first))
            for own, generic, selector in (
                (text, "serif", f":lang({tag})"),
                (mono, "monospace", ", ".join(f"{t}:lang({tag})" for t in _MONO_TAGS)),
            ):
                names = [n for n in (own, *ordered, FALLBACK_FAMILY) if n]
                stack = ", ".join(_css_string(n) for n in names)
                rules.append(f"{selector} {{ font-family: {stack}, {generic}; }}\n")
        return "".join(rules)

    def page_css(self, lang: str | None) -> str:
        """The running heads' and folios' font stack for a book in `lang` (page margin boxes
        take no :lang(); this goes after print.css, with its @page selectors)."""
        main = self.main().families()
        first = cjk_region(lang)
        cjk = sorted(
            (n for n in main if n in self._cjk_families), key=lambda n: _region_rank(n, first)
        )
        text = next((n for n in main if n not in cjk and not self.family(n).monospaced), None)
        stack = ", ".join(_css_string(n) for n in (text, *cjk, FALLBACK_FAMILY) if n)
        boxes = " ".join(f"@{box} {{ font-family: {stack}, serif; }}" for box in _MARGIN_BOXES)
        return "".join(f"@page{selector} {{ {boxes} }}\n" for selector in _PAGE_SELECTORS)

    @property
    def is_cjk(self) -> bool:
        """True if some file of the set is a CJK face."""
        return bool(self._cjk_families)

    @property
    def monospaced(self) -> bool:
        """True if every file of the set says it is fixed-pitch (post.isFixedPitch)."""
        return bool(self.files) and all(_face(f.path).monospaced for f in self.files)

    def maps(self, char: str) -> bool:
        """True if some file's cmap has char (whitespace counts only if it is mapped)."""
        return ord(char) in self._codepoints

    def covers(self, char: str) -> bool:
        """True if some font maps char, or char is whitespace/control/format."""
        if len(char) != 1:
            raise ValueError(f"covers() takes one character, not {char!r}")
        return ord(char) in self._codepoints or _ignorable(char)

    def uncovered(self, text: str) -> list[str]:
        """The distinct characters of text that no font covers, in order of appearance."""
        codepoints = self._codepoints
        return [c for c in dict.fromkeys(text) if ord(c) not in codepoints and not _ignorable(c)]

    def font_face_css(
        self,
        url_of: Callable[[FontFile], str] | None = None,
        *,
        stand_ins: bool = False,
        used: str | None = None,
    ) -> str:
        """@font-face rules for every file, with file:// URLs (for WeasyPrint) unless url_of
        gives each file's URL (for an EPUB, relative to its style sheet); with stand_ins, also
        rules for the faces a family lacks (see stand_ins()); and the fallback faces again as
        FALLBACK_FAMILY, each for the characters it is the first to have (of `used`, if given)."""
        named = [(f, f.weight, f.style) for f in self.files if f.role != "fallback"]
        if stand_ins:
            named += [s for s in self.stand_ins() if s[0].role != "fallback"]
        rules = [_face_rule(f, f.family, weight, style, url_of) for f, weight, style in named]
        wanted = {ord(c) for c in used} if used is not None else None
        for index, (family, points) in enumerate(self.fallback_ranges().items()):
            points = [p for p in points if wanted is None or p in wanted]
            if not points:
                continue
            faces = [f for f in self.files if f.family == family]
            for weight, style in _FACES:
                nearest = min(faces, key=lambda f: (f.style != style, abs(f.weight - weight)))
                rule = _face_rule(nearest, FALLBACK_FAMILY, weight, style, url_of)
                if url_of is None:  # WeasyPrint's: see _STRETCHES
                    stretch = _STRETCHES[index % len(_STRETCHES)]
                    rule = rule.replace("}\n", f"  font-stretch: {stretch};\n}}\n")
                rules.append(
                    rule.replace("}\n", f"  unicode-range: {_unicode_range(points)};\n}}\n")
                )
        return "\n".join(rules)

    def stand_ins(self) -> list[tuple[FontFile, int, str]]:
        """The regular, bold, italic and bold italic faces a family lacks, each drawn with the
        nearest file it has: (file, weight, style).

        Without them fontconfig makes a slanted or emboldened face itself, but only where its
        configuration says so (Debian's 90-synthetic.conf), so the PDF would depend on the
        machine; and a slanted Chinese face is poor type anyway.
        """
        stand_ins = []
        for family in dict.fromkeys(f.family for f in self.files):
            faces = {(f.weight, f.style): f for f in self.files if f.family == family}
            for weight, style in (
                (400, "normal"),
                (400, "italic"),
                (700, "normal"),
                (700, "italic"),
            ):
                if any(abs(w - weight) < 200 and s == style for w, s in faces):
                    continue
                nearest = min(
                    faces.items(), key=lambda item: (item[0][1] != style, abs(item[0][0] - weight))
                )[1]
                stand_ins.append((nearest, weight, style))
        return stand_ins

    def subset(self, text: str) -> dict[str, bytes]:
        """Per file name, a deterministic OTF/TTF subset holding just the characters of text.

        Every file gets an entry, even when text uses none of its characters
        (the subset then holds only .notdef and the space). Subsets are cached in-process,
        so the same characters of the same file are subset once per run.
        """
        wanted = {ord(c) for c in text} | {0x20}
        return {f.path.name: _subset_file(f.path, wanted) for f in self.files}


def _face_rule(
    file: FontFile, family: str, weight: int, style: str, url_of: Callable[[FontFile], str] | None
) -> str:
    """One @font-face rule: a file as a face of a family."""
    kind = "opentype" if file.path.suffix.lower() == ".otf" else "truetype"
    url = _css_string(url_of(file) if url_of else file.path.resolve().as_uri())
    return (
        "@font-face {\n"
        f"  font-family: {_css_string(family)};\n"
        f"  src: url({url}) format({_css_string(kind)});\n"
        f"  font-weight: {weight};\n"
        f"  font-style: {style};\n"
        "}\n"
    )


def _unicode_range(points: list[int] | tuple[int, ...]) -> str:
    """A CSS unicode-range for sorted code points, runs written as ranges."""
    runs: list[list[int]] = []
    for point in points:
        if runs and point == runs[-1][1] + 1:
            runs[-1][1] = point
        else:
            runs.append([point, point])
    return ", ".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in runs)


def _subset_file(path: Path, wanted: set[int]) -> bytes:
    """Subset one font file to the code points it maps among wanted; byte-stable output."""
    stat = path.stat()
    used = frozenset(wanted & _face(path).codepoints)
    return _cached_subset(str(path.absolute()), stat.st_mtime_ns, stat.st_size, used)


@functools.lru_cache(maxsize=32)
def _cached_subset(path: str, mtime_ns: int, size: int, unicodes: frozenset[int]) -> bytes:
    """The subset of a font file (cached per path+mtime+size and code points), by HarfBuzz.

    It keeps what a reading system or browser may use: every layout feature, script and
    language (GSUB/GPOS closure over the characters), every Unicode and Windows name record
    of the predefined IDs in every language (the OFL copyright and licence), the hinting and
    the .notdef outline. The head table is copied, so created/modified stay those of the
    source. Dropped, as fontTools' subsetter dropped them: the legacy Macintosh name records
    and the glyph names (post format 3; they would add 2 % and no reader uses them). The
    output depends only on the input and HarfBuzz's version: byte-stable.
    """
    plan = hb.SubsetInput()
    plan.unicode_set.update(unicodes)
    for everything in (
        plan.layout_feature_tag_set,
        plan.layout_script_tag_set,
        plan.name_lang_id_set,
    ):
        everything.clear()
        everything.invert()
    plan.name_id_set.clear()
    plan.name_id_set.update(_PREDEFINED_NAME_IDS)
    plan.drop_table_tag_set.update(_tag(t) for t in _UNSUBSETTABLE_TABLES)
    plan.flags = hb.SubsetFlags.NOTDEF_OUTLINE
    try:
        subset = hb.subset(_hb_face(path), plan)
    except RuntimeError as exc:  # HarfBuzz could not subset it (a damaged table)
        raise BuildError(
            f"cannot subset font file: {exc}",
            file=path,
            hint="replace it with a valid OpenType (.otf) or TrueType (.ttf) font",
        ) from exc
    return subset.blob.data


def _tag(name: str) -> int:
    """An OpenType table tag as the 32-bit number HarfBuzz's sets hold."""
    return int.from_bytes(name.encode("latin-1"), "big")


def _order_key(
    file: FontFile, faces: dict[str, int], cjk: set[str]
) -> tuple[bool, int, int, str, int, bool]:
    """Sort key: non-CJK before CJK, fuller families first, CJK ones in CJK_REGIONS' order,
    then name, weight, style."""
    return (
        file.family in cjk,
        -faces[file.family],
        _region_rank(file.family) if file.family in cjk else 0,
        file.family,
        file.weight,
        file.style != "normal",
    )


def _font_file(path: Path, role: str) -> FontFile:
    """A font file as a FontFile, its family, weight and style read from the file."""
    face = _face(path)
    return FontFile(path, face.family, face.weight, face.style, role)


def load_fonts(fonts_dir: Path) -> FontSet:
    """Read every .ttf/.otf under fonts_dir into a FontSet, text family first, CJK last, and
    the fallback faces (under fallback/) after them."""
    paths = sorted(
        p for p in Path(fonts_dir).rglob("*") if p.suffix.lower() in FONT_SUFFIXES and p.is_file()
    )
    if not paths:
        raise BuildError(
            f"no fonts found in {fonts_dir}",
            file=str(fonts_dir),
            hint="put the book's .otf/.ttf files there (see styles/fonts/README.md)",
        )
    fallback_dir = (Path(fonts_dir) / FALLBACK_FOLDER).resolve()
    files: list[FontFile] = []
    cjk: set[str] = set()
    for path in (p.resolve() for p in paths):
        role = "fallback" if path.is_relative_to(fallback_dir) else "main"
        files.append(_font_file(path, role))
        if role == "main" and _is_cjk(_face(path)):
            cjk.add(files[-1].family)
    faces: dict[str, int] = {}
    for f in files:
        faces[f.family] = faces.get(f.family, 0) + 1
    main = sorted((f for f in files if not f.fallback), key=lambda f: _order_key(f, faces, cjk))
    fallback = [f for f in files if f.fallback]  # in the order of their folders' names
    return FontSet(tuple(main + fallback))


def book_fonts(book: object) -> FontSet:
    """The fonts a book is set in: the shipped ones, with the book's own as fallback faces."""
    from quire.ahead import when_needed

    shipped = when_needed(load_fonts, book.styles / "fonts")
    own = own_font_files(book.root, book.config)
    fonts = shipped.with_fallbacks(own) if own else shipped
    return fonts.for_language(getattr(book.config, "lang", None))


def own_font_files(root: Path, config: object) -> tuple[Path, ...]:
    """The book's own font files: those in its fonts/ folder, then those `fonts:` lists, each
    inside the book, a regular file within the font size cap, and a font."""
    from quire.errors import warn
    from quire.load.confine import Confinement, check_file

    confinement = Confinement((root,))
    found: list[tuple[Path, str, int | None, bool]] = []  # path, shown, line, listed
    folder = root / BOOK_FONTS_FOLDER
    if folder.is_dir() and not folder.is_symlink():
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() in FONT_SUFFIXES:
                shown = f"{BOOK_FONTS_FOLDER}/{path.relative_to(folder).as_posix()}"
                if not confinement.allows(path):
                    raise BuildError(
                        f"{shown} points outside the book's folder",
                        file=shown,
                        hint="put a copy of the font itself in the fonts/ folder",
                    )
                found.append((path, shown, None, False))
            elif path.is_file() and path.suffix.lower() in (".woff", ".woff2", ".ttc", ".pfb"):
                warn(
                    "only .ttf and .otf fonts can be used",
                    file=f"{BOOK_FONTS_FOLDER}/{path.relative_to(folder).as_posix()}",
                    hint="left out; convert it to .ttf or .otf (fontTools can)",
                    group="fonts left out",
                )
    line = config.line_of("fonts")
    for ref in getattr(config, "fonts", ()):
        path = confinement.resolve(ref, root, file=config.origin, line=line)
        found.append((path, config.origin, line, True))
    paths: dict[Path, None] = {}
    for path, shown, at, listed in found:
        check_file(path, "font", file=shown, line=at, what=path.name)
        try:
            _hb_face(str(path))
        except BuildError as exc:
            if not listed:  # found in fonts/: the build goes on without it
                warn(
                    f"{path.name} is not a font Quire can read",
                    file=shown,
                    hint="left out; replace it with a valid .ttf or .otf font",
                    group="fonts left out",
                )
                continue
            raise BuildError(
                f"`fonts:` lists {path.name}, which is not a font Quire can read",
                file=shown,
                line=at,
                hint="list .ttf or .otf font files",
            ) from exc
        paths[path.resolve()] = None
    return tuple(paths)
