// The audit page's diagram: the audit's model drawn by the bpmn-js viewer (zoom with the mouse wheel, drag
// to move), each element marked with its
// state (completed, active) as /audits/<id>/diagram.json gives them. Without JavaScript the page lists the
// same states in words.
(function () {
  "use strict";
  var container = document.getElementById("diagram");
  if (!container || !window.BpmnJS) { return; }
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
        Object.keys(diagram.states).forEach(function (id) {
          if (elements.get(id)) { canvas.addMarker(id, "app-" + diagram.states[id]); }
        });
        canvas.zoom("fit-viewport");
        container.setAttribute("data-ready", "true");
      });
    })
    .catch(function (error) {
      container.textContent = "The diagram could not be drawn: " + error.message;
    });
})();
