/* The formulary's admin forms (issue 12). A static file: the Content-Security-Policy allows no
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
    guardUnsavedChanges();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
