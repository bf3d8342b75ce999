// Photos stay blurred until the analyst asks for one: click, or Enter/Space on the focused button.
// Pressing again blurs it back. Without this script every photo simply stays blurred.
document.addEventListener("click", function (event) {
  var button = event.target.closest("button.photo");
  if (!button) return;
  var revealed = button.getAttribute("aria-pressed") !== "true";
  button.setAttribute("aria-pressed", revealed ? "true" : "false");
  button.classList.toggle("revealed", revealed);
  var label = button.getAttribute("aria-label") || "";
  button.setAttribute("aria-label", revealed ? label.replace(/^Reveal/, "Blur") : label.replace(/^Blur/, "Reveal"));
});
