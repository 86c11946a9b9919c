"""One font program per face in the assembled book, as one layout would have embedded.

Each unit's PDF embeds its own subset of every face it uses, so a joined book carried a dozen
copies of the text face. WeasyPrint subsets with HarfBuzz keeping the glyph ids (RETAIN_GIDS)
and draws text by glyph id (Identity CIDToGIDMap); each font dictionary's /W lists the glyphs
its unit draws. So the subsets of one face merge into one program that holds, at its own id,
every glyph some unit draws; each unit's font dictionary (its /W and ToUnicode, which name
only its own glyphs) then points to that one program, and the content streams stay as they are.

A glyph made of components is stored with its components drawn into it (decomposed): HarfBuzz
keeps the ids of the glyphs asked for, but a component it adds may land at another id (seen
with Charis SIL's f_f_i, whose ffi moved from 745 to 744 in a subset that ended at 744), so
only the glyphs the text draws are at the same id in every subset. A face is left as the
units embedded it if two subsets disagree on a glyph, its width or a character, or if it is
CFF-flavoured OpenType (its outlines live in another table).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import zlib
from array import array

import pikepdf
from fontTools.ttLib import TTFont, TTLibError
from fontTools.ttLib.tables import ttProgram
from fontTools.ttLib.tables._g_l_y_f import Glyph
from pikepdf import Array, Dictionary, Name

# What a damaged font program can raise inside fontTools; the face is then left as it was.
_FONT_ERRORS = (TTLibError, KeyError, AssertionError, ValueError, IndexError, EOFError, TypeError)


class _Disagree(Exception):
    """Two subsets of one face differ at the same glyph id: not subsets of one font file."""


Parsed = dict[tuple[str, bytes], TTFont]  # subsets read ahead: by face and bytes' digest


def read_subsets(pdf: pikepdf.Pdf, parsed: Parsed) -> None:
    """Read ahead the subsets of each face that a unit's PDF embeds, into `parsed`, for
    share_font_programs: the join's process reads each unit as it comes, while the others
    are laid out, and parsing the subsets was a third of the join that came after them."""
    for name, descendant in _mergeable(pdf):
        data = descendant.FontDescriptor.FontFile2.read_bytes()
        key = (name, hashlib.sha256(data).digest())
        if key in parsed:
            continue
        with contextlib.suppress(*_FONT_ERRORS):  # read again by the merge, which gives up
            parsed[key] = _parsed_subset(data)


def share_font_programs(pdf: pikepdf.Pdf, parsed: Parsed | None = None) -> None:
    """Point every font dictionary of a face at one merged TrueType program (its subsets
    taken from `parsed` when read ahead)."""
    parsed = {} if parsed is None else parsed
    faces: dict[str, list[pikepdf.Dictionary]] = {}
    for name, descendant in _mergeable(pdf):
        faces.setdefault(name, []).append(descendant)
    for name, descendants in sorted(faces.items()):
        drawn: dict[tuple[int, int], set[int]] = {}  # glyph ids drawn, by font program
        programs: dict[tuple[int, int], pikepdf.Stream] = {}
        for descendant in descendants:
            program = descendant.FontDescriptor.FontFile2
            programs[program.objgen] = program
            drawn.setdefault(program.objgen, set()).update(_drawn_glyphs(descendant))
        if len(programs) < 2:
            continue
        keys = sorted(programs)
        subsets = [(programs[k].read_bytes(), drawn[k]) for k in keys]
        merged = _merged_program(name, subsets, parsed)
        if merged is not None:
            _point_at(pdf, descendants, merged, set().union(*drawn.values()))


def _mergeable(pdf: pikepdf.Pdf) -> list[tuple[str, pikepdf.Dictionary]]:
    """Each descendant font that draws by glyph id from an embedded TrueType program, with
    the name of its face."""
    found = []
    for font in _type0_fonts(pdf):
        descendant = font.DescendantFonts[0]
        descriptor = descendant.get("/FontDescriptor")
        if (
            descendant.get("/Subtype") == Name.CIDFontType2
            and descendant.get("/CIDToGIDMap") == Name.Identity
            and descriptor is not None
            and "/FontFile2" in descriptor
        ):
            found.append((str(font.BaseFont), descendant))
    return found


def _type0_fonts(pdf: pikepdf.Pdf) -> list[pikepdf.Dictionary]:
    """Every composite (Type0) font dictionary the pages draw with: in their resources and
    those of the forms and patterns they draw (a folio's sheet page is a form). Walked from
    the pages, not over every object of the PDF: a long book has tens of thousands."""
    fonts: dict[tuple[int, int], pikepdf.Dictionary] = {}
    seen: set[tuple[int, int]] = set()
    pending = [page.obj.get("/Resources") for page in pdf.pages]
    while pending:
        resources = pending.pop()
        if not isinstance(resources, pikepdf.Dictionary):
            continue
        if resources.is_indirect:
            if resources.objgen in seen:
                continue
            seen.add(resources.objgen)
        for font in resources.get("/Font", Dictionary()).values():
            if font.get("/Subtype") == Name.Type0 and "/DescendantFonts" in font:
                key = font.objgen if font.is_indirect else (-1 - len(fonts), 0)
                fonts.setdefault(key, font)
        for kind in ("/XObject", "/Pattern"):
            pending += [
                item.get("/Resources") for item in resources.get(kind, Dictionary()).values()
            ]
    return [fonts[key] for key in sorted(fonts)]


def _drawn_glyphs(descendant: pikepdf.Dictionary) -> set[int]:
    """The glyph ids a CID font's /W gives widths for: those its unit draws."""
    widths, gids, index = descendant.get("/W", Array()), set(), 0
    while index < len(widths):
        first = int(widths[index])
        if isinstance(widths[index + 1], pikepdf.Array):  # c [w1 w2 ...]
            gids.update(range(first, first + len(widths[index + 1])))
            index += 2
        else:  # c_first c_last w
            gids.update(range(first, int(widths[index + 1]) + 1))
            index += 3
    return gids


def _point_at(
    pdf: pikepdf.Pdf, descendants: list[pikepdf.Dictionary], program: bytes, gids: set[int]
) -> None:
    """Make every descendant font of a face use the merged program (and, for PDF 1.4 and
    older, where WeasyPrint writes one, a CIDSet of the glyphs it now holds)."""
    stream = pdf.make_stream(zlib.compress(program, 9), Filter=Name.FlateDecode)
    stream.Length1 = len(program)
    bits = bytearray((max(gids, default=0) + 8) // 8)
    for gid in gids | {0}:
        bits[gid // 8] |= 0x80 >> (gid % 8)
    cid_set = pdf.make_stream(zlib.compress(bytes(bits), 9), Filter=Name.FlateDecode)
    for descendant in descendants:
        descendant.FontDescriptor.FontFile2 = stream
        if "/CIDSet" in descendant.FontDescriptor:
            descendant.FontDescriptor.CIDSet = cid_set


def _merged_program(
    face: str, subsets: list[tuple[bytes, set[int]]], parsed: Parsed
) -> bytes | None:
    """One TrueType program with every drawn glyph at its id; None if the subsets disagree."""
    by_data: dict[bytes, tuple[bytes, set[int]]] = {}
    for data, gids in subsets:
        key = hashlib.sha256(data).digest()
        by_data.setdefault(key, (data, set()))[1].update(gids)
    try:
        fonts = []
        for key, (data, gids) in by_data.items():
            font = parsed.pop((face, key), None)  # taken: the merge changes the base's
            fonts.append((_parsed_subset(data) if font is None else font, gids))
        if any("glyf" not in font for font, _gids in fonts):
            return None
        base = max((font for font, _gids in fonts), key=lambda font: font["maxp"].numGlyphs)
        glyphs = _drawn_outlines(fonts)
        order, outlines, metrics = base.getGlyphOrder(), base["glyf"].glyphs, base["hmtx"].metrics
        for name in order[1:]:  # .notdef stays the base's
            outlines[name], metrics[name] = glyphs.get(name, (Glyph(), (0, 0)))
        for font, _gids in fonts:
            if font is not base:
                _add_characters(base, font)
        out = io.BytesIO()
        base.save(out)
    except (_Disagree, *_FONT_ERRORS):
        return None
    return out.getvalue()


def _parsed_subset(data: bytes) -> TTFont:
    """A subset with its glyphs named by id (_gid_named) and the tables the merge reads
    parsed."""
    font = _gid_named(data)
    for tag in ("maxp", "glyf", "hmtx", "cmap"):
        if tag in font:
            font[tag]  # noqa: B018 - parsed now, not when first asked for
    return font


def _gid_named(data: bytes) -> TTFont:
    """A subset whose glyphs are named by id (.notdef, glyph00001, ...), the same in every
    subset of the face (a subset's own names come from its cmap, which differs)."""
    font = TTFont(io.BytesIO(data), recalcTimestamp=False)
    count = font["maxp"].numGlyphs
    font.setGlyphOrder([".notdef", *(f"glyph{gid:05d}" for gid in range(1, count))])
    return font


def _drawn_outlines(fonts: list[tuple[TTFont, set[int]]]) -> dict[str, tuple[Glyph, tuple]]:
    """Each drawn glyph's outline (decomposed) and metrics, by name, from a subset that draws
    it; a glyph two subsets draw differently is a disagreement."""
    found: dict[str, tuple[Glyph, tuple, object]] = {}
    for font, gids in fonts:
        order, glyf, hmtx = font.getGlyphOrder(), font["glyf"], font["hmtx"]
        for gid in sorted(g for g in gids if 0 < g < len(order)):
            name = order[gid]
            stored = getattr(glyf.glyphs[name], "data", b"")  # as stored, not decoded
            if stored[:1] >= b"\x80":  # numberOfContours < 0: a composite
                glyph = _decomposed(glyf, name)
                drawn: object = _outline(glyph, glyf)
            else:
                glyph, drawn = glyf.glyphs[name], stored
            known = found.setdefault(name, (glyph, hmtx.metrics[name], drawn))
            if known[1:] != (hmtx.metrics[name], drawn):
                raise _Disagree(name)
    return {name: (glyph, width) for name, (glyph, width, _drawn) in found.items()}


def _decomposed(glyf: object, name: str) -> Glyph:
    """A composite glyph as a simple one: its components drawn into one outline."""
    glyph = glyf[name]
    coordinates, ends, flags = glyph.getCoordinates(glyf)
    coordinates.toInt()
    simple = Glyph()
    simple.numberOfContours = len(ends)
    simple.coordinates, simple.endPtsOfContours = coordinates, list(ends)
    simple.flags = array("B", flags)
    simple.program = ttProgram.Program()
    simple.program.fromBytecode(b"")
    simple.recalcBounds(glyf)
    return simple


def _outline(glyph: Glyph, glyf: object) -> tuple:
    """What a simple glyph draws, to compare two subsets' copies of it."""
    if glyph.numberOfContours == 0:
        return ()
    coordinates, ends, flags = glyph.getCoordinates(glyf)
    return tuple(coordinates), tuple(ends), tuple(f & 1 for f in flags)


def _add_characters(base: TTFont, other: TTFont) -> None:
    """Add to base's cmap subtables the characters other maps (a PDF reader draws by glyph
    id, but the program's own cmap should hold every glyph it has for a character)."""
    subtables = {(t.platformID, t.platEncID, t.format): t for t in base["cmap"].tables}
    for table in other["cmap"].tables:
        mine = subtables.get((table.platformID, table.platEncID, table.format))
        if mine is None:
            continue
        for code, name in table.cmap.items():
            if mine.cmap.setdefault(code, name) != name:
                raise _Disagree(name)
