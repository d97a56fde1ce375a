// bangfu's pages work without this script; it only makes them quicker to use.
// - [data-check-all=NAME]: a checkbox that checks or clears every checkbox named NAME in its form.
// - form[data-confirm]: asks before submitting.
// - form[data-busy]: on submit, disables its buttons and shows the text of data-busy (large uploads).
// - form[data-proof-rules=ID]: marks the row of table ID (tr[data-code]) for the destination code chosen,
//   and writes what it needs into the form's [data-rule-hint].
// - .js-only: shown only when this script runs (html gets the class "js").
"use strict";
document.documentElement.classList.add("js");
function markProofRule(f) {
  var rules = document.getElementById(f.getAttribute("data-proof-rules"));
  var code = f.elements.code ? f.elements.code.value : "";
  if (!rules) { return; }
  var hint = f.querySelector("[data-rule-hint]");
  var text = "";
  rules.querySelectorAll("tr[data-code]").forEach(function (r) {
    var on = r.getAttribute("data-code") === code;
    r.classList.toggle("current", on);
    if (on && r.cells.length > 1) { text = r.cells[1].textContent; }
  });
  if (hint) { hint.textContent = text.replace(/\s+/g, " ").trim(); }
}
document.querySelectorAll("form[data-proof-rules]").forEach(markProofRule);
document.addEventListener("change", function (e) {
  var f = e.target.form;
  if (f && f.hasAttribute("data-proof-rules") && e.target.name === "code") { markProofRule(f); }
});
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
