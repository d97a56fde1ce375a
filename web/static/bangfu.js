// bangfu's pages work without this script; it only makes them quicker to use.
// - [data-check-all=NAME]: a checkbox that checks or clears every checkbox named NAME in its form.
// - form[data-confirm]: asks before submitting.
// - form[data-busy]: on submit, disables its buttons and shows the text of data-busy (large uploads).
// - select[data-rules=ID]: in the element ID, shows only the [data-rule] items of the chosen value (all of
//   them, and its [data-rule-intro], while nothing is chosen): the proof a destination code needs, in the
//   staff's and the graduate's destination forms alike.
// - .js-only: shown only when this script runs (html gets the class "js").
"use strict";
document.documentElement.classList.add("js");
function showRule(sel) {
  var box = document.getElementById(sel.getAttribute("data-rules"));
  if (!box) { return; }
  var v = sel.value;
  box.querySelectorAll("[data-rule]").forEach(function (item) { item.hidden = v !== "" && item.getAttribute("data-rule") !== v; });
  box.querySelectorAll("[data-rule-intro]").forEach(function (intro) { intro.hidden = v !== ""; });
}
document.querySelectorAll("select[data-rules]").forEach(showRule);
document.addEventListener("change", function (e) {
  var t = e.target;
  if (t.matches && t.matches("[data-check-all]")) {
    var boxes = t.form.querySelectorAll('input[type=checkbox][name="' + t.getAttribute("data-check-all") + '"]');
    boxes.forEach(function (b) { b.checked = t.checked; });
  }
  if (t.matches && t.matches("select[data-rules]")) {
    showRule(t);
  }
});
document.addEventListener("submit", function (e) {
  var f = e.target;
  if (f.hasAttribute("data-confirm") && !window.confirm(f.getAttribute("data-confirm"))) {
    e.preventDefault();
    return;
  }
  if (f.hasAttribute("data-busy")) {
    var s = f.querySelector(".busy");
    if (s) { s.textContent = f.getAttribute("data-busy"); s.hidden = false; }
    // After the browser has read the form: a button disabled now would
    // leave its name and value (the action pressed) out of the post.
    window.setTimeout(function () { f.querySelectorAll("button").forEach(function (b) { b.disabled = true; }); }, 0);
  }
});
