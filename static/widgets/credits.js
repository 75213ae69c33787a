/* Booking with a credit on the booking page (memberships; loaded before book.js, which calls
   CreneauCredits.offer on its summary step). A signed-in customer (their account's session on
   this host) with a usable credit is offered "Book with a credit" instead of paying; anyone
   else gets a link to sign in. The server decides everything: which credit, whether it covers
   this time; this file only asks and shows. */
(function () {
  "use strict";
  var TEXT = {
    en: {
      has_credit: "You can use a credit: {label}{left}.",
      left: " ({n} left)", until: ", valid until {date}",
      use: "Book with a credit", booking: "Booking…",
      sign_in: "Have a pass? Sign in to use your credits", failed: "The booking could not be made.",
      member_price: "Member price ({label}):", instead_of: "instead of"
    },
    fr: {
      has_credit: "Vous pouvez utiliser un crédit : {label}{left}.",
      left: " ({n} restants)", until: ", valable jusqu’au {date}",
      use: "Réserver avec un crédit", booking: "Réservation…",
      sign_in: "Vous avez une carte ? Connectez-vous pour utiliser vos crédits",
      failed: "La réservation n’a pas pu être faite.",
      member_price: "Prix membre ({label}) :", instead_of: "au lieu de"
    }
  };
  var lang = (document.documentElement.lang || "en").slice(0, 2);
  var strings = TEXT[lang] || TEXT.en;
  function t(key, values) {
    return strings[key].replace(/\{(\w+)\}/g, function (_, name) { return values && name in values ? values[name] : ""; });
  }
  function node(tag, attrs, text) {
    var element = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { element.setAttribute(name, attrs[name]); });
    if (text) element.textContent = text;
    return element;
  }

  function offer(context) {
    var params = new URLSearchParams({service: String(context.service.id)});
    if (context.slot.occurrence_id) params.set("occurrence", String(context.slot.occurrence_id));
    else params.set("start", context.slot.start);
    fetch("/my/credit-offer/?" + params.toString(), {credentials: "same-origin",
      headers: {Accept: "application/json"}}).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (data) {
      if (!data) return;
      if (!data.signed_in) {
        var link = node("a", {href: "/my/sign-in/", id: "cr-credit-sign-in", target: "_top"}, t("sign_in"));
        context.form.parentNode.insertBefore(node("p", {class: "cr-muted"}), context.form).appendChild(link);
        return;
      }
      if (data.member_price) showMemberPrice(context, data.member_price);
      if (data.offer) showOffer(context, data);
    }, function () { /* offline: the customer can still pay */ });
  }

  /* The member price the server will charge at the hold (memberships/pricing.py), with the
     normal price struck through; book.js redraws its totals with it (context.priced). */
  function showMemberPrice(context, price) {
    var money = window.Creneau.money, currency = context.service.currency;
    var box = node("p", {class: "cr-member-price", id: "cr-member-price"});
    box.appendChild(document.createTextNode(t("member_price", {label: price.label}) + " "));
    box.appendChild(node("strong", {}, money(price.price_minor, currency)));
    box.appendChild(document.createTextNode(" "));
    var normal = node("s", {"aria-label": t("instead_of") + " " + money(price.normal_minor, currency)},
      money(price.normal_minor, currency));
    box.appendChild(normal);
    context.form.parentNode.insertBefore(box, context.form);
    if (context.priced) context.priced(price);
  }

  function showOffer(context, data) {
    var found = data.offer;
    var left = found.remaining === null ? "" : t("left", {n: found.remaining});
    if (found.expires_at) {
      left += t("until", {date: new Date(found.expires_at).toLocaleDateString(lang)});
    }
    var box = node("div", {class: "cr-credit-offer", id: "cr-credit-offer"});
    box.appendChild(node("p", {}, t("has_credit", {label: found.label, left: left})));
    var message = node("p", {class: "cr-error", role: "alert", id: "cr-credit-message"});
    var button = node("button", {type: "button", class: "cr-button cr-primary", id: "cr-use-credit"}, t("use"));
    box.appendChild(button);
    box.appendChild(message);
    context.form.parentNode.insertBefore(box, context.form);
    button.addEventListener("click", function () {
      button.disabled = true;
      button.textContent = t("booking");
      message.textContent = "";
      var body = {service: context.service.id, staff: context.staffId || null, source: context.source};
      if (context.slot.occurrence_id) body.occurrence = context.slot.occurrence_id;
      else body.start = context.slot.start;
      fetch("/my/credit-bookings/", {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", Accept: "application/json",
          "X-Creneau-Credit-Token": data.booking_token}, body: JSON.stringify(body)}).then(function (response) {
        return response.json().then(function (json) { return {ok: response.ok, data: json}; });
      }).then(function (result) {
        if (result.ok) { context.done(result.data); return; }
        button.disabled = false;
        button.textContent = t("use");
        message.textContent = (result.data.error && result.data.error.message) || t("failed");
      }, function () {
        button.disabled = false;
        button.textContent = t("use");
        message.textContent = t("failed");
      });
    });
  }

  window.CreneauCredits = {offer: offer};
})();
