"""Small real source files the end-to-end tests open (kept as files under fixtures/)."""

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "project"
PYTHON = (FIXTURES / "files.py").read_text("utf-8")
TYPESCRIPT = (FIXTURES / "stack.ts").read_text("utf-8")
