// What the booking page and the coach console share: building elements, money in its own minor unit,
// and signing in (a token from the address's fragment, or from an allowed embedding page).

import { currentLocale } from "./i18n.js";

export function element(tag, { dataset = {}, attributes = {}, ...properties } = {}, ...children) {
  const node = Object.assign(document.createElement(tag), properties);
  Object.assign(node.dataset, dataset); // `dataset` itself cannot be assigned
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

// Amounts come in the currency's smallest unit (cents; yen): Intl knows how many digits that unit has.
// Written as the page's language writes money ("€50.00", "50,00 €", "€ 50,00").
export function money(amount, currency, locale = currentLocale()) {
  const format = new Intl.NumberFormat(locale, { style: "currency", currency: currency.toUpperCase() });
  return format.format(amount / 10 ** format.resolvedOptions().maximumFractionDigits);
}

export function tokenFromFragment() {
  const token = new URLSearchParams(location.hash.slice(1)).get("access_token");
  if (token) {
    // As Supabase Auth's redirect leaves it; the address bar (and history) should not keep it.
    history.replaceState(null, "", location.pathname + location.search);
  }
  return token;
}

// An embedding page on one of `origins` may hand over a token; anyone else's messages are ignored.
export function listenForEmbedder(origins, signIn) {
  window.addEventListener("message", (event) => {
    if (!origins.includes(event.origin)) return;
    const data = event.data;
    if (data && data.type === "booking:token" && typeof data.token === "string") signIn(data.token);
  });
  if (window.parent !== window) window.parent.postMessage({ type: "booking:ready" }, "*");
}
