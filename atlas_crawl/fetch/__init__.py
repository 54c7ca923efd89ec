"""Everything between Scrapy's engine and a response body, one module per concern.

- `politeness`: backoff retries that honour 429 and Retry-After, host-wide pauses;
- `browser_check`: recognise a bot-protection page and fail the run on it (detector + middleware);
- `browser`: scrapy-playwright with Debian's chromium, for the few sites that need a browser;
- `streaming`: a download handler that streams huge bodies (Brreg's bulk files) to disk;
- `replay`: cassettes in golden/<spider>/ and the replay/record middleware;
- `qlik`: the Qlik Sense Engine client (JSON-RPC over a WebSocket), with its own replay/record.
"""
