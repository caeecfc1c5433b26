"""Placeholder replaced when the structured package lands."""
