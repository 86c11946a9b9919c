"""Printer profiles: what each print-on-demand service accepts, as data.

All lengths are in inches. Sources (read in November 2026; a service may change its rules, so
check its own help pages before a first upload):

- KDP: Amazon KDP Help, "Paperback Submission Guidelines", "Set Trim Size, Bleed, and
  Margins" (trim sizes, the gutter table by page count, 0.25 in outside/top/bottom without bleed
  and 0.375 in with it, 0.125 in bleed, 24–828 pages) and "Create a Paperback Cover" (spine
  width = pages × paper thickness: white 0.002252, cream 0.0025, colour 0.002347 in per page;
  no spine text under 79 pages; 0.0625 in of spine on each side of spine text; text 0.125 in
  inside the trim; the barcode area 2 × 1.2 in, 0.25 in from the spine and the bottom trim).
- IngramSpark: "File Creation Guide" and the IngramSpark blog "File Requirements for Print
  Books" (2017): margins of at least 0.5 in from the trim on every side, 0.125 in bleed, no
  printer's marks in the interior, fonts embedded; at least 18 pages (IngramSpark FAQ). Its
  paper caliper per page is taken as the same as KDP's white and cream stocks (50# white,
  50# creme), the figures third-party guides give for it; the cover template generator in an
  IngramSpark account gives the exact spine for a title and should be compared once.
  IngramSpark's spine-text threshold is not stated in a public page found for this table; 48
  pages is the figure its templates are commonly reported to use.
"""

from __future__ import annotations

from dataclasses import dataclass

TRIM_TOLERANCE = 0.01  # inches: 148 mm is 5.827 in, which a printer lists as 5.83
COVER_TOLERANCE = 0.0625  # inches: how far a cover may be from the formula (KDP: 1/16 in)


@dataclass(frozen=True)
class Profile:
    """One print-on-demand service's rules for a paperback."""

    key: str
    name: str
    trims: tuple[tuple[float, float], ...]
    paper_per_page: dict[str, float]  # inches of spine per page, by paper stock
    min_pages: int
    max_pages: int
    # (up to this many pages, minimum inside margin); beyond the last row, `inside_beyond`.
    inside_margins: tuple[tuple[int, float], ...]
    inside_beyond: float
    outside_margin: float  # outside, top and bottom, without bleed
    outside_margin_bleed: float  # the same, when the page bleeds
    bleed: float
    spine_text_pages: int  # fewer pages than this: nothing may be printed on the spine
    spine_clearance: float  # blank spine on each side of spine text
    cover_safe: float  # text on the front and back this far inside the trim
    barcode_box: tuple[float, float]  # width, height of the barcode area on the back
    barcode_offset: float  # its distance from the spine and from the bottom trim
    marks_in_interior: bool  # may the interior carry crop marks?

    def inside_margin(self, pages: int) -> float:
        """The minimum inside (gutter) margin for a book of this many pages."""
        return next((m for limit, m in self.inside_margins if pages <= limit), self.inside_beyond)

    def spine_width(self, pages: int, paper: str) -> float:
        """The spine's width in inches: pages times the paper's thickness per page."""
        return pages * self.paper_per_page[paper]

    def has_trim(self, width: float, height: float) -> bool:
        """True if this service prints this trim size."""
        return any(
            abs(width - w) <= TRIM_TOLERANCE and abs(height - h) <= TRIM_TOLERANCE
            for w, h in self.trims
        )

    def trim_names(self) -> str:
        """The trim sizes, for a message: '5 × 8, 5.25 × 8, ...'."""
        return ", ".join(f"{w:g} × {h:g}" for w, h in self.trims)


KDP = Profile(
    key="kdp",
    name="KDP Print",
    trims=(
        (5.0, 8.0),
        (5.06, 7.81),
        (5.25, 8.0),
        (5.5, 8.5),
        (6.0, 9.0),
        (6.14, 9.21),
        (6.69, 9.61),
        (7.0, 10.0),
        (7.44, 9.69),
        (7.5, 9.25),
        (8.0, 10.0),
        (8.25, 6.0),
        (8.25, 8.25),
        (8.5, 8.5),
        (8.5, 11.0),
        (8.27, 11.69),
        (8.25, 11.0),
    ),  # fmt: skip
    paper_per_page={"white": 0.002252, "cream": 0.0025, "colour": 0.002347},
    min_pages=24,
    max_pages=828,
    inside_margins=((150, 0.375), (300, 0.5), (500, 0.625), (700, 0.75)),
    inside_beyond=0.875,
    outside_margin=0.25,
    outside_margin_bleed=0.375,
    bleed=0.125,
    spine_text_pages=79,
    spine_clearance=0.0625,
    cover_safe=0.125,
    barcode_box=(2.0, 1.2),
    barcode_offset=0.25,
    marks_in_interior=False,
)

INGRAMSPARK = Profile(
    key="ingramspark",
    name="IngramSpark",
    trims=(
        (4.0, 6.0),
        (4.25, 7.0),
        (4.37, 7.0),
        (5.0, 8.0),
        (5.06, 7.81),
        (5.25, 8.0),
        (5.5, 8.5),
        (5.83, 8.27),
        (6.0, 9.0),
        (6.14, 9.21),
        (6.69, 9.61),
        (7.0, 10.0),
        (7.44, 9.69),
        (7.5, 9.25),
        (8.0, 8.0),
        (8.0, 10.0),
        (8.25, 11.0),
        (8.27, 11.69),
        (8.5, 8.5),
        (8.5, 11.0),
    ),  # fmt: skip
    paper_per_page={"white": 0.002252, "cream": 0.0025, "colour": 0.002252},
    min_pages=18,
    max_pages=1200,
    inside_margins=(),
    inside_beyond=0.5,
    outside_margin=0.5,
    outside_margin_bleed=0.5,
    bleed=0.125,
    spine_text_pages=48,
    spine_clearance=0.0625,
    cover_safe=0.125,
    barcode_box=(2.0, 1.2),
    barcode_offset=0.25,
    marks_in_interior=False,
)

PROFILES = {profile.key: profile for profile in (KDP, INGRAMSPARK)}
