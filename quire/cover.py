"""A plain typographic cover, drawn from the title and authors when the book names no cover image.

The drawing depends only on the text, the size and the font files, and the PNG is written without
any time stamp or metadata, so the same book always gets the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1600, 2560  # the 1:1.6 ratio and size the stores ask for
BACKGROUND = (32, 45, 64)
INK = (244, 238, 226)
ACCENT = (196, 160, 92)
MARGIN = 150
TEXT_FONTS = (
    "charis-sil/CharisSIL-Regular.ttf",
    "noto-serif-cjk-sc/NotoSerifCJKsc-GB2312-Regular.ttf",
    # Arabic and Hebrew, shaped and set right to left by Pillow's Raqm layout.
    "fallback/noto-naskh-arabic/NotoNaskhArabic-Regular.ttf",
    "fallback/noto-serif-hebrew/NotoSerifHebrew-Regular.ttf",
)
ITALIC_FONTS = ("charis-sil/CharisSIL-Italic.ttf", *TEXT_FONTS)


def font_for(text: str, fonts_dir: Path, candidates: tuple[str, ...]) -> Path:
    """The first candidate font that has every character of the text (else the first one)."""
    paths = [fonts_dir / name for name in candidates if (fonts_dir / name).is_file()]
    if not paths:
        raise FileNotFoundError(f"no cover font in {fonts_dir}: expected {candidates[0]}")
    from fontTools.ttLib import TTFont  # here: quire.cover is imported before any font is read

    for path in paths:
        cmap = TTFont(path, lazy=True).getBestCmap() or {}
        if all(ord(c) in cmap or c.isspace() for c in text):
            return path
    return paths[0]


def wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    """Break text into lines no wider than `width` pixels (characters, if it has no spaces)."""
    units = text.split() if " " in text.strip() else list(text.strip())
    joiner = " " if " " in text.strip() else ""
    lines: list[str] = []
    for unit in units:
        trial = f"{lines[-1]}{joiner}{unit}" if lines else unit
        if lines and draw.textlength(trial, font=font) <= width:
            lines[-1] = trial
        else:
            lines.append(unit)
    return lines


def fitted(
    draw: ImageDraw.ImageDraw, text: str, path: Path, size: int, max_lines: int
) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest font size up to `size` at which the text fits in `max_lines` lines."""
    while True:
        font = ImageFont.truetype(str(path), size)
        lines = wrap(draw, text, font, WIDTH - 2 * MARGIN)
        fits = all(draw.textlength(line, font=font) <= WIDTH - 2 * MARGIN for line in lines)
        if (len(lines) <= max_lines and fits) or size <= 40:
            return font, lines
        size -= 8


def draw_block(
    draw: ImageDraw.ImageDraw, lines: list[str], font: ImageFont.FreeTypeFont, top: int, fill: tuple
) -> int:
    """Draw centred lines from `top` down; return the y just below the last one."""
    step = int(font.size * 1.22)
    for line in lines:
        draw.text((WIDTH // 2, top), line, font=font, fill=fill, anchor="mt")
        top += step
    return top


def cover_png(title: str, subtitle: str | None, authors: tuple[str, ...], fonts_dir: Path) -> bytes:
    """The cover as PNG bytes: title, subtitle and authors set on a plain ground."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 60, WIDTH - 61, HEIGHT - 61), outline=ACCENT, width=6)
    font, lines = fitted(draw, title, font_for(title, fonts_dir, TEXT_FONTS), 170, 4)
    bottom = draw_block(draw, lines, font, 620, INK)
    draw.line((WIDTH // 2 - 180, bottom + 70, WIDTH // 2 + 180, bottom + 70), fill=ACCENT, width=5)
    if subtitle:
        path = font_for(subtitle, fonts_dir, ITALIC_FONTS)
        font, lines = fitted(draw, subtitle, path, 80, 3)
        draw_block(draw, lines, font, bottom + 160, INK)
    if authors:
        names = ", ".join(authors)
        font, lines = fitted(draw, names, font_for(names, fonts_dir, TEXT_FONTS), 90, 2)
        draw_block(
            draw, lines, font, HEIGHT - 420 - (len(lines) - 1) * int(font.size * 1.22), ACCENT
        )
    buffer = io.BytesIO()
    # zlib's default level: as small within 3 %, in half the time of optimize=True (0.2 s)
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()
