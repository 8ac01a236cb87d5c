/*
 * The conversation header's Download menu (#transcript-menu, shown to operators who
 * may view conversations): its links (data-url, the thread id 0 in the path) follow
 * the open conversation (#conversation's data-thread-id) and carry the operator's
 * time zone, in which the transcript's times are written.
 */
function zone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    return "";
  }
}

export function wireTranscriptMenu(doc = document) {
  const menu = doc.getElementById("transcript-menu");
  const conversation = doc.getElementById("conversation");
  if (!menu || !conversation) {
    return;
  }
  const tz = zone();
  const query = tz ? "?tz=" + encodeURIComponent(tz) : "";
  let shown = null;
  const update = () => {
    const id = conversation.dataset.threadId || "";
    if (id === shown) {
      return; // the header is drawn again for many reasons; the menu stays open
    }
    shown = id;
    menu.open = false;
    for (const link of menu.querySelectorAll("a[data-url]")) {
      link.href = /^\d+$/.test(id) ? link.dataset.url.replace("/0/", "/" + id + "/") + query : "#";
    }
  };
  menu.addEventListener("click", (event) => {
    if (event.target.closest("a[data-url]")) {
      menu.open = false;
    }
  });
  doc.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
  new MutationObserver(update).observe(conversation, { attributes: true, attributeFilter: ["data-thread-id"] });
  update();
}
