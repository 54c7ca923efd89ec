"""atlas_crawl's own Scrapy signals."""

#: Sent by the store pipeline once a run is committed or rolled back and recorded in `_runs`,
#: with ``run_id`` and ``status`` ("ok" or "failed"). What the run wrote is readable from then on.
run_finished = object()
