/*
 * The /continue/ page: a QR code's link carries the code in its fragment
 * (/continue/#ABCD2345: never sent to the server, never in its logs). It is put in
 * the form and taken out of the address; the person confirms with the button (a
 * link someone else sent would otherwise attach this browser to their
 * conversation, unseen: docs/security.md).
 */
const input = document.getElementById("continue-code");
const note = document.getElementById("continue-from-link");
const code = decodeURIComponent(window.location.hash.slice(1)).trim();

if (input && code) {
  history.replaceState(null, "", window.location.pathname);
  input.value = code;
  if (note) {
    note.hidden = false;
  }
  const button = document.querySelector("#continue-form button[type=submit]");
  if (button) {
    button.focus();
  }
}
