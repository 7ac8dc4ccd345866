// Requirement form: add participation and milestone rows from the formset's empty-row template.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button.add-row")) {
    button.addEventListener("click", () => {
      const total = document.getElementById(`id_${button.dataset.prefix}-TOTAL_FORMS`);
      const html = document.getElementById(button.dataset.template).innerHTML;
      const target = document.getElementById(button.dataset.target);
      target.insertAdjacentHTML("beforeend", html.replaceAll("__prefix__", total.value));
      total.value = Number(total.value) + 1;
      window.htmx?.process(target.lastElementChild); // the new row's live wording check
      target.lastElementChild.querySelector("select, input")?.focus();
    });
  }
});

// The form keeps what is typed in the background (#draft-status, HTMX). Once the form is sent, a
// background save must not follow it: it would bring back what was just saved as unsent input.
document.addEventListener("DOMContentLoaded", () => {
  const status = document.getElementById("draft-status");
  const form = status?.closest("form");
  if (!form) return;
  form.addEventListener("submit", () => {
    form.dataset.sending = "true";
    window.htmx?.trigger(status, "htmx:abort");
  });
  status.addEventListener("htmx:confirm", (event) => {
    if (form.dataset.sending) event.preventDefault();
  });
});
