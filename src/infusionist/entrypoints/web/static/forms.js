// A refusal shown beside its form (.flash.error[tabindex="-1"]) takes the focus when the page
// opens, so it is in view and read out by screen readers (it also has role="alert").
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    var refusal = document.querySelector(".flash.error[tabindex='-1']");
    if (refusal) {
      var details = refusal.closest("details");
      if (details) { details.open = true; }
      refusal.scrollIntoView({block: "center"});
      refusal.focus({preventScroll: true});
    }
  });
})();
