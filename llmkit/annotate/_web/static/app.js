// llmkit annotate: CSRF header for htmx, and the rating page's keyboard.
// Served as a file: the Content-Security-Policy forbids inline script.
"use strict";

(function () {
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = token;
  });

  // R (on any page with messages): the raw text instead of the rendered Markdown, and back
  document.addEventListener("keydown", function (event) {
    var t = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (t && (t.tagName === "TEXTAREA" || t.tagName === "SELECT" || (t.tagName === "INPUT" && t.type !== "radio"))) return;
    var form = document.getElementById("rate-form");
    var active = form && form.querySelector("fieldset.dim.active");
    var usedHere = active && active.querySelector('input[type="radio"][data-key="r"]');
    if (event.key === "R" || (event.key === "r" && !usedHere)) {
      if (!document.querySelector(".md")) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      document.body.classList.toggle("show-raw");
    }
  }, true);

  var form = document.getElementById("rate-form");
  if (!form) return;
  var dims = Array.prototype.slice.call(form.querySelectorAll("fieldset.dim"));

  // A folded message must be opened once before the rating is sent: the first submit
  // unfolds whatever was never read and says so; the next one sends.
  var folds = Array.prototype.slice.call(document.querySelectorAll("details.fold"));
  folds.forEach(function (d) {
    d.addEventListener("toggle", function () { if (d.open) d.setAttribute("data-read", "1"); });
  });
  form.addEventListener("submit", function (event) {
    var unread = folds.filter(function (d) { return !d.open && !d.hasAttribute("data-read"); });
    if (!unread.length) return;
    event.preventDefault();
    unread.forEach(function (d) { d.open = true; d.setAttribute("data-read", "1"); });
    unread[0].scrollIntoView({ block: "start" });
    var note = document.getElementById("fold-note");
    if (note) note.hidden = false;
  });
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

  function pickDefault() {
    var dim = dims[active];
    var value = dim && dim.getAttribute("data-default");
    var input = value && dim.querySelector('input[type="radio"][value="' + CSS.escape(value) + '"]');
    if (!input) return false;
    input.checked = true;
    activate(active + 1 < dims.length ? active + 1 : active);
    return true;
  }

  function usesKey(key) {
    var dim = dims[active];
    return !!(dim && dim.querySelector('input[type="radio"][data-key="' + CSS.escape(key) + '"]'));
  }

  var conversation = document.querySelector("section.conversation");
  var SCROLL_KEYS = { " ": 0.85, PageDown: 0.85, PageUp: -0.85, End: Infinity, Home: -Infinity };

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
    if (target && target.id === "skip-reason" && (event.key === "Enter" || event.key === "Escape")) {
      event.preventDefault();
      if (event.key === "Enter") { document.getElementById("skip-form").requestSubmit(); return; }
      document.getElementById("skip-box").open = false;
      target.blur();
      activate(active);
      return;
    }
    if (inText(target)) {
      if (target.tagName === "TEXTAREA" && event.key === "Escape") {
        event.preventDefault();
        target.blur();
        activate(active);
      }
      return;  // typing in a field: Enter submits that field's own form
    }
    var key = event.key;
    // links and buttons keep their own keys: Tab reaches them, Enter follows them
    if (target && (target.tagName === "A" || target.tagName === "BUTTON" || target.tagName === "SUMMARY")) return;
    if (key === "Tab") return;
    if (key === "Enter") { event.preventDefault(); form.requestSubmit(); return; }
    if (conversation && Object.prototype.hasOwnProperty.call(SCROLL_KEYS, key)) {
      event.preventDefault();
      var step = SCROLL_KEYS[key] * (event.shiftKey && key === " " ? -1 : 1);
      if (step === Infinity) conversation.scrollTop = conversation.scrollHeight;
      else if (step === -Infinity) conversation.scrollTop = 0;
      else conversation.scrollBy(0, step * conversation.clientHeight);
      return;
    }
    if (key === "=") { event.preventDefault(); pickDefault(); return; }
    if (key === "ArrowDown" || key === "ArrowRight") {
      event.preventDefault(); activate(active + 1); return;
    }
    if (key === "ArrowUp" || key === "ArrowLeft") { event.preventDefault(); activate(active - 1); return; }
    if ("spnfc".indexOf(key) >= 0 && key.length === 1 && !usesKey(key)) key = key.toUpperCase();
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
      var all = document.querySelectorAll("details.fold");
      var open = Array.prototype.some.call(all, function (d) { return !d.open; });
      // marked read at once: the toggle event comes later, and Enter may come first
      all.forEach(function (d) { d.open = open; if (open) d.setAttribute("data-read", "1"); });
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
