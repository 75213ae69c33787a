/* Local Stripe's stand-in for https://js.stripe.com/v3/ : the parts a Payment Element
 * integration uses (Stripe(), elements(), create('payment'), confirmPayment, confirmSetup,
 * retrievePaymentIntent) plus a 3-D Secure challenge modal. Served by stripe_local at /v3/. */
(function () {
  "use strict";
  var BASE = "__LOCAL_STRIPE_BASE__";
  var MESSAGES = {
    en: {
      number: "Card number", expiry: "Expiration date", cvc: "Security code", postal: "Postal code",
      incomplete_number: "Your card number is incomplete.",
      invalid_number: "Your card number is invalid.",
      incomplete_expiry: "Your card's expiration date is incomplete.",
      past_expiry: "Your card's expiration year is in the past.",
      invalid_expiry_month: "Your card's expiration date is invalid.",
      incomplete_cvc: "Your card's security code is incomplete.",
      title3ds: "3D Secure authentication", text3ds: "Test bank page (local Stripe). Complete or fail the authentication.",
      complete: "Complete", fail: "Fail", mmyy: "MM / YY"
    },
    fr: {
      number: "Numéro de carte", expiry: "Date d'expiration", cvc: "Code de sécurité", postal: "Code postal",
      incomplete_number: "Le numéro de votre carte est incomplet.",
      invalid_number: "Le numéro de votre carte est invalide.",
      incomplete_expiry: "La date d'expiration de votre carte est incomplète.",
      past_expiry: "L'année d'expiration de votre carte est dépassée.",
      invalid_expiry_month: "La date d'expiration de votre carte n'est pas valide.",
      incomplete_cvc: "Le code de sécurité de votre carte est incomplet.",
      title3ds: "Authentification 3D Secure", text3ds: "Page de test de la banque (Stripe local). Validez ou refusez l'authentification.",
      complete: "Valider", fail: "Refuser", mmyy: "MM / AA"
    }
  };

  function messagesFor(locale) {
    var lang = String(locale || (navigator.language || "en")).slice(0, 2).toLowerCase();
    return MESSAGES[lang] || MESSAGES.en;
  }

  function encode(params, prefix, out) {
    out = out || [];
    Object.keys(params).forEach(function (key) {
      var value = params[key];
      var name = prefix ? prefix + "[" + key + "]" : key;
      if (value === undefined || value === null) return;
      if (Array.isArray(value)) {
        value.forEach(function (item, i) {
          if (typeof item === "object") encode(item, name + "[" + i + "]", out);
          else out.push(encodeURIComponent(name + "[" + i + "]") + "=" + encodeURIComponent(item));
        });
      } else if (typeof value === "object") {
        encode(value, name, out);
      } else {
        out.push(encodeURIComponent(name) + "=" + encodeURIComponent(value));
      }
    });
    return out.join("&");
  }

  function luhn(number) {
    var sum = 0;
    for (var i = 0; i < number.length; i++) {
      var digit = parseInt(number.charAt(number.length - 1 - i), 10);
      if (i % 2 === 1) { digit *= 2; if (digit > 9) digit -= 9; }
      sum += digit;
    }
    return sum % 10 === 0;
  }

  function intentIdFromSecret(secret) {
    return String(secret || "").split("_secret_")[0];
  }

  function StripeLocal(key, options) {
    if (!(this instanceof StripeLocal)) return new StripeLocal(key, options);
    if (!key || key.indexOf("pk_") !== 0) throw new Error("Stripe(): a publishable key (pk_test_...) is required");
    this._key = key;
    this._options = options || {};
    this._locale = this._options.locale;
  }

  StripeLocal.prototype._request = function (method, path, params) {
    var headers = { Authorization: "Bearer " + this._key };
    if (this._options.stripeAccount) headers["Stripe-Account"] = this._options.stripeAccount;
    var url = BASE + path;
    var init = { method: method, headers: headers };
    if (method === "GET") {
      var query = encode(params || {});
      if (query) url += "?" + query;
    } else {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      init.body = encode(params || {});
    }
    return fetch(url, init).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    });
  };

  StripeLocal.prototype.elements = function (options) {
    return new Elements(this, options || {});
  };

  StripeLocal.prototype.retrievePaymentIntent = function (clientSecret) {
    return this._request("GET", "/v1/payment_intents/" + intentIdFromSecret(clientSecret), { client_secret: clientSecret })
      .then(function (r) { return r.body.error ? { error: r.body.error } : { paymentIntent: r.body }; });
  };

  StripeLocal.prototype.retrieveSetupIntent = function (clientSecret) {
    return this._request("GET", "/v1/setup_intents/" + intentIdFromSecret(clientSecret), { client_secret: clientSecret })
      .then(function (r) { return r.body.error ? { error: r.body.error } : { setupIntent: r.body }; });
  };

  StripeLocal.prototype.confirmPayment = function (options) {
    return this._confirm("payment_intents", "paymentIntent", options || {});
  };

  StripeLocal.prototype.confirmSetup = function (options) {
    return this._confirm("setup_intents", "setupIntent", options || {});
  };

  StripeLocal.prototype.confirmCardPayment = function (clientSecret, data) {
    var self = this;
    var params = { client_secret: clientSecret, use_stripe_sdk: "true" };
    if (data && data.payment_method && typeof data.payment_method === "string") params.payment_method = data.payment_method;
    return this._confirmWith("payment_intents", "paymentIntent", clientSecret, params, null, "if_required");
  };

  StripeLocal.prototype._confirm = function (resource, field, options) {
    var elements = options.elements;
    var clientSecret = options.clientSecret || (elements && elements._options.clientSecret);
    var confirmParams = options.confirmParams || {};
    if (!clientSecret) return Promise.resolve({ error: { type: "invalid_request_error", message: "Missing clientSecret." } });
    var element = elements && elements._paymentElement;
    var params = { client_secret: clientSecret, use_stripe_sdk: "true" };
    if (confirmParams.return_url) params.return_url = confirmParams.return_url;
    if (confirmParams.receipt_email && resource === "payment_intents") params.receipt_email = confirmParams.receipt_email;
    if (confirmParams.payment_method) {
      params.payment_method = confirmParams.payment_method;
    } else if (element) {
      var validation = element._validate(true);
      if (validation) return Promise.resolve({ error: validation });
      var data = confirmParams.payment_method_data || {};
      params.payment_method_data = {
        type: "card",
        card: element._cardParams(),
        billing_details: data.billing_details || {}
      };
      if (element._postal() && !params.payment_method_data.billing_details.address) {
        params.payment_method_data.billing_details.address = { postal_code: element._postal() };
      }
    }
    if (options.redirect !== "if_required" && !confirmParams.return_url) {
      return Promise.resolve({ error: { type: "invalid_request_error", message: "stripe.confirmPayment(): the `confirmParams.return_url` argument is required unless passing `redirect: 'if_required'`" } });
    }
    return this._confirmWith(resource, field, clientSecret, params, confirmParams.return_url, options.redirect);
  };

  StripeLocal.prototype._confirmWith = function (resource, field, clientSecret, params, returnUrl, redirect) {
    var self = this;
    var id = intentIdFromSecret(clientSecret);
    return this._request("POST", "/v1/" + resource + "/" + id + "/confirm", params).then(function (r) {
      if (r.body.error) {
        var error = r.body.error;
        if (error[resource.slice(0, -1)] === undefined && r.body.error.payment_intent) error.paymentIntent = r.body.error.payment_intent;
        return { error: error };
      }
      var intent = r.body;
      var next = intent.status === "requires_action" ? self._challenge(intent, clientSecret) : Promise.resolve(intent);
      return next.then(function (finalIntent) {
        var lastError = finalIntent.last_payment_error || finalIntent.last_setup_error;
        if (finalIntent.status === "requires_payment_method" && lastError) {
          var result = { error: lastError };
          result.error[field] = finalIntent;
          return result;
        }
        if (redirect === "if_required" || !returnUrl) {
          var ok = {}; ok[field] = finalIntent; return ok;
        }
        var prefix = resource === "payment_intents" ? "payment_intent" : "setup_intent";
        var query = prefix + "=" + encodeURIComponent(finalIntent.id) + "&" + prefix + "_client_secret=" +
          encodeURIComponent(clientSecret) + "&redirect_status=succeeded";
        window.location.assign(returnUrl + (returnUrl.indexOf("?") >= 0 ? "&" : "?") + query);
        return new Promise(function () {});
      });
    });
  };

  StripeLocal.prototype._challenge = function (intent, clientSecret) {
    var self = this;
    var t = messagesFor(this._locale);
    return new Promise(function (resolve) {
      var overlay = document.createElement("div");
      overlay.className = "__local-stripe-3ds";
      overlay.setAttribute("role", "dialog");
      overlay.style.cssText = "position:fixed;inset:0;background:rgba(10,20,40,.55);display:flex;align-items:center;justify-content:center;z-index:2147483647;font-family:system-ui,sans-serif";
      var box = document.createElement("div");
      box.style.cssText = "background:#fff;border-radius:10px;padding:24px;max-width:360px;width:90%;box-shadow:0 8px 32px rgba(0,0,0,.3)";
      box.innerHTML = "<h2 style='margin:0 0 8px;font-size:18px'>" + t.title3ds + "</h2><p style='color:#555;font-size:14px'>" + t.text3ds + "</p>";
      function button(label, outcome, primary) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = label;
        b.setAttribute("data-outcome", outcome);
        b.id = "local-stripe-3ds-" + outcome;
        b.style.cssText = "margin:8px 8px 0 0;padding:8px 16px;border-radius:6px;border:1px solid #635bff;cursor:pointer;" + (primary ? "background:#635bff;color:#fff" : "background:#fff;color:#635bff");
        b.addEventListener("click", function () {
          fetch(BASE + "/_local/3ds/" + intent.id, {
            method: "POST",
            headers: { "Content-Type": "application/x-www-form-urlencoded" },
            body: encode({ client_secret: clientSecret, outcome: outcome })
          }).then(function (r) { return r.json(); }).then(function (result) {
            overlay.parentNode.removeChild(overlay);
            resolve(result.error ? intent : result);
          });
        });
        box.appendChild(b);
      }
      button(t.complete, "complete", true);
      button(t.fail, "fail", false);
      overlay.appendChild(box);
      document.body.appendChild(overlay);
    });
  };

  function Elements(stripe, options) {
    this._stripe = stripe;
    this._options = options;
    this._paymentElement = null;
  }

  Elements.prototype.create = function (type, options) {
    if (type !== "payment" && type !== "card") throw new Error("local Stripe supports only the 'payment' and 'card' elements");
    this._paymentElement = new PaymentElement(this, options || {});
    return this._paymentElement;
  };
  Elements.prototype.getElement = function () { return this._paymentElement; };
  Elements.prototype.update = function (options) { Object.assign(this._options, options || {}); };
  Elements.prototype.fetchUpdates = function () { return Promise.resolve({}); };
  Elements.prototype.submit = function () {
    var error = this._paymentElement ? this._paymentElement._validate(true) : null;
    return Promise.resolve(error ? { error: error } : {});
  };

  function PaymentElement(elements, options) {
    this._elements = elements;
    this._options = options;
    this._handlers = {};
    this._root = null;
    this._t = messagesFor(elements._options.locale || elements._stripe._locale);
  }

  PaymentElement.prototype.on = function (event, handler) {
    (this._handlers[event] = this._handlers[event] || []).push(handler);
    return this;
  };
  PaymentElement.prototype.off = function (event, handler) {
    this._handlers[event] = (this._handlers[event] || []).filter(function (h) { return h !== handler; });
    return this;
  };
  PaymentElement.prototype._emit = function (event, payload) {
    (this._handlers[event] || []).forEach(function (handler) { handler(payload); });
  };

  PaymentElement.prototype.mount = function (target) {
    var root = typeof target === "string" ? document.querySelector(target) : target;
    if (!root) throw new Error("mount(): no element matches " + target);
    var t = this._t;
    var field = "display:block;width:100%;box-sizing:border-box;padding:10px;margin:4px 0 10px;border:1px solid #d0d5dd;border-radius:6px;font-size:15px";
    var wrapper = document.createElement("div");
    wrapper.className = "__local-stripe-payment-element";
    wrapper.innerHTML =
      "<label style='font-size:13px;color:#30313d'>" + t.number +
      "<input name='cardnumber' autocomplete='cc-number' inputmode='numeric' placeholder='1234 1234 1234 1234' style='" + field + "'></label>" +
      "<div style='display:flex;gap:12px'><label style='flex:1;font-size:13px;color:#30313d'>" + t.expiry +
      "<input name='exp-date' autocomplete='cc-exp' inputmode='numeric' placeholder='" + t.mmyy + "' style='" + field + "'></label>" +
      "<label style='flex:1;font-size:13px;color:#30313d'>" + t.cvc +
      "<input name='cvc' autocomplete='cc-csc' inputmode='numeric' placeholder='CVC' style='" + field + "'></label></div>" +
      "<label style='font-size:13px;color:#30313d'>" + t.postal +
      "<input name='postal' autocomplete='postal-code' style='" + field + "'></label>" +
      "<div class='__local-stripe-error' role='alert' style='color:#df1b41;font-size:13px;min-height:1em'></div>";
    root.appendChild(wrapper);
    this._root = wrapper;
    var self = this;
    Array.prototype.forEach.call(wrapper.querySelectorAll("input"), function (input) {
      input.addEventListener("input", function () { self._changed(false); });
      input.addEventListener("blur", function () { self._changed(true); });
    });
    setTimeout(function () { self._emit("ready", { elementType: "payment" }); }, 0);
    return this;
  };

  PaymentElement.prototype._input = function (name) { return this._root.querySelector("input[name='" + name + "']"); };
  PaymentElement.prototype._number = function () { return this._input("cardnumber").value.replace(/\D/g, ""); };
  PaymentElement.prototype._postal = function () { return this._input("postal").value.trim(); };
  PaymentElement.prototype._expiry = function () {
    var digits = this._input("exp-date").value.replace(/\D/g, "");
    return { month: parseInt(digits.slice(0, 2), 10), year: digits.length >= 4 ? 2000 + parseInt(digits.slice(2, 4), 10) : NaN, length: digits.length };
  };
  PaymentElement.prototype._cardParams = function () {
    var expiry = this._expiry();
    return { number: this._number(), exp_month: expiry.month, exp_year: expiry.year, cvc: this._input("cvc").value.trim() };
  };

  PaymentElement.prototype._validate = function (strict) {
    var t = this._t;
    var number = this._number();
    var expiry = this._expiry();
    var cvc = this._input("cvc").value.replace(/\D/g, "");
    function err(code, message) { return { type: "validation_error", code: code, message: message }; }
    if (number.length > 0 || strict) {
      if (number.length < 15) { if (strict || number.length >= 16) return err("incomplete_number", t.incomplete_number); }
      else if (!luhn(number)) return err("invalid_number", t.invalid_number);
    }
    if (expiry.length > 0 || strict) {
      if (expiry.length < 4) { if (strict) return err("incomplete_expiry", t.incomplete_expiry); }
      else if (!(expiry.month >= 1 && expiry.month <= 12)) return err("invalid_expiry_month", t.invalid_expiry_month);
      else {
        var now = new Date();
        if (expiry.year < now.getFullYear()) return err("invalid_expiry_year_past", t.past_expiry);
        if (expiry.year === now.getFullYear() && expiry.month < now.getMonth() + 1) return err("invalid_expiry_month_past", t.past_expiry);
      }
    }
    if ((cvc.length > 0 || strict) && cvc.length < 3 && strict) return err("incomplete_cvc", t.incomplete_cvc);
    return null;
  };

  PaymentElement.prototype._changed = function (blurred) {
    var number = this._number();
    var empty = !number && !this._input("exp-date").value && !this._input("cvc").value;
    var error = this._validate(false);
    if (!error && blurred && number && number.length < 15) error = { type: "validation_error", code: "incomplete_number", message: this._t.incomplete_number };
    var complete = !empty && !this._validate(true);
    this._root.querySelector(".__local-stripe-error").textContent = error ? error.message : "";
    var payload = { elementType: "payment", empty: empty, complete: complete, collapsed: false, value: { type: "card" } };
    if (error) payload.error = error;
    this._emit("change", payload);
  };

  PaymentElement.prototype.unmount = function () { if (this._root && this._root.parentNode) this._root.parentNode.removeChild(this._root); };
  PaymentElement.prototype.destroy = PaymentElement.prototype.unmount;
  PaymentElement.prototype.update = function (options) { Object.assign(this._options, options || {}); };
  PaymentElement.prototype.focus = function () { if (this._root) this._input("cardnumber").focus(); };
  PaymentElement.prototype.blur = function () { if (document.activeElement) document.activeElement.blur(); };
  PaymentElement.prototype.clear = function () {
    if (!this._root) return;
    Array.prototype.forEach.call(this._root.querySelectorAll("input"), function (input) { input.value = ""; });
    this._changed(false);
  };
  PaymentElement.prototype.collapse = function () {};

  window.Stripe = StripeLocal;
  window.Stripe.version = 3;
  window.Stripe.__local = true;
})();
