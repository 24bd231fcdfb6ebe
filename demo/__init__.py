"""The demo city for ``make run`` (``xinyi demo load``, ``xinyi demo rights``): its data in ``city.toml``,
loaded through the same services as the API. Not part of the app: the production image leaves it out."""
