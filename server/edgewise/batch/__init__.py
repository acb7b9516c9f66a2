"""Headless batch mode: `edgewise refactor` runs one action across a repository."""
