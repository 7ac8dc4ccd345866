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
