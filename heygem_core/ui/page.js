// What the page does on its own, without a round trip to the kernel:
//  - remembers the person's choices in this browser (localStorage) and hands them back after a reload;
//  - shows a banner when the connection to the server is lost, and reloads by itself once it is back;
//  - ignores the second click of a double click on a Start/Generate button;
//  - brings the progress panel into view once a job is queued.
// Settings come from window.HEYGEM_PAGE = {key, text: {lost: [zh, en], reload: [zh, en], back: [zh, en]}}.
(function () {
  "use strict";
  var settings = window.HEYGEM_PAGE;
  if (!settings || window.__heygemPage) { return; }
  window.__heygemPage = true;
  var lastBeat = 0;           // when the kernel last showed it is alive (ms)
  var lostAt = 0;             // when the connection was found lost (0: connected)
  var restored = false;
  var socketClosed = false;   // the kernel's connection closed (a heartbeat gap alone may be a busy machine)

  function lang() {
    var app = document.querySelector(".hg-app");
    return app && app.classList.contains("hg-lang-en") ? 1 : 0;
  }
  function text(key) { return settings.text[key][lang()]; }

  // -- remembering ----------------------------------------------------------------------------------------
  function restore() {
    if (restored) { return; }
    var input = document.querySelector(".hg-memory-in input");
    if (!input) { return; }
    restored = true;
    var saved = "{}";
    try { saved = window.localStorage.getItem(settings.key) || "{}"; } catch (e) { saved = "{}"; }
    input.value = saved;
    input.dispatchEvent(new Event("input", {bubbles: true}));
    input.dispatchEvent(new Event("change", {bubbles: true}));
  }
  function save() {
    var out = document.querySelector(".hg-memory-out [data-state]");
    if (!out) { return; }
    try { window.localStorage.setItem(settings.key, out.getAttribute("data-state")); } catch (e) { /* full */ }
  }

  // -- connection -----------------------------------------------------------------------------------------
  function banner() {
    var el = document.getElementById("hg-connection");
    if (!el) {
      el = document.createElement("div");
      el.id = "hg-connection";
      el.setAttribute("role", "alert");
      el.innerHTML = '<span class="hg-connection-text"></span> <button type="button">' +
                     '</button>';
      el.querySelector("button").addEventListener("click", function () { window.location.reload(); });
      document.body.appendChild(el);
    }
    return el;
  }
  function showLost() {
    if (!lostAt) { lostAt = Date.now(); }
    var el = banner();
    el.querySelector(".hg-connection-text").textContent = text("lost");
    el.querySelector("button").textContent = text("reload");
    el.className = "hg-connection-lost";
  }
  function probe() {
    // Any answer from the server means it is up again: a new page gets a new kernel.
    var url = window.location.pathname.replace(/[^/]*$/, "") + "voila/static/?heygem-probe=" + Date.now();
    fetch(url, {cache: "no-store", credentials: "same-origin"}).then(function () {
      var el = banner();
      el.querySelector(".hg-connection-text").textContent = text("back");
      window.location.reload();
    }, function () { /* still away */ });
  }
  var NativeSocket = window.WebSocket;
  if (NativeSocket) {
    var Wrapped = function (url, protocols) {
      var ws = protocols === undefined ? new NativeSocket(url) : new NativeSocket(url, protocols);
      if (String(url).indexOf("/api/kernels/") >= 0) {
        var nativeSend = ws.send;
        ws.send = function (data) {       // upload_drop.js follows the message that carries an upload
          var size = data && (data.byteLength !== undefined ? data.byteLength : String(data).length);
          window.__heygemLastSend = {at: Date.now(), size: size, ws: ws};
          return nativeSend.call(ws, data);
        };
        ws.addEventListener("close", function () { if (lastBeat) { socketClosed = true; showLost(); } });
      }
      return ws;
    };
    Wrapped.prototype = NativeSocket.prototype;
    ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach(function (k) { Wrapped[k] = NativeSocket[k]; });
    window.WebSocket = Wrapped;
  }
  setInterval(function () {
    var silent = lastBeat ? Date.now() - lastBeat : 0;
    if (lastBeat && !lostAt && silent > settings.silence_ms) { showLost(); }
    if (lostAt && !socketClosed && silent < settings.silence_ms) {   // only a busy kernel: it is back
      lostAt = 0;
      var el = document.getElementById("hg-connection");
      if (el) { el.remove(); }
    }
    // Reload once the server answers: at once when the connection closed, after a minute of silence else
    if (lostAt && (socketClosed || silent > 60000)) { probe(); }
  }, 2000);

  // -- clicks and scrolling -------------------------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".hg-go");
    if (!button) { return; }
    var last = Number(button.getAttribute("data-hg-clicked") || 0);
    if (Date.now() - last < 1500) {            // a double click queues once
      event.stopImmediatePropagation();
      event.preventDefault();
      return;
    }
    button.setAttribute("data-hg-clicked", String(Date.now()));
  }, true);

  function scrollToProgress() {
    var panels = Array.prototype.filter.call(document.querySelectorAll(".hg-progress"), function (p) {
      return p.offsetParent !== null;
    });
    var panel = panels[0];
    if (!panel) { return; }
    var r = panel.getBoundingClientRect();
    if (r.top < 0 || r.bottom > window.innerHeight) {
      panel.scrollIntoView({behavior: "smooth", block: "start"});
    }
    panel.classList.add("hg-flash");
    setTimeout(function () { panel.classList.remove("hg-flash"); }, 1200);
  }

  new MutationObserver(function (records) {
    restore();
    records.forEach(function (r) {
      var el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      if (!el || !el.closest) { return; }
      if (el.closest(".hg-heartbeat")) { lastBeat = Date.now(); }
      if (el.closest(".hg-memory-out")) { save(); }
      if (el.closest(".hg-action-message") && el.closest(".hg-action-message").querySelector("[data-scroll]")) {
        var note = el.closest(".hg-action-message").querySelector("[data-scroll]");
        if (!note.__hgScrolled) { note.__hgScrolled = true; scrollToProgress(); }
      }
    });
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
})();
