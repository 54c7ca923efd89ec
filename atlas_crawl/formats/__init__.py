"""Pure format parsers: bytes in, rows out. No Scrapy imports here."""
