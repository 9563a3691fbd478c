// Attachments (issue 17): a file dropped or pasted into the composer's text is uploaded at
// once and a Markdown reference to it inserted at the cursor (an image shows in the post, any
// other file is a link). Without script, the form's file input sends the files with the post.
(() => {
  "use strict";

  function messageBox(form) {
    const input = form.querySelector("input.attachment-input");
    const field = input && input.closest(".field");
    if (!field) return null;
    let box = field.querySelector(".field-message");
    if (!box) {
      box = document.createElement("p");
      box.className = "field-message";
      box.id = input.id + "-error";
      box.setAttribute("role", "alert");
      field.appendChild(box);
      input.setAttribute("aria-describedby", [input.getAttribute("aria-describedby"), box.id].filter(Boolean).join(" "));
    }
    return box;
  }

  function showError(form, text) {
    const box = messageBox(form);
    if (!box) return;
    box.textContent = text;
    box.closest(".field").classList.add("field-error");
  }

  function listUpload(form, name) {
    const waiting = form.querySelector(".attachments-waiting");
    if (!waiting) return;
    let list = waiting.querySelector("ul");
    if (!list) {
      const heading = document.createElement("p");
      heading.className = "field-label";
      heading.textContent = waiting.dataset.heading;
      list = document.createElement("ul");
      list.className = "attachment-list";
      waiting.append(heading, list);
    }
    const item = document.createElement("li");
    const bdi = document.createElement("bdi");
    bdi.textContent = name;
    item.appendChild(bdi);
    list.appendChild(item);
  }

  function insertAtCursor(area, text) {
    const start = area.selectionStart ?? area.value.length;
    const end = area.selectionEnd ?? start;
    const before = area.value.slice(0, start);
    const padded = (before && !/\s$/.test(before) ? " " : "") + text + " ";
    area.setRangeText(padded, start, end, "end");
    area.dispatchEvent(new Event("input", { bubbles: true })); // the draft keeps it
  }

  async function upload(form, area, file) {
    const keys = form.querySelector("input.attachment-keys");
    const token = form.querySelector("input[name=csrf_token]");
    const body = new FormData();
    body.append("file", file, file.name || "pasted");
    let answer = {};
    let response;
    try {
      response = await fetch(form.dataset.uploadUrl, {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": token.value, Accept: "application/json" },
      });
      answer = await response.json().catch(() => ({}));
    } catch (error) {
      showError(form, String(error));
      return;
    }
    if (!response.ok) {
      showError(form, answer.error || response.statusText);
      return;
    }
    keys.value = (keys.value + " " + answer.key).trim();
    insertAtCursor(area, answer.markdown);
    listUpload(form, answer.name);
  }

  function filesIn(transfer) {
    return transfer && transfer.files ? Array.from(transfer.files) : [];
  }

  document.querySelectorAll("form.composer[data-upload-url]").forEach((form) => {
    const area = form.querySelector("textarea");
    if (!area || !form.querySelector("input.attachment-keys")) return;
    area.addEventListener("dragover", (event) => {
      if (event.dataTransfer && Array.from(event.dataTransfer.types).includes("Files")) {
        event.preventDefault();
        area.classList.add("drop-target");
      }
    });
    area.addEventListener("dragleave", () => area.classList.remove("drop-target"));
    area.addEventListener("drop", (event) => {
      area.classList.remove("drop-target");
      const files = filesIn(event.dataTransfer);
      if (!files.length) return;
      event.preventDefault();
      files.forEach((file) => upload(form, area, file));
    });
    area.addEventListener("paste", (event) => {
      const files = filesIn(event.clipboardData);
      if (!files.length) return; // plain text pastes as usual
      event.preventDefault();
      files.forEach((file) => upload(form, area, file));
    });
  });
})();
