"""ISBNs: read one from the book's identifier, check its check digit, draw its EAN-13 bars."""

from __future__ import annotations

import io
import re

from lxml import etree

from quire.errors import BuildError
from quire.load.config import BookConfig

ISBN_PREFIXES = ("urn:isbn:", "isbn:", "isbn ")
SVG = "{http://www.w3.org/2000/svg}"


def isbn_digits(identifier: str | None) -> str | None:
    """The identifier's ISBN without hyphens or spaces, if it is written as an ISBN."""
    text = (identifier or "").strip()
    lowered = text.lower()
    prefix = next((p for p in ISBN_PREFIXES if lowered.startswith(p)), None)
    body = text[len(prefix) :] if prefix else text
    digits = re.sub(r"[\s-]", "", body).upper()
    if prefix or re.fullmatch(r"97[89]\d{10}", digits):
        return digits
    return None  # a uuid or another kind of identifier: no barcode


def isbn13_check_digit(first12: str) -> str:
    """The EAN-13 check digit: weights 1 and 3 alternate, then 10 minus the sum mod 10."""
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(first12))
    return str((10 - total % 10) % 10)


def isbn10_check_digit(first9: str) -> str:
    """The ISBN-10 check digit (0–9 or X): weights 10 down to 2, mod 11."""
    value = (11 - sum(int(c) * (10 - i) for i, c in enumerate(first9)) % 11) % 11
    return "X" if value == 10 else str(value)


def book_isbn(config: BookConfig) -> str | None:
    """The book's ISBN-13, checked; None if its identifier is not an ISBN.

    A wrong length or check digit stops the build: a barcode of a wrong number would print.
    """
    digits = isbn_digits(config.identifier)
    if digits is None:
        return None
    where = {"file": config.origin, "line": config.line_of("identifier")}
    if re.fullmatch(r"\d{9}[\dX]", digits):
        if isbn10_check_digit(digits[:9]) != digits[9]:
            raise _wrong_check(digits, isbn10_check_digit(digits[:9]), where)
        digits = "978" + digits[:9]
        return digits + isbn13_check_digit(digits)
    if not re.fullmatch(r"97[89]\d{10}", digits):
        raise BuildError(
            f"`identifier` {config.identifier!r} is not an ISBN: an ISBN has 13 digits "
            "starting 978 or 979 (or 10 digits, the last may be X)",
            hint="write it like urn:isbn:978-0-306-40615-7, or use a urn:uuid: identifier",
            **where,
        )
    if isbn13_check_digit(digits[:12]) != digits[12]:
        raise _wrong_check(digits, isbn13_check_digit(digits[:12]), where)
    return digits


def isbn_label(config: BookConfig, isbn13: str) -> str:
    """The line above the bars: the ISBN as the book writes it, if hyphenated, else its digits.

    Where the hyphens go depends on the registration group and publisher ranges, which only
    the issuing agency's tables know; the author's own hyphens are the right ones.
    """
    text = (config.identifier or "").strip()
    body = re.sub(r"^(urn:isbn:|isbn:?)\s*", "", text, flags=re.IGNORECASE)
    written = re.sub(r"[\s-]", "", body)
    return f"ISBN {body}" if "-" in body and written == isbn13 else f"ISBN {isbn13}"


def _wrong_check(digits: str, expected: str, where: dict) -> BuildError:
    return BuildError(
        f"`identifier` has the ISBN {digits}, whose check digit should be {expected}, "
        f"not {digits[-1]}",
        hint="copy the ISBN again from the agency that issued it; a barcode of a wrong "
        "number cannot be sold",
        **where,
    )


def ean13_svg(isbn13: str) -> str:
    """The EAN-13 bars of an ISBN-13 as SVG (black on white, with quiet zones, no text)."""
    from barcode import EAN13
    from barcode.writer import SVGWriter

    stream = io.BytesIO()
    EAN13(isbn13, writer=SVGWriter()).write(
        stream,
        options={
            "module_width": 0.33,  # mm: the EAN-13 nominal size (100 % magnification)
            "module_height": 18.0,  # mm: shortened (the full 22.85 mm and digits exceed 1.2 in)
            "quiet_zone": 3.63,  # 11 modules on the left, as GS1 asks
            "write_text": False,
            "compress": False,
            "background": "white",
            "foreground": "black",
        },
    )
    # Drop the DOCTYPE (an external DTD) so that the SVG parses with no network and no entities.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(stream.getvalue(), parser)
    return etree.tostring(root, encoding="unicode")
