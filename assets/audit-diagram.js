// The audit page's diagram: the audit's model drawn by the bpmn-js viewer (zoom with the mouse wheel, drag
// to move), each element marked with its state (completed, active, waiting on a timer, failed) as
// /audits/<id>/diagram.json gives them, and the work done once per agency badged with how many agencies are
// done ("2 of 3"). Without JavaScript the page lists the same states in words.
(function () {
  "use strict";
  var container = document.getElementById("diagram");
  if (!container || !window.BpmnJS) { return; }

  // "2 of 3" on the element, in words for screen readers; made with the DOM (the page's CSP allows no inline
  // styles or scripts)
  function countBadge(element, count) {
    var name = (element.businessObject && element.businessObject.name) || element.id;
    var words = name + ": " + count.done + " of " + count.of + (count.of === 1 ? " agency" : " agencies") + " done";
    var badge = document.createElement("span");
    badge.className = "app-count" + (count.done === count.of ? " app-count--all" : "");
    badge.setAttribute("data-element-id", element.id);
    badge.title = words;
    var shown = document.createElement("span");
    shown.setAttribute("aria-hidden", "true");
    shown.textContent = count.done + " of " + count.of;
    var spoken = document.createElement("span");
    spoken.className = "govuk-visually-hidden";
    spoken.textContent = words;
    badge.appendChild(shown);
    badge.appendChild(spoken);
    return badge;
  }

  fetch(container.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (answer) {
      if (!answer.ok) { throw new Error("the diagram could not be loaded (" + answer.status + ")"); }
      return answer.json();
    })
    .then(function (diagram) {
      while (container.firstChild) { container.removeChild(container.firstChild); }  // the no-JavaScript words
      var viewer = new window.BpmnJS({ container: container });
      return viewer.importXML(diagram.xml).then(function () {
        var canvas = viewer.get("canvas");
        var elements = viewer.get("elementRegistry");
        var overlays = viewer.get("overlays");
        Object.keys(diagram.states).forEach(function (id) {
          if (elements.get(id)) { canvas.addMarker(id, "app-" + diagram.states[id]); }
        });
        var counts = diagram.counts || {};
        Object.keys(counts).forEach(function (id) {
          var element = elements.get(id);
          if (!element) { return; }
          // over the top right corner: the bottom holds boundary events and the subprocess's drill-down button
          overlays.add(id, "app-count", { position: { top: -10, right: -6 }, html: countBadge(element, counts[id]) });
        });
        canvas.zoom("fit-viewport");
        container.setAttribute("data-ready", "true");
      });
    })
    .catch(function (error) {
      container.textContent = "The diagram could not be drawn: " + error.message;
    });
})();
