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

// Select boxes marked data-autosubmit submit their form when changed (the button stays for no-JS).
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});

// --- Composer: drafts, quoting, @mention suggestions, similar topics ---------------------------

// Drafts survive an accidental reload: kept in this browser, cleared when the form is sent.
document.querySelectorAll("form[data-draft-key]").forEach((form) => {
  const area = form.querySelector("textarea");
  if (!area || !window.localStorage) return;
  const key = "forum-draft:" + form.dataset.draftKey;
  if (!area.value.trim() && localStorage.getItem(key)) {
    area.value = localStorage.getItem(key);
  }
  area.addEventListener("input", () => {
    if (area.value.trim()) localStorage.setItem(key, area.value);
    else localStorage.removeItem(key);
  });
  form.addEventListener("submit", (event) => {
    const isPreview = event.submitter && event.submitter.name === "preview";
    if (!isPreview) localStorage.removeItem(key);
  });
});

// Quote: the selected part of a post (or the whole post) goes into the reply box as a
// Markdown blockquote with attribution and a link back. Without script, the link opens the
// reply page with the whole post quoted.
function quoteMarkdown(post, text) {
  const lines = text.trim().split(/\r?\n/).map((line) => (line ? "> " + line : ">"));
  return "> **" + post.dataset.author + "** [wrote](" + post.dataset.permalink + "):\n>\n" +
    lines.join("\n") + "\n\n";
}

let lastSelection = { post: null, text: "" };
document.addEventListener("selectionchange", () => {
  const selection = window.getSelection();
  if (!selection || selection.isCollapsed || !selection.rangeCount) return;
  const node = selection.getRangeAt(0).commonAncestorContainer;
  const element = node.nodeType === 1 ? node : node.parentElement;
  const body = element && element.closest(".post-body");
  if (body) lastSelection = { post: body.closest("article.post"), text: selection.toString() };
});

document.querySelectorAll("a.quote-link").forEach((link) => {
  link.addEventListener("click", (event) => {
    const area = document.querySelector(".reply-box textarea");
    const post = link.closest("article.post");
    if (!area || !post) return; // no reply box on this page: follow the link
    event.preventDefault();
    const source = post.querySelector("template.post-source");
    const whole = source ? source.content.textContent : "";
    const text = lastSelection.post === post && lastSelection.text.trim() ? lastSelection.text : whole;
    const before = area.value && !area.value.endsWith("\n\n") ? area.value.replace(/\n*$/, "\n\n") : area.value;
    area.value = before + quoteMarkdown(post, text);
    area.dispatchEvent(new Event("input"));
    area.focus();
    area.setSelectionRange(area.value.length, area.value.length);
    area.scrollIntoView({ block: "center" });
  });
});

// @mention suggestions while typing (a plain @handle works without them).
function debounce(fn, ms) {
  let timer;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

document.querySelectorAll("form.composer textarea").forEach((area) => {
  const list = document.createElement("ul");
  list.className = "mention-suggestions";
  list.setAttribute("role", "listbox");
  list.hidden = true;
  area.insertAdjacentElement("afterend", list);
  const currentWord = () => {
    const upto = area.value.slice(0, area.selectionStart);
    const match = upto.match(/(^|[^\w@])@([\w.-]{1,29})$/);
    return match ? match[2] : null;
  };
  const choose = (handle) => {
    const upto = area.value.slice(0, area.selectionStart);
    const start = upto.lastIndexOf("@");
    area.value = area.value.slice(0, start) + "@" + handle + " " + area.value.slice(area.selectionStart);
    list.hidden = true;
    area.dispatchEvent(new Event("input")); // the draft and the live preview follow
    area.focus();
  };
  const lookup = debounce(async (word) => {
    try {
      const response = await fetch("/api/members/suggest?q=" + encodeURIComponent(word));
      if (!response.ok) return;
      const people = await response.json();
      list.replaceChildren(...people.map((person) => {
        const item = document.createElement("li");
        item.setAttribute("role", "option");
        item.tabIndex = 0;
        item.textContent = "@" + person.handle + " — " + person.name;
        item.addEventListener("mousedown", (e) => { e.preventDefault(); choose(person.handle); });
        item.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); choose(person.handle); } });
        return item;
      }));
      list.hidden = people.length === 0;
    } catch (error) { list.hidden = true; }
  }, 200);
  area.addEventListener("input", () => {
    const word = currentWord();
    if (word) lookup(word); else list.hidden = true;
  });
  area.addEventListener("blur", () => setTimeout(() => { list.hidden = true; }, 150));
});

// Institution typeahead (issue 14): confirmed institutions offered in a <datalist> as the name
// is typed. Without it the field is plain text, matched on the server by name and aliases.
document.querySelectorAll("input[data-institution-suggest]").forEach((input) => {
  const options = document.createElement("datalist");
  options.id = input.id + "-suggestions";
  input.insertAdjacentElement("afterend", options);
  input.setAttribute("list", options.id);
  const lookup = debounce(async () => {
    const typed = input.value.trim();
    if (typed.length < 2) return;
    try {
      const response = await fetch("/api/institutions/suggest?q=" + encodeURIComponent(typed));
      if (!response.ok) return;
      const found = await response.json();
      options.replaceChildren(...found.map((institution) => {
        const option = document.createElement("option");
        option.value = institution.name;
        return option;
      }));
    } catch (error) { /* a help, not a requirement */ }
  }, 200);
  input.addEventListener("input", lookup);
});

// Similar topics, shown while the title is typed, so duplicates are caught before posting.
document.querySelectorAll("[data-similar-url]").forEach((box) => {
  const form = box.closest("form");
  const title = form && form.querySelector("input[name=title]");
  if (!title) return;
  const refresh = debounce(async () => {
    if (title.value.trim().length < 8) return;
    try {
      const response = await fetch(box.dataset.similarUrl + "?title=" + encodeURIComponent(title.value));
      if (!response.ok) return;
      const topics = await response.json();
      if (!topics.length) { box.replaceChildren(); return; }
      const heading = document.createElement("h2");
      heading.textContent = box.dataset.heading;
      const list = document.createElement("ul");
      topics.forEach((topic) => {
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.href = topic.url;
        link.textContent = topic.title;
        link.dir = "auto";
        link.target = "_blank";
        item.append(link);
        list.append(item);
      });
      box.replaceChildren(heading, list);
    } catch (error) { /* suggestions are a help, not a requirement */ }
  }, 400);
  title.addEventListener("input", refresh);
});

// The link and DOI fields matter only for resources: hide them for other kinds (unless filled).
document.querySelectorAll("select[name=kind]").forEach((kind) => {
  const fields = kind.form && kind.form.querySelector(".resource-fields");
  if (!fields) return;
  const update = () => {
    const filled = [...fields.querySelectorAll("input")].some((input) => input.value.trim());
    fields.hidden = kind.value !== "resource" && !filled && !fields.querySelector(".field-error");
  };
  kind.addEventListener("change", update);
  update();
});

// Voting rounds: a countdown to the deadline, and what is left of the budget as it is spent.
// Days are written by the browser in the page's language ("3 days", "٣ أيام"), plurals included.
document.querySelectorAll(".countdown[data-deadline]").forEach((node) => {
  const deadline = new Date(node.dataset.deadline).getTime();
  const days = new Intl.NumberFormat(document.documentElement.lang || undefined, {
    style: "unit", unit: "day", unitDisplay: "long",
  });
  const tick = () => {
    const left = Math.max(0, Math.floor((deadline - Date.now()) / 1000));
    const d = Math.floor(left / 86400), h = Math.floor((left % 86400) / 3600);
    const m = Math.floor((left % 3600) / 60), s = left % 60;
    const text = (d ? days.format(d) + " " : "") + String(h).padStart(2, "0") + ":" +
      String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
    node.textContent = node.dataset.template.replace("{time}", text);
    if (left === 0) {
      window.clearInterval(timer);
      // The deadline passed while the page was open: the ballot can no longer be sent, so
      // say so at the button instead of letting a click end on a refusal.
      node.textContent = node.dataset.closed;
      document.querySelectorAll("form.ballot-form button[type=submit]").forEach((button) => {
        button.disabled = true;
        button.textContent = node.dataset.closed;
      });
    }
  };
  const timer = window.setInterval(tick, 1000);
  tick();
});

document.querySelectorAll("form.ballot-form").forEach((form) => {
  const out = form.querySelector(".remaining");
  if (!out) return;
  const method = form.dataset.method;
  const total = Number(method === "quadratic" ? form.dataset.credits : form.dataset.budget);
  const update = () => {
    let spent = 0;
    form.querySelectorAll("input[type=number]").forEach((input) => {
      const n = Number(input.value) || 0;
      spent += method === "quadratic" ? n * n : n;
    });
    const left = total - spent;
    out.textContent = out.dataset.template.replace("{left}", left).replace("{total}", total);
    out.classList.toggle("over-limit", left < 0);
  };
  form.addEventListener("input", update);
  update();
});
