// Keyboard shortcuts as Discourse users know them (issue 17): j / k the next / previous post,
// r reply, / search, ? the list of shortcuts (Esc closes it). None fires while one types in a
// field or holds Ctrl, Alt or Cmd. The list itself is templates/_shortcuts.html.
(() => {
  const TYPING = "input, textarea, select, [contenteditable]:not([contenteditable=false])";

  function posts() {
    return [...document.querySelectorAll(".thread article.post")].filter((post) => !post.closest(".accepted-answer"));
  }

  // The post to move from: the one holding the focus, else the first one in view.
  function current(list) {
    const focused = document.activeElement && document.activeElement.closest &&
      document.activeElement.closest("article.post");
    const at = list.indexOf(focused);
    if (at >= 0) return { index: at, focused: true };
    const visible = list.findIndex((post) => post.getBoundingClientRect().bottom > 0);
    return { index: visible, focused: false };
  }

  function move(step) {
    const list = posts();
    if (!list.length) return false;
    const { index, focused } = current(list);
    let next = index < 0 ? 0 : focused ? index + step : index;
    if (!focused && step < 0 && index > 0) next = index - 1;
    next = Math.max(0, Math.min(list.length - 1, next));
    const post = list[next];
    if (!post.hasAttribute("tabindex")) post.tabIndex = -1;
    post.focus({ preventScroll: true });
    post.scrollIntoView({ block: "nearest" });
    return true;
  }

  function reply() {
    const area = document.querySelector(".reply-box textarea");
    if (!area) return false;
    area.scrollIntoView({ block: "center" });
    area.focus();
    return true;
  }

  function search() {
    const box = document.getElementById("header-search");
    if (!box) return false;
    box.focus();
    box.select();
    return true;
  }

  function showList() {
    const dialog = document.getElementById("shortcuts-dialog");
    if (!dialog || dialog.open || !dialog.showModal) return false;
    dialog.showModal(); // Esc closes it, and the focus goes back where it was
    return true;
  }

  document.querySelectorAll("dialog .shortcuts-close").forEach((button) => {
    button.addEventListener("click", () => button.closest("dialog").close());
  });

  const ACTIONS = { j: () => move(1), k: () => move(-1), r: reply, "/": search, "?": showList };
  // Letters by their place on the keyboard too, so that they work on an Arabic layout.
  const BY_CODE = { KeyJ: "j", KeyK: "k", KeyR: "r" };

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.closest && target.closest(TYPING)) return;
    if (document.querySelector("dialog[open]")) return;
    // Shift only for symbols ("?", and "/" where a layout needs it): J is not j.
    const name = ACTIONS[event.key] ? event.key : event.shiftKey ? null : BY_CODE[event.code];
    if (!name) return;
    if (ACTIONS[name]()) event.preventDefault();
  });
})();
