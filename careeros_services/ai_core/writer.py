"""The embedded provider's writer: a deterministic answer written from the facts alone (no model).

The answer opens with what this message asks (its intent's topic), says which of
the learner's constraints it used, and then gives the shorter picture of the
role in focus. It never repeats the previous answer word for word.
"""
from __future__ import annotations

from careeros_services.ai_core import domain
from careeros_services.ai_core.domain import NO_MARKET_DATA, Facts
from careeros_services.ai_core.knowledge import KnowledgeBase
from careeros_services.ai_core.topics import CAPABILITIES


def compose_answer(kb: KnowledgeBase, facts: Facts) -> dict:
    """A complete, schema-valid answer (see module docstring)."""
    lead = _LEADS.get(facts.intent, _overview_lead)(kb, facts) if facts.role or facts.intent == "help" else ""
    parts = [lead] if lead else []
    if facts.role is None and facts.intent != "help":
        parts.append(_no_role(kb))
    used = _constraints_sentence(facts.constraints_used)
    if used:
        parts.append(used)
    if facts.role is not None and facts.intent not in ("overview", "help"):
        parts.append(_picture(kb, facts, brief=True))
    elif facts.role is not None and facts.intent == "overview":
        parts.append(_picture(kb, facts, brief=False))
    if facts.unmatched_skills:
        parts.append("Skills in your profile I could not map to the knowledge base: "
                     + ", ".join(facts.unmatched_skills[:5]) + ".")
    if facts.asks_market and facts.intent != "market":
        parts.append(NO_MARKET_DATA)
    text = " ".join(p for p in parts if p)
    if text == facts.previous_answer:
        summary = (_picture(kb, facts, brief=True) if facts.role is not None
                   else "I can: " + "; ".join(CAPABILITIES) + ".")
        text = "You asked much the same again, so in short: " + summary + " " + used
    return {
        "answer": text.strip()[:6000],
        "target_role": domain._role_ref(facts.role),
        "skill_gaps": facts.gaps, "recommended_roles": facts.recommended_roles,
        "next_actions": facts.next_actions, "courses": facts.courses,
        "interview_topics": facts.interview_topics, "cited_esco_uris": facts.cited_esco_uris,
        "market_data": {"available": False, "note": NO_MARKET_DATA},
        "intent": facts.intent, "constraints_used": facts.constraints_used,
    }


def _no_role(kb: KnowledgeBase) -> str:
    return ("I could not tell which role you are aiming for, and your profile has no skills I recognise yet. "
            "Tell me a target role (for example one of: " + ", ".join(sorted(r.title for r in kb.roles.values())[:6])
            + ") or add skills to your profile, and I will map the gap.")


def _constraints_sentence(used: dict) -> str:
    said = []
    if used.get("hours_per_week"):
        said.append(f"{used['hours_per_week']} hours a week")
    if used.get("deadline"):
        said.append(f"a deadline of {used['deadline']}")
    elif used.get("weeks_available"):
        said.append(f"{used['weeks_available']} weeks")
    if used.get("free_only"):
        said.append("free courses only")
    if used.get("track"):
        said.append(f"the {used['track'].replace('_', ' ')} track")
    return ("Constraints I used from our conversation: " + ", ".join(said) + ".") if said else ""


def _course_note(course: dict) -> str:
    if not course.get("premium"):
        return f"{course['title']} ({course['slug']}, {course['level'] or 'any'} level, free)"
    plan = "included in your plan" if course.get("in_plan") else "premium, not included in your plan"
    return f"{course['title']} ({course['slug']}, {course['level'] or 'any'} level, {plan})"


def _picture(kb: KnowledgeBase, facts: Facts, brief: bool) -> str:
    role = facts.role
    total = sum(a["estimated_hours"] for a in facts.next_actions)
    fit = domain.fit_percent(role, facts.known)
    have = [kb.skills[s].name for s in sorted(facts.known) if s in role.skills and facts.known[s] >= role.skills[s]]
    parts = [f"Goal: {role.title}. Your profile covers about {fit}% of the skill levels this role needs"
             + (f" ({', '.join(have)} at the required level)." if have and not brief else ".")]
    if facts.gaps:
        listed = "; ".join(f"{g['name']} {g['current_level']}->{g['required_level']}" for g in facts.gaps[:6])
        parts.append(f"The gaps are {len(facts.gaps)} skills ({listed}" + ("; ..." if len(facts.gaps) > 6 else "")
                     + f"), about {total} hours of study including prerequisites, by this knowledge base's estimates.")
    else:
        parts.append("You meet every skill level this role lists; focus on interview practice and evidence of your work.")
    if facts.next_actions:
        first = facts.next_actions[0]
        parts.append(f"Start with: {first['action']}, roughly {first['estimated_hours']} hours"
                     + (f", e.g. with the course {first['course_slugs'][0]}." if first["course_slugs"] else "."))
    if not brief:
        if facts.interview_topics:
            parts.append("Interviews for this role usually probe: " + ", ".join(facts.interview_topics[:3]) + ".")
        if facts.recommended_roles:
            parts.append("Other roles your current skills fit: " + ", ".join(
                f"{r['title']} ({r['fit_percent']}% fit)" for r in facts.recommended_roles) + ".")
    return " ".join(parts)


def _overview_lead(kb: KnowledgeBase, facts: Facts) -> str:
    if facts.topic.get("alternatives") and facts.recommended_roles:
        return "The roles your current skills fit best besides " + facts.role.title + ": " + "; ".join(
            f"{r['title']} ({r['fit_percent']}% of its skill levels covered"
            + (f", missing {', '.join(r['missing_skills'][:4])})" if r["missing_skills"] else ")")
            for r in facts.recommended_roles) + "."
    if not facts.mentioned_skills:
        return ""
    notes = []
    for skill_id in facts.mentioned_skills:
        skill, need, have = kb.skills[skill_id], facts.role.skills.get(skill_id), facts.known.get(skill_id, 0)
        if need is None:
            notes.append(f"{skill.name} is not among this role's core skills")
        elif have >= need:
            notes.append(f"your {skill.name} (level {have}) already meets the role's level {need}")
        else:
            notes.append(f"{skill.name} needs level {need} for this role, you are at {have}")
    return "About what you asked: " + "; ".join(notes) + "."


def _time_lead(kb: KnowledgeBase, facts: Facts) -> str:
    t = facts.topic
    needed, hpw, weeks = t["hours_needed"], t["hours_per_week"], t["weeks_available"]
    if t["fits"] is not None:
        text = (f"Time check for {facts.role.title}: you need about {needed} hours; {hpw} hours a week for "
                f"{weeks} weeks gives {t['hours_available']} hours, so it " + ("fits." if t["fits"] else "does not fit."))
        if not t["fits"]:
            text += f" It would fit at {t['hours_per_week_needed']} hours a week."
            if t["drop"]:
                text += (" You could postpone what the role needs least: "
                         + ", ".join(f"{d['name']} ({d['hours']} h)" for d in t["drop"])
                         + f", leaving {t['hours_after_drop']} hours"
                         + (" (that fits, though you would not yet meet every level the role lists)."
                            if t["hours_after_drop"] <= t["hours_available"] else ", which still does not fit."))
            closer = t.get("closer_role")
            if closer and t["hours_after_drop"] > t["hours_available"]:
                text += (f" A closer first step is {closer['title']}: about {closer['hours']} hours"
                         + (", which fits your budget." if closer["fits"] else ".")
                         )
        return text
    if hpw:
        return (f"Time check for {facts.role.title}: about {needed} hours at {hpw} hours a week is about "
                f"{t['weeks_needed']} weeks.")
    if weeks:
        return (f"Time check for {facts.role.title}: about {needed} hours within {weeks} weeks needs about "
                f"{t['hours_per_week_needed']} hours a week.")
    return (f"Time check for {facts.role.title}: about {needed} hours by this knowledge base's estimates. "
            "Tell me your hours per week or a deadline and I will check whether it fits.")


def _compare_lead(kb: KnowledgeBase, facts: Facts) -> str:
    t, role = facts.topic, facts.role
    other = t.get("other_role")
    if not other:
        return f"Tell me which role to compare with {role.title}, for example one of: " + ", ".join(
            r["title"] for r in facts.recommended_roles) + "."
    what_if = facts.intent == "what_if"
    head = (f"If you aim for {role.title} instead of {other['title']}: " if what_if
            else f"{role.title} compared with {other['title']}: ")
    text = (head + f"they share {', '.join(t['shared_skills']) or 'no core skills'}. "
            f"{role.title} adds {', '.join(t['only_in_focus']) or 'nothing'}; {other['title']} adds "
            f"{', '.join(t['only_in_other']) or 'nothing'}. From your profile, {role.title} is about "
            f"{t['hours_to_focus']} hours away ({t['fit_focus']}% covered) and {other['title']} about "
            f"{t['hours_to_other']} hours ({t['fit_other']}% covered).")
    if not what_if:
        text += (f" Going via {other['title']} first, {role.title} then needs about "
                 f"{t['extra_hours_other_to_focus']} more hours.")
    return text + " This compares skills and study hours only; CareerOS has no salary or demand data for either role."


def _explain_lead(kb: KnowledgeBase, facts: Facts) -> str:
    t = facts.topic
    what = f"{t['name']}: {t['definition']}" if t["definition"] else f"{t['name']} (not an ESCO concept)."
    why = (f" {facts.role.title} needs it at level {t['required_level']} (you are at {t['current_level']})"
           if t["required_level"] else f" {facts.role.title} does not list it as a core skill")
    if t["needed_by"]:
        why += f"; it is a prerequisite of {', '.join(t['needed_by'])}"
    how = (f". Reaching level {max(t['required_level'], t['current_level'] + 1)} from {t['current_level']} "
           f"takes about {t['hours']} hours")
    if t["prerequisites"]:
        how += f" once you have {', '.join(t['prerequisites'])}"
    how += (": learn it with " + "; ".join(_course_note(c) for c in t["courses"]) + ", then practise: "
            if t["courses"] else ": no catalog course teaches it yet, so practise: ") + t["practice_task"] + "."
    return what.rstrip(".") + "." + why + how


def _next_lead(kb: KnowledgeBase, facts: Facts) -> str:
    t = facts.topic
    done = t["finished_course"] or ", ".join(t["finished_skills"]) or "that step"
    if not t["then"]:
        return f"With {done} done you meet every level {facts.role.title} lists: move on to interview practice."
    steps = "; ".join(f"{a['action']} (~{a['estimated_hours']} h"
                      + (f", course {a['course_slugs'][0]})" if a["course_slugs"] else ")") for a in t["then"])
    return (f"After {done}: next, {steps}. About {t['hours_left']} hours remain for {facts.role.title}. "
            "Your roadmap marks a milestone achieved and your profile's level rises when the tracker records "
            "the course completed; until then the picture below still uses your profile.")


def _courses_lead(kb: KnowledgeBase, facts: Facts) -> str:
    t = facts.topic
    scope = "Free courses" if t["free_only"] else f"Courses for your plan ({t['plan_tier']})"
    lines = []
    for gap in t["per_gap"][:8]:
        if gap["courses"]:
            lines.append(f"{gap['name']}: " + ", ".join(_course_note(c) for c in gap["courses"][:2]))
        else:
            lines.append(f"{gap['name']}: no {'free ' if t['free_only'] else ''}catalog course; practise: "
                         + gap["practice_task"])
    return f"{scope} for your gaps towards {facts.role.title}, at your level: " + "; ".join(lines) + "."


def _interview_lead(kb: KnowledgeBase, facts: Facts) -> str:
    t = facts.topic
    text = f"To prepare interviews for {facts.role.title}, practise: " + "; ".join(t["topics"]) + "."
    if t["revise"]:
        text += " Revise first what your profile is weakest in: " + ", ".join(t["revise"]) + "."
    return text + " Prepare one project story per topic: the problem, what you did, the result."


def _cv_lead(kb: KnowledgeBase, facts: Facts) -> str:
    t = facts.topic
    if not t["has_cv"]:
        return (f"I have no CV from you yet: upload it (POST /api/v1/ai/cv) and ask again; until then I compare "
                f"your profile with {facts.role.title}.")
    text = (f"Your CV against {facts.role.title}: it shows {', '.join(t['shows']) or 'none of the role skills'}; "
            f"the role also needs {', '.join(t['missing_for_role']) or 'nothing more'}.")
    if t["profile_not_on_cv"]:
        text += f" Your profile has {', '.join(t['profile_not_on_cv'])} that the CV does not show: add evidence lines."
    if t["not_relevant"]:
        text += f" Shorten what the role does not ask for: {', '.join(t['not_relevant'])}."
    return text


def _market_lead(kb: KnowledgeBase, facts: Facts) -> str:
    return NO_MARKET_DATA + " What I can give is the skills and hours picture:"


def _help_lead(kb: KnowledgeBase, facts: Facts) -> str:
    return ("I could not tell what you are asking. I can: " + "; ".join(facts.topic.get("capabilities", []))
            + ". For example: 'what if I aim for Data Analyst?', 'does 6 hours a week for a year fit?', "
              "'which courses are free?', 'what is SQL?'.")


_LEADS = {"time_fit": _time_lead, "compare": _compare_lead, "what_if": _compare_lead, "explain_skill": _explain_lead,
          "next_after": _next_lead, "courses": _courses_lead, "interview": _interview_lead, "cv_feedback": _cv_lead,
          "market": _market_lead, "help": _help_lead, "overview": _overview_lead}
