"""Norwegian reference geography: the shipped Klass snapshot and :func:`resolve`.

>>> from atlas_crawl.geo import resolve
>>> resolve("K-3001").current
'3101'
"""

from atlas_crawl.geo.reference import (
    LEVELS,
    STATUSES,
    Place,
    Reference,
    name_of,
    reference,
    resolve,
)

__all__ = ["LEVELS", "STATUSES", "Place", "Reference", "name_of", "reference", "resolve"]
