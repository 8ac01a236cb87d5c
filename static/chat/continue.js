/*
 * The /continue/ page: a QR code's link carries the code in its fragment
 * (/continue/#ABCD2345: never sent to the server, never in its logs); it is put in
 * the form, taken out of the address, and sent once.
 */
const form = document.getElementById("continue-form");
const input = document.getElementById("continue-code");
const code = decodeURIComponent(window.location.hash.slice(1)).trim();

if (form && input && code) {
  history.replaceState(null, "", window.location.pathname);
  input.value = code;
  form.submit();
}
