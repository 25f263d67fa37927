// The back office works without this script; it only adds confirmations and live test progress.
(function () {
  "use strict";

  // Buttons with data-confirm ask before their form is sent (e.g. re-issuing the API token).
  document.addEventListener("submit", function (event) {
    var button = event.submitter || event.target.querySelector("[data-confirm]");
    var question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // A running callback test shows each scenario as it finishes: reload the page until the run ends.
  var run = document.getElementById("run");
  if (run && run.getAttribute("data-state") === "running") {
    window.setTimeout(function () { window.location.reload(); }, 1000);
  }
})();
