"""Pages of the widget app: customer pages, owner pages and the loader script."""
