// Staff pages, progressive enhancement only: every form works without this file.
// A message-template select (data-templates: {key: text}, data-fills: textarea id) fills
// the message as soon as a template is chosen, so the "Use template" round trip is not needed.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-templates][data-fills]").forEach(function (select) {
      var texts = JSON.parse(select.getAttribute("data-templates"));
      var target = document.getElementById(select.getAttribute("data-fills"));
      if (!target) return;
      var button = select.parentNode.querySelector('button[name="use_template"]');
      if (button) button.hidden = true;
      select.addEventListener("change", function () {
        if (!texts[select.value]) return;
        target.value = texts[select.value];
        target.focus();
      });
    });
  });
})();
