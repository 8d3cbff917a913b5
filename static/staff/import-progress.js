/* Moves an import's progress bar without reloading the page, by polling a small JSON view.
   Without JavaScript the page refreshes itself instead (a meta refresh inside <noscript>). */
(function () {
  "use strict";

  function watch(box) {
    var url = box.getAttribute("data-url");
    var interval = parseInt(box.getAttribute("data-interval"), 10) || 1000;
    var bar = box.querySelector("progress");

    function show(name, value) {
      box.querySelectorAll('[data-field="' + name + '"]').forEach(function (node) {
        node.textContent = value;
      });
    }

    function update(state) {
      bar.value = state.percent;
      bar.textContent = state.percent + "%";
      show("percent", state.percent + "%");
      ["status_label", "rows", "added", "updated", "skipped"].forEach(function (name) {
        show(name, state[name]);
      });
      var error = box.querySelector('[data-field="error"]');
      if (state.error) {
        error.textContent = state.error;
        error.hidden = false;
      }
      var report = box.querySelector("[data-report]");
      if (state.report_url) {
        report.href = state.report_url;
        report.hidden = false;
      }
      box.setAttribute("data-finished", state.finished ? "true" : "false");
    }

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("HTTP " + response.status);
          }
          return response.json();
        })
        .then(function (state) {
          update(state);
          if (!state.finished) {
            window.setTimeout(poll, interval);
          }
        })
        .catch(function () {
          window.setTimeout(poll, interval * 5);
        });
    }

    window.setTimeout(poll, interval);
  }

  function start() {
    var box = document.querySelector("[data-import-progress]");
    if (box && box.getAttribute("data-finished") !== "true" && window.fetch) {
      watch(box);
    }
  }

  // The admin loads this in <head>, before the progress bar exists.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
