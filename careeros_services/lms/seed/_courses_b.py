"""Seed course texts (part B: product, UX, marketing, project management, HR)."""
COURSES = [
dict(slug="product-management-101", title="Product Management 101", track="product-management", level="beginner", hours=10, premium=False,
 tags=["product", "discovery", "roadmaps"], summary="What product managers do: outcomes over outputs, discovery, prioritisation and working with engineering and design.",
 skills=[("product life-cycle", "21e0cad8-4eef-42be-b18b-0f8e37f0dbd0", 2), ("identify customer requirements", "0e0c9c11-b39e-43cf-ba95-2fe646f5de64", 2)],
 a1="""# Outcomes over outputs

A product manager is accountable for **outcomes** — a change in customer behaviour that drives business results — not for shipping a list of features.

Write each initiative as a bet: *"We believe that weekly learning reminders for new learners will raise 30-day course completion from 18% to 25%."*
""",
 a2="""# Prioritisation

* Score options by reach, impact, confidence and effort (RICE).
* Say no with reasons, and write them down.
* Revisit the roadmap when evidence changes.
""",
 quiz=[("A product manager is primarily accountable for…", ["outputs", "outcomes", "code quality", "hiring"], 1),
       ("RICE stands for reach, impact, confidence and…", ["effort", "engagement", "equity", "evidence"], 0),
       ("A good initiative is written as…", ["a feature list", "a testable bet", "a deadline", "a budget"], 1)]),
dict(slug="product-discovery-research", title="Product Discovery and Customer Interviews", track="product-management", level="intermediate", hours=8, premium=True,
 tags=["discovery", "interviews", "experiments"], summary="Run customer interviews, map opportunities and test ideas cheaply before building them.",
 skills=[("conduct research interview", "896563fc-6255-4419-89c2-ffed30159ad6", 3), ("identify customer's needs", "68698869-c13c-4563-adc7-118b7644f45d", 3)],
 a1="""# Interview about the past

Ask about **specific past behaviour**, not hypothetical futures: *"Tell me about the last time you looked for a course."* People are poor predictors of what they would do, but good reporters of what they did.

Avoid leading questions and pitching your idea during the interview.
""",
 a2="""# Test the riskiest assumption first

* Value: will they want it?
* Usability: can they use it?
* Feasibility: can we build it?
* Viability: does it work for the business?
""",
 quiz=[("Good interview questions focus on…", ["hypothetical futures", "specific past behaviour", "pricing only", "your solution"], 1),
       ("Which risk asks 'will they want it'?", ["feasibility", "value", "viability", "usability"], 1),
       ("Pitching your idea during an interview…", ["is recommended", "biases the answers", "saves time", "is required"], 1)]),
dict(slug="writing-product-requirements", title="Writing Product Requirements", track="product-management", level="intermediate", hours=5, premium=False,
 tags=["requirements", "specifications", "user-stories"], summary="Turn discoveries into clear problem statements, user stories and acceptance criteria engineers can build from.",
 skills=[("analyse business requirements", "b04f377b-ee80-4b38-aca1-19d266a23b17", 3), ("write specifications", "3d64b8fd-bb09-4d13-a3cf-300ed8909088", 2), ("define technical requirements", "d9e5349e-8791-49c2-8ba4-839fdd1606c2", 1)],
 a1="""# Problem first

A one-page brief states the **problem**, who has it, the evidence and how success will be measured — before any solution.

User stories capture intent: *"As a learner who failed a quiz, I want to see which topics I missed so that I can review them."*
""",
 a2="""# Acceptance criteria

* Given / when / then, one behaviour each.
* Include the unhappy paths: errors, limits, permissions.
* Agree them with engineering and QA before work starts.
""",
 quiz=[("A brief should start with…", ["the solution", "the problem", "the UI", "the budget"], 1),
       ("Acceptance criteria are often written as…", ["given/when/then", "SQL", "wireframes", "OKRs"], 0),
       ("Unhappy paths include…", ["errors and limits", "only success", "marketing copy", "release notes"], 0)]),
dict(slug="ux-design-foundations", title="UX Design Foundations", track="ux-design", level="beginner", hours=12, premium=False,
 tags=["ux", "user-research", "usability"], summary="User-centred design from research to usability testing: personas, journeys, heuristics and iteration.",
 skills=[("usability engineering", "95ee5e38-5c1e-4cd2-a21d-6921390025a9", 2), ("create prototype of user experience solutions", "07dd856d-6141-48a7-a228-918f88494812", 2)],
 a1="""# Design with, not for

User-centred design is a loop: **research → define → ideate → prototype → test**. Each pass narrows uncertainty.

Five participants in a usability test typically reveal most of the severe problems in a flow; test early, with paper if necessary.
""",
 a2="""# Nielsen's heuristics (a selection)

* Visibility of system status.
* Match between system and the real world.
* Error prevention beats good error messages.
* Recognition rather than recall.
""",
 quiz=[("How many participants often reveal most severe usability issues?", ["1", "about 5", "50", "500"], 1),
       ("Which is a usability heuristic?", ["visibility of system status", "maximise clicks", "hide errors", "use jargon"], 0),
       ("User-centred design is…", ["a one-off phase", "an iterative loop", "only visual design", "a test framework"], 1)]),
dict(slug="ui-design-and-prototyping", title="UI Design and Prototyping", track="ux-design", level="intermediate", hours=14, premium=True,
 tags=["ui", "prototyping", "design-systems", "figma"], summary="Wireframes to high-fidelity prototypes: layout grids, typography, components and design systems.",
 skills=[("design user interface", "fd33c66c-70c4-40e6-b87c-5495bd3bf26e", 3), ("create website wireframe", "f0f5bb34-71df-4715-9c9e-03567b76ec8f", 3)],
 a1="""# Fidelity follows certainty

Start with low-fidelity **wireframes** to agree on structure and flow; add visual detail only when the structure holds up in tests.

Use an 8-point spacing scale and at most two typefaces. Consistency lets users learn the interface once.
""",
 a2="""# Components and design systems

* Build from tokens (colour, spacing, type) up to components.
* Document states: default, hover, focus, disabled, error.
* Keep design and code components in sync.
""",
 quiz=[("Low-fidelity wireframes are for agreeing on…", ["colours", "structure and flow", "fonts", "animations"], 1),
       ("Which state is essential for keyboard users?", ["hover", "focus", "pressed", "visited"], 1),
       ("Design tokens define…", ["user roles", "colour, spacing and type values", "API keys", "test data"], 1)]),
dict(slug="accessible-interaction-design", title="Accessible Interaction Design", track="ux-design", level="intermediate", hours=8, premium=False,
 tags=["accessibility", "wcag", "interaction-design"], summary="Design interactions everyone can use: WCAG 2.2, contrast, focus order, forms and assistive technology.",
 skills=[("ICT accessibility standards", "3e23db60-0c3d-498a-a6ac-ffbed0ecb033", 3), ("software interaction design", "de0be6e8-644c-4cc9-9c8d-925dd98dda56", 2), ("information architecture", "1bba98a7-92b9-450b-9235-e0c905f8f3c4", 1)],
 a1="""# Perceivable, operable, understandable, robust

WCAG organises requirements under these four principles. Two quick wins:

* Text contrast of at least **4.5:1** against its background (3:1 for large text).
* Every form field has a visible, programmatically associated label.
""",
 a2="""# Test like your users

* Navigate with the keyboard only.
* Try a screen reader (NVDA, VoiceOver).
* Zoom to 200% and check nothing is cut off.
""",
 quiz=[("Minimum contrast ratio for normal text (WCAG AA)?", ["2:1", "3:1", "4.5:1", "10:1"], 2),
       ("Form fields need…", ["placeholders only", "associated labels", "red borders", "tooltips"], 1),
       ("Which is NOT a WCAG principle?", ["perceivable", "operable", "profitable", "robust"], 2)]),
dict(slug="digital-marketing-fundamentals", title="Digital Marketing Fundamentals", track="digital-marketing", level="beginner", hours=9, premium=False,
 tags=["marketing", "channels", "funnel"], summary="The digital marketing funnel, channels, budgets and how to measure what works.",
 skills=[("digital marketing techniques", "43dfbe7f-9e10-4871-b171-e5076737b4cf", 2), ("web analytics", "1605025e-a179-421f-8f35-5b07d182a6b2", 1)],
 a1="""# The funnel

Awareness → consideration → conversion → retention. Each stage has its own channels and metrics: reach and impressions at the top, conversion rate and cost per acquisition lower down, churn and lifetime value at the end.

Retaining a customer is usually cheaper than acquiring one.
""",
 a2="""# Measure before you spend

* Define one conversion per campaign.
* Tag links with UTM parameters.
* Compare channels on cost per acquisition, not clicks.
""",
 quiz=[("Which metric belongs to the conversion stage?", ["impressions", "cost per acquisition", "reach", "followers"], 1),
       ("UTM parameters are used to…", ["speed up pages", "attribute traffic to campaigns", "encrypt links", "shorten URLs"], 1),
       ("Channels should be compared on…", ["clicks", "cost per acquisition", "likes", "impressions"], 1)]),
dict(slug="seo-content-marketing", title="SEO and Content Marketing", track="digital-marketing", level="intermediate", hours=10, premium=True,
 tags=["seo", "content", "search"], summary="Earn search traffic with useful content: keyword research, on-page SEO, technical basics and a content strategy.",
 skills=[("search engine optimisation", "eda4d727-4374-49af-ace4-118c7c906835", 3), ("content marketing strategy", "b0560439-14eb-41d1-aa53-1938efc24123", 3)],
 a1="""# Search intent

Every query has an intent: informational, navigational, commercial or transactional. A page ranks when it satisfies the intent better than the alternatives.

Put the main topic in the title and first heading, answer the question early, and link related pages together.
""",
 a2="""# Technical basics

* Pages load fast on mobile.
* One canonical URL per page.
* A sitemap and sensible internal links.
""",
 quiz=[("'buy running shoes size 42' has which intent?", ["informational", "navigational", "transactional", "none"], 2),
       ("A canonical URL prevents…", ["slow pages", "duplicate content issues", "broken images", "spam"], 1),
       ("Where should the main topic appear?", ["footer only", "title and first heading", "alt text only", "nowhere"], 1)]),
dict(slug="social-media-marketing", title="Social Media Marketing", track="digital-marketing", level="beginner", hours=6, premium=False,
 tags=["social-media", "community", "campaigns"], summary="Plan social campaigns, build a community and report results that matter.",
 skills=[("social media marketing techniques", "509909a2-4a8f-4ead-8ad0-968df63b77cc", 2)],
 a1="""# Platform fit

Choose platforms where your audience already spends time, and adapt each post to the format of the platform rather than cross-posting the same text everywhere.

A simple calendar with themes per weekday keeps output steady without last-minute scrambles.
""",
 a2="""# Reporting

* Engagement rate = interactions ÷ reach.
* Track clicks to your site and conversions, not just likes.
* Review monthly and drop what does not work.
""",
 quiz=[("Engagement rate is interactions divided by…", ["followers ever", "reach", "posts", "budget"], 1),
       ("Cross-posting identical text everywhere is…", ["best practice", "usually less effective", "required", "free reach"], 1),
       ("Which outcome matters most for a business?", ["likes", "conversions", "hashtags", "emoji"], 1)]),
dict(slug="project-management-essentials", title="Project Management Essentials", track="project-management", level="beginner", hours=10, premium=False,
 tags=["project-management", "planning", "risk"], summary="Scope, schedule, budget and risk: plan a project, track it and close it well.",
 skills=[("perform project management", "cd5efa8c-e44d-4cbc-91c6-796018dbed68", 2), ("project management principles", "237db40b-4600-47c0-837f-4a2c4f3014ab", 2), ("manage budgets", "21c5790c-0930-4d74-b3b0-84caf5af12ea", 1)],
 a1="""# The triple constraint

Scope, time and cost are linked: change one and at least one other moves. Agree with the sponsor which one is fixed.

Break the scope into a **work breakdown structure** until each work package can be estimated and owned by one person.
""",
 a2="""# Risk register

* Describe each risk as cause → event → effect.
* Rate probability and impact.
* Assign an owner and a response.
* Review it at every status meeting.
""",
 quiz=[("The triple constraint links scope, time and…", ["cost", "quality only", "people", "tools"], 0),
       ("A work package should be owned by…", ["the team", "one person", "the sponsor", "nobody"], 1),
       ("Each risk in the register needs…", ["a colour", "an owner and a response", "a meeting", "a budget line"], 1)]),
dict(slug="agile-scrum-in-practice", title="Agile and Scrum in Practice", track="project-management", level="intermediate", hours=8, premium=False,
 tags=["agile", "scrum", "kanban"], summary="Scrum roles, events and artefacts; Kanban flow metrics; and how to adapt both to real teams.",
 skills=[("Agile project management", "0a9acb6b-1139-4be9-b431-3a80a959f2f4", 3), ("ICT project management methodologies", "bec4359e-cb92-468f-a997-8fb28e32fba9", 2)],
 a1="""# Scrum in one page

* **Roles**: product owner, developers, scrum master.
* **Events**: sprint, planning, daily scrum, review, retrospective.
* **Artefacts**: product backlog, sprint backlog, increment — each with a commitment (product goal, sprint goal, definition of done).

The increment must be usable at the end of every sprint.
""",
 a2="""# Flow metrics

* Limit work in progress.
* Track cycle time and throughput.
* Fix bottlenecks before adding work.
""",
 quiz=[("Who orders the product backlog?", ["scrum master", "product owner", "developers", "stakeholders"], 1),
       ("What must exist at the end of each sprint?", ["a report", "a usable increment", "a release party", "a new backlog"], 1),
       ("Limiting WIP mainly improves…", ["flow", "headcount", "budget", "documentation"], 0)]),
dict(slug="hr-people-management", title="People Management for New Managers", track="hr-people", level="beginner", hours=7, premium=False,
 tags=["management", "feedback", "one-on-ones"], summary="Run one-on-ones, give useful feedback, delegate and coach your team.",
 skills=[("lead a team", "1f1d2ff8-c4c1-45cc-9812-6a7ee84a73cb", 2), ("coach employees", "0cc9c234-f817-4f4c-908a-4d28fe3b0f4a", 2)],
 a1="""# One-on-ones

A weekly 30-minute one-on-one belongs to the **report**, not the manager: they bring the agenda. Ask open questions, listen more than you speak, and write down commitments on both sides.

Feedback works best soon after the event, in private, about behaviour and its impact rather than personality.
""",
 a2="""# Delegating

* Delegate outcomes, not steps.
* Agree the check-in points up front.
* Match autonomy to experience with the task.
""",
 quiz=[("Who owns the agenda of a one-on-one?", ["the manager", "the report", "HR", "nobody"], 1),
       ("Feedback should focus on…", ["personality", "behaviour and impact", "rumours", "salary"], 1),
       ("Good delegation hands over…", ["every step", "the outcome", "blame", "nothing"], 1)]),
dict(slug="recruitment-and-onboarding", title="Recruitment and Onboarding", track="hr-people", level="intermediate", hours=8, premium=True,
 tags=["recruiting", "interviews", "onboarding", "hr"], summary="Structured interviews, fair selection and onboarding plans that get new hires productive sooner.",
 skills=[("recruit employees", "496932f1-0b6b-4f73-9432-d95c7ddcd43b", 3), ("human resource management", "e437eba1-3e22-41f2-8703-741e94785cba", 2)],
 a1="""# Structured interviews

Define the competencies before you see candidates. Ask every candidate the same questions and score answers against anchored rating scales. Structured interviews predict job performance better than unstructured conversations and reduce bias.
""",
 a2="""# A 30-60-90 day onboarding plan

* Day 1: accounts, equipment, buddy.
* 30 days: understand the product and the team's goals.
* 60 days: deliver a first meaningful piece of work.
* 90 days: own an area.
""",
 quiz=[("Structured interviews ask candidates…", ["different questions", "the same questions", "no questions", "personal questions"], 1),
       ("Competencies should be defined…", ["after interviews", "before seeing candidates", "by the candidate", "never"], 1),
       ("An onboarding buddy is arranged by…", ["day 1", "day 90", "the first review", "never"], 0)]),
dict(slug="employment-law-basics", title="Employment Law Basics for HR", track="hr-people", level="intermediate", hours=6, premium=False,
 tags=["employment-law", "compliance", "hr"], summary="Contracts, working time, equal treatment, and handling grievances and dismissals lawfully (EU overview).",
 skills=[("labour legislation", "08fe5910-8c4c-4679-a988-eb2ded3c4909", 2), ("human resource management", "e437eba1-3e22-41f2-8703-741e94785cba", 2)],
 a1="""# Working time and equal treatment

EU law sets a maximum average working week of **48 hours** including overtime, minimum daily and weekly rest, and at least four weeks of paid annual leave. Equal treatment rules forbid discrimination on grounds such as sex, age, disability, religion and sexual orientation.

National law adds detail: always check the country you employ in.
""",
 a2="""# Handling grievances

* Acknowledge in writing and meet promptly.
* Investigate fairly and keep records.
* Give a reasoned decision and a right of appeal.
""",
 quiz=[("Maximum average weekly working time under the EU directive?", ["40 hours", "48 hours", "60 hours", "no limit"], 1),
       ("Minimum paid annual leave under EU law?", ["2 weeks", "4 weeks", "6 weeks", "none"], 1),
       ("A grievance decision should include…", ["a right of appeal", "a fine", "a promotion", "nothing"], 0)]),
]
