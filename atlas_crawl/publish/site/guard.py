"""What the catalogue answers to a request it cannot serve: a short message with the right
status, never a 500 page.

- The catalogue is read-only (the database is opened immutable and no canned query writes), so a
  POST, PUT, PATCH or DELETE, to a canned query or anywhere, answers 405 and writes nothing.
  Datasette would take a POST to a canned query for a write and fail with HTTP 500.
- A sort on a column the table does not have (`?_sort="x`, `?_sort_desc=nosuch`), or both sorts
  at once, is the asker's mistake: 400 naming the column, where Datasette answers 500.
"""

from __future__ import annotations

import json

READ_METHODS = ("GET", "HEAD", "OPTIONS")
READ_ONLY = ("The catalogue is read-only: ask with GET (canned queries take their parameters "
             "in the address, such as ?kommune=0301&year=2024); nothing was written.")
SORT_MISTAKES = ("Cannot sort table by ", "Cannot use _sort and _sort_desc")


def wants_json(path: str, headers: dict[str, str] | None = None) -> bool:
    accept = (headers or {}).get("accept", "")
    return path.endswith(".json") or ("application/json" in accept and "text/html" not in accept)


def short_answer(status: int, message: str, as_json: bool,
                 extra: list[tuple[bytes, bytes]] = ()) -> tuple[dict, bytes]:
    """(http.response.start message, body) of a short answer."""
    if as_json:
        body = json.dumps({"ok": False, "error": message, "status": status},
                          ensure_ascii=False).encode()
        kind = b"application/json; charset=utf-8"
    else:
        body = f"{status} {message}\n".encode()
        kind = b"text/plain; charset=utf-8"
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode()), *extra]
    return {"type": "http.response.start", "status": status, "headers": headers}, body


def read_only(app):
    """ASGI middleware: every request that is not a read answers 405 before Datasette sees it."""

    async def guarded(scope, receive, send):
        if scope.get("type") == "http" and scope.get("method", "GET") not in READ_METHODS:
            headers = {k.decode("latin1").lower(): v.decode("latin1")
                       for k, v in scope.get("headers") or ()}
            start, body = short_answer(405, READ_ONLY, wants_json(scope.get("path", ""), headers),
                                       [(b"allow", ", ".join(READ_METHODS).encode())])
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return guarded


def sort_mistake(request, exception):
    """A 400 Response for a sort the table cannot do, else None (Datasette answers as before)."""
    from datasette.utils.asgi import Response

    message = str(getattr(exception, "message", "") or exception)
    if not message.startswith(SORT_MISTAKES):
        return None
    text = (f"{message}: no such column in this table; sort by one of its columns "
            "(?_sort=<column> or ?_sort_desc=<column>)")
    if message.startswith(SORT_MISTAKES[1]):
        text = "Use _sort or _sort_desc, not both at once"
    start, body = short_answer(400, text, wants_json(request.path, dict(request.headers)))
    headers = {k.decode(): v.decode() for k, v in start["headers"] if k != b"content-length"}
    return Response(body, status=400, headers=headers,
                    content_type=headers.pop("content-type"))
