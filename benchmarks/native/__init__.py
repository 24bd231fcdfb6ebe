"""The native reference of ``make bench-verify``: a pass check written the way the field writes it today
(FastAPI + asyncpg + redis.asyncio + PyJWT), outside the app's stack. Nothing here imports ``app``."""
