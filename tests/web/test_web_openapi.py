"""The OpenAPI schema says what every JSON route answers (``response_model``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gosplan.web.app import create_app

from .conftest import make_settings, small_economy_dir


def _json_answers(spec: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    out = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for code, resp in op.get("responses", {}).items():
                content = resp.get("content", {}).get("application/json")
                if code.startswith("2") and content is not None:
                    out.append((method.upper(), path, code, content.get("schema") or {}))
    return out


def test_every_json_route_declares_its_response_schema(tmp_path: Path) -> None:
    app = create_app(
        make_settings(f"sqlite:///{tmp_path / 'o.db'}", tmp_path, small_economy_dir(tmp_path))
    )
    spec = app.openapi()
    answers = _json_answers(spec)
    assert len(answers) >= 25  # every .json twin and every JSON-answering form route
    missing = [f"{m} {p} {c}" for m, p, c, schema in answers if not schema]
    assert not missing, f"JSON routes without a response_model: {missing}"
    by_route = {(m, p): schema for m, p, _, schema in answers}
    # a .json twin's schema is its page model plus the "ok" that render() adds
    plan = by_route[("GET", "/plan.json")]["$ref"].rsplit("/", 1)[-1]
    assert "ok" in spec["components"]["schemas"][plan]["properties"]
    receipt = by_route[("GET", "/log/{index}/receipt.json")]["$ref"].rsplit("/", 1)[-1]
    assert {"entry", "inclusion_proof", "tree_head"} <= set(
        spec["components"]["schemas"][receipt]["properties"]
    )
    # form routes that only redirect say so instead of claiming JSON
    assert ("POST", "/logout") not in by_route
    assert "303" in spec["paths"]["/logout"]["post"]["responses"]
