"""The remote backend: an OpenAI-compatible inference server over HTTP.

Works with llama.cpp's ``llama-server``, vLLM, Ollama, llama-cpp-python's server and
hosted endpoints. What the server is, is found once when the backend is created
(``/props`` → llama-server, ``/v1/models`` owned by vllm → vLLM, ``/extras/tokenize`` →
llama-cpp-python, ``/api/version`` → Ollama, else a plain OpenAI-compatible endpoint),
and decides:

- the tokenizer: ``remoteTokenizer`` (a local vocabulary GGUF) when set, else the
  server's tokenize endpoint; without either the backend refuses to start, because the
  context budget must count exact tokens;
- how a completion prompt is sent: token ids (llama-server, vLLM), the text with its
  special markers spelled out (servers that parse special tokens in text:
  llama-cpp-python, Ollama, others), or llama-server's ``/infill`` with the three FIM
  parts;
- actions go to ``/v1/chat/completions``: the server applies the model's chat template.
  The template is also rendered here (from ``/props`` or the vocabulary GGUF) to count
  and show the prompt; without one, the count is an estimate and says so.

Every request streams and asks for the log-probabilities of the generated tokens
(confidence); a server that cannot give them is asked again without, once, and from
then on confidence is reported as unknown. Token counts and times come from the
server's ``usage``/``timings`` when it sends them, else they are measured here.

A server is not trusted to honour ``max_tokens`` or to end in time: the answer is cut
here past ``max_tokens`` tokens (counted from the per-token log-probabilities, else one
a chunk) or ``MAX_TOKEN_CHARS`` characters a token, and every request has a total time
(the request's deadline; an action without one gets ``requestTimeoutMs`` plus
``SECONDS_PER_TOKEN`` for each token it may generate).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgewise.config import Settings
from edgewise.model.backend import (
    Cancelled,
    GenerationRequest,
    GenerationResult,
    ModelError,
    ModelInfo,
)
from edgewise.model.chat_template import ChatTemplate
from edgewise.model.fim import EXTRA_STOP_MARKERS, KNOWN_MARKERS, detect_fim
from edgewise.model.remote_http import Endpoint, RemoteError, api_key_from_env
from edgewise.model.remote_stream import StreamState
from edgewise.model.remote_tokenizer import LocalVocab, ServerTokenizer, Tokenizer
from edgewise.model.stop_scan import StopScan
from edgewise.model.stops import stop_reason as why_stopped

log = logging.getLogger(__name__)

TOP_LOGPROBS = 2  # the chosen token's and the runner-up's: enough for the first margin
WATCH_S = 0.05  # how often a running request looks at its cancel flag and deadline
MAX_TOKEN_CHARS = 32  # an answer longer than this a token is past its max_tokens
SECONDS_PER_TOKEN = 0.2  # an action's time cap: requestTimeoutMs + this per token
# bounds of the figures a server reports (beyond them a figure is taken as absent)
MAX_MS = 86_400_000.0  # a day
MAX_COUNT = 1 << 31  # tokens
LOGPROB_NOTICE = (
    "edgewise: the server at {url} does not return token log-probabilities, so "
    "confidence is reported as unknown for its answers{hint}"
)


@dataclass(frozen=True)
class ServerFacts:
    kind: str  # llama.cpp | vllm | llama-cpp-python | ollama | openai
    model: str
    context_length: int | None
    chat_template: str | None
    bos_text: str
    eos_text: str
    version: str = ""  # the server's build, when it says (reports: what determined a text)

    @property
    def token_ids(self) -> bool:
        """Accepts a prompt as a list of token ids in /v1/completions."""
        return self.kind in ("llama.cpp", "vllm")

    @property
    def llama_sampler(self) -> bool:
        """Takes llama.cpp sampler fields (top_k, repeat_penalty...) in OpenAI requests."""
        return self.kind in ("llama.cpp", "llama-cpp-python")


def probe(endpoint: Endpoint, wanted_model: str) -> ServerFacts:
    models = endpoint.call("GET", "/v1/models", missing_ok=True)
    entries = models.get("data", []) if isinstance(models, dict) else []
    entries = [e for e in entries if isinstance(e, dict)]
    model = wanted_model or (str(entries[0].get("id")) if entries else "")
    entry = next((e for e in entries if e.get("id") == model), entries[0] if entries else {})
    props = endpoint.call("GET", "/props", missing_ok=True)
    if isinstance(props, dict) and "default_generation_settings" in props:
        settings = props.get("default_generation_settings") or {}
        n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
        return ServerFacts(
            "llama.cpp",
            model or str(props.get("model_alias") or props.get("model_path") or "default"),
            int(n_ctx) if isinstance(n_ctx, int) else None,
            props.get("chat_template") or None,
            str(props.get("bos_token") or ""),
            str(props.get("eos_token") or ""),
            _version(props.get("build_info")),
        )
    if entry.get("owned_by") == "vllm":
        n_ctx = entry.get("max_model_len")
        answer = endpoint.call("GET", "/version", missing_ok=True)
        return ServerFacts(
            "vllm",
            model,
            int(n_ctx) if isinstance(n_ctx, int) else None,
            None,
            "",
            "",
            _version(answer.get("version") if isinstance(answer, dict) else None),
        )
    extras = endpoint.call("POST", "/extras/tokenize", {"input": ""}, missing_ok=True)
    if isinstance(extras, dict) and "tokens" in extras:
        return ServerFacts("llama-cpp-python", model or "default", None, None, "", "")
    ollama = endpoint.call("GET", "/api/version", missing_ok=True)
    if ollama is not None:
        found = ollama.get("version") if isinstance(ollama, dict) else None
        return ServerFacts("ollama", model, None, None, "", "", _version(found))
    if not entries and models is None:
        raise RemoteError(
            f"the server at {endpoint.shown} has no /v1/models: is it an OpenAI-compatible server?"
        )
    return ServerFacts("openai", model, None, None, "", "")


def _version(value: Any) -> str:
    """A server's version string as reported (bounded: it is shown in every report)."""
    return str(value)[:100] if isinstance(value, str | int) and value != "" else ""


class RemoteBackend:
    """A Backend over HTTP. Create with :meth:`create` (it talks to the server)."""

    def __init__(
        self, settings: Settings, endpoint: Endpoint, facts: ServerFacts, tokenizer: Tokenizer
    ) -> None:
        self.settings = settings
        self.endpoint = endpoint
        self.facts = facts
        self.tokenizer = tokenizer
        # Prompt building calls tokenize many times: off the event loop when each call
        # is a round trip (the engine looks at this).
        self.remote_tokenizer = tokenizer.remote
        self.notes: list[str] = []  # one-time notices for the user
        self.logprobs = True  # until the server shows it has none
        self._logprob_notice_given = False
        self._markers: dict[int, str] = {}
        local = tokenizer if isinstance(tokenizer, LocalVocab) else None
        if local is not None:
            fim = local.info().fim
            template = local.info().chat_template or facts.chat_template
        else:
            fim = detect_fim((-1, -1, -1), lambda s: tokenizer.tokenize(s, True))
            template = facts.chat_template
        for markers in (*KNOWN_MARKERS, EXTRA_STOP_MARKERS):
            for text in markers:
                ids = tokenizer.tokenize(text, True)
                if len(ids) == 1:
                    self._markers.setdefault(ids[0], text)
        self._stop_texts = [
            self._markers[t] for t in (fim.extra_stops if fim else ()) if t in self._markers
        ]
        self._local = local
        self._template = template
        self._formatter: ChatTemplate | None = None
        if template is not None and not (local is not None and local.info().chat_template):
            self._chat_template().start()  # its worker imports while the rest starts
        self._info = ModelInfo(
            name=facts.model or "remote model",
            path=endpoint.shown,
            sha256="unknown",
            backend=f"remote:{facts.kind}",
            context_length=facts.context_length or settings.context_length,
            fim=fim,
            chat_template=template,
            n_vocab=0,
        )

    @classmethod
    def create(cls, settings: Settings) -> RemoteBackend:
        endpoint = Endpoint(
            settings.backend,
            api_key_from_env(settings.api_key_env),
            settings.request_timeout_ms,
            settings.max_parallel_requests,
        )
        try:
            facts = probe(endpoint, settings.remote_model)
            tokenizer: Tokenizer
            if settings.remote_tokenizer:
                tokenizer = LocalVocab(Path(settings.remote_tokenizer).expanduser())
            elif facts.kind in ("llama.cpp", "vllm", "llama-cpp-python"):
                tokenizer = ServerTokenizer(endpoint, facts.kind, facts.model)
            else:
                raise ModelError(
                    f"the server at {endpoint.shown} ({facts.kind}) has no tokenize endpoint: "
                    "set 'remoteTokenizer' to a GGUF file with the model's vocabulary, so "
                    "that prompts are counted in exact tokens"
                )
            return cls(settings, endpoint, facts, tokenizer)
        except BaseException:
            endpoint.close()
            raise

    # --- tokenizer ---------------------------------------------------------------------

    def info(self) -> ModelInfo:
        return self._info

    def tokenize(self, text: str, special: bool = False) -> list[int]:
        return self.tokenizer.tokenize(text, special)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.tokenize(text, False))

    def detokenize(self, tokens: list[int]) -> str:
        return self.tokenizer.detokenize(tokens)

    def detokenize_special(self, token: int) -> str:
        if token in self._markers:
            return self._markers[token]
        if self._local is not None:
            return self._local.detokenize_special(token)
        return self.tokenizer.detokenize([token])

    def bos(self) -> list[int]:
        # A text prompt gets its BOS from the server itself; token ids must carry it.
        return self.tokenizer.bos() if self.facts.token_ids else []

    def render_chat(self, messages: list[dict[str, str]]) -> str:
        """The prompt the server's chat template makes of ``messages`` (shown and counted
        here; the server renders it again). Without a known template: a plain rendering,
        whose count the report marks as estimated."""
        if self._template is None:
            return "".join(f"{m['role']}: {m['content']}\n" for m in messages) + "assistant: "
        if self._local is not None and self._local.info().chat_template:
            return self._local.render_chat(messages)
        return self._chat_template().render(messages)

    def _chat_template(self) -> ChatTemplate:
        assert self._template is not None
        if self._formatter is None:
            self._formatter = ChatTemplate(
                self._template,
                self.facts.bos_text,
                self.facts.eos_text,
                f"the server at {self.endpoint.shown}",
            )
        return self._formatter

    # --- generation --------------------------------------------------------------------

    def generate(self, request: GenerationRequest) -> GenerationResult:
        """Blocking form, for callers without an event loop (the engine uses agenerate)."""

        async def run() -> GenerationResult:
            try:
                return await self.agenerate(request)
            finally:
                await self.endpoint.aclose()

        return asyncio.run(run())

    async def agenerate(self, request: GenerationRequest) -> GenerationResult:
        """Stream one generation; the cancel flag, the deadline or a stop check close the
        stream (the server stops generating when the client goes away)."""
        if request.cancel.is_set():
            raise Cancelled()
        state = StreamState()
        reason: list[str] = []
        deadline = request.deadline
        if deadline is None:
            deadline = time.monotonic() + self.time_cap_s(request.max_tokens)
        task = asyncio.ensure_future(self._stream_with_fallback(request, state, reason))
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=WATCH_S)
                if task.done():
                    break
                if request.cancel.is_set():
                    reason.append("cancelled")
                elif time.monotonic() > deadline:
                    reason.append("time")
                else:
                    continue
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                break
        except asyncio.CancelledError:
            task.cancel()
            raise
        if not task.cancelled():
            task.result()  # raises the request's error
        if reason and reason[0] == "time" and not state.text and not state.tokens:
            if request.deadline is not None:
                waited = f"{self.settings.max_completion_ms} ms (setting 'maxCompletionMs')"
            else:
                waited = (
                    f"{self.time_cap_s(request.max_tokens):g} s (setting 'requestTimeoutMs' "
                    f"+ {SECONDS_PER_TOKEN:g} s for each of the {request.max_tokens} tokens "
                    "it may generate)"
                )
            raise RemoteError(
                f"the server at {self.endpoint.shown} sent no token within {waited}; "
                "it may be busy or slow",
                "timeout",
            )
        return self._result(request, state, reason[0] if reason else None)

    def time_cap_s(self, max_tokens: int) -> float:
        """The whole time a request without a deadline of its own may take."""
        return self.endpoint.timeout_s + SECONDS_PER_TOKEN * max_tokens

    async def _stream_with_fallback(
        self, request: GenerationRequest, state: StreamState, reason: list[str]
    ) -> None:
        path, body = self._request_body(request)
        asked_logprobs = self.logprobs
        try:
            await self._consume(path, body, request, state, reason)
        except RemoteError as exc:
            if not asked_logprobs or not _about_logprobs(exc, state):
                raise
            self._no_logprobs()
            state.reset()  # start over, without log-probabilities
            path, body = self._request_body(request)
            await self._consume(path, body, request, state, reason)
            return
        if asked_logprobs and state.text and not state.probs:
            self._no_logprobs()

    async def _consume(
        self,
        path: str,
        body: dict[str, Any],
        request: GenerationRequest,
        state: StreamState,
        reason: list[str],
    ) -> None:
        scan = StopScan(request.stop) if request.stop is not None else None
        async for event in self.endpoint.stream(path, body):
            state.feed(event)
            over = state.past_limit(request.max_tokens, MAX_TOKEN_CHARS)
            if over is not None:
                state.truncate(over)
            if scan is not None and state.text:
                keep = scan.feed(state.text) if over is None else scan.flush(state.text)
                if keep is not None:
                    reason.append(why_stopped(request.stop, state.text))
                    state.truncate(keep)
                    return  # leaving the stream closes it
            if over is not None:
                reason.append("max_tokens")  # the server went on past it
                return
        if scan is not None and state.text:
            keep = scan.flush(state.text)
            if keep is not None:
                reason.append(why_stopped(request.stop, state.text))
                state.truncate(keep)
                return
        if state.events == 0:
            raise RemoteError(
                f"the server at {self.endpoint.shown} ended the stream on {path} without "
                "sending anything",
                "cut",
            )
        if state.finish is None:
            raise RemoteError(
                f"the server at {self.endpoint.shown} cut the answer short on {path} "
                "(llama-cpp-python's server does this to a request when another arrives: "
                "start it with --interrupt_requests False)"
            )

    def _no_logprobs(self) -> None:
        self.logprobs = False
        if not self._logprob_notice_given:
            self._logprob_notice_given = True
            hint = (
                " (llama-cpp-python's server needs --logits_all True)"
                if self.facts.kind == "llama-cpp-python"
                else ""
            )
            self.notes.append(LOGPROB_NOTICE.format(url=self.endpoint.shown, hint=hint))

    def take_notes(self) -> list[str]:
        notes, self.notes = self.notes, []
        return notes

    def _request_body(self, request: GenerationRequest) -> tuple[str, dict[str, Any]]:
        common: dict[str, Any] = {
            "temperature": request.temperature,
            "seed": request.seed,
            "stream": True,
        }
        if self.facts.llama_sampler:  # as the embedded model samples: no penalties
            common.update({"top_k": 0, "top_p": 1.0, "min_p": 0.0, "repeat_penalty": 1.0})
        if request.messages is not None:
            body = {
                "model": self.facts.model,
                "messages": request.messages,
                "max_tokens": request.max_tokens,
                "stream_options": {"include_usage": True},
                **common,
            }
            if self.logprobs:
                body.update({"logprobs": True, "top_logprobs": TOP_LOGPROBS})
            return "/v1/chat/completions", body
        if self.facts.kind == "llama.cpp" and request.infill is not None and self._info.fim:
            before, after, line = request.infill
            body = {
                "input_prefix": before,
                "input_suffix": after,
                "prompt": line,
                "n_predict": request.max_tokens,
                "cache_prompt": True,
                **common,
            }
            if self.logprobs:
                body["n_probs"] = TOP_LOGPROBS
            return "/infill", body
        body = {
            "model": self.facts.model,
            "prompt": self._prompt(request),
            "max_tokens": request.max_tokens,
            "stream_options": {"include_usage": True},
            **common,
        }
        if self._stop_texts:
            body["stop"] = self._stop_texts
        if self.logprobs:
            body["logprobs"] = TOP_LOGPROBS
        return "/v1/completions", body

    def _prompt(self, request: GenerationRequest) -> list[int] | str:
        if self.facts.token_ids:
            return list(request.prompt)
        if request.text is not None:
            return request.text
        # Text with the special tokens spelled out: runs of plain tokens detokenized,
        # markers written as their text (the server parses them back as special).
        parts: list[str] = []
        run: list[int] = []
        for token in request.prompt:
            if token in self._markers:
                parts.append(self.tokenizer.detokenize(run) + self._markers[token])
                run = []
            else:
                run.append(token)
        parts.append(self.tokenizer.detokenize(run))
        return "".join(parts)

    def _result(
        self, request: GenerationRequest, state: StreamState, reason: str | None
    ) -> GenerationResult:
        finished = time.monotonic()
        usage = state.usage or {}
        timings = state.timings or {}
        native = state.native
        details = usage.get("prompt_tokens_details")
        details = details if isinstance(details, dict) else {}
        prompt = _first(
            usage.get("prompt_tokens"),
            native.get("tokens_evaluated"),
            _sum(timings.get("prompt_n"), timings.get("cache_n")),
        )
        completion = _first(
            usage.get("completion_tokens"),
            timings.get("predicted_n"),
            native.get("tokens_predicted"),
        )
        cached = _first(
            details.get("cached_tokens"), timings.get("cache_n"), native.get("tokens_cached")
        )
        if prompt is not None and completion is not None:
            source = "server-reported"
        else:
            # Counted here: the prompt with the model's tokenizer (exact, unless it is a
            # chat prompt rendered without the model's template), the completion as the
            # tokens that streamed in (one log-probability each; without them, the text
            # tokenized again, which may differ from how the model split it).
            estimated = (request.messages is not None and self._template is None) or (
                not state.tokens and bool(state.text)
            )
            source = "estimated" if estimated else "measured"
            if prompt is None:
                prompt = len(request.prompt)
            if completion is None:
                completion = state.tokens or len(self.tokenize(state.text, False))
        first = state.first_at or finished
        prompt_ms = _float(timings.get("prompt_ms"))
        generation_ms = _float(timings.get("predicted_ms"))
        if prompt_ms is not None and generation_ms is not None:
            time_source = "server-reported"
        else:
            time_source = "measured"
            prompt_ms = (first - state.started) * 1000.0
            generation_ms = (finished - first) * 1000.0
        stop_reason = reason or state.finish or "max_tokens"
        has_probs = state.has_logprobs
        return GenerationResult(
            text=state.text,
            pieces=state.pieces if has_probs else [],
            probs=state.probs if has_probs else [],
            first_margin=state.first_margin if has_probs else None,
            prompt_tokens=prompt,
            cached_tokens=min(cached or 0, prompt),
            completion_tokens=completion,
            prompt_ms=prompt_ms,
            generation_ms=generation_ms,
            total_ms=prompt_ms + generation_ms,
            queue_ms=0.0,
            stop_reason=stop_reason,
            source=source,
            time_source=time_source,
        )

    def close(self) -> None:
        self.endpoint.close()
        if self._formatter is not None:
            self._formatter.close()


def _about_logprobs(exc: RemoteError, state: StreamState) -> bool:
    """The server failed because it was asked for log-probabilities: it says so in its
    error, or it ended the stream without a single event (llama-cpp-python without
    logits_all does that)."""
    text = str(exc).lower()
    return (
        "logprob" in text
        or "logits_all" in text
        or (state.events == 0 and "without sending anything" in text)
    )


def _first(*values: Any) -> int | None:
    """The first value that is a count (ints only: a missing or odd field is skipped, and
    so is an absurd one)."""
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT:
            return value
    return None


def _sum(*values: Any) -> int | None:
    counts = [_first(v) for v in values]
    return None if counts[0] is None else sum(c or 0 for c in counts)


def _float(value: Any) -> float | None:
    """A server-reported time in ms; None (then measured here) for a missing, negative,
    non-finite or absurd one (1e308 ms made reports and their costs Infinity)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value <= MAX_MS else None
