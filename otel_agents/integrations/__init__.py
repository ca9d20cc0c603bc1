"""Web framework integrations: one ``setup_monitoring(app)`` call per framework, behind extras."""
