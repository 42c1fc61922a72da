// The page's language. The server chose it (`?lang=`, the browser's languages, the brand's) and wrote the
// page in it; the config block carries that catalogue and where the others are. `t()` writes a text,
// `applyTexts()` rewrites every element marked `data-i18n…` (as the server did), and the Language select
// switches in place. Counted texts choose by `Intl.PluralRules`; dates and money use `Intl` in the locale.

// The right-to-left languages (as RIGHT_TO_LEFT in booking/i18n.py).
const RIGHT_TO_LEFT = ["ar"];

let locale = "en";
let entries = {};
let plurals = new Intl.PluralRules("en");
const listeners = [];

function flatten(catalogue) {
  const flat = {};
  for (const [section, keys] of Object.entries(catalogue)) {
    for (const [key, entry] of Object.entries(keys)) flat[`${section}.${key}`] = entry;
  }
  return flat;
}

export function useCatalogue(code, catalogue) {
  locale = code;
  entries = flatten(catalogue);
  plurals = new Intl.PluralRules(code);
  document.documentElement.lang = code;
  document.documentElement.dir = RIGHT_TO_LEFT.includes(code) ? "rtl" : "ltr";
}

export function currentLocale() {
  return locale;
}

// The text of `key`, its `{name}` placeholders filled from `values`; a counted text by `values.count`.
export function t(key, values = {}) {
  let entry = entries[key];
  if (entry === undefined) return key; // a missing key shows itself: the catalogue tests catch it first
  if (typeof entry !== "string") entry = entry[plurals.select(values.count)] ?? entry.other;
  return entry.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

const ATTRIBUTES = { "data-i18n-placeholder": "placeholder", "data-i18n-aria-label": "aria-label", "data-i18n-title": "title" };

// Every marked element under `root`: `data-i18n` its text, `data-i18n-placeholder` (…) an attribute;
// `data-i18n-values` holds the placeholders' values as JSON.
export function applyTexts(root = document) {
  const selector = ["[data-i18n]", ...Object.keys(ATTRIBUTES).map((name) => `[${name}]`)].join(",");
  for (const node of root.querySelectorAll(selector)) {
    const values = node.dataset.i18nValues ? JSON.parse(node.dataset.i18nValues) : {};
    if (node.dataset.i18n) node.textContent = t(node.dataset.i18n, values);
    for (const [marker, attribute] of Object.entries(ATTRIBUTES)) {
      const key = node.getAttribute(marker);
      if (key) node.setAttribute(attribute, t(key, values));
    }
  }
}

// Called after every switch, for what a page wrote out itself (lists, verdicts, prices).
export function onLocaleChange(listener) {
  listeners.push(listener);
}

// The Language select (`#language`, written by the server with each language named in itself).
export function wireLanguageSelect(urls) {
  const select = document.getElementById("language");
  select.value = locale;
  select.addEventListener("change", async () => {
    const code = select.value;
    const response = await fetch(urls[code]);
    if (!response.ok) return;
    useCatalogue(code, await response.json());
    applyTexts();
    const address = new URL(location.href);
    address.searchParams.set("lang", code); // a reload (or a shared link) keeps the choice
    history.replaceState(null, "", address.pathname + address.search);
    for (const listener of listeners) listener(code);
  });
}

// The config block's catalogue, its texts applied; the select wired to fetch the others.
export function startLanguage(config) {
  useCatalogue(config.locale, config.catalogue);
  wireLanguageSelect(config.catalogueUrls);
}

// An API error in the page's language, by its code (the API's own messages stay English).
export function errorText(error) {
  const key = `error.${error.code}`;
  return key in entries ? t(key, { status: error.status }) : t("error.other", { status: error.status });
}
