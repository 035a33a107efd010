// The status embed for other sites. On the host page:
//   <div data-status-embed data-platforms="calltower-connect"><a href="STATUS/">Status</a></div>
//   <script src="STATUS/embed.js" async></script>
// Each such element gets an iframe of STATUS/embed (optional data-platforms, data-lang,
// data-theme, data-accent, data-title), sized to its content from the frame's messages.
// The element's own content (the fallback link) stays until the frame has shown the status:
// the frame's first message is the proof, so a frame the browser refused, or one that never
// loads, leaves the link in place instead of an empty box.
// No inline script or style: the host's CSP needs this origin in script-src and frame-src.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var origin = new URL(script.src).origin;
  var OPTIONS = ["platforms", "lang", "theme", "accent"];
  var LANGUAGES = ["en", "es", "de"];
  var frames = [];

  function pageLanguage() {
    var lang = (document.documentElement.lang || "").toLowerCase().split("-")[0];
    return LANGUAGES.indexOf(lang) >= 0 ? lang : "";
  }

  function mount(host) {
    if (host.getAttribute("data-status-embed") === "mounted") return;
    host.setAttribute("data-status-embed", "mounted");
    var url = new URL("/embed", origin);
    OPTIONS.forEach(function (name) {
      var value = host.getAttribute("data-" + name);
      if (value) url.searchParams.set(name, value);
    });
    if (!url.searchParams.has("lang") && pageLanguage()) url.searchParams.set("lang", pageLanguage());
    var frame = document.createElement("iframe");
    frame.src = url.href;
    frame.title = host.getAttribute("data-title") || "Service status";
    frame.setAttribute("sandbox", "allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox");
    frame.style.display = "block";
    frame.style.width = "100%";
    frame.style.border = "0";
    // Loading: out of sight and taking no room, beside the fallback that is still shown.
    frame.style.height = "0";
    frame.style.visibility = "hidden";
    frame.setAttribute("aria-hidden", "true");
    frame.setAttribute("tabindex", "-1");
    frames.push(frame);
    host.appendChild(frame);
  }

  function shown(frame) {
    if (frame.style.visibility !== "hidden") return;
    var host = frame.parentNode;
    if (host) host.replaceChildren(frame);
    frame.style.visibility = "visible";
    frame.removeAttribute("aria-hidden");
    frame.removeAttribute("tabindex");
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== origin) return;
    var data = event.data;
    if (!data || data.type !== "status-embed:size" || typeof data.height !== "number") return;
    frames.forEach(function (frame) {
      if (frame.contentWindow === event.source) {
        frame.style.height = Math.min(Math.max(Math.ceil(data.height), 24), 5000) + "px";
        shown(frame);
      }
    });
  });

  function mountAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-status-embed]"), mount);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mountAll);
  } else {
    mountAll();
  }
})();
