// Progressive enhancement: the reader's own time, once, beside each time the page shows.
// The page is complete without it (times are shown in MT with UTC by the server). Nothing is
// added when the browser's zone is MT or UTC, which the page already shows.
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone || zone === "America/Denver" || zone === "UTC" || zone === "Etc/UTC") return;
  var lang = document.documentElement.lang || undefined;
  var dayFmt = new Intl.DateTimeFormat(lang, { weekday: "short", day: "numeric", month: "short" });
  var timeFmt = new Intl.DateTimeFormat(lang, {
    hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short"
  });
  function parts(date) {
    var clock = "", name = "";
    timeFmt.formatToParts(date).forEach(function (p) {
      if (p.type === "timeZoneName") { name = p.value; } else if (p.type !== "literal" || !name) { clock += p.value; }
    });
    return { day: dayFmt.format(date), clock: clock.trim(), zone: name };
  }
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when)) return;
    var a = parts(when), text = a.day + ", " + a.clock;
    var until = el.getAttribute("data-until");
    var end = until ? new Date(until) : null;
    if (end && !isNaN(end)) {
      var b = parts(end);
      text += b.day === a.day ? "–" + b.clock : " – " + b.day + ", " + b.clock;
      text += " " + b.zone;
    } else {
      text += " " + a.zone;
    }
    var local = document.createElement("span");
    local.className = "localtime";
    local.textContent = " · " + text;
    var next = el.nextElementSibling;
    var after = next && next.classList.contains("utc") ? next : el;
    after.insertAdjacentElement("afterend", local);
  });
})();
