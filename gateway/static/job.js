// A print or export job's page follows its job and shows the finished card once it is ready.
// Without JavaScript the page refreshes itself (a <noscript> meta refresh).
// The card says what to ask and how to count: data-job-url (the job's JSON), and for the
// count data-job-verb and data-job-unit, with data-job-count-needs-total when a count
// means nothing before the total is known.
"use strict";
(function () {
  var box = document.querySelector("[data-job-url]");
  if (!box) return;
  var bar = box.querySelector("[data-job-progress]");
  var count = box.querySelector("[data-job-count]");
  var label = box.querySelector("[data-job-label]");
  var delay = 250;

  function show(job) {
    label.textContent = job.status_label;
    if (job.total && bar) bar.value = Math.min(99, Math.round(100 * job.done / job.total));
    if (!count || (!job.total && "jobCountNeedsTotal" in box.dataset)) return;
    count.textContent = box.dataset.jobVerb + " " + job.done + (job.total ? " / " + job.total : "") +
      " " + box.dataset.jobUnit;
  }

  // The finished page's card in place of this one, so a message shown above it stays.
  function showFinished() {
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, "text/html").querySelector("[data-job-url]");
        if (fresh) box.replaceWith(fresh); else window.location.reload();
      })
      .catch(function () { window.location.reload(); });
  }

  function poll() {
    fetch(box.dataset.jobUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
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
        delay = Math.min(1000, delay * 1.25);  // a roster is ready in about 3 s
        window.setTimeout(poll, delay);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  window.setTimeout(poll, delay);
})();
