"""Problems in Chinese by default, English on request (`Accept-Language`), same codes.

The catalogue (`shared/problem_messages/zh_cn.py`) must hold a Chinese text for every
code a problem or a field error can carry: the codes are read from the source here
(every `code="..."`, every `default_code`, every constant passed where a function of
ours takes `code`), so a new code without its text fails this test.
"""

from __future__ import annotations

import ast
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from shared.errors import _STATUS_CODES
from shared.problem_messages import (
    CHINESE,
    ENGLISH,
    MESSAGES,
    VALIDATION_MESSAGES,
    negotiate,
    validation_message,
)
from tests.factories import registered_org

Auth = Callable[..., dict[str, str]]
ROOT = Path(__file__).resolve().parents[2]
ORGS = "/api/v1/organizations"
# Dataclasses whose `code` field is not an error code (the import's column codes).
NOT_ERRORS = {"Column"}


def _code_position(node: ast.AST) -> int | None:
    """Where a function's (or a class's constructor's) `code` parameter is, if it has one."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        names = [a.arg for a in node.args.posonlyargs + node.args.args]
        names = names[1:] if names[:1] in (["self"], ["cls"]) else names
        return names.index("code") if "code" in names else None
    if isinstance(node, ast.ClassDef):
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                return _code_position(item)
        if any("dataclass" in ast.unparse(d) for d in node.decorator_list):
            fields = [
                s.target.id
                for s in node.body
                if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
            ]
            return fields.index("code") if "code" in fields else None
    return None


def _text(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def raised_codes() -> dict[str, str]:
    """Every error code in services/ and shared/, with where it first appears."""
    modules = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts): ast.parse(path.read_text())
        for top in ("services", "shared")
        for path in sorted((ROOT / top).rglob("*.py"))
    }
    takes_code = {
        (module, node.name): position
        for module, tree in modules.items()
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and (position := _code_position(node)) is not None
    }
    codes: dict[str, str] = {}
    for module, tree in modules.items():
        local = {name: (m, name) for (m, name) in takes_code if m == module}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    if (node.module, alias.name) in takes_code:
                        local[alias.asname or alias.name] = (node.module, alias.name)
        for node in ast.walk(tree):
            found: list[str | None] = []
            if isinstance(node, ast.Call):
                found += [_text(k.value) for k in node.keywords if k.arg == "code"]
                callee = node.func.id if isinstance(node.func, ast.Name) else None
                if callee in local and callee not in NOT_ERRORS:
                    position = takes_code[local[callee]]
                    if position < len(node.args):
                        found.append(_text(node.args[position]))
            elif isinstance(node, ast.ClassDef):
                found += [
                    _text(s.value)
                    for s in node.body
                    if isinstance(s, ast.Assign)
                    and [ast.unparse(t) for t in s.targets] in (["default_code"], ["code"])
                ]
            for code in filter(None, found):
                codes.setdefault(code, f"{module}:{getattr(node, 'lineno', 0)}")
    return codes


class TestCatalogue:
    def test_the_scan_finds_codes_of_each_kind(self) -> None:
        codes = raised_codes()
        # keyword, class default, positional through a helper, a dataclass, a middleware
        for code in ("organization_not_found", "not_found", "year_not_ended", "uscc_invalid"):
            assert code in codes
        assert "body_too_large" in codes and "name" not in codes  # a column, not an error
        assert len(codes) > 200

    def test_every_code_raised_has_a_chinese_text(self) -> None:
        codes = raised_codes() | {code: "shared.errors" for code, _ in _STATUS_CODES.values()}
        missing = {code: where for code, where in codes.items() if code not in MESSAGES}
        assert not missing, f"add these codes to shared/problem_messages/zh_cn.py: {missing}"

    def test_texts_are_chinese_sentences(self) -> None:
        for code, text in MESSAGES.items():
            assert text.endswith("。") and any("\u4e00" <= c <= "\u9fff" for c in text), code

    def test_validation_messages_take_their_context(self) -> None:
        assert validation_message("string_too_long", {"max_length": 100}) == "至多 100 个字符。"
        # A context without the value the text names falls back to the general message.
        assert validation_message("string_too_long", {}) == VALIDATION_MESSAGES["value_error"]
        assert validation_message("no_such_type", {}) is None


class TestNegotiation:
    @pytest.mark.parametrize(
        ("header", "language"),
        [
            (None, CHINESE),
            ("", CHINESE),
            ("zh", CHINESE),
            ("zh-CN", CHINESE),
            ("zh-Hans", CHINESE),
            ("zh-Hans-CN,zh;q=0.9", CHINESE),
            ("en", ENGLISH),
            ("en-US,en;q=0.9", ENGLISH),
            ("fr-FR", ENGLISH),  # English for every other language
            ("*", CHINESE),
            ("en;q=0.5, zh;q=0.9", CHINESE),
            ("zh;q=0.2, en", ENGLISH),
            ("fr, zh;q=0.1", CHINESE),
            ("zh;q=0, *", ENGLISH),  # `*` is any language not named; zh is refused
            ("en;q=0", ENGLISH),  # nothing we have is acceptable: English, not a 406
            ("en, zh", ENGLISH),  # equal weights: the first named
            ("zh-CN;q=0.8, en-GB;q=0.8", CHINESE),
            ("en;q=abc, zh-CN;q=0.5", CHINESE),  # a malformed weight drops its range
            ("EN;Q=1", ENGLISH),
        ],
    )
    def test_accept_language(self, header: str | None, language: str) -> None:
        assert negotiate(header) == language


class TestOverHttp:
    async def test_a_404_is_in_chinese_by_default(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        missing = uuid.uuid4()
        response = await registry.get(f"{ORGS}/{missing}", headers=auth("civil_affairs"))
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["Content-Language"] == "zh-CN"
        assert "Accept-Language" in response.headers["Vary"]
        problem = response.json()
        assert problem["code"] == "organization_not_found"
        assert problem["type"].endswith("/organization_not_found")
        assert (problem["title"], problem["detail"]) == ("未找到", "未找到该社会组织。")
        assert problem["detail_en"] == "No such organization"

    async def test_a_404_is_in_english_on_request(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        headers = auth("civil_affairs") | {"Accept-Language": "en"}
        response = await registry.get(f"{ORGS}/{uuid.uuid4()}", headers=headers)
        assert response.status_code == 404
        assert response.headers["Content-Language"] == "en"
        assert "Accept-Language" in response.headers["Vary"]
        problem = response.json()
        assert problem["code"] == "organization_not_found"
        assert (problem["title"], problem["detail"]) == ("Not found", "No such organization")
        assert "detail_en" not in problem  # English answers are as they always were

    @pytest.mark.parametrize(
        ("header", "detail"),
        [
            ("en;q=0.5, zh-CN;q=0.9", "未找到该社会组织。"),
            ("zh-Hans;q=0.3, en-US;q=0.7", "No such organization"),
            ("fr, zh;q=0.1", "未找到该社会组织。"),
            ("zh;q=0, *;q=0.5", "No such organization"),
        ],
    )
    async def test_q_values_are_honoured(
        self, registry: httpx.AsyncClient, auth: Auth, header: str, detail: str
    ) -> None:
        headers = auth("civil_affairs") | {"Accept-Language": header}
        response = await registry.get(f"{ORGS}/{uuid.uuid4()}", headers=headers)
        assert response.json()["detail"] == detail
        assert response.headers["Content-Language"] == (
            "en" if detail.startswith("No") else "zh-CN"
        )

    async def test_a_422_is_in_chinese_and_lists_each_field(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        body = registered_org(name="社" * 201)
        del body["kind"]
        response = await registry.post(ORGS, json=body, headers=auth("civil_affairs"))
        assert response.status_code == 422
        assert response.headers["Content-Language"] == "zh-CN"
        problem = response.json()
        assert (problem["code"], problem["title"]) == ("validation_error", "请求内容未通过校验")
        assert problem["detail"] == "请求中有字段未通过校验，详见各字段说明。"
        assert problem["detail_en"] == "2 field(s) failed validation"
        fields = {error["field"]: error for error in problem["errors"]}
        assert fields["body.kind"]["code"] == "missing"
        assert fields["body.kind"]["message"] == "必填项。"
        assert fields["body.kind"]["message_en"] == "Field required"
        too_long = fields["body.name"]
        # A text type of ours checks its length after validation: pydantic's `too_long`.
        assert too_long["code"] in ("string_too_long", "too_long")
        assert "至多" in too_long["message"] and "200" in too_long["message"]
        assert "at most 200" in too_long["message_en"]

    async def test_a_422_in_english_is_as_before(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        body = registered_org()
        del body["kind"]
        headers = auth("civil_affairs") | {"Accept-Language": "en-GB"}
        problem = (await registry.post(ORGS, json=body, headers=headers)).json()
        assert problem["title"] == "Validation failed"
        assert problem["errors"] == [
            {"field": "body.kind", "message": "Field required", "code": "missing"}
        ]

    async def test_a_rule_s_field_errors_are_translated_by_code(
        self, registry: httpx.AsyncClient, auth: Auth
    ) -> None:
        body = registered_org(uscc="52340103MJ0000000X")
        response = await registry.post(ORGS, json=body, headers=auth("civil_affairs"))
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["detail"] == MESSAGES[problem["code"]]
        [error] = [e for e in problem["errors"] if e["field"] == "body.uscc"]
        assert error["message"] == MESSAGES[error["code"]] and error["message_en"]

    async def test_an_unauthenticated_request_is_refused_in_chinese(
        self, registry: httpx.AsyncClient
    ) -> None:
        response = await registry.get(ORGS)
        assert response.status_code == 401
        assert response.json()["detail"] == MESSAGES["token_missing"]
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.headers["Content-Language"] == "zh-CN"
        assert "Accept-Language" in response.headers["Vary"]
