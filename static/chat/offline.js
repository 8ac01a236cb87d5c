/*
 * The offline page: "Try again" reloads the address the browser asked for (the
 * service worker answers it from the network when it is back); so does coming
 * back online.
 */
function retry() {
  window.location.reload();
}

document.getElementById("offline-retry").addEventListener("click", retry);
window.addEventListener("online", retry);
