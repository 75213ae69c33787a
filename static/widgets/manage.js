/* Creneau manage page: see a booking, cancel it (refund shown first) or move it. */
(function () {
  "use strict";
  var C = window.Creneau, t = C.t, el = C.el, config = C.config;
  var box = document.getElementById("cr-step");
  var ref = config.booking.reference, token = config.booking.token;
  var zone = C.detectedZone, booking = null, extra = null, picker = null;

  function bookingUrl(suffix) {
    return config.urls.api + "bookings/" + encodeURIComponent(ref) + "/" + (suffix || "");
  }

  function load(message) {
    return Promise.all([
      C.api(bookingUrl() + "?" + C.query({token: token})),
      C.api(config.urls.widget + "bookings/" + encodeURIComponent(ref) + "/?" +
        C.query({token: token, lang: C.lang}))
    ]).then(function (results) {
      if (!results[0].ok || !results[1].ok) {
        C.notice(results[0].status === 404 ? t("manage.not_found") : t("network_error"));
        box.textContent = "";
        return;
      }
      booking = results[0].data;
      extra = results[1].data;
      render(message);
    });
  }

  function whenText(iso) {
    var start = new Date(iso), text = C.formatWhen(start, zone);
    if (config.tenant.time_zone !== zone) {
      text += " (" + t("business_zone", {zone: C.zoneLabel(config.tenant.time_zone),
        time: C.formatTime(start, config.tenant.time_zone)}) + ")";
    }
    return text;
  }

  function render(message) {
    box.textContent = "";
    if (message) box.appendChild(el("p", {class: "cr-success", id: "cr-outcome", text: message}));
    box.appendChild(C.definitionList([
      [t("reference"), booking.reference, "cr-reference"],
      [t("manage.status"), t("status." + booking.status), "cr-status"],
      [t("summary_service"), booking.service],
      [t("summary_with"), booking.staff],
      [t("summary_when"), whenText(booking.starts_at)]
    ]));
    box.appendChild(el("h3", {text: t("policy")}));
    box.appendChild(el("p", {class: "cr-policy", text: extra.policy_text}));
    if (!extra.changeable) {
      if (booking.status !== "cancelled") {
        box.appendChild(el("p", {class: "cr-muted", text: t("manage.not_changeable")}));
      }
      return;
    }
    var panel = el("div", {id: "cr-panel"});
    box.appendChild(el("div", {class: "cr-actions"}, [
      extra.reschedulable ? C.button(t(extra.occurrence_id ? "manage.reschedule_seat" :
        "manage.reschedule"), function () { openReschedule(panel); }, {id: "cr-reschedule"}) : null,
      C.button(t("manage.cancel"), function () { openCancel(panel); },
        {id: "cr-cancel", class: "cr-button cr-danger-button"})
    ]));
    box.appendChild(panel);
    C.reportHeight();
  }

  function refundText() {
    if (extra.payment_mode === "free" || extra.payment_mode === "pay_at_venue") {
      return t("manage.nothing_paid");
    }
    if (extra.refund_percent_now >= 100) return t("manage.refund_full");
    if (extra.refund_percent_now > 0) {
      var percent = new Intl.NumberFormat(C.intlLocale, {style: "percent"})
        .format(extra.refund_percent_now / 100);
      return t("manage.refund_partial", {percent: percent});
    }
    return t("manage.refund_none");
  }

  function openCancel(panel) {
    panel.textContent = "";
    var title = el("h2", {class: "cr-step-title", tabindex: "-1", text: t("manage.cancel_question")});
    var reason = el("textarea", {id: "cr-reason", rows: "2", maxlength: "500"});
    var confirm = C.button(t("manage.confirm_cancel"), function () {
      confirm.disabled = true;
      C.api(bookingUrl("cancel/"), {method: "POST", body: {token: token, reason: reason.value}})
        .then(function (result) {
          if (!result.ok) {
            confirm.disabled = false;
            C.notice((result.error && result.error.message) || t("network_error"));
            return;
          }
          var text = t("manage.cancelled");
          if (result.data.refund_minor > 0) {
            text += " " + t("manage.refund_done", {amount: C.money(result.data.refund_minor,
              result.data.booking.currency)});
          }
          C.announce(text);
          load(text);
        });
    }, {id: "cr-confirm-cancel", class: "cr-button cr-primary"});
    panel.appendChild(title);
    panel.appendChild(el("p", {id: "cr-refund", class: "cr-policy", text: refundText()}));
    if (extra.late_fee_text_now) {  /* a card on file: cancelling late is charged (card_checkout.py) */
      panel.appendChild(el("p", {id: "cr-late-fee", class: "cr-policy cr-warning", text: extra.late_fee_text_now}));
    }
    panel.appendChild(el("div", {class: "cr-field"}, [
      el("label", {for: "cr-reason", text: t("manage.cancel_reason")}), reason]));
    panel.appendChild(el("div", {class: "cr-actions"}, [confirm,
      C.button(t("manage.keep"), function () { panel.textContent = ""; C.reportHeight(); })]));
    title.focus();
    C.announce(t("manage.cancel_question") + " " + refundText());
    C.reportHeight();
  }

  function openReschedule(panel) {
    panel.textContent = "";
    var seat = Boolean(extra.occurrence_id);
    var question = t(seat ? "manage.pick_new_session" : "manage.pick_new_time");
    var title = el("h2", {class: "cr-step-title", tabindex: "-1", text: question});
    var holder = el("div"), choice = el("div", {class: "cr-actions", id: "cr-move"});
    panel.appendChild(title);
    panel.appendChild(holder);
    panel.appendChild(choice);
    /* A seat moves to any session of the same class, whoever leads it. */
    picker = new C.Picker(holder, {serviceId: extra.service_id,
      staffId: seat ? null : extra.staff_id, excludeOccurrence: extra.occurrence_id, zone: zone,
      onZone: function (chosen) { zone = chosen; },
      onSelect: function (slot) {
        choice.textContent = "";
        var move = C.button(t("manage.move_to", {time: whenText(slot.start)}), function () {
          move.disabled = true;
          var body = seat ? {token: token, occurrence: slot.occurrence_id} :
            {token: token, start: slot.start, staff: extra.staff_id};
          C.api(bookingUrl("reschedule/"), {method: "POST", body: body}).then(function (result) {
            if (result.ok) {
              var text = t("manage.moved", {time: whenText(result.data.starts_at)});
              C.notice("");
              C.announce(text);
              load(text);
              return;
            }
            move.disabled = false;
            var taken = result.status === 409 && result.error &&
              (result.error.code === "slot_taken" || result.error.code === "session_full");
            C.notice(taken ? t("slot_taken") : (result.error && result.error.message) ||
              t("network_error"), taken ? "warning" : null);
            if (taken) { choice.textContent = ""; picker.refreshDay(); }
          });
        }, {id: "cr-confirm-move", class: "cr-button cr-primary"});
        choice.appendChild(move);
        move.focus();
        C.reportHeight();
      }});
    title.focus();
    C.announce(question);
  }

  load();
})();
