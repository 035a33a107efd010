// Inside the embed (/embed): apply the host's accent colour, and tell the host page how tall
// the content is so static/embed.js can size the iframe without a scroll bar. The message
// carries nothing but that height, so any parent may read it; which sites may frame the
// embed at all is the server's Content-Security-Policy (frame-ancestors).
(function () {
  "use strict";
  var root = document.documentElement;
  var accent = root.getAttribute("data-accent");
  if (accent && /^#[0-9a-f]{6}$/.test(accent)) root.style.setProperty("--embed-accent", accent);
  if (window.parent === window) return;
  var last = -1;
  function report() {
    var height = Math.ceil(document.body.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: "status-embed:size", height: height }, "*");
  }
  if (window.ResizeObserver) new ResizeObserver(report).observe(document.body);
  window.addEventListener("load", report);
  report();
})();
