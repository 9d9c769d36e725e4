"""Packaging for scrapyd: ``setup.py bdist_egg`` (what ``scrapyd-deploy`` and ``scripts/scrapyd.py
deploy`` run) builds an egg of the spiders and their Scrapy settings; which packages, and the
``scrapy`` entry point naming the settings module, are in ``pyproject.toml``."""

from setuptools import setup

setup()
