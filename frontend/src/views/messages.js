// The conversation: the saved messages and the live answer, drawn from the store. Person and model
// text goes in as text or as sanitised markdown (markdown/render.js), never as raw HTML.

import { MarkdownStream, copyButton, renderMarkdown } from "../markdown/render.js";

const NEAR_BOTTOM_PX = 64;
const isNumber = (value) => typeof value === "number" && Number.isFinite(value);

/** "Llama 3.3 70B · groq · 312 tokens · 840 ms (simulated) · fallback: Groq is unavailable" */
export function formatMeta(facts, labelFor = (id) => id) {
  const parts = [];
  if (facts.model) parts.push(labelFor(facts.model));
  if (facts.provider) parts.push(facts.provider);
  // An answer cut off before its usage was known has none to show, rather than "0 tokens".
  if (isNumber(facts.tokens) && facts.tokens > 0) parts.push(`${facts.tokens} tokens`);
  if (isNumber(facts.durationMs) && facts.durationMs > 0) parts.push(`${Math.round(facts.durationMs)} ms`);
  let text = parts.join(" · ");
  if (facts.simulated) text += " (simulated)";
  if (facts.fallbackReason) text += ` · fallback: ${facts.fallbackReason}`;
  return text;
}

function metaTooltip(facts) {
  const parts = [];
  if (isNumber(facts.inputTokens) && isNumber(facts.outputTokens)) {
    parts.push(`${facts.inputTokens} tokens in, ${facts.outputTokens} out`);
  }
  if (isNumber(facts.costCents)) parts.push(`${facts.costCents.toFixed(4)}¢`);
  if (isNumber(facts.ttftMs)) parts.push(`first token after ${Math.round(facts.ttftMs)} ms`);
  return parts.join(", ");
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export class MessagesView {
  /**
   * @param {{log: HTMLElement, scroller: HTMLElement}} elements
   * @param {import("../state/store.js").Store} store
   * @param {{labelFor: (id: string) => string, regenerate: () => void,
   *   edit: (key: string, text: string) => void}} actions
   */
  constructor({ log, scroller }, store, actions) {
    this.log = log;
    this.scroller = scroller;
    this.actions = actions;
    /** @type {Map<string, {message: object, article: HTMLElement, last: boolean, busy: boolean}>} */
    this.shown = new Map();
    /** @type {{key: string, article: HTMLElement, body: HTMLElement, stream: MarkdownStream}|null} */
    this.live = null;
    this.following = true; // the view sticks to the newest text unless the person scrolls up
    scroller.addEventListener("scroll", () => {
      const s = scroller;
      this.following = s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
    }, { passive: true });
    store.subscribe((state, previous) => this.render(state, previous));
    this.render(store.state, {});
  }

  render(state, previous) {
    if (state.conversationId !== previous.conversationId) this.following = true;
    if (state.messages !== previous.messages || state.busy !== previous.busy) this.renderMessages(state);
    if (state.live !== previous.live) this.renderLive(state.live);
  }

  renderMessages({ messages, busy }) {
    const lastQuestion = messages.findLast((m) => m.role === "user" && m.status !== "replaced");
    const lastAnswer = messages.at(-1)?.role === "assistant" ? messages.at(-1) : null;
    const keep = new Set();
    let previous = null;
    for (const message of messages) {
      keep.add(message.key);
      const last = message === lastQuestion || message === lastAnswer;
      let entry = this.shown.get(message.key);
      if (!entry || entry.message !== message) {
        const article =
          this.live?.key === message.key ? this.settle(message, { last, busy }) : this.draw(message, { last, busy });
        if (entry) entry.article.replaceWith(article);
        entry = { message, article, last, busy };
        this.shown.set(message.key, entry);
      } else if (entry.last !== last || entry.busy !== busy) {
        // Only which actions it offers changed: the text is not drawn again.
        entry.article.querySelector(".message__footer").replaceWith(this.footer(entry.article, message, { last, busy }));
        Object.assign(entry, { last, busy });
      }
      const wanted = previous ? previous.nextSibling : this.log.firstChild;
      if (wanted !== entry.article) this.log.insertBefore(entry.article, wanted);
      previous = entry.article;
    }
    for (const [key, entry] of this.shown) {
      if (!keep.has(key)) {
        entry.article.remove();
        this.shown.delete(key);
      }
    }
    if (this.live) this.log.append(this.live.article); // the live answer is always last
    this.stickToEnd();
  }

  /** A saved (or just finished) message. */
  draw(message, { last, busy }) {
    const article = element("article", `message message--${message.role}`);
    article.dataset.status = message.status;
    article.setAttribute("aria-label", message.role === "user" ? "You said" : "Chimera answered");
    const body = element("div", "message__text");
    if (message.role === "assistant") {
      body.classList.add("markdown");
      renderMarkdown(body, message.content);
    } else {
      body.textContent = message.content;
    }
    article.append(body, this.footer(article, message, { last, busy }));
    if (message.status === "replaced") this.fold(article, message);
    return article;
  }

  /** The live answer's element becomes the saved message: its text is rendered to the end. */
  settle(message, { last, busy }) {
    const { article, stream } = this.live;
    this.live = null;
    stream.finish(message.content);
    article.removeAttribute("aria-busy");
    article.setAttribute("aria-label", "Chimera answered");
    article.dataset.status = message.status;
    article.classList.remove("message--live");
    article.querySelector(".message__typing")?.remove();
    article.append(this.footer(article, message, { last, busy }));
    return article;
  }

  /** What goes under a message: the answer's facts and the actions it offers now. */
  footer(article, message, { last, busy }) {
    const footer = element("div", "message__footer");
    if (message.role === "assistant") {
      const meta = formatMeta(message.facts, this.actions.labelFor);
      if (meta) {
        const line = element("p", "message__meta", meta);
        line.title = metaTooltip(message.facts);
        footer.append(line);
      }
      if (message.facts.unfinished) footer.append(element("p", "message__note", message.facts.unfinished));
    }
    if (message.status === "queued") footer.append(element("p", "message__note", "Waiting to send…"));
    const actions = element("div", "message__actions");
    if (message.status !== "queued") actions.append(copyButton(() => message.content, "Copy"));
    if (last && !busy && message.role === "assistant" && message.status !== "replaced") {
      actions.append(this.button("Regenerate", () => this.actions.regenerate()));
    }
    if (last && !busy && message.role === "user" && message.id && message.status !== "queued") {
      actions.append(this.button("Edit", () => this.startEdit(article, message)));
    }
    footer.append(actions);
    return footer;
  }

  /** A replaced message (regenerated, or edited) stays readable behind a disclosure. */
  fold(article, message) {
    const details = element("details", "message__replaced");
    const summary = element("summary", "", message.role === "user" ? "Earlier question (edited)" : "Earlier answer (replaced)");
    details.append(summary, ...article.childNodes);
    article.replaceChildren(details);
  }

  button(label, onClick) {
    const button = element("button", "message__action", label);
    button.type = "button";
    button.addEventListener("click", onClick);
    return button;
  }

  /** Edit the last question in place: Save sends it as a new version, Cancel or Escape keeps it. */
  startEdit(article, message) {
    const body = article.querySelector(".message__text");
    const form = element("form", "message__edit");
    const label = element("label", "visually-hidden", "Edit your message");
    const input = element("textarea", "message__edit-input");
    input.id = `edit-${message.key}`;
    label.htmlFor = input.id;
    input.value = message.content;
    input.rows = Math.min(10, message.content.split("\n").length + 1);
    const row = element("div", "message__edit-actions");
    const cancel = element("button", "button button--secondary", "Cancel");
    cancel.type = "button";
    const save = element("button", "button button--primary", "Send");
    save.type = "submit";
    row.append(cancel, save);
    form.append(label, input, row);
    body.hidden = true;
    article.querySelector(".message__footer").hidden = true;
    article.append(form);
    const trigger = document.activeElement;
    input.focus();
    const close = () => {
      form.remove();
      body.hidden = false;
      article.querySelector(".message__footer").hidden = false;
      // Back to the Edit button that opened it (or, should it be gone, the message's first action).
      (trigger?.isConnected ? trigger : article.querySelector(".message__action"))?.focus();
    };
    cancel.addEventListener("click", close);
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation(); // Escape here cancels the edit, not an answer
        close();
      } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = input.value;
      if (!text.trim() || text === message.content) return close();
      this.actions.edit(message.key, text);
    });
  }

  renderLive(live) {
    if (!live) {
      // Ended without becoming a message (a refused request): take the placeholder away.
      if (this.live) {
        this.live.article.remove();
        this.live = null;
      }
      return;
    }
    if (this.live?.key !== live.key) {
      this.live?.article.remove();
      const article = element("article", "message message--assistant message--live");
      article.setAttribute("aria-label", "Chimera is answering");
      // Screen readers hear the answer once, when it is complete (the announcer says it), not
      // word by word.
      article.setAttribute("aria-busy", "true");
      const body = element("div", "message__text markdown");
      const stream = new MarkdownStream(body, { rendered: () => this.stickToEnd() });
      const typing = element("div", "message__typing");
      typing.setAttribute("aria-hidden", "true");
      typing.append(element("span"), element("span"), element("span"));
      article.append(typing, body);
      this.live = { key: live.key, article, body, stream, text: "" };
      this.log.append(article);
      this.stickToEnd();
    }
    // Set only when it changes: a write, even of the same value, restyles and repaints the answer.
    if (this.live.article.dataset.phase !== live.phase) this.live.article.dataset.phase = live.phase;
    if (live.text !== this.live.text) {
      if (!live.text.startsWith(this.live.text)) {
        // The stream started again from the beginning (a reconnect): draw it afresh.
        this.live.stream.cancel();
        this.live.stream = new MarkdownStream(this.live.body, { rendered: () => this.stickToEnd() });
      }
      this.live.text = live.text;
      this.live.stream.update(live.text);
    }
  }

  /** Keep the newest text in view unless the person scrolled up to read. */
  stickToEnd() {
    if (this.following) this.scroller.scrollTop = this.scroller.scrollHeight;
  }
}
