/*
 * "Continue in Telegram" (#telegram-button in the menu; telegram_bridge): asks the
 * server for a one-time link to the bot and shows it (#telegram-open). In Telegram
 * the bot asks for the visitor's phone number, then carries the conversation
 * while this page is closed.
 *
 *   telegramAction(root, options): options {url (the page's config.telegram.link;
 *     none: the action stays hidden), request(url, body) -> Promise of
 *     {ok, status, data} (devices.js's pageRequest, or the widget frame's call)}
 */
import { t } from "../lib/i18n.js";

export function telegramAction(root, options) {
  const button = root.querySelector("#telegram-button");
  const result = root.querySelector("#telegram-result");
  const open = root.querySelector("#telegram-open");
  const hint = root.querySelector("#telegram-hint");
  if (!button || !result || !open || !hint || !options.url) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    let answer;
    try {
      answer = await options.request(options.url, {});
    } catch (err) {
      answer = { ok: false, data: {} };
    }
    button.disabled = false;
    button.setAttribute("aria-busy", "false");
    const error = answer.data && answer.data.error;
    if (!answer.ok || typeof answer.data.url !== "string") {
      open.hidden = true;
      hint.textContent = error && typeof error.detail === "string" && error.detail
        ? error.detail : t("Something went wrong. Please try again.");
      result.hidden = false;
      return;
    }
    open.href = answer.data.url;
    open.hidden = false;
    hint.textContent = t("Press Start in Telegram, then share your phone number. The link works once, for 10 minutes.");
    result.hidden = false;
    open.focus();
  });
}
