"""The rules of the product. Services take a session and `now`, flush, and never commit."""

from statuspage.services.errors import NotFound, PermissionDenied, ValidationError

__all__ = ["NotFound", "PermissionDenied", "ValidationError"]
