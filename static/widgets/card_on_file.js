/* Creneau booking flow: cards on file (docs/payments.md, "Cards on file and fees").
 * The summary shows the exact fees and asks for consent; after the hold the card is saved with a
 * SetupIntent through the Payment Element (nothing charged), and saving it confirms the booking.
 * book.js calls window.CreneauCards at those two points. */
(function () {
  "use strict";
  var C = window.Creneau, el = C.el, config = C.config;
  var terms = config.card_terms || {}, strings = config.card_strings || {};
  function s(key) { return strings[key] || key; }

  function termsOf(service) { return service ? terms[String(service.id)] || null : null; }

  /* The consent block of the summary step: the sentence with the amounts, and a checkbox. */
  function consentField(service) {
    var info = termsOf(service);
    var box = el("input", {type: "checkbox", id: "cr-card-consent", name: "card_consent",
      onchange: function () {
        var error = document.getElementById("cr-card-consent-error");
        if (error && box.checked) { error.hidden = true; error.textContent = ""; }
      }});
    return el("fieldset", {class: "cr-card-consent"}, [
      el("legend", {text: s("card_title")}),
      el("p", {id: "cr-card-consent-text", text: info.consent_text}),
      el("label", {for: "cr-card-consent"}, [box, " " + s("card_consent_label")]),
      el("p", {id: "cr-card-consent-error", class: "cr-error", role: "alert", hidden: true})
    ]);
  }

  function consented() {
    var box = document.getElementById("cr-card-consent");
    var ok = !!(box && box.checked);
    var error = document.getElementById("cr-card-consent-error");
    if (error) { error.hidden = ok; error.textContent = ok ? "" : s("card_consent_missing"); }
    if (!ok && box) box.focus();
    return ok;
  }

  var loads = {};
  function loadScript(url) {
    if (!loads[url]) {
      loads[url] = new Promise(function (resolve, reject) {
        var script = el("script", {src: url, async: true});
        script.onload = resolve;
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return loads[url];
  }

  function cardPath(booking, suffix) {
    return config.urls.widget + "bookings/" + encodeURIComponent(booking.reference) + "/card/" + (suffix || "");
  }

  /* The Payment Element of a SetupIntent (nothing charged), shared by the booking's card step
     and the waitlist's (waitlist_card.js): opts = {start() → the server's answer (the consent
     recorded there), mountId, save (button), message, refused(result) → true when handled,
     done() once Stripe confirmed the setup (the server then re-reads it)}. */
  function mountSetup(opts) {
    var save = opts.save, message = opts.message;
    opts.start().then(function (result) {
      if (!result.ok) {
        if (opts.refused && opts.refused(result)) return;
        message.textContent = (result.error && result.error.message) || s("card_unavailable");
        return;
      }
      var setup = result.data;
      if (setup.status === "saved") { opts.done(); return; }
      loadScript(setup.stripe_js_url).then(function () {
        var stripe = window.Stripe(setup.publishable_key, {locale: C.lang});
        var elements = stripe.elements({clientSecret: setup.client_secret, locale: C.lang});
        var element = elements.create("payment");
        element.on("ready", function () { save.disabled = false; C.reportHeight(); });
        element.mount("#" + opts.mountId);
        save.addEventListener("click", function () {
          save.disabled = true;
          message.textContent = "";
          C.announce(s("card_saving"));
          stripe.confirmSetup({elements: elements, redirect: "if_required",
            confirmParams: {return_url: window.location.href}}).then(function (outcome) {
            if (outcome.error) {
              save.disabled = false;
              message.textContent = outcome.error.message || s("card_failed");
              return;
            }
            opts.done();
          });
        });
      }, function () { message.textContent = s("card_unavailable"); });
    });
  }

  /* The card step: ctx = {booking, service, rows, finish(booking), expired()}. */
  function renderStep(box, ctx) {
    var info = termsOf(ctx.service), booking = ctx.booking;
    var title = document.getElementById("cr-step-title");
    if (title) title.textContent = s("card_title"); /* not a payment: nothing is charged */
    var message = el("p", {id: "cr-card-message", class: "cr-error", role: "alert"});
    box.appendChild(C.definitionList(ctx.rows));
    box.appendChild(el("p", {class: "cr-card-terms", id: "cr-card-terms", text: info.consent_text}));
    box.appendChild(el("p", {class: "cr-muted", text: s("card_intro")}));
    var mount = el("div", {id: "cr-card-element", class: "cr-payment-element"});
    var save = el("button", {type: "button", class: "cr-button cr-primary", id: "cr-card-save",
      disabled: true, text: s("card_save")});
    box.appendChild(mount);
    box.appendChild(message);
    box.appendChild(el("div", {class: "cr-actions"}, [save]));
    mountSetup({
      mountId: "cr-card-element", save: save, message: message,
      start: function () {
        return C.api(cardPath(booking), {method: "POST",
          body: {token: booking.manage_token, consent_digest: info.consent_digest}});
      },
      refused: function (result) {
        if (result.status === 409 && result.error && result.error.code === "card_setup_refused") {
          ctx.expired();
          return true;
        }
        return false;
      },
      done: function () { complete(ctx, message); }
    });
  }

  function complete(ctx, message, attempt) {
    attempt = attempt || 0;
    var booking = ctx.booking;
    C.api(cardPath(booking, "complete/"), {method: "POST", body: {token: booking.manage_token}})
      .then(function (result) {
        if (result.ok && result.data.status === "confirmed") {
          booking.status = "confirmed";
          ctx.finish(booking);
        } else if (result.ok && (result.data.status === "expired" || result.data.status === "cancelled")) {
          ctx.expired();
        } else if (result.ok && !result.data.card_saved && result.data.error) {
          message.textContent = result.data.error;
        } else if (attempt < 20) {
          window.setTimeout(function () { complete(ctx, message, attempt + 1); }, 750);
        } else {
          message.textContent = (result.error && result.error.message) || s("card_unavailable");
        }
      });
  }

  window.CreneauCards = {required: function (service) { return !!termsOf(service); },
    consentField: consentField, consented: consented, renderStep: renderStep,
    mountSetup: mountSetup, label: s};
})();
