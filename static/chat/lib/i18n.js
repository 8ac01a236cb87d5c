/*
 * Translation. Django's JavaScript catalog (loaded by the page before its module)
 * defines gettext, ngettext and interpolate; without it (Node's tests) the English
 * text is used. `makemessages` extracts the calls t(), tf() and nt() by these names
 * (chat/management/commands/makemessages.py): keep them, and pass literal strings.
 */

function catalog(name) {
  const fn = globalThis[name];
  return typeof fn === "function" ? fn : null;
}

export function t(msgid) {
  const gettext = catalog("gettext");
  return gettext ? gettext(msgid) : msgid;
}

function interpolateNamed(fmt, values) {
  return String(fmt).replace(/%\(([A-Za-z0-9_]+)\)s/g, (whole, key) =>
    Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole
  );
}

// A translated text with named placeholders: tf("%(name)s is typing…", {name}).
export function tf(fmt, values) {
  const translated = t(fmt);
  const interpolate = catalog("interpolate");
  return interpolate
    ? interpolate(translated, values || {}, true)
    : interpolateNamed(translated, values || {});
}

export function nt(singular, plural, n) {
  const ngettext = catalog("ngettext");
  if (ngettext) {
    return ngettext(singular, plural, n);
  }
  return n === 1 ? singular : plural;
}

// The page's language (<html lang>), for dates and numbers; undefined when unset.
export function locale() {
  return (globalThis.document && globalThis.document.documentElement.lang) || undefined;
}
