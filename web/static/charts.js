// Analytics charts from the JSON the page carries (no inline script; data, not code).
document.addEventListener("DOMContentLoaded", function () {
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  new Chart(document.getElementById("chart-active"), {
    type: "line",
    data: { labels: data.daily.map(function (d) { return d.date; }),
            datasets: [{ label: "Active learners", data: data.daily.map(function (d) { return d.active_learners; }) }] },
    options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
  new Chart(document.getElementById("chart-completions"), {
    type: "bar",
    data: { labels: data.completions.map(function (d) { return d.date; }),
            datasets: [{ label: "Courses completed", data: data.completions.map(function (d) { return d.completions; }) }] },
    options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
  new Chart(document.getElementById("chart-quiz"), {
    type: "bar",
    data: { labels: data.quiz, datasets: [{ label: "Average quiz score (%)", data: data.quizScores }] },
    options: { maintainAspectRatio: false, indexAxis: "y", scales: { x: { beginAtZero: true, max: 100 } } }
  });
  new Chart(document.getElementById("chart-outcomes"), {
    type: "bar",
    data: { labels: ["Enrolments", "Completions", "Certificates", "Quizzes passed"],
            datasets: [{ label: "Count", data: data.outcomes }] },
    options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
});
