/*
 * The full-size image dialog, <dialog id="media-viewer">, built on first use: a close
 * button, Escape and a click outside the picture close it; Download links the file;
 * focus goes back to what opened it.
 */
import { t } from "./i18n.js";
import { button, focusAfterClose, icon, make } from "./dom.js";

let viewer = null;

function buildViewer() {
  const dialog = make("dialog", "media-viewer");
  dialog.id = "media-viewer";
  dialog.setAttribute("aria-labelledby", "media-viewer-title");
  const bar = make("div", "media-viewer-bar");
  const title = make("p", "media-viewer-title");
  title.id = "media-viewer-title";
  bar.appendChild(title);
  const download = make("a", "media-viewer-download");
  download.appendChild(icon("download", 20));
  download.appendChild(make("span", null, t("Download")));
  bar.appendChild(download);
  const close = button("media-viewer-close");
  close.setAttribute("aria-label", t("Close"));
  close.title = t("Close");
  close.appendChild(icon("close", 24));
  bar.appendChild(close);
  dialog.appendChild(bar);
  const stage = make("div", "media-viewer-stage");
  const img = make("img", "media-viewer-image");
  img.alt = "";
  stage.appendChild(img);
  const missing = make("p", "media-viewer-missing");
  missing.appendChild(icon("broken", 32));
  missing.appendChild(make("span", null, t("File unavailable")));
  missing.hidden = true;
  stage.appendChild(missing);
  dialog.appendChild(stage);

  close.addEventListener("click", closeViewer);
  dialog.addEventListener("click", (event) => {
    // Outside the picture and the buttons: the backdrop, the stage, the bar.
    if ([dialog, stage, bar, missing].includes(event.target)) {
      closeViewer();
    }
  });
  dialog.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      closeViewer();
    }
  });
  dialog.addEventListener("close", finishClose);
  img.addEventListener("error", () => {
    if (img.getAttribute("src")) {
      img.hidden = true;
      missing.hidden = false;
    }
  });
  document.body.appendChild(dialog);
  viewer = { dialog, title, download, close, img, missing, opener: null };
  return viewer;
}

// item = {url, src?, name, local?}: `local` is a file not uploaded yet (no Download).
export function openViewer(item, opener) {
  const v = viewer || buildViewer();
  v.opener = opener || document.activeElement;
  v.title.textContent = item.name || t("Attachment");
  v.img.hidden = false;
  v.missing.hidden = true;
  v.img.alt = item.name || "";
  v.img.src = item.src || item.url;
  v.download.href = item.url;
  v.download.download = item.name || "";
  v.download.hidden = !!item.local;
  document.documentElement.classList.add("media-viewer-open");
  if (!v.dialog.open) {
    if (typeof v.dialog.showModal === "function") {
      v.dialog.showModal();
    } else {
      v.dialog.setAttribute("open", "");
    }
  }
  v.close.focus();
}

export function closeViewer() {
  if (!viewer || !viewer.dialog.open) {
    return;
  }
  if (typeof viewer.dialog.close === "function") {
    viewer.dialog.close(); // its "close" event finishes
  } else {
    viewer.dialog.removeAttribute("open");
    finishClose();
  }
}

function finishClose() {
  document.documentElement.classList.remove("media-viewer-open");
  viewer.img.removeAttribute("src");
  const opener = viewer.opener;
  viewer.opener = null;
  if (opener && opener.isConnected && typeof opener.focus === "function") {
    focusAfterClose(opener, viewer.dialog);
  }
}
