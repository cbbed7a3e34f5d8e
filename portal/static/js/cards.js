// Tables that read as cards on a phone (table.cards): each cell is labelled with its column's
// heading, unless the template labelled it already. Without JavaScript the cards are stacked
// cells without labels, and nothing scrolls sideways either way.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("table.cards"), function (table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.trim();
    });
    Array.prototype.forEach.call(table.querySelectorAll("tbody tr"), function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.children, function (cell) {
        if (!cell.hasAttribute("data-label") && heads[column] && cell.colSpan === 1) {
          cell.setAttribute("data-label", heads[column]);
        }
        column += cell.colSpan || 1;
      });
    });
  });
}());
