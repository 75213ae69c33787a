/* Creneau booking widget loader. Usage:
   <script src="{{ base.scheme }}://{{ base.domain }}{{ base.port }}/widget.js" data-creneau="your-slug"
     data-mode="inline|popup" data-service="12" data-staff="3" data-locale="fr" async></script>
   The booking page posts creneau:ready, creneau:resize, creneau:booking-held and
   creneau:booking-confirmed to this page; they are also dispatched here as DOM events. */
(function () {
  "use strict";
  var BASE = {scheme: "{{ base.scheme|escapejs }}", domain: "{{ base.domain|escapejs }}",
    port: "{{ base.port|escapejs }}"};
  var TEXT = {
    en: {book: "Book now", close: "Close", title: "Online booking"},
    fr: {book: "Réserver", close: "Fermer", title: "Réservation en ligne"}
  };

  function attr(script, name) { return (script.getAttribute("data-" + name) || "").trim(); }
  function digits(value) { return /^[0-9]{1,18}$/.test(value) ? value : ""; }
  function css(node, styles) {
    Object.keys(styles).forEach(function (key) { node.style[key] = styles[key]; });
    return node;
  }

  function setup(script) {
    if (script.getAttribute("data-creneau-loaded")) return;
    script.setAttribute("data-creneau-loaded", "1");
    var slug = attr(script, "creneau").toLowerCase();
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(slug)) return;
    var mode = attr(script, "mode") === "popup" ? "popup" : "inline";
    var locale = attr(script, "locale").slice(0, 2).toLowerCase();
    var words = TEXT[locale] || TEXT[(navigator.language || "en").slice(0, 2).toLowerCase()] || TEXT.en;
    var origin = BASE.scheme + "://" + slug + "." + BASE.domain + BASE.port;
    var service = digits(attr(script, "service")), staff = digits(attr(script, "staff"));
    var params = [["mode", mode], ["origin", window.location.origin], ["lang", locale],
      ["staff", staff]].filter(function (pair) { return pair[1]; }).map(function (pair) {
      return pair[0] + "=" + encodeURIComponent(pair[1]);
    });
    var src = origin + "/book/" + (service ? service + "/" : "") + "?" + params.join("&");
    var iframe = null, dialog = null, opener = null;

    function makeFrame(height) {
      iframe = document.createElement("iframe");
      iframe.src = src;
      iframe.title = words.title;
      iframe.setAttribute("allow", "payment");
      return css(iframe, {width: "100%", height: height, border: "0", display: "block",
        colorScheme: "normal"});
    }

    function close() {
      if (dialog && dialog.open) dialog.close();
    }

    if (mode === "inline") {
      script.parentNode.insertBefore(makeFrame("640px"), script.nextSibling);
    } else {
      opener = css(document.createElement("button"), {cursor: "pointer"});
      opener.type = "button";
      opener.className = "creneau-button";
      opener.textContent = attr(script, "label") || words.book;
      opener.setAttribute("aria-haspopup", "dialog");
      script.parentNode.insertBefore(opener, script.nextSibling);
      opener.addEventListener("click", function () {
        if (!dialog) {
          dialog = css(document.createElement("dialog"), {padding: "0", border: "0",
            borderRadius: "12px", width: "min(40rem, calc(100vw - 1rem))",
            height: "min(46rem, calc(100vh - 2rem))", maxWidth: "100vw", overflow: "hidden"});
          dialog.className = "creneau-dialog";
          dialog.setAttribute("aria-label", words.title);
          var inner = css(document.createElement("div"), {display: "flex",
            flexDirection: "column", height: "100%"});
          var closer = css(document.createElement("button"), {alignSelf: "flex-end",
            margin: "4px", minWidth: "44px", minHeight: "44px", font: "inherit",
            cursor: "pointer"});
          closer.type = "button";
          closer.className = "creneau-close";
          closer.textContent = "✕";
          closer.setAttribute("aria-label", words.close);
          closer.addEventListener("click", close);
          /* Focus trap: leaving the frame forwards lands on a guard that sends focus back to
             the close button; shift-tabbing before the button sends it into the frame. */
          var guard = function (target) {
            var node = document.createElement("span");
            node.tabIndex = 0;
            node.addEventListener("focus", function () { target().focus(); });
            return node;
          };
          inner.appendChild(guard(function () { return iframe; }));
          inner.appendChild(closer);
          inner.appendChild(css(makeFrame("auto"), {flex: "1 1 auto", minHeight: "0"}));
          inner.appendChild(guard(function () { return closer; }));
          dialog.appendChild(inner);
          dialog.addEventListener("close", function () { opener.focus(); });
          document.body.appendChild(dialog);
        }
        dialog.showModal();
      });
    }

    window.addEventListener("message", function (event) {
      if (event.origin !== origin || !iframe || event.source !== iframe.contentWindow) return;
      var data = event.data;
      if (!data || typeof data.type !== "string" || data.type.indexOf("creneau:") !== 0) return;
      if (data.type === "creneau:resize" && mode === "inline" && data.height > 0) {
        iframe.style.height = Math.min(Math.ceil(data.height), 10000) + "px";
      }
      if (data.type === "creneau:close") close();
      var detail = {slug: slug};
      Object.keys(data).forEach(function (key) { detail[key] = data[key]; });
      script.dispatchEvent(new CustomEvent(data.type, {detail: detail, bubbles: true}));
    });
  }

  var scripts = document.querySelectorAll("script[data-creneau]");
  for (var i = 0; i < scripts.length; i++) setup(scripts[i]);
})();
