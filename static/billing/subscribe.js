/* Subscribe: Stripe's Payment Element confirms the SetupIntent in the browser (the card goes to
   Stripe, never to Creneau); then the form posts the SetupIntent's id to the server. */
(function () {
  "use strict";
  var form = document.getElementById("billing-subscribe-form");
  if (!form) return;
  var button = document.getElementById("billing-subscribe");
  var error = document.getElementById("billing-card-error");
  var script = document.createElement("script");
  script.src = form.dataset.stripeJs;
  script.onerror = function () { error.textContent = "The card form could not load; reload the page."; };
  script.onload = function () {
    var stripe = window.Stripe(form.dataset.publishableKey);
    var elements = stripe.elements({clientSecret: form.dataset.clientSecret});
    var element = elements.create("payment");
    element.on("ready", function () { button.disabled = false; });
    element.mount("#billing-payment-element");
    form.addEventListener("submit", function (event) {
      if (form.elements.setup_intent.value) return;
      event.preventDefault();
      button.disabled = true;
      error.textContent = "";
      stripe.confirmSetup({elements: elements, redirect: "if_required",
        confirmParams: {return_url: form.dataset.returnUrl}}).then(function (result) {
        if (result.error) {
          button.disabled = false;
          error.textContent = result.error.message || "The card was refused.";
          return;
        }
        form.elements.setup_intent.value = result.setupIntent.id;
        form.submit();
      });
    });
  };
  document.head.appendChild(script);
})();
