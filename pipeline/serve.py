"""The model over HTTP (FastAPI): POST /predict returns the rows `bpo-kpo predict` prints; GET /health and /model."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Callable
from typing import Annotated

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError
from starlette.exceptions import HTTPException

from pipeline import config
from pipeline.files import RepeatedKey, object_without_repeats
from pipeline.predict import ScoreOptions, output_fields
from pipeline.process import ignored, silence_stdout
from pipeline.readers import LONE_SURROGATE, Chunk, JsonNumber, json_kind, render_id

LIMITS = config.SERVE
Text = Annotated[str | None, Field(max_length=LIMITS.max_text_chars)]


def _id_as_given(value):
    """A row's id as the body gave it: a string, a number (the text it was written as, see KeysOnceRequest) or null.
    Read loosely, a JSON true became the id "1", which another row could hold; and refused by a union of types, an
    id such as 1.50 was named by a branch of it (`rows.0.id.str: Input should be a valid string`)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | None):
        raise PydanticCustomError("id_type", "an id is a string or a number, not {kind}", {"kind": json_kind(value)})
    # Half a UTF-16 surrogate pair (an escape such as \ud800) passed as an id and then failed the response with a
    # 500; refused like such a text, which pydantic refuses itself.
    if isinstance(value, str) and LONE_SURROGATE.search(value):
        raise ValueError("holds half a UTF-16 surrogate pair, which no UTF-8 response can return")
    return value


RowId = Annotated[
    str | None,
    PlainValidator(_id_as_given),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}]}),
]


class Posting(BaseModel):
    """One posting with the id its caller knows it by."""

    model_config = ConfigDict(extra="forbid")
    id: RowId = Field(
        None,
        description="A string or a number, returned as a string, a number as written (1.50 as '1.50', null as "
        "'null'); when no row has one, the row number.",
    )
    text: Text = Field(None, description="The posting; empty or missing gives a row with an error.")


class PredictRequest(BaseModel):
    """Either `texts` or `rows`, with optional overrides of the model's decision rule."""

    model_config = ConfigDict(extra="forbid")
    texts: list[Text] | None = Field(None, max_length=LIMITS.max_batch, description="Postings; ids are 1, 2, ...")
    rows: list[Posting] | None = Field(None, max_length=LIMITS.max_batch, description="Postings with ids.")
    # Strict, finite numbers, as the Python API takes them: true was read as 1.0 and "0.5" as 0.5, and NaN was
    # said to be above 1.
    threshold: float | None = Field(
        None, ge=0, le=1, strict=True, allow_inf_nan=False, description="Default: the model's tuned threshold."
    )
    review_band: float | None = Field(
        None, ge=0, le=0.5, strict=True, allow_inf_nan=False, description="Default: the model's tuned band."
    )
    scope_threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        strict=True,
        allow_inf_nan=False,
        description="P(out of scope) at which a posting is flagged; default: the tuned value.",
    )
    explain: int = Field(
        0,
        ge=0,
        le=50,
        strict=True,
        description="Add the K n-grams that pushed each posting most toward its label and scope verdict.",
    )

    @model_validator(mode="after")
    def one_kind_of_input(self) -> PredictRequest:
        if (self.texts is None) == (self.rows is None):
            raise ValueError("give either 'texts' or 'rows'")
        return self


class Explanation(BaseModel):
    ngram: str
    weight: float


class Row(BaseModel):
    """The row `bpo-kpo predict --format jsonl` writes for the same posting."""

    id: str
    label: str
    p_bpo: float | None
    p_kpo: float | None
    needs_review: bool | None
    # With the scope model beside the model: whether the posting is out of scope, P(out of scope) and why.
    out_of_scope: bool | None = None
    p_out_of_scope: float | None = None
    scope_reason: str | None = None
    explanation: list[Explanation] | None = None
    # With explain and the scope model: the n-grams that pushed P(out of scope) toward the row's scope decision.
    scope_explanation: list[Explanation] | None = None
    error: str | None


class PredictResponse(BaseModel):
    rows: list[Row]


class ErrorResponse(BaseModel):
    """The body of every error the service sends."""

    error: str
    # For a request the validator refused: its list of problems (loc, msg, type).
    detail: list[dict] | None = None


# Declared in the OpenAPI document, which otherwise promised FastAPI's {"detail": [...]} for a 422 and nothing for the
# rest, so a client generated from it misread every error.
ERROR_RESPONSES = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in (
        (400, "A body its JSON reader cannot read: not UTF-8, nested too deeply, a number too long"),
        (413, "A body over the size limit"),
        (422, "A request that is not valid: its fields, types, ranges or ids"),
        (500, "An unexpected failure"),
        (503, "Still open when a shutdown's grace period ended: send it again (Retry-After)"),
    )
}


def create_app(engine) -> FastAPI:
    """The application around an engine that is already loaded: the model is read and checked once, here."""
    app = FastAPI(
        title="bpo-kpo",
        summary="Label job postings BPO or KPO, with calibrated probabilities.",
        version=engine.metadata.get("versions", {}).get("bpo-kpo", "unknown"),
    )
    app.router.route_class = KeysOnceRoute  # the routes below read their bodies through it
    app.add_middleware(BodyLimit, limit=LIMITS.max_body_bytes)
    app.add_middleware(AnswerCancelledRequests)

    scoring = ScoringThreads(LIMITS.scoring_threads)

    @app.post("/predict", response_model=PredictResponse, response_model_exclude_unset=True, responses=ERROR_RESPONSES)
    async def predict(request: PredictRequest) -> dict:
        """Score postings; one row per posting, in order, exactly as `bpo-kpo predict` would."""
        if request.texts is not None:
            ids = [str(i + 1) for i in range(len(request.texts))]
            texts = request.texts
        else:
            # As predict reads JSON lines: ids as JSON writes them (null too), or all numbered; rows of both kinds
            # once gave a numbered row the id of another ("2" twice).
            given = ["id" in row.model_fields_set for row in request.rows]
            if any(given) and not all(given):
                differs = given.index(not given[0]) + 1
                raise HTTPException(
                    422,
                    f"rows: some have an id and some not (rows 1 and {differs} differ): give every row an id, or none",
                )
            ids = [render_id(row.id) if given[i] else str(i + 1) for i, row in enumerate(request.rows)]
            texts = [row.text for row in request.rows]
        if request.scope_threshold is not None and not engine.has_scope:
            raise HTTPException(422, "scope_threshold needs the scope model beside the model; this service has none")
        options = ScoreOptions.of(
            engine, request.threshold, request.review_band, request.explain, request.scope_threshold
        )
        chunk = Chunk(ids=ids, texts=[(t or "").strip() or None for t in texts])
        rows = await scoring.run(engine.rows, chunk, options)
        fields = output_fields(options)
        return {"rows": [{field: row.get(field) for field in fields} for row in rows]}

    # These two run on the event loop, not in the thread pool that scoring requests fill: with 40 of those open,
    # /health waited 17 s for a thread, long enough for a liveness probe to kill a busy, healthy service.
    @app.get("/health")
    async def health() -> dict:
        """Liveness and which model and engine answer."""
        return {"status": "ok", "engine": engine.name, "model_sha256": engine.model_sha256}

    @app.get("/model")
    async def model() -> dict:
        """The model's metadata: labels, threshold, review band, parameters, metrics, versions, checksum."""
        return engine.metadata

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ())[1:]) or "body"
        message = first.get("msg", "invalid request")
        if first.get("type") == "extra_forbidden":
            # `{"text": "..."}` is the commonest first request: name the fields that are taken instead.
            fields = Posting.model_fields if "rows" in first.get("loc", ()) else PredictRequest.model_fields
            message = f"not a field here; the fields are {', '.join(map(repr, fields))}"
        elif first.get("type") == "json_invalid":
            # FastAPI puts the character offset where a field's name goes ("10: JSON decode error").
            where, message = "body", f"not valid JSON (at character {where})"
        elif where == "body" and "json" not in request.headers.get("content-type", ""):
            # curl -d without -H sends form data, which FastAPI does not read as JSON: "Input should be a valid
            # dictionary or object to extract fields from" said nothing of the header.
            message = "send the body as JSON, with the header content-type: application/json"
        return JSONResponse(
            {"error": f"{where}: {message}", "detail": _plain(error.errors())},
            status_code=422,
        )

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> JSONResponse:
        detail = str(error.detail)
        if error.status_code == 400 and detail == "There was an error parsing the body":
            # FastAPI's words for any body its JSON reader raised on; the cause says which.
            detail = _unreadable_body(error.__cause__)
        return JSONResponse({"error": detail}, status_code=error.status_code, headers=error.headers)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"error": f"internal error ({type(error).__name__})"}, status_code=500)

    return app


def _unreadable_body(cause: BaseException | None) -> str:
    """What is wrong with a body that the JSON reader raised on: every such body was once called not UTF-8, an ASCII
    one nested 100,000 deep or holding a 5,000-digit number too."""
    if isinstance(cause, RecursionError):
        return "body: nests JSON arrays or objects too deeply to read"
    if isinstance(cause, ValueError) and "integer string conversion" in str(cause):
        # A row's id keeps such a number as written; a threshold, explain or a text has none.
        return "body: holds a number of over 4,300 digits outside a row's id, where no field takes one"
    if isinstance(cause, UnicodeDecodeError) or cause is None:
        return "body: not valid JSON in UTF-8; send the postings' text as UTF-8"
    return f"body: cannot be read as JSON ({type(cause).__name__})"


def _plain(errors: list[dict]) -> list[dict]:
    # Validation errors may carry the offending exception object, which JSON cannot hold.
    return [{key: value for key, value in item.items() if key in ("loc", "msg", "type")} for item in errors]


class KeysOnceRequest(Request):
    """A request whose JSON body is read as predict reads a JSON-lines record. Each key of an object once: json.loads
    kept the last value, so `{"texts": [...], "texts": [...]}` scored the second list alone, and a row that said
    "text" twice was scored by its second text. And a row's id, if a number, as it was written: -0 came back as "0",
    and 1.50 was refused, where predict returns "-0" and "1.50"."""

    async def json(self):
        if not hasattr(self, "_json"):
            try:
                written = json.loads(
                    await self.body(),
                    parse_int=JsonNumber,
                    parse_float=JsonNumber,
                    parse_constant=JsonNumber,
                    object_pairs_hook=object_without_repeats,
                )
            except RepeatedKey as error:
                raise HTTPException(
                    422, f"body: repeats the key(s) {error} in one object: give each its own name"
                ) from None
            self._json = _numbers_read_but_ids(written)
        return self._json


def _numbers_read_but_ids(body):
    """The body with every number read as json.loads reads it, but for the rows' ids, which keep the text they were
    written as: the threshold, the review band and explain stay the numbers their checks take."""
    rows = body.get("rows") if isinstance(body, dict) else None
    if not isinstance(rows, list):
        return _numbers_read(body)
    return _numbers_read(body, but="rows") | {"rows": [_numbers_read(row, but="id") for row in rows]}


def _numbers_read(value, but: str | None = None):
    """`value` with each number kept as written (JsonNumber) read as json.loads reads it (a number of over 4,300
    digits raises its ValueError), apart from the member `but` of an object."""
    if isinstance(value, JsonNumber):
        return json.loads(value)
    if isinstance(value, list):
        return [_numbers_read(item) for item in value]
    if isinstance(value, dict):
        return {key: item if key == but else _numbers_read(item) for key, item in value.items()}
    return value


class KeysOnceRoute(APIRoute):
    """A route that reads its JSON body through KeysOnceRequest."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def keys_once(request: Request):
            return await handler(KeysOnceRequest(request.scope, request.receive))

        return keys_once


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413, by the declared length or while the body streams in."""

    def __init__(self, app, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await JSONResponse(self._message(), status_code=413)(scope, receive, send)
            return
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(413, self._message()["error"])
            return message

        await self.app(scope, limited_receive, send)

    def _message(self) -> dict:
        return {"error": f"request body over {self.limit:,} bytes; send fewer postings per request"}


class ScoringThreads:
    """Score in at most `count` threads at once; the other requests wait their turn without a thread. Scoring
    holds Python's interpreter lock most of the time (the portable engine always): with a thread for each of 40
    open requests, /health waited 4 to 12 s for its turn, and at a shutdown the requests answered 503 went on
    scoring for as long again."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._limiter = None

    async def run(self, function, *args):
        import anyio

        if self._limiter is None:  # made in the event loop that uses it
            self._limiter = anyio.CapacityLimiter(self.count)
        return await anyio.to_thread.run_sync(function, *args, limiter=self._limiter)


class AnswerCancelledRequests:
    """Answer a request that the shutdown cancels with a JSON 503 that asks for it again. uvicorn cancels what is
    still open when SIGTERM's grace period ends, and answered it with a plain-text 500: under load, a quarter of the
    requests open at a SIGTERM."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except asyncio.CancelledError:
            if started:  # part of the answer is out: nothing else can be said on this connection
                raise
            answer = JSONResponse(
                {"error": "the service is shutting down; send the request again"},
                status_code=503,
                headers={"Retry-After": str(LIMITS.retry_after_seconds)},
            )
            await answer(scope, receive, send)


def url(host: str, port: int) -> str:
    """The service's address as a browser takes it: an IPv6 address in brackets (http://[::1]:8000)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(engine, host: str, port: int, on_listening: Callable[[], None] = lambda: None) -> None:
    """Run the service until SIGINT, SIGTERM or SIGHUP; uvicorn then finishes open requests and this exits with 0.
    `on_listening` runs once the port is listened on: said before, "serving on ..." stood above the error of a taken
    port."""
    import signal

    import uvicorn

    listening = _listen(host, port)
    config = uvicorn.Config(
        create_app(engine),
        host=host,
        port=port,
        timeout_graceful_shutdown=LIMITS.shutdown_grace_seconds,
        log_config=_log_config(),
    )
    server = uvicorn.Server(config)
    # uvicorn handles the signal itself while serving, then raises it again once shut down, so that the
    # handler in place before it ran decides the exit: make that a normal exit rather than death by signal.
    for handled in (signal.SIGINT, signal.SIGTERM):
        signal.signal(handled, _exit_normally)
    # SIGHUP (a closed terminal, a process manager) stops the service as SIGTERM does. uvicorn
    # leaves it to the console script's handler, whose interrupt, raised inside the event loop, printed a traceback,
    # answered every open request 503 at once and ended with exit 129.
    # Under nohup, which ignores it, it stays ignored (process.install_signal_handlers).
    if not ignored(signal.SIGHUP):
        signal.signal(signal.SIGHUP, lambda signum, frame: server.handle_exit(signal.SIGTERM, frame))
    on_listening()
    server.run(sockets=[listening])


def _log_config() -> dict:
    """uvicorn's own logging set-up, its access lines written through AccessLog."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    settings = copy.deepcopy(LOGGING_CONFIG)
    settings["handlers"]["access"]["class"] = f"{__name__}.{AccessLog.__name__}"
    return settings


class AccessLog(logging.StreamHandler):
    """uvicorn's access lines, on standard output as its own handler writes them, until a write there fails (a full
    disk, a reader gone): then one warning on stderr, and standard output goes to /dev/null, so the service answers
    on without them. Every request logged a traceback on stderr instead, and buffered, the flush at shutdown failed
    too, ending the service with exit 1."""

    def handleError(self, record: logging.LogRecord) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, OSError) or self.stream is not sys.stdout:
            super().handleError(record)
            return
        silence_stdout()  # what the buffer still holds, and every later line, goes where it cannot fail
        with contextlib.suppress(OSError, ValueError):  # a stderr that fails too has no one to tell
            print(f"Warning: cannot write standard output: {error.strerror or error}; the service answers on, "
                  "without its access log", file=sys.stderr, flush=True)  # fmt: skip


def _listen(host: str, port: int):
    """Bind the port and listen on it before starting, so that a taken port is one `Error:` line rather than
    uvicorn's log."""
    import socket

    from pipeline.errors import BpoKpoError

    listening = None
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        listening = socket.socket(family, kind, protocol)
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(address)
        # Listening here, not later in uvicorn: with SO_REUSEADDR, Linux lets a second socket bind an address that no
        # socket listens on yet, so two services started at once both bound the port, and the one whose listen()
        # then failed printed uvicorn's traceback below its "serving" line.
        listening.listen()
    except OSError as error:
        if listening is not None:
            listening.close()
        raise BpoKpoError(
            f"cannot listen on {host}:{port} ({error.strerror}); choose another --port or --host"
        ) from None
    listening.set_inheritable(True)
    return listening


def _exit_normally(signum, frame) -> None:
    """uvicorn raises the signal again once it has shut down, every request answered: exit 0 at once, as a thread
    still scoring a request answered 503 at the grace's end would otherwise hold the process for as long again."""
    import os
    import sys

    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    os._exit(0)
