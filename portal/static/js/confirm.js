// Irreversible actions ask first: a form with data-confirm opens the native <dialog> with
// the same sentence the confirmation page shows; "Confirm" sends the form with confirm=1.
// Without this script the form posts without confirm and the server shows that page.
(function () {
  "use strict";
  var dialog = document.getElementById("confirm-dialog");
  if (!dialog || typeof dialog.showModal !== "function") {
    return; // no <dialog>: the confirmation page does the job
  }
  var text = document.getElementById("confirm-dialog-text");
  var ok = document.getElementById("confirm-dialog-ok");
  var pending = null;

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) {
      return;
    }
    if (form.querySelector("input[name=confirm]")) {
      return; // confirmed already
    }
    event.preventDefault();
    pending = { form: form, submitter: event.submitter || null };
    text.textContent = form.getAttribute("data-confirm");
    ok.textContent = form.getAttribute("data-confirm-button") || ok.textContent;
    dialog.returnValue = "";
    dialog.showModal();
  });

  // Plain buttons, not a form, so that the page's own forms stay the only ones on it.
  document.getElementById("confirm-dialog-cancel").addEventListener("click", function () {
    dialog.close("cancel");
  });
  ok.addEventListener("click", function () {
    dialog.close("ok");
  });

  dialog.addEventListener("close", function () {
    var current = pending;
    pending = null;
    if (!current || dialog.returnValue !== "ok") {
      return;
    }
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "confirm";
    input.value = "1";
    current.form.appendChild(input);
    if (current.submitter && current.submitter.name) {
      var extra = document.createElement("input");
      extra.type = "hidden";
      extra.name = current.submitter.name;
      extra.value = current.submitter.value;
      current.form.appendChild(extra);
    }
    current.form.submit();
  });
})();
