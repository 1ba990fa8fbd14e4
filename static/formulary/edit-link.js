// "Edit this entry" for a signed-in editor, without making the public page differ per visitor:
// the page carries an empty placeholder; only when the admin has set the editor marker cookie
// does this ask the server (which checks the session) for the admin address.
(function () {
  "use strict";
  var holder = document.querySelector("[data-edit-link]");
  if (!holder || document.cookie.split("; ").indexOf("formulary_editor=1") === -1) {
    return;
  }
  fetch(holder.getAttribute("data-edit-link"), { credentials: "same-origin" })
    .then(function (response) { return response.status === 200 ? response.json() : null; })
    .then(function (data) {
      if (!data || !data.url) {
        return;
      }
      var link = document.createElement("a");
      link.href = data.url;
      link.className = "button";
      link.textContent = holder.getAttribute("data-label");
      holder.appendChild(link);
      holder.hidden = false;
    })
    .catch(function () {});
})();
