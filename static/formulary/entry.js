// The entry page at the counter (a file of its own: the pages allow no inline script).
// A jump to one strength (#strength-…, where a searched registration number or marking lands)
// opens the product it belongs to if that is folded, and scrolls so the product's name, status
// and column labels show below the sticky context bar, the row itself included. Before printing,
// every folded product is opened so the printout has all strengths.
(function () {
  "use strict";
  var bar = document.getElementById("context-bar");

  function barHeight() {
    return bar ? bar.getBoundingClientRect().height : 0;
  }

  function rememberBarHeight() {
    // Read by the stylesheet's scroll-margin-top, so ordinary jumps land below the bar too.
    document.documentElement.style.setProperty("--context-height", Math.ceil(barHeight()) + 8 + "px");
  }

  function pageTop(element) {
    return element.getBoundingClientRect().top + window.scrollY;
  }

  function reveal() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (!target) {
      return;
    }
    var folded = target.closest("details");
    if (folded && !folded.open) {
      folded.open = true;
    }
    if (!target.matches("tr[id^='strength-']")) {
      target.scrollIntoView();
      return;
    }
    var room = window.innerHeight - barHeight() - 16;
    var rowBottom = target.getBoundingClientRect().bottom + window.scrollY;
    var block = target.closest(".product-block");
    var table = target.closest("table");
    var head = table ? table.querySelector("thead") : null;
    // The widest context that still shows the row: the product's block, its table, the row.
    var candidates = [block, head, target].filter(Boolean);
    for (var i = 0; i < candidates.length; i += 1) {
      var top = pageTop(candidates[i]);
      if (rowBottom - top <= room || candidates[i] === target) {
        window.scrollTo(0, Math.max(0, top - barHeight() - 8));
        return;
      }
    }
  }

  rememberBarHeight();
  reveal();
  window.addEventListener("load", function () {
    rememberBarHeight();
    reveal();
  });
  window.addEventListener("resize", rememberBarHeight);
  window.addEventListener("hashchange", reveal);
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.product-block").forEach(function (details) {
      details.open = true;
    });
  });
})();
