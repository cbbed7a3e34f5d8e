// Shows the progress of a booklet build and reloads the page when it ends.
(function () {
  "use strict";
  var box = document.getElementById("build-progress");
  if (!box || box.getAttribute("data-state") !== "running") { return; }
  var bar = box.querySelector("progress");
  var label = box.querySelector("[data-stage]");
  var url = box.getAttribute("data-url");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (state.state === "running") {
          if (bar && typeof state.fraction === "number") { bar.value = state.fraction; }
          if (label && state.stage_label) { label.textContent = state.stage_label; }
          window.setTimeout(poll, 500);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 300);
}());
