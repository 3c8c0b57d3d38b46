// Starts Swagger UI from the vendored bundle (no CDN, no inline script).
window.addEventListener("load", function () {
  var el = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: el.dataset.openapiUrl, dom_id: "#swagger-ui", deepLinking: true });
});
