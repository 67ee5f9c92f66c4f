"""What the "mixed" shape talks about: a few subjects, each with the pieces a model's answer is made of.

The prose is written to read like a real assistant's answer (paragraphs, lists, code, a table, a tip,
links), so the page meets text that looks like what Groq and Gemini send. ``mixed`` picks and orders
these pieces by prompt; nothing here is random.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    subject: str  # as it reads inside a sentence or a heading
    keywords: frozenset[str]  # lower-case words of a prompt that choose this topic
    paragraphs: tuple[str, ...]
    points: tuple[str, ...]  # bullet items
    steps: tuple[str, ...]  # numbered steps
    code: tuple[tuple[str, str], ...]  # (language tag, source); empty where a model would write none
    table: tuple[tuple[str, ...], ...]  # header row first
    pitfalls: tuple[str, ...]
    tip: str
    faq: tuple[tuple[str, str], ...]
    links: tuple[tuple[str, str], ...]
    choices: tuple[tuple[str, str], ...]  # (option, when to choose it) for comparisons
    summary: str  # the one-line ending of a detailed answer
    more: tuple[str, ...]  # paragraphs only a detailed answer has room for


PYTHON = Topic(
    subject="async Python",
    keywords=frozenset(
        {"python", "asyncio", "async", "await", "pip", "django", "fastapi", "pandas", "list", "dict", "coroutine"}
    ),
    paragraphs=(
        "Python's `asyncio` lets one thread juggle many tasks that spend most of their time *waiting* — on "
        "sockets, on databases, on other services. While one coroutine waits at an `await`, the event loop "
        "runs another, so a single process can keep thousands of connections open without a thread for each.",
        "The catch is that everything in the path has to cooperate. A coroutine that calls a blocking function "
        "(say `time.sleep()` or a synchronous HTTP client) stops the whole loop, and every other task waits with "
        "it. That is why async libraries come in families: `httpx` or `aiohttp` for HTTP, `psycopg` 3 or "
        "`asyncpg` for Postgres.",
        "A good mental model: `async def` declares a function that *can* pause, `await` marks the places where "
        "it *does* pause, and the event loop decides what runs next. Nothing runs in parallel on the CPU — it is "
        "concurrency, not parallelism.",
        "When work is CPU-bound (image resizing, parsing a 2 GB file), asyncio does not help; hand it to "
        "`asyncio.to_thread()` or a `ProcessPoolExecutor` so the loop stays responsive.",
    ),
    points=(
        "**Coroutines** are created by calling an `async def` function; they do nothing until awaited or scheduled.",
        "**Tasks** (`asyncio.create_task`) run a coroutine in the background; keep a reference, or it may be "
        "garbage-collected mid-flight.",
        "**`asyncio.gather`** waits for several awaitables at once and returns their results in order.",
        "**`asyncio.timeout()`** (Python 3.11+) puts a deadline on any block of awaits.",
        "**`TaskGroup`** gives structured concurrency: if one task fails, the others are cancelled.",
        "**Cancellation** arrives as `CancelledError` at an `await` — clean up in `finally`, then let it propagate.",
    ),
    steps=(
        "Write the I/O functions as `async def` and use async clients inside them.",
        "Start independent work together with `asyncio.TaskGroup` instead of awaiting one call after another.",
        "Put a deadline on anything that talks to the network with `asyncio.timeout()`.",
        "Run the program with `asyncio.run(main())` — once, at the top level.",
        "Profile with `PYTHONASYNCIODEBUG=1`, which logs callbacks that block the loop for more than 100 ms.",
    ),
    code=(
        (
            "python",
            "import asyncio\n\nimport httpx\n\n\nasync def fetch_all(urls: list[str]) -> list[int]:\n"
            '    """Fetch every URL concurrently and return the status codes, in order."""\n'
            "    async with httpx.AsyncClient(timeout=10) as client:\n"
            "        async with asyncio.TaskGroup() as group:\n"
            "            tasks = [group.create_task(client.get(url)) for url in urls]\n"
            "    return [task.result().status_code for task in tasks]\n\n\n"
            'print(asyncio.run(fetch_all(["https://example.com"] * 3)))',
        ),
        (
            "python",
            "async def first_token(stream, *, deadline_s: float = 15.0) -> str:\n"
            "    # A deadline per read, not for the whole stream: long answers are fine, silence is not.\n"
            "    async with asyncio.timeout(deadline_s):\n"
            "        return await anext(stream)",
        ),
        ("console", "$ python -X dev -m myapp\n$ PYTHONASYNCIODEBUG=1 python -m myapp  # warns about slow callbacks"),
    ),
    table=(
        ("Tool", "Best for", "Runs in parallel?"),
        ("`asyncio`", "many waits on I/O", "no — one thread"),
        ("`threading`", "blocking libraries", "I/O yes, CPU no (the GIL)"),
        ("`multiprocessing`", "CPU-heavy work", "yes"),
        ("free-threaded 3.13t", "CPU-heavy threads", "yes, experimental"),
    ),
    pitfalls=(
        "Calling a blocking function inside a coroutine — the loop stalls for everyone.",
        "Forgetting `await`: you get a coroutine object and a *“coroutine was never awaited”* warning.",
        "Creating tasks without keeping a reference to them.",
        "Catching `CancelledError` (a bare `except:` does) and not re-raising it — the task then cannot be "
        "cancelled cleanly.",
    ),
    tip="**Tip:** if a library has no async API, `await asyncio.to_thread(func, *args)` runs it in a worker "
    "thread without blocking the loop.",
    faq=(
        ("Is asyncio faster than threads?", "Not per request — but it scales to far more concurrent waits."),
        ("Can I mix sync and async code?", "Yes, at the edges: `asyncio.run()` in, `to_thread()` out."),
        ("Which Python version?", "3.11 or newer, for `TaskGroup` and `asyncio.timeout()`."),
    ),
    links=(
        ("asyncio — Asynchronous I/O", "https://docs.python.org/3/library/asyncio.html"),
        ("Developing with asyncio", "https://docs.python.org/3/library/asyncio-dev.html"),
    ),
    summary="use asyncio for work that waits, keep blocking calls out of the loop, and give every network "
    "call a deadline.",
    choices=(
        ("asyncio", "many network calls that mostly wait, and libraries that speak async"),
        ("threads", "a handful of blocking calls from libraries you cannot change"),
    ),
    more=(
        "In practice most asyncio code is a web service: a framework such as FastAPI or Starlette runs the "
        "loop, each request is a task, and your handlers `await` the database and other services. The loop is "
        "shared by every request in the process, which is why one slow synchronous call shows up as latency "
        "for everyone.",
        "Back-pressure deserves a thought early. An `asyncio.Queue(maxsize=100)` between a producer and its "
        "consumers makes the producer wait when the consumers fall behind, instead of buffering without limit "
        "until memory runs out. A `Semaphore` does the same for outgoing requests: at most *n* in flight, the "
        "rest politely queued.",
        "Testing is pleasant once set up: `pytest-asyncio` or `anyio`'s plugin run `async def` tests, and a "
        "loopback server standing in for the real service exercises the same HTTP client code that production "
        "uses — far more honest than patching the client.",
    ),
)

WEB = Topic(
    subject="the browser's Fetch API",
    keywords=frozenset(
        {"javascript", "js", "typescript", "react", "css", "html", "browser", "fetch", "dom", "node", "frontend"}
    ),
    paragraphs=(
        "`fetch()` is the browser's built-in way to make HTTP requests. It returns a promise that resolves as soon "
        "as the *headers* arrive — the body is a stream you read afterwards, all at once with `response.json()` "
        "or piece by piece through `response.body`.",
        "One detail surprises almost everyone: `fetch` only rejects on network failure. A `404` or a `500` "
        "resolves normally, so check `response.ok` (or `response.status`) before trusting the body.",
        "Reading the body as a stream is what makes chat interfaces feel fast: each chunk can be decoded and "
        "shown the moment it arrives, instead of waiting for the whole answer.",
        "For cancellation, pass an `AbortSignal`. `AbortSignal.timeout(ms)` gives a deadline in one line, and "
        "`AbortSignal.any([...])` combines a user's *Stop* button with that deadline.",
    ),
    points=(
        "**`response.ok`** is `true` only for statuses 200–299.",
        "**Streams** — `response.body.pipeThrough(new TextDecoderStream())` yields text chunks.",
        "**CORS** applies to cross-origin requests; the server must answer with `Access-Control-Allow-Origin`.",
        '**Credentials** are not sent cross-origin unless you set `credentials: "include"`.',
        "**`keepalive: true`** lets a small request outlive the page (analytics on unload).",
    ),
    steps=(
        "Build the request: method, headers (`Content-Type`, `Authorization`) and a JSON body.",
        "Pass an `AbortController`'s `signal` so the user can cancel.",
        "Check `response.ok`; on failure read the error body for a useful message.",
        "Read the body as a stream and update the UI once per animation frame, not once per chunk.",
    ),
    code=(
        (
            "javascript",
            "async function streamAnswer(url, body, onText, signal) {\n"
            "  const response = await fetch(url, {\n"
            '    method: "POST",\n'
            '    headers: { "Content-Type": "application/json" },\n'
            "    body: JSON.stringify(body),\n"
            "    signal,\n"
            "  });\n"
            "  if (!response.ok) throw new Error(`HTTP ${response.status}`);\n"
            "  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();\n"
            "  for (;;) {\n"
            "    const { value, done } = await reader.read();\n"
            "    if (done) return;\n"
            "    onText(value); // batch DOM updates with requestAnimationFrame\n"
            "  }\n"
            "}",
        ),
        (
            "typescript",
            "type Result<T> = { ok: true; value: T } | { ok: false; error: string };\n\n"
            "export async function getJson<T>(url: string): Promise<Result<T>> {\n"
            "  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });\n"
            "  return res.ok ? { ok: true, value: (await res.json()) as T } : { ok: false, error: res.statusText };\n"
            "}",
        ),
        ("css", ".answer {\n  max-width: 72ch;\n  line-height: 1.6;\n  overflow-wrap: anywhere; /* long URLs */\n}"),
    ),
    table=(
        ("API", "Streams the body?", "Cancellable?", "Notes"),
        ("`fetch`", "yes", "yes (`AbortSignal`)", "promise-based, modern"),
        ("`XMLHttpRequest`", "partly (`onprogress`)", "yes (`abort()`)", "legacy, callback-based"),
        ("`EventSource`", "yes (SSE)", "`close()`", "GET only, no custom headers"),
        ("`WebSocket`", "messages", "`close()`", "two-way, its own protocol"),
    ),
    pitfalls=(
        "Assuming a rejected promise means an HTTP error — check `response.ok`.",
        "Reading the body twice: a body can be consumed once (use `response.clone()` if you must).",
        "Updating the DOM for every tiny chunk; batch per frame or long answers will stutter.",
        "Forgetting that `EventSource` cannot send an `Authorization` header.",
    ),
    tip="**Note:** `TextDecoderStream` handles multi-byte characters split across chunks — "
    "decoding each chunk on its own would garble “é” or “東”.",
    faq=(
        (
            "Why does my request work in curl but not the browser?",
            "Almost always CORS: the server must allow your origin.",
        ),
        ("Is `fetch` available in Node?", "Yes, built in since Node 18."),
        ("How do I send cookies?", 'Same-origin requests send them; cross-origin needs `credentials: "include"`.'),
    ),
    links=(
        ("Using the Fetch API — MDN", "https://developer.mozilla.org/en-US/docs/Web/API/Fetch_API/Using_Fetch"),
        ("Streams API concepts — MDN", "https://developer.mozilla.org/en-US/docs/Web/API/Streams_API/Concepts"),
    ),
    summary="check `response.ok`, stream the body, batch DOM updates per frame and let the user cancel.",
    choices=(
        ("fetch + streams", "you need POST bodies, headers such as `Authorization`, and cancellation"),
        ("EventSource", "a simple GET feed the browser should reconnect to on its own"),
    ),
    more=(
        "In a chat interface the pattern is: send the question with `fetch`, read the streamed reply, and "
        "append each chunk to a buffer. A `requestAnimationFrame` callback then renders the buffer at most "
        "once per frame — about 60 times a second — so even a fast model producing 200 tokens a second costs "
        "the page very little.",
        "Error handling deserves the same care as the happy path. Distinguish a network failure (the promise "
        "rejects with a `TypeError`), an HTTP error (`response.ok` is false; read the body for the server's "
        "message) and a stream that stops half-way (the reader throws). Each deserves a different sentence "
        "for the person reading.",
        "Finally, remember the user can leave. Tie every request to an `AbortController` owned by the view "
        "that started it, and abort it when the view goes away; the server sees the connection close and can "
        "stop work.",
    ),
)

SQL = Topic(
    subject="Postgres indexes",
    keywords=frozenset({"sql", "postgres", "postgresql", "database", "index", "query", "join", "supabase", "table"}),
    paragraphs=(
        "An index is a separate, sorted structure that lets Postgres find rows without reading the whole table. "
        "The default kind, a **B-tree**, answers equality and range conditions (`=`, `<`, `BETWEEN`) and can "
        "return rows already in order, which also speeds up `ORDER BY … LIMIT`.",
        "Indexes are not free: every `INSERT`, `UPDATE` and `DELETE` has to maintain them, and they take disk "
        "space and memory. Add the ones your queries actually use, and check with `EXPLAIN` that they are used.",
        "Column order matters in a multi-column index. An index on `(user_id, created_at)` serves "
        "`WHERE user_id = $1 ORDER BY created_at DESC` perfectly, but does little for a query that filters on "
        "`created_at` alone.",
        "When a query reads only indexed columns, Postgres can answer from the index itself — an *index-only "
        "scan* — provided the visibility map is up to date, which is one more reason `autovacuum` matters.",
    ),
    points=(
        "**B-tree** — the default; equality, ranges, sorting.",
        "**GIN** — many values per row: `jsonb`, arrays, full-text search.",
        "**BRIN** — tiny indexes for huge, naturally ordered tables (time series).",
        "**Partial indexes** (`WHERE status = 'active'`) index only the rows you query.",
        "**`INCLUDE` columns** make index-only scans possible without widening the key.",
    ),
    steps=(
        "Find the slow query (`pg_stat_statements` sorts them by total time).",
        "Run `EXPLAIN (ANALYZE, BUFFERS)` on it and look for a *Seq Scan* on a large table.",
        "Create the index `CONCURRENTLY` so writes are not blocked.",
        "Run `EXPLAIN` again and compare the plan and the timing.",
        "Watch `pg_stat_user_indexes` over a week; drop indexes with `idx_scan = 0`.",
    ),
    code=(
        (
            "sql",
            "-- Newest conversations for one person, served straight from the index.\n"
            "create index concurrently conversations_user_recent\n"
            "    on conversations (user_id, updated_at desc)\n"
            "    include (title);\n\n"
            "explain (analyze, buffers)\n"
            "select id, title from conversations\n"
            " where user_id = '6f1c…'\n"
            " order by updated_at desc\n"
            " limit 20;",
        ),
        (
            "sql",
            "select relname as table, indexrelname as index, idx_scan\n"
            "  from pg_stat_user_indexes\n"
            " order by idx_scan asc\n"
            " limit 10;",
        ),
    ),
    table=(
        ("Index type", "Good for", "Size", "Write cost"),
        ("B-tree", "`=`, `<`, `ORDER BY`", "medium", "low"),
        ("GIN", "`jsonb @>`, arrays, `tsvector`", "large", "high"),
        ("GiST", "ranges, geometry, nearest-neighbour", "medium", "medium"),
        ("BRIN", "append-only time series", "tiny", "very low"),
    ),
    pitfalls=(
        "Wrapping the column in a function (`lower(email)`) without an expression index on `lower(email)`.",
        "Indexing every column “just in case” — writes slow down and the planner gains little.",
        "Creating an index without `CONCURRENTLY` on a busy production table.",
        "Trusting `EXPLAIN` without `ANALYZE`: estimates are not measurements.",
    ),
    tip="**Rule of thumb:** index for the queries you run, in the order of their `WHERE` equality columns first, "
    "then range or sort columns.",
    faq=(
        ("Does a primary key need an index?", "It already has one — Postgres creates it automatically."),
        ("Why is my index not used?", "Low selectivity, stale statistics (`ANALYZE`), or a type mismatch."),
        ("Do foreign keys get indexes?", "No — index the referencing column yourself if you join or delete by it."),
    ),
    links=(
        ("PostgreSQL: Indexes", "https://www.postgresql.org/docs/current/indexes.html"),
        ("Using EXPLAIN", "https://www.postgresql.org/docs/current/using-explain.html"),
    ),
    summary="measure first, index the columns your slow queries filter and sort on, and drop what is never used.",
    choices=(
        ("B-tree", "ordinary columns queried with equality, ranges or sorting"),
        ("GIN", "documents and arrays where one row holds many searchable values"),
    ),
    more=(
        "A practical routine for a growing app: enable `pg_stat_statements`, look at the top ten queries by "
        "total time once a week, and ask of each whether an index, a rewrite or a cache would help most. "
        "Usually one or two indexes remove most of the load.",
        "Write-heavy tables deserve restraint. Every extra index makes each insert do more work and more WAL, "
        "which also slows replicas and backups. On a table that receives thousands of rows a second, three "
        "well-chosen indexes beat ten speculative ones.",
        "Finally, keep statistics fresh. `autovacuum` runs `ANALYZE` for you, but after a bulk load or a "
        "large delete run it yourself: the planner chooses between an index and a sequential scan using those "
        "statistics, and stale numbers lead to surprising plans.",
    ),
)

GIT = Topic(
    subject="Git branches",
    keywords=frozenset({"git", "branch", "merge", "rebase", "commit", "github", "pull", "stash", "cherry-pick"}),
    paragraphs=(
        "In Git a branch is just a movable name for a commit. Creating one is instant and costs a few bytes, which "
        "is why the usual advice is to branch for every piece of work, however small.",
        "Bringing work back together is where the choices are. A **merge** keeps history exactly as it happened "
        "and records the join as a merge commit; a **rebase** replays your commits on top of the other branch, "
        "giving a straight line at the cost of rewriting those commits.",
        "The golden rule: rebase your own unpublished work freely, but never rewrite commits other people have "
        "already pulled — they would have to untangle the duplicates by hand.",
        "If something goes wrong, `git reflog` is the safety net. It records every position `HEAD` has been at, "
        "so even a “lost” commit after a bad reset can usually be recovered for about 90 days.",
    ),
    points=(
        "`git switch -c feature/login` — create a branch and move to it.",
        "`git rebase -i main` — squash, reorder or reword commits before sharing them.",
        "`git merge --no-ff` — always record a merge commit, keeping the feature visible as a unit.",
        "`git push --force-with-lease` — the safe force-push: it refuses if someone else pushed meanwhile.",
        '`git stash push -m "wip"` — shelve uncommitted changes without a throwaway commit.',
    ),
    steps=(
        "Update your local `main`: `git switch main && git pull --ff-only`.",
        "Create a branch for the change: `git switch -c fix/typo-in-readme`.",
        "Commit in small, meaningful steps with messages that say *why*.",
        "Rebase onto the latest `main` before opening the pull request and resolve conflicts there.",
        "Push with `--force-with-lease` if you rebased, then open the pull request.",
    ),
    code=(
        (
            "bash",
            "git switch main && git pull --ff-only\n"
            "git switch -c feature/sign-in\n"
            "# … edit, test …\n"
            'git commit -am "Sign-in form: say what went wrong in words a person can act on"\n'
            "git fetch origin && git rebase origin/main\n"
            "git push --force-with-lease -u origin feature/sign-in",
        ),
        ("bash", "git reflog --date=relative | head -5\ngit branch rescue HEAD@{2}   # bring back a lost commit"),
        ("ini", "[pull]\n\trebase = true\n[rebase]\n\tautoStash = true\n[push]\n\tautoSetupRemote = true"),
    ),
    table=(
        ("Command", "History afterwards", "Rewrites commits?", "Safe on shared branches?"),
        ("`merge`", "true shape, with merge commits", "no", "yes"),
        ("`rebase`", "one straight line", "yes", "no"),
        ("`merge --squash`", "one commit per feature", "yes (new commit)", "yes"),
        ("`cherry-pick`", "copies chosen commits", "copies them", "yes"),
    ),
    pitfalls=(
        "Rebasing a branch someone else has based work on.",
        "`git push --force` instead of `--force-with-lease`.",
        "Committing on `main` by accident — `git switch -c new-branch` then reset `main` fixes it.",
        "Huge “misc fixes” commits that nobody can review or revert.",
    ),
    tip="**Remember:** nothing committed is ever really lost while `git reflog` remembers it.",
    faq=(
        ("Merge or rebase?", "Rebase your own branch to tidy it; merge it into `main`."),
        ("How do I undo the last commit?", "`git reset --soft HEAD~1` keeps the changes staged."),
        ("What does “detached HEAD” mean?", "You checked out a commit, not a branch; `git switch -c` keeps the work."),
    ),
    links=(
        ("Pro Git: Branching", "https://git-scm.com/book/en/v2/Git-Branching-Branches-in-a-Nutshell"),
        ("git-rebase documentation", "https://git-scm.com/docs/git-rebase"),
    ),
    summary="branch for everything, rebase what is yours, merge what is shared, and trust the reflog.",
    choices=(
        ("merge", "shared branches, and when the true history of who did what matters"),
        ("rebase", "tidying your own branch before review, for a history that reads in one line"),
    ),
    more=(
        "A team workflow that stays out of the way: short-lived branches off `main`, a pull request for each, "
        "a CI run on every push, and a squash or rebase merge so `main` reads as one commit per change. "
        "Long-lived branches drift, and their merges become archaeology.",
        "Commit messages are documentation that never goes stale. A good one names the change in the first "
        "line (about 50 characters) and explains *why* in the body — the diff already shows *what*. Future "
        "you, running `git log -p` on a puzzling line, will be grateful.",
        "When a merge conflict appears, slow down: `git status` lists the files, `git diff` shows both sides, "
        "and `git mergetool` opens a three-way view. Resolve, run the tests, then `git add` and continue — "
        "and if it goes wrong, `git merge --abort` or `git rebase --abort` returns you to where you started.",
    ),
)

COOKING = Topic(
    subject="a weeknight crème brûlée",
    keywords=frozenset(
        {"recipe", "cook", "cooking", "bake", "baking", "dessert", "dinner", "brûlée", "brulee", "custard", "cake"}
    ),
    paragraphs=(
        "Crème brûlée is mostly patience: a custard of cream, yolks and sugar baked gently in a water bath, "
        "chilled, then finished with a thin layer of sugar melted into glass. The ingredient list is short, so "
        "quality shows — use real vanilla and cream with at least 30 % fat.",
        "The custard is done when the edges are set but the centre still wobbles like jelly; it firms up as it "
        "cools. Overbaked custard turns grainy and weeps, so start checking early.",
        "The topping should be caramelised at the last moment. Sugar melted hours ahead absorbs moisture from the "
        "custard and loses its snap — the *crack* of the spoon is half the point.",
        "No blowtorch? A very hot grill (broiler) works: ramekins close to the element, door ajar, watching "
        "constantly, for one to two minutes.",
    ),
    points=(
        "**Cream:** 500 ml double (heavy) cream, 30–40 % fat.",
        "**Yolks:** 5 large egg yolks — keep the whites for meringues.",
        "**Sugar:** 60 g caster sugar for the custard, plus about 1 tbsp per ramekin for the top.",
        "**Vanilla:** one pod, or 1 tsp paste; a pinch of salt sharpens it.",
        "**Equipment:** 4–6 shallow ramekins, a roasting tin, a kettle of hot water.",
    ),
    steps=(
        "Heat the oven to 150 °C (300 °F, gas 2) and warm the cream with the vanilla until steaming, not boiling.",
        "Whisk the yolks with the sugar just until combined — you want no foam.",
        "Pour the warm cream onto the yolks slowly, whisking, then strain the custard into a jug.",
        "Fill the ramekins, set them in the tin and pour hot water halfway up their sides.",
        "Bake 30–35 minutes until just set with a wobble, cool, then chill at least 4 hours.",
        "Sprinkle an even layer of sugar and torch it until deep amber; rest 2 minutes before serving.",
    ),
    code=(),
    table=(
        ("Ramekin", "Depth", "Bake time at 150 °C", "Chill"),
        ("shallow, 12 cm", "2 cm", "25–30 min", "3 h"),
        ("classic, 9 cm", "4 cm", "35–40 min", "4 h"),
        ("deep, 7 cm", "5 cm", "45–50 min", "6 h"),
    ),
    pitfalls=(
        "Boiling the cream — the yolks scramble when it meets them.",
        "Whisking in air; bubbles bake into a pitted surface.",
        "Skipping the water bath, which keeps the heat gentle and even.",
        "Caramelising before chilling, so the custard warms and the top goes soft.",
    ),
    tip="**Chef's note:** a spoonful of orange zest or a few crushed cardamom pods in the cream makes a lovely "
    "variation — strain them out before baking.",
    faq=(
        ("Can I make it ahead?", "Yes — the custards keep 2 days in the fridge; caramelise just before serving."),
        ("Why is mine runny?", "Underbaked or not chilled long enough; the wobble should be slight, not liquid."),
        ("Brown or white sugar on top?", "White caster sugar melts most evenly; demerara gives a thicker crust."),
    ),
    links=(("Crème brûlée — Wikipedia", "https://en.wikipedia.org/wiki/Cr%C3%A8me_br%C3%BBl%C3%A9e"),),
    summary="gentle heat, a long chill, and sugar torched at the very last minute.",
    choices=(
        ("blowtorch", "an even, glassy top without warming the custard"),
        ("grill (broiler)", "no extra equipment, if you watch it every second"),
    ),
    more=(
        "Start the evening before if you can. Warm the cream, let the vanilla infuse for twenty minutes off the "
        "heat, and the flavour is noticeably deeper than a quick simmer gives. Scrape the seeds into the cream "
        "and drop the pod in too; it holds much of the aroma.",
        "While the custards bake, set a timer for 25 minutes and check every five after that. Give a ramekin a "
        "gentle nudge with tongs: the outer ring should hold still, the centre — about the size of a ¥10 coin, "
        "or a 2 cm circle — should shimmer. An instant-read thermometer helps: 80–82 °C in the middle is done.",
        "Cool the ramekins on a rack for half an hour before they go into the fridge, then cover them loosely; "
        "condensation dripping onto the surface leaves marks that the sugar will not hide.",
        "For the topping, tip a spoonful of sugar onto each custard, tilt and tap the ramekin so it forms a thin, "
        "even layer, and pour off the excess. Hold the flame 5 cm away and keep it moving; stop when the sugar "
        "is the colour of dark honey. A second, thinner layer torched on top gives an extra-thick crust.",
        "Serving is the easy part: set each ramekin on a small plate with a few berries or a thin almond biscuit "
        "(a *tuile*) alongside. The contrast of cold custard, warm crackling sugar and something sharp — "
        "raspberries, passion fruit, a little crème fraîche — is what people remember.",
        "Leftover whites keep for a week in the fridge or months in the freezer. Five whites and 250 g of sugar "
        "make a tray of meringues or one generous pavlova — so the dessert after next is already half made.",
        "Scaling the recipe is simple arithmetic — one yolk per 100 ml of cream, 12 g of sugar per yolk — but "
        "the baking time follows the depth of the dish, not the quantity. Twelve shallow ramekins bake as fast "
        "as four; one large gratin dish, 5 cm deep, can need an hour and benefits from a lower 140 °C oven.",
        "Finally, a word on equipment: a kitchen blowtorch costs less than a restaurant dessert for two and "
        "refills from any hardware shop's butane can. Look for one with a flame lock and an adjustable "
        "nozzle — the same torch will crisp meringue, char peppers and blister a gratin.",
    ),
)

TRAVEL = Topic(
    subject="three days in Kyoto (京都)",
    keywords=frozenset({"travel", "trip", "visit", "kyoto", "japan", "tokyo", "itinerary", "holiday", "vacation"}),
    paragraphs=(
        "Kyoto rewards an early start. The famous sights — Fushimi Inari's torii gates, the Arashiyama bamboo grove, "
        "Kiyomizu-dera — are calm before 8 am and crowded by 10, so plan each day around one early highlight and "
        "let the afternoon be slower.",
        "The city is compact but spread along two axes: the east side (Higashiyama, Gion) is best on foot, while "
        "Arashiyama in the west is a 15-minute train ride. Buses are cheap but slow at peak times; the subway and "
        "JR lines are usually quicker.",
        "Food is a highlight in itself: *kaiseki* dinners if you want an occasion, but also Nishiki Market's "
        "snacks, a bowl of *nishin soba* (にしんそば), and tofu dishes around Nanzen-ji.",
        "Etiquette is simple and appreciated: queue on the left of escalators (Kyoto, unlike Osaka), don't eat "
        "while walking in Gion, and never photograph geiko and maiko without permission.",
    ),
    points=(
        "**Day 1 — East:** Kiyomizu-dera (清水寺) at opening, Sannenzaka's lanes, Gion at dusk.",
        "**Day 2 — South and centre:** Fushimi Inari (伏見稲荷大社) at 7 am, Nishiki Market, Nijō Castle.",
        "**Day 3 — West:** Arashiyama bamboo grove, Tenryū-ji's garden, the Hozugawa river.",
        "**Getting around:** an ICOCA card works on trains, subways and buses.",
        "**Budget:** about ¥15,000–25,000 a day for mid-range hotels, food and entry fees.",
    ),
    steps=(
        "Book accommodation near Kyoto Station or Shijō for the easiest connections.",
        "Load an ICOCA or Suica card on arrival — it works on almost all transport.",
        "Reserve kaiseki dinners and the Katsura Imperial Villa in advance.",
        "Start each day early at its main sight, then slow down after lunch.",
    ),
    code=(),
    table=(
        ("Sight", "Best time", "Entry", "From Kyoto Station"),
        ("Fushimi Inari", "before 8:00", "free", "5 min (JR Nara line)"),
        ("Kiyomizu-dera", "opening, 6:00", "¥500", "15 min by bus"),
        ("Arashiyama", "before 8:30", "free (grove)", "15 min (JR Sagano line)"),
        ("Kinkaku-ji", "late afternoon", "¥500", "40 min by bus"),
    ),
    pitfalls=(
        "Trying to see everything — temples blur together after the third in a day.",
        "Taking buses at rush hour when a train runs the same way.",
        "Arriving at Arashiyama at midday with every tour group.",
        "Forgetting that many restaurants take cash only.",
    ),
    tip="**Local tip:** in autumn (mid-November) and cherry-blossom season (early April) book rooms months ahead — "
    "prices can double.",
    faq=(
        ("Is three days enough?", "For the highlights, yes; add a day for Nara (奈良) as a half-day trip."),
        ("Do I need a JR Pass?", "Not for Kyoto alone — an IC card is cheaper."),
        ("When is the best season?", "Spring and autumn, but early winter is quieter and beautiful."),
    ),
    links=(("Kyoto City Official Travel Guide", "https://kyoto.travel/en/"),),
    summary="one early highlight a day, trains over buses, and time left over for wandering.",
    choices=(
        ("stay near Kyoto Station", "day trips and the easiest arrival from the airport"),
        ("stay in Gion or Higashiyama", "evening walks and the atmosphere of the old town"),
    ),
    more=(
        "A sample first morning: leave the hotel at 5:45, take a taxi to Kiyomizu-dera for the 6:00 opening, and "
        "walk down Sannenzaka and Ninenzaka while the shops are still shuttered. By 8:30 you are at Yasaka "
        "Shrine (八坂神社) with the day's busiest sight already behind you, and breakfast at a kissaten — an "
        "old-style coffee shop — tastes all the better for it.",
        "Afternoons are for the quieter places that never make the top-ten lists: the Philosopher's Path (哲学の道) "
        "from Ginkaku-ji to Nanzen-ji, the moss garden at Gio-ji in Arashiyama, or the sake breweries of Fushimi, "
        "several of which offer tastings for a few hundred yen.",
        "Evenings in Gion and Pontochō are atmospheric but expensive; for a relaxed dinner, try the izakaya "
        "around Kiyamachi-dōri or the food halls under Kyoto Station, where ¥1,500 buys an excellent set meal.",
        "If the weather turns, the Kyoto Railway Museum, the Nishiki Market arcade and the Kyoto International "
        "Manga Museum are all under cover, and the city's many *sentō* (public baths) are a very local way to "
        "warm up after a wet day.",
        "Leaving time for nothing in particular is the best advice of all. Some of Kyoto's loveliest moments are "
        "unplanned: a tiny shrine between two houses, a shopkeeper who insists you try the *yatsuhashi* (八ツ橋), "
        "the sound of the Kamo river at dusk from the stepping stones at Demachiyanagi.",
        "Getting there is straightforward: from Kansai Airport the Haruka limited express reaches Kyoto Station in "
        "about 75 minutes, and from Tokyo the Shinkansen takes a little over two hours — sit on the right "
        "(seat E) going west for a view of Mount Fuji (富士山) on a clear day.",
        "Pack light and comfortable: you will walk 15,000–20,000 steps a day, slip your shoes off at temples and "
        "traditional restaurants, and carry your own rubbish (public bins are rare). A small towel, a coin purse "
        "and a portable battery earn their place in any day bag.",
        "Money is easier than it used to be — most hotels, stations and chain shops take cards and phone "
        "payments — but small temples, market stalls and family restaurants often take cash only. "
        "Convenience-store ATMs (7-Eleven, Lawson) accept foreign cards around the clock.",
        "Lastly, consider a night at a *ryokan* (旅館), a traditional inn: tatami rooms, a seasonal kaiseki "
        "dinner served in your room, a soak in the bath before bed and futons laid out while you eat. It costs "
        "more than a hotel, but for many visitors it becomes the memory of the whole trip.",
    ),
)

# Topics a prompt with no matching keyword may get: the ones with code, which the page most needs to meet.
TOPICS: tuple[Topic, ...] = (PYTHON, WEB, SQL, GIT, COOKING, TRAVEL)
FALLBACK_TOPICS: tuple[Topic, ...] = (PYTHON, WEB, SQL, GIT)
