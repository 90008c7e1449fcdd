"""Messaging assistant for artisanal gold miners (Mali, Guinea, Senegal)."""
