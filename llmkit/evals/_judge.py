"""The model-graded scorer: a judge that rates an answer on one rubric dimension.

The rubric comes from ``annotation/`` (the same files human raters use, read by
:func:`llmkit.annotate.load_rubric`), so a judge and the people it is calibrated against
read the same scale, guideline and worked examples. The judge answers ``rating`` and
``reason`` as YAML, parsed by llmkit's structured layer (:func:`llmkit.parse` with a
schema whose ``rating`` is the scale's values), so a sloppy judge answer is repaired the
same way any model answer is, and one that cannot be read fails the case with why.

In a suite::

    scorers:
      - type: judge
        name: helpful_judge
        rubric: assistant-quality      # a name in annotation/rubrics, or a file path
        dimension: helpfulness
        pass_at: 4                     # likert: lowest passing point (default: top - 1)
        model: {name: judge-model, max_tokens: 200}   # default: the suite's model, temperature 0

Its calls go through the case's client, so they are recorded into and replayed from the
case's cassette like the case's own calls. A pairwise dimension compares the answer
(``A``) with a reference at ``against`` (a path into the case's ``expected``); with
``swap: true`` it asks again with the two sides swapped and counts a verdict that does not
survive the swap as a tie (position bias).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmkit._exceptions import ConfigError, LLMKitError
from llmkit.evals._errors import SuiteError
from llmkit.evals._scorers import Score, ScoreContext, Scorer, register_scorer, resolve_path

if TYPE_CHECKING:
    from llmkit.annotate import Dimension, Rubric
    from llmkit.evals._suite import ScorerSpec, Suite
    from llmkit.llm import Client
    from llmkit.prompts import PromptTemplate

__all__ = ["DEFAULT_JUDGE_PROMPT", "Judge", "JudgeVerdict", "judge_from_spec"]

_OPTIONS = (
    "rubric",
    "dimension",
    "pass_at",
    "prompt",
    "model",
    "question",
    "against",
    "swap",
)

DEFAULT_JUDGE_PROMPT = """\
You are a careful evaluator. Rate the assistant's answer on one dimension of the rubric
"{{rubric_title}}".

Dimension: {{dimension_title}}
Guideline: {{guideline}}

Scale:
{{scale}}
{{examples}}
{{task}}

Give the rating and a one-sentence reason."""

_SINGLE = """\
The user asked:
<question>
{{question}}
</question>

The assistant answered:
<answer>
{{answer}}
</answer>"""

_PAIRWISE = """\
The user asked:
<question>
{{question}}
</question>

Answer A:
<answer_a>
{{answer}}
</answer_a>

Answer B:
<answer_b>
{{answer_b}}
</answer_b>"""


@dataclass(frozen=True)
class JudgeVerdict:
    """What the judge said about one answer.

    Attributes:
        rating: the scale value (``"4"``, ``"no"``, ``"A"``...), or ``None`` when unreadable.
        reason: the judge's reason.
        score: the rating mapped to [0, 1] (likert linearly; pairwise A=1, tie=0.5, B=0;
            binary and categorical 1 unless the value is one the rubric flags).
        passed: whether the rating passes (see :class:`Judge`).
        stage: the structured pipeline's stage for the judge's answer.
        error: why the answer could not be read, else ``None``.
        raw: the judge's answer text.
    """

    rating: str | None
    reason: str
    score: float
    passed: bool
    stage: str
    error: str | None = None
    raw: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rating": self.rating,
            "reason": self.reason,
            "score": self.score,
            "passed": self.passed,
            "stage": self.stage,
            "error": self.error,
        }


def _render(text: str, values: Mapping[str, str]) -> str:
    from llmkit.prompts import VARIABLE

    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), text)


class Judge:
    """A judge for one rubric dimension.

    Args:
        rubric: the rubric (from ``annotation/``).
        dimension: the dimension's key; ``comment`` scales cannot be judged.
        pass_at: likert: the lowest passing point (default: one below the top); otherwise
            the passing values (default: every value the rubric does not flag; pairwise:
            ``A`` and ``tie``).
        template: a prompt template whose first message is the system prompt (default:
            :data:`DEFAULT_JUDGE_PROMPT`); placeholders ``{{rubric_title}}``,
            ``{{dimension_title}}``, ``{{guideline}}``, ``{{scale}}``, ``{{examples}}``,
            ``{{task}}``, ``{{question}}``, ``{{answer}}``, ``{{answer_b}}``.
        model: the judge's model name (``None``: the client's).
        params: chat parameters (default ``temperature: 0``, ``max_tokens: 256``).

    Raises:
        ConfigError: unknown dimension, a comment scale, or ``pass_at`` off the scale.
    """

    def __init__(
        self,
        rubric: Rubric,
        dimension: str,
        *,
        pass_at: Any = None,
        template: PromptTemplate | None = None,
        model: str | None = None,
        params: Mapping[str, Any] | None = None,
        swap: bool = False,
    ) -> None:
        try:
            dim = rubric.dimension(dimension)
        except KeyError:
            raise ConfigError(
                f"rubric {rubric.name!r} has no dimension {dimension!r} "
                f"(it has {', '.join(rubric.keys)})"
            ) from None
        if dim.scale.type == "comment":
            raise ConfigError(f"dimension {dimension!r} is free text; a judge needs a scale")
        self.rubric = rubric
        self.dim: Dimension = dim
        self.template = template
        self.model = model
        self.params: dict[str, Any] = {"temperature": 0, "max_tokens": 256, **(params or {})}
        self.swap = swap
        self.passing = self._passing(pass_at)

    # -- identity -----------------------------------------------------------------------------
    @property
    def dimension(self) -> str:
        return self.dim.key

    @property
    def pairwise(self) -> bool:
        return self.dim.scale.type == "pairwise"

    @property
    def values(self) -> tuple[str, ...]:
        return self.dim.scale.values()

    def fingerprint(self) -> str:
        """A hash of everything that decides the judge's ratings: rubric, prompt, model.

        A calibration is valid only for the judge with the same fingerprint.
        """
        system = self.template.messages[0]["content"] if self.template else DEFAULT_JUDGE_PROMPT
        ident = {
            "rubric": self.rubric.content_hash,
            "dimension": self.dimension,
            "prompt": system,
            "model": self.model,
            "params": self.params,
            "swap": self.swap,
        }
        text = json.dumps(ident, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def describe(self) -> dict[str, Any]:
        return {
            "rubric": self.rubric.name,
            "rubric_hash": self.rubric.content_hash,
            "dimension": self.dimension,
            "scale": self.dim.scale.type,
            "model": self.model,
            "params": self.params,
            "passing": sorted(self.passing),
            "fingerprint": self.fingerprint(),
        }

    # -- scale --------------------------------------------------------------------------------
    def _passing(self, pass_at: Any) -> frozenset[str]:
        scale, values = self.dim.scale, self.values
        if scale.type == "likert":
            points = [int(v) for v in values]
            if pass_at is None:
                low = points[-2]
            elif isinstance(pass_at, bool) or not isinstance(pass_at, int | str):
                raise ConfigError(f"pass_at: expected a point of {values[0]}..{values[-1]}")
            else:
                try:
                    low = int(scale.normalise(pass_at))
                except ValueError as exc:
                    raise ConfigError(f"pass_at: {exc}") from None
            return frozenset(str(p) for p in points if p >= low)
        if pass_at is None:
            if scale.type == "pairwise":
                return frozenset({"A", "tie"} & set(values))
            return frozenset(set(values) - set(self.dim.flagged()))
        given = pass_at if isinstance(pass_at, list | tuple) else [pass_at]
        try:
            return frozenset(scale.normalise(v) for v in given)
        except ValueError as exc:
            raise ConfigError(f"pass_at: {exc}") from None

    def score_of(self, rating: str) -> float:
        """``rating`` mapped to [0, 1]."""
        scale = self.dim.scale
        if scale.type == "likert":
            points = [int(v) for v in self.values]
            return (int(rating) - points[0]) / (points[-1] - points[0])
        if scale.type == "pairwise":
            return {"A": 1.0, "tie": 0.5, "B": 0.0}[rating]
        return 0.0 if rating in self.dim.flagged() else 1.0

    def schema(self) -> dict[str, Any]:
        """The JSON Schema the judge's answer must fit."""
        if self.dim.scale.type == "likert":
            rating: dict[str, Any] = {"type": "integer", "enum": [int(v) for v in self.values]}
        else:
            rating = {"type": "string", "enum": list(self.values)}
        return {
            "type": "object",
            "title": "JudgeVerdict",
            "required": ["rating", "reason"],
            "properties": {"rating": rating, "reason": {"type": "string"}},
        }

    # -- prompt -------------------------------------------------------------------------------
    def _scale_text(self) -> str:
        scale = self.dim.scale
        if scale.type == "likert":
            return "\n".join(f"{p}: {text}" for p, text in sorted((scale.points or {}).items()))
        if scale.type == "binary":
            labels = scale.labels or {}
            return "\n".join(f"{k}: {labels[k]}" for k in ("yes", "no") if k in labels)
        if scale.type == "categorical":
            return "\n".join(f"{o.value}: {o.description}" for o in scale.options or ())
        tie = "; tie: equally good" if scale.allow_tie else ""
        return f"A: answer A is better; B: answer B is better{tie}"

    def _examples_text(self) -> str:
        if not self.dim.examples:
            return ""
        parts = ["\nWorked examples:"]
        for ex in self.dim.examples:
            answer = ex.assistant or f"A: {ex.assistant_a}\nB: {ex.assistant_b}"
            parts.append(
                f"- User: {ex.user.strip()}\n  Answer: {answer.strip()}\n"
                f"  Rating: {ex.rating} ({ex.why.strip()})"
            )
        return "\n".join(parts) + "\n"

    def messages(
        self, question: str, answer: str, answer_b: str | None = None
    ) -> list[dict[str, str]]:
        """The judge's chat messages for one answer (or a pair, for pairwise dimensions)."""
        from llmkit.structured import format_instructions

        if self.pairwise and answer_b is None:
            raise ConfigError(f"dimension {self.dimension!r} is pairwise: it needs a second answer")
        values = {
            "rubric_title": self.rubric.title,
            "dimension_title": self.dim.title,
            "guideline": self.dim.guideline.strip(),
            "scale": self._scale_text(),
            "examples": self._examples_text(),
            "question": question.strip(),
            "answer": answer.strip(),
            "answer_b": (answer_b or "").strip(),
        }
        values["task"] = _render(_PAIRWISE if self.pairwise else _SINGLE, values)
        instructions = format_instructions(self.schema(), "yaml", hints=False)
        if self.template is None:
            return [
                {"role": "system", "content": _render(DEFAULT_JUDGE_PROMPT, values)},
                {"role": "user", "content": f"{values['task']}\n\n{instructions}"},
            ]
        out = [
            {"role": m["role"], "content": _render(m["content"], values)}
            for m in self.template.messages
        ]
        out[-1]["content"] = out[-1]["content"].rstrip() + "\n\n" + instructions
        return out

    # -- calls --------------------------------------------------------------------------------
    def _ask(self, client: Client, messages: list[dict[str, str]]) -> JudgeVerdict:
        from llmkit.structured import parse

        params = dict(self.params)
        if self.model is not None:
            params["model"] = self.model
        result = client.chat(messages, **params)
        parsed = parse(
            result.text, self.schema(), format="yaml", finish_reason=result.finish_reason
        )
        if not parsed.ok or not isinstance(parsed.value, Mapping):
            return JudgeVerdict(
                None,
                "",
                0.0,
                False,
                parsed.stage,
                f"unreadable judge answer: {parsed.error}",
                result.text,
            )
        rating = self.dim.scale.normalise(parsed.value["rating"])
        return JudgeVerdict(
            rating,
            str(parsed.value.get("reason") or "").strip(),
            self.score_of(rating),
            rating in self.passing,
            parsed.stage,
            None,
            result.text,
        )

    def grade(self, client: Client, question: str, answer: str) -> JudgeVerdict:
        """Rate one answer (not for pairwise dimensions)."""
        return self._ask(client, self.messages(question, answer))

    def compare(self, client: Client, question: str, answer_a: str, answer_b: str) -> JudgeVerdict:
        """Compare two answers once, A first."""
        return self._ask(client, self.messages(question, answer_a, answer_b))

    def compare_swapped(
        self, client: Client, question: str, answer_a: str, answer_b: str
    ) -> tuple[JudgeVerdict, JudgeVerdict, bool]:
        """Ask in both orders: (A-first verdict, B-first verdict mapped back, consistent).

        The B-first verdict is mapped back to the A/B naming of the first call, so a judge
        free of position bias gives the same rating twice.
        """
        first = self.compare(client, question, answer_a, answer_b)
        second = self.compare(client, question, answer_b, answer_a)
        if second.rating in ("A", "B"):
            back = "B" if second.rating == "A" else "A"
            second = JudgeVerdict(
                back,
                second.reason,
                self.score_of(back),
                back in self.passing,
                second.stage,
                second.error,
                second.raw,
            )
        consistent = first.rating is not None and first.rating == second.rating
        return first, second, consistent

    def judge_pair(
        self, client: Client, question: str, answer_a: str, answer_b: str
    ) -> JudgeVerdict:
        """A pairwise verdict; with ``swap`` one that does not survive the swap is a tie."""
        if not self.swap:
            return self.compare(client, question, answer_a, answer_b)
        first, second, consistent = self.compare_swapped(client, question, answer_a, answer_b)
        if consistent or first.rating is None:
            return first
        tie = "tie" if "tie" in self.values else "B"
        return JudgeVerdict(
            tie,
            f"position bias: {first.rating} first, {second.rating} swapped ({first.reason})",
            self.score_of(tie),
            tie in self.passing,
            first.stage,
            None,
            first.raw,
        )


def _spec_opt(spec: ScorerSpec, name: str) -> Any:
    return spec.options.get(name)


def judge_from_spec(spec: ScorerSpec, suite: Suite | None) -> Judge:
    """The :class:`Judge` a suite's ``type: judge`` scorer describes.

    Raises:
        SuiteError: an unknown or invalid option (the suite loader adds file and line).
    """
    from llmkit.annotate import RubricError, load_rubric
    from llmkit.prompts import load_prompt

    for key in spec.options:
        if key not in _OPTIONS:
            raise SuiteError(
                f"unknown option {key!r} for scorer 'judge' (allowed: {', '.join(_OPTIONS)})",
                field=key,
            )
    dimension = _spec_opt(spec, "dimension")
    if not isinstance(dimension, str) or not dimension:
        raise SuiteError(
            "scorer 'judge' needs 'dimension' (a key of the rubric)", field="dimension"
        )
    rubric_ref = _spec_opt(spec, "rubric") or "assistant-quality"
    if not isinstance(rubric_ref, str):
        raise SuiteError("expected a rubric name or file path", field="rubric")
    try:
        rubric = load_rubric(_relative(rubric_ref, suite))
    except RubricError as exc:
        raise SuiteError(str(exc), field="rubric") from None
    template = None
    prompt = _spec_opt(spec, "prompt")
    if prompt is not None:
        if not isinstance(prompt, str):
            raise SuiteError("expected a prompt template name or path", field="prompt")
        try:
            template = load_prompt(_relative(prompt, suite))
        except ConfigError as exc:
            raise SuiteError(str(exc), field="prompt") from None
        if not template.messages:
            raise SuiteError("the judge template has no messages", field="prompt")
    model_opt = _spec_opt(spec, "model") or {}
    if isinstance(model_opt, str):
        model_opt = {"name": model_opt}
    if not isinstance(model_opt, Mapping):
        raise SuiteError("expected a model name or a mapping of settings", field="model")
    base = dict(suite.model) if suite is not None else {}
    base.pop("max_attempts", None)
    settings = {
        **{k: v for k, v in base.items() if k != "max_tokens"},
        "temperature": 0,
        **model_opt,
    }
    name = settings.pop("name", None)
    swap = _spec_opt(spec, "swap")
    if swap is not None and not isinstance(swap, bool):
        raise SuiteError("expected true or false", field="swap")
    for key in ("question", "against"):
        value = _spec_opt(spec, key)
        if value is not None and not isinstance(value, str):
            raise SuiteError("expected a string", field=key)
    try:
        judge = Judge(
            rubric,
            dimension,
            pass_at=_spec_opt(spec, "pass_at"),
            template=template,
            model=str(name) if name is not None else None,
            params=settings,
            swap=bool(swap),
        )
    except ConfigError as exc:
        field = "pass_at" if str(exc).startswith("pass_at") else "dimension"
        raise SuiteError(str(exc).removeprefix("pass_at: "), field=field) from None
    if judge.pairwise and not _spec_opt(spec, "against"):
        raise SuiteError(
            "a pairwise judge needs 'against': the path of the reference answer in expected",
            field="against",
        )
    return judge


def _relative(ref: str, suite: Suite | None) -> str:
    """A file reference relative to the suite's directory, when it names an existing file."""
    if suite is None or not ref.endswith((".yaml", ".yml")):
        return ref
    candidate = suite.path.parent / ref
    return str(candidate) if candidate.is_file() else ref


def _question(ctx: ScoreContext, template: str | None) -> str:
    """What the user asked: the ``question`` template over the case's vars, else the
    rendered prompt's last user message."""
    from llmkit.prompts import VARIABLE

    if template:
        return VARIABLE.sub(lambda m: str(ctx.case.vars.get(m.group(1), "")), template)
    messages: Sequence[Mapping[str, str]] = ctx.extra.get("messages") or ctx.suite.prompt.render(
        **ctx.case.vars
    )
    users = [m["content"] for m in messages if m.get("role") == "user"]
    return users[-1] if users else ""


@register_scorer("judge")
def _judge_scorer(spec: ScorerSpec, suite: Suite | None) -> Scorer:
    """A model grades the answer against a rubric question (see model-graded scorers)."""
    judge = judge_from_spec(spec, suite)
    question_tpl = _spec_opt(spec, "question")
    against = _spec_opt(spec, "against")

    def score(ctx: ScoreContext) -> Score:
        if ctx.client is None:
            raise ConfigError(f"judge {spec.name!r} needs a client (the runner supplies one)")
        question = _question(ctx, question_tpl)
        try:
            if judge.pairwise:
                reference = resolve_path(ctx.case.expected, str(against))
                if not isinstance(reference, str):
                    return Score(0.0, False, None, f"no reference answer at expected.{against}")
                verdict = judge.judge_pair(ctx.client, question, ctx.output, reference)
            else:
                verdict = judge.grade(ctx.client, question, ctx.output)
        except LLMKitError:
            raise
        value = {
            "rating": verdict.rating,
            "reason": verdict.reason,
            "rubric_version": judge.rubric.content_hash[:12],
            "stage": verdict.stage,
        }
        if verdict.error:
            return Score(0.0, False, value, verdict.error)
        detail = f"{judge.dimension}={verdict.rating}: {verdict.reason}"
        return Score(verdict.score, verdict.passed, value, detail)

    return score
