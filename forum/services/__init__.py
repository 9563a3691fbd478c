"""Business rules and transactions, one module per area. Services never touch ``request``."""
