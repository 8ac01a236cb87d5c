/*
 * JSON values in localStorage or sessionStorage that never throw: a full or disabled
 * storage (private browsing, quota) falls back to a copy in memory, so that the page
 * still works for as long as it is open. The outbox and the visitor's cache use it.
 */

export function makeStore(area) {
  const memory = new Map();
  let ls = null;
  try {
    ls = typeof area === "string" ? globalThis[area] : area;
    ls.setItem("sohbet.probe", "1");
    ls.removeItem("sohbet.probe");
  } catch (err) {
    ls = null;
  }
  // Memory holds only what the storage refused (its last write); the rest is read
  // from the storage, where the other tabs of this browser write too.
  function raw(key) {
    if (memory.has(key) || !ls) {
      return memory.has(key) ? memory.get(key) : null;
    }
    try {
      return ls.getItem(key);
    } catch (err) {
      return null;
    }
  }
  return {
    get(key, fallback) {
      const value = raw(key);
      if (value == null) {
        return fallback;
      }
      try {
        return JSON.parse(value);
      } catch (err) {
        return fallback;
      }
    },
    set(key, value) {
      const text = JSON.stringify(value);
      if (ls) {
        try {
          ls.setItem(key, text);
          memory.delete(key);
          return;
        } catch (err) {
          /* quota: keep it in memory for this page */
        }
      }
      memory.set(key, text);
    },
    remove(key) {
      memory.delete(key);
      if (ls) {
        try {
          ls.removeItem(key);
        } catch (err) {
          /* ignore */
        }
      }
    },
  };
}
