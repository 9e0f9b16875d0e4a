// /v1/docs: Swagger UI from this server's static files (make static), started here rather than in an
// inline script, so that the page runs under the same Content-Security-Policy as the other pages.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  var notice = document.getElementById("docs-indisponible");
  if (notice) {
    notice.hidden = true;
  }
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // never ask an outside validator about the document
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
})();
