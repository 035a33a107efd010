// Staff pages, progressive enhancement only: every form works without this file.
// - A message-template select (data-templates: {key: text}, data-fills: textarea id) fills
//   the message as soon as a template is chosen, so the "Use template" round trip is not needed.
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

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
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
