// Order form: add and remove line rows without a reload (the CSP forbids inline scripts).
// A new row is the <template id="order-line-template"> with __i__ replaced by the next index;
// WTForms reads lines-<n>-<field> whatever the gaps between the indices.
document.addEventListener("click", function (ev) {
  var add = ev.target.closest("[data-add-line]");
  if (add) {
    var tbody = document.querySelector("[data-order-lines]");
    var tpl = document.getElementById("order-line-template");
    if (!tbody || !tpl) return;
    var n = parseInt(tbody.dataset.nextIndex || "0", 10);
    tbody.dataset.nextIndex = String(n + 1);
    tbody.insertAdjacentHTML("beforeend", tpl.innerHTML.split("__i__").join(String(n)));
    var first = tbody.lastElementChild && tbody.lastElementChild.querySelector("select, input");
    if (first) first.focus();
    return;
  }
  var remove = ev.target.closest("[data-remove-line]");
  if (remove) {
    var row = remove.closest("[data-order-line]");
    if (row) row.remove();
  }
});
