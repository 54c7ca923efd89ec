"""Scrapy commands that replace the built-in ones (settings: COMMANDS_MODULE)."""
