// Quire web edition: notes that open in place, search, contents open on wide screens.
// Everything works without this script: note references are plain links to the notes.
"use strict";

const BLOCKS = "p, li, dd, dt, td, th, blockquote, figcaption, h1, h2, h3, h4, h5, h6";

// The words this script says, in the book's language: the page carries them (layout.py).
const WORDS = JSON.parse(document.getElementById("quire-words")?.textContent || "{}");

function say(key, n) {
  return (WORDS[key] || key).replace("{n}", n);
}

function closeNote(box, ref) {
  box.remove();
  ref.setAttribute("aria-expanded", "false");
  ref.focus();
}

function openNote(ref, note) {
  const box = document.createElement("div");
  box.className = "note-open";
  box.id = ref.id + "-open";
  box.tabIndex = -1;
  box.setAttribute("role", "note");
  box.setAttribute("aria-label", say("Note", ref.textContent.trim()));
  const body = note.cloneNode(true);
  body.querySelectorAll("[id]").forEach((el) => el.removeAttribute("id"));
  body.querySelectorAll("[role=doc-backlink]").forEach((el) => el.remove());
  body.removeAttribute("role");
  body.className = "note-text";
  const close = document.createElement("button");
  close.type = "button";
  close.className = "note-close";
  close.textContent = say("CloseNote");
  close.addEventListener("click", () => closeNote(box, ref));
  box.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeNote(box, ref);
  });
  box.append(body, close);
  (ref.closest(BLOCKS) || ref).after(box);
  ref.setAttribute("aria-expanded", "true");
  ref.setAttribute("aria-controls", box.id);
  box.focus();
}

document.addEventListener("click", (event) => {
  const ref = event.target.closest("a[role=doc-noteref]");
  if (!ref) return;
  const note = document.getElementById(decodeURIComponent(ref.hash.slice(1)));
  if (!note) return;
  event.preventDefault();
  const open = document.getElementById(ref.id + "-open");
  if (open) closeNote(open, ref);
  else openNote(ref, note);
});

// Search. Served over http: Pagefind's index, loaded only when a reader searches. Opened from
// files, where browsers refuse Pagefind's fetch and WebAssembly: the book's text by section, which
// a script element may load (search-text.js), searched here.
const RESULTS_SHOWN = 10;
let pagefind = null;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error("cannot load " + src));
    document.head.append(script);
  });
}

// Case and accents do not matter: "etat" finds "État".
function fold(text) {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

// Scripts written without spaces between words: a word may start anywhere.
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]/u;

function termPattern(term) {
  const escaped = term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp((UNSPACED.test(term) ? "" : "(?<![\\p{L}\\p{N}])") + escaped, "gu");
}

function foldSection(section) {
  // Folding keeps the length of almost all text; where it does not, fold letter by letter so
  // that a hit's place in the folded text is its place in the text.
  let folded = fold(section.text);
  if (folded.length !== section.text.length) {
    folded = Array.from(section.text, (c) => (fold(c).length === c.length ? fold(c) : c)).join("");
  }
  section.folded = folded;
  section.foldedTitle = fold(section.title + " " + section.page);
}

// A stretch of text around the first hit, as [text, isHit] pieces; the start when the hits
// are in the title only.
function excerptPieces(text, folded, patterns) {
  const places = patterns.map((p) => folded.search(p)).filter((i) => i >= 0);
  const first = places.length ? Math.min(...places) : 0;
  let start = Math.max(0, first - 80);
  let end = Math.min(text.length, first + 160);
  // Cut at spaces where there are any near (not in Chinese or Japanese, written without them).
  const space = start > 0 ? text.indexOf(" ", start) : -1;
  if (space >= 0 && space < first) start = space + 1;
  const lastSpace = end < text.length ? text.lastIndexOf(" ", end) : -1;
  if (lastSpace > first + 40) end = lastSpace;
  const hits = [];
  patterns.forEach((pattern) => {
    for (const m of folded.slice(start, end).matchAll(pattern)) {
      hits.push([start + m.index, start + m.index + m[0].length]);
    }
  });
  hits.sort((a, b) => a[0] - b[0]);
  const pieces = [[start > 0 ? "… " : "", false]];
  let at = start;
  hits.forEach(([from, to]) => {
    if (from < at) return;
    pieces.push([text.slice(at, from), false], [text.slice(from, to), true]);
    at = to;
  });
  pieces.push([text.slice(at, end) + (end < text.length ? " …" : ""), false]);
  return pieces;
}

async function searchText(query) {
  if (!window.quireSearchText) await loadScript("search-text.js");
  const sections = window.quireSearchText;
  const terms = fold(query).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const patterns = terms.map(termPattern);
  if (!patterns.length) return { count: 0, results: [] };
  const found = [];
  sections.forEach((section, order) => {
    if (section.folded === undefined) foldSection(section);
    let score = 0;
    for (const pattern of patterns) {
      const count = (section.folded.match(pattern) || []).length;
      const inTitle = pattern.test(section.foldedTitle);
      pattern.lastIndex = 0;
      if (!count && !inTitle) return; // every word of the query, or no result
      score += Math.min(count, 10) + (inTitle ? 5 : 0);
    }
    found.push({ section, score, order });
  });
  found.sort((a, b) => b.score - a.score || a.order - b.order);
  return {
    count: found.length,
    results: found.slice(0, RESULTS_SHOWN).map(({ section }) => ({
      href: section.href,
      title: section.title === section.page ? section.page : section.page + ": " + section.title,
      pieces: excerptPieces(section.text, section.folded, patterns),
    })),
  };
}

// Pagefind's excerpt is HTML with <mark> around the hits: kept as [text, isHit] pieces.
function markedPieces(html) {
  const body = new DOMParser().parseFromString(html || "", "text/html").body;
  return Array.from(body.childNodes, (node) => [node.textContent, node.nodeName === "MARK"]);
}

async function searchPagefind(query) {
  pagefind = pagefind || (await import("./pagefind/pagefind.js"));
  const found = await pagefind.search(query);
  const data = await Promise.all(found.results.slice(0, RESULTS_SHOWN).map((r) => r.data()));
  return {
    count: found.results.length,
    results: data.map((d) => {
      // The best section of the page, when Pagefind knows one, so the link opens at the spot.
      const best = (d.sub_results || []).find((s) => s.url.includes("#")) || d;
      const title = d.meta.title || "";
      return {
        // The site is flat: keep the file name, so results work under any folder it is served from.
        href: best.url.split("/").pop() || "index.html",
        title: best !== d && best.title && best.title !== title ? title + ": " + best.title : title,
        pieces: markedPieces(best.excerpt || d.excerpt),
      };
    }),
  };
}

function resultItem(result) {
  const item = document.createElement("li");
  const link = document.createElement("a");
  link.href = result.href;
  link.textContent = result.title || result.href;
  const excerpt = document.createElement("p");
  result.pieces.forEach(([text, hit]) => {
    if (!hit) excerpt.append(text);
    else excerpt.append(Object.assign(document.createElement("mark"), { textContent: text }));
  });
  item.append(link, excerpt);
  return item;
}

async function search(form, results, query) {
  if (!query.trim()) {
    results.replaceChildren();
    return;
  }
  let found;
  try {
    found = location.protocol === "file:" ? await searchText(query) : await searchPagefind(query);
  } catch (error) {
    try {
      found = await searchText(query); // Pagefind's files missing or refused: the text still works
    } catch (failed) {
      const message = document.createElement("p");
      message.textContent = say("SearchFailed");
      console.error(failed);
      results.replaceChildren(message);
      return;
    }
  }
  const count = document.createElement("p");
  const counted = { 0: "NoResults", 1: "OneResult" }[found.count] || "ManyResults";
  count.textContent = say(counted, found.count);
  const list = document.createElement("ol");
  found.results.forEach((result) => list.append(resultItem(result)));
  results.replaceChildren(count, list);
}

function setUpSearch() {
  const box = document.querySelector(".search");
  if (!box) return;
  const form = box.querySelector("form");
  const input = box.querySelector("input");
  const results = box.querySelector(".results");
  box.hidden = false;
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") results.replaceChildren();
  });
  input.addEventListener("input", () => {
    if (!input.value.trim()) results.replaceChildren();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    search(form, results, input.value);
  });
  const query = new URLSearchParams(location.search).get("q");
  if (query) {
    input.value = query;
    search(form, results, query);
  }
}

function openContentsOnWideScreens() {
  const details = document.querySelector(".toc details");
  if (details && window.matchMedia("(min-width: 64em)").matches) details.open = true;
}

setUpSearch();
openContentsOnWideScreens();
