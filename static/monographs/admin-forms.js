/* The formulary's admin forms. A static file: the Content-Security-Policy allows no
   inline script.
   - Errors in view: after a refused save, the first invalid field (named in the message at the
     top of the form) is scrolled to and focused.
   - No lost edits: while the entry form has unsaved changes, the separate "submit the saved
     version" form refuses to submit (it would send the old version) and says why, and leaving
     the page asks first. */
(function () {
  "use strict";

  function firstErrorInView() {
    var note = document.querySelector(".first-error[data-field]");
    var field = note && document.getElementById(note.getAttribute("data-field"));
    if (!field) {
      return;
    }
    // A field in a collapsed fieldset (or folded inline) is opened first.
    var details = field.closest("details");
    if (details) {
      details.open = true;
    }
    field.scrollIntoView({ block: "center" });
    field.focus({ preventScroll: true });
  }

  // A refusal, a decision's errors or an error message: at the top of the page, scrolled to and
  // focused (its role="alert" has it announced), unless a save's first invalid field took focus.
  function alertInView() {
    if (document.querySelector(".first-error[data-field]")) {
      return;
    }
    var target = document.querySelector("[data-focus-on-load]") ||
      document.querySelector(".messagelist [role=alert]");
    // After a restore the entry opens at its submit step: the submit button has focus.
    var step = window.location.hash === "#submit-step" && document.querySelector("#submit-step button");
    if (!target && step) {
      step.scrollIntoView({ block: "center" });
      step.focus({ preventScroll: true });
      return;
    }
    if (!target) {
      return;
    }
    if (!target.hasAttribute("tabindex")) {
      target.setAttribute("tabindex", "-1");
    }
    target.scrollIntoView({ block: "start" });
    target.focus({ preventScroll: true });
  }

  // The approve button says what it does: publish now, or go live at the time typed (ISO,
  // Hong Kong time), updated while the reviewer types.
  function approveLabel() {
    var button = document.querySelector("button.decision-approve[data-label-now]");
    var input = document.querySelector("input[name=go_live_at]");
    if (!button || !input) {
      return;
    }
    var months = button.getAttribute("data-months").split(",");
    function update() {
      var m = /^\s*(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})\s*$/.exec(input.value);
      if (!m || +m[2] < 1 || +m[2] > 12) {
        button.textContent = button.getAttribute("data-label-now");
        return;
      }
      var when = button.getAttribute("data-when-pattern")
        .replace("{day}", String(+m[3]))
        .replace("{month}", months[+m[2] - 1])
        .replace("{monthnum}", String(+m[2]))
        .replace("{time}", m[4] + ":" + m[5]);
      button.textContent = button.getAttribute("data-label-later").replace("{when}", when);
    }
    input.addEventListener("input", update);
    if (input.value) {
      update();
    }
  }

  // The entry's screen in folded panels (templates/admin/monographs/entry/change_form.html):
  // the jump list opens the panel it names; a panel with an error opens by itself; a panel edited
  // since the page opened is marked "changed", in its title and in the jump list.
  function panels() {
    var form = document.querySelector("form#entry_form");
    if (!form || !document.querySelector("details.panel")) {
      return;
    }
    function openPanel(id, focus) {
      var panel = document.getElementById(id);
      if (!panel || panel.tagName !== "DETAILS") {
        return;
      }
      panel.open = true;
      panel.scrollIntoView({ block: "start" });
      if (focus) {
        panel.querySelector("summary").focus({ preventScroll: true });
      }
    }
    document.querySelectorAll(".panel-list a[href^='#panel-']").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var id = link.getAttribute("href").slice(1);
        openPanel(id, true);
      });
    });
    if (window.location.hash.indexOf("#panel-") === 0) {
      openPanel(window.location.hash.slice(1), false);
    }
    var openAll = document.querySelector(".panels-open-all");
    var closeAll = document.querySelector(".panels-close-all");
    if (openAll) {
      openAll.addEventListener("click", function () {
        document.querySelectorAll("details.panel").forEach(function (d) { d.open = true; });
      });
    }
    if (closeAll) {
      closeAll.addEventListener("click", function () {
        document.querySelectorAll("details.panel").forEach(function (d) { d.open = false; });
      });
    }
    document.querySelectorAll("details.panel").forEach(function (panel) {
      if (panel.querySelector(".errorlist li, .errors")) {
        panel.open = true;
      }
    });
    function markChanged(event) {
      var target = event.target;
      if (!target || target.type === "hidden") {
        return;
      }
      var panel = target.closest("details.panel");
      if (!panel || panel.classList.contains("panel-changed")) {
        return;
      }
      panel.classList.add("panel-changed");
      var mark = panel.querySelector("summary .panel-changed-mark");
      if (mark) {
        mark.hidden = false;
      }
      var listed = document.querySelector(".panel-list .panel-changed-mark[data-panel='" + panel.id + "']");
      if (listed) {
        listed.hidden = false;
      }
    }
    form.addEventListener("input", markChanged);
    form.addEventListener("change", markChanged);
  }

  // English and Chinese side by side: opening the view copies the texts as they are in the fields
  // and records that both were shown (the hidden field the "checked" tick needs).
  function sideBySide() {
    document.querySelectorAll("details.side-by-side").forEach(function (details) {
      details.addEventListener("toggle", function () {
        if (!details.open) {
          return;
        }
        details.querySelectorAll(".sbs-text[data-source]").forEach(function (box) {
          var source = document.getElementById(box.getAttribute("data-source"));
          if (source) {
            box.textContent = source.value;
          }
        });
        var shown = details.querySelector("input[type=hidden]");
        if (shown) {
          shown.value = "1";
        }
      });
    });
  }

  // The translation badge says what saving will do, while the editor types: changed English makes
  // the Chinese outdated; changed Chinese, or the "checked" tick, makes it up to date.
  function liveBadges() {
    var strings = document.getElementById("translation-strings");
    if (!strings) {
      return;
    }
    function watch(container, english, chinese, tick, badge) {
      if (!badge || !chinese.length) {
        return;
      }
      var initial = { html: badge.innerHTML };
      var start = english.concat(chinese).map(function (el) { return el.value; });
      function update() {
        var now = english.concat(chinese).map(function (el) { return el.value; });
        var englishChanged = english.some(function (el, i) { return now[i] !== start[i]; });
        var chineseChanged = chinese.some(function (el, i) { return now[english.length + i] !== start[english.length + i]; });
        var hasChinese = chinese.some(function (el) { return el.value.trim() !== ""; });
        var text = null;
        var kind = null;
        if (hasChinese && chineseChanged) {
          text = strings.getAttribute("data-current");
          kind = "current";
        } else if (hasChinese && tick && tick.checked) {
          text = strings.getAttribute("data-checked");
          kind = "current";
        } else if (hasChinese && englishChanged) {
          text = strings.getAttribute("data-outdated");
          kind = "stale";
        }
        if (text === null) {
          badge.innerHTML = initial.html;
          return;
        }
        badge.innerHTML = "";
        var span = document.createElement("span");
        span.className = "translation-badge translation-" + kind + " translation-pending";
        span.textContent = text;
        badge.appendChild(span);
      }
      container.addEventListener("input", update);
      container.addEventListener("change", update);
    }
    document.querySelectorAll(".entry-sections .djn-inline-form").forEach(function (item) {
      function field(suffix) {
        return item.querySelector("[name$='-" + suffix + "']");
      }
      var english = [field("heading"), field("body")].filter(Boolean);
      var chinese = [field("heading_zh"), field("body_zh")].filter(Boolean);
      var badge = item.querySelector(".fieldBox.field-translation_shown .translation-badge");
      var shown = badge && badge.parentNode;
      watch(item, english, chinese, field("translation_checked"), shown);
    });
    var form = document.querySelector("form#entry_form");
    var boxed = form && form.querySelector("[name=boxed_warning]");
    var boxedZh = form && form.querySelector("[name=boxed_warning_zh]");
    var boxedBadge = form && form.querySelector(".field-boxed_warning_translation_shown .translation-badge");
    if (boxed && boxedZh) {
      watch(form, [boxed], [boxedZh], form.querySelector("[name=boxed_warning_checked]"),
        boxedBadge && boxedBadge.parentNode);
    }
  }

  function serialise(form) {
    var parts = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken" && typeof value === "string") {
        parts.push(name + "=" + value);
      }
    });
    return parts.join("&");
  }

  function guardUnsavedChanges() {
    var form = document.querySelector("form#entry_form, form#product_form");
    if (!form) {
      return;
    }
    var initial = serialise(form);
    var typed = false;
    var leaving = false;
    form.addEventListener("input", function () { typed = true; });
    form.addEventListener("change", function () { typed = true; });
    form.addEventListener("submit", function () { leaving = true; });

    function dirty() {
      return typed && serialise(form) !== initial;
    }

    window.addEventListener("beforeunload", function (event) {
      if (!leaving && dirty()) {
        event.preventDefault();
        event.returnValue = "";
      }
    });

    var submitSaved = document.querySelector("form.submit-saved");
    if (submitSaved) {
      submitSaved.addEventListener("submit", function (event) {
        if (!dirty()) {
          leaving = true;
          return;
        }
        event.preventDefault();
        var warning = document.querySelector(".unsaved-warning");
        if (warning) {
          warning.textContent = submitSaved.getAttribute("data-unsaved-message");
          warning.hidden = false;
        }
        var button = form.querySelector("input[name=_saveandsubmit]");
        if (button) {
          button.scrollIntoView({ block: "center" });
          button.focus({ preventScroll: true });
        }
      });
    }
  }

  function start() {
    firstErrorInView();
    alertInView();
    approveLabel();
    panels();
    sideBySide();
    liveBadges();
    guardUnsavedChanges();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
