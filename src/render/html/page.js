// ws2sim's trace page: filters that hide rows, and the detail of a clicked event.
(function () {
  "use strict";
  var body = document.body;
  window.addEventListener("error", function () {
    body.setAttribute("data-script-errors", String(Number(body.getAttribute("data-script-errors") || 0) + 1));
  });
  function hidden(row) {
    if (row.classList.contains("violation")) return false;
    return (row.classList.contains("cat-ledger") && body.classList.contains("hide-ledger")) ||
      (row.classList.contains("cat-loader") && body.classList.contains("hide-loader"));
  }
  // Places every row-bound element of one timeline again, skipping hidden rows.
  function layout(svg) {
    var top = Number(svg.getAttribute("data-top")), h = Number(svg.getAttribute("data-row"));
    var rows = svg.querySelectorAll("g.row"), at = [], shown = [], k = 0, i;
    for (i = 0; i < rows.length; i++) { at.push(k); shown.push(!hidden(rows[i])); if (shown[i]) k++; }
    at.push(k);
    function y(r) { return top + at[r] * h; }
    svg.querySelectorAll("[data-r]").forEach(function (el) {
      var r = Number(el.getAttribute("data-r"));
      var x = Number(el.getAttribute("data-x") || 0), dy = Number(el.getAttribute("data-dy") || 0);
      el.style.display = shown[r] ? "" : "none";
      el.setAttribute("transform", "translate(" + x + "," + (y(r) + dy) + ")");
    });
    svg.querySelectorAll("[data-r0]").forEach(function (el) {
      var r0 = Number(el.getAttribute("data-r0")), r1 = Number(el.getAttribute("data-r1"));
      var y0 = y(r0), y1 = y(r1) + (shown[r1] ? h : 0);
      if (el.tagName === "rect") {
        el.setAttribute("y", y0 + 2);
        el.setAttribute("height", Math.max(y1 - y0 - 4, 4));
      } else if (el.tagName === "line") {
        el.setAttribute("y1", y0 + h / 2);
        el.setAttribute("y2", Math.max(y1 - h / 2, y0 + h / 2));
      } else {
        el.setAttribute("d", "M" + el.getAttribute("data-x0") + "," + (y0 + h / 2) +
          "L" + el.getAttribute("data-x1") + "," + Math.max(y1 - h / 2, y0 + h / 2));
      }
    });
    var height = top + k * h + 10;
    svg.setAttribute("height", height);
    svg.querySelectorAll("line.guide").forEach(function (el) { el.setAttribute("y2", height - 10); });
  }
  function layoutAll() { document.querySelectorAll("svg.timeline").forEach(layout); }
  document.querySelectorAll("input[data-hide]").forEach(function (box) {
    box.addEventListener("change", function () {
      body.classList.toggle("hide-" + box.getAttribute("data-hide"), !box.checked);
      layoutAll();
    });
  });
  // `?hide=ledger,loader` opens the page with those rows hidden.
  var wanted = /[?&]hide=([a-z,]*)/.exec(location.search);
  (wanted ? wanted[1].split(",") : []).forEach(function (what) {
    var box = document.querySelector("input[data-hide='" + what + "']");
    if (box) { box.checked = false; body.classList.add("hide-" + what); }
  });
  var panel = document.getElementById("detail");
  function select(id) {
    var row = document.getElementById(id);
    var m = /^([a-z]*)e(\d+)$/.exec(id);
    if (!row || !m) return false;
    var template = document.getElementById(m[1] + "d" + m[2]);
    document.querySelectorAll("g.row.selected").forEach(function (r) { r.classList.remove("selected"); });
    row.classList.add("selected");
    panel.textContent = "";
    if (template) panel.appendChild(template.content.cloneNode(true));
    panel.querySelectorAll("[data-contract]").forEach(function (item) {
      var rule = document.querySelector("[id='c-" + item.getAttribute("data-contract") + "'] .rule");
      if (rule) item.appendChild(rule.cloneNode(true));
    });
    body.setAttribute("data-selected", id);
    return true;
  }
  document.querySelectorAll("g.row").forEach(function (row) {
    row.addEventListener("click", function () {
      if (select(row.id)) {
        try { history.replaceState(null, "", "#" + row.id); } catch (e) { /* file:// may refuse */ }
      }
    });
  });
  function fromHash() {
    var id;
    // A malformed escape in the address ("#%") selects nothing rather than stopping the page.
    try { id = decodeURIComponent(location.hash.slice(1)); } catch (e) { return; }
    if (id && select(id)) document.getElementById(id).scrollIntoView({ block: "center" });
  }
  window.addEventListener("hashchange", fromHash);
  layoutAll();
  fromHash();
  body.setAttribute("data-ready", "yes");
})();
