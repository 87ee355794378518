"""Tests of the services packages."""
