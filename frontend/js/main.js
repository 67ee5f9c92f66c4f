// Binding: wires the form and buttons to the stream client and the view.

import { ProblemError, authHeaders, startChat } from "./stream.js";
import { ChatView } from "./ui.js";

const view = new ChatView(document);
const form = document.getElementById("composer");
const state = {
  /** @type {string|null} set by the first answer's data-conversation event */
  conversationId: null,
  /** @type {AbortController|null} present while a request or stream is in flight */
  controller: null,
};

async function checkHealth() {
  try {
    const response = await fetch("/api/health", { headers: authHeaders() });
    if (!response.ok) throw new Error(`health ${response.status}`);
    const health = await response.json();
    view.showSimulated(health.simulated === true);
  } catch {
    view.setStatus("The server is not answering right now; sending may fail.");
  }
}

async function send(text) {
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
  try {
    const outcome = await renderStream(events, answer);
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
  }
}

/** Apply each event to the answer; returns "finished", "failed" or "incomplete". */
async function renderStream(events, answer) {
  let model = null;
  let usage = null;
  let statusIsThinking = true; // only replace "Thinking…", never a fallback or restart notice
  for await (const event of events) {
    switch (event.type) {
      case "data-conversation":
        state.conversationId = event.data.conversationId;
        view.setConversation(state.conversationId, event.data.title);
        break;
      case "data-model":
        model = event.data;
        if (model.fallbackReason) {
          view.setStatus(`Answering with ${model.model}: ${model.fallbackReason}.`);
          statusIsThinking = false;
        }
        break;
      case "text-delta":
        if (statusIsThinking) view.setStatus("Answering…");
        statusIsThinking = false;
        answer.append(event.delta);
        break;
      case "data-discard":
        answer.discard();
        view.setStatus(`Starting the answer again: ${event.data.reason}`);
        statusIsThinking = false;
        break;
      case "data-usage":
        usage = event.data;
        break;
      case "finish":
        answer.finish(model, usage);
        return "finished";
      case "error":
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
  else if (error instanceof TypeError) view.showError("Could not reach the server. Check your connection and try again.");
  else view.showError(error.message);
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

view.stop.addEventListener("click", () => state.controller?.abort());

document.getElementById("new-chat").addEventListener("click", () => {
  state.controller?.abort();
  state.conversationId = null;
  view.clearConversation();
  view.prompt.focus();
});

view.setStreaming(false);
checkHealth();
