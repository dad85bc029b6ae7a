"""schemathesis hooks for `make api-fuzz` (loaded through SCHEMATHESIS_HOOKS by fuzz.sh).

Random `occurred_at` values are almost all outside the window the API takes (1 hour ahead to
3 years back: a 400 `out_of_range`), so without this hook nearly every valid event would stop
at that check and the stored-event paths (202 with the lead's view, 200 duplicates, 409
conflicts, the batch's per-item answers) would go untested. In positive cases only, each
`occurred_at` is moved into the window; negative cases are left exactly as generated, so a
value schemathesis made invalid on purpose stays invalid.

For the same reason, three positive cases in four get a `lead_type` the example policy knows
and a `stage` leadclock knows (random text is a 422, which the fourth case still tests): those
values are the policy's, so the document cannot list them.
"""

from datetime import datetime, timedelta, timezone
import zlib

import schemathesis


def _recent(seed: str) -> str:
    # Up to 30 days back, spread by the generated value so the leads' timelines differ.
    back = timedelta(seconds=zlib.crc32(seed.encode("utf-8", "surrogatepass")) % (30 * 86400))
    return (datetime.now(timezone.utc) - back).strftime("%Y-%m-%dT%H:%M:%SZ")


# policies/example.toml's lead types, and the stages of README's "HTTP API".
LEAD_TYPES = ["demo_request", "free_trial", "contact_form", "content_mql", "event_attendee"]
STAGES = ["sal", "rejected", "sql", "opportunity", "won", "lost", "disqualified", "nurture"]


def _pick(choices: list[str], value: str) -> str | None:
    n = zlib.crc32(value.encode("utf-8", "surrogatepass"))
    return None if n % 4 == 0 else choices[n // 4 % len(choices)]


def _fix(event: object) -> None:
    if not isinstance(event, dict):
        return
    if isinstance(event.get("occurred_at"), str):
        event["occurred_at"] = _recent(event["occurred_at"])
    for field, choices in (("lead_type", LEAD_TYPES), ("stage", STAGES)):
        value = event.get(field)
        if isinstance(value, str) and (pick := _pick(choices, value)) is not None:
            event[field] = pick


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    if meta is None or meta.generation.mode.is_negative:
        return case
    body = case.body
    if isinstance(body, dict):
        _fix(body)
        for item in body.get("items", []) if isinstance(body.get("items"), list) else []:
            _fix(item)
    elif isinstance(body, list):
        for item in body:
            _fix(item)
    return case
