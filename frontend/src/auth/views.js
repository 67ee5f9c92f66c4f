// The sign-in form and the "signed in as" line. Plain DOM; text only through textContent. They
// read and act on the session (auth/session.js) and reach nothing else on the page: what happens
// next is the caller's (onSignedIn, onSignedOut).

let ids = 0;

function el(tag, attributes = {}, text = null) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === true) node.setAttribute(name, "");
    else if (value !== false && value != null) node.setAttribute(name, String(value));
  }
  if (text != null) node.textContent = text;
  return node;
}

function field(label, attributes) {
  const id = `sign-in-${attributes.name}-${++ids}`;
  const wrapper = el("div", { class: "sign-in__field" });
  const input = el(attributes.multiline ? "textarea" : "input", { ...attributes, multiline: null, id });
  wrapper.append(el("label", { for: id }, label), input);
  return { wrapper, input };
}

const LEADS = {
  supabase: "Sign in with your email address to see your chats.",
  token: "This site needs an access token. Paste one you were given to continue.",
  local: "Under chimera dev this page signs you in by itself, with no form.",
};

/**
 * The sign-in form in ``container``: shown while the session needs a sign-in (and when ``show`` is
 * called), hidden once someone is signed in.
 *
 * @param {HTMLElement} container
 * @param {ReturnType<typeof import("./session.js").createSession> extends Promise<infer S> ? S : never} session
 * @param {{onSignedIn?: () => void}} [hooks]
 * @returns {{show: (reason?: {message?: string}|string) => void, hide: () => void}}
 */
export function mountSignIn(container, session, { onSignedIn } = {}) {
  const titleId = `sign-in-title-${++ids}`;
  container.classList.add("sign-in");
  container.setAttribute("aria-labelledby", titleId);
  container.replaceChildren();

  const title = el("h2", { id: titleId, class: "sign-in__title", tabindex: "-1" }, "Sign in");
  const lead = el("p", { class: "sign-in__lead" }, LEADS[session.provider] ?? LEADS.supabase);
  const reason = el("p", { class: "sign-in__reason" });
  const error = el("p", { class: "sign-in__error", role: "alert" });
  const status = el("p", { class: "sign-in__status", role: "status" });
  const form = el("form", { class: "sign-in__form", novalidate: true });
  // The error sits in the form, just above its buttons: beside the field to fix, and in view when
  // that field takes focus on a small screen.
  container.append(title, lead, reason, form, status);

  let first = null; // the field focus goes to when the form appears
  let busy = false;
  const buttons = [];

  const say = (node, text) => {
    node.textContent = text ?? "";
    node.hidden = !text;
  };
  const setBusy = (value) => {
    busy = value;
    for (const button of buttons) button.disabled = value;
    form.setAttribute("aria-busy", String(value));
  };
  const fail = (message, input) => {
    say(status, "");
    say(error, message);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", error.id || (error.id = `sign-in-error-${++ids}`));
      input.focus();
    }
  };
  const clearErrors = () => {
    say(error, "");
    for (const input of form.querySelectorAll("[aria-invalid]")) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
    }
  };

  if (session.provider === "supabase") {
    const email = field("Email", { name: "email", type: "email", autocomplete: "username", required: true });
    const password = field("Password", {
      name: "password",
      type: "password",
      autocomplete: "current-password",
      required: true,
    });
    const submit = el("button", { type: "submit", class: "button button--primary" }, "Sign in");
    const actions = el("div", { class: "sign-in__actions" }, null);
    actions.append(submit);
    buttons.push(submit);
    form.append(email.wrapper, password.wrapper, error, actions);
    first = email.input;

    const checkEmail = () => {
      const value = email.input.value.trim();
      if (!value || !email.input.checkValidity()) {
        fail("Please enter your email address, like name@example.org.", email.input);
        return null;
      }
      return value;
    };

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (busy) return;
      clearErrors();
      const address = checkEmail();
      if (!address) return;
      if (!password.input.value) {
        fail("Please enter your password.", password.input);
        return;
      }
      setBusy(true);
      say(status, "Signing in…");
      const result = await session.signInWithPassword(address, password.input.value);
      setBusy(false);
      if (result.error) {
        fail(result.error, result.code === "invalid_credentials" ? password.input : email.input);
        if (result.code === "invalid_credentials") password.input.select();
        return;
      }
      password.input.value = "";
      say(status, "");
    });

    if (session.magicLink) {
      const link = el("button", { type: "button", class: "button button--secondary" }, "Email me a sign-in link");
      actions.append(link);
      buttons.push(link);
      link.addEventListener("click", async () => {
        if (busy) return;
        clearErrors();
        const address = checkEmail();
        if (!address) return;
        setBusy(true);
        say(status, "Sending a sign-in link…");
        const result = await session.sendMagicLink(address);
        setBusy(false);
        if (result.error) {
          fail(result.error, email.input);
          return;
        }
        say(status, `Check your email: a sign-in link is on its way to ${address}. Open it in this browser.`);
      });
    }
  } else if (session.provider === "token") {
    const token = field("Access token", {
      name: "token",
      multiline: true,
      rows: "3",
      autocomplete: "off",
      spellcheck: "false",
      required: true,
    });
    const submit = el("button", { type: "submit", class: "button button--primary" }, "Use this token");
    buttons.push(submit);
    const actions = el("div", { class: "sign-in__actions" });
    actions.append(submit);
    form.append(token.wrapper, error, actions);
    first = token.input;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      clearErrors();
      const result = session.useToken(token.input.value);
      if (result.error) {
        fail(result.error, token.input);
        return;
      }
      token.input.value = "";
    });
  } else {
    // The local person needs no form; if the server hands out no local token, say so and offer a retry.
    const retry = el("button", { type: "button", class: "button button--secondary" }, "Try again");
    buttons.push(retry);
    form.append(error, retry);
    first = retry;
    retry.addEventListener("click", async () => {
      clearErrors();
      setBusy(true);
      const token = await session.accessToken();
      setBusy(false);
      if (!token) fail(session.problem ?? "Signing in didn't work. Please try again.", retry);
    });
  }

  let shown = false;
  const show = (why) => {
    const message = typeof why === "string" ? why : why?.message;
    say(reason, session.problem ?? message ?? "");
    title.textContent = session.provider === "local" ? "Sign-in required" : "Sign in";
    const wasShown = shown;
    shown = true;
    container.hidden = false;
    if (!wasShown) (first ?? title).focus();
  };
  const hide = () => {
    shown = false;
    container.hidden = true;
    clearErrors();
    say(status, "");
  };

  let needed = session.needsSignIn;
  session.subscribe((current) => {
    if (current.needsSignIn) {
      show();
    } else if (needed) {
      hide();
      onSignedIn?.();
    }
    needed = current.needsSignIn;
  });
  say(reason, "");
  say(error, "");
  say(status, "");
  if (needed) show();
  else hide();
  return { show, hide };
}

/**
 * Who is signed in, and a Sign out button; hidden for the local person and while nobody is.
 *
 * @param {HTMLElement} container
 * @param {object} session from createSession
 * @param {{onSignedOut?: () => void}} [hooks]
 */
export function mountAccount(container, session, { onSignedOut } = {}) {
  container.classList.add("account");
  container.replaceChildren();
  const who = el("p", { class: "account__who" });
  const label = el("span", { class: "account__label" }, "Signed in as");
  const name = el("span", { class: "account__name" });
  who.append(label, " ", name);
  const signOut = el("button", { type: "button", class: "button button--quiet account__sign-out" }, "Sign out");
  container.append(who, signOut);

  const render = () => {
    const user = session.user;
    container.hidden = session.provider === "local" || !user;
    name.textContent = user?.email || user?.id || "";
  };
  signOut.addEventListener("click", async () => {
    signOut.disabled = true;
    try {
      await session.signOut();
    } finally {
      signOut.disabled = false;
    }
    onSignedOut?.();
  });
  session.subscribe(render);
  render();
  return { render };
}
