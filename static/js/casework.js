// Enhancements only: every page works without this script.
(function () {
  "use strict";

  // Move keyboard focus to a form's error summary, so it is read out first.
  function focusErrors() {
    var summary = document.querySelector("[data-focus]");
    if (summary) { summary.focus(); }
  }

  // Fields that apply only for some values of another field (e.g. protected classes,
  // for harassment) are hidden while they do not apply; the server checks the rule anyway.
  function conditionalFields() {
    var fields = document.querySelectorAll("[data-only-when]");
    Array.prototype.forEach.call(fields, function (field) {
      var rules;
      try { rules = JSON.parse(field.getAttribute("data-only-when")); } catch (e) { return; }
      var form = field.closest("form");
      if (!form) { return; }
      function applies() {
        return Object.keys(rules).every(function (name) {
          var inputs = form.querySelectorAll('[name="' + name + '"]');
          var values = [];
          Array.prototype.forEach.call(inputs, function (input) {
            if ((input.type === "radio" || input.type === "checkbox")) {
              if (input.checked) { values.push(input.value); }
            } else if (input.value) { values.push(input.value); }
          });
          return values.some(function (v) { return rules[name].indexOf(v) !== -1; });
        });
      }
      function update() {
        // A ticked box stays in sight (an <option> matches :checked too, so inputs only).
        var show = applies() || field.querySelector("input:checked");
        field.hidden = !show;
      }
      form.addEventListener("change", update);
      form.addEventListener("input", update);
      update();
    });
  }

  // The menu and the search filters fold behind a button on a phone; on a wider screen they
  // start open (without this script the button opens them there too).
  function openWhenWide() {
    if (!window.matchMedia || !window.matchMedia("(min-width: 40em)").matches) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("details[data-open-wide]"), function (d) {
      d.open = true;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    openWhenWide();
    focusErrors();
    conditionalFields();
  });
})();
