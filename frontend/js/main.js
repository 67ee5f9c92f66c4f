// Binding: wires the form and buttons to the stream client and the view, the model picker and the
// sidebar (the conversation list and usage) to the API.

import {
  ProblemError,
  SignInRequired,
  deleteConversation,
  getConversation,
  getUsage,
  listConversations,
  listModels,
  renameConversation,
  stopAnswer,
} from "./api.js";
import { ConversationList } from "./history.js";
import { ModelPicker } from "./models.js";
import { Sidebar, SignInNotice } from "./panels.js";
import { resumeChat, startChat } from "./stream.js";
import { ChatView, liveFacts } from "./ui.js";
import { UsagePanel } from "./usage.js";

const view = new ChatView(document);
const form = document.getElementById("composer");
const state = {
  /** @type {string|null} set by the first answer's data-conversation event, or by opening one */
  conversationId: null,
  /** @type {AbortController|null} present while a request or stream is in flight */
  controller: null,
  /** @type {AbortController|null} present while a saved conversation is being fetched */
  opening: null,
};

const modelPicker = new ModelPicker(view.model, { load: () => listModels() });
const sidebar = new Sidebar(document);
const signIn = new SignInNotice(document, { saved: refreshSidebar });
const usagePanel = new UsagePanel(document);
const conversationList = new ConversationList(document, {
  loadPage: (cursor) => listConversations({ cursor }),
  open: openConversation,
  rename: async (id, title) => {
    const item = await renameConversation(id, title);
    if (id === state.conversationId) view.setTitle(item.title);
    return item;
  },
  remove: async (id) => {
    await deleteConversation(id);
    if (id === state.conversationId) startNewChat();
  },
  failed: describe,
});

/** A sentence for an error from the API; asks for sign-in when that is what is missing. */
function describe(error) {
  if (error instanceof SignInRequired) signIn.show(error);
  if (error instanceof TypeError) return "Could not reach the server. Check your connection and try again.";
  return error.message || "Something went wrong. Please try again.";
}

async function checkHealth() {
  try {
    const response = await fetch("/api/health");
    if (!response.ok) throw new Error(`health ${response.status}`);
    const health = await response.json();
    view.showSimulated(health.simulated === true);
  } catch {
    view.setStatus("The server is not answering right now; sending may fail.");
  }
}

async function refreshUsage() {
  try {
    usagePanel.show(await getUsage());
  } catch (error) {
    usagePanel.setNote(`Could not load usage. ${describe(error)}`);
  }
}

function refreshSidebar() {
  return Promise.all([conversationList.refresh(), refreshUsage()]);
}

// The address names the conversation on screen (#/c/<id>): a reload, back and forward, and a
// shared link reopen it. A fragment, so the static host needs no rewrites.
function conversationInAddress() {
  const match = /^#\/c\/([A-Za-z0-9_-]+)$/.exec(location.hash);
  return match ? match[1] : null;
}

function showInAddress(id) {
  const hash = id ? `#/c/${id}` : "";
  if (location.hash === hash) return;
  history.pushState(null, "", hash || location.pathname + location.search);
}

async function openConversation(id, { fromAddress = false } = {}) {
  state.controller?.abort(); // leaves an answer being generated running: it is only not followed here
  state.opening?.abort();
  const opening = new AbortController();
  state.opening = opening;
  view.clearError();
  view.setStatus("Opening the conversation…");
  try {
    const conversation = await getConversation(id, { signal: opening.signal });
    if (state.opening !== opening) return;
    view.showConversation(conversation);
    state.conversationId = conversation.id;
    conversationList.setActive(conversation.id);
    if (!fromAddress) showInAddress(conversation.id);
    view.setStatus("");
    if (sidebar.close()) view.prompt.focus(); // on a phone the list covered the conversation
    const last = conversation.messages[conversation.messages.length - 1];
    if (last?.role === "assistant" && last.status === "streaming") followAnswer(conversation.id);
  } catch (error) {
    if (opening.signal.aborted) return;
    view.setStatus("");
    view.showError(describe(error));
    if (error instanceof ProblemError && error.status === 404) conversationList.refresh();
  } finally {
    if (state.opening === opening) state.opening = null;
  }
}

/** An answer still being generated (after a reload, or from another tab) completes before your eyes. */
async function followAnswer(conversationId) {
  const controller = new AbortController();
  state.controller = controller;
  view.setStreaming(true);
  view.setStatus("Following the answer being written…");
  try {
    const events = await resumeChat(conversationId, { signal: controller.signal });
    if (events === null || state.conversationId !== conversationId) {
      view.setStatus("");
      return;
    }
    const saved = view.lastAnswer();
    if (saved) view.removeMessage(saved); // the stream sends it again from its start
    const answer = view.startAssistantMessage();
    const outcome = await renderStream(events, answer, { providersChanged: false });
    if (outcome === "incomplete") answer.interrupt("Incomplete answer.");
    view.setStatus("");
  } catch (error) {
    view.setStatus(controller.signal.aborted ? "Stopped." : "");
    if (!controller.signal.aborted) view.showError(midStreamMessage(error));
  } finally {
    finishTurn(controller);
  }
}

function startNewChat({ fromAddress = false } = {}) {
  state.controller?.abort();
  state.opening?.abort();
  state.conversationId = null;
  view.clearConversation();
  conversationList.setActive(null);
  if (!fromAddress) showInAddress(null);
}

window.addEventListener("popstate", () => {
  const id = conversationInAddress();
  if (id === state.conversationId) return;
  if (id) openConversation(id, { fromAddress: true });
  else startNewChat({ fromAddress: true });
});

async function send(text) {
  state.opening?.abort(); // the message goes to the conversation on screen
  const controller = new AbortController();
  state.controller = controller;
  view.clearError();
  view.setStreaming(true);
  view.setStatus("Thinking…");
  const userMessage = view.addUserMessage(text);

  let events;
  try {
    events = await startChat(
      { message: text, conversationId: state.conversationId, model: view.model.value },
      { signal: controller.signal },
    );
  } catch (error) {
    // Refused or unreachable before anything streamed: the message was not taken, so give it back.
    view.removeMessage(userMessage);
    view.restorePrompt(text);
    if (controller.signal.aborted) view.setStatus("Stopped before sending.");
    else showRefusal(error);
    finishTurn(controller);
    return;
  }

  const answer = view.startAssistantMessage();
  const turn = { providersChanged: false };
  try {
    const outcome = await renderStream(events, answer, turn);
    if (outcome === "finished") {
      view.setStatus("");
    } else if (outcome === "incomplete") {
      answer.interrupt("Incomplete answer.");
      view.setStatus("");
      view.showError("The connection closed before the answer was complete. Please try again.");
    }
  } catch (error) {
    view.setStatus("");
    if (controller.signal.aborted) {
      answer.interrupt("Stopped.");
      view.setStatus("Stopped.");
    } else {
      answer.interrupt("Incomplete answer.");
      view.showError(midStreamMessage(error));
    }
  } finally {
    finishTurn(controller);
    refreshSidebar(); // a new conversation, a newer one at the top, more usage
    // A model failed (it may have been retired or be resting): let the picker say so.
    if (turn.providersChanged) modelPicker.refreshIfStale({ later: true });
  }
}

/**
 * Apply each event to the answer; returns "finished", "failed" or "incomplete". Sets
 * `turn.providersChanged` when the answer fell back to another model or failed.
 */
async function renderStream(events, answer, turn) {
  let model = null;
  let usage = null;
  let statusIsThinking = true; // only replace "Thinking…", never a fallback or restart notice
  for await (const event of events) {
    switch (event.type) {
      case "data-conversation":
        state.conversationId = event.data.conversationId;
        showInAddress(state.conversationId);
        // A follow-up turn carries no title: keep the one on screen.
        view.setConversation(state.conversationId, event.data.title || view.title.textContent);
        conversationList.setActive(state.conversationId);
        break;
      case "data-model":
        model = event.data;
        if (model.fallbackReason) {
          // A model that "continues" carries on the text already shown: nothing is taken back.
          const how = model.continues ? "Continuing" : "Answering";
          view.setStatus(`${how} with ${modelPicker.labelFor(model.model)}: ${model.fallbackReason}.`);
          statusIsThinking = false;
          turn.providersChanged = true;
        }
        break;
      case "text-delta":
        if (statusIsThinking) view.setStatus("Answering…");
        statusIsThinking = false;
        answer.append(event.delta);
        break;
      case "data-usage":
        usage = event.data;
        break;
      case "finish":
        answer.finish(liveFacts(model, usage));
        return "finished";
      case "error":
        turn.providersChanged = true;
        answer.interrupt("No complete answer.");
        view.setStatus("");
        view.showError(event.errorText);
        return "failed";
      case "abort":
        answer.interrupt("Stopped by the server.");
        view.setStatus("");
        return "failed";
      default:
        // start, text-start, text-end, and any part type this page does not know yet.
        break;
    }
  }
  return "incomplete";
}

function showRefusal(error) {
  view.setStatus("");
  if (error instanceof ProblemError) view.showError(error.message, error.fieldErrors);
  else view.showError(describe(error));
}

function midStreamMessage(error) {
  if (error instanceof TypeError) return "The connection was lost before the answer was complete. Please try again.";
  return error.message || "The answer could not be completed. Please try again.";
}

function finishTurn(controller) {
  if (state.controller === controller) state.controller = null;
  view.setStreaming(state.controller !== null);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (state.controller) return; // one answer at a time; Send is disabled, Enter lands here too
  const text = view.prompt.value;
  if (!text.trim()) {
    view.showError("Type a message before sending.");
    view.prompt.focus();
    return;
  }
  view.prompt.value = "";
  send(text);
});

view.prompt.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

// Stop stops the answer itself, not only this page's connection to it: the server generates an
// answer as a task of its own (it outlives a closed tab), so it is told to stop.
view.stop.addEventListener("click", () => {
  const answering = state.controller !== null && state.conversationId !== null;
  state.controller?.abort();
  if (answering) stopAnswer(state.conversationId).catch(() => {}); // nothing to stop any more is fine
});

document.getElementById("new-chat").addEventListener("click", () => {
  startNewChat();
  sidebar.close();
  view.prompt.focus();
});

// Coming back to the page is when a model retired meanwhile should show; at most every 30 s.
window.addEventListener("focus", () => modelPicker.refreshIfStale());
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") modelPicker.refreshIfStale();
});

view.setStreaming(false);
modelPicker.refresh();
checkHealth();
refreshSidebar();
const linked = conversationInAddress();
if (linked) openConversation(linked, { fromAddress: true });
