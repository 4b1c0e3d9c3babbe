"""The HTTP service: the same rows as `bpo-kpo predict`, bounded requests, JSON errors, and a clean stop."""

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest
from console import SCRIPT, jsonl, linux_only, run, start_script, wait_for

from pipeline import config
from pipeline.engines import open_engine
from pipeline.model import metadata_path

TEXTS = [
    "Answer inbound customer calls and resolve billing queries in our CRM.",
    "",
    "Lead randomised controlled trials and publish peer-reviewed research.",
    "Process supplier invoices in SAP and reconcile vendor statements.",
    "Draft commercial contracts and advise on litigation risk.",
]


@pytest.fixture(scope="module", params=["portable", "sklearn"])
def client(request, shipped_model_path):
    # Imported here: collecting the suite on a worker that runs no service test need not load FastAPI.
    from fastapi.testclient import TestClient

    from pipeline.serve import create_app

    with TestClient(create_app(open_engine(request.param, shipped_model_path))) as test_client:
        yield test_client


@pytest.mark.parametrize("explain", [0, 3])
def test_predict_answers_the_rows_the_command_line_prints(client, explain):
    cli = run("predict", *TEXTS, "--format", "jsonl", "--explain", str(explain))
    assert cli.returncode == 0, cli.stderr
    response = client.post("/predict", json={"texts": TEXTS, "explain": explain})
    assert response.status_code == 200
    assert response.json()["rows"] == jsonl(cli.stdout)


def test_rows_keep_their_ids_and_overrides_apply(client):
    rows = [{"id": "JOB-7", "text": TEXTS[0]}, {"id": 12, "text": None}, {"id": None, "text": TEXTS[2]}]
    response = client.post("/predict", json={"rows": rows, "threshold": 1.0, "review_band": 0.0})
    assert response.status_code == 200
    out = response.json()["rows"]
    assert [row["id"] for row in out] == ["JOB-7", "12", "null"]
    assert out[1]["error"] and out[1]["label"] == ""
    assert [row["label"] for row in out if not row["error"]] == ["BPO", "BPO"]  # nothing reaches P(KPO) >= 1.0
    assert not any(row["needs_review"] for row in out if not row["error"])


def test_ids_are_all_given_or_all_numbered_as_predict_reads_json_lines(client):
    """A row without an id took its row number, which another row could hold: two rows came back as "2"."""
    rows = [{"id": "2", "text": TEXTS[0]}, {"text": TEXTS[1]}]
    for body in (rows, rows[::-1]):
        response = client.post("/predict", json={"rows": body})
        assert response.status_code == 422
        assert response.json()["error"] == (
            "rows: some have an id and some not (rows 1 and 2 differ): give every row an id, or none"
        )
    numbered = client.post("/predict", json={"rows": [{"text": text} for text in TEXTS]}).json()["rows"]
    assert [row["id"] for row in numbered] == [str(i + 1) for i in range(len(TEXTS))]
    # The same records as JSON lines: the command line reads their ids as the service does, or refuses them alike.
    records = [{"id": None, "text": TEXTS[0]}, {"id": 7, "text": TEXTS[1]}]
    cli = run("predict", "--input-format", "jsonl", "-", "--format", "jsonl",
              stdin="".join(json.dumps(record) + "\n" for record in records))  # fmt: skip
    assert client.post("/predict", json={"rows": records}).json()["rows"] == jsonl(cli.stdout)
    mixed = run("predict", "--input-format", "jsonl", "-", stdin="".join(json.dumps(row) + "\n" for row in rows[::-1]))
    assert mixed.returncode == 1
    assert "standard input line 2 has an 'id' field, which the first record lacks: give every record an id" in (
        mixed.stderr
    )


def test_row_ids_that_are_numbers_come_back_as_written_as_predict_prints_them(client):
    """-0 came back as "0", and 1.50 was refused with `rows.0.id.str: Input should be a valid string`, a branch of a
    union of types, where predict prints "-0" and "1.50" for the same JSON lines."""
    records = [b'{"id": %s, "text": "Process supplier invoices in SAP"}' % number
               for number in (b"-0", b"1.50", b"1e400", b"-2.5E-3", b"12", b"9" * 5000)]  # fmt: skip
    cli = run("predict", "--input-format", "jsonl", "-", "--format", "jsonl", stdin=b"\n".join(records) + b"\n")
    response = client.post("/predict", content=b'{"rows": [' + b", ".join(records) + b"]}",
                           headers={"content-type": "application/json"})  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == jsonl(cli.stdout)
    for given, kind in ((True, "true"), ([1, 2], "an array"), ({"n": 1}, "an object")):
        refused = client.post("/predict", json={"rows": [{"id": given, "text": "Answer calls"}]})
        assert (refused.status_code, refused.json()["error"]) == (
            422,
            f"rows.0.id: an id is a string or a number, not {kind}",
        )
    posting = client.get("/openapi.json").json()["components"]["schemas"]["Posting"]["properties"]["id"]
    assert [choice["type"] for choice in posting["anyOf"]] == ["string", "number", "null"]


def test_the_scope_threshold_can_be_overridden_as_on_the_command_line(client):
    """The command line and the Python API took --scope-threshold; the service once refused the field."""
    for scope_threshold in (0.0, 1.0):
        cli = run("predict", *TEXTS, "--format", "jsonl", "--scope-threshold", str(scope_threshold))
        response = client.post("/predict", json={"texts": TEXTS, "scope_threshold": scope_threshold})
        assert response.status_code == 200, response.text
        rows = response.json()["rows"]
        assert rows == jsonl(cli.stdout)
        scored = [row for row in rows if not row["error"]]
        # 0 flags every posting; 1 flags none that the vocabulary knows (all of these are plain English ads).
        assert all(row["out_of_scope"] is (scope_threshold == 0.0) for row in scored)


def test_a_scope_threshold_without_a_scope_model_is_an_error(small_model_dir):
    from fastapi.testclient import TestClient

    from pipeline.serve import create_app

    with TestClient(create_app(open_engine("sklearn", small_model_dir / "model.joblib"))) as scopeless:
        response = scopeless.post("/predict", json={"texts": TEXTS[:1], "scope_threshold": 0.3})
        assert response.status_code == 422 and "needs the scope model" in response.json()["error"]
        assert scopeless.post("/predict", json={"texts": TEXTS[:1]}).status_code == 200


def test_health_model_and_docs(client, shipped_model_path):
    health = client.get("/health").json()
    metadata = json.loads(metadata_path(shipped_model_path).read_text())
    assert health["status"] == "ok" and health["model_sha256"] == metadata["model_sha256"]
    assert client.get("/model").json() == metadata
    schema = client.get("/openapi.json").json()
    assert {"/predict", "/health", "/model"} <= set(schema["paths"])
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"texts": ["a"], "rows": [{"text": "b"}]}, 422, "either 'texts' or 'rows'"),
        ({}, 422, "either 'texts' or 'rows'"),
        ({"texts": ["x"] * (config.SERVE.max_batch + 1)}, 422, f"at most {config.SERVE.max_batch}"),
        ({"texts": ["x" * (config.SERVE.max_text_chars + 1)]}, 422, "texts.0"),
        ({"texts": ["x"], "threshold": 2}, 422, "threshold"),
        ({"texts": ["x"], "colour": "red"}, 422, "colour"),
        ({"text": "Answer calls"}, 422, "text: not a field here; the fields are 'texts', 'rows'"),
        ({"rows": [{"text": "x", "title": "y"}]}, 422, "rows.0.title: not a field here; the fields are 'id', 'text'"),
        ({"texts": "not a list"}, 422, "texts"),
        # Read loosely, true was a threshold of 1.0, "0.5" one of 0.5, an id true the id "1", and NaN "above 1".
        ({"texts": ["x"], "threshold": True}, 422, "threshold: Input should be a valid number"),
        ({"texts": ["x"], "threshold": "0.5"}, 422, "threshold: Input should be a valid number"),
        ({"texts": ["x"], "review_band": False}, 422, "review_band: Input should be a valid number"),
        ({"texts": ["x"], "explain": "3"}, 422, "explain: Input should be a valid integer"),
        ({"rows": [{"id": True, "text": "x"}]}, 422, "rows.0.id"),
    ],
)
def test_bad_requests_get_json_errors(client, body, status, message):
    response = client.post("/predict", json=body)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_malformed_json_oversized_bodies_and_unknown_paths(client):
    json_header = {"content-type": "application/json"}
    nan = client.post("/predict", content=b'{"texts": ["x"], "threshold": NaN}', headers=json_header)
    assert nan.status_code == 422 and nan.json()["error"] == "threshold: Input should be a finite number"
    malformed = client.post("/predict", content=b'{"texts": [', headers=json_header)
    # FastAPI's own words were "11: JSON decode error", the offset where a field's name goes.
    assert malformed.status_code == 422 and malformed.json()["error"] == "body: not valid JSON (at character 11)"
    latin1 = client.post("/predict", content='{"texts": ["Café"]}'.encode("latin-1"), headers=json_header)
    assert latin1.status_code == 400
    assert latin1.json()["error"] == "body: not valid JSON in UTF-8; send the postings' text as UTF-8"
    # curl -d without -H sends a form: it was told "Input should be a valid dictionary", not what to send.
    for headers in ({}, {"content-type": "application/x-www-form-urlencoded"}):
        form = client.post("/predict", content=b'{"texts": ["Answer calls"]}', headers=headers)
        assert form.status_code == 422
        assert form.json()["error"] == "body: send the body as JSON, with the header content-type: application/json"
    big = b'{"texts": ["' + b"a" * config.SERVE.max_body_bytes + b'"]}'
    declared = client.post("/predict", content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413 and "bytes" in declared.json()["error"]
    streamed = client.post(
        "/predict", content=iter([big[:1000], big[1000:]]), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert client.get("/nowhere").status_code == 404 and "error" in client.get("/nowhere").json()
    assert client.get("/predict").status_code == 405


def test_an_ascii_body_the_json_reader_refuses_is_not_called_unicode(client):
    """Every body the reader raised on was "not valid JSON in UTF-8", these ASCII ones too. (A row's id keeps such a
    number, as predict does.)"""
    json_header = {"content-type": "application/json"}
    deep = client.post("/predict", content=b'{"texts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", headers=json_header)
    assert deep.status_code == 400 and deep.json()["error"] == "body: nests JSON arrays or objects too deeply to read"
    long_number = client.post("/predict", content=b'{"texts": ["x"], "explain": ' + b"9" * 5000 + b"}",
                              headers=json_header)  # fmt: skip
    assert long_number.status_code == 400
    assert long_number.json()["error"] == (
        "body: holds a number of over 4,300 digits outside a row's id, where no field takes one"
    )


def test_the_openapi_document_describes_the_errors_sent(client):
    """It promised FastAPI's {"detail": [...]} for a 422 and nothing else, while every error says {"error": ...}."""
    document = client.get("/openapi.json").json()
    responses = document["paths"]["/predict"]["post"]["responses"]
    error_schema = {"$ref": "#/components/schemas/ErrorResponse"}
    assert all(responses[status]["content"]["application/json"]["schema"] == error_schema
               for status in ("400", "413", "422", "500"))  # fmt: skip
    assert document["components"]["schemas"]["ErrorResponse"]["required"] == ["error"]
    mixed = client.post("/predict", json={"rows": [{"id": "a", "text": "x"}, {"text": "y"}]})
    assert mixed.status_code == 422 and set(mixed.json()) <= set(document["components"]["schemas"]["ErrorResponse"][
        "properties"])  # fmt: skip


def test_half_a_surrogate_pair_is_refused_in_an_id_as_in_a_text(client):
    """JSON escapes can spell half a UTF-16 pair (text cut by UTF-16 length). In a text pydantic refuses it; in an
    id it passed, then failed the response with a 500."""

    def post(body: bytes):
        return client.post("/predict", content=body, headers={"content-type": "application/json"})

    for body, where in ((rb'{"rows": [{"id": "a\ud800b", "text": "Answer calls"}]}', "rows.0.id"),
                        (rb'{"texts": ["Answer \udc00 calls"]}', "texts.0")):  # fmt: skip
        response = post(body)
        assert response.status_code == 422 and response.json()["error"].startswith(where), response.text
    whole = post(rb'{"rows": [{"id": "a\ud83d\ude00b", "text": "Answer calls"}]}')
    assert whole.status_code == 200 and whole.json()["rows"][0]["id"] == "a\U0001f600b"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_a_real_server_answers_then_stops_cleanly_on_sigterm(shipped_model_path):
    port = _free_port()
    server = subprocess.Popen(
        [SCRIPT, "serve", "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                health = _request(base + "/health")
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"server exited: {server.stderr.read()}")
                time.sleep(0.1)
        assert health["status"] == "ok"
        rows = _request(base + "/predict", {"texts": TEXTS})["rows"]
        assert rows == jsonl(run("predict", *TEXTS, "--format", "jsonl").stdout)
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == 0
    assert "Finished server process" in stderr and "Traceback" not in stderr
    assert f"with the portable engine on http://127.0.0.1:{port} (docs at /docs)" in stderr.splitlines()[0]
    with pytest.raises(OSError):
        _request(base + "/health")


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM], ids=["hup", "term"])
def test_sighup_lets_an_open_request_finish_as_sigterm_does(shipped_model_path, signum):
    """SIGHUP (a closed terminal, a process manager) reached the console script's own handler, whose interrupt,
    raised inside uvicorn's event loop, printed about 40 lines of traceback, answered every open request 503 at once
    and ended with exit 129. Here a request's body is sent only once the shutdown has begun."""
    import http.client
    import threading

    port = _free_port()
    body = json.dumps({"texts": TEXTS}).encode()
    server = start_script("serve", "--model", shipped_model_path, "--port", port, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)  # fmt: skip
    said = []

    def read_stderr() -> None:
        for line in server.stderr:
            said.append(line)

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    answer = None
    try:
        wait_for(lambda: said, "the service to listen", server)  # its first line comes once the port is listened on
        with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
            client.sendall(b"POST /predict HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n"
                           b"expect: 100-continue\r\ncontent-length: %d\r\n\r\n" % len(body))  # fmt: skip
            # The service asks for the body once the request is open, waiting for it (HTTPResponse skips this).
            assert client.recv(12, socket.MSG_PEEK) == b"HTTP/1.1 100"
            server.send_signal(signum)
            wait_for(lambda: any("Shutting down" in line for line in said), "the shutdown to begin", server, 30)
            client.sendall(body)
            response = http.client.HTTPResponse(client)
            response.begin()
            answer = response.status, json.loads(response.read())
        server.wait(timeout=30)
        reader.join(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    stderr = "".join(said)
    assert "Traceback" not in stderr and "Error:" not in stderr, stderr
    expected = jsonl(run("predict", "--model", shipped_model_path, "--format", "jsonl", *TEXTS).stdout)
    assert (server.returncode, answer) == (0, (200, {"rows": expected}))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["int", "term", "hup"])
def test_an_interrupt_while_the_model_loads_says_the_service_did_not_start(monkeypatch, signum):
    """It said "no output file was left behind", as predict says, though serve writes no output file."""
    from pipeline import engines
    from pipeline.errors import Interrupted

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt if signum == signal.SIGINT else Interrupted(signum)

    monkeypatch.setattr(engines, "open_engine", interrupted)
    result = run("serve", "--port", _free_port())
    what = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    assert (result.returncode, result.stderr) == (128 + signum, f"Error: {what}; the service did not start\n")


def test_a_taken_port_is_one_error_line(shipped_model_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run("serve", "--port", str(taken.getsockname()[1]))
    assert result.returncode == 1
    # The error alone: "serving ... on http://127.0.0.1:PORT" once stood above it, for a service that never ran.
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: cannot listen on 127.0.0.1:")


def test_of_two_services_started_at_once_on_one_port_the_second_is_refused():
    """The port was bound but not listened on until uvicorn started, and Linux lets a second socket bind an address
    that no socket listens on yet: of two services started together, both bound it, and the one whose listen() then
    failed printed uvicorn's traceback below its "serving" line."""
    from pipeline.errors import BpoKpoError
    from pipeline.serve import _listen

    port = _free_port()
    with _listen("127.0.0.1", port), pytest.raises(BpoKpoError) as refused:
        _listen("127.0.0.1", port).close()
    assert str(refused.value) == (
        f"cannot listen on 127.0.0.1:{port} (Address already in use); choose another --port or --host"
    )


def _held_app(shipped_model_path):
    """The app around an engine whose scoring waits for `release`, counting the requests it holds in `held`."""
    import threading

    from pipeline.serve import create_app

    engine = open_engine("portable", shipped_model_path)
    release, lock, held = threading.Event(), threading.Lock(), [0]
    rows = engine.rows

    def held_rows(chunk, options):
        with lock:
            held[0] += 1
        release.wait(30)
        return rows(chunk, options)

    engine.rows = held_rows
    return create_app(engine), release, held


async def _call(app, method: str, path: str, body: bytes = b"") -> list[dict]:
    """One request as uvicorn makes it; the messages the app sends back."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8000)}  # fmt: skip
    sent = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def _until(condition) -> None:
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail("the requests did not start scoring")


def test_a_request_the_shutdown_cancels_gets_a_json_503(shipped_model_path):
    """uvicorn cancels the requests still open when SIGTERM's grace period ends; they got a plain-text 500, where
    the README promises JSON errors. Here the app is called as uvicorn calls it, and cancelled as it cancels."""
    app, release, held = _held_app(shipped_model_path)
    sent = []

    async def cancelled_while_scoring():
        request = asyncio.ensure_future(_call(app, "POST", "/predict", json.dumps({"texts": TEXTS}).encode()))
        await _until(lambda: held[0])
        request.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            sent.extend(await request)

    try:
        asyncio.run(cancelled_while_scoring())
    finally:
        release.set()
    start, content = sent[0], b"".join(message.get("body", b"") for message in sent[1:])
    assert start["status"] == 503
    assert (b"retry-after", b"1") in start["headers"]
    assert json.loads(content) == {"error": "the service is shutting down; send the request again"}


def test_health_answers_while_requests_wait_to_be_scored(shipped_model_path):
    """/health and /model queued behind scoring requests for the 40 threads of the pool: with 42 requests open, a
    liveness probe waited 17 s. Scoring now takes SERVE.scoring_threads threads at most, the other requests wait
    without one, and the probes answer on the event loop."""
    app, release, held = _held_app(shipped_model_path)
    statuses, most_held = [], []

    async def probed_while_busy():
        body = json.dumps({"texts": TEXTS[:1]}).encode()
        busy = [asyncio.ensure_future(_call(app, "POST", "/predict", body)) for _ in range(41)]
        await _until(lambda: held[0] == config.SERVE.scoring_threads)
        await asyncio.sleep(0.2)  # time for any request beyond the limit to start scoring, were there no limit
        most_held.append(held[0])
        for path in ("/health", "/model"):
            sent = await asyncio.wait_for(_call(app, "GET", path), timeout=10)
            statuses.append(sent[0]["status"])
        release.set()
        statuses.extend(sorted({sent[0]["status"] for sent in await asyncio.gather(*busy)}))

    try:
        asyncio.run(probed_while_busy())
    finally:
        release.set()
    assert statuses == [200, 200, 200] and most_held == [config.SERVE.scoring_threads] and held[0] == 41


def test_the_address_of_an_ipv6_host_is_written_in_brackets():
    from pipeline.serve import url

    assert (url("::1", 8000), url("127.0.0.1", 80)) == ("http://[::1]:8000", "http://127.0.0.1:80")


def test_a_key_named_twice_in_one_object_is_refused_as_predict_refuses_it(client):
    """json.loads keeps a key's last value: a body that gave "texts" twice was scored on the second list alone, and a
    row that said "text" twice on its second text, with 200, where predict refuses such a JSON-lines record."""
    for body, key in ((b'{"texts": ["Answer inbound calls"], "texts": ["Build credit-risk models"]}', "texts"),
                      (b'{"rows": [{"id": "a", "text": "Answer calls", "text": "Draft merger terms"}]}', "text"),
                      (b'{"texts": ["Answer calls"], "threshold": 0.2, "threshold": 0.9}', "threshold")):  # fmt: skip
        response = client.post("/predict", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422 and response.json() == {
            "error": f"body: repeats the key(s) '{key}' in one object: give each its own name"
        }, response.text
    once = client.post("/predict", content=b'{"texts": ["Answer inbound calls"]}',
                       headers={"content-type": "application/json"})  # fmt: skip
    assert once.status_code == 200 and len(once.json()["rows"]) == 1


@linux_only("/dev/full")
@pytest.mark.parametrize("unbuffered", ["1", ""])
def test_serve_with_its_access_log_on_a_full_disk_says_so_once_and_answers_on(fast_model, unbuffered):
    """`serve > /dev/full` logged a traceback on stderr for every request, as each access line failed; buffered, its
    flush at shutdown failed too, with exit 1."""
    port = _free_port()
    texts = ["Answer inbound calls", "Build credit-risk models in Python"]
    expected = jsonl(run("predict", "--model", fast_model, "--format", "jsonl", *texts).stdout)

    def listening() -> bool:
        with socket.socket() as client:
            return client.connect_ex(("127.0.0.1", port)) == 0

    with open("/dev/full", "w") as full:
        server = start_script("serve", "--model", fast_model, "--port", port, stdout=full, stderr=subprocess.PIPE,
                              text=True, env=os.environ | {"PYTHONUNBUFFERED": unbuffered})  # fmt: skip
    try:
        wait_for(listening, "the service to listen", server)
        answers = [_request(f"http://127.0.0.1:{port}/predict", {"texts": texts})["rows"] for _ in range(2)]
        assert _request(f"http://127.0.0.1:{port}/health")["status"] == "ok"
        server.send_signal(signal.SIGTERM)
        stderr = server.communicate(timeout=30)[1]
    finally:
        if server.poll() is None:
            server.kill()
    assert answers == [expected, expected]
    assert server.returncode == 0, stderr
    said = [line for line in stderr.splitlines() if not line.startswith("INFO:")]
    assert said == [
        f"serving {fast_model} with the portable engine on http://127.0.0.1:{port} (docs at /docs)",
        "Warning: cannot write standard output: No space left on device; the service answers on, without its "
        "access log",
    ], stderr
