// The pipeline kanban: drag a card to another stage (SortableJS); the drop posts to the same
// service as the form. A "lost" column asks for the reason first. A refused move (e.g. no
// reason) reloads the board, so the card goes back, and shows the server's error.
(function () {
  "use strict";
  var pending = null; // {card, stageId} while the lost-reason modal is open

  function errorBox() { return document.getElementById("kanban-error"); }
  function showError(text) {
    var box = errorBox();
    if (!box) return;
    box.textContent = text;
    box.classList.toggle("d-none", !text);
  }
  function board() { return document.getElementById("board"); }
  function reload() {
    var b = board();
    if (b) window.htmx.ajax("GET", b.dataset.boardUrl, { target: "#board", swap: "outerHTML" });
  }
  function post(card, values) {
    window.htmx.ajax("POST", card.dataset.moveUrl, {
      source: card, target: "#board", swap: "outerHTML", values: values
    });
  }

  function onDrop(ev) {
    var card = ev.item;
    var to = ev.to;
    if (ev.from === to) return;
    showError("");
    var stageId = to.dataset.stageId;
    if (to.dataset.kind === "lost") {
      pending = { card: card, stageId: stageId };
      var form = document.getElementById("lost-form");
      if (form) form.reset();
      window.bootstrap.Modal.getOrCreateInstance(document.getElementById("lost-modal")).show();
      return;
    }
    post(card, { stage_id: stageId });
  }

  function init(root) {
    root.querySelectorAll(".kanban-cards").forEach(function (list) {
      if (list.dataset.sortable) return;
      list.dataset.sortable = "1";
      // forceFallback: pointer events instead of native HTML5 drag-and-drop, which behaves the same
      // in every browser and inside scrolled columns (native drags out of a scrolled column were lost).
      new window.Sortable(list, {
        group: "kanban", animation: 150, draggable: ".kanban-card", forceFallback: true, onEnd: onDrop
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!board() || !window.Sortable) return;
    init(document);
    var modal = document.getElementById("lost-modal");
    var form = document.getElementById("lost-form");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!pending) return;
      var p = pending;
      pending = null;
      window.bootstrap.Modal.getOrCreateInstance(modal).hide();
      post(p.card, {
        stage_id: p.stageId,
        lost_reason_id: form.elements.lost_reason_id.value,
        competitor: form.elements.competitor.value
      });
    });
    modal.addEventListener("hidden.bs.modal", function () {
      if (pending) { pending = null; reload(); } // cancelled: the card goes back
    });
  });
  document.body.addEventListener("htmx:afterSettle", function (ev) {
    if (window.Sortable && ev.detail.elt && ev.detail.elt.id === "board") init(ev.detail.elt);
    if (window.Sortable && board()) init(board());
  });
  document.body.addEventListener("htmx:responseError", function (ev) {
    var cfg = ev.detail.requestConfig || {};
    if (!cfg.path || cfg.path.indexOf("/move") === -1) return;
    showError(ev.detail.xhr.responseText || ev.detail.xhr.statusText);
    reload();
  });
})();
