/*
 * The live preview of the admin's appearance page (templates/admin/chat/appearance/
 * change_form.html): a mock launcher and panel that follow the form's fields as they
 * change. The text on the colour is picked as chat/colors.py picks it (white when it
 * reaches WCAG AA, 4.5:1, else the first dark text that does).
 */
(function () {
  "use strict";

  const AA = 4.5;
  const DARK_TEXTS = ["#111111", "#000000"];

  function luminance(hex) {
    const channel = (i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  }

  function contrast(a, b) {
    const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (light + 0.05) / (dark + 0.05);
  }

  function textColor(background) {
    if (contrast("#ffffff", background) >= AA) {
      return "#ffffff";
    }
    return DARK_TEXTS.find((dark) => contrast(dark, background) >= AA) || "#000000";
  }

  function validColor(value) {
    const v = (value || "").trim().toLowerCase();
    if (/^#[0-9a-f]{3}$/.test(v)) {
      return "#" + v.slice(1).split("").map((c) => c + c).join("");
    }
    return /^#[0-9a-f]{6}$/.test(v) ? v : null;
  }

  function setup() {
    const dataNode = document.getElementById("appearance-preview-data");
    const stage = document.getElementById("appearance-stage");
    if (!dataNode || !stage) {
      return;
    }
    const data = JSON.parse(dataNode.textContent);
    const form = stage.closest("form");
    const field = (name) => form.querySelector('[name="' + name + '"]');
    const node = (id) => document.getElementById(id);
    const langButtons = Array.from(document.querySelectorAll("[data-preview-lang]"));
    const files = field("new_avatars");
    let lang = data.texts[document.documentElement.lang] ? document.documentElement.lang : "en";
    let newUrls = [];

    function avatarUrls() {
      const kept = Array.from(form.querySelectorAll('[name="remove_avatars"]'))
        .filter((box) => !box.checked)
        .map((box) => data.avatars[box.value])
        .filter(Boolean);
      return kept.concat(newUrls);
    }

    function text(name) {
      const input = field(name + "_" + lang);
      return input ? input.value.trim() : "";
    }

    function render() {
      const texts = data.texts[lang];
      const color = validColor(field("color").value) || "#4f46e5";
      stage.style.setProperty("--preview-color", color);
      stage.style.setProperty("--preview-text", textColor(color));
      stage.setAttribute("data-position", field("position").value);
      const team = text("team_name") || data.siteName;
      node("preview-team").textContent = team;
      node("preview-reply").textContent = texts.replyTime;
      node("preview-welcome").textContent = texts.welcome;
      node("preview-greeting").textContent = text("greeting") || texts.greeting.replace("%(site)s", team);
      node("preview-bubble").textContent = texts.sample;
      const label = text("launcher_label");
      node("preview-launcher-label").textContent = label;
      node("preview-launcher").setAttribute("data-icon-only", label ? "false" : "true");
      const avatars = node("preview-avatars");
      const all = avatarUrls();
      // The server refuses too many as well; this says so before the upload.
      if (files) {
        files.setCustomValidity(all.length > data.max ? data.tooMany : "");
      }
      const urls = all.slice(0, data.max);
      avatars.replaceChildren(...urls.map((url) => {
        const img = document.createElement("img");
        img.src = url;
        img.alt = "";
        return img;
      }));
      avatars.hidden = urls.length === 0;
      node("preview-logo").hidden = urls.length > 0;
      for (const button of langButtons) {
        button.setAttribute("aria-pressed", button.dataset.previewLang === lang ? "true" : "false");
      }
    }

    function filesChanged() {
      newUrls.forEach((url) => URL.revokeObjectURL(url));
      const chosen = files ? Array.from(files.files) : [];
      newUrls = chosen.map((file) => URL.createObjectURL(file));
      render();
      files.reportValidity();
    }

    form.addEventListener("input", (event) => (event.target === files ? null : render()));
    form.addEventListener("change", (event) => (event.target === files ? filesChanged() : render()));
    for (const button of langButtons) {
      button.addEventListener("click", () => {
        lang = button.dataset.previewLang;
        render();
      });
    }
    render();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
