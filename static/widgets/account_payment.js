/* The Payment Element on the customer's account pages: paying for a pass, joining a membership
   (the first invoice's PaymentIntent) or saving a new card (a SetupIntent, `mode: "setup"`).
   Stripe returns to `return_url`, whose server side re-reads Stripe, or the page goes there
   itself once confirmed. Card data goes to Stripe.js only. */
(function () {
  "use strict";
  // The page's configuration, and what to say when Stripe refuses without a message of its own.
  var pages = {"cr-membership-payment": "The card was refused.", "cr-pass-payment": "The payment failed."};
  var node = null, refused = "";
  Object.keys(pages).forEach(function (id) {
    if (!node && document.getElementById(id)) { node = document.getElementById(id); refused = pages[id]; }
  });
  if (!node) return;
  var config = JSON.parse(node.textContent);
  var pay = document.getElementById("cr-pay");
  var message = document.getElementById("cr-payment-message");
  var waiting = document.getElementById("cr-payment-waiting");
  var script = document.createElement("script");
  script.src = config.stripe_js_url;
  script.async = true;
  script.onerror = function () { message.textContent = "Online payment is temporarily unavailable."; };
  script.onload = function () {
    var lang = document.documentElement.lang || "en";
    var stripe = window.Stripe(config.publishable_key, {locale: lang});
    var elements = stripe.elements({clientSecret: config.client_secret, locale: lang});
    var element = elements.create("payment");
    element.on("ready", function () { pay.disabled = false; });
    element.mount("#cr-payment-element");
    pay.addEventListener("click", function () {
      pay.disabled = true;
      message.textContent = "";
      var returnUrl = new URL(config.return_url, window.location.href);
      var confirm = config.mode === "setup" ? stripe.confirmSetup : stripe.confirmPayment;
      confirm.call(stripe, {elements: elements, redirect: "if_required",
        confirmParams: {return_url: returnUrl.toString()}}).then(function (result) {
        if (result.error) {
          pay.disabled = false;
          message.textContent = result.error.message || refused;
          return;
        }
        waiting.hidden = false;
        if (config.mode === "setup" && result.setupIntent) {
          returnUrl.searchParams.set("setup_intent", result.setupIntent.id);
        }
        window.location.assign(returnUrl.toString());
      });
    });
  };
  document.head.appendChild(script);
})();
