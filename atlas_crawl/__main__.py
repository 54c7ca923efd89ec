import sys

from atlas_crawl.run.cli import main

sys.exit(main())
