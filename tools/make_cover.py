"""Draw the sample book's cover: `python tools/make_cover.py [--out PATH]`.

Writes manuscript/cover.jpg, 1600 x 2560 px, JPEG quality 88. The output is
deterministic: no randomness, no timestamps, no metadata. The same Pillow
version and the same font files give the same bytes.

Design: a dark ink-blue ground with a thin gold frame; the title, subtitle
and imprint in a serif face; and a schematic gold line tracing the Argun,
Amur and Ussuri rivers, the course of the eastern Russia–China border, with
the Amur's name in Russian and Chinese beneath it.

Fonts come from styles/fonts/ (Libertinus Serif if present, otherwise
Charis SIL); if neither is there, Debian's DejaVu Serif is used and a note
is printed. The Chinese characters use Noto Serif CJK SC from the same
folder, and are left out if it is missing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
FONT_DIR = ROOT / "styles" / "fonts"
DEFAULT_OUT = ROOT / "manuscript" / "cover.jpg"

WIDTH, HEIGHT = 1600, 2560
SCALE = 2  # draw at twice the size, then downsample, for smooth edges

INK_TOP = (14, 27, 44)
INK_BOTTOM = (24, 40, 60)
GOLD = (201, 164, 92)
GOLD_DIM = (139, 117, 74)
CREAM = (243, 234, 214)
BORDER_RED = (168, 66, 58)

TITLE_LINES = ["Russia–China", "Relations"]
SUBTITLE = "A Short History, from Nerchinsk to 2012"
IMPRINT = "QUIRE EDITIONS"

# The eastern border, schematic, in the coordinates of manuscript/border-map.svg:
# up the Argun from the Mongolian border, down the Amur to Khabarovsk, then
# up the Ussuri towards Lake Khanka.
BORDER_RIVERS = [
    (132, 228), (172, 200), (205, 150), (228, 99), (254, 61), (287, 72),
    (337, 62), (386, 85), (419, 145), (452, 202), (485, 237), (535, 265),
    (561, 311), (617, 320), (667, 306), (693, 290), (684, 315), (667, 343),
    (662, 375), (650, 398), (644, 412), (634, 440),
]
SHILKA = [(150, 30), (170, 35), (210, 50), (254, 61)]
LOWER_AMUR = [(693, 290), (702, 284), (733, 237), (766, 191), (800, 160)]
SUNGARI = [(470, 405), (540, 370), (590, 335), (617, 320)]
ZEYA = [(470, 10), (462, 80), (458, 140), (452, 202)]


def find_font(style: str) -> Path:
    """Return a serif font file for style 'Regular', 'Bold' or 'Italic'."""
    candidates = []
    for family in ("LibertinusSerif", "CharisSIL"):
        candidates += sorted(FONT_DIR.rglob(f"{family}-{style}.otf"))
        candidates += sorted(FONT_DIR.rglob(f"{family}-{style}.ttf"))
    if candidates:
        return candidates[0]
    debian = {
        "Regular": "DejaVuSerif.ttf",
        "Bold": "DejaVuSerif-Bold.ttf",
        "Italic": "DejaVuSerif-Italic.ttf",
    }[style]
    fallback = Path("/usr/share/fonts/truetype/dejavu") / debian
    if fallback.exists():
        print(f"make_cover: no serif font in {FONT_DIR}; using {fallback}", file=sys.stderr)
        return fallback
    raise SystemExit(f"make_cover: no serif font found for style {style}")


def find_cjk_font() -> Path | None:
    found = sorted(FONT_DIR.rglob("NotoSerifCJK*-Regular.ttf"))
    return found[0] if found else None


def catmull_rom(points, steps=16):
    """Smooth a polyline through its points with a Catmull-Rom spline."""
    if len(points) < 3:
        return list(points)
    pts = [points[0]] + list(points) + [points[-1]]
    out = []
    for i in range(1, len(pts) - 2):
        p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
        for s in range(steps):
            t = s / steps
            t2, t3 = t * t, t * t * t
            out.append(tuple(
                0.5 * (2 * p1[k] + (-p0[k] + p2[k]) * t
                       + (2 * p0[k] - 5 * p1[k] + 4 * p2[k] - p3[k]) * t2
                       + (-p0[k] + 3 * p1[k] - 3 * p2[k] + p3[k]) * t3)
                for k in (0, 1)))
    out.append(points[-1])
    return out


def map_to_cover(points, box):
    """Fit map coordinates into box = (left, top, right, bottom), in drawing pixels."""
    xs = [p[0] for p in BORDER_RIVERS]
    ys = [p[1] for p in BORDER_RIVERS]
    left, top, right, bottom = box
    scale = min((right - left) / (max(xs) - min(xs)), (bottom - top) / (max(ys) - min(ys)))
    ox = left + ((right - left) - scale * (max(xs) - min(xs))) / 2
    oy = top + ((bottom - top) - scale * (max(ys) - min(ys))) / 2
    return [(ox + (x - min(xs)) * scale, oy + (y - min(ys)) * scale) for x, y in points]


def dashed(draw, points, dash, gap, fill, width):
    """Draw a dashed polyline."""
    on, remaining = True, dash
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        seg = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5
        pos = 0.0
        while pos < seg:
            step = min(remaining, seg - pos)
            if on:
                a = pos / seg
                b = (pos + step) / seg
                draw.line([(x0 + (x1 - x0) * a, y0 + (y1 - y0) * a),
                           (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b)], fill=fill, width=width)
            pos += step
            remaining -= step
            if remaining <= 0:
                on = not on
                remaining = dash if on else gap


def polyline(draw, points, fill, width):
    draw.line(points, fill=fill, width=width, joint="curve")
    r = width / 2
    for x, y in (points[0], points[-1]):
        draw.ellipse([x - r, y - r, x + r, y + r], fill=fill)


def centred(draw, y, text, font, fill, tracking=0):
    """Draw text centred horizontally with its top at y; return the bottom."""
    w = WIDTH * SCALE
    if tracking:
        widths = [draw.textlength(ch, font=font) for ch in text]
        total = sum(widths) + tracking * (len(text) - 1)
        x = (w - total) / 2
        for ch, cw in zip(text, widths):
            draw.text((x, y), ch, font=font, fill=fill, anchor="la")
            x += cw + tracking
    else:
        draw.text((w / 2, y), text, font=font, fill=fill, anchor="ma")
    bbox = draw.textbbox((w / 2, y), text, font=font, anchor="ma")
    return bbox[3]


def make_cover(out: Path) -> None:
    S = SCALE
    W, H = WIDTH * S, HEIGHT * S
    img = Image.new("RGB", (W, H), INK_TOP)
    draw = ImageDraw.Draw(img)

    # Ground: a gentle vertical gradient.
    for y in range(H):
        t = y / (H - 1)
        colour = tuple(round(INK_TOP[k] + (INK_BOTTOM[k] - INK_TOP[k]) * t) for k in range(3))
        draw.line([(0, y), (W, y)], fill=colour)

    # Frame: a fine double gold rule.
    for inset, width in ((64, 4), (84, 2)):
        i = inset * S
        draw.rectangle([i, i, W - i, H - i], outline=GOLD_DIM, width=width * S)

    regular = find_font("Regular")
    bold = find_font("Bold")
    italic = find_font("Italic")

    # Title.
    title_font = ImageFont.truetype(str(bold), 176 * S)
    y = 330 * S
    for line in TITLE_LINES:
        bottom = centred(draw, y, line, title_font, CREAM)
        y = bottom + 40 * S

    # A short gold rule, then the subtitle.
    rule_y = y + 50 * S
    draw.line([(W / 2 - 170 * S, rule_y), (W / 2 + 170 * S, rule_y)], fill=GOLD, width=3 * S)
    sub_font = ImageFont.truetype(str(italic), 70 * S)
    centred(draw, rule_y + 70 * S, SUBTITLE, sub_font, GOLD)

    # The rivers of the eastern border, drawn on their own layer and clipped
    # to the inside of the frame.
    layer = Image.new("RGB", (W, H), (0, 0, 0))
    rivers = ImageDraw.Draw(layer)
    box = (170 * S, 1330 * S, 1430 * S, 2080 * S)
    for course, width, colour in (
        (SHILKA, 5, GOLD_DIM), (ZEYA, 5, GOLD_DIM),
        (SUNGARI, 5, GOLD_DIM), (LOWER_AMUR, 9, GOLD),
    ):
        polyline(rivers, catmull_rom(map_to_cover(course, box)), colour, width * S)
    main = catmull_rom(map_to_cover(BORDER_RIVERS, box))
    polyline(rivers, main, GOLD, 11 * S)
    # The border itself, as a fine dashed red line beside the river.
    offset = [(x + 20 * S, y + 20 * S) for x, y in main]
    dashed(rivers, offset, 26 * S, 16 * S, BORDER_RED, 4 * S)
    frame = Image.new("L", (W, H), 0)
    clip = 110 * S
    ImageDraw.Draw(frame).rectangle([clip, clip, W - clip, H - clip], fill=255)
    drawn = layer.convert("L").point(lambda v: 255 if v else 0)
    img.paste(layer, (0, 0), ImageChops.multiply(drawn, frame))

    # The river's two names, Russian and Chinese.
    name_y = 2170 * S
    ru_font = ImageFont.truetype(str(regular), 60 * S)
    cjk = find_cjk_font()
    ru = "Амур"
    dot = "  ·  "
    if cjk is not None:
        zh_font = ImageFont.truetype(str(cjk), 56 * S)
        zh = "黑龙江"
        w_ru = draw.textlength(ru, font=ru_font)
        w_dot = draw.textlength(dot, font=ru_font)
        w_zh = draw.textlength(zh, font=zh_font)
        x = (W - (w_ru + w_dot + w_zh)) / 2
        draw.text((x, name_y), ru, font=ru_font, fill=GOLD_DIM, anchor="ls")
        draw.text((x + w_ru, name_y), dot, font=ru_font, fill=GOLD_DIM, anchor="ls")
        draw.text((x + w_ru + w_dot, name_y), zh, font=zh_font, fill=GOLD_DIM, anchor="ls")
    else:
        draw.text((W / 2, name_y), ru, font=ru_font, fill=GOLD_DIM, anchor="ms")

    # Imprint.
    imprint_font = ImageFont.truetype(str(regular), 54 * S)
    centred(draw, 2330 * S, IMPRINT, imprint_font, CREAM, tracking=14 * S)

    cover = img.resize((WIDTH, HEIGHT), Image.LANCZOS)
    out.parent.mkdir(parents=True, exist_ok=True)
    cover.save(out, "JPEG", quality=88, optimize=True, progressive=False, subsampling=0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output JPEG path")
    args = parser.parse_args(argv)
    make_cover(args.out)
    print(f"make_cover: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
