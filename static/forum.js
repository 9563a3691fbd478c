// Small enhancements only: every page works without this script.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// Deadlines for visitors whose time zone the server does not know: show them in the browser's.
document.querySelectorAll("time[data-local]").forEach((node) => {
  const moment = new Date(node.getAttribute("datetime"));
  if (Number.isNaN(moment.getTime())) return;
  const format = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    weekday: "long", year: "numeric", month: "long", day: "numeric",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });
  node.title = node.textContent;
  node.textContent = format.format(moment);
});

// The statement's word count, live (the server counts again on submit).
document.querySelectorAll("[data-word-limit]").forEach((box) => {
  const area = box.querySelector("textarea");
  const out = box.querySelector(".word-count");
  if (!area || !out) return;
  const limit = Number(box.dataset.wordLimit);
  const update = () => {
    const words = area.value.trim() ? area.value.trim().split(/\s+/).length : 0;
    out.textContent = out.dataset.template.replace("{count}", words).replace("{limit}", limit);
    out.classList.toggle("over-limit", words > limit);
  };
  area.addEventListener("input", update);
  update();
});
