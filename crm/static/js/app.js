// Behaviour that would otherwise be inline script (the CSP forbids inline scripts).
(function () {
  "use strict";
  // Ask before destructive actions: <form data-confirm="...">.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      ev.preventDefault();
    }
  }, true);
  // Copy buttons: <button data-copy="#element-id">.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-copy]");
    if (!btn) return;
    var el = document.querySelector(btn.dataset.copy);
    if (!el) return;
    var text = el.value !== undefined ? el.value : el.textContent;
    if (navigator.clipboard) {
      navigator.clipboard.writeText(text.trim()).then(function () {
        var old = btn.textContent; btn.textContent = btn.dataset.copied || "✓";
        setTimeout(function () { btn.textContent = old; }, 1500);
      });
    } else if (el.select) { el.select(); document.execCommand("copy"); }
  });
  // The unread badge lives in the bell fragment; move it onto the bell button.
  document.body.addEventListener("htmx:afterSwap", function (ev) {
    if (ev.detail.target && ev.detail.target.id === "bell-menu") {
      var src = document.getElementById("bell-unread");
      var dst = document.getElementById("bell-count");
      if (src && dst) dst.innerHTML = src.innerHTML;
    }
  });
  // Hide live search results on Escape or click elsewhere.
  document.addEventListener("click", function (ev) {
    var box = document.getElementById("search-results");
    if (box && !ev.target.closest(".global-search")) box.innerHTML = "";
  });
  // Charts: <canvas data-chart='{"type": ..., "data": ...}'>; Chart.js is loaded by pages that chart.
  function drawCharts(root) {
    if (!window.Chart) return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (c) {
      if (c.dataset.drawn) return;
      c.dataset.drawn = "1";
      var cfg = JSON.parse(c.dataset.chart);
      cfg.options = Object.assign({ responsive: true, maintainAspectRatio: false, plugins: { legend: { display: cfg.type !== "bar" } } }, cfg.options || {});
      new window.Chart(c, cfg);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.body.addEventListener("htmx:afterSettle", function (ev) { drawCharts(ev.detail.elt); });
})();
// Registry look-up on the customer form: copy the ticked fields of one result into the form.
document.addEventListener("click", function (ev) {
  var btn = ev.target.closest("[data-fill-apply]");
  if (!btn) return;
  var hit = btn.closest("[data-registry-hit]");
  hit.querySelectorAll("input[data-fill-field]:checked").forEach(function (box) {
    var input = document.getElementById(box.dataset.fillField);
    if (input) { input.value = box.dataset.fillValue; input.dispatchEvent(new Event("change", { bubbles: true })); }
  });
});
