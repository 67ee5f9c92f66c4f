// The conversation list: rendering, paging, inline rename and delete with confirmation.
// It calls back into the binding for anything that talks to the server. Each chat is one link (one
// tab stop); its Rename and Delete buttons show on hover for a mouse, and the keyboard has F2 and
// Delete on the focused chat, and the same two buttons above the open conversation.

const UNTITLED = "Untitled conversation";

/** An answer's first words without their markdown marks ("# Title **bold**" → "Title bold"). */
export function plainPreview(text) {
  return text
    .replace(/(^|\s)(#{1,6}|>|[-+*])\s+/g, "$1")
    .replace(/(^|\n)\d+\.\s+/g, "$1")
    .replace(/(\*\*|__|\*|`+|~~)/g, "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\s+/g, " ")
    .trim();
}
const ICONS = {
  rename: "M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4",
  delete: "M5 7h14M10 7V4h4v3M7 7l1 13h8l1-13",
};

function icon(path) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "icon");
  const line = document.createElementNS("http://www.w3.org/2000/svg", "path");
  line.setAttribute("d", path);
  svg.append(line);
  return svg;
}

/**
 * @typedef {{id: string, title: string, preview: string, updatedAt: string, messageCount: number}} Item
 * @typedef {{
 *   loadPage: (cursor: string|null) => Promise<{items: Item[], nextCursor: string|null}>,
 *   rename: (id: string, title: string) => Promise<Item>,
 *   remove: (id: string) => Promise<void>,
 *   failed: (error: unknown) => string,
 *   focusMessageBox: () => void,
 * }} Actions  `failed` turns an error into a sentence (and may react to it, e.g. ask for sign-in)
 */

export class ConversationList {
  /** @param {Document} doc @param {Actions} actions */
  constructor(doc, actions) {
    const $ = (id) => doc.getElementById(id);
    this.actions = actions;
    this.list = $("history-list");
    this.status = $("history-status");
    this.more = $("history-more");
    this.dialog = $("delete-dialog");
    this.dialogText = $("delete-dialog-text");
    this.dialogError = $("delete-dialog-error");
    /** @type {string|null} */
    this.activeId = null;
    this.nextCursor = null;
    this.loading = null; // the page request in flight, so refreshes do not interleave

    this.more.addEventListener("click", () => this.loadMore());
    this.list.addEventListener("click", (event) => this.onClick(event));
    this.list.addEventListener("keydown", (event) => this.onKey(event));
  }

  /** Reload from the newest; what was there stays on screen until the answer arrives. */
  refresh() {
    return this.load(null);
  }

  loadMore() {
    if (this.nextCursor) return this.load(this.nextCursor);
    return Promise.resolve();
  }

  async load(cursor) {
    const request = (this.loading = this.actions.loadPage(cursor));
    this.more.disabled = true;
    if (cursor) this.setStatus("Loading more…");
    try {
      const page = await request;
      if (this.loading !== request) return; // a newer load has taken over
      if (cursor) this.append(page.items);
      else this.replace(page.items);
      this.nextCursor = page.nextCursor || null;
      this.setStatus(this.list.children.length ? "" : "No conversations yet.");
    } catch (error) {
      if (this.loading === request) this.setStatus(`Could not load conversations. ${this.actions.failed(error)}`);
    } finally {
      if (this.loading === request) {
        this.loading = null;
        this.more.hidden = !this.nextCursor;
        this.more.disabled = false;
      }
    }
  }

  append(items) {
    const shown = new Set([...this.list.children].map((li) => li.dataset.conversationId));
    this.list.append(...items.filter((item) => !shown.has(item.id)).map((item) => this.renderItem(item)));
  }

  /** New first page. A title being renamed stays as it is, and so does keyboard focus. */
  replace(items) {
    const focused = this.list.contains(document.activeElement) ? document.activeElement : null;
    const editing = new Map(
      [...this.list.querySelectorAll(".history__item--editing")].map((li) => [li.dataset.conversationId, li]),
    );
    this.list.replaceChildren(...items.map((item) => editing.get(item.id) || this.renderItem(item)));
    if (!focused) return;
    if (focused.isConnected) {
      focused.focus(); // moved, not replaced: an open rename field
      return;
    }
    const id = focused.closest(".history__item")?.dataset.conversationId;
    const same = this.itemFor(id)?.querySelector(`[data-action="${focused.dataset.action}"]`);
    same?.focus();
  }

  setStatus(text) {
    this.status.textContent = text;
    this.status.hidden = !text;
  }

  /** Mark the conversation on screen (null for a new chat). */
  setActive(id) {
    this.activeId = id;
    for (const li of this.list.children) {
      const button = li.querySelector(".history__open");
      if (li.dataset.conversationId === id) button.setAttribute("aria-current", "page");
      else button.removeAttribute("aria-current");
    }
  }

  renderItem(item) {
    const li = document.createElement("li");
    li.className = "history__item";
    li.dataset.conversationId = item.id;

    const open = document.createElement("a");
    open.href = `#/c/${encodeURIComponent(item.id)}`;
    open.className = "history__open";
    open.setAttribute("aria-keyshortcuts", "F2 Delete");
    open.dataset.action = "open";
    const title = document.createElement("span");
    title.className = "history__title";
    title.id = `history-title-${item.id}`;
    open.append(title);
    if (item.preview) {
      const preview = document.createElement("span");
      preview.className = "history__preview";
      preview.id = `history-preview-${item.id}`;
      preview.textContent = plainPreview(item.preview);
      // The link's name is its title (from its content; the preview is left out of it, and is
      // heard as the description instead). Not aria-labelledby: a name that is only part of the
      // visible text fails "label in name" (WCAG 2.5.3).
      preview.setAttribute("aria-hidden", "true");
      open.setAttribute("aria-describedby", preview.id);
      open.append(preview);
    }
    if (item.id === this.activeId) open.setAttribute("aria-current", "page");

    const actions = document.createElement("div");
    actions.className = "history__actions";
    actions.append(this.actionButton("rename", "Rename"), this.actionButton("delete", "Delete"));
    li.append(open, actions);
    this.setItemTitle(li, item.title);
    return li;
  }

  actionButton(action, label) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = `history__action history__action--${action}`;
    button.dataset.action = action;
    button.tabIndex = -1; // for the mouse; the keyboard has F2 and Delete on the chat itself
    // An icon, so the two buttons stay small beside the title; the name says it in words.
    const name = document.createElement("span");
    name.className = "visually-hidden";
    name.textContent = label;
    const which = document.createElement("span");
    which.className = "visually-hidden history__which";
    button.append(icon(ICONS[action]), name, which);
    button.title = label;
    return button;
  }

  setItemTitle(li, text) {
    const title = text || UNTITLED;
    li.dataset.title = title;
    li.querySelector(".history__title").textContent = title;
    for (const which of li.querySelectorAll(".history__which")) which.textContent = ` “${title}”`;
  }

  /** Show a renamed or otherwise changed conversation. */
  update(item) {
    const li = this.itemFor(item.id);
    if (li) this.setItemTitle(li, item.title);
  }

  itemFor(id) {
    return [...this.list.children].find((li) => li.dataset.conversationId === id) || null;
  }

  onClick(event) {
    const button = event.target.closest("button[data-action]");
    const li = button?.closest(".history__item");
    if (!li) return;
    if (button.dataset.action === "rename") this.startRename(li);
    else if (button.dataset.action === "delete") this.confirmDelete(li, li.querySelector(".history__open"));
  }

  onKey(event) {
    const link = event.target.closest(".history__open");
    const li = link?.closest(".history__item");
    if (!li) return;
    if (event.key === "F2") {
      event.preventDefault();
      this.startRename(li);
    } else if (event.key === "Delete") {
      event.preventDefault();
      this.confirmDelete(li, link);
    }
  }

  /** Rename or delete a chat by id (the buttons above the open conversation). */
  async act(id, action, trigger) {
    if (!this.itemFor(id)) await this.refresh();
    const li = this.itemFor(id);
    if (!li) return;
    if (action === "rename") this.startRename(li);
    else this.confirmDelete(li, trigger);
  }

  // --- Rename: the title becomes a small form; Enter saves, Escape cancels. ---

  startRename(li) {
    if (li.querySelector(".history__rename")) return;
    const form = document.createElement("form");
    form.className = "history__rename";
    form.noValidate = true;
    const label = document.createElement("label");
    label.className = "visually-hidden";
    label.textContent = "New title";
    const input = document.createElement("input");
    input.type = "text";
    input.name = "title";
    input.maxLength = 200;
    input.autocomplete = "off";
    input.value = li.dataset.title;
    input.id = `history-rename-${li.dataset.conversationId}`;
    label.htmlFor = input.id;
    const error = document.createElement("p");
    error.className = "history__error";
    error.id = `history-rename-error-${li.dataset.conversationId}`;
    error.setAttribute("aria-live", "polite");
    error.hidden = true;
    input.setAttribute("aria-describedby", error.id);
    const buttons = document.createElement("div");
    buttons.className = "history__rename-actions";
    const save = this.plainButton("Save", "submit");
    const cancel = this.plainButton("Cancel", "button");
    buttons.append(save, cancel);
    form.append(label, input, buttons, error);

    li.classList.add("history__item--editing");
    li.prepend(form);
    input.focus();
    input.select();

    const close = (focusSelector) => {
      form.remove();
      li.classList.remove("history__item--editing");
      li.querySelector(focusSelector)?.focus();
    };
    const fail = (text) => {
      error.textContent = text;
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
    };
    cancel.addEventListener("click", () => close(".history__open"));
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation(); // the sidebar closes on Escape too; this one only cancels
        close(".history__open");
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const title = input.value.trim();
      if (!title) return fail("Type a title, or press Escape to keep the old one.");
      if (title === li.dataset.title) return close(".history__open");
      save.disabled = true;
      try {
        this.update(await this.actions.rename(li.dataset.conversationId, title));
        close(".history__open");
      } catch (err) {
        fail(this.actions.failed(err));
      } finally {
        save.disabled = false;
      }
    });
  }

  plainButton(label, type) {
    const button = document.createElement("button");
    button.type = type;
    button.className = "history__small-button";
    button.textContent = label;
    return button;
  }

  // --- Delete: a modal dialog asks first. ---

  confirmDelete(li, trigger) {
    const id = li.dataset.conversationId;
    this.dialogText.textContent = `“${li.dataset.title}” and all its messages will be deleted. This cannot be undone.`;
    this.dialogError.hidden = true;
    const confirm = this.dialog.querySelector('button[value="delete"]');
    const onConfirm = async (event) => {
      event.preventDefault(); // stay open until the server has answered
      confirm.disabled = true;
      try {
        await this.actions.remove(id);
        const next = li.nextElementSibling || li.previousElementSibling;
        li.remove();
        if (!this.list.children.length) this.setStatus("No conversations yet.");
        this.dialog.close("delete");
        if (next) next.querySelector(".history__open").focus();
        else this.actions.focusMessageBox();
      } catch (err) {
        this.dialogError.textContent = this.actions.failed(err);
        this.dialogError.hidden = false;
      } finally {
        confirm.disabled = false;
      }
    };
    const onClose = () => {
      confirm.removeEventListener("click", onConfirm);
      if (this.dialog.returnValue !== "delete") trigger.focus();
    };
    confirm.addEventListener("click", onConfirm);
    this.dialog.addEventListener("close", onClose, { once: true });
    this.dialog.returnValue = "";
    this.dialog.showModal();
  }
}
