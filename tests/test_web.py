"""The web edition in a real browser: links, requests, accessibility, layout, search, notes, pages."""

# ruff: noqa: F811 - `browser` is a fixture imported from web_site
from __future__ import annotations

import re
import shutil
import types
import urllib.request
from pathlib import Path

import lxml.html
import pytest
from conftest import CASES_DIR, ROOT
from pypdf import PdfReader
from test_outputs import WORD, manuscript_words
from web_site import (
    Site,
    broken_links,
    browser,  # noqa: F401
    outside_requests,
    reading_order,
    serve_folder,
    visit,
)

from quire.pipeline import build

axe_api = pytest.importorskip("axe_playwright_python.sync_playwright")

SOURCES = {"sample": ROOT / "manuscript", "rich": CASES_DIR / "rich"}
WIDTHS = (390, 1280)
SCREENSHOTS = ROOT / "docs"


@pytest.fixture(scope="session")
def web_site(tmp_path_factory):
    """A function that builds a case with its web edition once, serves it and returns a Site."""
    done: dict[str, Site] = {}

    def get(name: str) -> Site:
        if name not in done:
            out = tmp_path_factory.mktemp(f"web-{name}")
            written = build(SOURCES[name], out, ("pdf", "epub", "html"), lambda *a: None)
            paths = {w.format: w.path for w in written}
            server, base = serve_folder(paths["html"])
            site = Site(paths["html"], base, paths["epub"], paths["pdf"], server)
            site.pages = reading_order(site.folder)
            done[name] = site
        return done[name]

    yield get
    for site in done.values():
        site.server.shutdown()
        site.server.server_close()


def fetch(url: str) -> tuple[int, bytes]:
    """An HTTP GET: status and body."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


@pytest.mark.parametrize("name", SOURCES)
def test_every_link_resolves_to_the_real_file(name, web_site):
    site = web_site(name)
    assert broken_links(site.folder, site.base, fetch) == []
    index = lxml.html.parse(str(site.folder / "index.html"))
    downloads = index.xpath("//section[@id='downloads']//a/@href")
    assert sorted(Path(h).suffix for h in downloads) == [".epub", ".pdf"]
    for href in downloads:
        built = site.epub if href.endswith(".epub") else site.pdf
        assert fetch(site.base + href) == (200, built.read_bytes())


def test_every_footer_names_the_book_and_offers_its_files(web_site):
    site = web_site("sample")
    for path in site.pages:
        [foot] = lxml.html.parse(str(site.folder / path)).xpath("//footer")
        text = " ".join(foot.text_content().split())
        assert "Russia–China Relations" in text and "2026" in text and "CC BY" in text, path
        files = foot.xpath(".//a[@download]")
        assert sorted(Path(a.get("href")).suffix for a in files) == [".epub", ".pdf"], path
        assert all(re.search(r"\(\d+ KB", a.text_content()) for a in files), path


def test_the_link_check_catches_a_broken_link_and_an_outside_one(web_site, tmp_path):
    site = web_site("sample")
    copy = tmp_path / "site"
    shutil.copytree(site.folder, copy)
    page = copy / site.pages[3]
    text = page.read_text().replace("</main>", '<a href="nowhere.html">x</a></main>')
    page.write_text(text.replace("</main>", '<img src="https://example.org/x.png" alt="x"></main>'))
    server, base = serve_folder(copy)
    try:
        problems = broken_links(copy, base, fetch)
    finally:
        server.shutdown()
        server.server_close()
    assert any("nowhere.html answers 404" in p for p in problems)
    assert any("example.org/x.png leaves the site" in p for p in problems)


@pytest.mark.parametrize("name", SOURCES)
def test_no_request_leaves_the_site_and_no_console_error(name, web_site, browser):
    site = web_site(name)
    for path in site.pages:
        page = browser.new_page()
        seen = visit(page, site.base + path)
        page.close()
        assert outside_requests(seen, site.base) == [], path
        assert seen.failures == [], path
        assert seen.errors == [], path


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", SOURCES)
def test_axe_finds_no_violation(name, scheme, web_site, browser):
    site = web_site(name)
    page = browser.new_page(color_scheme=scheme)
    axe = axe_api.Axe()
    found = {}
    for path in site.pages:
        page.goto(site.base + path, wait_until="networkidle")
        result = axe.run(page)
        if result.violations_count:
            found[path] = result.generate_report()
    page.close()
    assert not found, "\n".join(f"{p}:\n{r}" for p, r in found.items())


def test_axe_catches_an_image_without_alt(web_site, browser, tmp_path):
    site = web_site("sample")
    copy = tmp_path / "site"
    shutil.copytree(site.folder, copy)
    index = copy / "index.html"
    index.write_text(index.read_text().replace(' alt="Cover: ', ' data-x="Cover: '))
    server, base = serve_folder(copy)
    page = browser.new_page()
    try:
        page.goto(base + "index.html", wait_until="networkidle")
        result = axe_api.Axe().run(page)
    finally:
        page.close()
        server.shutdown()
        server.server_close()
    assert "image-alt" in result.generate_report()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", SOURCES)
def test_no_sideways_scrolling_and_readable_text(name, width, web_site, browser, tmp_path):
    site = web_site(name)
    page = browser.new_page(viewport={"width": width, "height": 900})
    for path in site.pages:
        page.goto(site.base + path, wait_until="networkidle")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"
        size = page.evaluate(
            "parseFloat(getComputedStyle(document.querySelector('main p')"
            " || document.querySelector('main li')).fontSize)"  # the index page: entries
        )
        assert size >= 16, f"{path}: body text is {size}px at {width}px"
        page.screenshot(path=tmp_path / f"{name}-{width}-{path}.png", full_page=False)
    page.close()


def test_the_sideways_check_catches_a_wide_element(web_site, browser):
    site = web_site("sample")
    page = browser.new_page(viewport={"width": 390, "height": 900})
    page.goto(site.base + site.pages[3], wait_until="networkidle")
    page.evaluate("document.querySelector('main p').style.width = '900px'")
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    page.close()
    assert overflow > 0


def test_a_wide_table_scrolls_in_its_box_with_a_cue_and_the_page_does_not(web_site, browser):
    site = web_site("rich")
    [path] = [p for p in site.pages if "<table" in (site.folder / p).read_text()]
    page = browser.new_page(viewport={"width": 390, "height": 900})
    page.goto(site.base + path, wait_until="networkidle")
    # Five more columns: wider than a phone, as a real wide table would be.
    page.evaluate("""() => { for (const row of document.querySelector('main table').rows)
        for (let i = 0; i < 5; i++) row.append(row.cells[1].cloneNode(true)); }""")
    box = page.locator("main .table-scroll")
    sizes = box.evaluate("b => [b.scrollWidth, b.clientWidth, b.tabIndex]")
    page_overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    cue = box.evaluate("b => getComputedStyle(b).backgroundImage")
    box.evaluate("b => b.scrollLeft = 200")
    caption_left = page.evaluate(
        "document.querySelector('main caption').getBoundingClientRect().left"
        " - document.querySelector('main .table-scroll').getBoundingClientRect().left"
    )
    page.close()
    assert sizes[0] > sizes[1] + 100 and sizes[2] == 0, sizes  # it scrolls, by keyboard too
    assert page_overflow <= 0, page_overflow
    assert cue.count("gradient(") == 4, cue  # edges that shade where more of the table is
    assert abs(caption_left) < 1, caption_left  # the caption stays in view


def markers_before_headings(folder: Path, pages: list[str]) -> list[str]:
    """Page markers standing before a heading rather than with the text they mark."""
    found = []
    for path in pages:
        tree = lxml.html.parse(str(folder / path))
        for marker in tree.xpath("//span[@class='page-marker']"):
            after = marker.getnext()
            if after is not None and after.tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                found.append(f"{path}: page {marker.get('data-page')} before <{after.tag}>")
    return found


def test_page_markers_sit_with_their_text(web_site, tmp_path):
    site = web_site("sample")
    assert markers_before_headings(site.folder, site.pages[1:]) == []
    # The check catches a marker left before a heading, as the EPUB has it.
    copy = tmp_path / site.pages[3]
    text = (site.folder / site.pages[3]).read_text()
    copy.write_text(text.replace("<h1", '<span class="page-marker" data-page="x"></span><h1', 1))
    assert markers_before_headings(tmp_path, [site.pages[3]]) != []


def test_site_url_is_an_https_folder():
    from quire.load.config import SETTINGS

    _field, convert = SETTINGS["site-url"]
    assert convert("https://books.example.org/russia") == "https://books.example.org/russia/"
    for bad in ("http://books.example.org/", "https://", "https://x.org/?page=1", "/russia/"):
        with pytest.raises(TypeError, match="an https address"):
            convert(bad)


def test_open_graph_addresses_are_absolute_or_absent(web_site):
    from quire.load.config import BookConfig
    from quire.render.html.download import open_graph
    from quire.render.html.layout import head_html

    site = web_site("sample")
    index = lxml.html.parse(str(site.folder / "index.html"))
    assert index.xpath("//meta[@property='og:image' or @property='og:url']") == []
    assert index.xpath("//link[@rel='canonical']") == []
    config = BookConfig(title="Russia", lang="en", site_url="https://books.example.org/russia/")
    book = types.SimpleNamespace(config=config)  # the settings are all the head uses
    tags = lxml.html.fragment_fromstring(open_graph(book, "images/cover.jpg"), create_parent=True)
    found = {m.get("property"): m.get("content") for m in tags.iter("meta")}
    assert found["og:url"] == "https://books.example.org/russia/"
    assert found["og:image"] == "https://books.example.org/russia/images/cover.jpg"
    head = lxml.html.document_fromstring(head_html(book, "Ch", "03-ch.html") + "<body></body>")
    [canonical] = head.xpath("//link[@rel='canonical']/@href")
    assert canonical == "https://books.example.org/russia/03-ch.html"


def chapter_words(site: Site, path: str) -> set[str]:
    """The words of one page's text."""
    main = lxml.html.parse(str(site.folder / path)).find(".//main")
    for marker in main.xpath(".//span[@class='page-marker']"):
        marker.drop_tree()  # a printed page's number is not a word of the book
    return set(WORD.findall(main.text_content()))


def middle_chapter_word(site: Site) -> tuple[str, str]:
    """The middle chapter, and a word of it that no other page has."""
    chapters = site.pages[1:]
    middle = chapters[len(chapters) // 2]
    others = set().union(*(chapter_words(site, p) for p in chapters if p != middle))
    unique = sorted(w for w in chapter_words(site, middle) - others if w.isalpha() and len(w) > 5)
    assert unique, f"no word only {middle} has"
    return middle, unique[0]


def search_results(page, start: str, query: str) -> list[str]:
    """Search from a page's box: the addresses of the results, best first."""
    page.goto(start, wait_until="networkidle")
    page.fill("#q", query)
    page.click(".search button")
    page.wait_for_selector(".results li a")
    return page.eval_on_selector_all(".results li a", "links => links.map(a => a.href)")


def assert_opens_at_the_spot(page, url: str, chapter_url: str) -> None:
    """The result opens the chapter at an element of it (the section the word is in)."""
    page.goto(url, wait_until="networkidle")
    path, _hash, fragment = page.url.partition("#")
    assert path == chapter_url, url
    assert fragment and page.locator(f"[id='{fragment}']").count() == 1, url


def test_search_finds_a_word_of_the_middle_chapter(web_site, browser):
    site = web_site("sample")
    middle, word = middle_chapter_word(site)
    page = browser.new_page()
    seen = []
    page.on("request", lambda request: seen.append(request.url))
    found = search_results(page, site.base + site.pages[1], word)
    assert any("/pagefind/" in url for url in seen), "served over http, Pagefind searches"
    assert_opens_at_the_spot(page, found[0], site.base + middle)
    page.close()


def test_search_works_from_files(web_site, browser):
    site = web_site("sample")
    middle, word = middle_chapter_word(site)
    page = browser.new_page()
    seen = []
    page.on("request", lambda request: seen.append(request.url))
    page.on("console", lambda message: message.type == "error" and seen.append(message.text))
    found = search_results(page, (site.folder / "index.html").as_uri(), word)
    assert_opens_at_the_spot(page, found[0], (site.folder / middle).as_uri())
    page.close()
    assert (site.folder / "search-text.js").as_uri() in seen
    outside = [url for url in seen if not url.startswith(site.folder.as_uri() + "/")]
    assert outside == [], outside


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violation_in_search_results(scheme, web_site, browser):
    site = web_site("sample")
    for start in (site.base + site.pages[2], (site.folder / site.pages[2]).as_uri()):
        page = browser.new_page(color_scheme=scheme, viewport={"width": 390, "height": 900})
        search_results(page, start, "Amur treaty")
        result = axe_api.Axe().run(page)
        page.close()
        assert not result.violations_count, result.generate_report()


def test_search_from_files_ignores_case_and_accents_and_marks_the_words(web_site, browser):
    site = web_site("sample")
    page = browser.new_page()
    start = (site.folder / site.pages[1]).as_uri()
    found = search_results(page, start, "LIENING")  # the glossary's Lièníng, Lenin in pinyin
    assert found and all("glossary" in url for url in found), found
    marks = page.eval_on_selector_all(".results mark", "marks => marks.map(m => m.textContent)")
    assert marks and set(marks) == {"Lièníng"}, marks
    page.fill("#q", "zzqxj")
    page.click(".search button")
    page.wait_for_function("document.querySelector('.results').innerText.includes('No results')")
    assert page.locator(".results li").count() == 0
    page.close()


def test_each_note_opens_in_place_and_returns(web_site, browser):
    site = web_site("sample")
    page = browser.new_page()
    opened = 0
    for path in site.pages[1:]:
        page.goto(site.base + path, wait_until="networkidle")
        refs = page.eval_on_selector_all("a[role=doc-noteref]", "refs => refs.map(r => r.id)")
        for ref_id in refs:
            ref = page.locator(f"#{ref_id}")
            target = ref.get_attribute("href")[1:]
            note = page.locator(f"#{target}").inner_text()
            ref.click()
            box = page.locator(f"#{ref_id}-open")
            assert box.is_visible(), ref_id
            assert box.inner_text().split("Close note")[0].strip() in note
            assert page.evaluate("document.activeElement.id") == f"{ref_id}-open"
            page.keyboard.press("Escape")
            assert box.count() == 0
            assert page.evaluate("document.activeElement.id") == ref_id
            back = page.locator(f"#{target} a[role=doc-backlink]").get_attribute("href")
            assert back == f"#{ref_id}"  # without the script: the note links back to its call
            opened += 1
    page.close()
    assert opened >= 10


def pdf_pages(pdf: Path) -> tuple[list[str], list[str]]:
    """The PDF's page labels and each page's words, by page."""
    reader = PdfReader(pdf)
    texts = [re.sub("[\u2010-]\\s*\n", "", p.extract_text() or "") for p in reader.pages]
    return list(reader.page_labels), texts


def marker_problems(folder: Path, pages: list[str], pdf: Path) -> list[str]:
    """How the site's page markers differ from the PDF's pages: label, order, first word."""
    labels, texts = pdf_pages(pdf)
    markers = []
    for path in pages:
        tree = lxml.html.parse(str(folder / path))
        for marker in tree.xpath("//span[@class='page-marker']"):
            following = "following::text()[not(ancestor::span[@class='page-marker'])]"
            after = "".join(marker.xpath(f"{following}[position()<6]"))  # its tail first
            markers.append((marker.get("data-page"), marker.text_content(), after))
    problems = [
        f"{label} is no page of the PDF" for label, _t, _a in markers if label not in labels
    ]
    positions = [labels.index(label) for label, _t, _a in markers if label in labels]
    if positions != sorted(set(positions)):
        problems.append(f"markers out of order or repeated: {[m[0] for m in markers]}")
    for label, text, after in markers:
        if text != f"page {label}":
            problems.append(f"marker {label} reads {text!r}")
        words = re.findall(r"[^\W\d]{4,}", after)
        page_text = texts[labels.index(label)] if label in labels else ""
        if words and page_text.strip() and words[0] not in page_text:
            problems.append(f"page {label} does not hold {words[0]!r}")  # blank versos have no text
    found = {label for label, _t, _a in markers}
    problems += [
        f"no marker for page {labels[n]}"
        for n, text in enumerate(texts)
        if labels[n].isdigit() and text.strip() and labels[n] not in found
    ]
    return problems


def test_page_markers_match_the_pdf(web_site):
    site = web_site("sample")
    assert marker_problems(site.folder, site.pages[1:], site.pdf) == []


def test_the_marker_check_catches_a_marker_on_the_wrong_page(web_site, tmp_path):
    site = web_site("sample")
    copy = tmp_path / "site"
    shutil.copytree(site.folder, copy)
    page = copy / site.pages[5]
    labels, texts = pdf_pages(site.pdf)
    # A marker whose first word (as marker_problems reads it: a paragraph may open with a
    # marked term, an element) is no word of the running heads, which most pages hold.
    following = "following::text()[not(ancestor::span[@class='page-marker'])][position()<6]"
    for marker in lxml.html.parse(str(page)).xpath("//span[@class='page-marker']"):
        words = re.findall(r"[^\W\d]{4,}", "".join(marker.xpath(following)))
        if words and sum(words[0] in t for t in texts) < len(texts) // 2:
            break
    label, word = marker.get("data-page"), words[0]
    # An earlier page that does not hold the marker's first word: wrong place and wrong order.
    wrong = next(
        labels[n]
        for n in range(labels.index(label) - 2, 0, -1)
        if word not in texts[n] and texts[n].strip()  # not a blank verso: it holds no word
    )
    text = page.read_text().replace(f'data-page="{label}"', f'data-page="{wrong}"', 1)
    page.write_text(text)
    problems = marker_problems(copy, site.pages[1:], site.pdf)
    assert any("does not hold" in p for p in problems), problems
    assert any(p.startswith("markers out of order") for p in problems), problems


def test_a_reader_can_open_the_site_from_files(web_site, browser):
    site = web_site("sample")
    for path in site.pages:
        page = browser.new_page()
        seen = visit(page, (site.folder / path).as_uri())
        loaded = page.evaluate(
            "[...document.fonts].filter(f => f.status === 'loaded').map(f => f.family)"
        )
        page.close()
        assert seen.errors == [] and seen.failures == [], path
        assert "Charis SIL" in loaded, path
        assert all(url.startswith("file://") for url in seen.requests), path


@pytest.mark.parametrize("name", SOURCES)
def test_the_site_has_every_word_of_the_manuscript(name, web_site):
    site = web_site(name)
    words = set()
    for path in site.pages[1:]:
        words |= chapter_words(site, path)
    built = types.SimpleNamespace(source=SOURCES[name], expect={})
    missing = manuscript_words(built) - words
    assert not missing, sorted(missing)[:20]


def test_a_rebuilt_site_replaces_the_old_one_whole(tmp_path):
    from quire.package import package
    from quire.render import Output

    def site(files: dict[str, bytes]) -> dict[str, Output]:
        return {"html": Output("html", b"", files=files)}

    package(tmp_path, "book", "", site({"index.html": b"old", "old-chapter.html": b"gone"}))
    [written] = package(tmp_path, "book", "", site({"index.html": b"new", "fonts/a.woff2": b"f"}))
    folder = tmp_path / "book"
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert files == ["fonts/a.woff2", "index.html"]
    assert (folder / "index.html").read_bytes() == b"new"
    assert (written.path, written.size) == (folder, 4)
    # No temporary folder left; the manifest lists what was written.
    assert sorted(p.name for p in tmp_path.iterdir()) == [".quire-manifest.json", "book"]


def test_a_missing_browser_fails_under_ci_and_skips_elsewhere(monkeypatch):
    import web_site

    monkeypatch.setattr(web_site, "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        web_site.launch_chromium(None)
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        web_site.launch_chromium(None)


def test_a_rebuild_takes_the_web_fonts_from_the_build_cache(tmp_path, monkeypatch):
    """The WOFF2 fonts an earlier build encoded are read from the build cache, byte for byte,
    in a new process (here: with the encoder refusing)."""
    from quire.render.html import assets

    book = tmp_path / "book"
    shutil.copytree(CASES_DIR / "folder-book", book)
    out = tmp_path / "out"
    [site] = [w for w in build(book, out, ("html",), lambda *a: None) if w.format == "html"]
    fonts = {p.name: p.read_bytes() for p in (site.path / "fonts").glob("*.woff2")}
    assert fonts and len(list((out / ".quire-cache" / assets.WOFF2).glob("*.woff2"))) == len(fonts)

    spring = book / "spring.md"  # a changed word: not a build with nothing to do
    spring.write_text(spring.read_text().replace("wicks", "wick", 1))

    def refuse(_data: bytes) -> bytes:
        raise AssertionError("a font the cache has was encoded again")

    monkeypatch.setattr(assets, "woff2", refuse)
    [again] = [w for w in build(book, out, ("html",), lambda *a: None) if w.format == "html"]
    assert {p.name: p.read_bytes() for p in (again.path / "fonts").glob("*.woff2")} == fonts
