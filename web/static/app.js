// After a failed submit, take keyboard and screen-reader users to the summary of what went wrong
// (as GOV.UK does); pages work without this script.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
});
