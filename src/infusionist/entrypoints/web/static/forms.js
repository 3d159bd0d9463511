// A refusal shown beside its form (.flash.error[tabindex="-1"]) takes the focus when the page
// has opened (after the browser's jump to the #anchor, which would reset the focus), so it is in
// view and read out by screen readers (it also has role="alert").
(function () {
  function focusRefusal() {
    var refusal = document.querySelector(".flash.error[tabindex='-1']");
    if (!refusal) { return; }
    var details = refusal.closest("details");
    if (details) { details.open = true; }
    refusal.scrollIntoView({block: "center"});
    refusal.focus({preventScroll: true});
  }
  window.addEventListener("load", function () { window.setTimeout(focusRefusal, 0); });
})();
