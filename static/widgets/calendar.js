/* Creneau: month calendar of days with free times, then the free times of the chosen day. */
(function () {
  "use strict";
  var C = window.Creneau, t = C.t, el = C.el;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function monthKey(year, month) { return year + "-" + pad(month); }
  function addDays(key, delta) { /* on "YYYY-MM-DD" dates, calendar arithmetic in UTC */
    var d = new Date(key + "T12:00:00Z");
    d.setUTCDate(d.getUTCDate() + delta);
    return d.toISOString().slice(0, 10);
  }
  function noonUtc(key) { return new Date(key + "T12:00:00Z"); }

  var zones = null;
  function allZones(current) {
    if (!zones) {
      try { zones = Intl.supportedValuesOf("timeZone"); } catch (e) { zones = []; }
    }
    var list = zones.slice();
    [current, C.config.tenant.time_zone, "UTC"].forEach(function (zone) {
      if (list.indexOf(zone) < 0) list.unshift(zone);
    });
    return list;
  }

  /* options: serviceId, staffId, zone, onSelect(slot), onZone(zone), heading level */
  function Picker(container, options) {
    this.container = container;
    this.options = options;
    this.zone = options.zone || C.detectedZone;
    var today = C.dayKey(new Date(), this.zone);
    this.year = +today.slice(0, 4);
    this.month = +today.slice(5, 7);
    this.today = today;
    this.cache = {};
    this.day = null;
    this.autoAdvance = 3; /* look a few months ahead for the first free day */
    this.render();
    this.loadMonth();
  }

  Picker.prototype.render = function () {
    var self = this, business = C.config.tenant.time_zone;
    this.container.textContent = "";
    var select = el("select", {id: "cr-zone", "aria-describedby": "cr-zone-note",
      onchange: function () {
        self.zone = select.value;
        self.cache = {};
        if (self.options.onZone) self.options.onZone(self.zone);
        self.render();
        self.loadMonth();
      }});
    allZones(this.zone).forEach(function (zone) {
      select.appendChild(el("option", {value: zone, text: C.zoneLabel(zone),
        selected: zone === self.zone}));
    });
    var note = t("times_in_zone", {zone: C.zoneLabel(this.zone)});
    if (business !== this.zone) note += " " + t("business_zone_short", {zone: C.zoneLabel(business)});
    this.container.appendChild(el("div", {class: "cr-zone"}, [
      el("label", {for: "cr-zone", text: t("change_zone")}), select,
      el("p", {id: "cr-zone-note", class: "cr-muted", text: note})]));
    this.monthLabel = el("h3", {class: "cr-month-label", id: "cr-month-label", "aria-live": "polite"});
    this.prev = el("button", {type: "button", class: "cr-icon-button", "aria-label": t("previous_month"),
      text: "‹", onclick: function () { self.shift(-1); }});
    this.next = el("button", {type: "button", class: "cr-icon-button", "aria-label": t("next_month"),
      text: "›", onclick: function () { self.shift(1); }});
    this.grid = el("div", {class: "cr-days", role: "group", "aria-labelledby": "cr-month-label",
      onkeydown: function (event) { self.arrowKey(event); }});
    this.monthNote = el("p", {class: "cr-muted cr-month-note"});
    this.container.appendChild(el("div", {class: "cr-calendar"}, [
      el("div", {class: "cr-month"}, [this.prev, this.monthLabel, this.next]),
      this.grid, this.monthNote]));
    this.times = el("div", {class: "cr-times", id: "cr-times"});
    this.container.appendChild(this.times);
  };

  Picker.prototype.move = function (delta) {
    this.month += delta;
    if (this.month < 1) { this.month = 12; this.year -= 1; }
    if (this.month > 12) { this.month = 1; this.year += 1; }
    this.loadMonth();
  };
  Picker.prototype.shift = function (delta) { /* the customer's own month change */
    this.autoAdvance = 0;
    this.move(delta);
  };

  Picker.prototype.loadMonth = function () {
    var self = this, key = monthKey(this.year, this.month);
    var label = new Intl.DateTimeFormat(C.intlLocale, {month: "long", year: "numeric", timeZone: "UTC"})
      .format(noonUtc(key + "-15"));
    this.monthLabel.textContent = label;
    this.prev.disabled = key <= this.today.slice(0, 7);
    this.grid.setAttribute("aria-busy", "true");
    this.monthNote.textContent = t("loading");
    var cached = this.cache[key];
    var request = cached ? Promise.resolve(cached) : C.api(C.config.urls.days + "?" + C.query({
      service: this.options.serviceId, staff: this.options.staffId, month: key, tz: this.zone,
      exclude_occurrence: this.options.excludeOccurrence}));
    request.then(function (result) {
      if (monthKey(self.year, self.month) !== key) return; /* the customer moved on */
      self.grid.removeAttribute("aria-busy");
      if (!result.ok) {
        self.monthNote.textContent = (result.error && result.error.message) || t("network_error");
        return;
      }
      self.cache[key] = result;
      var days = result.data.days;
      self.next.disabled = !result.data.has_later_months;
      if (!days.length && self.autoAdvance > 0 && result.data.has_later_months) {
        self.autoAdvance -= 1;
        self.move(1);
        return;
      }
      if (!days.length && !self.everFound && self.options.onEmpty) self.options.onEmpty();
      if (days.length) self.everFound = true;
      self.autoAdvance = 0;
      self.drawDays(key, days);
      self.monthNote.textContent = days.length ? "" : t("no_days") + (result.data.has_later_months
        ? " " + t("no_days_hint") : "");
    });
  };

  Picker.prototype.drawDays = function (key, days) {
    var self = this;
    this.grid.textContent = "";
    var weekday = new Intl.DateTimeFormat(C.intlLocale, {weekday: "short", timeZone: "UTC"});
    for (var i = 0; i < 7; i++) { /* 2024-01-01 is a Monday */
      this.grid.appendChild(el("span", {class: "cr-weekday", "aria-hidden": "true",
        text: weekday.format(noonUtc("2024-01-0" + (i + 1)))}));
    }
    var first = noonUtc(key + "-01");
    var offset = (first.getUTCDay() + 6) % 7;
    for (i = 0; i < offset; i++) this.grid.appendChild(el("span", {class: "cr-day cr-day-blank"}));
    var longDay = new Intl.DateTimeFormat(C.intlLocale, {weekday: "long", day: "numeric", month: "long",
      timeZone: "UTC"});
    for (var date = key + "-01"; date.slice(0, 7) === key; date = addDays(date, 1)) {
      var label = longDay.format(noonUtc(date)), number = String(+date.slice(8));
      if (days.indexOf(date) >= 0) {
        this.grid.appendChild(el("button", {type: "button", class: "cr-day cr-day-open",
          "data-date": date, "aria-label": t("day_available", {date: label}),
          "aria-pressed": date === this.day ? "true" : "false", text: number,
          onclick: (function (chosen) {
            return function () { self.chooseDay(chosen, {reveal: true}); };
          })(date)}));
      } else {
        this.grid.appendChild(el("span", {class: "cr-day", "aria-label": t("day_unavailable",
          {date: label}), role: "img", text: number}));
      }
    }
  };

  /* Arrow keys move focus between open days: left/right the previous/next one, up/down the one a
     week earlier/later (or the nearest open day beyond it); unavailable days are skipped. */
  var DAY_STEPS = {ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7};
  Picker.prototype.arrowKey = function (event) {
    var step = DAY_STEPS[event.key], from = event.target.getAttribute("data-date");
    if (!step || !from || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault(); /* no page scrolling while moving in the calendar */
    var wanted = addDays(from, step), found = null;
    Array.prototype.forEach.call(this.grid.querySelectorAll(".cr-day-open"), function (node) {
      var date = node.getAttribute("data-date"); /* in date order */
      if (step > 0 ? !found && date >= wanted : date <= wanted) found = node;
    });
    if (found) found.focus();
  };

  /* options.reveal: the customer chose this day, so its times are brought into view and focus
     moves to them once drawn (on a phone they start below the fold; a screen reader reads the
     day's heading next). Re-reading a day (after a refused hold, on coming back) does neither. */
  Picker.prototype.chooseDay = function (date, options) {
    var self = this, ticket = (this.ticket || 0) + 1, reveal = !!(options && options.reveal);
    this.ticket = ticket;
    this.day = date;
    Array.prototype.forEach.call(this.grid.querySelectorAll(".cr-day-open"), function (node) {
      node.setAttribute("aria-pressed", node.getAttribute("data-date") === date ? "true" : "false");
    });
    this.times.textContent = "";
    this.times.setAttribute("aria-busy", "true");
    var title = el("h3", {id: "cr-times-title", tabindex: "-1",
      text: t("times_of_day", {date: C.formatDay(noonUtc(date), "UTC"), zone: C.zoneLabel(this.zone)})});
    this.times.appendChild(title);
    return C.api(C.config.urls.api + "availability/?" + C.query({service: this.options.serviceId,
      staff: this.options.staffId, start: addDays(date, -1), end: addDays(date, 1), tz: this.zone}))
      .then(function (result) {
        if (self.ticket !== ticket) return; /* a later choice (or refresh) won */
        self.times.removeAttribute("aria-busy");
        if (!result.ok) {
          self.times.appendChild(el("p", {class: "cr-error", text: result.error.message}));
          return;
        }
        var slots = result.data.slots.filter(function (slot) {
          return slot.local_start.slice(0, 10) === date;
        });
        self.drawTimes(slots, title);
        if (reveal) self.reveal(title);
      });
  };

  Picker.prototype.reveal = function (title) {
    title.focus({preventScroll: true});
    var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    this.times.scrollIntoView({block: "start", behavior: still ? "auto" : "smooth"});
  };

  Picker.prototype.refreshDay = function () {
    this.cache = {};
    if (this.day) return this.chooseDay(this.day);
    return this.loadMonth();
  };

  Picker.prototype.drawTimes = function (slots, title) {
    var self = this, business = C.config.tenant.time_zone, seen = {};
    var own = this.options.excludeOccurrence; /* a seat being moved: not its own session */
    slots = slots.filter(function (slot) { return !own || slot.occurrence_id !== own; });
    if (!slots.length) {
      this.times.appendChild(el("p", {class: "cr-muted", text: t("no_times")}));
      return;
    }
    var list = el("ul", {class: "cr-time-list", "aria-labelledby": "cr-times-title"});
    slots.forEach(function (slot) {
      var key = slot.occurrence_id ? "o" + slot.occurrence_id : slot.start;
      if (seen[key] && !self.options.staffId) return; /* "anyone": one button per time */
      seen[key] = true;
      var start = new Date(slot.start), text = C.formatTime(start, self.zone);
      var label = text;
      if (business !== self.zone) {
        label += " — " + t("business_zone", {zone: C.zoneLabel(business),
          time: C.formatTime(start, business)});
      }
      if (slot.seats_left) label += " — " + t("seats_left", {n: slot.seats_left});
      list.appendChild(el("li", {}, [el("button", {type: "button", class: "cr-time",
        "data-start": slot.start, "aria-label": label, text: text,
        onclick: function () { self.options.onSelect(slot, self.zone); }})]));
    });
    this.times.appendChild(list);
    C.reportHeight();
  };

  C.Picker = Picker;
  C.addDays = addDays;
})();
