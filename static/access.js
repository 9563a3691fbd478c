// Keyboard and small-screen access (issue 17): the header's menus, and scroll boxes a keyboard
// can reach. Every page works without this script: the site menu then simply shows, and the
// user menu is a <details> that opens and closes by itself.

// The site menu on phones: a disclosure button (aria-expanded); Esc closes it.
const menuToggle = document.querySelector(".menu-toggle");
const siteMenu = document.getElementById("site-menu");
function setSiteMenu(open) {
  if (!menuToggle || !siteMenu) return;
  menuToggle.setAttribute("aria-expanded", String(open));
  siteMenu.classList.toggle("is-open", open);
}
if (menuToggle && siteMenu) {
  menuToggle.addEventListener("click", () => {
    setSiteMenu(menuToggle.getAttribute("aria-expanded") !== "true");
  });
}

// The user menu (<details>): Esc closes it and gives the focus back to its button; a click
// elsewhere closes it too.
const userMenu = document.querySelector("details.user-menu");
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  if (userMenu && userMenu.open) {
    userMenu.open = false;
    userMenu.querySelector("summary").focus();
  } else if (siteMenu && siteMenu.classList.contains("is-open")) {
    setSiteMenu(false);
    menuToggle.focus();
  }
});
document.addEventListener("click", (event) => {
  if (userMenu && userMenu.open && !userMenu.contains(event.target)) userMenu.open = false;
});

// "/" goes to the header's search box (static/shortcuts.js). On a phone the box is inside the
// closed site menu: open the menu first, in the capture phase, so the box can take the focus.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
  const box = document.getElementById("header-search");
  if (box && !box.offsetParent) setSiteMenu(true);
}, true);

// A box that scrolls sideways (a wide table, a long command or line of code) must be reachable
// by keyboard to be scrolled: give it a tab stop while it overflows (axe: scrollable-region-focusable).
const SCROLL_BOXES = "pre, .prose table, .table-wrap, .chart, .reply-context, .quoted-post";
function markScrollBoxes() {
  document.querySelectorAll(SCROLL_BOXES).forEach((box) => {
    const overflows = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
    const scrolls = /(auto|scroll)/.test(getComputedStyle(box).overflowX + getComputedStyle(box).overflowY);
    if (overflows && scrolls && !box.hasAttribute("tabindex")) {
      box.tabIndex = 0;
      box.dataset.scrollBox = "";
    } else if (!(overflows && scrolls) && box.hasAttribute("data-scroll-box")) {
      box.removeAttribute("tabindex");
      delete box.dataset.scrollBox;
    }
  });
}
markScrollBoxes();
let resizing;
window.addEventListener("resize", () => {
  clearTimeout(resizing);
  resizing = setTimeout(markScrollBoxes, 150);
});
