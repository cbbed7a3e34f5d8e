// Forms that forgive: focus on the first refused field, a too large upload stopped before it is
// sent (with the limit in MB), and a progress bar while a long upload is on its way. Without
// JavaScript every form still posts as usual.
(function () {
  "use strict";

  function firstInvalid() {
    return document.querySelector('[aria-invalid="true"]');
  }

  function focusFirstInvalid() {
    var invalid = firstInvalid();
    if (invalid && typeof invalid.focus === "function" && document.activeElement !== invalid) {
      invalid.focus();
    }
  }
  focusFirstInvalid();
  // Going to the form's #anchor after the page loads may take the focus away: give it back.
  window.addEventListener("load", function () { window.setTimeout(focusFirstInvalid, 0); });

  function showError(input, text) {
    var id = input.id + "-error";
    var box = document.getElementById(id);
    if (!box) {
      box = document.createElement("div");
      box.className = "error";
      box.id = id;
      box.setAttribute("role", "alert");
      input.parentNode.appendChild(box);
    }
    box.textContent = text;
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (described.indexOf(id) < 0) { described.push(id); }
    input.setAttribute("aria-describedby", described.join(" "));
    input.setAttribute("aria-invalid", "true");
    var wrap = input.closest(".field");
    if (wrap) { wrap.classList.add("has-error"); }
    input.focus();
  }

  function clearError(input) {
    var box = document.getElementById(input.id + "-error");
    if (box && box.getAttribute("data-client") === "yes") { box.remove(); }
    input.removeAttribute("aria-invalid");
  }

  function tooLarge(input) {
    var limit = parseInt(input.getAttribute("data-max-bytes") || "0", 10);
    if (!limit || !input.files) { return null; }
    for (var i = 0; i < input.files.length; i += 1) {
      if (input.files[i].size > limit) { return input.files[i]; }
    }
    return null;
  }

  function checkSize(input) {
    var file = tooLarge(input);
    if (file) {
      var text = input.getAttribute("data-too-large") || "";
      showError(input, text.replace("%(name)s", file.name));
      var box = document.getElementById(input.id + "-error");
      if (box) { box.setAttribute("data-client", "yes"); }
      return false;
    }
    clearError(input);
    return true;
  }

  Array.prototype.forEach.call(document.querySelectorAll("input[type=file][data-max-bytes]"),
    function (input) {
      input.addEventListener("change", function () { checkSize(input); });
    });

  Array.prototype.forEach.call(document.querySelectorAll("form[data-upload]"), function (form) {
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file][data-max-bytes]");
      if (input && !checkSize(input)) { event.preventDefault(); return; }
      if (!window.FormData || !window.XMLHttpRequest) { return; }
      event.preventDefault();
      var box = form.querySelector("[data-progress]");
      var bar = box ? box.querySelector("progress") : null;
      var label = box ? box.querySelector("[data-progress-label]") : null;
      if (box) { box.hidden = false; }
      var buttons = form.querySelectorAll("button, input[type=submit]");
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
      var data = new FormData(form);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("action") || window.location.href);
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var percent = Math.round((e.loaded / e.total) * 100);
        if (bar) { bar.value = percent; }
        if (label) { label.textContent = percent + " %"; }
      });
      xhr.addEventListener("load", function () {
        // Show what the server answered (the page with its message, after the redirect of a
        // stored upload, or the form with the reason at the field), at the address it has.
        var finalUrl = xhr.responseURL || "";
        document.open();
        document.write(xhr.responseText);
        document.close();
        if (finalUrl && window.history && window.history.replaceState) {
          window.history.replaceState(null, "", finalUrl);
        }
      });
      xhr.addEventListener("error", function () {
        // The network failed: send it the plain way, which shows the browser's own page.
        Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
        form.removeAttribute("data-upload");
        HTMLFormElement.prototype.submit.call(form);
      });
      xhr.send(data);
    });
  });
}());
