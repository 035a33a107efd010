// Staff pages, progressive enhancement only: every form works without this file.
// - A message-template select (data-templates: {key: {language: text}}, data-fills:
//   {language: textarea id}) fills the message and its versions in the other languages as
//   soon as a template is chosen, so the "Use template" round trip is not needed.
// - A form's error summary (#error-summary) takes the focus, so the reader starts at it.
// - A page with data-refresh (the dashboard) refreshes its [data-refresh-part] sections at
//   every minute's turn (deadlines are whole minutes, so an overdue clock turns red the
//   minute it is due), while the tab is visible and nothing is being typed; a button
//   pauses it.
// - An upload form (data-upload-progress) is sent with XMLHttpRequest so its progress can be
//   shown; a file over the input's data-max-bytes is refused before uploading. The answer
//   (the preview, or the form with its errors) replaces the page's main content.
// - A form with data-busy says so while the server works (the import itself), and cannot be
//   sent twice.
(function () {
  "use strict";

  function templates(root) {
    root.querySelectorAll("select[data-templates][data-fills]").forEach(function (select) {
      var texts = JSON.parse(select.getAttribute("data-templates"));
      var fills = JSON.parse(select.getAttribute("data-fills"));
      var first = document.getElementById(fills.en);
      if (!first) return;
      var button = select.parentNode.querySelector('button[name="use_template"]');
      if (button) button.hidden = true;
      select.addEventListener("change", function () {
        var chosen = texts[select.value];
        if (!chosen) return;
        Object.keys(fills).forEach(function (language) {
          var target = document.getElementById(fills[language]);
          if (target && chosen[language] !== undefined) target.value = chosen[language];
        });
        first.focus();
      });
    });
  }

  function errorSummary(root) {
    var summary = root.querySelector("#error-summary");
    if (summary) summary.focus();
  }

  function refresher() {
    var page = document.querySelector("[data-refresh]");
    if (!page || !window.fetch || !window.DOMParser) return;
    var control = page.querySelector("[data-refresh-control]");
    var toggle = control && control.querySelector("button");
    var paused = false;
    if (control) control.hidden = false;
    if (toggle) {
      toggle.addEventListener("click", function () {
        paused = !paused;
        toggle.textContent = toggle.getAttribute(paused ? "data-resume" : "data-pause");
        toggle.setAttribute("aria-pressed", paused ? "true" : "false");
      });
    }
    function typing() {
      var active = document.activeElement;
      return active && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName);
    }
    function refresh() {
      if (paused || document.hidden || typing()) return schedule();
      fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html) return;
          var doc = new DOMParser().parseFromString(html, "text/html");
          document.querySelectorAll("[data-refresh-part]").forEach(function (part) {
            var fresh = doc.getElementById(part.id);
            if (fresh) part.innerHTML = fresh.innerHTML;
          });
          var stamp = page.querySelector("[data-refreshed]");
          var freshStamp = doc.querySelector("[data-refreshed]");
          if (stamp && freshStamp) stamp.textContent = freshStamp.textContent;
        })
        .catch(function () {})
        .then(schedule);
    }
    function schedule() {
      var now = new Date();
      // One second into the next minute: the server's deadlines are whole minutes.
      var wait = (60 - now.getSeconds()) * 1000 - now.getMilliseconds() + 1000;
      window.setTimeout(refresh, wait);
    }
    schedule();
  }

  function busy(root) {
    root.querySelectorAll("form[data-busy]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
        form.setAttribute("data-sent", "1");
        var status = form.querySelector(".busy");
        if (status) status.textContent = form.getAttribute("data-busy");
        form.querySelectorAll("button[type=submit]").forEach(function (b) {
          // Disabled after this event, so the button's own value still goes with the form.
          setTimeout(function () { b.disabled = true; }, 0);
        });
      });
    });
  }

  function replaceMain(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.querySelector("main");
    var main = document.querySelector("main");
    if (!fresh || !main) return false;
    main.innerHTML = fresh.innerHTML;
    if (doc.title) document.title = doc.title;
    enhance(main);
    var heading = main.querySelector("[role=status], .error, h2, h1");
    if (heading) {
      if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
    return true;
  }

  function uploads(root) {
    root.querySelectorAll("form[data-upload-progress]").forEach(function (form) {
      if (!window.XMLHttpRequest || !window.FormData || !window.DOMParser) return;
      var input = form.querySelector("input[type=file]");
      var box = form.querySelector(".upload-progress");
      var bar = box && box.querySelector("progress");
      var status = box && box.querySelector(".upload-status");
      form.addEventListener("submit", function (event) {
        var file = input && input.files && input.files[0];
        var max = input ? parseInt(input.getAttribute("data-max-bytes") || "0", 10) : 0;
        if (file && max && file.size > max) {
          event.preventDefault();
          if (box && status) { box.hidden = false; bar.hidden = true; status.textContent = input.getAttribute("data-too-large"); }
          input.setAttribute("aria-invalid", "true");
          input.focus();
          return;
        }
        if (!file || !box) return;  // nothing to show: let the browser send it
        event.preventDefault();
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.getAttribute("action") || window.location.href);
        box.hidden = false;
        bar.hidden = false;
        bar.value = 0;
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
        xhr.upload.addEventListener("progress", function (e) {
          if (!e.lengthComputable) return;
          var percent = Math.round((e.loaded / e.total) * 100);
          bar.value = percent;
          status.textContent = percent + " %";
        });
        xhr.upload.addEventListener("load", function () {
          bar.removeAttribute("value");  // indeterminate while the server checks the rows
          status.textContent = status.getAttribute("data-checking") || "…";
        });
        xhr.addEventListener("load", function () {
          if (!replaceMain(xhr.responseText)) { form.submit(); }
        });
        xhr.addEventListener("error", function () { form.submit(); });
        xhr.send(new FormData(form));
      });
    });
  }

  function enhance(root) {
    templates(root);
    busy(root);
    uploads(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    errorSummary(document);
    refresher();
  });
  // Back to a page from the browser's cache: its forms may be sent again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      form.removeAttribute("data-sent");
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
      var status = form.querySelector(".busy");
      if (status) status.textContent = "";
    });
  });
})();
