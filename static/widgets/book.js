/* Creneau booking flow: service → who → day and time → details → summary → pay or confirm. */
(function () {
  "use strict";
  var C = window.Creneau, t = C.t, el = C.el, config = C.config;
  var stepBox = document.getElementById("cr-step");
  var progress = document.getElementById("cr-progress");
  var STEPS = ["service", "staff", "time", "details", "summary", "payment", "done"];
  var state = {services: [], service: null, staffId: null, slot: null, zone: C.detectedZone,
    customer: {name: "", email: "", phone: "", notes: "", consent: false}, promo: "",
    booking: null, payment: null, picker: null};

  /* ---- steps ---------------------------------------------------------------------------- */
  /* The steps a customer goes through for a service, counted once from the service's own flow:
     the "who" step only when the customer picks the person, payment only when paid online. */
  function flowOf(service) {
    return STEPS.filter(function (step) {
      if (step === "staff") return service.staff.length > 1 && !preselectedStaff(service);
      if (step === "payment") return needsPayment(service) || needsCard(service);
      return true;
    });
  }
  function preselectedStaff(service) {
    var wanted = config.preselect.staff;
    return !!wanted && service.staff.some(function (s) { return s.id === wanted; });
  }
  /* Before a service is chosen the total is known only when every service has the same flow;
     otherwise the first step shows no total rather than one that changes on the next step. */
  function stepTotal() {
    if (state.service) return flowOf(state.service).length;
    var totals = state.services.filter(function (service) { return !onlineUnavailable(service); })
      .map(function (service) { return flowOf(service).length; });
    return totals.length && totals.every(function (n) { return n === totals[0]; }) ? totals[0] : null;
  }
  function visibleSteps() {
    return state.service ? flowOf(state.service) : ["service"];
  }

  function show(step, options) {
    options = options || {};
    state.step = step;
    stepBox.textContent = "";
    stepBox.setAttribute("data-step", step);
    document.body.setAttribute("data-step", step);
    var steps = visibleSteps(), index = steps.indexOf(step) + 1;
    var title = t("steps." + step);
    var heading = el("h2", {id: "cr-step-title", class: "cr-step-title", tabindex: "-1", text: title});
    var back = backTarget(step);
    if (back) {
      stepBox.appendChild(el("button", {type: "button", class: "cr-back", text: "← " + t("back"),
        onclick: function () { C.notice(""); show(back); }}));
    }
    stepBox.appendChild(heading);
    var total = stepTotal();
    progress.textContent = step === "done" ? ""
      : total ? t("step_of", {n: index, total: total}) : t("step_first", {n: index});
    RENDER[step](stepBox);
    if (!options.keepNotice) C.notice("");
    if (!options.initial) {
      heading.focus();
      C.announce(progress.textContent + " " + title);
    }
    C.reportHeight();
  }

  function backTarget(step) {
    var steps = visibleSteps(), index = steps.indexOf(step);
    if (index <= 0 || step === "done" || step === "payment") return null;
    return steps[index - 1];
  }

  /* ---- money ---------------------------------------------------------------------------- */
  /* A card on file for no-show / late-cancellation fees (card_on_file.js). */
  function needsCard(service) {
    return !!window.CreneauCards && window.CreneauCards.required(service);
  }
  function needsPayment(service) {
    return !!service && (service.payment_mode === "online_full" ||
      service.payment_mode === "online_deposit");
  }
  function onlineUnavailable(service) {
    return needsPayment(service) && service.online_payment_available === false;
  }
  /* Promo codes apply to what is paid online (docs/payments.md): no field for other services. */
  function acceptsPromo(service) {
    return needsPayment(service) && service.price_minor > 0 && !onlineUnavailable(service);
  }
  function depositOf(service, price) {
    if (service.payment_mode !== "online_deposit") return null;
    if (price === undefined) price = service.price_minor;
    if (service.deposit_fixed_minor !== null && service.deposit_fixed_minor !== undefined) {
      return Math.min(service.deposit_fixed_minor, price);
    }
    return C.percentOf(price, service.deposit_percent || 0);
  }
  /* The price the server charges: the held booking's, else a signed-in member's price
     (credits.js, from the server), else the service's. */
  function priceOf(service) {
    if (state.booking && state.booking.price_minor !== undefined) return state.booking.price_minor;
    if (state.memberPrice && state.memberPrice.service === service.id) return state.memberPrice.price_minor;
    return service.price_minor;
  }
  function priceNote(service) {
    switch (service.payment_mode) {
      case "free": return t("free");
      case "pay_at_venue": return t("pay_at_venue");
      case "online_deposit": return t("deposit_online", {amount: C.money(depositOf(service),
        service.currency)});
      default: return t("pay_online");
    }
  }

  /* ---- step 1: service ------------------------------------------------------------------ */
  function renderService(box) {
    if (!state.services.length) {
      box.appendChild(el("p", {class: "cr-empty", text: t("no_services")}));
      return;
    }
    var groups = {}, order = [];
    state.services.forEach(function (service) {
      var name = service.category || "";
      if (!groups[name]) { groups[name] = []; order.push(name); }
      groups[name].push(service);
    });
    order.forEach(function (name) {
      var list = el("ul", {class: "cr-options"});
      groups[name].forEach(function (service) {
        var unavailable = onlineUnavailable(service);
        var price = service.payment_mode === "free" ? t("free")
          : C.money(service.price_minor, service.currency);
        list.appendChild(el("li", {}, [el("button", {type: "button", class: "cr-option",
          "data-service": service.id, "aria-disabled": unavailable ? "true" : null,
          onclick: function () {
            if (unavailable) { C.notice(t("online_unavailable")); return; }
            chooseService(service);
          }}, [
          el("span", {class: "cr-option-main"}, [el("strong", {text: service.name}),
            service.description ? el("span", {class: "cr-muted", text: service.description}) : null]),
          el("span", {class: "cr-option-side"}, [el("span", {text: price}),
            el("span", {class: "cr-muted", text: C.duration(service.duration_minutes)}),
            /* A free service says "Free" once, as its price; the others say how they are paid. */
            service.payment_mode === "free" && !unavailable ? null
              : el("span", {class: "cr-tag", text: unavailable ? t("online_unavailable")
                : priceNote(service)})])])]));
      });
      if (order.length > 1 || name) {
        var id = "cr-cat-" + order.indexOf(name);
        box.appendChild(el("h3", {id: id, class: "cr-category", text: name || t("other_category")}));
        list.setAttribute("aria-labelledby", id);
      }
      box.appendChild(list);
    });
  }

  function chooseService(service) {
    state.service = service;
    state.memberPrice = null;
    state.slot = null;
    state.staffId = service.staff.length === 1 ? service.staff[0].id : null;
    state.lockedStaff = preselectedStaff(service);
    if (state.lockedStaff) state.staffId = config.preselect.staff;
    show(flowOf(service).indexOf("staff") >= 0 ? "staff" : "time");
  }

  /* ---- step 2: staff -------------------------------------------------------------------- */
  function renderStaff(box) {
    var list = el("ul", {class: "cr-options"});
    var choices = [{id: null, display_name: t("anyone"), hint: t("anyone_hint")}]
      .concat(state.service.staff);
    choices.forEach(function (member) {
      list.appendChild(el("li", {}, [el("button", {type: "button", class: "cr-option",
        "aria-pressed": state.staffId === member.id ? "true" : "false",
        "data-staff": member.id === null ? "anyone" : member.id,
        onclick: function () { state.staffId = member.id; state.slot = null; show("time"); }},
        [el("span", {class: "cr-option-main"}, [el("strong", {text: member.display_name}),
          member.hint ? el("span", {class: "cr-muted", text: member.hint}) : null])])]));
    });
    box.appendChild(list);
  }

  /* ---- step 3: day and time ------------------------------------------------------------- */
  function renderTime(box) {
    box.appendChild(el("p", {class: "cr-muted", text: state.service.name + " · " +
      C.duration(state.service.duration_minutes)}));
    var holder = el("div");
    box.appendChild(holder);
    var previousDay = state.picker && state.picker.options.serviceId === state.service.id &&
      state.picker.options.staffId === state.staffId ? state.picker.day : null;
    state.picker = new C.Picker(holder, {serviceId: state.service.id, staffId: state.staffId,
      zone: state.zone,
      onZone: function (zone) { state.zone = zone; },
      onEmpty: function () { C.notice(t("no_availability")); },
      onSelect: function (slot, zone) { state.slot = slot; state.zone = zone; show("details"); }});
    if (previousDay) {
      state.picker.chooseDay(previousDay);
    }
    /* Full sessions and fully booked days are not shown: their waitlist is (waitlists/). */
    if (config.waitlist) {
      box.appendChild(el("p", {class: "cr-waitlist"}, [el("a", {id: "cr-waitlist-link",
        href: config.waitlist + state.service.id + "/?" + C.query({lang: C.lang}),
        target: config.embed.mode ? "_blank" : null, rel: config.embed.mode ? "noopener" : null,
        text: t("waitlist_link")})]));
    }
  }

  /* ---- step 4: details ------------------------------------------------------------------ */
  var FIELDS = [
    {name: "name", type: "text", autocomplete: "name", required: true},
    {name: "email", type: "email", autocomplete: "email", required: true, hint: "email_hint"},
    {name: "phone", type: "tel", autocomplete: "tel", required: true, hint: "phone_hint",
      when: function () { return config.require_phone; }},
    {name: "notes", type: "textarea", required: false}
  ];

  function field(spec) {
    var id = "cr-" + spec.name, described = [];
    var input = spec.type === "textarea"
      ? el("textarea", {id: id, name: spec.name, rows: "3", maxlength: "2000"})
      : el("input", {id: id, name: spec.name, type: spec.type, autocomplete: spec.autocomplete,
        required: spec.required, "aria-required": spec.required ? "true" : null,
        maxlength: spec.name === "phone" ? "32" : "150"});
    input.value = state.customer[spec.name] || "";
    var wrapper = el("div", {class: "cr-field"}, [el("label", {for: id, text: t(spec.name)})]);
    if (spec.hint) {
      wrapper.appendChild(el("p", {id: id + "-hint", class: "cr-hint", text: t(spec.hint)}));
      described.push(id + "-hint");
    }
    wrapper.appendChild(input);
    wrapper.appendChild(el("p", {id: id + "-error", class: "cr-error", hidden: true}));
    described.push(id + "-error");
    input.setAttribute("aria-describedby", described.join(" "));
    return wrapper;
  }

  function setError(name, message) {
    var input = document.getElementById("cr-" + name);
    var box = document.getElementById("cr-" + name + "-error");
    if (!input || !box) return false;
    box.textContent = message || "";
    box.hidden = !message;
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    return true;
  }

  function renderDetails(box) {
    box.appendChild(el("p", {class: "cr-muted", text: state.service.name + " · " +
      C.formatWhen(new Date(state.slot.start), state.zone)}));
    var form = el("form", {class: "cr-form", novalidate: true});
    FIELDS.forEach(function (spec) {
      if (!spec.when || spec.when()) form.appendChild(field(spec));
    });
    var consent = el("input", {type: "checkbox", id: "cr-consent", name: "consent",
      required: true, "aria-describedby": "cr-consent-error", checked: state.customer.consent});
    /* The box is 22 px; the label around it makes the touch target 44 px, as the text's is. */
    form.appendChild(el("div", {class: "cr-field cr-check"}, [
      el("label", {class: "cr-check-target", for: "cr-consent"}, [consent]),
      el("label", {for: "cr-consent", text: t("consent", {business: config.tenant.name})}),
      el("p", {id: "cr-consent-error", class: "cr-error", hidden: true})]));
    form.appendChild(el("div", {class: "cr-actions"}, [el("button", {type: "submit",
      class: "cr-button cr-primary", text: t("continue")})]));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      readDetails(form);
      var first = validateDetails();
      if (first) {
        C.notice(t("fix_errors"));
        document.getElementById("cr-" + first).focus();
        return;
      }
      show("summary");
    });
    box.appendChild(form);
  }

  function readDetails(form) {
    FIELDS.forEach(function (spec) {
      if (form.elements[spec.name]) state.customer[spec.name] = form.elements[spec.name].value.trim();
    });
    state.customer.consent = form.elements.consent.checked;
  }

  function validateDetails() {
    var first = null, customer = state.customer;
    function check(name, message) {
      setError(name, message);
      if (message && !first) first = name;
    }
    check("name", customer.name ? "" : t("required"));
    check("email", !customer.email ? t("required")
      : /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(customer.email) ? "" : t("invalid_email"));
    if (config.require_phone) {
      check("phone", !customer.phone ? t("required")
        : /^\+?[0-9 ().-]{6,}$/.test(customer.phone) ? "" : t("invalid_phone"));
    }
    check("consent", customer.consent ? "" : t("consent_required"));
    return first;
  }

  /* ---- step 5: summary ------------------------------------------------------------------ */
  function amounts(service, payment) {
    var total = priceOf(service), currency = service.currency;
    if (payment && payment.required) {
      return {total: total, now: payment.amount_minor, later: payment.balance_due_minor,
        discount: payment.discount_minor || 0, code: payment.promo_code || "",
        currency: payment.currency || currency};
    }
    if (service.payment_mode === "online_full") return {total: total, now: total, later: 0, currency: currency};
    if (service.payment_mode === "online_deposit") {
      var deposit = depositOf(service, total);
      return {total: total, now: deposit, later: total - deposit, currency: currency};
    }
    return {total: total, now: 0, later: total, currency: currency};
  }

  function summaryRows() {
    var service = state.service, start = new Date(state.slot.start);
    var staff = service.staff.filter(function (s) { return s.id === (state.staffId || state.slot.staff_id); })[0];
    var when = C.formatWhen(start, state.zone);
    if (config.tenant.time_zone !== state.zone) {
      when += " (" + t("business_zone", {zone: C.zoneLabel(config.tenant.time_zone),
        time: C.formatTime(start, config.tenant.time_zone)}) + ")";
    }
    var money = amounts(service, state.payment), rows = [
      [t("summary_service"), service.name],
      staff ? [t("summary_with"), staff.display_name] : null,
      [t("summary_when"), when],
      [t("summary_duration"), C.duration(service.duration_minutes)],
      [t("summary_customer"), state.customer.name + " · " + state.customer.email]
    ];
    if (service.payment_mode === "free") rows.push([t("summary_total"), t("free"), "cr-total"]);
    else {
      rows.push([t("summary_total"), C.money(money.total, money.currency), "cr-total"]);
      if (money.discount) rows = rows.concat(discountRows(money.discount, money.code, money.currency, money.total));
      if (service.payment_mode === "online_deposit") {
        rows.push([t("summary_deposit"), C.money(money.now, money.currency)]);
        rows.push([t("summary_balance"), C.money(money.later, money.currency)]);
      } else if (service.payment_mode === "online_full") {
        rows.push([t("summary_due_now"), C.money(money.now, money.currency)]);
      } else {
        rows.push([t("summary_at_venue"), C.money(money.later, money.currency)]);
      }
    }
    return rows;
  }

  /* The discount and the new total, from the server's payment object (never computed here). */
  function discountRows(discount, code, currency, total) {
    return [[code ? t("summary_promo", {code: code}) : t("summary_discount"),
      C.money(-discount, currency), "cr-discount"],
      [t("summary_after_discount"), C.money(total - discount, currency)]];
  }

  function promoField() {
    var input = el("input", {id: "cr-promo", name: "promo_code", type: "text", maxlength: "40",
      autocomplete: "off", autocapitalize: "characters", spellcheck: "false",
      "aria-describedby": "cr-promo-hint cr-promo-error"});
    input.value = state.promo || "";
    return el("div", {class: "cr-field cr-promo"}, [el("label", {for: "cr-promo", text: t("promo_code")}),
      el("p", {id: "cr-promo-hint", class: "cr-hint", text: t("promo_hint")}), input,
      el("p", {id: "cr-promo-error", class: "cr-error", hidden: true})]);
  }

  function renderSummary(box) {
    var list = box.appendChild(C.definitionList(summaryRows()));
    box.appendChild(el("h3", {text: t("policy")}));
    box.appendChild(el("p", {class: "cr-policy",
      text: config.policies[String(state.service.id)] || t("policy_unknown")}));
    var paying = needsPayment(state.service), carding = needsCard(state.service);
    var form = el("form", {class: "cr-form", novalidate: true});
    if (acceptsPromo(state.service)) form.appendChild(promoField());
    if (carding) form.appendChild(window.CreneauCards.consentField(state.service));
    var submit = el("button", {type: "submit", class: "cr-button cr-primary", id: "cr-submit",
      text: paying ? t("continue_to_payment") : carding ? window.CreneauCards.label("card_continue")
        : t("confirm_booking")});
    form.appendChild(el("div", {class: "cr-actions"}, [submit]));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (carding && !window.CreneauCards.consented()) return;
      if (!submit.disabled) placeBooking(submit);
    });
    box.appendChild(form);
    /* A signed-in customer's credit instead of paying (static/widgets/credits.js). */
    if (window.CreneauCredits) window.CreneauCredits.offer({form: form, service: state.service,
      slot: state.slot, staffId: state.staffId, source: config.embed.mode ? "widget" : "page",
      done: finish, priced: function (price) {
        state.memberPrice = {service: state.service.id, price_minor: price.price_minor};
        var fresh = C.definitionList(summaryRows());
        list.parentNode.replaceChild(fresh, list);
        list = fresh;
        C.reportHeight();
      }});
  }

  function placeBooking(submit) {
    var promo = document.getElementById("cr-promo");
    state.promo = promo ? promo.value.trim() : "";
    setError("promo", "");
    submit.disabled = true;
    submit.textContent = t("booking_in_progress");
    C.announce(t("booking_in_progress"));
    var body = {service: state.service.id, staff: state.staffId,
      customer: {name: state.customer.name, email: state.customer.email,
        phone: state.customer.phone || ""}, notes: state.customer.notes || ""};
    if (state.slot.occurrence_id) body.occurrence = state.slot.occurrence_id;
    else body.start = state.slot.start;
    if (promo && state.promo) body.promo_code = state.promo;
    /* Shown to the business as "Booking page" or "Widget on <the website>" (the server keeps the
       website only when the business allowed it). */
    body.source = config.embed.mode ? "widget" : "page";
    if (config.embed.mode && config.embed.parent_origin) body.embedded_on = config.embed.parent_origin;
    C.api(config.urls.api + "bookings/", {method: "POST", body: body}).then(function (result) {
      if (result.ok) {
        state.booking = result.data;
        state.payment = result.data.payment || null;
        remember();
        C.post("creneau:booking-held", {reference: result.data.reference});
        if (state.payment && state.payment.required) { show("payment"); return; }
        if (needsPayment(state.service) && state.service.price_minor > 0) {
          requestPayment(); /* a hold answered without its payment object: ask for it */
          return;
        }
        if (needsCard(state.service)) { show("payment"); return; }
        confirmWithoutPayment();
        return;
      }
      submit.disabled = false;
      submit.textContent = needsPayment(state.service) ? t("continue_to_payment") : t("confirm_booking");
      handleError(result);
    });
  }

  /* The API's messages come in the page's language (common.js sends it as Accept-Language). */
  function handleError(result) {
    var code = result.error && result.error.code, message = result.error && result.error.message;
    if (code === "promo_code_invalid" && setError("promo", message || t("promo_invalid"))) {
      /* Refused before any hold: the customer stays here to correct or remove the code. */
      document.getElementById("cr-promo").focus();
      C.announce(message || t("promo_invalid"));
      C.reportHeight();
      return;
    }
    if (result.status === 409 && (code === "slot_taken" || code === "session_full")) {
      backToTimes(t("slot_taken")); /* says what to do next, unlike the engine's reasons */
      return;
    }
    if (result.status === 409 && code === "hold_expired") { backToTimes(t("hold_expired")); return; }
    var fieldName = result.error && result.error.field;
    if (fieldName && /^customer\./.test(fieldName) || code === "invalid_customer") {
      show("details", {keepNotice: true});
      var name = fieldName ? fieldName.replace("customer.", "") : (/phone/i.test(result.error.message) ? "phone" : "email");
      setError(name, result.error.message);
      C.notice(result.error.message);
      var input = document.getElementById("cr-" + name);
      if (input) input.focus();
      return;
    }
    if (/^slot_/.test(code || "") || code === "outside_working_hours") {
      backToTimes(result.error.message);
      return;
    }
    C.notice((result.error && result.error.message) || t("network_error"));
  }

  function backToTimes(message) {
    forget();
    state.paying = false;
    window.clearTimeout(state.expiryTimer);
    state.slot = null;
    state.booking = null;
    state.payment = null;
    show("time", {keepNotice: true});
    C.notice(message, "warning");
    C.announce(message); /* the times step re-reads the chosen day: the taken time is gone */
  }

  function requestPayment() {
    C.api(bookingPath("payment/"), {method: "POST", body: {token: state.booking.manage_token}})
      .then(function (result) {
        if (result.ok) { state.payment = result.data; show("payment"); return; }
        if (result.status === 409) { backToTimes(t("hold_expired")); return; }
        var due = amounts(state.service, null);
        state.payment = {required: true, amount_minor: due.now, currency: due.currency,
          balance_due_minor: due.later, client_secret: null,
          message: (result.error && result.error.message) || t("payment_unavailable")};
        show("payment");
      });
  }

  function confirmWithoutPayment() {
    var booking = state.booking;
    if (booking.status === "confirmed") { finish(booking); return; }
    C.api(config.urls.widget + "bookings/" + encodeURIComponent(booking.reference) + "/confirm/",
      {method: "POST", body: {token: booking.manage_token}}).then(function (result) {
      if (result.ok) { booking.status = result.data.status; finish(booking); }
      else handleError(result);
    });
  }

  /* ---- step 6: payment (Stripe Payment Element) ----------------------------------------- */
  var stripeLoads = {};
  function loadScript(url) {
    if (!stripeLoads[url]) {
      stripeLoads[url] = new Promise(function (resolve, reject) {
        var script = el("script", {src: url, async: true});
        script.onload = resolve;
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return stripeLoads[url];
  }

  function bookingPath(suffix) {
    return config.urls.api + "bookings/" + encodeURIComponent(state.booking.reference) + "/" + (suffix || "");
  }

  function renderPayment(box) {
    if (!needsPayment(state.service) && needsCard(state.service)) {
      window.CreneauCards.renderStep(box, {booking: state.booking, service: state.service,
        rows: summaryRows(), finish: finish, expired: function () { backToTimes(t("hold_expired")); }});
      return;
    }
    var payment = state.payment, message = el("p", {id: "cr-payment-message", class: "cr-error",
      role: "alert"});
    box.appendChild(C.definitionList(summaryRows()));
    if (state.booking.hold_expires_at) {
      var expiry = new Date(state.booking.hold_expires_at), reference = state.booking.reference;
      box.appendChild(el("p", {class: "cr-muted", text: t("held_until",
        {time: C.formatTimeInZone(expiry, state.zone)})}));
      /* When the hold runs out before paying, the time may go to someone else: say so. */
      window.clearTimeout(state.expiryTimer);
      state.expiryTimer = window.setTimeout(function () {
        if (state.step !== "payment" || state.paying || !state.booking ||
            state.booking.reference !== reference) return;
        C.api(bookingPath() + "?" + C.query({token: state.booking.manage_token})).then(function (r) {
          if (r.ok && r.data.status === "confirmed") finish(withToken(r.data));
          else if (state.step === "payment" && !state.paying) backToTimes(t("hold_expired"));
        });
      }, Math.max(expiry.getTime() - Date.now(), 0) + 1000);
    }
    var mount = el("div", {id: "cr-payment-element", class: "cr-payment-element"});
    var pay = el("button", {type: "button", class: "cr-button cr-primary", id: "cr-pay", disabled: true,
      text: t("pay", {amount: C.money(payment.amount_minor, payment.currency)})});
    box.appendChild(mount);
    box.appendChild(message);
    var actions = el("div", {class: "cr-actions"});
    box.appendChild(actions);
    if (payment.client_secret) actions.appendChild(pay);
    else {
      message.textContent = payment.message || t("payment_unavailable");
      var retry = C.button(t("retry"), function () {
        retry.disabled = true;
        C.api(bookingPath("payment/"), {method: "POST", body: {token: state.booking.manage_token}})
          .then(function (result) {
            retry.disabled = false;
            if (result.ok) { state.payment = result.data; show("payment"); }
            else if (result.status === 409) backToTimes(t("hold_expired"));
            else message.textContent = (result.error && result.error.message) || t("payment_unavailable");
          });
      }, {id: "cr-retry", class: "cr-button cr-primary"});
      actions.appendChild(retry);
      return;
    }
    loadScript(payment.stripe_js_url).then(function () {
      var stripe = window.Stripe(payment.publishable_key, {locale: C.lang});
      var elements = stripe.elements({clientSecret: payment.client_secret, locale: C.lang});
      var element = elements.create("payment");
      element.on("ready", function () { pay.disabled = false; C.reportHeight(); });
      element.mount("#cr-payment-element");
      pay.addEventListener("click", function () {
        pay.disabled = true;
        state.paying = true;
        message.textContent = "";
        C.announce(t("paying"));
        stripe.confirmPayment({elements: elements, redirect: "if_required",
          confirmParams: {return_url: returnUrl()}}).then(function (result) {
          if (result.error) {
            pay.disabled = false;
            state.paying = false;
            message.textContent = result.error.message || t("payment_failed");
            return;
          }
          waitForConfirmation(message);
        });
      });
    }, function () { message.textContent = t("payment_unavailable"); });
  }

  function returnUrl() {
    var url = new URL(window.location.href);
    url.searchParams.set("reference", state.booking.reference);
    url.searchParams.set("token", state.booking.manage_token);
    return url.toString();
  }

  function withToken(booking) {
    booking.manage_token = state.booking.manage_token;
    return booking;
  }

  function waitForConfirmation(message, attempt) {
    attempt = attempt || 0;
    if (message) message.textContent = t("payment_pending");
    C.api(bookingPath() + "?" + C.query({token: state.booking.manage_token})).then(function (result) {
      var status = result.ok && result.data.status;
      if (status === "confirmed") {
        finish(withToken(result.data));
      } else if (status === "expired" || status === "cancelled") {
        backToTimes(t("hold_expired"));
      } else if (attempt < 40) {
        window.setTimeout(function () { waitForConfirmation(message, attempt + 1); }, 750);
      } else if (message) {
        message.textContent = t("payment_pending");
      }
    });
  }

  /* ---- step 7: confirmation ------------------------------------------------------------- */
  /* A reload (or a crash of the tab) during payment must not lose the reserved time: the hold
     and what led to it are kept for this tab, and the page resumes there on load. */
  var STORE = "creneau-hold:" + location.host;
  function remember() {
    try {
      window.sessionStorage.setItem(STORE, JSON.stringify({reference: state.booking.reference,
        token: state.booking.manage_token, service: state.service.id, staff: state.staffId,
        slot: state.slot, zone: state.zone, customer: state.customer}));
    } catch (e) { /* storage can be unavailable (privacy settings): nothing to resume then */ }
  }
  function forget() {
    try { window.sessionStorage.removeItem(STORE); } catch (e) { /* see remember() */ }
  }
  function resumeHold() {
    var saved = null;
    try { saved = JSON.parse(window.sessionStorage.getItem(STORE) || "null"); } catch (e) {}
    var service = saved && state.services.filter(function (s) { return s.id === saved.service; })[0];
    if (!service) { forget(); return false; }
    C.api(config.urls.api + "bookings/" + encodeURIComponent(saved.reference) + "/?" +
      C.query({token: saved.token})).then(function (result) {
      var booking = result.ok ? result.data : null;
      if (booking) booking.manage_token = saved.token;
      state.service = service;
      state.staffId = saved.staff;
      state.slot = saved.slot;
      state.zone = saved.zone;
      state.customer = saved.customer;
      if (booking && booking.status === "confirmed") { state.booking = booking; finish(booking); }
      else if (booking && booking.status === "held" && needsPayment(service)) {
        state.booking = booking;
        requestPayment();
      } else if (booking && booking.status === "held" && needsCard(service)) {
        state.booking = booking;
        show("payment");
      } else {
        forget();
        show("service", {initial: true});
      }
    });
    return true;
  }

  function finish(booking) {
    forget();
    state.paying = false;
    window.clearTimeout(state.expiryTimer);
    state.booking = booking;
    C.post("creneau:booking-confirmed", {reference: booking.reference});
    show("done");
  }

  function googleLink(booking) {
    function stamp(iso) { return new Date(iso).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, ""); }
    return "https://calendar.google.com/calendar/render?" + C.query({action: "TEMPLATE",
      text: booking.service + " — " + config.tenant.name,
      dates: stamp(booking.starts_at) + "/" + stamp(booking.ends_at),
      details: t("reference") + ": " + booking.reference, location: config.tenant.address || ""});
  }

  /* What was paid online, from the booking's payment object (status) or the hold's. */
  function paidRows(booking) {
    var payment = booking.payment || state.payment;
    if (!payment || !payment.currency) return [];
    var held = state.payment || {}, rows = [];
    if (payment.discount_minor) {
      rows.push([held.promo_code ? t("summary_promo", {code: held.promo_code}) : t("summary_discount"),
        C.money(-payment.discount_minor, payment.currency), "cr-discount"]);
    }
    var paid = payment.paid_minor !== undefined ? payment.paid_minor : payment.amount_minor;
    rows.push([t("summary_paid"), C.money(paid, payment.currency), "cr-paid"]);
    if (payment.balance_due_minor) {
      rows.push([t("summary_balance"), C.money(payment.balance_due_minor, payment.currency)]);
    }
    return rows;
  }

  function renderDone(box) {
    var booking = state.booking, token = booking.manage_token;
    var manage = config.urls.manage + encodeURIComponent(booking.reference) + "/?" +
      C.query({token: token, lang: C.lang});
    var ics = config.urls.api + "bookings/" + encodeURIComponent(booking.reference) +
      "/calendar.ics?" + C.query({token: token});
    box.appendChild(el("p", {class: "cr-success", text: t("done_title")}));
    if (state.customer.email) box.appendChild(el("p", {text: t("done_text", {email: state.customer.email})}));
    box.appendChild(C.definitionList([
      [t("reference"), booking.reference, "cr-reference"],
      [t("summary_service"), booking.service],
      [t("summary_with"), booking.staff],
      [t("summary_when"), C.formatWhen(new Date(booking.starts_at), state.zone)]
    ].concat(paidRows(booking))));
    box.appendChild(el("h3", {text: t("add_to_calendar")}));
    box.appendChild(el("ul", {class: "cr-links"}, [
      el("li", {}, [el("a", {href: googleLink(booking), target: "_blank", rel: "noopener",
        text: t("google_calendar")})]),
      el("li", {}, [el("a", {href: ics, download: booking.reference + ".ics", text: t("ics_file")})])
    ]));
    /* Inside a widget the manage page opens in its own tab; on the hosted page, in place. */
    box.appendChild(el("p", {}, [el("a", {href: manage, class: "cr-manage-link",
      target: config.embed.mode ? "_blank" : null, rel: config.embed.mode ? "noopener" : null,
      text: t("manage_link")})]));
    box.appendChild(C.button(t("book_another"), function () {
      state.service = null; state.slot = null; state.booking = null; state.payment = null;
      state.lockedStaff = false; state.promo = "";
      show("service");
    }));
  }

  var RENDER = {service: renderService, staff: renderStaff, time: renderTime,
    details: renderDetails, summary: renderSummary, payment: renderPayment, done: renderDone};

  /* ---- start ---------------------------------------------------------------------------- */
  function resume(reference, token) {
    state.booking = {reference: reference, manage_token: token};
    stepBox.textContent = "";
    stepBox.appendChild(el("p", {id: "cr-payment-message", text: t("payment_pending")}));
    waitForConfirmation(document.getElementById("cr-payment-message"));
  }

  function start() {
    var resumeInfo = config.resume || {};
    /* The page embeds the services list (GET /api/v1/services/); fetched only on a retry. */
    var embedded = config.services;
    config.services = null;
    (embedded ? Promise.resolve({ok: true, data: embedded}) : C.api(config.urls.api + "services/"))
      .then(function (result) {
      if (!result.ok) {
        stepBox.textContent = "";
        stepBox.appendChild(el("p", {class: "cr-error", text: t("network_error")}));
        stepBox.appendChild(C.button(t("retry"), start));
        return;
      }
      state.services = result.data.filter(function (service) { return service.staff.length; });
      if (resumeInfo.reference && resumeInfo.token) { resume(resumeInfo.reference, resumeInfo.token); return; }
      if (resumeHold()) return;
      var wanted = config.preselect.service && state.services.filter(function (service) {
        return service.id === config.preselect.service; })[0];
      if (wanted && !onlineUnavailable(wanted)) {
        state.lockedService = true;
        state.service = wanted;
        chooseService(wanted);
        return;
      }
      show("service", {initial: true});
      /* A direct link to a service that cannot be paid online now: say why it is not opened. */
      if (wanted) C.notice(t("online_unavailable"), "warning");
    });
  }
  start();
})();
