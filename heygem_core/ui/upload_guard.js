// Checks file sizes in the browser before an upload widget reads and sends them.
//
// The upload widget sends every chosen file in one websocket message; a message over the server's limit
// drops the page's connection. So files over the per-file limit are left out here, with a message next to
// the button, and a choice too large to send at once is refused whole. The server checks again.
// Settings come from window.HEYGEM_UPLOAD = {limit, cap, text: {too_big: [zh, en], too_much: [zh, en]}}.
(function () {
  "use strict";
  var settings = window.HEYGEM_UPLOAD;
  if (!settings || window.__heygemUploadGuard) { return; }
  window.__heygemUploadGuard = true;
  var lastButton = null;

  function size(n) {
    var units = ["B", "KB", "MB", "GB"];
    for (var i = 0; i < units.length; i++) {
      if (n < 1024 || i === units.length - 1) {
        return (i === 0 || n === Math.floor(n) ? n.toFixed(0) : n.toFixed(1)) + " " + units[i];
      }
      n /= 1024;
    }
  }

  function text(key, values) {
    var app = document.querySelector(".hg-app");
    var en = app && app.classList.contains("hg-lang-en");
    var template = settings.text[key][en ? 1 : 0];
    return template.replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }

  function statusBox() {
    var box = lastButton && lastButton.closest(".hg-upload-box-audio, .hg-upload-box-video");
    return box && box.querySelector(".hg-upload-status");
  }

  function say(lines) {
    var status = statusBox();
    if (!status) { window.alert(lines.join("\n")); return; }
    lines.forEach(function (line) {
      var div = document.createElement("div");
      div.className = "hg-error hg-client-message";
      div.textContent = line;
      status.appendChild(div);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".widget-upload");
    if (!button) { return; }
    lastButton = button;
    var status = statusBox();
    if (status) {
      status.querySelectorAll(".hg-client-message").forEach(function (e) { e.remove(); });
    }
  }, true);

  var original = EventTarget.prototype.addEventListener;
  HTMLInputElement.prototype.addEventListener = function (type, listener, options) {
    if (type === "change" && this.type === "file" && typeof listener === "function") {
      var input = this;
      var inner = listener;
      listener = function (event) {
        var files = Array.prototype.slice.call(input.files || []);
        var keep = files.filter(function (f) { return f.size <= settings.limit; });
        var lines = files.filter(function (f) { return f.size > settings.limit; }).map(function (f) {
          return text("too_big", {name: f.name, size: size(f.size), limit: size(settings.limit)});
        });
        var total = keep.reduce(function (sum, f) { return sum + f.size; }, 0);
        if (total > settings.cap) {
          lines.push(text("too_much", {n: keep.length, size: size(total), cap: size(settings.cap)}));
          keep = [];
        }
        if (lines.length) { say(lines); }
        if (!keep.length) { input.value = ""; return undefined; }
        if (keep.length !== files.length) {
          var chosen = new DataTransfer();
          keep.forEach(function (f) { chosen.items.add(f); });
          input.files = chosen.files;
        }
        var zone = lastButton && lastButton.closest(".hg-upload-box-audio, .hg-upload-box-video");
        document.dispatchEvent(new CustomEvent("hg-upload-files", {detail: {zone: zone, files: keep}}));
        return inner.call(this, event);
      };
    }
    return original.call(this, type, listener, options);
  };
})();
