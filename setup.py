"""Only for building the egg that scrapyd-deploy uploads to scrapyd (`python setup.py bdist_egg`);
everything is declared in pyproject.toml."""

from setuptools import setup

setup()
