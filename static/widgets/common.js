/* Creneau booking widget: shared helpers of the booking and manage pages (no dependencies). */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("cr-config").textContent);
  var strings = config.strings || {};
  var lang = config.lang || "en";
  var embed = config.embed || {};
  /* Dates and money follow the page language, in the browser's regional variant when it has one
     (en-GB: 24-hour clock, day before month). */
  var browserLocale = navigator.language || "";
  var intlLocale = browserLocale.slice(0, 2).toLowerCase() === lang ? browserLocale : lang;

  function t(key, params) {
    var text = strings[key] || key;
    if (params) {
      Object.keys(params).forEach(function (name) {
        text = text.split("{" + name + "}").join(String(params[name]));
      });
    }
    return text;
  }

  /* Elements: el("p", {class: "x", text: "y", onclick: f}, [children]) */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), value);
      else if (value === true) node.setAttribute(name, "");
      else node.setAttribute(name, value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function api(path, options) {
    options = options || {};
    /* The API answers its errors in the language asked for: the page's, not the browser's. */
    var init = {method: options.method || "GET",
      headers: {Accept: "application/json", "Accept-Language": lang}, credentials: "same-origin"};
    if (options.body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    return fetch(path, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return {ok: response.ok, status: response.status, data: data,
          error: (data && data.error) || null};
      });
    }, function () {
      return {ok: false, status: 0, data: {}, error: {code: "network", message: t("network_error")}};
    });
  }

  function query(params) {
    return Object.keys(params).filter(function (key) {
      return params[key] !== null && params[key] !== undefined && params[key] !== "";
    }).map(function (key) {
      return encodeURIComponent(key) + "=" + encodeURIComponent(params[key]);
    }).join("&");
  }

  /* Money: integer minor units to a decimal string for Intl (no floating point). */
  function money(minor, currency) {
    var format = new Intl.NumberFormat(intlLocale, {style: "currency", currency: currency});
    var digits = format.resolvedOptions().maximumFractionDigits;
    var text = String(Math.abs(minor));
    if (digits > 0) {
      while (text.length <= digits) text = "0" + text;
      text = text.slice(0, -digits) + "." + text.slice(-digits);
    }
    return format.format((minor < 0 ? "-" : "") + text);
  }

  function percentOf(minor, percent) { /* half up, like scheduling's cancellation policy */
    var product = minor * percent;
    return Math.floor(product / 100) + ((product % 100) * 2 >= 100 ? 1 : 0);
  }

  function duration(minutes) {
    if (minutes < 60) return t("minutes", {n: minutes});
    var h = Math.floor(minutes / 60), m = minutes % 60;
    return m ? t("hours_minutes", {h: h, m: m}) : t("hours", {h: h});
  }

  var detectedZone = "UTC";
  try { detectedZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) {}

  function dayKey(instant, zone) { /* "2030-06-04" of an instant in a zone */
    return new Intl.DateTimeFormat("en-CA", {timeZone: zone, year: "numeric", month: "2-digit",
      day: "2-digit"}).format(instant);
  }
  function formatTime(instant, zone) {
    return new Intl.DateTimeFormat(intlLocale, {timeZone: zone, hour: "numeric", minute: "2-digit"})
      .format(instant);
  }
  function formatDay(instant, zone) {
    return new Intl.DateTimeFormat(intlLocale, {timeZone: zone, weekday: "long", day: "numeric",
      month: "long", year: "numeric"}).format(instant);
  }
  /* A date and time the customer reads on its own (summary, confirmation, manage page) names
     its zone, as the confirmation email does; a bare formatTime is for lists under a heading
     that names it. */
  function formatWhen(instant, zone) {
    return t("time_in_zone", {zone: zoneLabel(zone), time: new Intl.DateTimeFormat(intlLocale, {
      timeZone: zone, weekday: "long", day: "numeric", month: "long", year: "numeric",
      hour: "numeric", minute: "2-digit"}).format(instant)});
  }
  function formatTimeInZone(instant, zone) {
    return t("time_in_zone", {zone: zoneLabel(zone), time: formatTime(instant, zone)});
  }
  function zoneLabel(zone) { return zone.replace(/_/g, " "); }

  /* Messages to the page that embeds us (only to the origin the business allowed). */
  function post(type, data) {
    if (!embed.parent_origin || window.parent === window) return;
    var message = {type: type};
    Object.keys(data || {}).forEach(function (key) { message[key] = data[key]; });
    window.parent.postMessage(message, embed.parent_origin);
  }
  var lastHeight = 0;
  function reportHeight() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== lastHeight) {
      lastHeight = height;
      post("creneau:resize", {height: height});
    }
  }
  if (embed.parent_origin && window.parent !== window) {
    if (window.ResizeObserver) new ResizeObserver(reportHeight).observe(document.body);
    window.addEventListener("load", reportHeight);
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && embed.mode === "popup") post("creneau:close");
    });
  }

  var announcer = document.getElementById("cr-announce");
  function announce(text) {
    if (!announcer) return;
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 30);
  }
  var noticeBox = document.getElementById("cr-notice");
  function notice(text, kind) {
    if (!noticeBox) return;
    noticeBox.textContent = text || "";
    noticeBox.hidden = !text;
    noticeBox.className = "cr-notice" + (kind ? " cr-notice-" + kind : "");
  }

  function button(label, onclick, extra) {
    var attrs = {type: "button", class: "cr-button", text: label, onclick: onclick};
    Object.keys(extra || {}).forEach(function (key) { attrs[key] = extra[key]; });
    return el("button", attrs);
  }

  function definitionList(rows) {
    var list = el("dl", {class: "cr-summary"});
    rows.forEach(function (row) {
      if (!row) return;
      list.appendChild(el("div", {class: row[2] || null}, [el("dt", {text: row[0]}),
        el("dd", {text: row[1]})]));
    });
    return list;
  }

  window.Creneau = {
    config: config, t: t, el: el, api: api, query: query, money: money, percentOf: percentOf,
    duration: duration, detectedZone: detectedZone, dayKey: dayKey, formatTime: formatTime,
    formatDay: formatDay, formatWhen: formatWhen, formatTimeInZone: formatTimeInZone,
    zoneLabel: zoneLabel, post: post,
    reportHeight: reportHeight, announce: announce, notice: notice, button: button,
    definitionList: definitionList, lang: lang, intlLocale: intlLocale
  };
  post("creneau:ready", {page: config.page});
})();
