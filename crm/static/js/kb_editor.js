// Knowledge-base editor: "Insert image" puts the uploaded file's Markdown at the cursor.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-kb-insert]");
  if (!button) return;
  const body = document.querySelector("[data-kb-body]");
  if (!body) return;
  const text = button.getAttribute("data-kb-insert");
  const start = body.selectionStart ?? body.value.length;
  const end = body.selectionEnd ?? start;
  body.value = body.value.slice(0, start) + text + body.value.slice(end);
  body.focus();
  body.selectionStart = body.selectionEnd = start + text.length;
});
