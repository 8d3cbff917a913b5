// Keeps an edition's progress in the admin up to date while it sends; without script the
// page shows the counts as they were when it loaded.
(function () {
  "use strict";
  function start() {
    var box = document.querySelector("[data-progress-url]");
    if (!box) { return; }
    var url = box.getAttribute("data-progress-url");
    var bar = box.querySelector("progress");
    function update() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          box.querySelectorAll("[data-field]").forEach(function (node) {
            var name = node.getAttribute("data-field");
            if (name in data) { node.textContent = data[name]; }
          });
          if (bar) { bar.value = data.percent; bar.textContent = data.percent + "%"; }
          if (data.status === "sending") { window.setTimeout(update, 3000); }
        })
        .catch(function () { window.setTimeout(update, 10000); });
    }
    update();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
