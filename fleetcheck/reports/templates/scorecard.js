"use strict";
// Sorting, grouping and filtering of the matrix; opening a cluster's details from a link.
// Reads only data-* attributes and writes only textContent: no HTML is ever built from data.
(function () {
  var table = document.getElementById("matrix-table");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var groupSelect = document.getElementById("group-by");
  var filterInput = document.getElementById("filter");
  var sortColumn = -1;
  var sortDir = 1;
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

  function value(row, column) {
    var cell = row.cells[column];
    return cell ? cell.getAttribute("data-v") || "" : "";
  }

  function compare(a, b) {
    if (sortColumn < 0) { return 0; }
    var va = value(a, sortColumn), vb = value(b, sortColumn);
    var result = headers[sortColumn].getAttribute("data-type") === "num"
      ? Number(va) - Number(vb) : collator.compare(va, vb);
    return result * sortDir;
  }

  function render() {
    var group = groupSelect ? groupSelect.value : "";
    var needle = filterInput ? filterInput.value.trim().toLowerCase() : "";
    var ordered = rows.map(function (row, index) { return { row: row, index: index }; });
    ordered.sort(function (x, y) {
      if (group !== "") {
        var gx = x.row.getAttribute("data-g" + group) || "", gy = y.row.getAttribute("data-g" + group) || "";
        if (gx !== gy) {
          if (gx === "") { return 1; }
          if (gy === "") { return -1; }
          return collator.compare(gx, gy);
        }
      }
      return compare(x.row, y.row) || x.index - y.index;
    });
    var fragment = document.createDocumentFragment();
    var current = null, header = null, count = 0;
    function closeGroup() {
      if (header) {
        header.firstChild.textContent = header.getAttribute("data-label") + "  ·  " + count + " cluster" + (count === 1 ? "" : "s");
        header.hidden = count === 0;
      }
    }
    ordered.forEach(function (item) {
      var row = item.row;
      var visible = !needle || (row.getAttribute("data-search") || "").indexOf(needle) !== -1;
      row.hidden = !visible;
      if (group !== "") {
        var key = row.getAttribute("data-g" + group) || "";
        if (header === null || key !== current) {
          closeGroup();
          current = key;
          count = 0;
          header = document.createElement("tr");
          header.className = "group";
          var name = groupSelect.options[groupSelect.selectedIndex].text;
          header.setAttribute("data-label", name + " = " + (key === "" ? "(none)" : key));
          var cell = document.createElement("td");
          cell.colSpan = headers.length;
          header.appendChild(cell);
          fragment.appendChild(header);
        }
        if (visible) { count += 1; }
      }
      fragment.appendChild(row);
    });
    closeGroup();
    while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
    tbody.appendChild(fragment);
  }

  headers.forEach(function (th, column) {
    th.tabIndex = 0;
    function sortBy() {
      sortDir = sortColumn === column ? -sortDir : 1;
      sortColumn = column;
      headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", sortDir === 1 ? "ascending" : "descending");
      render();
    }
    th.addEventListener("click", sortBy);
    th.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(); }
    });
  });
  if (groupSelect) { groupSelect.addEventListener("change", render); }
  if (filterInput) { filterInput.addEventListener("input", render); }

  // A link to #cluster-NAME or #check-CODE opens the target's details (and any enclosing ones).
  function openTarget() {
    var id;
    try { id = decodeURIComponent(location.hash.slice(1)); } catch (e) { return; }
    if (!id) { return; }
    var target = document.getElementById(id);
    if (!target) { return; }
    // a cluster section opens its own details; other targets (sections) only their ancestors
    var own = target.tagName === "DETAILS" ? target
      : (target.classList.contains("cluster") ? target.querySelector("details") : null);
    if (own) { own.open = true; }
    for (var node = target.parentElement; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
    target.scrollIntoView();
  }
  window.addEventListener("hashchange", openTarget);
  // clicking a link to the hash already shown fires no hashchange
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href^='#']") : null;
    if (link) { window.setTimeout(openTarget, 0); }
  });
  openTarget();

  // Print every cluster's findings: open the clusters' details for printing, restore afterwards. Object lists
  // past the first few, skipped/passed lists and the check reference stay collapsed (a 238-object list was 4 pages).
  var reopened = [];
  window.addEventListener("beforeprint", function () {
    reopened = Array.prototype.filter.call(document.querySelectorAll(".cluster > details"), function (d) { return !d.open; });
    reopened.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    reopened.forEach(function (d) { d.open = false; });
    reopened = [];
  });
}());
