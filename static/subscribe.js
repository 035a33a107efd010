// Progressive enhancement: fill the time zone field with the browser's zone.
(function () {
  var field = document.getElementById("timezone");
  if (!field || field.dataset.touched) return;
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && field.value === "America/Denver") field.value = zone;
  } catch (e) { /* keep the default */ }
})();
