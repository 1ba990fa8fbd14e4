// Entry pages: the "Print this page" button, and the date of printing in the printout's running
// header, written as the page's language writes dates ("25 Nov 2026", "2026年11月25日", as the
// `day` template filter does). Kept out of the HTML so pages carry no inline script.
(function () {
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function written(date) {
    if (/^zh/i.test(document.documentElement.lang)) {
      return date.getFullYear() + "年" + (date.getMonth() + 1) + "月" + date.getDate() + "日";
    }
    return date.getDate() + " " + MONTHS[date.getMonth()] + " " + date.getFullYear();
  }

  function stampPrintDate() {
    var now = new Date();
    var iso = now.getFullYear() + "-" + String(now.getMonth() + 1).padStart(2, "0") + "-" +
      String(now.getDate()).padStart(2, "0");
    document.querySelectorAll("[data-print-date]").forEach(function (element) {
      element.textContent = written(now);
      element.setAttribute("datetime", iso);
    });
  }

  window.addEventListener("beforeprint", stampPrintDate);
  document.addEventListener("DOMContentLoaded", function () {
    stampPrintDate();
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  });
})();
