// One-time form tokens (issue 17, item 7). A create form carries a token; the server makes
// nothing for a token it has seen, and leads to what the first sending made. A page the Back
// button shows from the browser's memory still holds the token it was sent with. A page the
// browser fetches again (no back-forward cache) gets a fresh one, so the token sent from this
// page is kept for this tab and put back when the reader comes back to the page by Back or
// Forward: sending the restored form again then leads to the post already made.
(() => {
  let storage;
  try {
    storage = window.sessionStorage;
  } catch (error) {
    return; // storage refused (a privacy setting): the server's fresh token is used
  }
  if (!storage) return;
  const entry = performance.getEntriesByType("navigation")[0];
  const cameBack = entry !== undefined && entry.type === "back_forward";
  document.querySelectorAll("form input[name=form_token]").forEach((input) => {
    const form = input.form;
    if (!form) return;
    const key = "forum-form-token:" + location.pathname + location.search + "|" +
      (form.getAttribute("action") || "");
    const sent = storage.getItem(key);
    if (cameBack && sent) input.value = sent;
    form.addEventListener("submit", (event) => {
      if (event.submitter && event.submitter.name === "preview") return;
      storage.setItem(key, input.value);
    });
  });
})();
