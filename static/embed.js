/* Optional: turns a pasted signup form into one that answers in place, without leaving the page.
   <form data-newsroom-signup action="https://SERVICE/api/v1/subscriptions" method="post">...</form>
   Without this script the same form still works: the browser goes to the service's own page. */
(function () {
  "use strict";
  function messageBox(form) {
    var box = form.querySelector("[data-newsroom-message]");
    if (!box) {
      box = document.createElement("p");
      box.setAttribute("data-newsroom-message", "");
      form.appendChild(box);
    }
    box.setAttribute("role", "status");
    return box;
  }
  function onSubmit(event) {
    var form = event.target;
    if (!window.fetch || !form.hasAttribute("data-newsroom-signup")) return;
    event.preventDefault();
    var data = new FormData(form);
    var body = { email: data.get("email") || "", newsletters: data.getAll("newsletters"), website: data.get("website") || "" };
    var box = messageBox(form);
    fetch(form.action, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit"
    }).then(function (response) {
      return response.json().then(function (json) { return { ok: response.ok, json: json }; });
    }).then(function (result) {
      var text = result.json.message || "";
      var errors = result.json.errors || {};
      Object.keys(errors).forEach(function (field) { text += " " + errors[field].join(" "); });
      box.textContent = text;
      if (result.ok) form.reset();
    }).catch(function () {
      form.submit();
    });
  }
  document.addEventListener("submit", onSubmit, true);
})();
