"""Flask-WTF forms: field validation and CSRF."""
