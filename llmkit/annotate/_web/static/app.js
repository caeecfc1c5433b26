// llmkit annotate: CSRF header for htmx, and the rating page's keyboard.
// Served as a file: the Content-Security-Policy forbids inline script.
"use strict";

(function () {
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = token;
  });

  var form = document.getElementById("rate-form");
  if (!form) return;
  var dims = Array.prototype.slice.call(form.querySelectorAll("fieldset.dim"));
  var active = 0;

  function activate(index) {
    if (!dims.length) return;
    active = (index + dims.length) % dims.length;
    dims.forEach(function (d, i) { d.classList.toggle("active", i === active); });
    // Never focus the comment box here: Enter must still submit. C (or a click) types in it.
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    dims[active].scrollIntoView({ block: "nearest" });
  }

  function pick(key) {
    var dim = dims[active];
    var input = dim && dim.querySelector('input[type="radio"][data-key="' + CSS.escape(key) + '"]');
    if (!input) return false;
    input.checked = true;
    activate(active + 1 < dims.length ? active + 1 : active);
    return true;
  }

  function inText(target) {
    return target && (target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type !== "radio") || target.tagName === "SELECT");
  }

  dims.forEach(function (d, i) {
    d.addEventListener("click", function () { active = i; dims.forEach(function (x, j) { x.classList.toggle("active", j === i); }); });
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) {
      if (event.key === "Enter" && event.ctrlKey) { event.preventDefault(); form.requestSubmit(); }
      return;
    }
    var target = event.target;
    if (inText(target)) {
      if (target.tagName === "TEXTAREA" && (event.key === "Escape" || event.key === "Tab")) {
        event.preventDefault();
        target.blur();
        activate(active + (event.key === "Tab" ? (event.shiftKey ? -1 : 1) : 0));
      }
      return;  // typing in a field: Enter submits that field's own form
    }
    var key = event.key;
    if (key === "Enter") { event.preventDefault(); form.requestSubmit(); return; }
    if (key === "Tab" || key === "ArrowDown" || key === "ArrowRight") {
      event.preventDefault(); activate(active + ((key === "Tab" && event.shiftKey) ? -1 : 1)); return;
    }
    if (key === "ArrowUp" || key === "ArrowLeft") { event.preventDefault(); activate(active - 1); return; }
    if (key === "?") {
      event.preventDefault();
      var guide = dims[active].querySelector("details.guide");
      if (guide) guide.open = !guide.open;
      return;
    }
    if (key === "S") {
      event.preventDefault();
      var box = document.getElementById("skip-box");
      box.open = true;
      document.getElementById("skip-reason").focus();
      return;
    }
    if (key === "P" || key === "N") {
      var link = document.getElementById(key === "P" ? "prev-link" : "next-link");
      if (link) { event.preventDefault(); window.location.assign(link.getAttribute("href")); }
      return;
    }
    if (key === "F") {
      event.preventDefault();
      var folds = document.querySelectorAll("details.fold");
      var open = Array.prototype.some.call(folds, function (d) { return !d.open; });
      folds.forEach(function (d) { d.open = open; });
      return;
    }
    if (key === "C") {
      for (var i = 0; i < dims.length; i++) {
        if (dims[i].getAttribute("data-type") === "comment") {
          event.preventDefault(); activate(i); dims[i].querySelector("textarea").focus(); return;
        }
      }
      return;
    }
    if (key.length === 1 && pick(key)) event.preventDefault();
  });

  activate(0);
})();
