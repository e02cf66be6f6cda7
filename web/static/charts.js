// Analytics charts from the JSON the page carries (no inline script; data, not code).
document.addEventListener("DOMContentLoaded", function () {
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  new Chart(document.getElementById("chart-active"), {
    type: "line",
    data: { labels: data.daily.map(function (d) { return d.date; }),
            datasets: [{ label: "Active learners", data: data.daily.map(function (d) { return d.active_learners; }) }] },
    options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
  new Chart(document.getElementById("chart-outcomes"), {
    type: "bar",
    data: { labels: ["Enrolments", "Completions", "Certificates", "Quizzes passed"],
            datasets: [{ label: "Count", data: data.outcomes }] },
    options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
});
