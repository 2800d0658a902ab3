"""Persistence for Coachbot: SQLAlchemy 2 async tables, repositories, a unit of work and
Alembic migrations.

Entry points: :func:`storage.engine.create_engine`, :func:`storage.migrate.migrate`,
:func:`storage.uow.make_session_factory` and :class:`storage.uow.UnitOfWork`.
"""
