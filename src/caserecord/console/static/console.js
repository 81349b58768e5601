// Progressive enhancement. The "as of" form: moving the slider names the event it stops
// at, copies its time into the date-time field and, once it rests, shows the case then.
// Without this file the same form works with its buttons.
"use strict";

// A printed page shows what the reader had collapsed: every closed details element opens for
// the print and closes again after. The print stylesheet does the same where the browser
// styles ::details-content; this covers the rest.
(() => {
  const opened = [];
  const expand = () => {
    document.querySelectorAll("details:not([open])").forEach((d) => {
      d.open = true;
      opened.push(d);
    });
  };
  const restore = () => opened.splice(0).forEach((d) => { d.open = false; });
  window.addEventListener("beforeprint", expand);
  window.addEventListener("afterprint", restore);
  window.matchMedia("print").addEventListener("change", (e) => (e.matches ? expand() : restore()));
})();

// A table wider than a narrow window scrolls on its own (the stylesheet): such a table
// takes keyboard focus, so the arrow keys scroll it; one that fits is no extra tab stop.
(() => {
  const reachable = () => {
    document.querySelectorAll("main table").forEach((t) => {
      if (t.scrollWidth > t.clientWidth + 1) t.setAttribute("tabindex", "0");
      else t.removeAttribute("tabindex");
    });
  };
  document.addEventListener("DOMContentLoaded", reachable);
  window.addEventListener("resize", reachable);
})();

document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-as-of]");
  if (!form) return;
  const slider = form.querySelector("input[type=range]");
  const shown = form.querySelector("output");
  const field = form.querySelector("#at");
  const button = form.querySelector("button[value=moment]");
  const moments = slider.dataset.moments.split("|");
  const labels = slider.dataset.labels.split("|");
  let resting = null;

  const describe = () => {
    const i = Number(slider.value);
    const at = moments[i];
    // Each moment is YYYY-MM-DDTHH:MM:SS.mmm in UTC, as the date-time field takes it.
    shown.textContent = `Event ${i + 1} of ${moments.length}: ${labels[i]} (${at.replace("T", " ")} UTC)`;
    if (field) field.value = at;
  };

  slider.addEventListener("input", describe);
  slider.addEventListener("change", () => {
    describe();
    clearTimeout(resting);
    resting = setTimeout(() => form.requestSubmit(button), 400);
  });

  if (new URLSearchParams(window.location.search).get("use") === "moment") slider.focus();
});
