"""The back office: the admin JSON API (``/admin/api``) and, later, its web pages."""
