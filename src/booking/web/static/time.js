// Times shown in the chosen zone by the browser's Intl; nothing computed by hand, so a DST day shows
// exactly the instants the API returned. Dates, weekdays and months are written in the page's language
// (`currentLocale()`); times of day are always 24-hour `HH:MM` in ASCII digits, in every language
// (Arabic included), as the slot buttons' names begin with them.

import { currentLocale } from "./i18n.js";

const formats = new Map();

// The Intl locale of a page locale's dates: English ones are written the international (British) way, the
// day before the month ("Mon 14 Dec"); every other locale as Intl writes it.
function dateLocale(locale) {
  return locale === "en" ? "en-GB" : locale;
}

function format(zone, options, locale = "en-GB") {
  const key = `${locale} ${zone} ${JSON.stringify(options)}`;
  if (!formats.has(key)) formats.set(key, new Intl.DateTimeFormat(locale, { timeZone: zone, ...options }));
  return formats.get(key);
}

const TIME = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", numberingSystem: "latn" };

export function hhmm(instant, zone) {
  return format(zone, TIME).format(new Date(instant));
}

// "Mon 14 Dec, 18:00", "Mo., 14. Dez., 18:00", "12月14日(月) 18:00": the locale's own way of writing a day
// with a time, the time in it being hhmm()'s.
export function dayAndTime(instant, zone, locale = currentLocale()) {
  const options = { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  const parts = format(zone, options, dateLocale(locale)).formatToParts(new Date(instant));
  const first = parts.findIndex((p) => p.type === "hour");
  const last = parts.findLastIndex((p) => p.type === "minute");
  if (first < 0 || last < first) return `${weekdayDate(instant, zone, locale)} ${hhmm(instant, zone)}`;
  const text = (list) => list.map((p) => p.value).join("");
  return `${text(parts.slice(0, first))}${hhmm(instant, zone)}${text(parts.slice(last + 1))}`;
}

// "Mon 14 Dec": the day of an instant in a zone, with its weekday.
export function weekdayDate(instant, zone, locale = currentLocale()) {
  return format(zone, { weekday: "short", day: "numeric", month: "short" }, dateLocale(locale)).format(new Date(instant));
}

// "14 Dec 2026": the date of an instant in a zone, for a package's last day.
export function dayMonthYear(instant, zone, locale = currentLocale()) {
  return format(zone, { day: "numeric", month: "short", year: "numeric" }, dateLocale(locale)).format(new Date(instant));
}

// YYYY-MM-DD of an instant in a zone.
export function localDate(instant, zone) {
  const options = { year: "numeric", month: "2-digit", day: "2-digit", numberingSystem: "latn" };
  const parts = format(zone, options).formatToParts(new Date(instant));
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part("year")}-${part("month")}-${part("day")}`;
}

export function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

// The zones to choose from: Intl's canonical names (no old aliases such as "US/Eastern"), each with its
// offset from UTC now, ordered by that offset: "(UTC+01:00) Europe/Berlin". In a right-to-left page each
// label is isolated as left-to-right text, so that its parentheses and offset are not reordered.
export function zoneChoices(preferred, rightToLeft = false) {
  const names = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const now = new Date();
  const isolate = (text) => (rightToLeft ? `\u2066${text}\u2069` : text);
  return [...new Set([...names, "UTC", preferred])]
    .map((name) => ({ name, minutes: offsetMinutes(name, now) }))
    .sort((a, b) => a.minutes - b.minutes || a.name.localeCompare(b.name))
    .map(({ name, minutes }) => ({ name, label: isolate(`(UTC${offsetText(minutes)}) ${name}`) }));
}

function offsetMinutes(zone, instant) {
  const parts = format(zone, { timeZoneName: "longOffset" }).formatToParts(instant);
  const text = parts.find((p) => p.type === "timeZoneName").value; // "GMT+05:30", or "GMT" for zero
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(text);
  return match ? (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0;
}

function offsetText(minutes) {
  const sign = minutes < 0 ? "-" : "+";
  const whole = Math.abs(minutes);
  return `${sign}${String(Math.floor(whole / 60)).padStart(2, "0")}:${String(whole % 60).padStart(2, "0")}`;
}
