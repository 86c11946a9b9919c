"""Re-create the book fonts in styles/fonts/ from Debian's font packages.

This script is provenance only: the build uses the committed files in
styles/fonts/, never this script. Running it again against the same Debian
packages gives byte-identical fonts (checked with --check).

Sources, all from Debian 12 "bookworm", section main, architecture all:

* fonts-sil-charis 6.101-1 (deb sha256
  bc1a774ed29af7be47aea74b0afbcffb1e379c9e61e3f322ccf60c9325ff88af):
  /usr/share/fonts/truetype/charis/CharisSIL-{Regular,Italic,Bold,BoldItalic}.ttf,
  Charis SIL version 6.101, SIL Open Font License 1.1. Copied unchanged.
* fonts-noto-cjk 1:20220127+repack1-1 (deb sha256
  4a2515eb6db3978b897fef9709ed0d2b1f4c6c4df4d83d6c4ef65f71f1b1f502):
  /usr/share/fonts/opentype/noto/NotoSerifCJK-{Regular,Bold}.ttc, face 2
  ("Noto Serif CJK SC", version 2.001), SIL Open Font License 1.1. Subset with
  fontTools to the GB 2312 repertoire (all 7445 characters: 6763 hanzi plus
  GB 2312's symbols) plus ASCII, Latin-1, general punctuation, CJK symbols and
  punctuation, vertical and compatibility forms and the full-width forms. The
  'locl' feature (Japanese, Korean and traditional Chinese glyph variants) is
  dropped, which halves the size; metrics, vertical metrics and the name table
  (with the licence fields) are kept. The CFF (CID-keyed) outlines are then
  converted to TrueType (quadratic) outlines with fontTools' cu2qu: once
  WeasyPrint embeds a CID-keyed CFF subset, MuPDF draws nothing and Ghostscript
  draws boxes for its glyphs, while every engine reads TrueType outlines. The
  CFF hints and the CFF-only VORG table go with the CFF table; the TrueType
  glyphs are unhinted.
  Faces 0, 3 and 1 of the same files ("Noto Serif CJK JP", "TC", "KR"), the same way
  (CJK_FACES): JP subset to JIS X 0208, TC to Big5's symbols and level 1 hanzi, KR to
  KS X 1001 without its hanja plus the Hangul jamo blocks; each with EXTRA_RANGES.
  The JP, TC and KR files were made with fontTools 4.69.1 (which gives SC's GSUB and
  GPOS bytes in another order than the committed SC files: same size, same glyphs).

The fallback faces, in styles/fonts/fallback/ (drawn only for what the faces above lack):

* fonts-noto-core 20201225-1 (Debian 12, deb sha256
  58f4f0bb6720f919f92096b3508e1412a0f1544424ade6c5b5bf1eb694dd64ba):
  /usr/share/fonts/truetype/noto/NotoSerifDevanagari-{Regular,Bold}.ttf, version
  2.001, SIL Open Font License 1.1. Copied unchanged (260 KB each, 272 characters).
  From the same package, for right-to-left books: NotoNaskhArabic-{Regular,Bold}.ttf
  (version 2.004, 180 KB each, 1,122 characters: Arabic, Arabic Supplement and the
  presentation forms) and NotoSerifHebrew-{Regular,Bold}.ttf (version 2.000, 31 KB each,
  145 characters: Hebrew with its points and cantillation marks), copied unchanged.
* Noto Emoji, the monochrome outline emoji face (Google), version 3.006, SIL Open
  Font License 1.1, from the npm package @expo-google-fonts/noto-emoji 0.4.7
  (`npm pack @expo-google-fonts/noto-emoji@0.4.7`; Debian 12 has only the colour
  bitmap face): package/400Regular/NotoEmoji_400Regular.ttf, copied unchanged as
  NotoEmoji-Regular.ttf; its OFL.txt is the package's LICENSE_FONT.

Usage, from the repository root, either with the packages installed::

    apt-get install fonts-sil-charis fonts-noto-cjk
    python tools/make_fonts.py

or with the .deb files fetched into a folder (no installation needed)::

    apt-get download fonts-sil-charis fonts-noto-cjk fonts-noto-core
    npm pack @expo-google-fonts/noto-emoji@0.4.7
    python tools/make_fonts.py --debs .

(the emoji face is always read from the npm package's .tgz, in --debs or --npm).

Add --check to rebuild into a scratch folder and compare with what is
committed instead of overwriting it. The OFL.txt files are written from the
licence text in the packages' /usr/share/doc/*/copyright.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "styles" / "fonts"

CHARIS_PACKAGE = ("fonts-sil-charis", "6.101-1")
NOTO_PACKAGE = ("fonts-noto-cjk", "1:20220127+repack1-1")
CHARIS_DIR = "usr/share/fonts/truetype/charis"
NOTO_DIR = "usr/share/fonts/opentype/noto"
CHARIS_STYLES = ("Regular", "Italic", "Bold", "BoldItalic")
NOTO_WEIGHTS = ("Regular", "Bold")
NOTO_SC_FACE = 2  # face index of "Noto Serif CJK SC" in NotoSerifCJK-*.ttc
CU2QU_ERROR = 1.0  # cu2qu's allowed deviation from the cubic curves, in font units (of 1000)

CHARIS_OUT = "charis-sil"

NOTO_CORE_PACKAGE = ("fonts-noto-core", "20201225-1")
NOTO_CORE_DIR = "usr/share/fonts/truetype/noto"
DEVANAGARI_OUT = "fallback/noto-serif-devanagari"
DEVANAGARI_STYLES = ("Regular", "Bold")
# The other faces of fonts-noto-core shipped unchanged: (file stem, folder, what they are).
NOTO_CORE_FACES = (
    ("NotoNaskhArabic", "fallback/noto-naskh-arabic", "Noto Naskh Arabic, version 2.004"),
    ("NotoSerifHebrew", "fallback/noto-serif-hebrew", "Noto Serif Hebrew, version 2.000"),
)
EMOJI_TGZ = "expo-google-fonts-noto-emoji-0.4.7.tgz"
EMOJI_MEMBER = "package/400Regular/NotoEmoji_400Regular.ttf"
EMOJI_LICENCE = "package/LICENSE_FONT"
EMOJI_OUT = "fallback/noto-emoji"

# Code point ranges added to GB 2312 in the CJK subset.
EXTRA_RANGES = (
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 supplement (· × ÷ ° …)
    (0x2000, 0x206F),  # general punctuation (— … ‘’ “” ‧ ※ …)
    (0x2E3A, 0x2E3B),  # two- and three-em dashes
    (0x3000, 0x303F),  # CJK symbols and punctuation (、。「」『』《》〈〉〇 …)
    (0xFE10, 0xFE1F),  # vertical forms
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # half-width and full-width forms (，：；？！（） …)
)


def gb2312_repertoire() -> set[str]:
    """Every character that a valid two-byte GB 2312 code decodes to."""
    chars: set[str] = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.update(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def double_byte_repertoire(codec: str, highs: range, lows: range) -> set[str]:
    """Every character that a valid two-byte code of a legacy encoding decodes to."""
    chars: set[str] = set()
    for high in highs:
        for low in lows:
            try:
                chars.update(bytes((high, low)).decode(codec))
            except UnicodeDecodeError:
                continue
    return chars


def jis_repertoire() -> set[str]:
    """JIS X 0208 (kana, symbols, level 1 and 2 kanji): EUC-JP's two-byte codes."""
    return double_byte_repertoire("euc_jp", range(0xA1, 0xFF), range(0xA1, 0xFF))


def big5_repertoire() -> set[str]:
    """Big5's symbols and level 1 hanzi (the 5401 common ones): codes A140-A3BF, A440-C67E."""
    lows = [*range(0x40, 0x7F), *range(0xA1, 0xFF)]
    chars = double_byte_repertoire("big5", range(0xA1, 0xC7), lows)
    return {c for c in chars if c.encode("big5") <= b"\xc6\x7e"}


def ksx1001_repertoire() -> set[str]:
    """KS X 1001 without its hanja: symbols, jamo, kana and the 2350 Hangul syllables."""
    return double_byte_repertoire("euc_kr", range(0xA1, 0xC9), range(0xA1, 0xFF))


# The Noto Serif CJK faces shipped: (face index in the .ttc, folder, file stem, repertoire,
# extra ranges beyond EXTRA_RANGES).
CJK_FACES = (
    (2, "noto-serif-cjk-sc", "NotoSerifCJKsc-GB2312", gb2312_repertoire, ()),
    (0, "noto-serif-cjk-jp", "NotoSerifCJKjp-JIS0208", jis_repertoire, ()),
    (3, "noto-serif-cjk-tc", "NotoSerifCJKtc-Big5L1", big5_repertoire, ()),
    (
        1,
        "noto-serif-cjk-kr",
        "NotoSerifCJKkr-KSX1001",
        ksx1001_repertoire,
        ((0x1100, 0x11FF), (0x3130, 0x318F)),  # Hangul Jamo and compatibility jamo
    ),
)


def cjk_unicodes(repertoire: set[str] | None = None, extra: tuple = ()) -> list[int]:
    """The code points kept in a CJK subset (by default the SC face's: GB 2312)."""
    chars = gb2312_repertoire() if repertoire is None else repertoire
    points = {ord(c) for c in chars}
    for first, last in (*EXTRA_RANGES, *extra):
        points.update(range(first, last + 1))
    return sorted(points)


def subset_cjk(
    source: Path, target: Path, face: int = NOTO_SC_FACE, unicodes: list[int] | None = None
) -> None:
    """Write one face of a Noto Serif CJK .ttc, subset, as a TrueType-outline font."""
    font = TTFont(source, fontNumber=face, recalcTimestamp=False)
    options = subset.Options()
    options.layout_features = [f for f in options.layout_features if f != "locl"] + [
        "palt",
        "halt",
        "vpal",
        "vhal",
        "fwid",
        "hwid",
        "pwid",
    ]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.name_legacy = True
    options.notdef_outline = True
    options.hinting = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=cjk_unicodes() if unicodes is None else unicodes)
    subsetter.subset(font)
    cff = io.BytesIO()
    font.save(cff)
    target.write_bytes(to_truetype(cff.getvalue()))


def to_truetype(otf: bytes) -> bytes:
    """The font of an OTF file with CFF outlines, given TrueType outlines (cu2qu), as bytes."""
    font = TTFont(io.BytesIO(otf), recalcTimestamp=False)
    order = font.getGlyphOrder()
    outlines = font.getGlyphSet()
    scale = font["head"].unitsPerEm / 1000
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(None)
        # TrueType contours run clockwise, CFF ones counter-clockwise.
        outlines[name].draw(Cu2QuPen(pen, CU2QU_ERROR * scale, reverse_direction=True))
        glyf[name] = pen.glyph()
    del font["CFF "], font["VORG"]
    font["loca"], font["glyf"] = newTable("loca"), glyf
    font["head"].indexToLocFormat = font["head"].glyphDataFormat = 0
    _truetype_maxp(font["maxp"])
    post = font["post"]
    post.formatType, post.extraNames, post.mapping = 3.0, [], {}  # no names for cid glyphs
    font.sfntVersion = "\x00\x01\x00\x00"
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _truetype_maxp(maxp: object) -> None:
    """Turn a CFF font's version 0.5 maxp into TrueType's 1.0 (counts recomputed on save)."""
    maxp.tableVersion = 0x00010000
    maxp.maxZones = 1
    for field in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 0)


def licence_block(copyright_file: Path, name: str) -> str:
    """The text of the stand-alone 'License: NAME' paragraph of a Debian copyright file."""
    lines = copyright_file.read_text(encoding="utf-8").splitlines() + [""]
    heads = [i for i, line in enumerate(lines) if line == f"License: {name}"]
    start = next(i + 1 for i in heads if lines[i + 1].startswith(" "))
    body: list[str] = []
    for line in lines[start:]:
        if not line.startswith(" "):
            break
        body.append("" if line.strip() == "." else line[1:])
    return "\n".join(body).strip() + "\n"


def copyright_field(copyright_file: Path) -> str:
    """The 'Copyright:' field of the 'Files: *' paragraph of a Debian copyright file."""
    lines = copyright_file.read_text(encoding="utf-8").splitlines()
    start = lines.index("Files: *") + 1
    out: list[str] = []
    for line in lines[start:]:
        if line.startswith("Copyright:"):
            out.append(line.removeprefix("Copyright:").strip())
        elif out and line.startswith(" "):
            out.append("" if line.strip() == "." else line[1:])
        elif out:
            break
    return "\n".join(out).strip() + "\n"


def write_charis(root: Path, out: Path) -> None:
    """Copy the four Charis SIL styles and write their OFL.txt."""
    folder = out / CHARIS_OUT
    folder.mkdir(parents=True, exist_ok=True)
    for style in CHARIS_STYLES:
        shutil.copyfile(
            root / CHARIS_DIR / f"CharisSIL-{style}.ttf", folder / f"CharisSIL-{style}.ttf"
        )
    doc = root / "usr/share/doc/fonts-sil-charis/copyright"
    text = licence_block(doc, "OFL-1.1-RFN")
    text += "\n\n-----------------------------------------------------------\n"
    text += "Notice on the design of the basic character set (from the Debian\n"
    text += "copyright file of fonts-sil-charis 6.101-1):\n\n"
    text += copyright_field(doc)
    (folder / "OFL.txt").write_text(text, encoding="utf-8")


def write_noto(root: Path, out: Path) -> None:
    """Subset the Regular and Bold faces of each shipped Noto Serif CJK region (CJK_FACES)."""
    for face, place, stem, repertoire, extra in CJK_FACES:
        folder = out / place
        folder.mkdir(parents=True, exist_ok=True)
        unicodes = cjk_unicodes(repertoire(), extra)
        for weight in NOTO_WEIGHTS:
            source = root / NOTO_DIR / f"NotoSerifCJK-{weight}.ttc"
            subset_cjk(source, folder / f"{stem}-{weight}.ttf", face, unicodes)
        write_noto_licence(root, folder, face, repertoire.__doc__ or "")


def write_noto_licence(root: Path, folder: Path, face: int, repertoire: str) -> None:
    """Write the OFL.txt of one Noto Serif CJK subset folder."""
    font = TTFont(root / NOTO_DIR / "NotoSerifCJK-Regular.ttc", fontNumber=face)
    doc = root / "usr/share/doc/fonts-noto-cjk/copyright"
    family = font["name"].getDebugName(1)
    what = "the GB 2312 repertoire" if face == NOTO_SC_FACE else repertoire.split(":")[0].strip()
    header = (
        f"{font['name'].getDebugName(0)}\n"
        f"Copyright {copyright_field(doc).strip()}\n\n"
        f"{family}, version 2.001, from the Debian package fonts-noto-cjk\n"
        "1:20220127+repack1-1. The files in this folder are a Modified Version:\n"
        f"a subset to {what} plus punctuation, with the outlines\n"
        "converted from CFF to TrueType, made by tools/make_fonts.py with\n"
        "fontTools. The font names are unchanged; the\n"
        "original declares no Reserved Font Name.\n\n"
    )
    (folder / "OFL.txt").write_text(header + licence_block(doc, "SIL-1.1"), encoding="utf-8")


def write_devanagari(root: Path, out: Path) -> None:
    """Copy the Regular and Bold Noto Serif Devanagari faces and write their OFL.txt."""
    folder = out / DEVANAGARI_OUT
    folder.mkdir(parents=True, exist_ok=True)
    for style in DEVANAGARI_STYLES:
        name = f"NotoSerifDevanagari-{style}.ttf"
        shutil.copyfile(root / NOTO_CORE_DIR / name, folder / name)
    font = TTFont(root / NOTO_CORE_DIR / "NotoSerifDevanagari-Regular.ttf")
    doc = root / "usr/share/doc/fonts-noto-core/copyright"
    header = (
        f"{font['name'].getDebugName(0)}\n\n"
        "Noto Serif Devanagari, version 2.001, from the Debian package fonts-noto-core\n"
        "20201225-1, unchanged.\n\n"
        "SIL OPEN FONT LICENSE Version 1.1 - 26 February 2007\n\n"
    )  # Debian's copy of the licence text starts at its preamble
    (folder / "OFL.txt").write_text(header + licence_block(doc, "OFL-1.1"), encoding="utf-8")


def write_noto_core(root: Path, out: Path, stem: str, place: str, what: str) -> None:
    """Copy the Regular and Bold faces of one fonts-noto-core family and write their OFL.txt."""
    folder = out / place
    folder.mkdir(parents=True, exist_ok=True)
    for style in ("Regular", "Bold"):
        name = f"{stem}-{style}.ttf"
        shutil.copyfile(root / NOTO_CORE_DIR / name, folder / name)
    font = TTFont(root / NOTO_CORE_DIR / f"{stem}-Regular.ttf")
    doc = root / "usr/share/doc/fonts-noto-core/copyright"
    header = (
        f"{font['name'].getDebugName(0)}\n\n"
        f"{what}, from the Debian package fonts-noto-core 20201225-1, unchanged.\n\n"
        "SIL OPEN FONT LICENSE Version 1.1 - 26 February 2007\n\n"
    )  # Debian's copy of the licence text starts at its preamble
    (folder / "OFL.txt").write_text(header + licence_block(doc, "OFL-1.1"), encoding="utf-8")


def write_emoji(tgz: Path, out: Path) -> None:
    """Copy Noto Emoji (monochrome) and its licence out of the npm package's tarball."""
    folder = out / EMOJI_OUT
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tgz) as archive:
        font = archive.extractfile(EMOJI_MEMBER).read()
        licence = archive.extractfile(EMOJI_LICENCE).read().decode("utf-8")
    (folder / "NotoEmoji-Regular.ttf").write_bytes(font)
    header = (
        "Noto Emoji, version 3.006, from the npm package @expo-google-fonts/noto-emoji\n"
        "0.4.7 (400Regular/NotoEmoji_400Regular.ttf), unchanged.\n\n"
    )
    (folder / "OFL.txt").write_text(header + licence, encoding="utf-8")


def extract_debs(debs: Path, scratch: Path) -> Path:
    """Unpack the two packages' .deb files from a folder; return the unpacked root."""
    for package, version in (CHARIS_PACKAGE, NOTO_PACKAGE, NOTO_CORE_PACKAGE):
        found = sorted(debs.glob(f"{package}_*.deb"))
        if not found:
            sys.exit(f"no {package}_*.deb in {debs}")
        deb = found[-1]
        got = subprocess.run(
            ["dpkg-deb", "-f", str(deb), "Version"], check=True, capture_output=True, text=True
        ).stdout.strip()
        if got != version:
            print(f"warning: {deb.name} is version {got}, expected {version}", file=sys.stderr)
        subprocess.run(["dpkg-deb", "-x", str(deb), str(scratch)], check=True)
    return scratch


def check_installed() -> None:
    """Warn when the installed packages are not the documented versions."""
    for package, version in (CHARIS_PACKAGE, NOTO_PACKAGE, NOTO_CORE_PACKAGE):
        got = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True
        ).stdout.strip()
        if got != version:
            print(
                f"warning: {package} is {got or 'not installed'}, expected {version}",
                file=sys.stderr,
            )


def build(root: Path, out: Path, npm: Path) -> None:
    """Write every font and licence file into out."""
    write_charis(root, out)
    write_noto(root, out)
    write_devanagari(root, out)
    for stem, place, what in NOTO_CORE_FACES:
        write_noto_core(root, out, stem, place, what)
    write_emoji(npm / EMOJI_TGZ, out)


def compare(built: Path, committed: Path) -> bool:
    """Report files that differ between a fresh build and the committed ones."""
    same = True
    for path in sorted(p for p in built.rglob("*") if p.is_file()):
        other = committed / path.relative_to(built)
        ok = other.is_file() and filecmp.cmp(path, other, shallow=False)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        print(f"{'same' if ok else 'DIFFERENT'}  {digest}  {path.relative_to(built)}")
        same &= ok
    return same


def main() -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--debs", type=Path, help="folder with the two .deb files")
    parser.add_argument("--npm", type=Path, help=f"folder with {EMOJI_TGZ} (default: --debs)")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write (styles/fonts)")
    parser.add_argument("--check", action="store_true", help="compare with --out, write nothing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        if args.debs:
            root = extract_debs(args.debs, scratch / "root")
        else:
            check_installed()
            root = Path("/")
        npm = args.npm or args.debs or Path(".")
        if not args.check:
            build(root, args.out, npm)
            return 0
        build(root, scratch / "out", npm)
        return 0 if compare(scratch / "out", args.out) else 1


if __name__ == "__main__":
    sys.exit(main())
