// DOM rendering. Model and user text only ever goes in through textContent.

const ROLE_LABELS = { user: "You", assistant: "Assistant" };
const NEAR_BOTTOM_PX = 48;

/**
 * The facts shown under an answer, from the stream's data-model and data-usage parts.
 * @returns {{model?, provider?, simulated?, fallbackReason?, tokens?, durationMs?, ttftMs?,
 *   inputTokens?, outputTokens?, costCents?, unfinished?: string}}
 */
export function liveFacts(model, usage) {
  const facts = { ...model };
  if (usage) {
    Object.assign(facts, usage, { tokens: usage.inputTokens + usage.outputTokens });
  }
  return facts;
}

const UNFINISHED = { stopped: "Stopped.", failed: "Incomplete answer.", interrupted: "Interrupted before it finished." };

/** The same facts from a saved assistant message: its metadata (the same names the stream uses;
 * answers saved before that used `duration`, `ttft` and status "partial") and its status. */
export function storedFacts(message) {
  const metadata = message.metadata || {};
  const status = message.status === "complete" && metadata.status === "partial" ? "failed" : message.status;
  return {
    ...metadata,
    durationMs: metadata.durationMs ?? metadata.duration,
    ttftMs: metadata.ttftMs ?? metadata.ttft,
    unfinished: UNFINISHED[status],
  };
}

const isNumber = (value) => typeof value === "number" && Number.isFinite(value);

/** "groq-llama-8b · groq · 312 tokens · 840 ms (simulated) · fallback: Groq is unavailable" */
export function formatMeta(facts) {
  const parts = [];
  if (facts.model) parts.push(facts.model);
  if (facts.provider) parts.push(facts.provider);
  if (isNumber(facts.tokens)) parts.push(`${facts.tokens} tokens`);
  if (isNumber(facts.durationMs)) parts.push(`${Math.round(facts.durationMs)} ms`);
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

/** One assistant answer as it streams in. */
class AssistantMessage {
  constructor(view, article, textEl) {
    this.view = view;
    this.article = article;
    this.textEl = textEl;
  }

  get text() {
    return this.textEl.textContent;
  }

  append(delta) {
    this.view.keepScrolled(() => {
      this.textEl.append(delta);
    });
  }

  /** @param {ReturnType<typeof liveFacts>} facts */
  finish(facts) {
    this.article.removeAttribute("aria-busy");
    this.addNote(formatMeta(facts), "message__meta", metaTooltip(facts));
  }

  /** The answer ended without finishing (stopped, failed, cut off). */
  interrupt(note) {
    this.article.removeAttribute("aria-busy");
    this.article.classList.add("message--interrupted");
    this.addNote(note, "message__note");
  }

  addNote(text, className, title = "") {
    if (!text) return;
    const note = document.createElement("p");
    note.className = className;
    note.textContent = text;
    if (title) note.title = title;
    this.view.keepScrolled(() => this.article.append(note));
  }
}

export class ChatView {
  constructor(doc = document) {
    const $ = (id) => doc.getElementById(id);
    this.scroller = $("conversation");
    this.log = $("messages");
    this.title = $("conversation-title");
    this.status = $("status");
    this.error = $("error");
    this.prompt = $("prompt");
    this.send = $("send");
    this.stop = $("stop");
    this.model = $("model");
    this.badge = $("simulated-badge");
  }

  addUserMessage(text) {
    const { article } = this.addMessage("user", text);
    return article;
  }

  removeMessage(article) {
    article.remove();
  }

  /** The last answer on screen, if it is the last message (a saved answer still being generated). */
  lastAnswer() {
    const last = this.log.lastElementChild;
    return last?.classList.contains("message--assistant") ? last : null;
  }

  startAssistantMessage() {
    const { article, textEl } = this.addMessage("assistant", "");
    // Screen readers wait for the whole answer instead of reading every word as it lands.
    article.setAttribute("aria-busy", "true");
    return new AssistantMessage(this, article, textEl);
  }

  /** Show a saved conversation, oldest message first, and follow it to its end. */
  showConversation(conversation) {
    this.clearConversation();
    for (const message of conversation.messages) {
      if (message.role === "assistant") this.addSavedAnswer(message.content, storedFacts(message));
      else if (message.role === "user") this.addMessage("user", message.content);
    }
    this.setConversation(conversation.id, conversation.title);
    this.scrollToEnd();
  }

  addSavedAnswer(text, facts) {
    const { article, textEl } = this.addMessage("assistant", text);
    const answer = new AssistantMessage(this, article, textEl);
    answer.addNote(formatMeta(facts), "message__meta", metaTooltip(facts));
    if (facts.unfinished) answer.interrupt(facts.unfinished);
  }

  addMessage(role, text) {
    const article = document.createElement("article");
    article.className = `message message--${role}`;
    const label = document.createElement("p");
    label.className = "message__role";
    label.textContent = ROLE_LABELS[role];
    const textEl = document.createElement("div");
    textEl.className = "message__text";
    textEl.textContent = text;
    article.append(label, textEl);
    this.log.append(article);
    this.scrollToEnd();
    return { article, textEl };
  }

  /** Run a DOM change, then follow the answer down unless the person has scrolled up to read. */
  keepScrolled(change) {
    const s = this.scroller;
    const following = s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
    change();
    if (following) this.scrollToEnd();
  }

  scrollToEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  clearConversation() {
    this.log.replaceChildren();
    this.setConversation(null, "");
    this.setStatus("");
    this.clearError();
  }

  /** Kept on the log so tests and anyone debugging can see which conversation is on screen. */
  setConversation(conversationId, title) {
    if (conversationId) this.log.dataset.conversationId = conversationId;
    else delete this.log.dataset.conversationId;
    this.setTitle(title);
  }

  setTitle(title) {
    this.title.textContent = title || "";
    this.title.hidden = !title;
    document.title = title ? `${title} · Chimera` : "Chimera";
  }

  setStatus(text) {
    this.status.textContent = text;
  }

  /** Show an error in the alert region: a sentence, then any per-field messages. */
  showError(text, fieldErrors = []) {
    // The alert grows the footer and so shrinks the conversation; keep its end in view.
    this.keepScrolled(() => this.renderError(text, fieldErrors));
  }

  renderError(text, fieldErrors) {
    this.error.replaceChildren();
    const sentence = document.createElement("p");
    sentence.textContent = text;
    this.error.append(sentence);
    // Field messages the detail already spells out are left out rather than said twice.
    const extra = [...new Set(fieldErrors.map((e) => e.message).filter((m) => m && !text.includes(m)))];
    if (extra.length) {
      const list = document.createElement("ul");
      for (const message of extra) {
        const item = document.createElement("li");
        item.textContent = message;
        list.append(item);
      }
      this.error.append(list);
    }
    this.error.hidden = false;
  }

  clearError() {
    this.error.hidden = true;
    this.error.replaceChildren();
  }

  setStreaming(streaming) {
    const stopHadFocus = document.activeElement === this.stop;
    this.send.disabled = streaming;
    this.stop.disabled = !streaming;
    if (!streaming && stopHadFocus) this.prompt.focus();
  }

  showSimulated(simulated) {
    this.badge.hidden = !simulated;
  }

  /** Put text back in the box after a refusal, without clobbering anything typed since. */
  restorePrompt(text) {
    const current = this.prompt.value;
    this.prompt.value = current ? `${text}\n${current}` : text;
    this.prompt.focus();
  }
}
