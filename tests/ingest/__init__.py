"""Tests for reading web pages, feeds and files into articles (``newsbot add``)."""
