// Start GOV.UK Frontend's components, again after htmx swaps a page in (boosted links).
import { initAll } from "./govuk/govuk-frontend-6.6.0.min.js";

const quiet = { onError: () => {} }; // a component already started says so: nothing to do
initAll(quiet);
document.addEventListener("htmx:afterSettle", () => initAll(quiet));
