// The opportunity form's product lines: add and remove rows in the page, fill a line from its
// product, and show the lines' sum as the (read-only) amount. The server recomputes everything;
// sums here are exact too (BigInt fen), so what the page shows is what gets saved.
(function () {
  "use strict";

  function toCents(text, places) {
    // "1,234.5" → 123450n for places = 2; null when not a plain decimal
    var s = String(text || "").replace(/[,\s¥]/g, "");
    if (!/^\d+(\.\d*)?$|^\.\d+$/.test(s)) return null;
    var parts = s.split(".");
    var frac = (parts[1] || "").padEnd(places, "0");
    if (frac.length > places) return null;
    return BigInt((parts[0] || "0") + frac);
  }

  function fmt(fen) {
    var neg = fen < 0n;
    if (neg) fen = -fen;
    var s = fen.toString().padStart(3, "0");
    var whole = s.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (neg ? "-" : "") + whole + "." + s.slice(-2);
  }

  function isBlank(row) {
    return !row.querySelector("[data-product]").value &&
      ["[data-description]", "[data-quantity]", "[data-unit-price]"].every(function (sel) {
        return !row.querySelector(sel).value.trim();
      });
  }

  function recompute(form) {
    var total = 0n;
    var lines = 0;
    form.querySelectorAll("[data-lines] [data-line]").forEach(function (row) {
      var cell = row.querySelector("[data-line-amount]");
      if (isBlank(row)) { cell.textContent = ""; return; }
      lines += 1;
      var qtyText = row.querySelector("[data-quantity]").value.trim() || "1";
      var qty = toCents(qtyText, 2);
      var price = toCents(row.querySelector("[data-unit-price]").value.trim() || "0", 2);
      if (qty === null || price === null) { cell.textContent = "?"; return; }
      var raw = qty * price; // 4 places
      var fen = (raw + 50n) / 100n; // half up at the fen (amounts are never negative)
      total += fen;
      cell.textContent = fmt(fen);
    });
    var amount = form.querySelector("#amount");
    if (!amount) return;
    amount.readOnly = lines > 0;
    if (lines > 0) amount.value = fmt(total).replace(/,/g, "");
  }

  function wire(form) {
    var body = form.querySelector("[data-lines]");
    var tpl = document.getElementById("line-template");
    form.querySelectorAll(".js-only").forEach(function (el) { el.classList.remove("d-none"); });

    function nextIndex() {
      var max = -1;
      body.querySelectorAll("[name^='lines-']").forEach(function (el) {
        var m = /^lines-(\d+)-/.exec(el.name);
        if (m) max = Math.max(max, parseInt(m[1], 10));
      });
      return max + 1;
    }

    form.querySelector("[data-add-line]").addEventListener("click", function () {
      var html = tpl.innerHTML.replace(/__i__/g, String(nextIndex()));
      body.insertAdjacentHTML("beforeend", html);
      body.querySelectorAll(".js-only").forEach(function (el) { el.classList.remove("d-none"); });
      var rows = body.querySelectorAll("[data-line]");
      rows[rows.length - 1].querySelector("[data-product]").focus();
    });

    body.addEventListener("click", function (ev) {
      var btn = ev.target.closest("[data-remove-line]");
      if (!btn) return;
      btn.closest("[data-line]").remove();
      recompute(form);
    });

    body.addEventListener("change", function (ev) {
      var select = ev.target.closest("[data-product]");
      if (select) {
        var opt = select.selectedOptions[0];
        var row = select.closest("[data-line]");
        if (opt && opt.value) {
          var desc = row.querySelector("[data-description]");
          var price = row.querySelector("[data-unit-price]");
          if (!desc.value.trim()) desc.value = opt.dataset.name || "";
          if (!price.value.trim()) price.value = opt.dataset.price || "";
        }
      }
      recompute(form);
    });
    body.addEventListener("input", function () { recompute(form); });
    recompute(form);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-opportunity-form]").forEach(wire);
  });
})();
