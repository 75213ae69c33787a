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
    en: {book: "Book now", close: "Close", title: "Online booking",
      fallback: "Book online on our booking page"},
    fr: {book: "Réserver", close: "Fermer", title: "Réservation en ligne",
      fallback: "Réserver en ligne sur notre page de réservation"}
  };
  /* A frame that loaded but never said creneau:ready was refused (this website is not on the
     business's allowed list, or the page failed): a link replaces the browser's grey box. */
  var READY_GRACE_MS = 3000;

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
    /* The hosted page keeps the language and the person; the frame also says how it is shown. */
    var keep = [["lang", locale], ["staff", staff]].filter(function (pair) { return pair[1]; });
    function search(pairs) {
      return pairs.map(function (pair) {
        return pair[0] + "=" + encodeURIComponent(pair[1]);
      }).join("&");
    }
    var page = origin + "/book/" + (service ? service + "/" : "");
    var src = page + "?" + search([["mode", mode], ["origin", window.location.origin]].concat(keep));
    var hosted = page + (keep.length ? "?" + search(keep) : "");
    var iframe = null, dialog = null, opener = null, ready = false, fallback = null;

    function makeFrame(height) {
      iframe = document.createElement("iframe");
      iframe.src = src;
      iframe.title = words.title;
      iframe.setAttribute("allow", "payment");
      iframe.addEventListener("load", function () {
        window.setTimeout(function () { if (!ready) showFallback(); }, READY_GRACE_MS);
      });
      return css(iframe, {width: "100%", height: height, border: "0", display: "block",
        colorScheme: "normal"});
    }

    function showFallback() {
      if (fallback || !iframe.parentNode) return;
      fallback = css(document.createElement("p"), {margin: "1rem 0", font: "inherit"});
      fallback.className = "creneau-fallback";
      var link = document.createElement("a");
      link.href = hosted;
      link.textContent = words.fallback;
      link.setAttribute("rel", "noopener");
      fallback.appendChild(link);
      iframe.style.display = "none";
      iframe.parentNode.insertBefore(fallback, iframe.nextSibling);
      if (window.console && console.warn) {
        console.warn("Creneau: the booking form of \u201c" + slug + "\u201d cannot be shown on " +
          window.location.origin + ": add this address to the allowed websites on " + origin +
          "/embed/. Visitors see a link to the booking page meanwhile.");
      }
    }

    function markReady() {
      ready = true;
      if (fallback) { /* a slow page after all: show it */
        fallback.parentNode.removeChild(fallback);
        fallback = null;
        iframe.style.display = "block";
      }
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
      if (data.type === "creneau:ready") markReady();
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
