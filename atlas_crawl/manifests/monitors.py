"""A manifest's optional `monitors:` block: the run monitors' thresholds (see run_monitors.py).

```yaml
monitors:
  min_rows: 0               # a change feed may have nothing new
  max_shrink: 0.4           # share of a table's rows a run may remove
  max_changed: 1.0          # share of existing rows whose values may change
  value_columns: [value]    # what "values" are (default: value, else every non-key column)
  warn: [max_changed]       # these only warn ('all' for every monitor)
```
"""

from __future__ import annotations

from typing import Any

MONITOR_NAMES = ("min_rows", "max_shrink", "max_changed", "finish_reason",
                 "unwanted_http_codes", "max_quarantine_share")
DEFAULTS: dict[str, Any] = {
    "min_rows": 1,
    "max_shrink": 0.4,
    "max_changed": 0.9,
    "expected_finish_reasons": ["finished"],
    "unwanted_http_codes": [401, 403, 407, 429, 500, 502, 503, 504],
    "max_unwanted_responses": 5,
    "max_quarantine_share": 0.1,
    "min_quarantine_rows": 10,
    "value_columns": [],
    "warn": [],
}
_SHARES = ("max_shrink", "max_changed", "max_quarantine_share")
_COUNTS = ("min_rows", "max_unwanted_responses", "min_quarantine_rows")


def parse_monitors(data: Any) -> dict[str, Any]:
    """Validate a manifest's `monitors:` block; returns the thresholds with defaults filled in.
    Raises ValueError naming the field (the manifest loader adds the file)."""
    if data is None:
        return dict(DEFAULTS)
    if not isinstance(data, dict):
        raise ValueError("'monitors': must be a mapping")  # noqa: TRY004 - the loader's error type
    unknown = set(data) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"'monitors': unknown keys {sorted(unknown)} (known: {sorted(DEFAULTS)})")
    out = dict(DEFAULTS)
    for key, value in data.items():
        if key in _SHARES and (isinstance(value, bool) or not isinstance(value, (int, float))
                               or not 0 <= value <= 1):
            raise ValueError(f"'monitors.{key}': {value!r} must be a share between 0 and 1")
        if key in _COUNTS and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise ValueError(f"'monitors.{key}': {value!r} must be a whole number >= 0")
        if key in ("unwanted_http_codes",) and not (
                isinstance(value, list) and all(isinstance(c, int) for c in value)):
            raise ValueError(f"'monitors.{key}': must be a list of HTTP status codes")
        if key in ("expected_finish_reasons", "value_columns") and not (
                isinstance(value, list) and all(isinstance(c, str) for c in value)):
            raise ValueError(f"'monitors.{key}': must be a list of names")
        if key == "warn":
            value = list(MONITOR_NAMES) if value == "all" else value
            if not isinstance(value, list) or not set(value) <= set(MONITOR_NAMES):
                raise ValueError(f"'monitors.warn': {value!r} must be 'all' or a list of "
                                 f"{list(MONITOR_NAMES)}")
        out[key] = value
    return out
