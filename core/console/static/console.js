// Live regions: an element with data-live="URL" is refreshed from URL every few seconds,
// unless the run has finished (data-final) or the user is typing inside it. Without
// script, every page still works: reload to see the latest state.
(function () {
  "use strict";
  var PERIOD_MS = 1500;

  function liveRegion() { return document.getElementById("live"); }

  function poll() {
    var live = liveRegion();
    if (!live || live.getAttribute("data-final") === "true") { return; }
    if (document.hidden || live.contains(document.activeElement)) {
      window.setTimeout(poll, PERIOD_MS);
      return;
    }
    fetch(live.getAttribute("data-live"), { credentials: "same-origin",
                                           headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (text) {
        if (text) { swap(text); }
      })
      .catch(function () { /* offline for a moment: try again next period */ })
      .then(function () { window.setTimeout(poll, PERIOD_MS); });
  }

  function swap(text) {
    var live = liveRegion();
    var holder = document.createElement("template");
    holder.innerHTML = text.trim();
    var fresh = holder.content.getElementById("live");
    if (!live || !fresh || live.contains(document.activeElement)) { return; }
    if (fresh.getAttribute("data-version") === live.getAttribute("data-version")) { return; }
    live.replaceWith(fresh);
    if (fresh.getAttribute("data-final") === "true") {
      var zone = document.querySelector(".danger-zone");
      if (zone) { zone.hidden = true; }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { window.setTimeout(poll, PERIOD_MS); });
  } else {
    window.setTimeout(poll, PERIOD_MS);
  }
}());
