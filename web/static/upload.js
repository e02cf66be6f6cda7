// Upload progress for htmx file forms: the bar beside each upload form follows the XHR.
document.addEventListener("htmx:xhr:progress", function (event) {
  var form = event.target.closest("form.upload");
  if (!form || !event.detail.lengthComputable) return;
  var bar = form.querySelector("progress");
  bar.hidden = false;
  bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
});
