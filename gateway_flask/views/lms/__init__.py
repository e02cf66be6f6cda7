"""/lms: course catalog, authoring, enrolment, lessons, quizzes, certificates."""
