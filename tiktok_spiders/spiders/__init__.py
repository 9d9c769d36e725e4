"""The spiders: each says what to request and what to follow; parsing lives in ``parsing``."""
