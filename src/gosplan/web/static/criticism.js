// keeps the hidden target_kind field in step with the chosen target (no inline script: CSP)
document.getElementById("target").addEventListener("change", function () {
  var o = this.options[this.selectedIndex];
  if (o && o.dataset.kind) { document.getElementById("target-kind").value = o.dataset.kind; }
});
document.getElementById("target").dispatchEvent(new Event("change"));
