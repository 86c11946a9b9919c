"""Nothing lost in print: the text the layout was given, found in order in the PDF's text layer.

Both sides are reduced to their letters and digits (NFKC, case-folded, everything else taken
out), so that what print does to text without losing any cannot tell them apart: markup inside
a word (`**micro**seconds`), hyphenation at a line's end, soft hyphens, ligatures (ﬁ), no-break
spaces, smart quotes, code wrapped anywhere, superscripts run into the word before them.

The letters are then aligned in order: runs that match, and where one stops, the nearest place
where both sides go on together for a good stretch (a running head, a note's call, a list's
number are letters the PDF has in excess; a note printed at the page's foot or a figure floated
to the next page are letters found later). What each side has left over is aligned again, with
shorter stretches, a few times: so the notes, the floated figures and the columns of a split
table are found where they were printed, and a word is never taken as printed because the same
word stands somewhere else in the chapter. A run of the text's letters still unmatched is
lost, unless the PDF holds it, text node by text node, at least as many times as the text does
(the alignment lost its way; nothing is missing). Each step is a slice compared or a str.find,
so a chapter costs about what reading its text layer does.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

NOT_LETTER = re.compile(r"\W+")
NOT_LETTER_OR_MARK = re.compile(r"[^\w\x01]+")
SEP = "\x01"  # between a stream's pieces while they are normalised together
# Where to look for the next place the two sides agree: this many letters ahead on each side,
# trying every `step`-th letter (where one is found, the match is extended backwards).
WINDOWS = ((256, 2), (4096, 16), (65536, 256), (1 << 21, 4096))
NEAR = 64  # letters: a resync that skips letters on one side only, this near, is taken as is
# Letters that must agree for the two sides to be taken as back in step, in each alignment:
# first long runs, then shorter ones in what is left over (notes, floats, a table's cells).
PASSES = (12, 6, 4, 3)
# Hebrew, Arabic, Syriac, Thaana, N'Ko and the presentation forms: letters set right to left.
RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
SHOWN_LOSSES = 5  # lost runs reported, at most
CONTEXT = 8  # letters on each side of a lost run that tell where it stands
# Elements whose text is not printed as text: formulas and SVG are drawn, the rest never shown.
NOT_TEXT = frozenset(("head", "title", "script", "style", "template", "noscript", "noembed",
    "noframes", "rp", "datalist", "select", "option", "textarea", "svg", "math", "iframe",
    "object", "video", "audio", "canvas"))  # fmt: skip


def letters(text: str) -> str:
    """The letters and digits of a text, compatibility-normalised and case-folded."""
    return NOT_LETTER.sub("", unicodedata.normalize("NFKC", text).casefold())


@dataclass
class Stream:
    """A text as the layout was given it: its letters, and the pieces they came from."""

    letters: str
    pieces: list[str]  # the text nodes, as written
    starts: list[int]  # where each piece's letters begin in `letters`
    owners: list[Any]  # what each piece belongs to (a section id, a chapter)


@dataclass(frozen=True)
class Loss:
    """A run of text missing from the PDF: who holds it, its words, and the text before it."""

    owner: Any
    words: str
    before: str


def stream(parts: Iterable[tuple[Any, Any]], shown: Callable[[Any], bool] | None = None) -> Stream:
    """The stream of the text under each (owner, element), in order, leaving out what print
    never shows as text and any element `shown` says is hidden."""
    pieces: list[str] = []
    owners: list[Any] = []
    for owner, element in parts:
        found = element_text(element, shown) + ([element.tail] if element.tail else [])
        pieces += found
        owners += [owner] * len(found)
    joined = SEP.join(p.replace(SEP, "") for p in pieces)
    # Normalised in one call, not piece by piece: a book has hundreds of thousands of pieces.
    kept = NOT_LETTER_OR_MARK.sub("", unicodedata.normalize("NFKC", joined).casefold())
    parts_letters = kept.split(SEP) if pieces else []
    starts = list(accumulate((len(p) for p in parts_letters), initial=0))[:-1]
    return Stream("".join(parts_letters), pieces, starts, owners)


def element_text(element: Any, shown: Callable[[Any], bool] | None = None) -> list[str]:
    """The text nodes under an element (lxml or ElementTree), in reading order."""
    found: list[str] = []
    stack: list[Any] = [element]
    while stack:
        item = stack.pop()
        if type(item) is str:
            found.append(item)  # a child's tail, which its parent prints
            continue
        tag = item.tag
        if not isinstance(tag, str) or tag.rpartition("}")[2] in NOT_TEXT:
            continue  # a comment, or text that print draws or hides
        if item.get("hidden") is not None or (shown is not None and not shown(item)):
            continue
        if item.text:
            found.append(item.text)
        for child in reversed(item):
            if child.tail:
                stack.append(child.tail)
            stack.append(child)
    return found


def lost_runs(source: str, printed: str, pieces: list[int] | None = None) -> list[tuple[int, int]]:
    """The runs (start, end) of `source`'s letters that `printed` lacks, in order; a run is
    judged piece by piece (`pieces`: where each text node's letters begin)."""
    undrawn = set(source).difference(printed)
    if undrawn:  # characters the PDF never prints (no font has them, warned about): not lost
        kept = [n for n, char in enumerate(source) if char not in undrawn]
        text = "".join(source[n] for n in kept)
        cuts = [bisect_left(kept, start) for start in pieces] if pieces else None
        return [(kept[a], kept[b - 1] + 1) for a, b in lost_runs(text, printed, cuts)]
    matched_s, matched_p = bytearray(len(source)), bytearray(len(printed))
    for gram in PASSES:
        s_runs, p_runs = _runs(matched_s), _runs(matched_p)
        if not s_runs or not p_runs:
            break
        s_left, s_map = _gather(source, s_runs)
        p_left, p_map = _gather(printed, p_runs)
        for i, j, n in align(s_left, p_left, gram):
            _mark(matched_s, s_map, i, n)
            _mark(matched_p, p_map, j, n)
    lost, written = [], None
    for start, end in _runs(matched_s):
        # Unpaired, but printed as often as written: the alignment lost its way, not the PDF.
        # Judged within each text node: a note's last words and the paragraph after it are
        # side by side in the source, never in print; so are a contents' short entries.
        cuts = pieces[bisect_right(pieces, start) : bisect_left(pieces, end)] if pieces else []
        if written is None:  # each text node's letters apart, where a run is counted
            ends = [*pieces[1:], len(source)] if pieces else [len(source)]
            written = SEP.join(source[a:b] for a, b in zip(pieces or [0], ends, strict=True))
        for a, b in zip([start, *cuts], [*cuts, end], strict=True):
            if not _printed_as_often(source, written, printed, a, b, pieces):
                lost.append((a, b))
    return lost


def _printed_as_often(
    source: str, written: str, printed: str, a: int, b: int, pieces: list[int] | None
) -> bool:
    """True if the print holds source[a:b] as many times as the text nodes (`written`, apart)
    do, alone or with the letters around it in its text node: a few letters left over by the
    alignment are common everywhere, and may be fewer in print for reasons that have nothing
    to do with them; what stands around them tells where they are."""
    run = source[a:b]
    if printed.count(run) >= written.count(run):
        return True
    k = bisect_right(pieces, a) - 1 if pieces else -1
    first = pieces[k] if k >= 0 else 0
    last = pieces[k + 1] if pieces and k + 1 < len(pieces) else len(source)
    around = source[max(first, a - CONTEXT) : min(last, b + CONTEXT)]
    return len(around) > len(run) and printed.count(around) >= written.count(around)


def _runs(flags: bytearray) -> list[tuple[int, int]]:
    """The runs (start, end) of zeros (letters not matched yet) in a bytearray."""
    runs, start = [], flags.find(0)
    while start >= 0:
        end = flags.find(1, start)
        end = len(flags) if end < 0 else end
        runs.append((start, end))
        start = flags.find(0, end)
    return runs


def _gather(text: str, runs: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int, int]]]:
    """The runs of a text joined, and each run's (start in the joined text, start, end)."""
    joined = "".join(text[a:b] for a, b in runs)
    starts = accumulate((b - a for a, b in runs), initial=0)
    return joined, [(at, a, b) for at, (a, b) in zip(starts, runs, strict=False)]


def _mark(flags: bytearray, where: list[tuple[int, int, int]], start: int, n: int) -> None:
    """Mark n letters matched, from `start` in the joined runs, back in the whole text."""
    k = bisect_right(where, (start, len(flags), 0)) - 1
    while n > 0:
        at, origin, end = where[k]
        first = origin + start - at
        take = min(n, end - first)
        flags[first : first + take] = b"\x01" * take
        start, n, k = start + take, n - take, k + 1


def align(source: str, printed: str, gram: int = 12) -> list[tuple[int, int, int]]:
    """Matching blocks (i, j, n), source[i:i+n] == printed[j:j+n], in order on both sides;
    after a mismatch, the sides are back in step where `gram` letters agree."""
    blocks: list[tuple[int, int, int]] = []
    i = j = 0
    while i < len(source) and j < len(printed):
        n = _common(source, i, printed, j)
        if n:
            blocks.append((i, j, n))
            i, j = i + n, j + n
            continue
        found = _resync(source, i, printed, j, gram)
        if found is None:
            break
        i, j = found
    return blocks


def _common(a: str, i: int, b: str, j: int) -> int:
    """The length of the common prefix of a[i:] and b[j:], compared a slice at a time."""
    n, step = 0, 64
    most = min(len(a) - i, len(b) - j)
    while n < most:
        m = min(step, most - n)
        if a[i + n : i + n + m] == b[j + n : j + n + m]:
            n, step = n + m, step * 2
        elif m == 1:
            break
        else:
            step = m // 2
    return n


def _resync(source: str, i: int, printed: str, j: int, gram: int) -> tuple[int, int] | None:
    """The nearest (i', j') past a mismatch where the two sides agree again (`_found`), fewest
    letters skipped on both sides together; None if there is none."""
    k = min(gram, len(source) - i)  # a source's last letters agree only as a whole
    for window, step in WINDOWS:
        best = _one_sided(source, i, printed, j, k, window)
        if best is None or best[0] > NEAR:  # letters skipped on both sides may be nearer
            for di in range(step, min(window, len(source) - i - k + 1), step):
                bound = best[0] if best else window
                if di >= bound:
                    break
                pos = _found(source, i + di, k, printed, j, j + bound - di - 1 + k)
                if pos >= 0:
                    best = (di + pos - j, i + di, pos)
        if best is not None:
            _, a, b = best
            while a > i and b > j and source[a - 1] == printed[b - 1]:
                a, b = a - 1, b - 1  # a sampled resync: the letters before it may agree too
            return a, b
        if window >= len(source) - i and window >= len(printed) - j:
            return None
    return None


def _found(source: str, a: int, k: int, printed: str, start: int, end: int) -> int:
    """Where in printed[start:end] the k letters at source[a] are, with twice as many agreeing
    from there (or all that is left); -1 if nowhere. A match of a few words alone is often
    chance in repetitive text (code, tables, a small vocabulary), not the place."""
    gram = source[a : a + k]
    b = printed.find(gram, start, end)
    while b >= 0:
        want = min(2 * k, len(source) - a, len(printed) - b)
        if source[a : a + want] == printed[b : b + want]:
            return b
        b = printed.find(gram, b + 1, end)
    return -1


def _one_sided(
    source: str, i: int, printed: str, j: int, k: int, window: int
) -> tuple[int, int, int] | None:
    """The nearer of the resyncs that skip letters on one side only, within the window: the
    print's extra letters (a running head, a note's call), or the source's printed elsewhere
    (a note at the page's foot); (letters skipped, i', j') or None."""
    best = None
    pos = _found(source, i, k, printed, j, j + window + k)
    if pos >= 0:
        best = (pos - j, i, pos)
    if len(printed) - j >= k:
        pos = _found(printed, j, k, source, i, i + window + k)
        if pos >= 0 and (best is None or pos - i < best[0]):
            best = (pos - i, pos, j)
    return best


def losses(text: Stream, printed: str) -> list[Loss]:
    """What of the text is missing from the printed text (a PDF's text layer), at most a few."""
    found = []
    printed = letters(printed)
    lost = lost_runs(text.letters, printed, text.starts)
    lost = [(a, b) for a, b in lost if not _reordered(text, printed, a)][:SHOWN_LOSSES]
    for a, b in lost:
        k, start = _raw_position(text, a)
        k_end, end = _raw_position(text, b - 1)
        found.append(Loss(text.owners[k], *_words(text, k, start, k_end, end + 1)))
    return found


def _reordered(text: Stream, printed: str, at: int) -> bool:
    """True if the letter at `at` is in a text node with right-to-left letters whose every
    word is printed: the bidi algorithm sets such a node's runs in visual order, which is the
    text layer's (a date in Arabic text, 2026-01-10, is drawn and read as 10-01-2026)."""
    piece = text.pieces[bisect_right(text.starts, at) - 1]
    if not RIGHT_TO_LEFT.search(piece):
        return False
    # Digits and letters apart: a number joined to a word (و10, "and 10") is a run of its own.
    return all(letters(word) in printed for word in re.findall(r"\d+|[^\W\d]+", piece))


def _raw_position(text: Stream, at: int) -> tuple[int, int]:
    """The piece, and the character in it, that the letter at `at` comes from."""
    k = bisect_right(text.starts, at) - 1  # the last piece to begin there has letters
    wanted, count = at - text.starts[k], 0
    for index, char in enumerate(text.pieces[k]):
        count += len(letters(char))
        if count > wanted:
            return k, index
    return k, max(len(text.pieces[k]) - 1, 0)


def _words(text: Stream, k: int, start: int, k_end: int, end: int) -> tuple[str, str]:
    """The words a run of letters lies in (widened to whole words), and the text before."""
    pieces = text.pieces
    head = "".join(pieces[max(0, k - 20) : k]) + pieces[k][:start]
    if k == k_end:
        middle = pieces[k][start:end]
    else:
        middle = pieces[k][start:] + "".join(pieces[k + 1 : k_end]) + pieces[k_end][:end]
    # The whole of a word cut in two, within its text node (nodes side by side may be a
    # contents' entries, run together in the HTML).
    left = re.search(r"\w*$", pieces[k][:start][-40:]).group()
    right = re.match(r"\w*", pieces[k_end][end:]).group()[:40]
    words = " ".join((left + middle + right).split())
    if len(words) > 80:
        words = words[:77] + "…"
    return words, " ".join(head[: len(head) - len(left)].split()[-12:])
