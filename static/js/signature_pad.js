// Acceptance form: an optional handwritten signature drawn on a canvas (mouse, pen or finger).
// Each stroke ends by writing the canvas as a PNG data URL into the hidden field named by the
// canvas's data-target; "clear" empties both. Nothing is sent unless something was drawn.
document.addEventListener("DOMContentLoaded", () => {
  for (const canvas of document.querySelectorAll("canvas.signature-pad")) {
    const field = document.getElementById(canvas.dataset.target);
    const pen = canvas.getContext("2d");
    pen.lineWidth = 2.5;
    pen.lineCap = "round";
    pen.lineJoin = "round";
    pen.strokeStyle = "#111";
    let drawing = false;

    // Pointer position in canvas pixels (the canvas may be scaled down by CSS on small screens).
    const point = (event) => {
      const box = canvas.getBoundingClientRect();
      return [
        ((event.clientX - box.left) * canvas.width) / box.width,
        ((event.clientY - box.top) * canvas.height) / box.height,
      ];
    };

    canvas.addEventListener("pointerdown", (event) => {
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      pen.beginPath();
      pen.moveTo(...point(event));
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      pen.lineTo(...point(event));
      pen.stroke();
      event.preventDefault();
    });
    const finish = () => {
      if (!drawing) return;
      drawing = false;
      field.value = canvas.toDataURL("image/png");
    };
    canvas.addEventListener("pointerup", finish);
    canvas.addEventListener("pointercancel", finish);

    const clear = document.querySelector(`[data-clear-signature="${canvas.id}"]`);
    clear?.addEventListener("click", () => {
      pen.clearRect(0, 0, canvas.width, canvas.height);
      field.value = "";
    });
  }
});
