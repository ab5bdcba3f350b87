// The stages editor: drag a stage by its handle (SortableJS) to reorder; the new order posts
// through htmx (which sends the CSRF header) and the server answers the refreshed list. A
// refused order (a final stage before an open one) comes back as the list in its saved order
// with the reason on top. The up/down buttons work without this.
(function () {
  "use strict";

  function init() {
    var card = document.getElementById("stages");
    if (!card || !window.Sortable) return;
    card.querySelectorAll(".js-only").forEach(function (el) { el.classList.remove("d-none"); });
    var list = card.querySelector("[data-stage-list]");
    if (!list || list.dataset.sortable) return;
    list.dataset.sortable = "1";
    new window.Sortable(list, {
      handle: ".drag-handle",
      draggable: "[data-stage-id]",
      animation: 150,
      onEnd: function (ev) {
        if (ev.oldIndex === ev.newIndex) return;
        var ids = Array.prototype.map.call(list.querySelectorAll("[data-stage-id]"), function (li) {
          return li.dataset.stageId;
        });
        window.htmx.ajax("POST", card.dataset.orderUrl, {
          source: card, target: "#stages", swap: "outerHTML", values: { stage_ids: ids.join(",") }
        });
      }
    });
  }

  document.addEventListener("DOMContentLoaded", init);
  document.body.addEventListener("htmx:afterSettle", init);
})();
