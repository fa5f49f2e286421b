// The before/after view: a result beside the template it was made from, with one play/pause and one seek
// bar for both. Opened by any `.hg-compare-open` button (History cards, a batch's results), whose data-*
// attributes carry the two addresses; it runs in the page alone, without a round trip to the kernel.
//
// The result (with its sound) leads; the template follows it, muted. The result is as long as the speech: a
// longer template was cut, a shorter one played back and forth (or looped), so the template's time is the
// result's time folded the same way. Words come from window.HEYGEM_PAGE.text.compare_* ([zh, en]).
(function () {
  "use strict";
  if (window.__heygemCompare) { return; }
  window.__heygemCompare = true;
  var DRIFT_S = 0.12;           // the template is put back in step when it is further off than this
  var BACK_STEP_S = 0.04;       // running backwards, it is moved about once a frame (25 fps)

  function lang() {
    var app = document.querySelector(".hg-app");
    return app && app.classList.contains("hg-lang-en") ? 1 : 0;
  }
  function text(key) {
    var words = ((window.HEYGEM_PAGE || {}).text || {})["compare_" + key];
    return words ? words[lang()] : key;
  }
  function clock(s) {
    s = Math.max(0, Math.floor(s || 0));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  // Where the template is at the result's time t (d: the template's length), to within a frame of
  // media/timeline.py's template_index.
  function templateTime(t, d, loop) {
    if (!(d > 0) || t < d) { return t; }
    if (loop === "loop") { return t % d; }
    var p = t % (2 * d);
    return p < d ? p : 2 * d - p;
  }
  function forward(t, d, loop) { return !(d > 0) || t < d || loop === "loop" || (t % (2 * d)) < d; }

  function build() {
    var el = document.createElement("div");
    el.id = "hg-compare";
    el.setAttribute("role", "dialog");
    el.setAttribute("aria-modal", "true");
    el.innerHTML =
      '<div class="hg-compare-box">' +
      '<div class="hg-compare-head"><span class="hg-compare-title"></span>' +
      '<button type="button" class="hg-compare-close"></button></div>' +
      '<div class="hg-compare-panes">' +
      '<figure><figcaption class="hg-compare-before-label"></figcaption>' +
      '<video class="hg-compare-before" muted playsinline preload="auto"></video>' +
      '<img class="hg-compare-still" alt=""></figure>' +
      '<figure><figcaption class="hg-compare-after-label"></figcaption>' +
      '<video class="hg-compare-after" playsinline preload="auto"></video></figure></div>' +
      '<div class="hg-compare-bar"><button type="button" class="hg-compare-play"></button>' +
      '<input type="range" class="hg-compare-seek" min="0" max="0" step="0.01" value="0">' +
      '<span class="hg-compare-time">0:00 / 0:00</span></div>' +
      '<div class="hg-compare-note"></div></div>';
    document.body.appendChild(el);
    return el;
  }

  function open(button) {
    close();
    var el = build();
    var before = el.querySelector(".hg-compare-before"), after = el.querySelector(".hg-compare-after");
    var still = el.querySelector(".hg-compare-still"), seek = el.querySelector(".hg-compare-seek");
    var play = el.querySelector(".hg-compare-play"), time = el.querySelector(".hg-compare-time");
    var note = el.querySelector(".hg-compare-note");
    var loop = button.getAttribute("data-loop") || "pingpong";
    var image = button.getAttribute("data-kind") === "image";
    var seeking = false, frame = 0;

    el.querySelector(".hg-compare-title").textContent = button.getAttribute("data-name") || "";
    el.querySelector(".hg-compare-before-label").textContent = text("before");
    el.querySelector(".hg-compare-after-label").textContent = text("after");
    el.querySelector(".hg-compare-close").textContent = "✕";
    el.querySelector(".hg-compare-close").title = text("close");
    var poster = button.getAttribute("data-poster");
    if (image || !button.getAttribute("data-before")) {
      before.style.display = "none";
      still.src = image ? button.getAttribute("data-before") : (poster || "");
      if (!image) { note.textContent = text("unplayable"); }
    } else {
      still.style.display = "none";
      before.src = button.getAttribute("data-before");
      var unplayable = function () {      // a format this browser cannot play: its still instead
        before.pause();
        before.style.display = "none";
        if (poster) { still.src = poster; still.style.display = ""; }
        note.textContent = text("unplayable");
      };
      before.addEventListener("error", unplayable);
      // HEVC in Chromium: the file opens, its sound would play, but there is no picture
      before.addEventListener("loadedmetadata", function () { if (!before.videoWidth) { unplayable(); } });
    }
    after.src = button.getAttribute("data-after");

    function label() {
      play.textContent = after.paused ? "▶" : "❚❚";
      play.title = text(after.paused ? "play" : "pause");
      time.textContent = clock(after.currentTime) + " / " + clock(after.duration);
      if (!seeking) { seek.value = String(after.currentTime || 0); }
    }
    // Put the template where the result is; while the template runs backwards it is shown frame by frame.
    function follow(force) {
      if (image || before.style.display === "none" || !(before.readyState >= 1)) { return; }
      var t = after.currentTime, d = before.duration, want = templateTime(t, d, loop);
      var ahead = forward(t, d, loop) && !after.paused;
      if (force || Math.abs(before.currentTime - want) > (ahead ? DRIFT_S : BACK_STEP_S)) {
        before.currentTime = want;
      }
      if (ahead && before.paused) { before.play().catch(function () {}); }
      if (!ahead && !before.paused) { before.pause(); }
    }
    function tick() {
      follow(false);
      label();
      frame = after.paused ? 0 : window.requestAnimationFrame(tick);
    }
    after.addEventListener("loadedmetadata", function () {
      seek.max = String(after.duration || 0);
      if (after.videoWidth && after.videoHeight) {      // both panes take the result's shape
        el.style.setProperty("--hg-compare-ratio", after.videoWidth + " / " + after.videoHeight);
      }
      label();
    });
    before.addEventListener("loadedmetadata", function () { follow(true); });
    after.addEventListener("play", function () { follow(true); if (!frame) { tick(); } });
    after.addEventListener("pause", function () { before.pause(); follow(true); label(); });
    after.addEventListener("seeked", function () { follow(true); label(); });
    after.addEventListener("ended", function () { before.pause(); label(); });
    play.addEventListener("click", function () {
      if (after.paused) { after.play().catch(function () {}); } else { after.pause(); }
    });
    seek.addEventListener("input", function () {
      seeking = true;
      after.currentTime = Number(seek.value);
      follow(true);
    });
    seek.addEventListener("change", function () { seeking = false; });
    el.querySelector(".hg-compare-close").addEventListener("click", close);
    el.addEventListener("click", function (event) { if (event.target === el) { close(); } });
    label();
    play.focus();                       // Space or Enter plays and pauses, Escape closes
  }

  function close() {
    var el = document.getElementById("hg-compare");
    if (!el) { return; }
    el.querySelectorAll("video").forEach(function (v) { v.pause(); v.removeAttribute("src"); v.load(); });
    el.remove();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".hg-compare-open");
    if (button) { event.preventDefault(); open(button); }
  });
  document.addEventListener("keydown", function (event) { if (event.key === "Escape") { close(); } });
})();
