"""Scripted OpenAI-compatible endpoints for the preflight tests (served by tests/fake_openai.py): a good one that
answers every structured request from its schema and reads the preflight's digit image, and the four faults the
preflight must catch (wrong dialect, unknown model, rejected key, images ignored). Each checks what it receives."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

MODEL = "served-model"
KEY = "sk-right-key"


def instance(schema: dict[str, Any]) -> Any:
    """A valid value of ``schema`` (the subset the project's schemas use): enum, ranges, objects, arrays, anyOf."""
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        return instance(schema["anyOf"][0])
    kind = schema.get("type")
    if kind == "object":
        return {name: instance(sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [instance(schema["items"]) for _ in range(max(1, schema.get("minItems", 1)))]
    if kind in ("number", "integer"):
        low, high = schema.get("minimum", 0), schema.get("maximum", 1)
        middle = (low + high) / 2
        return int(middle) if kind == "integer" else middle
    return "because"


def schema_of(request: dict[str, Any]) -> dict[str, Any]:
    """The schema a request sent: under ``json_schema`` (OpenAI) or ``json_object`` + ``schema`` (llama.cpp)."""
    rf = request.get("response_format") or {}
    assert rf.get("type") in ("json_schema", "json_object"), f"no structured output requested: {rf}"
    return rf["json_schema"]["schema"] if rf["type"] == "json_schema" else rf["schema"]


def _image_digit(request: dict[str, Any]) -> int | None:
    """The digit of the request's image, found the way a model that reads images would: by what it shows (compared
    with each digit's rendering); None if the request holds no image."""
    from PIL import Image, ImageChops

    from hpo.study.preflight import digit_png

    parts = request["messages"][-1]["content"]
    urls = [p["image_url"]["url"] for p in parts if isinstance(p, dict) and p.get("type") == "image_url"]
    if not urls:
        return None
    seen = Image.open(io.BytesIO(base64.b64decode(urls[0].split(",", 1)[1]))).convert("L")
    for digit in range(10):
        drawn = Image.open(io.BytesIO(digit_png(digit))).convert("L")
        if ImageChops.difference(seen, drawn).getbbox() is None:
            return digit
    return None


def good(request: dict[str, Any]) -> str:
    """A working endpoint (vision included): every reply fits the request's schema."""
    schema = schema_of(request)
    if "digit" in schema.get("properties", {}):
        return json.dumps({"digit": _image_digit(request)})
    return json.dumps(instance(schema))


def json_object_only(request: dict[str, Any]) -> Any:
    """A llama-cpp-python-like server: rejects OpenAI's ``json_schema`` with HTTP 400, serves ``json_object``."""
    if request["response_format"]["type"] == "json_schema":
        return (400, "response_format.type 'json_schema' is not supported; use 'json_object'")
    return good(request)


def unknown_model(request: dict[str, Any]) -> Any:
    if request["model"] != MODEL:
        return (404, f"The model `{request['model']}` does not exist.")
    return good(request)


def ignores_images(request: dict[str, Any]) -> str:
    """Accepts ``image_url`` parts and answers as if there were none: always the digit 1 (never the drawn one)."""
    if "digit" in schema_of(request).get("properties", {}):
        assert _image_digit(request) is not None  # the image was sent; this server just does not look
        return json.dumps({"digit": 1})
    return good(request)
