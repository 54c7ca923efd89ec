"""atlas_crawl spiders: one module per provider, thin; parsing lives in atlas_crawl/formats/."""
