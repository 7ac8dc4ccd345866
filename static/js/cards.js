// Narrow screens show each table row as a card (collab.css, table.cards): every cell is labelled
// with its column's header (data-label), so a stacked value still says what it is. The
// dashboards' tables (db-stack) and the timeline lay themselves out.
document.addEventListener("DOMContentLoaded", () => {
  for (const table of document.querySelectorAll("main table, .print-page table")) {
    if (table.matches(".db-stack, .tl-table, .tl-scroll table")) continue;
    table.classList.add("cards");
    const head = table.tHead?.rows[0];
    if (!head) continue;
    const labels = [];
    for (const cell of head.cells) {
      for (let i = 0; i < cell.colSpan; i++) labels.push(cell.innerText.trim());
    }
    for (const body of table.tBodies) {
      for (const row of body.rows) {
        let column = 0;
        for (const cell of row.cells) {
          const label = labels[column];
          if (label && !cell.dataset.label && cell.colSpan === 1) cell.dataset.label = label;
          column += cell.colSpan;
        }
      }
    }
  }
});
