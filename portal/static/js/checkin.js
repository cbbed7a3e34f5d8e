/* Check-in at the door: scan a QR code with the camera (or a photo of it) using the bundled
   jsQR decoder, or tap a name; the count updates by polling a small JSON endpoint.
   Checks made while the connection is down are kept in localStorage, each with an id made
   here, and sent when it returns; the server counts a person once, so a check sent twice is
   harmless. */
(function () {
  "use strict";

  var root = document.getElementById("checkin");
  if (!root) { return; }
  var QUEUE_KEY = "portal.checkin.queue.v1";
  var csrf = root.dataset.csrf;
  var result = document.getElementById("checkin-result");
  var countEl = document.getElementById("checkin-count");
  var queueEl = document.getElementById("checkin-queue");
  var list = document.getElementById("people");
  var search = document.getElementById("people-search");
  var video = document.getElementById("camera");
  var canvas = document.getElementById("camera-frame");
  var flushing = false;
  var lastCode = "";
  var lastCodeAt = 0;
  var lastSignature = "";

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) {
      return key in values ? String(values[key]) : "";
    });
  }

  function say(message, kind) {
    result.hidden = false;
    result.textContent = message;
    result.className = "flash flash-" + kind;
    result.dataset.kind = kind;
  }

  function setCount(arrived, expected) {
    countEl.dataset.arrived = arrived;
    countEl.dataset.expected = expected;
    countEl.textContent = fill(root.dataset.countTemplate, {arrived: arrived, expected: expected});
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  /* -- the offline queue ------------------------------------------------------------------ */

  function loadQueue() {
    try {
      var items = JSON.parse(window.localStorage.getItem(QUEUE_KEY) || "[]");
      return Array.isArray(items) ? items : [];
    } catch (e) {
      return [];
    }
  }

  function saveQueue(items) {
    window.localStorage.setItem(QUEUE_KEY, JSON.stringify(items));
    showQueue();
  }

  function showQueue() {
    var n = loadQueue().length;
    queueEl.hidden = n === 0;
    queueEl.dataset.count = n;
    queueEl.textContent = n ? fill(root.dataset.msgQueue, {n: n}) : "";
  }

  function enqueue(item) {
    var items = loadQueue();
    items.push(item);
    saveQueue(items);
  }

  function dequeue(clientId) {
    saveQueue(loadQueue().filter(function (item) { return item.client_id !== clientId; }));
  }

  /* -- talking to the server -------------------------------------------------------------- */

  function Transient(message) { this.message = message; }

  function post(item) {
    return fetch(root.dataset.checkUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf,
                "Accept": "application/json"},
      body: JSON.stringify(item)
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      if (response.status >= 500 || type.indexOf("application/json") === -1) {
        // A server error or an expired form token: keep the check and try again later.
        if (response.status === 400) { refresh(); }
        throw new Transient("HTTP " + response.status);
      }
      return response.json();
    });
  }

  function show(data) {
    say(data.message, data.status === "refused" ? "error" :
      (data.status === "already" ? "info" : "success"));
    if (typeof data.arrived === "number") { setCount(data.arrived, data.expected); }
    if (data.id && data.time) { markArrived(data.id, data.time); }
  }

  function check(fields) {
    var item = {client_id: newId(), at: new Date().toISOString()};
    Object.keys(fields).forEach(function (key) { item[key] = fields[key]; });
    if (navigator.onLine === false) {
      enqueue(item);
      say(root.dataset.msgQueued, "info");
      return Promise.resolve();
    }
    return post(item).then(show, function () {
      enqueue(item);
      say(root.dataset.msgQueued, "info");
    });
  }

  function flush() {
    if (flushing || navigator.onLine === false) { return Promise.resolve(); }
    var items = loadQueue();
    if (!items.length) { return Promise.resolve(); }
    flushing = true;
    var chain = Promise.resolve();
    items.forEach(function (item) {
      chain = chain.then(function () {
        return post(item).then(function (data) {
          dequeue(item.client_id);
          say(fill(root.dataset.msgSent, {message: data.message}),
              data.status === "refused" ? "error" : "success");
          if (data.id && data.time) { markArrived(data.id, data.time); }
          if (typeof data.arrived === "number") { setCount(data.arrived, data.expected); }
        });
      });
    });
    return chain.catch(function () { /* still offline: keep the rest */ })
      .then(function () { flushing = false; });
  }

  /* -- the list of names ------------------------------------------------------------------ */

  function fold(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase();
  }

  function applyFilter() {
    var words = fold(search.value).split(/\s+/).filter(Boolean);
    Array.prototype.forEach.call(list.children, function (li) {
      var text = fold(li.dataset.name + " " + li.dataset.detail);
      li.hidden = !words.every(function (w) { return text.indexOf(w) !== -1; });
    });
  }

  function markArrived(id, time) {
    var button = list.querySelector('button[data-id="' + id + '"]');
    if (!button) { return; }
    button.classList.add("arrived");
    button.querySelector(".person-when").textContent = time;
  }

  function render(people) {
    // Redraw only when something changed: a phone's list must not jump under a finger.
    var signature = JSON.stringify(people) + "|" + loadQueue().length;
    if (signature === lastSignature) { return; }
    lastSignature = signature;
    var pending = {};
    loadQueue().forEach(function (item) {
      if (item.registration_id) { pending[item.registration_id] = true; }
    });
    var items = people.map(function (person) {
      var li = document.createElement("li");
      li.dataset.id = person.id;
      li.dataset.name = person.name;
      li.dataset.detail = person.detail;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "person" + (person.checked_in_at ? " arrived" : "") +
        (pending[person.id] ? " pending" : "");
      button.dataset.id = person.id;
      [["person-name", person.name], ["person-detail muted", person.detail],
       ["person-when", person.checked_in_at || root.dataset.msgCheck]].forEach(function (p) {
        var span = document.createElement("span");
        span.className = p[0];
        span.textContent = p[1];
        button.appendChild(span);
      });
      li.appendChild(button);
      return li;
    });
    list.replaceChildren.apply(list, items);
    applyFilter();
  }

  function refresh() {
    return fetch(root.dataset.stateUrl, {credentials: "same-origin",
                                         headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Transient("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        csrf = data.csrf || csrf;
        setCount(data.arrived, data.expected);
        render(data.people);
      })
      .catch(function () { /* offline: the next poll tries again */ });
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest("button.person");
    if (!button) { return; }
    var id = parseInt(button.dataset.id, 10);
    if (navigator.onLine === false) { button.classList.add("pending"); }
    check({registration_id: id});
  });
  search.addEventListener("input", applyFilter);

  /* -- the decoder ------------------------------------------------------------------------ */

  function decode(source, width, height) {
    var scale = Math.min(1, 1024 / Math.max(width, height));
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    var context = canvas.getContext("2d", {willReadFrequently: true});
    context.drawImage(source, 0, 0, canvas.width, canvas.height);
    var image = context.getImageData(0, 0, canvas.width, canvas.height);
    var code = window.jsQR(image.data, image.width, image.height,
                           {inversionAttempts: "attemptBoth"});
    return code && code.data ? code.data : null;
  }

  function scanned(text) {
    var now = Date.now();
    if (text === lastCode && now - lastCodeAt < 4000) { return; }
    lastCode = text;
    lastCodeAt = now;
    root.dataset.lastCode = text;
    check({token: text});
  }

  document.getElementById("code-photo").addEventListener("change", function (event) {
    var file = event.target.files && event.target.files[0];
    if (!file) { return; }
    window.createImageBitmap(file).then(function (bitmap) {
      var text = decode(bitmap, bitmap.width, bitmap.height);
      event.target.value = "";
      if (text) { lastCode = ""; scanned(text); } else { say(root.dataset.msgNoCode, "error"); }
    }, function () { say(root.dataset.msgNoCode, "error"); });
  });

  var stream = null;
  var cameraButton = document.getElementById("camera-start");
  var startLabel = cameraButton.textContent;

  function tick() {
    if (!stream) { return; }
    if (video.readyState >= 2 && video.videoWidth) {
      var text = decode(video, video.videoWidth, video.videoHeight);
      if (text) { scanned(text); }
    }
    window.setTimeout(function () { window.requestAnimationFrame(tick); }, 250);
  }

  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    video.srcObject = null;
    video.hidden = true;
    root.dataset.camera = "off";
    cameraButton.textContent = startLabel;
  }

  cameraButton.addEventListener("click", function () {
    if (stream) { stopCamera(); return; }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say(root.dataset.msgNoCamera, "error");
      return;
    }
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false})
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        root.dataset.camera = "on";
        cameraButton.textContent = root.dataset.msgStop;
        say(root.dataset.msgScanning, "info");
        return video.play().then(tick);
      })
      .catch(function () { stopCamera(); say(root.dataset.msgNoCamera, "error"); });
  });
  window.addEventListener("pagehide", stopCamera);

  window.addEventListener("online", function () { flush().then(refresh); });
  window.setInterval(function () { flush().then(refresh); }, 3000);
  showQueue();
  flush();
}());
