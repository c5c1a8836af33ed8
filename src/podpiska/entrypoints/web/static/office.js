// The back office's partials answer 422 with a message to show (bad input): htmx 2 does not
// swap error responses by default, so let these through.
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr.status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
