// bangfu's pages work without this script; it only makes them quicker to use.
// - [data-check-all=NAME]: a checkbox that checks or clears every checkbox named NAME in its form.
// - form[data-confirm]: asks before submitting.
// - form[data-busy]: on submit, disables its buttons and shows the text of data-busy (large uploads).
"use strict";
document.addEventListener("change", function (e) {
  var t = e.target;
  if (t.matches && t.matches("[data-check-all]")) {
    var boxes = t.form.querySelectorAll('input[type=checkbox][name="' + t.getAttribute("data-check-all") + '"]');
    boxes.forEach(function (b) { b.checked = t.checked; });
  }
});
document.addEventListener("submit", function (e) {
  var f = e.target;
  if (f.hasAttribute("data-confirm") && !window.confirm(f.getAttribute("data-confirm"))) {
    e.preventDefault();
    return;
  }
  if (f.hasAttribute("data-busy")) {
    f.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    var s = f.querySelector(".busy");
    if (s) { s.textContent = f.getAttribute("data-busy"); s.hidden = false; }
  }
});
