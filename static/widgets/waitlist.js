/* Creneau: paying for a place taken from the waitlist (the Payment Element, as on the booking
   page), then waiting for the server to confirm the booking and opening its manage page. */
(function () {
  "use strict";
  var C = window.Creneau, t = C.t, config = C.config;
  var booking = config.booking, payment = config.payment;
  var pay = document.getElementById("cr-pay");
  var message = document.getElementById("cr-payment-message");
  var statusUrl = config.urls.api + "bookings/" + encodeURIComponent(booking.reference) + "/?" +
    C.query({token: booking.token});

  pay.textContent = t("pay", {amount: C.money(payment.amount_minor, payment.currency)});
  if (!payment.client_secret) {
    message.textContent = payment.message || t("payment_unavailable");
    return;
  }

  function waitForConfirmation(attempt) {
    message.textContent = t("payment_pending");
    C.api(statusUrl).then(function (result) {
      var status = result.ok && result.data.status;
      if (status === "confirmed") { window.location.assign(config.manage_url); return; }
      if (status === "expired" || status === "cancelled") { message.textContent = t("hold_expired"); return; }
      if (attempt < 40) window.setTimeout(function () { waitForConfirmation(attempt + 1); }, 750);
    });
  }

  var script = document.createElement("script");
  script.src = payment.stripe_js_url;
  script.async = true;
  script.onerror = function () { message.textContent = t("payment_unavailable"); };
  script.onload = function () {
    var stripe = window.Stripe(payment.publishable_key, {locale: C.lang});
    var elements = stripe.elements({clientSecret: payment.client_secret, locale: C.lang});
    var element = elements.create("payment");
    element.on("ready", function () { pay.disabled = false; C.reportHeight(); });
    element.mount("#cr-payment-element");
    pay.addEventListener("click", function () {
      pay.disabled = true;
      message.textContent = "";
      C.announce(t("paying"));
      var returnUrl = new URL(config.manage_url, window.location.href).toString();
      stripe.confirmPayment({elements: elements, redirect: "if_required",
        confirmParams: {return_url: returnUrl}}).then(function (result) {
        if (result.error) {
          pay.disabled = false;
          message.textContent = result.error.message || t("payment_failed");
          return;
        }
        waitForConfirmation(0);
      });
    });
  };
  document.head.appendChild(script);
})();
