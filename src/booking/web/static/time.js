// Times shown in the chosen zone by the browser's Intl; nothing computed by hand, so a DST day shows
// exactly the instants the API returned.

const formats = new Map();

function format(zone, options) {
  const key = zone + JSON.stringify(options);
  if (!formats.has(key)) formats.set(key, new Intl.DateTimeFormat("en-GB", { timeZone: zone, ...options }));
  return formats.get(key);
}

export function hhmm(instant, zone) {
  return format(zone, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(instant));
}

export function dayAndTime(instant, zone) {
  const day = format(zone, { weekday: "short", day: "numeric", month: "short" }).format(new Date(instant));
  return `${day}, ${hhmm(instant, zone)}`;
}

// "12 Mar 2026": the date of an instant in a zone, for a package's last day.
export function dayMonthYear(instant, zone) {
  return format(zone, { day: "numeric", month: "short", year: "numeric" }).format(new Date(instant));
}

// YYYY-MM-DD of an instant in a zone.
export function localDate(instant, zone) {
  const parts = format(zone, { year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(new Date(instant));
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part("year")}-${part("month")}-${part("day")}`;
}

export function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export function zoneNames(preferred) {
  const names = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const all = new Set([...names, "UTC", preferred]);
  return [...all].sort();
}
