// TEMPORARY stand-in written by the lead so the page builds until the sign-in views land. Replace freely.
export function mountSignIn(container) {
  return {
    show(reason) {
      container.hidden = false;
      container.textContent = reason?.message || "Please sign in to continue.";
    },
    hide() {
      container.hidden = true;
    },
  };
}

export function mountAccount(container) {
  container.hidden = true;
  return {};
}
