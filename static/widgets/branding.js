/* Branding page: live preview and live contrast check (same formula as widgets/contrast.py). */
(function () {
  "use strict";
  var preview = document.getElementById("cr-preview");
  if (!preview) return;
  var form = document.querySelector(".branding-form");
  var FONTS = {system: "system-ui, sans-serif", humanist: "Seravek, Ubuntu, Calibri, sans-serif",
    serif: "Charter, Cambria, Georgia, serif", rounded: "ui-rounded, Quicksand, sans-serif",
    monospace: "ui-monospace, monospace"};
  var RADII = {square: "2px", rounded: "8px", pill: "999px"};

  function luminance(hex) {
    var value = hex.replace("#", "");
    return [0, 2, 4].map(function (i) {
      var c = parseInt(value.slice(i, i + 2), 16) / 255;
      return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    }).reduce(function (sum, c, i) { return sum + c * [0.2126, 0.7152, 0.0722][i]; }, 0);
  }
  function ratio(a, b) {
    var x = luminance(a), y = luminance(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  }
  function textOn(colour) { return ratio(colour, "#ffffff") >= ratio(colour, "#1f2328") ? "#ffffff" : "#1f2328"; }

  function update() {
    var get = function (name) { var f = form.elements[name]; return f ? f.value : ""; };
    ["primary_colour", "accent_colour"].forEach(function (name) {
      var colour = get(name), key = name === "primary_colour" ? "primary" : "accent";
      if (!/^#[0-9a-fA-F]{6}$/.test(colour)) return;
      preview.style.setProperty("--cr-" + key, colour);
      preview.style.setProperty("--cr-on-" + key, textOn(colour));
      var worst = Math.min(ratio(colour, "#ffffff"), ratio(colour, textOn(colour)));
      var output = document.getElementById("id_" + name + "-contrast");
      output.textContent = worst.toFixed(2) + ":1 " + (worst < 4.5 ? "⚠ " + preview.dataset.fails
        : "✓ " + preview.dataset.passes);
      output.className = "contrast" + (worst < 4.5 ? " fails" : "");
    });
    preview.style.setProperty("--cr-font", FONTS[get("font_family")] || FONTS.system);
    preview.style.setProperty("--cr-radius", RADII[get("corner_style")] || RADII.rounded);
    document.getElementById("preview-welcome").textContent = get("welcome_text");
    var label = get("button_label");
    if (label) document.getElementById("preview-button").textContent = label;
  }
  form.addEventListener("input", update);
  form.addEventListener("change", function (event) {
    if (event.target.name === "logo_file" && event.target.files && event.target.files[0]) {
      var img = document.getElementById("preview-logo");
      img.src = URL.createObjectURL(event.target.files[0]);
      img.hidden = false;
    }
  });
  update();
})();
