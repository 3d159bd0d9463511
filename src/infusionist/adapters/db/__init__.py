"""Storage: SQLAlchemy 2 Core tables, repositories, the unit of work and Alembic migrations."""
