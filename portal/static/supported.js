// GOV.UK Frontend's template snippet, as a file (the site's CSP allows no inline script).
if (!document.body.classList.contains("js-enabled")) {
  document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
}
