"""openapi/docs.html: one static page of the merged document, served by the gateway.

No script and no CDN: a table of contents by tag, then each operation with who may call
it, its parameters and headers, its answers and their problem codes, and its examples.
The full schemas are in /openapi.json beside it (any OpenAPI viewer opens it).
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

METHODS = ("get", "put", "post", "delete", "patch")

_STYLE = """
body{font:15px/1.5 system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;color:#1d2433}
header{background:#1d2433;color:#fff;padding:1rem 2rem}header a{color:#9cd1ff}
nav{position:fixed;top:5.5rem;bottom:0;width:16rem;overflow:auto;padding:0 1rem;
border-right:1px solid #ddd}nav a{display:block;color:#1d2433;text-decoration:none}
main{margin-left:19rem;padding:0 2rem 4rem;max-width:60rem}
section.op{border:1px solid #ddd;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
.m{display:inline-block;min-width:4rem;font-weight:700;text-transform:uppercase}
.get{color:#0a7}.post{color:#06c}.put,.patch{color:#b70}.delete{color:#c22}
code{background:#f3f4f6;padding:0 .25rem;border-radius:3px}
pre{background:#f3f4f6;padding:.5rem;overflow:auto;max-height:20rem}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.15rem .5rem;text-align:left}
""".strip()


def render_docs(document: dict[str, Any]) -> str:
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                for tag in operation.get("tags", ["other"])[:1]:
                    by_tag.setdefault(tag, []).append((method, path, operation))
    tags = {tag["name"]: tag.get("description", "") for tag in document.get("tags", [])}
    info = document["info"]
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(info['title'])}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<header><h1>{escape(info['title'])} {escape(info['version'])}</h1>",
        f"<div>{escape(info.get('description', ''))} The whole document: "
        '<a href="openapi.json">openapi.json</a>.</div></header>',
        "<nav>",
    ]
    for tag in by_tag:
        out.append(f'<h4><a href="#tag-{_anchor(tag)}">{escape(tag)}</a></h4>')
        for _method, _path, operation in by_tag[tag]:
            out.append(
                f'<a href="#{escape(operation["operationId"])}">{escape(operation["summary"])}</a>'
            )
    if document.get("webhooks"):
        out.append('<h4><a href="#webhooks">webhooks we send</a></h4>')
    out.append("</nav><main>")
    for tag, operations in by_tag.items():
        out.append(
            f'<h2 id="tag-{_anchor(tag)}">{escape(tag)}</h2><p>{escape(tags.get(tag, ""))}</p>'
        )
        for method, path, operation in operations:
            out.extend(_operation(method, path, operation))
    if document.get("webhooks"):
        out.append('<h2 id="webhooks">Webhooks we send</h2>')
        out.append(
            "<p>Signed per Standard Webhooks; register an endpoint with "
            "<code>POST /api/v1/webhooks/endpoints</code>.</p><table><tr><th>type</th>"
            "<th>what happened</th><th>data</th></tr>"
        )
        for name, item in document["webhooks"].items():
            post = item["post"]
            data = post["requestBody"]["content"]["application/json"]["schema"]["properties"]
            fields = ", ".join(data["data"]["properties"])
            out.append(
                f"<tr><td><code>{escape(name)}</code></td><td>{escape(post['description'])}"
                f"</td><td>{escape(fields)}</td></tr>"
            )
        out.append("</table>")
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"


def _anchor(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text)


def _operation(method: str, path: str, operation: dict[str, Any]) -> list[str]:
    out = [
        f'<section class="op" id="{escape(operation["operationId"])}">',
        f'<h3><span class="m {method}">{method}</span> <code>{escape(path)}</code></h3>',
        f"<p><b>{escape(operation['summary'])}</b> ({escape(operation.get('x-service', ''))}, "
        f"<code>{escape(operation['operationId'])}</code>). "
        f"{escape(operation.get('description', ''))}</p>",
    ]
    roles = operation.get("x-roles")
    who = ", ".join(roles) if roles else "anyone (no token)"
    out.append(f"<p>Who may call it: {escape(who)}</p>")
    parameters = operation.get("parameters", [])
    if parameters:
        out.append("<table><tr><th>parameter</th><th>in</th><th>required</th><th></th></tr>")
        for parameter in parameters:
            out.append(
                f"<tr><td><code>{escape(parameter['name'])}</code></td>"
                f"<td>{escape(parameter['in'])}</td>"
                f"<td>{'yes' if parameter.get('required') else ''}</td>"
                f"<td>{escape(parameter.get('description', ''))}</td></tr>"
            )
        out.append("</table>")
    statuses = ", ".join(operation["responses"])
    out.append(f"<p>Answers: {escape(statuses)}</p>")
    codes = operation.get("x-problem-codes")
    if codes:
        out.append(
            "<p>Problem codes: " + ", ".join(f"<code>{escape(c)}</code>" for c in codes) + "</p>"
        )
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    if "example" in body:
        out.append(f"<p>Request example:</p><pre>{escape(_json(body['example']))}</pre>")
    for status, response in operation["responses"].items():
        example = response.get("content", {}).get("application/json", {}).get("example")
        if example is not None:
            out.append(
                f"<p>Response {escape(status)} example:</p><pre>{escape(_json(example))}</pre>"
            )
    out.append("</section>")
    return out


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)
