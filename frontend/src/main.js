// The page's start: the session, the store, the controller, and the views given their callbacks.
// The address names the open conversation (#/c/<id>): a reload, back and forward, and a shared
// link reopen it. A fragment, so the static host needs no rewrites.

import {
  deleteConversation,
  getUsage,
  listConversations,
  listModels,
  renameConversation,
  useSession,
} from "./api/client.js";
import { createSession } from "./auth/session.js";
import { mountAccount, mountSignIn } from "./auth/views.js";
import { ChatController, describe } from "./chat/controller.js";
import { TabChannel } from "./chat/tabs.js";
import { Store, emptyChat } from "./state/store.js";
import { ComposerView } from "./views/composer.js";
import { ConversationList } from "./views/conversation_list.js";
import { MessagesView } from "./views/messages.js";
import { ModelPicker } from "./views/model_picker.js";
import { NoticeView, TitleView, WelcomeView } from "./views/notices.js";
import { Sidebar } from "./views/sidebar.js";
import { UsageView } from "./views/usage.js";

const $ = (id) => document.getElementById(id);

async function loadConfig() {
  try {
    const response = await fetch("/config.json", { headers: { Accept: "application/json" } });
    if (response.ok) return await response.json();
  } catch {
    // no configuration: the local identity, as under `chimera dev`
  }
  return { auth: { provider: "local" } };
}

async function checkHealth(store) {
  try {
    const response = await fetch("/api/health");
    if (!response.ok) throw new Error(`health ${response.status}`);
    const health = await response.json();
    $("simulated-badge").hidden = health.simulated !== true;
  } catch {
    store.update({ status: "The server is not answering right now; sending may fail." });
  }
}

const conversationInAddress = () => /^#\/c\/([A-Za-z0-9_-]+)$/.exec(location.hash)?.[1] ?? null;

async function start() {
  const config = await loadConfig();
  const session = await createSession(config.auth || { provider: "local" });
  useSession(session);

  const store = new Store(emptyChat());
  const sidebar = new Sidebar(document);
  const modelPicker = new ModelPicker($("model"), { load: () => listModels() });
  const tabs = new TabChannel();
  const signIn = mountSignIn($("sign-in"), session, {
    onSignedIn: () => {
      refreshSidebar();
      composer.focus(); // the form that had focus is gone
    },
  });
  // Signed out: nothing of the person's stays on screen.
  mountAccount($("account"), session, {
    onSignedOut: () => {
      showInAddress(null);
      controller.newChat();
      conversationList.replace([]);
    },
  });

  const controller = new ChatController(store, {
    model: () => modelPicker.select.value,
    labelFor: (id) => modelPicker.labelFor(id),
    signInNeeded: (error) => signIn.show(error),
    giveBack: (text) => composer.restore(text),
    turnEnded: ({ conversationId, fellBack }) => {
      refreshSidebar();
      tabs.say({ type: "turn-ended", conversationId });
      // A model failed (it may have been retired or be resting): let the picker say so.
      if (fellBack) modelPicker.refreshIfStale({ later: true });
    },
  });

  const conversationList = new ConversationList(document, {
    loadPage: (cursor) => listConversations({ cursor }),
    rename: async (id, title) => {
      const item = await renameConversation(id, title);
      if (id === store.state.conversationId) store.update({ title: item.title });
      return item;
    },
    remove: async (id) => {
      await deleteConversation(id);
      if (id === store.state.conversationId) showInAddress(null);
    },
    failed: (error) => describe(error),
    focusMessageBox: () => composer.focus(),
  });
  const usage = new UsageView(document, { load: () => getUsage(), labelFor: (id) => modelPicker.labelFor(id) });

  function refreshSidebar() {
    return Promise.all([conversationList.refresh(), usage.refreshIfOpen?.()]);
  }

  const composer = new ComposerView(
    { form: $("composer"), prompt: $("prompt"), send: $("send"), stop: $("stop") },
    store,
    {
      send: (text) => controller.send(text),
      stop: () => controller.stop(),
      empty: () => store.update({ problem: { text: "Type a message before sending." } }),
    },
  );
  new MessagesView({ log: $("messages"), scroller: $("conversation") }, store, {
    labelFor: (id) => modelPicker.labelFor(id),
    // The button or form that had focus is redrawn: focus goes back to the message box.
    regenerate: () => {
      controller.regenerate();
      composer.focus();
    },
    edit: async (key, text) => {
      composer.focus();
      if (!(await controller.edit(key, text))) composer.restore(text); // refused: the edit is not lost
    },
  });
  new NoticeView({ status: $("status"), problem: $("problem"), announcer: $("announcer") }, store, {
    retry: () => controller.retry(),
    cancel: () => {
      const text = controller.cancelQueued();
      if (text) composer.restore(text);
    },
  });
  new WelcomeView($("welcome"), store, {
    // Sent as it is; anything already typed stays in the box.
    choose: async (text) => {
      composer.focus();
      if (!(await controller.send(text))) composer.restore(text);
    },
  });
  new TitleView({ title: $("conversation-title"), actions: $("conversation-actions") }, store);

  // The address follows the conversation on screen; a new conversation gets its id when sent.
  function showInAddress(id) {
    const hash = id ? `#/c/${id}` : "";
    if ((location.hash || "") === hash) return;
    history.pushState(null, "", hash || location.pathname + location.search);
    followAddress();
  }
  store.subscribe((state, previous) => {
    if (state.conversationId !== previous.conversationId) {
      conversationList.setActive(state.conversationId);
      if (state.conversationId && !state.opening && conversationInAddress() !== state.conversationId) {
        history.pushState(null, "", `#/c/${state.conversationId}`);
      } else if (!state.conversationId && conversationInAddress() === previous.conversationId) {
        // A new conversation's first message was refused: it does not exist, so the address goes.
        history.replaceState(null, "", location.pathname + location.search);
      }
    }
    if (state.problem?.notFound && state.problem !== previous.problem) conversationList.refresh();
  });
  function followAddress() {
    // Only #/c/<id> and no fragment are places; another fragment (the skip link's #prompt) is not.
    if (location.hash && !location.hash.startsWith("#/")) return;
    const id = conversationInAddress();
    if (id === store.state.conversationId) return;
    if (id) controller.open(id);
    else controller.newChat();
    if (sidebar.close()) composer.focus(); // on a phone the list covered the conversation
  }
  // Choosing a chat on a phone closes the list over it, also when it is the one already open.
  $("history-list").addEventListener("click", (event) => {
    if (event.target.closest(".history__open") && sidebar.close()) composer.focus();
  });
  window.addEventListener("popstate", followAddress);
  window.addEventListener("hashchange", followAddress);

  $("new-chat").addEventListener("click", () => {
    showInAddress(null);
    controller.newChat();
    sidebar.close();
    composer.focus();
  });
  $("rename-chat").addEventListener("click", (event) =>
    conversationList.act(store.state.conversationId, "rename", event.currentTarget),
  );
  $("delete-chat").addEventListener("click", (event) =>
    conversationList.act(store.state.conversationId, "delete", event.currentTarget),
  );

  // Another tab answered in the conversation on screen: show it (and follow it while it is written).
  tabs.listen((message) => {
    if (message.conversationId === store.state.conversationId) controller.reload();
    if (message.type === "turn-ended") conversationList.refresh();
  });
  // Said once the server has the answer's row (its id came with the stream's start), so the other
  // tab finds it when it looks.
  store.subscribe((state, previous) => {
    if (state.live?.id && !previous.live?.id) tabs.say({ type: "turn-started", conversationId: state.conversationId });
  });

  // Coming back to the page is when a model retired meanwhile should show; at most every 30 s.
  window.addEventListener("focus", () => modelPicker.refreshIfStale());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") modelPicker.refreshIfStale();
  });
  session.subscribe?.(() => refreshSidebar());

  modelPicker.refresh();
  checkHealth(store);
  refreshSidebar();
  followAddress();
  document.documentElement.dataset.ready = "true";
}

start();
