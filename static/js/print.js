// Print buttons of the printable forms: <button data-print>. No inline onclick, so the Content
// Security Policy can refuse every inline script.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
});
