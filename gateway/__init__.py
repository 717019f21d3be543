"""The only HTTP entry: JSON API under /api/ and the Chinese web pages."""
