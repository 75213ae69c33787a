/* Paying for a pass on the customer's purchase page (templates/widgets/account/purchase.html):
   the Payment Element, then the page itself is reloaded until the server (which re-reads the
   PaymentIntent) shows the purchase as paid. Card data goes to Stripe.js only. */
(function () {
  "use strict";
  var node = document.getElementById("cr-pass-payment");
  if (!node) return;
  var payment = JSON.parse(node.textContent);
  var pay = document.getElementById("cr-pay");
  var message = document.getElementById("cr-payment-message");
  var waiting = document.getElementById("cr-purchase-waiting");
  var script = document.createElement("script");
  script.src = payment.stripe_js_url;
  script.async = true;
  script.onerror = function () { message.textContent = "Online payment is temporarily unavailable."; };
  script.onload = function () {
    var lang = document.documentElement.lang || "en";
    var stripe = window.Stripe(payment.publishable_key, {locale: lang});
    var elements = stripe.elements({clientSecret: payment.client_secret, locale: lang});
    var element = elements.create("payment");
    element.on("ready", function () { pay.disabled = false; });
    element.mount("#cr-payment-element");
    pay.addEventListener("click", function () {
      pay.disabled = true;
      message.textContent = "";
      var returnUrl = new URL(payment.return_url, window.location.href).toString();
      stripe.confirmPayment({elements: elements, redirect: "if_required",
        confirmParams: {return_url: returnUrl}}).then(function (result) {
        if (result.error) {
          pay.disabled = false;
          message.textContent = result.error.message || "The payment failed.";
          return;
        }
        waiting.hidden = false;
        window.location.assign(returnUrl);
      });
    });
  };
  document.head.appendChild(script);
})();
