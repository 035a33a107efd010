// Progressive enhancement: add the reader's own local time beside every <time datetime>.
// The page is complete without it (times are shown in MT and UTC by the server).
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone || zone === "America/Denver") return;
  var fmt = new Intl.DateTimeFormat(undefined, {
    weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    timeZoneName: "short"
  });
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when)) return;
    var local = document.createElement("span");
    local.className = "localtime";
    local.textContent = " · " + fmt.format(when);
    el.insertAdjacentElement("afterend", local);
  });
})();
