// Progressive enhancement: the reader's own time first, wherever the browser knows the
// reader's zone and it is not the provider's (MT) or UTC. Without this script every time is
// the provider's with UTC beside it, and the page says so; with it, the page says the times
// (and on /maintenance the month grid's days and "Today") follow the reader's zone.
//
// A moment is written by the rules of statuspage/moments.py, so the reader's time and the
// server's MT and UTC read alike on one line:
// - a day is the language's short weekday, day and month ("Fri, Dec 18", "vie, 18 dic",
//   "Fr., 18. Dez."), with the year only when it is not this year; a time is "22:00"; the two
//   are joined by the language's pattern (the body's data-glue, "{1}, {0}");
// - the zone as the language writes it: its short name in the page's language, else in
//   English, else in British English ("MEZ" in German, "CET" in Spanish and English, never
//   "GMT+1"); a zone at UTC's offset without a name "GMT"; any other its offset, "UTC+9".
(function () {
  "use strict";
  var body = document.body;
  var provider = body.getAttribute("data-zone") || "America/Denver";
  var glue = body.getAttribute("data-glue") || "{1}, {0}";
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone || zone === provider || zone === "UTC" || zone === "Etc/UTC") return;
  var lang = document.documentElement.lang || "en";
  var NAME = /^[A-Z][A-Za-z]{1,5}$/;

  function formatter(locale, options) {
    options.timeZone = zone;
    return new Intl.DateTimeFormat(locale, options);
  }
  function partsOf(fmt, date) {
    var found = {};
    fmt.formatToParts(date).forEach(function (p) { found[p.type] = p.value; });
    return found;
  }
  var dayFmt = formatter(lang, { weekday: "short", month: "short", day: "numeric" });
  var dayYearFmt = formatter(lang, { weekday: "short", month: "short", day: "numeric", year: "numeric" });
  var numbers = formatter("en-US", {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    hourCycle: "h23", timeZoneName: "longOffset"
  });

  function local(date) {
    var p = partsOf(numbers, date);
    var offset = 0;
    var m = /GMT([+\-\u2212])(\d{1,2})(?::(\d{2}))?/.exec(p.timeZoneName || "");
    if (m) { offset = (m[1] === "+" ? 1 : -1) * (parseInt(m[2], 10) * 60 + parseInt(m[3] || "0", 10)); }
    return {
      ymd: p.year + "-" + p.month + "-" + p.day,
      year: p.year,
      clock: (p.hour === "24" ? "00" : p.hour) + ":" + p.minute,
      offset: offset
    };
  }
  var names = {};
  function zoneName(date, offset) {
    var key = String(offset);
    if (names[key]) return names[key];
    var locales = [lang, "en-US", "en-GB"], found = "";
    for (var i = 0; i < locales.length && !found; i++) {
      var name = "";
      try { name = partsOf(formatter(locales[i], { timeZoneName: "short" }), date).timeZoneName || ""; } catch (e) { name = ""; }
      if (NAME.test(name)) { found = name; } else if (offset === 0) { found = "GMT"; }
    }
    if (!found) {
      var abs = Math.abs(offset), rest = abs % 60;
      found = "UTC" + (offset < 0 ? "-" : "+") + Math.floor(abs / 60) + (rest ? ":" + (rest < 10 ? "0" : "") + rest : "");
    }
    names[key] = found;
    return found;
  }

  var thisYear = local(new Date()).year;
  function dayText(date, withYear) { return (withYear ? dayYearFmt : dayFmt).format(date); }
  function joined(day, time) { return glue.replace("{1}", day).replace("{0}", time); }

  // "Sat, Dec 19, 06:00 CET", or a span: "Sat, Dec 19, 06:00–12:00 CET" within a day,
  // "Fri, Dec 18, 22:00 – Sat, Dec 19, 04:00 CET" across midnight.
  function written(start, end) {
    var a = local(start), yearA = a.year !== thisYear;
    var zoneA = zoneName(start, a.offset);
    if (!end) return joined(dayText(start, yearA), a.clock) + " " + zoneA;
    var b = local(end), zoneB = zoneName(end, b.offset);
    var zones = zoneA === zoneB ? zoneA : zoneA + "/" + zoneB;
    if (a.ymd === b.ymd) return joined(dayText(start, yearA), a.clock + "–" + b.clock) + " " + zones;
    return joined(dayText(start, yearA), a.clock) + " – " +
      joined(dayText(end, b.year !== a.year), b.clock) + " " + zones;
  }

  // Every moment and span the server wrote (MT in a <time class="when">, UTC after it):
  // the reader's time goes first. A span (a window: two times a zone) has the reader's on a
  // line of its own, so no line carries more than MT's and UTC's four times.
  document.querySelectorAll("time.when[datetime]").forEach(function (el) {
    var start = new Date(el.getAttribute("datetime"));
    if (isNaN(start)) return;
    var until = el.getAttribute("data-until");
    var end = until ? new Date(until) : null;
    var span = !!(end && !isNaN(end));
    var mine = document.createElement("span");
    mine.className = "localtime";
    mine.textContent = written(start, span ? end : null);
    var sep;
    if (span) {
      sep = document.createElement("br");
    } else {
      sep = document.createElement("span");
      sep.className = "zone-sep";
      sep.textContent = " · ";
    }
    el.parentNode.insertBefore(mine, el);
    el.parentNode.insertBefore(sep, el);
  });

  // The notes that said "Mountain Time (MT)" now say the reader's zone leads.
  var label = zoneName(new Date(), local(new Date()).offset);
  document.querySelectorAll(".zone-note[data-local]").forEach(function (el) {
    el.textContent = el.getAttribute("data-local").replace("{zone}", label);
  });

  // /maintenance, grid: each window on the reader's day, at the reader's time; "Today" is
  // the reader's day (the page's moment, data-now, in the reader's zone).
  var grid = document.querySelector("table.month[data-now]");
  if (grid) {
    var cells = {};
    grid.querySelectorAll("td[data-date]").forEach(function (cell) { cells[cell.getAttribute("data-date")] = cell; });
    grid.querySelectorAll("a.cal-window").forEach(function (link) {
      var time = link.querySelector("time.cal-time[datetime]");
      if (!time) return;
      var when = new Date(time.getAttribute("datetime"));
      if (isNaN(when)) return;
      var here = local(when);
      time.textContent = here.clock + " " + zoneName(when, here.offset);
      link.setAttribute("data-start", when.toISOString());
      // A day the grid does not show keeps the window where it was, at the reader's time.
      var cell = cells[here.ymd];
      if (cell && cell !== link.parentNode) cell.appendChild(link);
    });
    Object.keys(cells).forEach(function (key) {
      var cell = cells[key];
      var links = Array.prototype.slice.call(cell.querySelectorAll("a.cal-window"));
      links.sort(function (x, y) { return new Date(x.getAttribute("data-start")) - new Date(y.getAttribute("data-start")); });
      links.forEach(function (link) { cell.appendChild(link); });
      cell.classList.toggle("empty", links.length === 0);
    });
    var today = local(new Date(grid.getAttribute("data-now"))).ymd;
    var marker = grid.querySelector(".today-label");
    grid.querySelectorAll("td.today").forEach(function (cell) {
      cell.classList.remove("today");
      cell.removeAttribute("aria-current");
    });
    var mine = cells[today];
    if (mine) {
      if (!marker) {
        marker = document.createElement("span");
        marker.className = "today-label";
        marker.textContent = grid.getAttribute("data-today-label") || "";
      }
      mine.classList.add("today");
      mine.setAttribute("aria-current", "date");
      var number = mine.querySelector(".day-number");
      mine.insertBefore(marker, number ? number.nextSibling : mine.firstChild);
    } else if (marker) {
      marker.parentNode.removeChild(marker);
    }
  }

  // /maintenance, list: the "Today" divider names the reader's day (a day, no time) and
  // stands before the first window starting on it or later.
  var agenda = document.querySelector("ol.agenda[data-now]");
  var divider = agenda && agenda.querySelector("li.today-divider");
  if (divider) {
    var now = new Date(agenda.getAttribute("data-now"));
    var day = local(now).ymd;
    var date = divider.querySelector(".today-date");
    if (date) { date.textContent = dayText(now, false); date.setAttribute("data-day", day); }
    var before = null;
    agenda.querySelectorAll("li.window[data-start]").forEach(function (li) {
      if (!before && local(new Date(li.getAttribute("data-start"))).ymd >= day) before = li;
    });
    agenda.insertBefore(divider, before);
  }
})();
