"""Plain functions that read and change cases. They flush but never commit: the caller does."""
