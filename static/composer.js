// The composer (issue 17): a formatting toolbar that edits the Markdown around the selection,
// Ctrl/Cmd+B, I and K in the text, and a live preview rendered by the server (forum/markup.py),
// never by the browser. Without this script the field and the Preview button work as before.
(() => {
  // Put `text` in place of area.value[start:end] and select text[selectFrom:selectTo]. Through
  // execCommand the browser's undo (Ctrl+Z) takes it back; setRangeText where that is refused.
  function replaceRange(area, start, end, text, selectFrom, selectTo) {
    area.focus();
    area.setSelectionRange(start, end);
    let done = false;
    try {
      done = document.execCommand("insertText", false, text);
    } catch (error) { done = false; }
    if (!done || area.value.slice(start, start + text.length) !== text) {
      area.setRangeText(text, start, end, "end");
      area.dispatchEvent(new Event("input", { bubbles: true }));
    }
    area.setSelectionRange(start + selectFrom, start + selectTo);
  }

  // Wrap the selection in marks (**bold**); with nothing selected, a placeholder, selected.
  function wrap(area, before, after, placeholder) {
    const start = area.selectionStart, end = area.selectionEnd;
    const chosen = area.value.slice(start, end) || placeholder;
    replaceRange(area, start, end, before + chosen + after, before.length, before.length + chosen.length);
  }

  // The whole lines the selection touches, each given a prefix ("> ", "- ").
  function prefixLines(area, prefix, placeholder) {
    const value = area.value;
    const start = value.lastIndexOf("\n", area.selectionStart - 1) + 1;
    let end = value.indexOf("\n", area.selectionEnd - (area.selectionEnd > area.selectionStart ? 1 : 0));
    if (end < 0) end = value.length;
    const lines = value.slice(start, end) || placeholder;
    const text = lines.split("\n").map((line) => prefix + line).join("\n");
    replaceRange(area, start, end, text, text === prefix + placeholder ? prefix.length : 0, text.length);
  }

  // A block (code, table) on lines of its own, with a blank line before and after.
  function block(area, text, selectFrom, selectTo) {
    const start = area.selectionStart, end = area.selectionEnd;
    const before = area.value.slice(0, start), after = area.value.slice(end);
    const lead = !before ? "" : before.endsWith("\n\n") ? "" : before.endsWith("\n") ? "\n" : "\n\n";
    const tail = !after ? "\n" : after.startsWith("\n\n") ? "" : after.startsWith("\n") ? "\n" : "\n\n";
    replaceRange(area, start, end, lead + text + tail, lead.length + selectFrom, lead.length + selectTo);
  }

  const FORMATS = {
    bold: (area, placeholder) => wrap(area, "**", "**", placeholder),
    italic: (area, placeholder) => wrap(area, "*", "*", placeholder),
    link: (area, placeholder) => {
      const start = area.selectionStart, end = area.selectionEnd;
      const chosen = area.value.slice(start, end);
      if (/^https?:\/\/\S+$/.test(chosen)) { // an address selected: it becomes the target
        replaceRange(area, start, end, "[" + placeholder + "](" + chosen + ")", 1, 1 + placeholder.length);
        return;
      }
      const label = chosen || placeholder;
      const text = "[" + label + "](https://)";
      replaceRange(area, start, end, text, label.length + 3, text.length - 1);
    },
    quote: (area, placeholder) => prefixLines(area, "> ", placeholder),
    list: (area, placeholder) => prefixLines(area, "- ", placeholder),
    code: (area, placeholder) => {
      const chosen = area.value.slice(area.selectionStart, area.selectionEnd);
      if (!chosen.includes("\n")) { wrap(area, "`", "`", placeholder); return; }
      block(area, "```\n" + chosen.replace(/\n$/, "") + "\n```", 4, 4 + chosen.replace(/\n$/, "").length);
    },
    table: (area, placeholder) => {
      const chosen = area.value.slice(area.selectionStart, area.selectionEnd).trim();
      const first = chosen && !chosen.includes("\n") && !chosen.includes("|") ? chosen : placeholder;
      const header = "| " + first + " | " + placeholder + " |";
      block(area, header + "\n| --- | --- |\n|  |  |", 2, 2 + first.length);
    },
  };
  const SHORTCUTS = { b: "bold", i: "italic", k: "link" };

  function csrfToken(form) {
    const input = form && form.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  function debounce(fn, ms) {
    let timer;
    return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  document.querySelectorAll(".composer-body").forEach((composer) => {
    const area = composer.querySelector("textarea");
    const toolbar = composer.querySelector(".composer-toolbar");
    if (!area || !toolbar) return;
    const apply = (name, button) => FORMATS[name](area, (button && button.dataset.placeholder) || "");
    toolbar.hidden = false;
    toolbar.querySelectorAll("button[data-format]").forEach((button) => {
      button.addEventListener("click", () => apply(button.dataset.format, button));
    });
    area.addEventListener("keydown", (event) => {
      if (!(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return;
      const name = SHORTCUTS[event.key.toLowerCase()] ||
        SHORTCUTS[(event.code || "").replace(/^Key/, "").toLowerCase()];
      if (!name) return;
      event.preventDefault();
      apply(name, toolbar.querySelector(`button[data-format=${name}]`));
    });

    // Live preview: the server renders what is typed, a moment after typing stops.
    const panel = composer.querySelector(".live-preview");
    const out = panel && panel.querySelector(".live-preview-body");
    const message = panel && panel.querySelector(".live-preview-message");
    if (!panel || !out || !message || !window.fetch) return;
    panel.hidden = false;
    composer.classList.add("has-live-preview");
    let asked = 0;
    const refresh = async () => {
      const body = area.value;
      const ticket = ++asked;
      if (!body.trim()) {
        out.replaceChildren();
        message.textContent = composer.dataset.previewEmpty;
        return;
      }
      try {
        const response = await fetch(composer.dataset.previewUrl, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(area.form) },
          body: JSON.stringify({ body }),
          credentials: "same-origin",
        });
        const answer = await response.json();
        if (ticket !== asked) return; // typed on meanwhile: a newer answer is coming
        if (response.ok) {
          out.innerHTML = answer.html; // sanitised by forum/markup.py, as posts are shown
          message.textContent = "";
        } else {
          message.textContent = answer.error || composer.dataset.previewFailed;
        }
        panel.classList.toggle("live-preview-refused", !response.ok);
      } catch (error) {
        if (ticket === asked) message.textContent = composer.dataset.previewFailed;
      }
    };
    area.addEventListener("input", debounce(refresh, 350));
    refresh();
  });
})();
