// Drag-and-drop onto an upload area, and a progress bar per file while it travels to the server.
//
// A drop hands the files to the area's own upload widget, as if they had been chosen in its file dialog (so
// upload_guard.js checks their sizes the same way). The widget sends all the files of one choice in one
// websocket message, in order; how much of that message is still waiting in the browser (`bufferedAmount`
// of the socket page.js saw send it) tells how far each file has got.
(function () {
  "use strict";
  if (window.__heygemDrop) { return; }
  window.__heygemDrop = true;
  var dropped = null;                 // files waiting for the upload widget to ask for them
  var ZONES = ".hg-upload-box-audio, .hg-upload-box-video";

  function zoneOf(target) { return target && target.closest && target.closest(ZONES); }

  ["dragenter", "dragover"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var zone = zoneOf(event.target);
      if (!zone || !event.dataTransfer) { return; }
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      zone.classList.add("hg-drop-over");
    });
  });
  document.addEventListener("dragleave", function (event) {
    var zone = zoneOf(event.target);
    if (zone && !zone.contains(event.relatedTarget)) { zone.classList.remove("hg-drop-over"); }
  });
  document.addEventListener("drop", function (event) {
    var zone = zoneOf(event.target);
    if (!zone) { return; }
    event.preventDefault();
    zone.classList.remove("hg-drop-over");
    var files = Array.prototype.slice.call((event.dataTransfer && event.dataTransfer.files) || []);
    var button = zone.querySelector(".widget-upload");
    if (!files.length || !button) { return; }
    dropped = files;
    button.click();                   // the widget opens its file input: handed the dropped files instead
    dropped = null;
  });

  var nativeClick = HTMLInputElement.prototype.click;
  HTMLInputElement.prototype.click = function () {
    if (this.type === "file" && dropped) {
      var chosen = new DataTransfer();
      (this.multiple ? dropped : dropped.slice(0, 1)).forEach(function (f) { chosen.items.add(f); });
      this.files = chosen.files;
      this.dispatchEvent(new Event("change"));
      return undefined;
    }
    return nativeClick.call(this);
  };

  // -- transfer progress ----------------------------------------------------------------------------------
  function track(zone, files) {
    var old = zone.querySelector(".hg-transfers");
    if (old) { old.remove(); }
    var box = document.createElement("div");
    box.className = "hg-transfers";
    var total = 0, rows = files.map(function (f) {
      var row = document.createElement("div");
      row.className = "hg-transfer";
      row.innerHTML = '<span class="hg-transfer-name"></span><progress max="100" value="0"></progress>' +
                      '<span class="hg-transfer-pct">0%</span>';
      row.querySelector(".hg-transfer-name").textContent = f.name;
      row.title = f.name;
      box.appendChild(row);
      var entry = {row: row, start: total, size: f.size};
      total += f.size;
      return entry;
    });
    zone.appendChild(box);
    var started = Date.now(), message = null;
    function show(sent) {
      rows.forEach(function (r) {
        var pct = r.size ? Math.max(0, Math.min(100, 100 * (sent - r.start) / r.size)) : 100;
        r.row.querySelector("progress").value = pct;
        r.row.querySelector(".hg-transfer-pct").textContent = Math.floor(pct) + "%";
        r.row.classList.toggle("hg-transfer-done", pct >= 100);
      });
    }
    var timer = setInterval(function () {
      var last = window.__heygemLastSend;
      if (!message && last && last.at >= started && last.size >= total) { message = last; }
      if (!message) {                        // still being read from disk
        if (Date.now() - started > 600000) { clearInterval(timer); box.remove(); }
        return;
      }
      var left = message.ws.bufferedAmount;  // bytes of the message not yet handed to the network
      var sent = total * (1 - Math.min(left, message.size) / message.size);
      show(left === 0 ? total : sent);
      if (left === 0) {
        clearInterval(timer);
        setTimeout(function () { box.remove(); }, 4000);
      }
    }, 50);
  }

  // Files that pass upload_guard.js reach the widget through a change event on its file input.
  document.addEventListener("hg-upload-files", function (event) {
    var zone = event.detail && event.detail.zone;
    if (zone && event.detail.files.length) { track(zone, event.detail.files); }
  });
})();
