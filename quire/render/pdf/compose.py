"""Chapter-parallel layout: lay the units out (in workers, from the cache when unchanged), then
check the numbers they print and assemble one PDF.

How numbers cross units. Every unit opens on a recto, so its layout depends only on its own
content, the style and the gutter, never on where it falls. Folios are margin boxes and never
move text: units are laid out without them and the book's folios are stamped on at assembly
(folios.py). What a unit prints itself, a "(page N)" reference or a contents entry, is written
into its HTML when the unit starts, from the best knowledge at hand: the real pages of the
units laid out by then (units start in reading order, so those are the ones before it), the
last build's numbers, or page counts estimated from the text and scaled by what the chapters
laid out so far took; the contents is laid out last, once the other units' pages are known.
A chapter that refers ahead waits, while another unit can go, until the numbers it prints
are settled (guesses.py). A unit found to have printed a wrong number is laid out again at
once, within the round; after the round the printed numbers are compared with the real ones
and only a unit that printed a wrong one is laid out again (a fix-point). The gutter comes
from the same guess at the page count, and is checked the same way.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import replace

from quire.errors import BuildError
from quire.language.scripts import direction
from quire.render import Output, Pending
from quire.render.pages import starts_from_firsts
from quire.render.pdf.assembly import add_unit, begin_join, finish_join
from quire.render.pdf.cache import SHEETS, UNITS, LayoutCache, digest, file_digest
from quire.render.pdf.folios import (
    SheetJob,
    Stamp,
    lay_out_sheet,
    lay_out_unit_or_sheet,
    sheet_chunks,
)
from quire.render.pdf.guesses import PageGuesses
from quire.render.pdf.html import element_ids, unit_html, unit_sections
from quire.render.pdf.layout import (
    PrintStyle,
    UnitJob,
    UnitLayout,
    fitted_gutter,
    page_css,
    report_layout_messages,
)
from quire.render.pdf.parallel import Workers
from quire.render.pdf.units import Placement, anchor_numbers, place, plan_units
from quire.render.print_checks import loss_error
from quire.transform import Book, locate

MAX_ROUNDS = 8  # gutter or printed numbers corrected; each round lays out only the units at fault
EAGER_RETRIES = 2  # a unit laid out again within a round, once a number it printed is known wrong
SHEET = "sheet"  # the tag of a folio sheet laid out during a round
Progress = Callable[[int, int, int], None]  # units done, units in all, pages so far


class Composer:
    """Lays a book out unit by unit and assembles the PDF."""

    def __init__(
        self, book: Book, style_of: Callable[..., PrintStyle], cache: LayoutCache,
        workers: Workers, progress: Progress | None,
    ) -> None:  # fmt: skip
        self.book, self.style_of, self.cache, self.workers = book, style_of, cache, workers
        self.progress = progress or (lambda *_: None)
        self.units = plan_units(book)
        self.memo: dict[str, UnitLayout] = {}  # key -> layout, this build
        self.keys: dict[int, str] = {}  # unit -> key of its layout in the latest round
        self.fresh: set[str] = set()  # keys of the layouts made in this build
        self.sheets_made: dict[str, tuple[bytes, list[int]]] = {}  # key -> folio sheet
        self.sheets_asked: set[str] = set()  # keys of the sheets laid out or found, this build
        self.unprinted: dict[str, BuildError] = {}  # layout key -> its missing word's error
        self.laid_out: list[str] = []  # labels of the units laid out (not from the cache)
        self.joined: dict[int, str] = {}  # unit -> key of the layout given to the join
        self.joining: list[Future] = []  # the join's calls so far (add_unit)
        self.fixed = self._fixed_inputs()
        unit_of = {c: u for u, unit in enumerate(self.units) for c in unit.chapters}
        self.unit_of_id = {  # element id -> the unit it is in
            name: unit_of.get(index - 1, 0) for name, index in element_ids(book).items()
        }
        self.guesses = PageGuesses(book, self.units, self.unit_of_id)
        body = next((c.id for c in book.chapters if c.role == "body"), None)
        self.body_unit = next(  # the unit the body begins in (its folios count from there)
            (u for u, unit in enumerate(self.units) for i in unit.chapters
             if book.chapters[i].id == body), None,
        )  # fmt: skip

    def _fixed_inputs(self) -> str:
        """The part of every key that is the same for all units: styles, fonts, versions."""
        files = sorted(p for p in self.book.styles.rglob("*") if p.is_file())
        return digest(
            importlib.metadata.version("weasyprint"),
            *(f"{p.relative_to(self.book.styles)}={file_digest(p)}" for p in files),
            *(f"{p}={file_digest(p)}" for p in self.book.print_css),
        )

    def render(self) -> Output:
        """Lay out, check and assemble; the Output carries the cache entries to write, and its
        bytes are still being joined (pending) when it is returned."""
        self.joining.append(self.workers.apart(begin_join))  # fed as units are laid out
        state = self.cache.state()
        known = {str(k): str(v) for k, v in state.get("numbers", {}).items()}
        pages = state.get("pages")  # the last build's page counts, each trusted only if sane
        self.guesses.stated = {
            str(k): v for k, v in (pages if isinstance(pages, dict) else {}).items()
            if isinstance(v, int) and v > 0
        }  # fmt: skip
        nothing: list[UnitLayout | None] = [None] * len(self.units)
        total = len(
            place(self.book, self.units, nothing, self.guesses.page_counts(nothing)).sequence
        )
        gutter = fitted_gutter(self.book.config, total)
        for round_number in range(MAX_ROUNDS):
            style = replace(self.style_of(page_css(self.book, gutter)), inputs=self.fixed)
            sheet_style = replace(style, page_css=page_css(self.book, gutter, marks=False))
            layouts, printed = self._round(style, known, sheet_style)
            placement = place(self.book, self.units, layouts, self.guesses.latest)
            actual = anchor_numbers(placement, layouts)
            fitted = fitted_gutter(self.book.config, len(placement.sequence))
            if round_number > 0:
                # The first gutter came from an estimate and may be corrected either way; after
                # that it only grows, so a book whose page count sits at a step of the gutter
                # table cannot swing between two gutters (a wider one is never wrong).
                fitted = max(fitted, gutter)
            wrong = sum(actual.get(t, n) != n for shown in printed for t, n in shown.items())
            if fitted == gutter and not wrong:
                break
            gutter, known = fitted, {**known, **actual}
            # The next round guesses a unit not yet laid out from this round's pages: the
            # contents, laid out last, sets where the preface begins, and its length was only
            # estimated (a long book's contents runs longer than its estimate).
            self.guesses.stated.update(
                {u.name: len(x.pages) for u, x in zip(self.units, layouts, strict=True)}
            )
        else:
            raise BuildError(
                f"internal error: the print layout did not settle in {MAX_ROUNDS} rounds "
                f"({wrong} page references still wrong, gutter {gutter} in)",
                kind="bug",
            )
        self._check(layouts)
        for key in self.keys.values():  # only the final layouts: a superseded one is no use
            if key in self.fresh:
                self.cache.store_unit(key, self.memo[key])
        return self._assemble(style, sheet_style, layouts, placement, actual)

    def _round(
        self, style: PrintStyle, known: dict[str, str], sheet_style: PrintStyle
    ) -> tuple[list[UnitLayout], list[dict[str, str]]]:
        """Lay every unit out, in reading order as workers come free, the contents last.

        A unit's printed numbers are written in when it starts, from the units laid out by
        then (the reading order makes those the units before it) and guesses for the rest, so
        that most are right first time. Returns the layouts and, for each unit, the numbers
        it printed (target id -> number).
        """
        layouts: list[UnitLayout | None] = [None] * len(self.units)
        printed: list[dict[str, str]] = [{} for _ in self.units]
        # The index, then the contents, after the chapters whose pages they print.
        waiting = sorted(
            range(len(self.units)), key=lambda u: (self.units[u].last, self.units[u].contents)
        )
        running: set[int] = set()
        again = [0] * len(self.units)  # times each unit was put back in this round
        done: dict[int, int] = {}  # unit -> its pages, for the progress bar
        early: list[tuple[tuple[str, str], SheetJob]] = []  # folio sheets, for when no unit can go

        def finished(u: int, layout: UnitLayout) -> None:
            layouts[u] = layout
            running.discard(u)
            self._join(u, layout)
            done[u] = len(layout.pages)
            self.progress(len(done), len(self.units), sum(done.values()))
            for v in self.guesses.wrong_now(layouts, printed, set(waiting) | running):
                if again[v] < EAGER_RETRIES:  # a unit that still misses waits for the round
                    again[v] += 1
                    waiting.insert(0, v)

        def take() -> tuple[tuple[int | str, str], UnitJob | SheetJob] | None:
            """The next unit to lay out (those this build or the cache has are taken at once);
            when none can go now, a folio sheet: the sheets fill the time a worker would
            otherwise wait (for the last chapter, before the contents)."""
            while waiting:
                position = self.guesses.settled_first(waiting, layouts)
                u, unit = waiting[position], self.units[waiting[position]]
                if unit.last and running:  # the contents and the index wait for every page
                    break
                waiting.pop(position)
                numbers = self.guesses.numbers_now(layouts, known)
                sections = unit_sections(self.book, unit.chapters, unit.opening, unit.contents)
                markup, printed[u], opening = unit_html(
                    self.book, sections, unit.chapters_before, numbers
                )
                key = self.keys[u] = self._key(style, markup)
                layout = self.memo.get(key) or self.cache.unit(key)
                if layout is None:
                    running.add(u)
                    if unit.contents:  # the other units are laid out: their folios are known
                        early.extend(self._early_sheets(style, sheet_style, layouts))
                    return (u, key), UnitJob(unit.name, markup, style, opening)
                self.memo[key] = layout
                finished(u, layout)
            # Asked only now that no unit can go: working them out after every unit found
            # in the cache took a tenth of a second of a long book's rebuild. Once every unit
            # is in, the pages are placed: the rest (the contents' own, the blank verso) go
            # beside the body's, rather than one by one after the round.
            done_now = not waiting and not running
            early.extend(
                self._early_sheets(style, sheet_style, layouts)
                if done_now
                else self._body_sheets(sheet_style, layouts)
            )
            return early.pop(0) if early else None

        def made(tag: tuple[int | str, str], layout: UnitLayout | tuple[bytes, list[int]]) -> None:
            u, key = tag
            if u == SHEET:
                self.sheets_made[key] = layout
                return
            if layout.fetch_error:
                raise BuildError(
                    f"the print layout refers to a file outside the book: {layout.fetch_error}",
                    hint="keep fonts, images and CSS files inside the book's folder or styles/",
                )
            self.memo[key] = layout
            self.fresh.add(key)
            self.laid_out.append(self.units[u].label)
            error = loss_error(self.book, layout.lost) if layout.lost else None
            if error:  # found in the worker; reported in _check, after what comes first
                self.unprinted[key] = error
            finished(u, layout)

        self.workers.run(lay_out_unit_or_sheet, take, made)
        return layouts, printed  # type: ignore[return-value] - every unit is laid out now

    def _join(self, unit: int, layout: UnitLayout) -> None:
        """Give the join a unit's layout, unless it has it already (see assembly.add_unit).

        The join runs in a process of its own: joining a long book takes more memory than the
        build's other steps, and the build's own process already holds the book."""
        if self.joined.get(unit) != self.keys.get(unit):
            self.joined[unit] = self.keys[unit]
            self.joining.append(self.workers.apart(add_unit, unit, layout.pdf))

    def _key(self, style: PrintStyle, markup: str) -> str:
        """The cache key of a unit's layout: everything it depends on."""
        images = [file_digest(a.path) for a in self.book.assets if a.path.as_uri() in markup]
        return digest(
            self.fixed, style.font_css, style.page_css, style.variant or "", *images, markup
        )

    def _check(self, layouts: list[UnitLayout]) -> None:
        """Nothing lost: each unit's opening and last block are in its PDF, and every word of its
        chapters in its text layer (read in the worker); then its warnings."""
        for unit, layout in zip(self.units, layouts, strict=True):
            if not (layout.opening_found and layout.last_found):
                lost = "its opening" if not layout.opening_found else "its end"
                raise BuildError(
                    f"the print layout lost {lost}: {unit.label} is not whole in the PDF",
                    file=unit.label if unit.chapters else None,
                    hint="this is a WeasyPrint layout failure; please report it with the chapter",
                    kind="bug",
                )
        for unit, layout in zip(self.units, layouts, strict=True):
            for _name, cell in layout.wide_tables:  # as print_checks.check_tables_fit says it
                source = self.book.chapters[unit.chapters[0]].source if unit.chapters else None
                raise BuildError(
                    "a table is too wide for the printed page, even set smaller and split",
                    file=source.name if source else None,
                    line=locate(source, cell) if source and cell else None,
                    hint="give it fewer columns or shorter cells, or turn it into a list",
                )
        seen: list[tuple[int, str]] = []
        for layout in layouts:
            seen += [m for m in layout.messages if tuple(m) not in {tuple(s) for s in seen}]
        report_layout_messages(self.book, [tuple(m) for m in seen])
        for u in range(len(self.units)):  # one from the cache was checked when laid out
            if self.keys[u] in self.unprinted:
                raise self.unprinted[self.keys[u]]

    def _assemble(
        self, style: PrintStyle, sheet_style: PrintStyle, layouts: list[UnitLayout],
        placement: Placement, numbers: dict[str, str],
    ) -> Output:  # fmt: skip
        """Stamp the folios, and say what was laid out again; the Output's bytes are still
        being joined (pending) when it is returned."""
        stamps, blank = self._folios(style, sheet_style, layouts, placement)
        for unit, layout in enumerate(layouts):  # the final layouts, the join has them all
            self._join(unit, layout)
        book = self.workers.apart(
            finish_join, placement.sequence, placement.body_start, stamps, blank,
            [u.outline for u in self.units], direction(self.book.config),
        )  # fmt: skip
        calls = [*self.joining, book]

        def joined() -> bytes:
            for call in calls:  # a unit the join failed on is named by its own error
                call.result()
            return book.result()

        firsts = [None if e is None else layouts[e[0]].pages[e[1]].first
                  for e in placement.sequence]  # fmt: skip
        self.cache.store_state({
            "pages": {u.name: len(x.pages) for u, x in zip(self.units, layouts, strict=True)},
            "numbers": numbers,
        })  # fmt: skip
        return Output(
            "pdf", b"", pending=Pending(joined), pages=len(placement.sequence),
            page_starts=starts_from_firsts(firsts, placement.labels),
            laid_out=tuple(u.label for u in self.units if u.label in self.laid_out),
            cache_files=tuple(sorted(self.cache.new.items())),
            cache_kept=frozenset(self.cache.used),
            cache_kinds=(UNITS, SHEETS),
        )  # fmt: skip

    def _folios(
        self, style: PrintStyle, sheet_style: PrintStyle, layouts: list[UnitLayout],
        placement: Placement,
    ) -> tuple[dict[int, tuple[bytes, int]], bytes]:  # fmt: skip
        """For each page with a folio, the sheet page that prints it; and the blank verso.

        The folios go on sheets of many pages (a WeasyPrint layout costs a fifth of a second
        before its first page), laid out at once in the workers.
        """
        chunks, wanted = self._wanted_sheets(style, sheet_style, layouts, placement)
        sheets = self._sheets(wanted)
        stamps = {
            index: (sheets[name][0], sheets[name][1][n])
            for name, chunk in chunks.items()
            for n, (index, _stamp) in enumerate(chunk)
        }
        return stamps, sheets["blank"][0] if "blank" in sheets else b""

    def _wanted_sheets(
        self,
        style: PrintStyle,
        sheet_style: PrintStyle,
        layouts: list[UnitLayout | None],
        placement: Placement,
    ) -> tuple[dict[str, list[tuple[int, Stamp]]], dict[str, tuple[tuple[Stamp, ...], PrintStyle]]]:
        """The folios (page index, stamp) by sheet (folios.sheet_chunks), and each sheet's
        stamps and style; with "blank", the blank verso."""
        chunks = sheet_chunks(self.units, layouts, placement)
        wanted = {name: (tuple(s for _, s in chunk), sheet_style) for name, chunk in chunks.items()}
        if None in placement.sequence:  # laid out with crop marks, as a blank page has them
            wanted["blank"] = ((), style)
        return chunks, wanted

    def _early_sheets(
        self, style: PrintStyle, sheet_style: PrintStyle, layouts: list[UnitLayout | None]
    ) -> list[tuple[tuple[str, str], SheetJob]]:
        """The folio sheets not asked for yet (the front matter's, and the body's last), from
        the pages placed with the units laid out so far: beside the contents (the last unit,
        laid out alone), with its guessed length, and again once every unit is in, with the
        real one (the contents' own folios, and the front matter's if the guess was wrong)."""
        placement = place(self.book, self.units, layouts, self.guesses.page_counts(layouts))
        _chunks, wanted = self._wanted_sheets(style, sheet_style, layouts, placement)
        return self._unasked_sheets(
            (name, stamps, chosen) for name, (stamps, chosen) in wanted.items()
        )

    def _body_sheets(
        self, sheet_style: PrintStyle, layouts: list[UnitLayout | None]
    ) -> list[tuple[tuple[str, str], SheetJob]]:
        """The body's folio sheets that the units laid out so far settle, not asked for yet:
        laid out during the round whenever a worker would otherwise wait, rather than all at
        its end.

        The body's folios count from its first page, which begins a sheet, so a sheet of the
        body is settled once the units from the body's first up to the sheet's last page are
        laid out, and the next folio is known (it may still join the sheet, see sheet_chunks);
        the front matter's length is not needed. A unit laid out again later with another
        length only makes other sheets, laid out after the round."""
        first = self.body_unit
        if first is None or layouts[first] is None:
            return []
        end = first
        while end < len(layouts) and layouts[end] is not None:
            end += 1
        settled = [x if first <= u < end else None for u, x in enumerate(layouts)]
        placement = place(self.book, self.units, layouts, self.guesses.page_counts(layouts))
        chunks = list(sheet_chunks(self.units, settled, placement).items())
        if end < len(layouts):  # the last sheet may take more folios
            chunks = chunks[:-1]
        return self._unasked_sheets(
            (name, tuple(stamp for _index, stamp in chunk), sheet_style)
            for name, chunk in chunks
            if chunk[0][0] >= placement.body_start  # not the front matter's: its length is guessed
        )

    def _unasked_sheets(
        self, wanted: Iterable[tuple[str, tuple[Stamp, ...], PrintStyle]]
    ) -> list[tuple[tuple[str, str], SheetJob]]:
        """Jobs for the sheets (name, stamps, style) this build has not asked for yet and the
        cache lacks; each is asked for once."""
        jobs = []
        for name, stamps, style in wanted:
            key = self._sheet_key(stamps, style)
            if key in self.sheets_asked:
                continue
            self.sheets_asked.add(key)
            if key not in self.sheets_made and self.cache.sheet(key) is None:
                jobs.append(((SHEET, key), SheetJob(name, stamps, style)))
        return jobs

    def _sheet_key(self, stamps: tuple[Stamp, ...], style: PrintStyle) -> str:
        return digest(self.fixed, "sheet", style.font_css, style.page_css, repr(stamps))

    def _sheets(self, wanted: dict[str, tuple[tuple[Stamp, ...], PrintStyle]]):  # noqa: ANN202
        """Folio sheets (or, for "blank", the blank verso), from the cache or laid out."""
        found, jobs = {}, []
        for name, (stamps, style) in wanted.items():
            key = self._sheet_key(stamps, style)
            if key in self.sheets_made:  # laid out beside the contents (_early_sheets)
                self.cache.store_sheet(key, *self.sheets_made[key])
                found[name] = self.sheets_made[key]
                continue
            cached = self.cache.sheet(key)
            if cached is None:
                jobs.append((name, key, SheetJob(name, stamps, style)))
            else:
                found[name] = cached
        made = self.workers.map(lay_out_sheet, [j[2] for j in jobs], lambda _r: None)
        for (name, key, _job), (pdf, pages) in zip(jobs, made, strict=True):
            self.cache.store_sheet(key, pdf, pages)
            found[name] = (pdf, pages)
        return found
