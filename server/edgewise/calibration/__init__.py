"""Confidence calibration: measure the model on code, map raw scores to P(right)."""
