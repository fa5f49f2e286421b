// The tuning notebook's side-by-side player and its clickable curves (tuning/player.py). JupyterLab runs no
// <script> inside widget HTML, so this runs from the onload of a tiny image in that HTML; it defines
// window.hgTune once. Each tuner on the page has an id (uid) in the class names of its pieces:
//   video.hg-tune-UID        the player (one video: template | result)
//   .hg-tune-in-UID input    a hidden text field: messages to the kernel (a click on a curve, the player's time)
//   .hg-curve[data-hg-tune]  a curve's picture, with where its time axis lies (data-left … data-t1), the
//                            full result's time at the video's start (data-offset) and the frame rate (data-fps)
// The kernel turns a click into a frame; the player's playhead is drawn over every curve as it plays.
if (!window.hgTune) {
  window.hgTune = (function () {
    "use strict";
    var timers = {};

    function video(uid) { return document.querySelector("video.hg-tune-" + uid); }

    function send(uid, message) {
      var input = document.querySelector(".hg-tune-in-" + uid + " input");
      if (!input) { return; }
      message.n = Date.now() + Math.random();          // every message differs, so each one is sent
      input.value = JSON.stringify(message);
      input.dispatchEvent(new Event("input", {bubbles: true}));
      input.dispatchEvent(new Event("change", {bubbles: true}));
    }

    function cursor(uid) {                             // the playhead over every curve of this tuner
      var v = video(uid);
      var curves = document.querySelectorAll('.hg-curve[data-hg-tune="' + uid + '"]');
      Array.prototype.forEach.call(curves, function (c) {
        var d = c.dataset, line = c.querySelector(".hg-cursor");
        var t = Number(d.offset) + (v ? Math.floor(v.currentTime * d.fps + 1e-6) / d.fps : 0);   // its frame's start
        var x = Number(d.left) + (t - d.t0) / (d.t1 - d.t0) * (d.right - d.left);
        var shown = !!(v && v.currentSrc) && x >= Number(d.left) && x <= Number(d.right);
        line.style.display = shown ? "block" : "none";
        if (shown) { line.style.left = (100 * x).toFixed(3) + "%"; }
      });
    }

    function report(uid, v) {                          // the player's time, once it rests
      clearTimeout(timers[uid]);
      timers[uid] = setTimeout(function () { send(uid, {kind: "video", t: v.currentTime}); }, 150);
    }

    function quietly(v) {                              // pause without reporting the time paused at
      if (!v.paused) { v.hgQuiet = true; v.pause(); }
    }

    function bind(uid, tries) {
      var v = video(uid);
      if (!v) {
        if ((tries || 0) < 20) { setTimeout(function () { bind(uid, (tries || 0) + 1); }, 250); }
        return;
      }
      if (v.hgTune !== uid) {
        v.hgTune = uid;
        var follow = function () {
          cursor(uid);
          if (!v.paused) { window.requestAnimationFrame(follow); }
        };
        v.addEventListener("play", follow);
        v.addEventListener("timeupdate", function () { cursor(uid); });
        v.addEventListener("pause", function () {
          if (v.hgQuiet) { v.hgQuiet = false; } else { report(uid, v); }
        });
        v.addEventListener("seeked", function () {
          cursor(uid);
          if (v.paused) { report(uid, v); }
        });
      }
      cursor(uid);
    }

    function click(img, event, uid, curve) {
      var v = video(uid), box = img.getBoundingClientRect();
      if (v) { quietly(v); }
      send(uid, {kind: "click", curve: curve, x: (event.clientX - box.left) / box.width});
    }

    function seek(uid, t) {
      var v = video(uid);
      if (!v) { return; }
      quietly(v);
      v.currentTime = t;
      cursor(uid);
    }

    return {bind: bind, click: click, seek: seek, cursor: cursor};
  })();
}
