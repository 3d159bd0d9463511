// infusionist: countdowns, live board (server-sent events), immediate vital-sign checks,
// lab units narrowed to the chosen test.
"use strict";
(function () {
  function pad(n) { return String(n).padStart(2, "0"); }
  function tick() {
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) { return; }
      var s = Math.round((due - Date.now()) / 1000), a = Math.abs(s);
      var text = (a >= 3600 ? Math.floor(a / 3600) + " h " : "") + pad(Math.floor(a % 3600 / 60)) + ":" + pad(a % 60);
      el.textContent = s < 0 ? "overdue " + text : "in " + text;
      el.classList.toggle("overdue", s < 0);
    });
  }
  function liveBoard() {
    var board = document.getElementById("board");
    if (!board || !window.EventSource) { return; }
    var source = new EventSource(board.getAttribute("data-stream"));
    source.addEventListener("change", function () {
      fetch(board.getAttribute("data-rows"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) { board.innerHTML = html; tick(); } });
    });
    source.onerror = function () { var l = document.getElementById("live"); if (l) { l.textContent = "Reconnecting…"; } };
    source.onopen = function () { var l = document.getElementById("live"); if (l) { l.textContent = "Live: updates by itself"; } };
  }
  function vitalChecks() {
    document.querySelectorAll(".vitals-form").forEach(function (form) {
      var hint = form.querySelector(".field-hint");
      form.addEventListener("input", function (e) {
        var el = e.target, v = parseFloat(el.value), min = parseFloat(el.dataset.min), max = parseFloat(el.dataset.max);
        var bad = el.value.trim() !== "" && (isNaN(v) || v < min || v > max);
        el.setAttribute("aria-invalid", bad ? "true" : "false");
        if (hint) { hint.textContent = bad ? el.parentNode.firstChild.textContent.trim() + " must be between " + min + " and " + max + "." : ""; }
      });
    });
  }
  function labUnits() {
    // Only the chosen test's units can be picked (without script every unit is listed, grouped
    // by test, and the server refuses a unit that does not fit).
    var test = document.getElementById("lab-analyte"), unit = document.getElementById("lab-unit");
    if (!test || !unit) { return; }
    function narrow() {
      var first = null;
      unit.querySelectorAll("optgroup").forEach(function (group) {
        var mine = group.getAttribute("data-analyte") === test.value;
        group.disabled = !mine; group.hidden = !mine;
        if (mine && !first) { first = group.querySelector("option"); }
      });
      var chosen = unit.options[unit.selectedIndex];
      if ((!chosen || chosen.parentNode.disabled) && first) { first.selected = true; }
    }
    test.addEventListener("change", narrow);
    narrow();
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick(); setInterval(tick, 1000); liveBoard(); vitalChecks(); labUnits();
    var hash = window.location.hash && document.querySelector(window.location.hash);
    if (hash) { hash.scrollIntoView(); }
    // A refused entry comes back inside its form: show it, focus it (screen readers announce the
    // alert) and put the day's own address back so that a reload does not post again.
    var refusal = document.getElementById("refusal");
    if (refusal) {
      var box = refusal.closest("details"); if (box) { box.open = true; }
      refusal.scrollIntoView({ block: "center" }); refusal.focus();
      if (/\/(record|correct)$/.test(window.location.pathname)) {
        history.replaceState(null, "", window.location.pathname.replace(/\/(record|correct)$/, ""));
      }
    }
  });
})();
