// The chat's actions: send, stop, regenerate, edit, open, follow an answer being written, reconnect.
// It talks to the API and writes the store; it touches no DOM. Views call it through callbacks.

import { ProblemError, SignInRequired, getConversation, stopAnswer } from "../api/client.js";
import { newId, resumeChat, startChat } from "../api/stream.js";
import { emptyChat, newKey } from "../state/store.js";

/** Waits between attempts to reach an answer again after the connection broke. */
export const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 8000];
/** How long a stopped answer's stream may take to end before the page stops reading it. */
export const STOP_WAIT_MS = 3000;
/** A rate limit this short (seconds) is waited out and the message sent by itself. */
export const AUTO_RESEND_MAX_S = 10;

const INTERRUPTED_UNSEEN =
  "The answer was interrupted before it finished; what it had said so far is kept. Retry for a complete answer.";

const UNFINISHED = {
  stopped: "Stopped.",
  failed: "Incomplete answer.",
  interrupted: "Interrupted before it finished.",
};

/**
 * The facts shown under an answer, from the stream's data-model and data-usage parts or a saved
 * message's metadata (the same names; answers saved before that used `duration`, `ttft` and status
 * "partial").
 */
export function answerFacts(model, usage) {
  const facts = { ...model, ...usage };
  if (usage) facts.tokens = (usage.inputTokens || 0) + (usage.outputTokens || 0);
  facts.durationMs ??= facts.duration;
  facts.ttftMs ??= facts.ttft;
  return facts;
}

/** A saved message as the store keeps it. */
export function fromSaved(message) {
  const metadata = message.metadata || {};
  const status = message.status === "complete" && metadata.status === "partial" ? "failed" : message.status || "complete";
  return {
    key: newKey(),
    id: message.id,
    role: message.role,
    content: message.content,
    status,
    facts: message.role === "assistant" ? { ...answerFacts(metadata, metadata.inputTokens == null ? null : metadata), unfinished: UNFINISHED[status] } : {},
  };
}

/** Words for an error: network failures and sign-in have their own. */
export function describe(error) {
  if (error instanceof TypeError) return "Could not reach the server. Check your connection and try again.";
  return error?.message || "Something went wrong. Please try again.";
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });

export class ChatController {
  /**
   * @param {import("../state/store.js").Store} store
   * @param {{model: () => string, labelFor: (id: string) => string,
   *   signInNeeded: (error: SignInRequired) => void, turnEnded: (info: {conversationId: string, fellBack: boolean}) => void}} hooks
   */
  constructor(store, hooks) {
    this.store = store;
    this.hooks = hooks;
    /** The turn being read here: its abort controller and why it was aborted, if it was. */
    this.turn = null;
    this.opening = null;
    this.retryTimer = 0;
    /** What a refused request was, so Retry can send it again. */
    this.lastRequest = null;
    /** A request waiting out a short rate limit, and the messages as they were before it. */
    this.queued = null;
  }

  get state() {
    return this.store.state;
  }

  // --- Opening and leaving conversations ---------------------------------------------------------

  /** Leave what is on screen: an answer being written goes on at the server, only not followed. */
  leave() {
    // A request still on its way is not cut off (the server may have it already): it is let go,
    // and `ask` stops reading its answer once it starts. An answer being read is let go too.
    if (this.turn && !this.turn.sending) this.turn.controller.abort("left");
    this.turn = null;
    this.opening?.abort();
    this.opening = null;
    const queued = this.cancelQueued();
    if (queued) this.hooks.giveBack(queued);
  }

  newChat() {
    this.leave();
    this.store.update(emptyChat());
  }

  async open(id) {
    if (id === this.state.conversationId && !this.state.problem) return;
    this.leave();
    const opening = new AbortController();
    this.opening = opening;
    this.store.update({ ...emptyChat(), conversationId: id, opening: true, status: "Opening the conversation…" });
    try {
      const conversation = await getConversation(id, { signal: opening.signal });
      if (this.opening !== opening) return;
      this.show(conversation);
      const last = conversation.messages.at(-1);
      if (last?.role === "assistant" && last.status === "streaming") this.follow(id);
    } catch (error) {
      if (opening.signal.aborted) return;
      this.fail(error, { opening: false, conversationId: null });
    } finally {
      if (this.opening === opening) this.opening = null;
    }
  }

  /** Show a saved conversation as the server has it. */
  show(conversation) {
    // A message already on screen, unchanged, stays the same object: its view is not drawn again
    // (an open disclosure, a selection and the scroll position survive another tab's answer).
    const shown = new Map(this.state.messages.filter((m) => m.id).map((m) => [m.id, m]));
    const same = (message) => {
      const old = shown.get(message.id);
      return old && old.content === message.content && old.status === (message.status || "complete") ? old : null;
    };
    this.store.update({
      conversationId: conversation.id,
      title: conversation.title || "",
      messages: conversation.messages
        .filter((m) => m.role === "user" || m.role === "assistant")
        .map((m) => same(m) || fromSaved(m)),
      opening: false,
      status: "",
    });
  }

  /** Read the conversation again (after another tab answered in it, or an answer ended unseen). */
  async reload() {
    const id = this.state.conversationId;
    if (!id || this.turn) return;
    try {
      const conversation = await getConversation(id);
      if (this.state.conversationId !== id || this.turn) return;
      this.show(conversation);
      const last = conversation.messages.at(-1);
      if (last?.role === "assistant" && last.status === "streaming") this.follow(id);
    } catch {
      // the conversation on screen stays as it is
    }
  }

  // --- Asking ------------------------------------------------------------------------------------

  /** Send a new question. Resolves false when it was refused (the caller gives the text back). */
  send(text) {
    return this.ask({ text, trigger: "submit-message", messageId: null });
  }

  /** Answer the last question again; the old answer is kept by the server as replaced. */
  regenerate() {
    const question = this.state.messages.findLast((m) => m.role === "user" && m.status !== "replaced");
    if (!question) return Promise.resolve(false);
    return this.ask({ text: question.content, trigger: "regenerate-message", messageId: null });
  }

  /** Replace a saved question (and what followed it) with new text, and answer that. */
  edit(key, text) {
    const question = this.state.messages.find((m) => m.key === key);
    if (!question?.id) return Promise.resolve(false);
    return this.ask({ text, trigger: "submit-message", messageId: question.id });
  }

  /** Send again what was refused (after a rate limit or an error); re-answer what failed. */
  retry() {
    clearTimeout(this.retryTimer);
    const how = this.state.problem?.retry;
    if (how === "regenerate") return this.regenerate();
    if (how === "reconnect") {
      this.store.update({ problem: null });
      return this.reload();
    }
    const request = this.lastRequest;
    if (!request || this.turn) return Promise.resolve(false);
    return this.ask(request);
  }

  async ask(request) {
    if (this.turn || this.state.opening) return false; // one answer at a time
    clearTimeout(this.retryTimer);
    this.lastRequest = null;
    const previousId = this.state.conversationId;
    const conversationId = previousId || newId();
    const before = this.state.messages;
    const controller = new AbortController();
    const turn = { controller, conversationId, fellBack: false, sending: true, stopAsked: false };
    this.turn = turn;
    this.store.update({
      conversationId,
      messages: this.optimistic(before, request),
      live: { key: newKey(), id: null, text: "", phase: "waiting", model: null, usage: null },
      busy: true,
      status: request.trigger === "regenerate-message" ? "Answering again…" : "Thinking…",
      problem: null,
    });

    let events;
    try {
      events = await startChat({ conversationId, ...request, model: this.hooks.model() }, { signal: controller.signal });
    } catch (error) {
      // Refused or unreachable before anything streamed: nothing was taken, so nothing is shown.
      if (this.turn !== turn) return false; // another conversation is on screen: only the text comes back
      this.turn = null;
      this.store.update({ conversationId: previousId, messages: before, live: null, busy: false, status: "" });
      return this.refused(error, request, before);
    }
    turn.sending = false;
    if (this.turn !== turn) {
      controller.abort("left"); // the person went elsewhere meanwhile: the answer goes on unread
      return true;
    }
    if (turn.stopAsked) this.stopAtServer(turn);
    await this.read(events, turn);
    return true;
  }

  /** The messages on screen once a request is sent, before the server has said anything. */
  optimistic(messages, { text, trigger, messageId }) {
    if (trigger === "regenerate-message") {
      const last = messages.at(-1);
      return last?.role === "assistant" ? [...messages.slice(0, -1), { ...last, status: "replaced" }] : messages;
    }
    let kept = messages;
    if (messageId) {
      const at = messages.findIndex((m) => m.id === messageId);
      if (at !== -1) kept = [...messages.slice(0, at), ...messages.slice(at).map((m) => ({ ...m, status: "replaced" }))];
    }
    return [...kept, { key: newKey(), id: null, role: "user", content: text, status: "complete", facts: {} }];
  }

  /** The messages with the last question (sent from this page, so without an id yet) given its id. */
  withQuestionId(id) {
    const messages = this.state.messages;
    const at = messages.findLastIndex((m) => m.role === "user" && m.status !== "replaced");
    if (at === -1 || messages[at].id) return messages;
    return messages.with(at, { ...messages[at], id });
  }

  /** A request the server refused. Returns false, or true when it is queued to go by itself. */
  refused(error, request, before) {
    if (error instanceof SignInRequired) {
      this.hooks.signInNeeded(error);
      this.store.update({ problem: { text: error.message } });
      return false;
    }
    const problem = { text: describe(error), fieldErrors: error instanceof ProblemError ? error.fieldErrors : [] };
    const wait = error instanceof ProblemError ? Number(error.problem.retryAfterSeconds) : NaN;
    if (error instanceof ProblemError && error.status === 429 && Number.isFinite(wait)) {
      problem.retryAt = Date.now() + wait * 1000;
      if (wait <= AUTO_RESEND_MAX_S) {
        // Short: keep the message and send it by itself when the wait is over.
        this.queued = { request, before };
        problem.retry = "queued";
        const shown = this.optimistic(before, request);
        if (request.trigger !== "regenerate-message") shown[shown.length - 1] = { ...shown.at(-1), status: "queued" };
        this.store.update({ problem, messages: shown, busy: true }); // Stop takes it back
        this.retryTimer = setTimeout(() => this.sendQueued(), wait * 1000);
        return true;
      }
    } else if (error instanceof TypeError || (error instanceof ProblemError && error.status >= 500)) {
      problem.retry = "send";
      this.lastRequest = request;
    }
    this.store.update({ problem });
    return false;
  }

  sendQueued() {
    const queued = this.queued;
    if (!queued) return;
    this.queued = null;
    this.store.update({ messages: queued.before, problem: null });
    this.ask(queued.request);
  }

  /** Take back a request waiting out a rate limit; returns the text of a message for the box. */
  cancelQueued() {
    clearTimeout(this.retryTimer);
    const queued = this.queued;
    if (!queued) return null;
    this.queued = null;
    this.store.update({ messages: queued.before, problem: null, status: "", busy: false });
    return queued.request.trigger === "regenerate-message" ? null : queued.request.text;
  }

  // --- Reading an answer -------------------------------------------------------------------------

  /** Follow an answer being written (after a reload, in a second tab, or after opening it). */
  async follow(conversationId) {
    if (this.turn) return;
    const turn = { controller: new AbortController(), conversationId, fellBack: false };
    this.turn = turn;
    const saved = this.state.messages.at(-1);
    this.store.update({
      // The stream starts again from the answer's first word: it replaces the saved text.
      messages: saved?.role === "assistant" && saved.status === "streaming" ? this.state.messages.slice(0, -1) : this.state.messages,
      live: { key: saved?.key || newKey(), id: saved?.id || null, text: saved?.content || "", phase: "reconnecting", model: null, usage: null },
      busy: true,
      status: "Following the answer being written…",
    });
    await this.reconnect(turn, { firstTry: true });
  }

  /** Apply the stream's events to the live answer until it ends, reconnecting if it breaks. */
  async read(events, turn) {
    let outcome;
    try {
      outcome = await this.apply(events, turn);
    } catch (error) {
      if (turn.controller.signal.aborted) return this.aborted(turn);
      if (!(error instanceof TypeError)) {
        return this.end(turn, "failed", { text: describe(error), retry: "regenerate" });
      }
      outcome = "broken";
    }
    if (outcome === "broken") await this.reconnect(turn, { firstTry: false });
  }

  /** Returns "finished", "failed", or "broken" (the connection closed before the end). */
  async apply(events, turn) {
    for await (const event of events) {
      if (this.turn !== turn) return "finished";
      const live = this.state.live;
      switch (event.type) {
        case "start":
          this.store.update({ live: { ...live, id: event.messageId || live.id } });
          break;
        case "data-conversation": {
          // The question's id as saved: the page can now offer to edit it.
          const questionId = event.data.questionId;
          const messages = questionId ? this.withQuestionId(questionId) : this.state.messages;
          this.store.update({ title: event.data.title || this.state.title, messages });
          break;
        }
        case "data-model": {
          const model = event.data;
          const patch = { live: { ...live, model } };
          if (model.fallbackReason) {
            turn.fellBack = true;
            // A model that "continues" carries on the text already shown: nothing is taken back.
            const how = model.continues ? "Continuing" : "Answering";
            patch.status = `${how} with ${this.hooks.labelFor(model.model)}: ${model.fallbackReason}.`;
          } else if (live.phase !== "streaming") {
            patch.status = `${this.hooks.labelFor(model.model)} is answering…`;
          }
          this.store.update(patch);
          break;
        }
        case "text-delta": {
          // A resumed stream starts again from the answer's first word: its first piece replaces
          // what was shown (kept until now, in case the stream broke again before saying anything).
          const text = turn.replaying ? event.delta : live.text + event.delta;
          turn.replaying = false;
          turn.delivered = (turn.delivered || 0) + 1;
          this.store.update({ live: { ...this.state.live, text, phase: "streaming" } });
          break;
        }
        case "data-usage":
          this.store.update({ live: { ...live, usage: event.data } });
          break;
        case "finish":
          // A stopped answer ends like a whole one; its facts say it was stopped.
          this.end(turn, this.state.live?.usage?.status === "stopped" || turn.stopAsked ? "stopped" : "complete");
          return "finished";
        case "error":
          turn.fellBack = true;
          this.end(turn, "failed", { text: event.errorText, retry: "regenerate" });
          return "failed";
        case "abort":
          this.end(turn, "stopped");
          return "finished";
        default:
          break; // text-start, text-end, and any part this page does not know yet
      }
    }
    return "broken";
  }

  /** The connection broke (or the page came back to an answer): reach the answer again. */
  async reconnect(turn, { firstTry }) {
    const { signal } = turn.controller;
    for (let attempt = 0; attempt <= RECONNECT_DELAYS_MS.length; attempt++) {
      if (signal.aborted || this.turn !== turn) return;
      if (!(firstTry && attempt === 0)) {
        if (attempt === RECONNECT_DELAYS_MS.length) break;
        const wait = RECONNECT_DELAYS_MS[attempt];
        this.store.update({
          live: { ...this.state.live, phase: "reconnecting" },
          status: `Connection lost. Reconnecting in ${Math.ceil(wait / 1000)} s…`,
        });
        await sleep(wait, signal);
        if (signal.aborted) return this.aborted(turn);
        this.store.update({ status: "Reconnecting…" });
      }
      let events;
      try {
        events = await resumeChat(turn.conversationId, { signal });
      } catch (error) {
        if (signal.aborted) return this.aborted(turn);
        if (error instanceof TypeError || (error instanceof ProblemError && error.status >= 500)) continue;
        if (error instanceof SignInRequired) this.hooks.signInNeeded(error);
        return this.end(turn, "interrupted", { text: describe(error) });
      }
      if (events === null) return this.ended(turn); // nothing being written: it ended meanwhile
      turn.replaying = true;
      const delivered = turn.delivered || 0;
      this.store.update({ live: { ...this.state.live, phase: "waiting" }, status: "Reconnected." });
      try {
        const outcome = await this.apply(events, turn);
        if (outcome !== "broken") return;
      } catch (error) {
        if (signal.aborted) return this.aborted(turn);
        if (!(error instanceof TypeError)) return this.end(turn, "failed", { text: describe(error), retry: "regenerate" });
      }
      if ((turn.delivered || 0) > delivered) attempt = -1; // it was reached: a later break starts the waits afresh
    }
    this.end(turn, "interrupted", {
      text: "The connection was lost and could not be restored. Your question is saved: try again in a moment.",
      retry: "reconnect",
    });
  }

  /** The answer ended while this page was not connected: show it as the server saved it. */
  async ended(turn) {
    try {
      const conversation = await getConversation(turn.conversationId, { signal: turn.controller.signal });
      if (this.turn !== turn) return;
      this.turn = null;
      this.show(conversation);
      const last = conversation.messages.at(-1);
      const broken = last?.role === "assistant" && ["interrupted", "failed"].includes(last.status);
      this.store.update({
        live: null,
        busy: false,
        status: "",
        problem: broken ? { text: INTERRUPTED_UNSEEN, retry: "regenerate" } : null,
      });
      this.hooks.turnEnded({ conversationId: turn.conversationId, fellBack: turn.fellBack });
    } catch {
      if (turn.controller.signal.aborted) this.aborted(turn);
      else if (this.turn === turn) this.end(turn, "interrupted");
    }
  }

  /** Put the live answer among the messages with how it ended. */
  end(turn, status, problem = null) {
    if (this.turn !== turn) return;
    this.turn = null;
    const live = this.state.live;
    const messages = [...this.state.messages];
    // An answer that ended before its first word is not shown: the status or the problem says why.
    if (live?.text) {
      const facts = { ...answerFacts(live.model, live.usage), unfinished: UNFINISHED[status] };
      messages.push({ key: live.key, id: live.id, role: "assistant", content: live.text, status, facts });
    }
    const announcement = status === "complete" ? { text: `Answer: ${live?.text || ""}` } : { text: UNFINISHED[status] || "" };
    this.store.update({
      messages,
      live: null,
      busy: false,
      status: status === "stopped" ? "Stopped." : "",
      problem,
      announcement,
    });
    this.hooks.turnEnded({ conversationId: turn.conversationId, fellBack: turn.fellBack || status === "failed" });
  }

  aborted(turn) {
    if (turn.controller.signal.reason === "left") return; // another conversation is on screen now
    this.end(turn, "stopped");
  }

  // --- Stopping ----------------------------------------------------------------------------------

  /**
   * Stop the answer itself, not only this page's connection to it: the server writes an answer as
   * a task of its own (it outlives a closed tab), so it is told to stop.
   */
  stop() {
    if (this.queued) return this.cancelQueued();
    const turn = this.turn;
    if (!turn || turn.stopAsked) return null;
    turn.stopAsked = true;
    this.store.update({ status: "Stopping…" });
    // Still being sent: the stop is asked for as soon as the answer exists (see `ask`).
    if (!turn.sending) this.stopAtServer(turn);
    return null;
  }

  /**
   * Tell the server, and read on until the stream ends with the answer as it was stopped, so the
   * page shows what was saved and the next message finds the conversation free. If the server
   * cannot be told or does not end the stream soon, stop reading here.
   */
  stopAtServer(turn) {
    const giveUp = () => {
      if (this.turn === turn) turn.controller.abort("stopped");
    };
    const timer = setTimeout(giveUp, STOP_WAIT_MS);
    turn.controller.signal.addEventListener("abort", () => clearTimeout(timer), { once: true });
    stopAnswer(turn.conversationId).catch(giveUp);
  }

  fail(error, patch = {}) {
    if (error instanceof SignInRequired) this.hooks.signInNeeded(error);
    this.store.update({ ...patch, status: "", problem: { text: describe(error), notFound: error instanceof ProblemError && error.status === 404 } });
  }
}
