"""Collect raw structured answers from a real model, for the failure corpus and the taxonomy.

Asks an OpenAI-compatible endpoint (default: the offline SmolLM2 on llama.cpp at
127.0.0.1:8080) for YAML or JSON objects matching a few schemas, and writes one JSON line
per answer: ``{"text", "schema", "format", "finish_reason", "prompt"}``. Nothing is parsed
here; the lead labels the interesting ones into ``tests/structured/corpus/``.

    python benchmarks/collect_corpus.py --out real_answers.jsonl --n 60
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys

from llmkit import LLMKitError
from llmkit.llm import Client, RetryPolicy

SCHEMAS: list[tuple[str, dict[str, object]]] = [
    (
        "a person: name, age (integer), email, and a list of hobbies",
        {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "age": {"type": "integer"},
                "email": {"type": "string"},
                "hobbies": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["name", "age"],
        },
    ),
    (
        "a support ticket: title, priority (low, medium or high), tags (a list), "
        "customer (name and city)",
        {
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "priority": {"enum": ["low", "medium", "high"]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "customer": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "city": {"type": "string"}},
                },
            },
            "required": ["title", "priority"],
        },
    ),
    (
        "a product: name, price (a number), in_stock (true or false), and a short description",
        {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "price": {"type": "number"},
                "in_stock": {"type": "boolean"},
                "description": {"type": "string"},
            },
            "required": ["name", "price", "in_stock"],
        },
    ),
    (
        "a meeting: title, time (like 10:30), attendees (a list of names), notes",
        {
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "time": {"type": "string"},
                "attendees": {"type": "array", "items": {"type": "string"}},
                "notes": {"type": "string"},
            },
            "required": ["title", "time"],
        },
    ),
]

SUBJECTS = [
    "Maria Lopez from Madrid, a 34 year old nurse who loves hiking and chess",
    "an angry customer whose order #4411 arrived broken: 'Fix this: now!'",
    "a wireless keyboard that costs 49.99 and is sold out",
    "the Monday standup at 9:15 with Ann, Bo and Chen about the Q3 # roadmap",
    "Jean-Luc, 51, email jl@example.org, hobbies: sailing, wine",
    "a laptop bag, price 29.5, available, 'fits 15\" laptops'",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8080/v1")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--out", default="-")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")  # noqa: SIM115
    client = Client(base_url=args.base_url, model=args.model, retry=RetryPolicy(max_attempts=2))
    combos = list(itertools.product(SCHEMAS, SUBJECTS, ("yaml", "json")))
    rng.shuffle(combos)
    try:
        for (what, schema), subject, fmt in itertools.islice(itertools.cycle(combos), args.n):
            prompt = (
                f"Describe {subject} as {what}. Answer with {fmt.upper()} only, "
                f"following this JSON Schema:\n{json.dumps(schema)}"
            )
            try:
                result = client.chat(
                    prompt, max_tokens=160, temperature=0.7, seed=rng.randrange(1 << 30)
                )
            except LLMKitError as exc:
                print(f"skipped: {exc}", file=sys.stderr)
                continue
            record = {
                "text": result.text,
                "schema": schema,
                "format": fmt,
                "finish_reason": result.finish_reason,
                "prompt": prompt,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
    finally:
        client.close()
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
