// A "computing…" notice that fills itself in (progressive enhancement; without scripts the
// page's meta refresh reloads it). Asks /api/status until the awaited part is ready (or has
// failed, or its job is no longer queued), then reloads the page, which then shows it.
(function () {
  "use strict";
  var box = document.getElementById("computing");
  if (!box) { return; }
  var job = box.getAttribute("data-job");
  var wanted = box.getAttribute("data-ready") || job;
  var progress = document.getElementById("computing-progress");
  function later(ms) { window.setTimeout(poll, ms); }
  function poll() {
    fetch("/api/status", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status) { later(5000); return; }
        var running = (status.jobs || []).filter(function (item) { return item.name === job; })[0];
        if (status.ready.indexOf(wanted) >= 0 || (status.failed && job in status.failed) || !running) {
          window.location.reload();
          return;
        }
        if (progress) {
          progress.textContent = running.state === "running"
            ? "(running for " + Math.round(running.seconds) + " s)" : "(queued behind another computation)";
        }
        later(1000);
      })
      .catch(function () { later(5000); });
  }
  later(700);
})();
