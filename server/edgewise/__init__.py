"""edgewise: completions and code actions from a local model, with honest cost and confidence."""

__version__ = "0.1.0"
