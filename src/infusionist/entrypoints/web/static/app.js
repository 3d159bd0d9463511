// infusionist: countdowns, live board (server-sent events), immediate vital-sign checks,
// lab units narrowed to the chosen test.
"use strict";
(function () {
  // "in 22 min", "1 h 5 min overdue", "due now": a duration beside the clock time it counts to.
  function span(seconds) {
    var m = Math.round(Math.abs(seconds) / 60), h = Math.floor(m / 60), r = m % 60;
    return h ? h + " h" + (r ? " " + r + " min" : "") : m + " min";
  }
  function tick() {
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) { return; }
      var s = (due - Date.now()) / 1000;
      if (el.getAttribute("data-ends") !== null) {  // an end (observation), never "overdue"
        el.textContent = s >= 30 ? "in " + span(s) : (s > -60 ? "ends now" : "ended " + span(s) + " ago");
        return;
      }
      el.textContent = s >= 30 ? "in " + span(s) : (s > -60 ? "due now" : span(s) + " overdue");
      el.classList.toggle("overdue", s <= -60);
    });
  }
  // A day page from history (back button, a tab left open) asks the server how many entries the
  // day holds; when the record has more than the page shows, it says so and offers the current day.
  function staleCheck() {
    var box = document.getElementById("day-version");
    if (!box || !window.fetch) { return; }
    function check() {
      fetch(box.getAttribute("data-url"), { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) { if (d && String(d.entries) !== box.getAttribute("data-entries")) { box.hidden = false; } })
        .catch(function () { return null; });
    }
    window.addEventListener("pageshow", function (e) { if (e.persisted) { check(); } });
    document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") { check(); } });
    window.addEventListener("focus", check);
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
        var el = e.target, v = Number(el.value.trim().replace(",", ".")), min = parseFloat(el.dataset.min), max = parseFloat(el.dataset.max);
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
    tick(); setInterval(tick, 1000); liveBoard(); staleCheck(); vitalChecks(); labUnits();
    var hash = window.location.hash && document.querySelector(window.location.hash);
    // After an entry the page opens at the card that is relevant now: its notice goes there too,
    // under the card's heading, where the nurse looks (without script it stays at the top).
    var note = document.querySelector(".flash.notice");
    if (hash && note && hash.classList.contains("card")) {
      var heading = hash.querySelector("h2");
      hash.insertBefore(note, heading ? heading.nextSibling : hash.firstChild);
    }
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
