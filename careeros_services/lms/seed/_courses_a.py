"""Seed course texts (part A: engineering, data, ML, DevOps, security). Built into catalog.json by build_catalog.py."""
E = "http://data.europa.eu/esco/skill/"
COURSES = [
dict(slug="python-foundations", title="Python Foundations", track="software-engineering", level="beginner", hours=12, premium=False,
 tags=["python", "programming", "basics"], summary="Write small, readable Python programs: values, control flow, functions, collections and modules.",
 skills=[("Python", "ccd0a1d9-afda-43d9-b901-96344886e14d", 2), ("algorithms", "54924a2c-daca-40d3-9716-4b38ceb04f38", 1)],
 a1="""# Values, names and control flow

Python programs are built from **expressions** that produce values and **statements** that do something with them.
A name is bound to a value with `=`; names have no declared type, values do.

```python
hours = 12
rate = 45.5
print(f"Invoice total: {hours * rate:.2f}")
```

Decisions use `if`/`elif`/`else`, repetition uses `for` over any iterable:

```python
for lesson in ["values", "functions", "modules"]:
    if lesson == "functions":
        print("the heart of the course")
```

Indentation is part of the syntax: four spaces per level is the convention (PEP 8).
""",
 a2="""# Functions and collections

* Put every reusable step in a function with a clear name and a docstring.
* Prefer `list`, `dict`, `set` and `tuple` before writing your own classes.
* Use comprehensions for simple transformations: `[s.strip() for s in lines if s]`.
* Return values instead of printing them; printing belongs at the edge of a program.
""",
 quiz=[("Which keyword defines a function?", ["func", "def", "lambda only", "function"], 1),
       ("What does `len({'a': 1, 'b': 2})` return?", ["1", "2", "4", "an error"], 1),
       ("Which collection keeps unique items only?", ["list", "tuple", "set", "str"], 2)]),
dict(slug="python-testing-pytest", title="Testing Python Code with pytest", track="software-engineering", level="intermediate", hours=8, premium=False,
 tags=["python", "testing", "pytest", "tdd"], summary="Write fast, meaningful unit and integration tests with pytest fixtures, parametrisation and property-based tests.",
 skills=[("Python", "ccd0a1d9-afda-43d9-b901-96344886e14d", 3), ("levels of software testing", "85f46538-ae70-498a-bfbc-b8ddafe96c7d", 3), ("design software testing", "7253d98c-4a6d-4e37-8b6c-accca9f4b639", 2)],
 a1="""# Why tests fail for the right reasons

A useful test **fails when the behaviour breaks** and passes otherwise. Three rules get you most of the way:

1. Arrange, act, assert: one behaviour per test.
2. Assert on outcomes a user would notice, not on private helpers.
3. Use real collaborators where they are cheap (an in-memory list, a temporary directory, a real database in a container).

```python
import pytest

@pytest.mark.parametrize("raw,expected", [("  a ", "a"), ("", "")])
def test_normalise_strips(raw, expected):
    assert normalise(raw) == expected
```
""",
 a2="""# Fixtures and scope

* `@pytest.fixture` builds what a test needs; `yield` lets it clean up afterwards.
* Widen the scope (`module`, `session`) only for expensive, read-only resources.
* `tmp_path` gives every test its own directory.
* Hypothesis generates inputs that break assumptions you did not know you had.
""",
 quiz=[("What does a pytest fixture with `yield` do after the yield?", ["Nothing", "Runs teardown code", "Runs the test again", "Skips the test"], 1),
       ("Which decorator runs a test with several inputs?", ["@pytest.mark.parametrize", "@pytest.fixture", "@pytest.skip", "@staticmethod"], 0),
       ("A good unit test asserts on…", ["private attributes", "observable behaviour", "log output only", "execution time"], 1)]),
dict(slug="sql-for-everyone", title="SQL for Everyone", track="data-analysis", level="beginner", hours=10, premium=False,
 tags=["sql", "databases", "postgresql"], summary="Query relational data with SELECT, filtering, joins, grouping and window functions using PostgreSQL.",
 skills=[("SQL", "598de5b0-5b58-4ea7-8058-a4bc4d18c742", 2), ("database", "43ae58b9-5e56-4524-b45a-b422777a0576", 1)],
 a1="""# Your first queries

A relational database stores rows in **tables**. `SELECT` reads them:

```sql
SELECT title, estimated_hours
FROM courses
WHERE level = 'beginner'
ORDER BY estimated_hours DESC
LIMIT 10;
```

* `WHERE` filters rows before grouping.
* `ORDER BY` makes results deterministic; without it the order is undefined.
* `LIMIT` with `OFFSET` pages through results, but keyset pagination (`WHERE id > :last`) scales better.
""",
 a2="""# Joins and aggregates

`JOIN` combines rows that match on a condition; `LEFT JOIN` keeps rows without a match.
`GROUP BY` collapses rows into groups and aggregates such as `count(*)`, `avg()` summarise them.
`HAVING` filters groups after aggregation.
""",
 quiz=[("Which clause filters groups after aggregation?", ["WHERE", "HAVING", "ORDER BY", "LIMIT"], 1),
       ("Without ORDER BY the row order is…", ["alphabetical", "by primary key", "undefined", "insertion order"], 2),
       ("Which join keeps rows of the left table without a match?", ["INNER JOIN", "LEFT JOIN", "CROSS JOIN", "SELF JOIN"], 1)]),
dict(slug="javascript-essentials", title="JavaScript Essentials", track="software-engineering", level="beginner", hours=14, premium=False,
 tags=["javascript", "web", "frontend"], summary="Learn modern JavaScript: let/const, functions, arrays, objects, promises and async/await in the browser and Node.js.",
 skills=[("JavaScript", "3cd569a2-4f88-4c1e-9995-8dce8c5e51a7", 2), ("web programming", "69bbd53f-fbb0-4476-b4b2-ef7844464e28", 1)],
 a1="""# Modern JavaScript syntax

Use `const` by default and `let` when a binding must change; avoid `var`.

```js
const skills = ["html", "css", "js"];
const upper = skills.map((s) => s.toUpperCase());
```

Objects group related values, and destructuring pulls them apart again:

```js
const course = { title: "JS Essentials", hours: 14 };
const { title, hours } = course;
```
""",
 a2="""# Asynchronous code

* A `Promise` represents a value that arrives later.
* `async` functions return promises; `await` pauses until one settles.
* Always handle rejections: `try { await fetch(url) } catch (err) { ... }`.
""",
 quiz=[("Which declaration cannot be reassigned?", ["var", "let", "const", "function"], 2),
       ("What does an async function return?", ["undefined", "a Promise", "a callback", "a generator"], 1),
       ("`[1,2,3].map(x => x * 2)` returns…", ["[2,4,6]", "6", "[1,2,3]", "12"], 0)]),
dict(slug="typescript-for-web-apps", title="TypeScript for Web Applications", track="software-engineering", level="intermediate", hours=10, premium=True,
 tags=["typescript", "javascript", "types", "frontend"], summary="Add static types to JavaScript projects: interfaces, generics, narrowing and strict compiler settings.",
 skills=[("TypeScript", "867137fb-ff1b-4ca3-99f3-cb6969aa2c68", 3), ("JavaScript", "3cd569a2-4f88-4c1e-9995-8dce8c5e51a7", 3)],
 a1="""# Types that document intent

TypeScript checks your code before it runs. Describe data with `interface` or `type`:

```ts
interface Course { id: string; title: string; level: "beginner" | "intermediate" | "advanced" }
function label(c: Course): string { return `${c.title} (${c.level})`; }
```

Turn on `"strict": true` in `tsconfig.json`: it enables `strictNullChecks`, which catches most runtime `undefined` errors.
""",
 a2="""# Generics and narrowing

* Generics (`function first<T>(xs: T[]): T | undefined`) keep type information through helpers.
* Narrow unions with `typeof`, `in` or a discriminant field before using them.
* Prefer `unknown` to `any` for values from the outside world, then validate.
""",
 quiz=[("Which compiler option enables strictNullChecks?", ["noEmit", "strict", "allowJs", "target"], 1),
       ("What is safer for untrusted input?", ["any", "unknown", "never", "object"], 1),
       ("A union like `'a' | 'b'` is narrowed with…", ["a cast", "a discriminant check", "JSON.parse", "new"], 1)]),
dict(slug="git-and-code-review", title="Git and Code Review in Teams", track="software-engineering", level="beginner", hours=6, premium=False,
 tags=["git", "version-control", "collaboration"], summary="Branch, commit, rebase and review code with confidence; write pull requests reviewers enjoy.",
 skills=[("software design methodologies", "8ff015a0-98ea-4d80-a23e-1f68110a919e", 1), ("use software design patterns", "2b7a79e5-84d8-4880-be66-3d9bb05bea17", 1)],
 a1="""# Commits that tell a story

A commit is a snapshot plus a message. Good messages say **why**, not only what:

```
Cache verified tokens for 30 s

Token verification was 40% of gateway CPU in the profile.
```

Keep commits small and focused; `git add -p` stages parts of a file.
""",
 a2="""# Reviewing pull requests

* Read the description and tests first: do they show the behaviour?
* Comment on correctness and clarity before style; let formatters handle style.
* Approve when it is better than before, not when it is perfect.
""",
 quiz=[("Which command stages parts of a file interactively?", ["git add -p", "git commit -a", "git stash", "git log -p"], 0),
       ("A commit message should mainly explain…", ["who wrote it", "why the change was made", "the file list", "the date"], 1),
       ("What should reviewers check first?", ["variable names", "description and tests", "whitespace", "commit dates"], 1)]),
dict(slug="java-backend-fundamentals", title="Java Backend Fundamentals", track="software-engineering", level="intermediate", hours=20, premium=True,
 tags=["java", "backend", "oop"], summary="Object-oriented design in Java: classes, interfaces, collections, exceptions and a first REST service.",
 skills=[("Java (computer programming)", "19a8293b-8e95-4de3-983f-77484079c389", 3), ("use object-oriented programming", "5b9cde20-f1b9-4adc-bfb3-dbf70b14138d", 3)],
 a1="""# Classes and interfaces

Java models behaviour with **interfaces** and state with **classes**:

```java
public interface CourseRepository {
    Optional<Course> findById(UUID id);
}
```

Depend on interfaces, not implementations: a service that takes a `CourseRepository` can be tested with an in-memory one.
""",
 a2="""# Exceptions and collections

* Use checked exceptions for recoverable conditions the caller must handle.
* `List.of(...)` and `Map.of(...)` create immutable collections.
* Streams (`list.stream().filter(...).map(...).toList()`) replace many loops.
""",
 quiz=[("Which construct declares behaviour without state?", ["class", "interface", "enum", "record"], 1),
       ("`List.of(1, 2)` returns a list that is…", ["mutable", "immutable", "synchronised", "lazy"], 1),
       ("Depending on interfaces makes code easier to…", ["compile", "test", "obfuscate", "minify"], 1)]),
dict(slug="html-css-responsive-web", title="HTML and CSS: Responsive Web Pages", track="software-engineering", level="beginner", hours=9, premium=False,
 tags=["html", "css", "frontend", "accessibility"], summary="Semantic HTML, modern CSS layout with flexbox and grid, and responsive, accessible pages.",
 skills=[("use markup languages", "0af062de-eb43-41e9-9b96-249e2cd22d26", 2), ("CSS", "e5d1f825-60ed-4bdd-872a-e748c387f777", 2)],
 a1="""# Semantic structure first

Use elements for their meaning: `<header>`, `<nav>`, `<main>`, `<article>`, `<button>`.
Screen readers and search engines rely on that structure.

```html
<main>
  <h1>Course catalog</h1>
  <ul class="cards">...</ul>
</main>
```
""",
 a2="""# Layout with grid and flexbox

* Flexbox lays out items in one dimension; grid in two.
* `grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr))` gives responsive cards without media queries.
* Test with keyboard only: every action must be reachable with Tab and Enter.
""",
 quiz=[("Which element should wrap the page's primary content?", ["<div>", "<main>", "<section>", "<span>"], 1),
       ("Grid differs from flexbox because it lays out in…", ["one dimension", "two dimensions", "3D", "print only"], 1),
       ("Clickable actions should be…", ["<div onclick>", "<button>", "<span>", "<img>"], 1)]),
dict(slug="excel-data-analysis", title="Spreadsheet Data Analysis", track="data-analysis", level="beginner", hours=6, premium=False,
 tags=["excel", "spreadsheets", "pivot-tables"], summary="Clean, summarise and chart data in spreadsheets with lookups, pivot tables and conditional formatting.",
 skills=[("use spreadsheets software", "1973c966-f236-40c9-b2d4-5d71a89019be", 2), ("data analytics", "97bd1c21-66b2-4b7e-ad0f-e3cda590e378", 1)],
 a1="""# Tidy data in a sheet

One row per observation, one column per variable, one value per cell. Convert ranges to **tables** so formulas and pivots grow with the data.

Use `XLOOKUP(key, lookup_range, return_range)` instead of `VLOOKUP`: it does not break when columns move.
""",
 a2="""# Pivot tables

* Drag a category to Rows and a number to Values to summarise in seconds.
* Use filters and slicers to explore without changing the source.
* Refresh the pivot after the source changes.
""",
 quiz=[("Tidy data has one row per…", ["column", "observation", "file", "chart"], 1),
       ("Which function survives column reordering?", ["VLOOKUP", "XLOOKUP", "HLOOKUP", "INDEX only"], 1),
       ("After changing the source of a pivot you must…", ["recreate it", "refresh it", "copy it", "nothing"], 1)]),
dict(slug="data-analysis-with-pandas", title="Data Analysis with pandas", track="data-analysis", level="intermediate", hours=14, premium=False,
 tags=["python", "pandas", "data-cleaning"], summary="Load, clean, reshape and summarise tabular data with pandas; avoid the common performance traps.",
 skills=[("data analytics", "97bd1c21-66b2-4b7e-ad0f-e3cda590e378", 3), ("perform data cleansing", "50b100ea-74fd-4706-99db-3e4ca55e51b8", 3), ("Python", "ccd0a1d9-afda-43d9-b901-96344886e14d", 2)],
 a1="""# DataFrames

A `DataFrame` is a table of typed columns.

```python
import pandas as pd
df = pd.read_csv("enrolments.csv", parse_dates=["enrolled_at"])
weekly = df.groupby(pd.Grouper(key="enrolled_at", freq="W"))["user_id"].nunique()
```

Vectorised column operations are orders of magnitude faster than `apply` with a Python function.
""",
 a2="""# Cleaning checklist

* Check `df.dtypes` and `df.isna().sum()` first.
* Normalise text keys (`str.strip().str.lower()`) before joining.
* Drop exact duplicates; investigate near-duplicates.
* Keep the raw file; write cleaned data to a new file.
""",
 quiz=[("Which is usually fastest for a column calculation?", ["a for loop", "df.apply", "vectorised operations", "iterrows"], 2),
       ("How do you count missing values per column?", ["df.count()", "df.isna().sum()", "df.size", "df.nunique()"], 1),
       ("Before joining on text keys you should…", ["sort them", "normalise them", "encrypt them", "drop them"], 1)]),
dict(slug="statistics-for-analysts", title="Practical Statistics for Analysts", track="data-analysis", level="intermediate", hours=12, premium=True,
 tags=["statistics", "ab-testing", "inference"], summary="Distributions, confidence intervals, hypothesis tests and A/B experiments explained with worked examples.",
 skills=[("statistics", "7ee4c2ea-b349-4bd2-81a3-ec31475d4833", 3), ("carry out statistical forecasts", "be727774-46d7-43d7-aee9-1a51b5cd8c71", 2)],
 a1="""# Uncertainty is the point

A sample mean is an estimate. A **95% confidence interval** is a range built by a procedure that captures the true mean in 95% of repeated samples.

For an A/B test, decide the metric, the minimum detectable effect and the sample size **before** you start, and do not stop early when the p-value dips below 0.05.
""",
 a2="""# Choosing a test

* Two proportions: a two-proportion z-test or chi-squared test.
* Two means with unknown variance: Welch's t-test.
* Many comparisons: correct with Holm or Benjamini–Hochberg.
""",
 quiz=[("Stopping an A/B test as soon as p < 0.05 leads to…", ["lower power", "inflated false positives", "exact results", "smaller samples only"], 1),
       ("Which test compares two means with unequal variances?", ["Welch's t-test", "chi-squared", "ANOVA only", "Mann-Kendall"], 0),
       ("Sample size should be fixed…", ["after seeing data", "before the experiment", "never", "by the p-value"], 1)]),
dict(slug="data-visualisation-storytelling", title="Data Visualisation and Storytelling", track="data-analysis", level="beginner", hours=7, premium=False,
 tags=["visualisation", "dashboards", "communication"], summary="Pick the right chart, remove clutter and build dashboards that answer a decision-maker's question.",
 skills=[("visualise data", "c3e36d05-8ae8-447f-bb2b-6f9409f85389", 3), ("business intelligence", "143769cb-b61e-47d8-a61e-eedfbec1016c", 1)],
 a1="""# One chart, one message

Start from the question. Comparisons across categories: bar charts. Change over time: line charts. Parts of a whole with few parts: stacked bars.

Remove gridlines and legends you can replace with direct labels, and put the conclusion in the title: *"Completion rose 12% after weekly reminders"*.
""",
 a2="""# Dashboard checklist

* Who decides what with this dashboard?
* Top-left holds the most important number.
* Every chart has a time range and a source.
""",
 quiz=[("Which chart suits change over time?", ["pie", "line", "scatter only", "treemap"], 1),
       ("A good chart title states…", ["the chart type", "the conclusion", "the author", "the tool"], 1),
       ("A dashboard should start from…", ["available data", "a decision to support", "colours", "the logo"], 1)]),
dict(slug="machine-learning-foundations", title="Machine Learning Foundations", track="data-science", level="intermediate", hours=24, premium=True,
 tags=["machine-learning", "scikit-learn", "python"], summary="Supervised learning end to end: features, train/test splits, cross-validation, metrics and model selection with scikit-learn.",
 skills=[("machine learning", "3a2d5b45-56e4-4f5a-a55a-4a4a65afdc43", 3), ("statistics", "7ee4c2ea-b349-4bd2-81a3-ec31475d4833", 2), ("Python", "ccd0a1d9-afda-43d9-b901-96344886e14d", 3)],
 a1="""# Generalisation

A model is useful if it performs well on **data it has not seen**. Hold out a test set and touch it once, at the end.
Use cross-validation on the training data to choose hyper-parameters:

```python
from sklearn.model_selection import cross_val_score
scores = cross_val_score(model, X_train, y_train, cv=5, scoring="f1")
```

Put preprocessing inside a `Pipeline` so it is fitted on training folds only; otherwise information leaks.
""",
 a2="""# Metrics that fit the problem

* Imbalanced classes: precision, recall, F1 or PR-AUC rather than accuracy.
* Regression: MAE is robust to outliers, RMSE punishes large errors.
* Always compare against a trivial baseline.
""",
 quiz=[("Why put scaling inside a Pipeline?", ["speed", "to avoid data leakage", "to use less memory", "for plotting"], 1),
       ("Accuracy is misleading when…", ["classes are imbalanced", "data is numeric", "you use Python", "there are many rows"], 0),
       ("The test set should be used…", ["for every tuning step", "once at the end", "never", "for feature selection"], 1)]),
dict(slug="deep-learning-with-pytorch", title="Deep Learning with PyTorch", track="data-science", level="advanced", hours=30, premium=True,
 tags=["deep-learning", "pytorch", "neural-networks"], summary="Tensors, autograd, training loops, regularisation and transfer learning for vision and text.",
 skills=[("deep learning", "ecc4552a-92c5-4222-b18d-faf5ac841080", 4), ("computer vision", "7b0d5000-00da-4864-b776-6de49a87a669", 2), ("machine learning", "3a2d5b45-56e4-4f5a-a55a-4a4a65afdc43", 3)],
 a1="""# The training loop

```python
for xb, yb in loader:
    optimiser.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()
    optimiser.step()
```

Track training **and** validation loss each epoch. When validation loss rises while training loss falls, the model is overfitting: add data augmentation, weight decay or early stopping.
""",
 a2="""# Transfer learning

* Start from a pretrained backbone; replace the final layer.
* Freeze early layers first, then fine-tune with a smaller learning rate.
* Log every run's configuration so results are reproducible.
""",
 quiz=[("What does `loss.backward()` compute?", ["the loss", "gradients", "new weights", "predictions"], 1),
       ("Validation loss rising while training loss falls indicates…", ["underfitting", "overfitting", "a bug in the loader", "convergence"], 1),
       ("When fine-tuning a pretrained model you usually…", ["raise the learning rate", "use a smaller learning rate", "drop the data", "reset all weights"], 1)]),
dict(slug="nlp-practical-intro", title="Natural Language Processing in Practice", track="data-science", level="advanced", hours=18, premium=True,
 tags=["nlp", "text", "embeddings"], summary="Tokenisation, embeddings, text classification and retrieval; evaluating language models responsibly.",
 skills=[("natural language processing", "fff0e2cd-d0bd-4b02-9daf-158b79d9688a", 3), ("machine learning", "3a2d5b45-56e4-4f5a-a55a-4a4a65afdc43", 3)],
 a1="""# From text to vectors

Models work on numbers. **Tokenisers** split text into sub-word units; **embeddings** map them to vectors where similar meanings lie close together.

A strong baseline for classification is still TF-IDF plus logistic regression: train it first, then see whether a transformer is worth its cost.
""",
 a2="""# Evaluating NLP systems

* Keep a labelled test set that reflects real inputs, including typos and other languages.
* Measure per-class errors, not only averages.
* Check outputs for bias across groups before shipping.
""",
 quiz=[("What do embeddings represent?", ["file sizes", "tokens as vectors", "grammar rules", "fonts"], 1),
       ("A sensible first baseline for text classification is…", ["a large LLM", "TF-IDF + logistic regression", "random guessing only", "regex"], 1),
       ("Per-class error analysis helps find…", ["faster GPUs", "weak classes and bias", "tokeniser bugs only", "nothing"], 1)]),
dict(slug="data-engineering-pipelines", title="Data Engineering: Reliable Pipelines", track="data-science", level="intermediate", hours=16, premium=False,
 tags=["etl", "data-quality", "sql", "pipelines"], summary="Design idempotent batch pipelines, data models and quality checks that catch bad data before dashboards do.",
 skills=[("data models", "fecf8a0d-62c4-4e71-9b03-0f4fc2ad7bf5", 3), ("data quality assessment", "cc7370dd-69fa-4c67-a96f-d4d135d38700", 3), ("SQL", "598de5b0-5b58-4ea7-8058-a4bc4d18c742", 3)],
 a1="""# Idempotent loads

A pipeline step is **idempotent** when running it twice gives the same result as running it once. Load by partition (e.g. one day) and replace the whole partition instead of appending:

```sql
DELETE FROM fact_enrolments WHERE day = :day;
INSERT INTO fact_enrolments SELECT ... WHERE day = :day;
```

Do both inside one transaction so readers never see a half-loaded day.
""",
 a2="""# Data quality checks

* Row counts within an expected range.
* Keys unique and not null.
* Foreign keys resolve.
* Freshness: the newest row is recent enough.
""",
 quiz=[("An idempotent step run twice gives…", ["double rows", "the same result", "an error", "random output"], 1),
       ("Replacing a partition should happen…", ["in one transaction", "row by row", "without locks ever", "weekly"], 0),
       ("Which is a freshness check?", ["unique keys", "newest row is recent", "not null", "row size"], 1)]),
dict(slug="devops-ci-cd", title="DevOps: CI/CD Pipelines", track="devops-cloud", level="intermediate", hours=12, premium=False,
 tags=["ci", "cd", "automation", "devops"], summary="Build pipelines that test, package and deploy on every change, with fast feedback and safe rollbacks.",
 skills=[("DevOps", "f0de4973-0a70-4644-8fd4-3a97080476f4", 3), ("Jenkins (tools for software configuration management)", "f47a1998-0beb-43be-9f46-380aa4d183da", 2)],
 a1="""# The pipeline as the path to production

Every change follows the same path: **build → test → package → deploy**. Keep the first feedback under ten minutes: run unit tests and linters first, slower suites in parallel afterwards.

Build the artefact once (an image with an immutable tag) and promote the same artefact through environments.
""",
 a2="""# Safe deployments

* Rolling or blue/green deployments with health checks.
* Database migrations that are backwards compatible (expand, then contract).
* A rollback is a deploy of the previous artefact, rehearsed regularly.
""",
 quiz=[("Why build the artefact only once?", ["to save disk", "so every environment runs the same thing", "licensing", "speed only"], 1),
       ("Backwards-compatible migrations follow…", ["big bang", "expand then contract", "drop first", "manual edits"], 1),
       ("Fast feedback means running first…", ["load tests", "unit tests and linters", "manual QA", "penetration tests"], 1)]),
dict(slug="docker-kubernetes-basics", title="Containers and Kubernetes Basics", track="devops-cloud", level="intermediate", hours=15, premium=True,
 tags=["docker", "kubernetes", "containers"], summary="Package services as images and run them on Kubernetes with deployments, services, probes and resource limits.",
 skills=[("manage ICT virtualisation environments", "ae4f0cc6-e0b9-47f5-bdca-2fc2e6316dce", 3), ("deploy cloud resource", "6195c5f7-a4fb-425d-a3dd-c4467c4471a3", 2)],
 a1="""# Images and containers

An **image** is an immutable filesystem plus metadata; a **container** is a running instance. Multi-stage builds keep images small:

```dockerfile
FROM python:3.11-slim AS build
RUN pip wheel -r requirements.txt -w /wheels
FROM python:3.11-slim
COPY --from=build /wheels /wheels
```

Run as a non-root user and pin base images by digest.
""",
 a2="""# Kubernetes objects you need first

* **Deployment**: desired replicas of a pod template.
* **Service**: a stable name and address for those pods.
* **Probes**: readiness gates traffic, liveness restarts stuck containers.
* **Requests/limits**: let the scheduler place pods and protect neighbours.
""",
 quiz=[("Which probe controls whether a pod receives traffic?", ["liveness", "readiness", "startup only", "none"], 1),
       ("Multi-stage builds mainly…", ["speed up CPUs", "keep final images small", "encrypt images", "replace registries"], 1),
       ("A Service gives pods…", ["storage", "a stable name and address", "more CPU", "secrets"], 1)]),
dict(slug="cloud-fundamentals-aws", title="Cloud Fundamentals", track="devops-cloud", level="beginner", hours=8, premium=False,
 tags=["cloud", "iaas", "object-storage", "networking"], summary="Core cloud concepts: regions, compute, object storage, managed databases, identity and cost control.",
 skills=[("cloud technologies", "bd14968e-e409-45af-b362-3495ed7b10e0", 2), ("develop with cloud services", "6b643893-0a1f-4f6c-83a1-e7eef75849b9", 1)],
 a1="""# Shared responsibility

The provider secures the **cloud itself** (data centres, hypervisors); you secure what you put **in** it: identities, network rules, data and configuration.

Object storage (S3-compatible) stores files by key in buckets; grant time-limited **presigned URLs** instead of making buckets public.
""",
 a2="""# Keeping costs visible

* Tag every resource with owner and environment.
* Set budgets and alerts.
* Turn off idle environments automatically.
""",
 quiz=[("Who secures identities and data in the shared responsibility model?", ["the provider", "the customer", "nobody", "the ISP"], 1),
       ("A safe way to share a private object temporarily is…", ["a public bucket", "a presigned URL", "emailing keys", "FTP"], 1),
       ("Resource tags help with…", ["latency", "cost attribution", "encryption", "DNS"], 1)]),
dict(slug="infrastructure-as-code-ansible", title="Infrastructure as Code with Ansible", track="devops-cloud", level="intermediate", hours=10, premium=False,
 tags=["ansible", "automation", "configuration-management"], summary="Automate server configuration with idempotent Ansible playbooks, roles and inventories.",
 skills=[("Ansible", "6f8a40d6-f9ce-43ec-a72f-d4213a53f3ed", 3), ("automate cloud tasks", "ce8ae6ca-61d8-4174-b457-641de96cbff4", 2)],
 a1="""# Declarative, idempotent tasks

Ansible tasks describe a **desired state**; running a playbook twice changes nothing the second time.

```yaml
- name: nginx is installed
  ansible.builtin.apt:
    name: nginx
    state: present
```

Use `--check --diff` to preview changes before applying them.
""",
 a2="""# Structure

* Group hosts in inventories per environment.
* Package reusable logic as roles with defaults.
* Keep secrets in Ansible Vault or an external secret store.
""",
 quiz=[("Running an idempotent playbook twice…", ["doubles changes", "changes nothing the second time", "fails", "reboots hosts"], 1),
       ("Which flags preview changes?", ["--check --diff", "--force", "--verbose", "--list-hosts"], 0),
       ("Where should secrets live?", ["in plain YAML", "in Ansible Vault or a secret store", "in the inventory name", "in comments"], 1)]),
dict(slug="observability-monitoring", title="Observability: Metrics, Logs and Traces", track="devops-cloud", level="advanced", hours=12, premium=True,
 tags=["monitoring", "prometheus", "tracing", "sre"], summary="Instrument services with metrics, structured logs and traces; write alerts on symptoms and run blameless post-mortems.",
 skills=[("monitor system performance", "9190d87f-9792-42e0-bb7f-64294a656bcd", 3), ("DevOps", "f0de4973-0a70-4644-8fd4-3a97080476f4", 3)],
 a1="""# Symptoms before causes

Alert on what users feel: error rate, latency, saturation. The **RED** method (rate, errors, duration) covers request-driven services.

```promql
histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))
```

Every alert links to a runbook that says what to check first.
""",
 a2="""# Traces and logs

* Propagate a trace id through every hop, including message queues.
* Log structured JSON with that trace id.
* Sample traces, but keep all errors.
""",
 quiz=[("RED stands for…", ["read, edit, delete", "rate, errors, duration", "redundancy, encryption, DNS", "requests, events, data"], 1),
       ("Alerts should primarily fire on…", ["CPU of one host", "user-facing symptoms", "log volume", "deploys"], 1),
       ("What ties logs to a trace?", ["the host name", "the trace id", "the timestamp only", "the log level"], 1)]),
dict(slug="cybersecurity-essentials", title="Cybersecurity Essentials", track="cybersecurity", level="beginner", hours=10, premium=False,
 tags=["security", "threats", "passwords", "phishing"], summary="Threats, controls and everyday habits: authentication, patching, phishing defence and incident reporting.",
 skills=[("cyber attack counter-measures", "5898d99a-62a4-4e10-a2e3-0d815ce44248", 2), ("ICT network security risks", "2ddb1226-1117-4eb4-ae65-3a2f5a5a3c80", 1)],
 a1="""# The CIA triad

Security protects **confidentiality** (only the right people read data), **integrity** (data is not altered without detection) and **availability** (systems work when needed).

Most breaches start with stolen credentials or unpatched software. Multi-factor authentication and prompt patching stop a large share of them.
""",
 a2="""# Everyday controls

* Use a password manager and unique passwords.
* Turn on MFA everywhere it is offered.
* Report suspicious emails; do not just delete them.
""",
 quiz=[("What does the I in CIA stand for?", ["identity", "integrity", "inspection", "isolation"], 1),
       ("Which control most reduces credential-stuffing risk?", ["longer screensaver", "multi-factor authentication", "VPN only", "antivirus only"], 1),
       ("A suspicious email should be…", ["deleted silently", "reported", "forwarded to colleagues", "answered"], 1)]),
dict(slug="web-application-security", title="Web Application Security (OWASP Top 10)", track="cybersecurity", level="intermediate", hours=14, premium=True,
 tags=["owasp", "appsec", "web", "security-testing"], summary="Find and fix injection, broken access control, XSS and other OWASP Top 10 risks in web applications.",
 skills=[("perform ICT security testing", "f4a85869-1855-45d5-a43c-7ee8cd451996", 3), ("cyber attack counter-measures", "5898d99a-62a4-4e10-a2e3-0d815ce44248", 3)],
 a1="""# Broken access control

The most common serious flaw: a user can act on data that is not theirs. Check authorisation **on the server, for every request**, using the identity from the verified token, never an id from the request body.

```python
if course.tenant_id != principal.tenant_id:
    raise NotFound()   # do not reveal that it exists
```
""",
 a2="""# Injection and XSS

* Use parameterised queries; never concatenate SQL.
* Encode output for its context (HTML, attribute, URL).
* Set a Content-Security-Policy to limit script sources.
""",
 quiz=[("Where must authorisation be enforced?", ["in the browser", "on the server for every request", "in the CDN", "in CSS"], 1),
       ("SQL injection is prevented by…", ["escaping quotes by hand", "parameterised queries", "longer passwords", "HTTPS"], 1),
       ("Which header limits script sources?", ["Content-Security-Policy", "Accept", "ETag", "Vary"], 0)]),
dict(slug="network-security-fundamentals", title="Network Security Fundamentals", track="cybersecurity", level="intermediate", hours=12, premium=False,
 tags=["network", "firewalls", "tls", "zero-trust"], summary="Segmentation, firewalls, TLS, VPNs and zero-trust principles for modern networks.",
 skills=[("ICT network security risks", "2ddb1226-1117-4eb4-ae65-3a2f5a5a3c80", 3), ("ICT encryption", "d32db06e-bd06-4415-a7ab-1b0ee68caa9a", 2)],
 a1="""# Default deny

Segment networks so a compromised host cannot reach everything. Start from **deny all** and allow only the flows a service needs, in both directions.

Zero trust extends this: every request is authenticated and authorised, whether it comes from inside or outside the network.
""",
 a2="""# TLS in practice

* Use TLS 1.2+ everywhere, including internal traffic.
* Automate certificate renewal.
* Pin nothing you cannot rotate.
""",
 quiz=[("A firewall policy should start from…", ["allow all", "deny all", "allow internal", "log only"], 1),
       ("Zero trust means…", ["no passwords", "authenticate every request", "no firewalls", "trusting the LAN"], 1),
       ("Minimum TLS version recommended?", ["SSL 3", "TLS 1.0", "TLS 1.2", "TLS 0.9"], 2)]),
dict(slug="security-risk-and-gdpr", title="Information Security Risk and Data Protection", track="cybersecurity", level="advanced", hours=10, premium=True,
 tags=["risk", "gdpr", "compliance", "governance"], summary="Assess information security risks, design controls and meet GDPR duties: lawful basis, minimisation, breach notification.",
 skills=[("risk management", "6eff134b-e34f-4d6e-a6e8-5e47cf2228d0", 3), ("data protection", "a4346013-a967-4a58-a533-6b32ad1364c5", 3), ("information security strategy", "11eebd42-44ab-401d-8a2c-bdb9fc9beb50", 2)],
 a1="""# Risk = likelihood × impact

List assets, the threats to them and existing controls; rate likelihood and impact; treat the highest risks first (mitigate, transfer, avoid or accept — and record who accepted).

Under the GDPR, a personal-data breach likely to harm people must be reported to the supervisory authority within **72 hours**.
""",
 a2="""# Data minimisation

* Collect only what a purpose needs.
* Keep it only as long as needed.
* Separate identifying data from analytics data.
""",
 quiz=[("GDPR breach notification deadline to the authority?", ["24 hours", "72 hours", "30 days", "no deadline"], 1),
       ("Risk is commonly estimated as…", ["likelihood × impact", "cost + time", "assets − threats", "controls ÷ risks"], 0),
       ("Data minimisation means…", ["compressing data", "collecting only what is needed", "deleting backups", "shorter column names"], 1)]),
]
