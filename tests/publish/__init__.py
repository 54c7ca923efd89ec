"""A package, so that pytest imports this folder's conftest.py as `publish.conftest`: the tests'
`from conftest import ...` keeps meaning tests/conftest.py."""
