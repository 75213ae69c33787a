/* Embed page: build the snippet from the chosen options and copy it. */
(function () {
  "use strict";
  var builder = document.getElementById("embed-builder");
  if (!builder) return;
  var snippet = document.getElementById("embed-snippet");
  function esc(value) { return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;"); }
  function build() {
    var mode = builder.querySelector("input[name=mode]:checked").value;
    var parts = ['<script src="' + builder.dataset.script + '"', 'data-creneau="' + builder.dataset.slug + '"',
      'data-mode="' + mode + '"'];
    var service = document.getElementById("embed-service").value;
    var staff = document.getElementById("embed-staff").value;
    var locale = document.getElementById("embed-locale").value;
    if (service) parts.push('data-service="' + service + '"');
    if (staff) parts.push('data-staff="' + staff + '"');
    if (locale) parts.push('data-locale="' + locale + '"');
    if (mode === "popup" && builder.dataset.label) parts.push('data-label="' + esc(builder.dataset.label) + '"');
    snippet.value = parts.join(" ") + " async></" + "script>";
  }
  builder.addEventListener("change", build);
  document.getElementById("embed-copy").addEventListener("click", function () {
    var done = function () { document.getElementById("embed-copied").textContent = builder.dataset.copied; };
    if (navigator.clipboard) navigator.clipboard.writeText(snippet.value).then(done, function () {
      snippet.select(); document.execCommand("copy"); done();
    });
    else { snippet.select(); document.execCommand("copy"); done(); }
  });
  build();
})();
