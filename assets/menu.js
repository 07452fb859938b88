// The header's Menu button on narrow screens (portal_app/components/layout.py, _menu_header): opens and closes the
// menu it names in aria-controls and says so in aria-expanded. Escape closes an open menu and puts the focus back
// on its button; following a link in the menu closes it. Listens on the document, so it works on every page from
// the first paint, before the page's own scripts have started.
(function () {
  "use strict";

  function setOpen(button, open) {
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) return;
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) menu.setAttribute("data-open", "");
    else menu.removeAttribute("data-open");
  }

  function openButton() {
    return document.querySelector('[data-menu-toggle][aria-expanded="true"]');
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    var button = target.closest("[data-menu-toggle]");
    if (button) {
      setOpen(button, button.getAttribute("aria-expanded") !== "true");
      return;
    }
    var open = openButton();
    if (open && target.closest(".header-menu a")) setOpen(open, false);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = openButton();
    if (!open) return;
    setOpen(open, false);
    open.focus();
  });
})();
