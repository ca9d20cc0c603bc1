// otel-agents ui: refresh the element marked data-poll from its URL every 5 s (no framework).
(function () {
  "use strict";
  var el = document.querySelector("[data-poll]");
  if (!el) { return; }
  var url = el.getAttribute("data-poll");
  function tick() {
    if (document.hidden) { return; }
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        // The server renders this fragment with every stored string escaped.
        var body = document.createElement("tbody");
        body.innerHTML = html;
        el.replaceChildren.apply(el, Array.prototype.slice.call(body.childNodes));
        el.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () {});
  }
  setInterval(tick, 5000);
})();
