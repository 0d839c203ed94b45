"""The data model: tabs and columns, row models, and the storage backends."""
