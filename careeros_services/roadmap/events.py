"""The events roadmap publishes and consumes."""
from __future__ import annotations

COURSE_PUBLISHED = "careeros.lms.course.published.v1"
COURSE_ARCHIVED = "careeros.lms.course.archived.v1"
PROGRESS_UPDATED = "careeros.tracker.progress.updated.v1"
PROFILE_UPDATED = "careeros.profile.profile.updated.v1"
ROADMAP_GENERATED = "careeros.roadmap.roadmap.generated.v1"
MILESTONE_ACHIEVED = "careeros.roadmap.milestone.achieved.v1"
