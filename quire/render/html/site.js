// Quire web edition: notes that open in place, search, contents open on wide screens.
// Everything works without this script: note references are plain links to the notes.
"use strict";

const BLOCKS = "p, li, dd, dt, td, th, blockquote, figcaption, h1, h2, h3, h4, h5, h6";

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
  box.setAttribute("aria-label", "Note " + ref.textContent.trim());
  const body = note.cloneNode(true);
  body.querySelectorAll("[id]").forEach((el) => el.removeAttribute("id"));
  body.querySelectorAll("[role=doc-backlink]").forEach((el) => el.remove());
  body.removeAttribute("role");
  body.className = "note-text";
  const close = document.createElement("button");
  close.type = "button";
  close.className = "note-close";
  close.textContent = "Close note";
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

// Search: Pagefind's index, loaded only when a reader searches.
let pagefind = null;

function resultItem(result) {
  const item = document.createElement("li");
  const link = document.createElement("a");
  // The site is flat: keep the file name, so results work under any folder it is served from.
  link.href = result.url.split("/").pop() || "index.html";
  link.textContent = result.meta.title || link.href;
  const excerpt = document.createElement("p");
  excerpt.textContent = result.plainExcerpt || "";
  item.append(link, excerpt);
  return item;
}

async function search(form, results, query) {
  if (!query.trim()) {
    results.replaceChildren();
    return;
  }
  try {
    pagefind = pagefind || (await import("./pagefind/pagefind.js"));
    const found = await pagefind.search(query);
    const data = await Promise.all(found.results.slice(0, 10).map((r) => r.data()));
    const list = document.createElement("ol");
    data.forEach((d) => {
      d.plainExcerpt = new DOMParser().parseFromString(d.excerpt || "", "text/html").body.textContent;
      list.append(resultItem(d));
    });
    const count = document.createElement("p");
    count.textContent = found.results.length === 1 ? "1 page found" : found.results.length + " pages found";
    results.replaceChildren(count, list);
  } catch (error) {
    const message = document.createElement("p");
    message.textContent = "Search needs the book to be served over http (python build.py --serve).";
    results.replaceChildren(message);
  }
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
