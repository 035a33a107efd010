// Progressive enhancement of the subscribe and manage pages. Without it every field is shown,
// the time zone is a plain list and the server does all the work.
(function () {
  "use strict";

  // The error summary: focused on load (for browsers that ignore autofocus on a div), and its
  // links move focus to the field itself, its label or legend scrolled into view.
  var summary = document.getElementById("error-summary");
  if (summary) {
    if (document.activeElement !== summary) summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) return;
      var input = document.getElementById(link.getAttribute("href").slice(1));
      if (!input) return;
      event.preventDefault();
      var box = input.closest("fieldset") || input.closest(".field") || input;
      box.scrollIntoView();
      input.focus({ preventScroll: true });
    });
  }

  // "How do you want notices?": show only the address field of the chosen way.
  var form = document.getElementById("subscribe-form");
  if (form) {
    var radios = form.querySelectorAll("input[name='channel']");
    // The notices a channel starts with (data-topics: an SMS takes incidents only unless
    // asked), ticked when the way changes, until the reader ticks a box themselves.
    var topics = ["incidents", "maintenance"];
    var touched = false;
    topics.forEach(function (topic) {
      var box = form.querySelector("input[name='" + topic + "']");
      if (box) box.addEventListener("change", function () { touched = true; });
    });
    var showChannel = function (changed) {
      var chosen = form.querySelector("input[name='channel']:checked");
      var value = chosen ? chosen.value : "email";
      form.querySelectorAll(".channel-address").forEach(function (box) {
        box.hidden = box.dataset.channel !== value;
        if (changed && !touched && !box.hidden && box.dataset.topics) {
          var wanted = box.dataset.topics.split(" ");
          topics.forEach(function (topic) {
            var tick = form.querySelector("input[name='" + topic + "']");
            if (tick) tick.checked = wanted.indexOf(topic) !== -1;
          });
        }
      });
    };
    radios.forEach(function (radio) {
      radio.addEventListener("change", function () { showChannel(true); });
    });
    form.querySelectorAll(".channel-nojs").forEach(function (note) { note.hidden = true; });
    showChannel(false);
  }

  // Time zone: a filter box narrowing the list, and the browser's zone on a fresh form.
  var select = document.getElementById("timezone");
  var filterBox = document.querySelector(".tz-filter");
  if (select && filterBox) {
    var filter = document.getElementById("timezone-filter");
    var count = document.getElementById("timezone-count");
    var words = function (text) { return text.toLowerCase().replace(/[_/]+/g, " "); };
    var options = Array.prototype.slice.call(select.options);
    options.forEach(function (option) { option.dataset.words = words(option.value + " " + option.text); });
    filterBox.hidden = false;
    filter.addEventListener("input", function () {
      var wanted = words(filter.value).trim();
      var shown = 0;
      var first = null;
      options.forEach(function (option) {
        var match = !wanted || option.dataset.words.indexOf(wanted) !== -1;
        option.hidden = !match;
        if (match) { shown += 1; if (!first) first = option; }
      });
      select.querySelectorAll("optgroup").forEach(function (group) {
        group.hidden = !group.querySelector("option:not([hidden])");
      });
      // Typing a city picks it: the first match, unless the chosen zone still matches.
      if (first && select.selectedOptions[0] && select.selectedOptions[0].hidden) {
        select.value = first.value;
      }
      count.textContent = !wanted ? "" :
        shown ? count.dataset.some.replace("{n}", String(shown)) : count.dataset.none;
    });
    if (form && form.dataset.fresh && select.value === "America/Denver") {
      try {
        var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
        if (zone && options.some(function (o) { return o.value === zone; })) select.value = zone;
      } catch (e) { /* keep the default (MT) */ }
    }
  }

  // Manage page: say at once that nothing will be sent when every box is unticked.
  var manage = document.getElementById("manage-form");
  var note = document.getElementById("nothing-note");
  if (manage && note) {
    var boxes = manage.querySelectorAll(".platform-choices input[type='checkbox']");
    var update = function () {
      var any = Array.prototype.some.call(boxes, function (box) { return box.checked; });
      note.textContent = any ? "" : note.dataset.message;
    };
    boxes.forEach(function (box) { box.addEventListener("change", update); });
  }
})();
