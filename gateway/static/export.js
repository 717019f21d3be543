// The export page follows its job and shows the download once the file is ready.
// Without JavaScript the page refreshes itself (a <noscript> meta refresh).
"use strict";
(function () {
  var box = document.querySelector("[data-export-job]");
  if (!box) return;
  var url = "/api/exports/" + box.dataset.exportJob;
  var bar = box.querySelector("[data-job-progress]");
  var count = box.querySelector("[data-job-count]");
  var label = box.querySelector("[data-job-label]");
  var delay = 200;

  function show(job) {
    label.textContent = job.status_label;
    if (job.total && bar) bar.value = Math.min(99, Math.round(100 * job.done / job.total));
    if (count) count.textContent = "已写入 " + job.done + (job.total ? " / " + job.total : "") + " 行";
  }

  function showFinished() {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, "text/html").querySelector("[data-export-job]");
        if (fresh) box.replaceWith(fresh); else window.location.reload();
      })
      .catch(function () { window.location.reload(); });
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.json() : null;
      })
      .then(function (job) {
        if (job && job.status !== "queued" && job.status !== "running") {
          showFinished();
          return;
        }
        if (job) show(job);
        delay = Math.min(1000, delay * 1.25);
        window.setTimeout(poll, delay);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  window.setTimeout(poll, delay);
})();
