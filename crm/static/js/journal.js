// Journal entry form: add and remove line rows, and live totals (the CSP forbids inline scripts).
// Without JavaScript, "Add line" submits the form and the page comes back with one more row.
(function () {
  function cents(v) {
    var n = parseFloat(String(v || "").replace(/,/g, ""));
    return isFinite(n) ? Math.round(n * 100) : 0;
  }
  function fmt(c) {
    var neg = c < 0; c = Math.abs(c);
    var s = (Math.floor(c / 100)).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + ("0" + (c % 100)).slice(-2);
    return (neg ? "-" : "") + s;
  }
  function totals() {
    var tbody = document.querySelector("[data-journal-lines]");
    if (!tbody) return;
    var d = 0, c = 0;
    tbody.querySelectorAll("[data-debit]").forEach(function (el) { d += cents(el.value); });
    tbody.querySelectorAll("[data-credit]").forEach(function (el) { c += cents(el.value); });
    var td = document.querySelector("[data-total-debit]"), tc = document.querySelector("[data-total-credit]");
    var diff = document.querySelector("[data-total-diff]");
    if (td) td.textContent = fmt(d);
    if (tc) tc.textContent = fmt(c);
    if (diff) { diff.textContent = fmt(d - c); diff.className = d === c ? "text-success" : "text-danger"; }
  }
  document.addEventListener("input", function (ev) {
    if (ev.target.matches("[data-debit], [data-credit]")) totals();
  });
  document.addEventListener("click", function (ev) {
    var add = ev.target.closest("[data-add-line]");
    if (add) {
      var tbody = document.querySelector("[data-journal-lines]");
      var tpl = document.getElementById("journal-line-template");
      if (!tbody || !tpl) return;
      ev.preventDefault();
      var n = parseInt(tbody.dataset.nextIndex || "0", 10);
      tbody.dataset.nextIndex = String(n + 1);
      tbody.insertAdjacentHTML("beforeend", tpl.innerHTML.split("__i__").join(String(n)));
      return;
    }
    var remove = ev.target.closest("[data-remove-line]");
    if (remove) {
      var row = remove.closest("[data-journal-line]");
      if (row) row.remove();
      totals();
    }
  });
})();
