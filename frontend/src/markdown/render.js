// Answers are markdown: parsed by marked, sanitised by DOMPurify, code highlighted by highlight.js.
// A streaming answer is rendered incrementally: the blocks that can no longer change are rendered
// once and kept; only the last block is parsed again, on an animation frame at most ten times a
// second. So the work per frame stays small however long the answer grows (a 2,000-token answer
// streams with no long task), and a selection or a copy button in an earlier block is never thrown
// away.

import DOMPurify from "dompurify";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdown from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import { Lexer, Marked } from "marked";

// The languages models write most; others show as plain code (auto-detection is slow and guesses).
const LANGUAGES = { bash, c, cpp, css, diff, go, java, javascript, json, markdown, python, rust, shell, sql, typescript, xml, yaml };
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);

const escapeHtml = (text) =>
  text.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]);

const marked = new Marked({
  gfm: true,
  renderer: {
    // HTML a model writes is shown as text, never run or rendered (DOMPurify would also catch it).
    html: ({ text }) => escapeHtml(text),
    // An image would be fetched from wherever the answer says: a way to leak the conversation out
    // through its URL. Show it as a link the person can choose to open.
    image: ({ href, text }) => `<a href="${escapeHtml(href || "")}">${escapeHtml(text || href || "image")}</a>`,
  },
});

const ALLOWED_TAGS = [
  "a", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "input",
  "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
];
const ALLOWED_ATTR = ["href", "title", "class", "start", "align", "type", "checked", "disabled"];

// Links open in a new tab without handing it this page (window.opener) or the referrer.
DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A" && node.hasAttribute("href")) {
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
  if (node.tagName === "INPUT" && node.getAttribute("type") !== "checkbox") node.remove();
});

/** Markdown tokens as a sanitised fragment, code highlighted when `final`. */
function toFragment(tokens, { final }) {
  const html = marked.parser(tokens);
  const fragment = DOMPurify.sanitize(html, { ALLOWED_TAGS, ALLOWED_ATTR, RETURN_DOM_FRAGMENT: true });
  for (const pre of fragment.querySelectorAll("pre")) decorateCode(pre, { final });
  // A wide table scrolls sideways (styles.css): the keyboard must be able to reach it, as a code block.
  for (const table of fragment.querySelectorAll("table")) table.tabIndex = 0;
  return fragment;
}

function decorateCode(pre, { final }) {
  const code = pre.querySelector("code");
  if (!code) return;
  const language = /language-([\w+-]+)/.exec(code.className)?.[1]?.toLowerCase();
  if (final && language && hljs.getLanguage(language)) {
    // highlight.js escapes the code it wraps in spans; the text was already sanitised text.
    code.innerHTML = hljs.highlight(code.textContent, { language, ignoreIllegals: true }).value;
    code.classList.add("hljs");
  }
  const block = document.createElement("div");
  block.className = "code-block";
  const bar = document.createElement("div");
  bar.className = "code-block__bar";
  const name = document.createElement("span");
  name.className = "code-block__language";
  name.textContent = language || "text";
  bar.append(name);
  if (final) bar.append(copyButton(() => code.textContent, "Copy code"));
  pre.replaceWith(block);
  block.append(bar, pre);
  pre.tabIndex = 0; // a wide block scrolls sideways: the keyboard must be able to reach it
}

/** A small button that copies `text()` and says so for two seconds. */
export function copyButton(text, label = "Copy") {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "copy-button";
  button.textContent = label;
  button.dataset.copy = "";
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text());
      button.textContent = "Copied";
    } catch {
      button.textContent = "Copy failed";
    }
    setTimeout(() => (button.textContent = label), 2000);
  });
  return button;
}

// The lexer turns CR LF into LF; the stream must count characters as the lexer does.
const normalise = (text) => text.replace(/\r\n?/g, "\n");

/** A streaming answer is drawn at most this often: about ten times a second still reads as live. */
const RENDER_INTERVAL_MS = 100;

// highlight.js compiles a language's grammar the first time it meets it, and the parser and the
// sanitiser are compiled on first use: that first time costs tens of milliseconds, which would land
// in the middle of the first answer. Done here instead, in small pieces at idle moments after load.
// An idle moment may last 50 ms: one that filled it would itself be a long task (seen at 53 ms on a
// busy machine), so each does at most WARM_SLICE_MS of pieces.
const WARM_SLICE_MS = 8;

function warmUp() {
  if (typeof requestIdleCallback !== "function") return;
  const sample = "# T\n\n- *a* [b](https://example.com) `c`\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n```js\nx\n```\n";
  let tokens = [];
  const steps = [
    () => (tokens = marked.lexer(sample)),
    () => marked.parser(tokens),
    () => toFragment(tokens, { final: false }), // the sanitiser's first use
    ...Object.keys(LANGUAGES).map((language) => () => hljs.highlight("x", { language, ignoreIllegals: true })),
  ];
  const next = (deadline) => {
    const until = performance.now() + WARM_SLICE_MS;
    while (steps.length && deadline.timeRemaining() > 5 && performance.now() < until) steps.shift()();
    if (steps.length) requestIdleCallback(next, { timeout: 5000 });
  };
  requestIdleCallback(next, { timeout: 5000 });
}
warmUp();

/** A whole answer at once (a saved one). */
export function renderMarkdown(container, text) {
  const tokens = marked.lexer(text);
  container.replaceChildren(toFragment(tokens, { final: true }));
}

/**
 * A streaming answer. `update(text)` takes the whole text so far and renders on the next frame;
 * `finish(text)` renders at once, the last block included, with highlighting.
 */
export class MarkdownStream {
  /** @param {HTMLElement} container @param {{rendered?: () => void}} [hooks] after each render */
  constructor(container, { rendered = () => {} } = {}) {
    this.container = container;
    this.rendered = rendered;
    this.text = "";
    this.committed = 0; // characters of `text` already rendered as final blocks
    this.links = {}; // reference definitions seen so far: a later block may use one
    this.linksLate = false; // a definition came after blocks were settled: they may have used it
    this.tail = document.createElement("div");
    this.tail.className = "markdown-tail";
    container.replaceChildren(this.tail);
    this.frame = 0;
    this.timer = 0;
    this.renderedAt = -Infinity;
  }

  update(text) {
    this.text = normalise(text);
    if (this.frame || this.timer) return;
    // At most one render per RENDER_INTERVAL_MS, on an animation frame: each render costs a layout
    // and a paint of the growing answer, and 60 of them a second starve a busy machine's main thread.
    const wait = this.renderedAt + RENDER_INTERVAL_MS - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = 0;
        this.schedule();
      }, wait);
    } else {
      this.schedule();
    }
  }

  schedule() {
    this.frame ||= requestAnimationFrame(() => {
      this.frame = 0;
      this.render(false);
    });
  }

  /** Drop a render still to come (the answer is drawn afresh by another stream). */
  cancel() {
    cancelAnimationFrame(this.frame);
    clearTimeout(this.timer);
    this.frame = 0;
    this.timer = 0;
  }

  finish(text = this.text) {
    this.cancel();
    this.text = normalise(text);
    if (this.linksLate) {
      // A reference defined below its use (models put them at the end): settled blocks were drawn
      // without it. Once, at the end, the whole answer is drawn as a saved one would be.
      renderMarkdown(this.container, this.text);
      this.rendered();
      return;
    }
    this.render(true);
  }

  render(final) {
    const rest = this.text.slice(this.committed);
    // References resolve while lexing: the lexer starts with the definitions already seen.
    const lexer = new Lexer(marked.defaults);
    Object.assign(lexer.tokens.links, this.links);
    const tokens = lexer.lex(rest);
    if (this.committed > 0 && Object.keys(tokens.links).some((label) => !(label in this.links))) this.linksLate = true;
    Object.assign(this.links, tokens.links);
    // Every block but the last can no longer change (the last may still be growing: a paragraph, a
    // list, an open code fence, a table waiting for its rows). Trailing blank lines do not count.
    const before = (i) => {
      let j = i - 1;
      while (j > 0 && tokens[j].type === "space") j--;
      return Math.max(0, j);
    };
    let last = tokens.length - 1;
    while (last > 0 && tokens[last].type === "space") last--;
    // A last block of a few characters ("2", "-") may yet join the block before it (the next item
    // of a list after a blank line): that one waits too.
    const open = last > 0 && tokens[last].raw.trim().length <= 3 ? before(last) : last;
    const settled = final ? tokens.length : open;
    if (settled > 0) {
      const done = Object.assign(tokens.slice(0, settled), { links: this.links });
      this.container.insertBefore(toFragment(done, { final: true }), this.tail);
      this.committed += done.reduce((length, token) => length + token.raw.length, 0);
    }
    const growing = Object.assign(tokens.slice(settled), { links: this.links });
    this.tail.replaceChildren(growing.length ? toFragment(growing, { final: false }) : "");
    if (final) this.tail.remove();
    this.renderedAt = performance.now();
    this.rendered();
  }
}
