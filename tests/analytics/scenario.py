"""A small month of two organisations, as the producers would have published it.

Tenant A: owner Olga, learners Ann and Bob; tenant B: one learner, Bea, whose
numbers must never show up in A's reports. The expected figures in the tests
follow from these events by the definitions in ``careeros_services.analytics.domain``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from tests.analytics import support as ev


@dataclass
class Scenario:
    tenant_a: str = field(default_factory=ev.new_id)
    tenant_b: str = field(default_factory=ev.new_id)
    olga: str = field(default_factory=ev.new_id)   # A's owner
    ann: str = field(default_factory=ev.new_id)    # A's learner
    bob: str = field(default_factory=ev.new_id)    # A's learner
    bea: str = field(default_factory=ev.new_id)    # B's learner
    course1: str = field(default_factory=ev.new_id)
    course2: str = field(default_factory=ev.new_id)
    bob_c2_enrollment: str = field(default_factory=ev.new_id)
    ann_c1_enrollment: str = field(default_factory=ev.new_id)
    bob_c1_enrollment: str = field(default_factory=ev.new_id)
    bea_c1_enrollment: str = field(default_factory=ev.new_id)

    def lms_and_tracker(self) -> list[dict]:
        a, b = self.tenant_a, self.tenant_b
        return [
            # statements: Ann on 2 days, Bob on 2 days, one of Ann's before the period
            ev.statement(a, self.ann, "2026-03-02T09:00", duration_s=600, course_id=self.course1),
            ev.statement(a, self.ann, "2026-03-02T17:00", duration_s=300, course_id=self.course1),
            ev.statement(a, self.ann, "2026-03-04T10:00", duration_s=120, course_id=self.course1),
            ev.statement(a, self.bob, "2026-03-04T11:00", duration_s=60),
            ev.statement(a, self.bob, "2026-03-10T11:00", verb="completed"),
            ev.statement(a, self.ann, "2026-02-27T10:00", duration_s=1000),
            ev.statement(b, self.bea, "2026-03-04T10:00", duration_s=5000),
            # enrolments: Bob's course-2 enrolment is cancelled, Ann's course-2 one is after the period
            ev.enrolled(a, self.ann, self.course1, "2026-03-01T10:00", self.ann_c1_enrollment),
            ev.enrolled(a, self.bob, self.course1, "2026-03-03T10:00", self.bob_c1_enrollment),
            ev.enrolled(a, self.bob, self.course2, "2026-03-05T10:00", self.bob_c2_enrollment),
            ev.cancelled(a, self.bob, self.course2, "2026-03-06T10:00", self.bob_c2_enrollment),
            ev.enrolled(a, self.ann, self.course2, "2026-03-20T10:00"),
            ev.enrolled(b, self.bea, self.course1, "2026-03-02T10:00", self.bea_c1_enrollment),
            # completions (the LMS's word) and their certificates: Ann completes course 1 in the
            # period, Bob after it; Bea in B
            ev.completed(a, self.ann, self.course1, "2026-03-12T10:00", self.ann_c1_enrollment),
            ev.certified(a, self.ann, self.course1, "2026-03-12T10:00"),
            ev.completed(a, self.bob, self.course1, "2026-03-20T10:00", self.bob_c1_enrollment),
            ev.certified(a, self.bob, self.course1, "2026-03-20T10:00"),
            ev.completed(b, self.bea, self.course1, "2026-03-05T10:00", self.bea_c1_enrollment),
            ev.certified(b, self.bea, self.course1, "2026-03-05T10:00"),
            # quizzes
            ev.quiz(a, self.ann, self.course1, "2026-03-02T10:00", 40, False),
            ev.quiz(a, self.ann, self.course1, "2026-03-03T10:00", 80, True, attempt_no=2),
            ev.quiz(a, self.bob, self.course1, "2026-03-04T10:00", 95, True),
            ev.quiz(b, self.bea, self.course1, "2026-03-04T10:00", 10, False),
        ]

    def auth(self) -> list[dict]:
        a, b = self.tenant_a, self.tenant_b
        return [
            ev.registered(a, self.olga, "Olga", role="owner"),
            ev.registered(a, self.ann, "Ann"),
            ev.registered(a, self.bob, "Bob"),
            ev.registered(b, self.bea, "Bea"),
        ]

    def assignments(self) -> list[dict]:
        a = self.tenant_a
        return [
            ev.assigned(a, self.ann, self.course1, "2026-03-01T09:00", due="2026-03-10T00:00", by=self.olga),
            ev.assigned(a, self.bob, self.course2, "2026-03-02T09:00", due="2026-03-08T00:00", by=self.olga),
            ev.assigned(a, self.bob, "", "2026-03-03T09:00", by=self.olga),
        ]

    def ai_and_billing(self) -> list[dict]:
        a, b = self.tenant_a, self.tenant_b
        return [
            ev.ai_usage(a, self.ann, "2026-03-05T10:00", 100, 50, 1500),
            ev.ai_usage(a, self.bob, "2026-03-05T11:00", 10, 5, 200),
            ev.ai_usage(b, self.bea, "2026-03-05T10:00", 9000, 9000, 90000),
            ev.invoice(a, "2026-03-01T00:00", 4900),
            ev.invoice(a, "2026-03-01T00:00", 1000, currency="USD"),
            ev.invoice(a, "2026-03-15T00:00", 4900),
            ev.invoice(b, "2026-03-01T00:00", 9999),
        ]

    def all_events(self) -> list[dict]:
        return self.auth() + self.lms_and_tracker() + self.assignments() + self.ai_and_billing()
