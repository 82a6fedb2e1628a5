/*
 * memserve demo site script.
 *
 * The file name carries a content hash (app.3f9a1c2b.js), so memserve sends it with
 * "Cache-Control: public, max-age=31536000, immutable". It is loaded from <head> without
 * `defer` so the saved theme is applied before the first paint; everything that touches
 * the page body waits for DOMContentLoaded.
 */
(() => {
  "use strict";

  const STORAGE_KEY = "memserve-demo-theme";
  const root = document.documentElement;
  const darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function readSavedTheme() {
    try {
      const value = window.localStorage.getItem(STORAGE_KEY);
      return value === "dark" || value === "light" ? value : null;
    } catch {
      // Storage can be disabled (private mode, file:// pages, strict settings).
      return null;
    }
  }

  function saveTheme(theme) {
    try {
      window.localStorage.setItem(STORAGE_KEY, theme);
    } catch {
      // Not persisting is fine: the toggle still works for this page view.
    }
  }

  function systemTheme() {
    return darkQuery?.matches ? "dark" : "light";
  }

  function currentTheme() {
    return root.getAttribute("data-theme") === "dark" ? "dark" : "light";
  }

  function applyTheme(theme) {
    root.setAttribute("data-theme", theme);
    const button = document.querySelector("[data-theme-toggle]");
    if (button) {
      const next = theme === "dark" ? "light" : "dark";
      button.textContent = theme === "dark" ? "\u2600\ufe0f" : "\u{1f319}";
      button.setAttribute("aria-label", `Switch to ${next} theme`);
      button.setAttribute("title", `Switch to ${next} theme`);
      button.setAttribute("aria-pressed", String(theme === "dark"));
    }
  }

  // Before first paint: saved choice first, then the operating system's preference.
  applyTheme(readSavedTheme() ?? systemTheme());

  // Follow the system setting live, unless the visitor picked a theme themselves.
  darkQuery?.addEventListener?.("change", () => {
    if (readSavedTheme() === null) applyTheme(systemTheme());
  });

  function setUpThemeToggle() {
    const button = document.querySelector("[data-theme-toggle]");
    if (!button) return;
    applyTheme(currentTheme());
    button.addEventListener("click", () => {
      const next = currentTheme() === "dark" ? "light" : "dark";
      saveTheme(next);
      applyTheme(next);
    });
  }

  function setUpCopyButtons() {
    if (!navigator.clipboard) return;
    for (const pre of document.querySelectorAll("pre")) {
      const code = pre.querySelector("code");
      if (!code) continue;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "copy-button";
      button.textContent = "Copy";
      button.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(code.textContent ?? "");
          button.textContent = "Copied";
        } catch {
          button.textContent = "Failed";
        }
        window.setTimeout(() => {
          button.textContent = "Copy";
        }, 1500);
      });
      pre.appendChild(button);
    }
  }

  /*
   * Shows what memserve answered for a few URLs of this site, using HEAD requests so no
   * body is transferred. Header names are those a browser lets scripts read for a
   * same-origin response.
   */
  const SHOWN_HEADERS = [
    "content-type",
    "content-length",
    "content-encoding",
    "etag",
    "last-modified",
    "cache-control",
    "vary",
  ];

  async function describe(url) {
    const response = await fetch(url, { method: "HEAD", cache: "no-store" });
    const rows = [["status", `${response.status} ${response.statusText}`.trim()]];
    for (const name of SHOWN_HEADERS) {
      const value = response.headers.get(name);
      if (value !== null) rows.push([name, value]);
    }
    return rows;
  }

  function renderRows(target, rows) {
    const list = document.createElement("dl");
    for (const [name, value] of rows) {
      const term = document.createElement("dt");
      term.textContent = name;
      const detail = document.createElement("dd");
      detail.textContent = value;
      list.append(term, detail);
    }
    target.replaceChildren(list);
  }

  function setUpResponseInspector() {
    const select = document.querySelector("[data-inspect-select]");
    const output = document.querySelector("[data-inspect-output]");
    if (!select || !output || !window.fetch) return;

    let generation = 0;
    async function inspect() {
      const mine = ++generation;
      output.textContent = "Loading\u2026";
      try {
        const rows = await describe(select.value);
        if (mine === generation) renderRows(output, rows);
      } catch (error) {
        if (mine === generation) output.textContent = `Request failed: ${error}`;
      }
    }

    select.addEventListener("change", inspect);
    inspect();
  }

  function markCurrentPage() {
    const here = window.location.pathname.replace(/index\.html$/, "");
    for (const link of document.querySelectorAll(".nav a")) {
      const target = new URL(link.getAttribute("href") ?? "", window.location.href);
      if (target.pathname.replace(/index\.html$/, "") === here) {
        link.setAttribute("aria-current", "page");
      }
    }
  }

  function start() {
    setUpThemeToggle();
    setUpCopyButtons();
    setUpResponseInspector();
    markCurrentPage();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
