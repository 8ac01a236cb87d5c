/*
 * The thread list (#thread-list) is one Tab stop: the focused row, else the open
 * thread's (aria-current), else the first; the arrows, Home and End move inside it.
 *
 *   wireRoving(list); updateRovingStop(list) (after the rows changed);
 *   moveFocus(list, step, edge) (edge "first" | "last", else `step` rows on)
 */

export function updateRovingStop(list) {
  const rows = Array.from(list.children);
  let stop = rows.indexOf(document.activeElement);
  if (stop < 0) {
    stop = rows.findIndex((row) => row.getAttribute("aria-current") === "true");
  }
  if (stop < 0) {
    stop = 0;
  }
  rows.forEach((row, at) => {
    row.tabIndex = at === stop ? 0 : -1;
  });
}

export function moveFocus(list, step, edge) {
  const rows = Array.from(list.children);
  if (!rows.length) {
    return;
  }
  const at = rows.indexOf(document.activeElement);
  let next;
  if (edge === "first") {
    next = 0;
  } else if (edge === "last") {
    next = rows.length - 1;
  } else {
    next = Math.min(rows.length - 1, Math.max(0, at + step));
  }
  rows[next].focus();
  updateRovingStop(list);
}

export function wireRoving(list) {
  list.addEventListener("focusin", () => updateRovingStop(list));
  list.addEventListener("keydown", (event) => {
    const moves = { ArrowDown: [1], ArrowUp: [-1], Home: [0, "first"], End: [0, "last"] };
    const move = moves[event.key];
    if (move) {
      event.preventDefault();
      moveFocus(list, ...move);
    }
  });
}
