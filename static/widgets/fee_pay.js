/* The fee page: the bank asked for the customer, so the saved card is confirmed on-session
 * (Stripe.js `confirmCardPayment`: the 3-D Secure challenge), then the server re-reads it. */
(function () {
  "use strict";
  var C = window.Creneau, fee = C.config.fee;
  var button = document.getElementById("cr-fee-pay"), status = document.getElementById("cr-fee-status");
  if (!button || !fee.client_secret) return;
  function refresh() {
    return C.api(fee.status_url, {method: "POST", body: {token: fee.token}}).then(function (result) {
      if (result.ok && result.data.status === "paid") { status.textContent = result.data.message; button.parentNode.removeChild(button); }
      else if (result.ok) status.textContent = result.data.message;
      else status.textContent = (result.error && result.error.message) || "";
    });
  }
  var script = document.createElement("script");
  script.src = fee.stripe_js_url;
  script.onload = function () {
    var stripe = window.Stripe(fee.publishable_key, {locale: C.lang});
    button.disabled = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      var data = fee.payment_method ? {payment_method: fee.payment_method} : undefined;
      stripe.confirmCardPayment(fee.client_secret, data).then(function (result) {
        if (result.error) { status.textContent = result.error.message; button.disabled = false; return; }
        refresh();
      });
    });
  };
  document.head.appendChild(script);
})();
